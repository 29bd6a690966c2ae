//! The shape of `{secret_ref: ID}` per provider: what each provider's secret manager calls a
//! secret. Checked in the config, so a typo fails before anything is built or pushed.

use super::ProviderKind;

/// A Cloud Run secret reference split into the secret's resource name and its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcpSecret {
    /// `projects/P/secrets/S`.
    pub secret: String,
    /// A version number or `latest` (the default when the reference names none).
    pub version: String,
}

/// Why `id` is not a secret reference `provider` accepts: the expected shape, for the problem
/// list. `None` when it is fine.
pub fn problem(provider: ProviderKind, id: &str) -> Option<&'static str> {
    let ok = match provider {
        ProviderKind::Local => return Some(
            "no secret_ref with provider local: this host has no secret manager (use {secret_env: NAME})",
        ),
        ProviderKind::Aws => is_aws_arn(id),
        ProviderKind::Gcp => gcp(id).is_some(),
        ProviderKind::Azure => is_key_vault_url(id),
    };
    (!ok).then_some(match provider {
        ProviderKind::Aws => "a Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME) or an SSM parameter ARN (arn:aws:ssm:REGION:ACCOUNT:parameter/NAME)",
        ProviderKind::Gcp => "a Secret Manager secret (projects/PROJECT/secrets/NAME, optionally /versions/N or /versions/latest)",
        _ => "a Key Vault secret URL (https://VAULT.vault.azure.net/secrets/NAME, optionally /VERSION)",
    })
}

fn is_aws_arn(id: &str) -> bool {
    let parts: Vec<&str> = id.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts[..] else {
        return false;
    };
    let region_ok = !region.is_empty()
        && region
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-');
    let name_ok = |name: &str| {
        !name.is_empty()
            && name
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"/_+=.@-:".contains(&c))
    };
    let resource_ok = match service {
        "secretsmanager" => resource.strip_prefix("secret:").is_some_and(name_ok),
        "ssm" => resource.strip_prefix("parameter/").is_some_and(name_ok),
        _ => false,
    };
    arn == "arn"
        && matches!(partition, "aws" | "aws-cn" | "aws-us-gov")
        && region_ok
        && account.len() == 12
        && account.bytes().all(|c| c.is_ascii_digit())
        && resource_ok
}

/// `projects/P/secrets/S[/versions/V]` split, or `None` when it has another shape.
pub fn gcp(id: &str) -> Option<GcpSecret> {
    let parts: Vec<&str> = id.split('/').collect();
    let (project, secret, version) = match parts[..] {
        ["projects", p, "secrets", s] => (p, s, "latest"),
        ["projects", p, "secrets", s, "versions", v] => (p, s, v),
        _ => return None,
    };
    // A project id (lowercase, digits, '-') or number; a secret id of letters, digits, '_', '-'.
    let project_ok = !project.is_empty()
        && project
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-');
    let secret_ok = (1..=255).contains(&secret.len())
        && secret
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
    let version_ok =
        version == "latest" || (!version.is_empty() && version.bytes().all(|c| c.is_ascii_digit()));
    (project_ok && secret_ok && version_ok).then(|| GcpSecret {
        secret: format!("projects/{project}/secrets/{secret}"),
        version: version.to_string(),
    })
}

fn is_key_vault_url(id: &str) -> bool {
    let Some(rest) = id.strip_prefix("https://") else {
        return false;
    };
    let Some((host, path)) = rest.split_once('/') else {
        return false;
    };
    // VAULT.vault.azure.net, or a sovereign cloud's vault domain (vault.azure.cn, …).
    let host_ok = host.split_once(".vault.").is_some_and(|(vault, domain)| {
        (3..=24).contains(&vault.len())
            && vault
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-')
            && !domain.is_empty()
            && domain
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-')
    });
    let parts: Vec<&str> = path.split('/').collect();
    let name_ok = |n: &str| {
        (1..=127).contains(&n.len()) && n.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
    };
    let path_ok = match parts[..] {
        ["secrets", name] => name_ok(name),
        ["secrets", name, version] => {
            name_ok(version) && name_ok(name) && version.bytes().all(|c| c.is_ascii_hexdigit())
        }
        _ => false,
    };
    host_ok && path_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_provider_accepts_its_own_secret_manager_shape_only() {
        let aws = [
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf",
            "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/db",
            "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:x",
        ];
        for id in aws {
            assert_eq!(problem(ProviderKind::Aws, id), None, "{id}");
            assert!(problem(ProviderKind::Gcp, id).is_some());
        }
        for bad in [
            "arn:aws:secretsmanager:eu-west-1:1234:secret:x",
            "arn:aws:s3:::bucket",
            "arn:aws:ssm:eu-west-1:123456789012:parameter/",
            "prod/db",
        ] {
            assert!(problem(ProviderKind::Aws, bad).is_some(), "{bad}");
        }
        assert_eq!(
            gcp("projects/acme-prod/secrets/db"),
            Some(GcpSecret {
                secret: "projects/acme-prod/secrets/db".into(),
                version: "latest".into()
            })
        );
        assert_eq!(
            gcp("projects/acme-prod/secrets/db/versions/7")
                .unwrap()
                .version,
            "7"
        );
        for bad in [
            "projects/acme-prod/secrets/db/versions/x",
            "projects/Acme/secrets/db",
            "secrets/db",
        ] {
            assert!(problem(ProviderKind::Gcp, bad).is_some(), "{bad}");
        }
        let vault = "https://acme-kv.vault.azure.net/secrets/db-password";
        assert_eq!(problem(ProviderKind::Azure, vault), None);
        assert_eq!(
            problem(
                ProviderKind::Azure,
                &format!("{vault}/0123456789abcdef0123456789abcdef")
            ),
            None
        );
        for bad in [
            "http://acme-kv.vault.azure.net/secrets/db",
            "https://acme-kv.vault.azure.net/keys/db",
            "https://example.com/secrets/db",
            "https://acme-kv.vault.azure.net/secrets/db_password",
        ] {
            assert!(problem(ProviderKind::Azure, bad).is_some(), "{bad}");
        }
        assert!(problem(ProviderKind::Local, vault)
            .unwrap()
            .contains("secret_env"));
    }
}
