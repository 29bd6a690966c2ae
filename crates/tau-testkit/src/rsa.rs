//! A throwaway RSA key for tests that sign JWTs (the Deploy Agent's Cloudflare Access check),
//! generated once per test process with the openssl CLI, so no private key lives in the repo.

use std::sync::OnceLock;

/// A 2048-bit RSA private key, PKCS#8 PEM.
pub fn key_pem() -> &'static [u8] {
    static PEM: OnceLock<Vec<u8>> = OnceLock::new();
    PEM.get_or_init(|| {
        let out = std::process::Command::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
            ])
            .output()
            .expect("openssl CLI is needed to generate a test RSA key");
        assert!(out.status.success(), "openssl genpkey failed");
        out.stdout
    })
}
