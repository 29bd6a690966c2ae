//! The operations guide's commands, run as written (into a temporary state dir), so the guide
//! cannot drift from the binary.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

/// Every command of every ```bash block, with `\` continuations joined, and the exit code its
/// `# expect exit N` comment announces (0 otherwise).
fn commands(guide: &str) -> Vec<(String, i32)> {
    let mut out = Vec::new();
    let mut in_block = false;
    let mut expect = 0;
    let mut pending = String::new();
    for line in guide.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            in_block = trimmed == "```bash";
            continue;
        }
        if !in_block {
            continue;
        }
        if let Some(code) = trimmed.strip_prefix("# expect exit ") {
            expect = code.parse().expect("expected exit code is a number");
            continue;
        }
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(head) => {
                pending.push_str(head.trim_end());
                pending.push(' ');
            }
            None => {
                pending.push_str(trimmed);
                out.push((std::mem::take(&mut pending), expect));
                expect = 0;
            }
        }
    }
    out
}

/// Commands the test runs: the `tau` ones that finish on their own, optionally after `VAR=value`
/// assignments. Cloud commands (`fly`, `curl`), `git`, nested `cargo test`, the long-running
/// gateway and the scripts (run by CI directly) are not.
fn runnable(command: &str) -> bool {
    let mut words = command.split_whitespace().skip_while(|w| {
        w.split_once('=').is_some_and(|(k, _)| {
            !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        })
    });
    let head: Vec<&str> = words.by_ref().take(4).collect();
    head == ["cargo", "run", "-p", "tau-coding-agent"]
        && !command.contains("--gateway-serve")
        && !command.contains(" gateway serve")
}

#[test]
fn ops_guide_commands_run_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let guide = std::fs::read_to_string(root.join("docs/guides/deployment-ops.md")).unwrap();
    let all = commands(&guide);
    let state = tempfile::tempdir().unwrap();
    let sha = tau_wasm::sha256_hex(
        &std::fs::read(
            root.join("crates/tau-coding-agent/testdata/deployment-wasm/edge-runtime.wasm"),
        )
        .unwrap(),
    );
    let tau_bin = env!("CARGO_BIN_EXE_tau");
    let mut ran = 0;
    for (command, expected) in all.iter().filter(|(c, _)| runnable(c)) {
        let rewritten = command
            .replace("cargo run -p tau-coding-agent --", tau_bin)
            .replace(
                ".tau/deployment",
                &state.path().join("deployment").to_string_lossy(),
            )
            .replace("<sha>", &sha);
        let out = Command::new("bash")
            .arg("-c")
            .arg(&rewritten)
            .current_dir(&root)
            .env_remove("TAU_DEPLOYMENT_STATE_DIR")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(*expected),
            "guide command failed: {command}\nstdout: {}\nstderr: {}",
            stdout(&out),
            stderr(&out)
        );
        ran += 1;
    }
    assert!(
        ran >= 10,
        "only {ran} guide commands ran; the guide lost its commands"
    );
    // Commands the test does not run still name things that exist.
    for (command, _) in &all {
        for script in command
            .split_whitespace()
            .filter(|w| w.starts_with("./scripts/"))
        {
            assert!(
                root.join(script).is_file(),
                "guide names a missing script: {script}"
            );
        }
    }
}

#[test]
fn ops_guide_extraction_joins_continuations_and_reads_expected_exits() {
    let guide =
        "text\n```bash\n# expect exit 3\ntau --a \\\n  --b\n\ntau --c\n```\n```\nnot bash\n```\n";
    assert_eq!(
        commands(guide),
        [("tau --a --b".to_string(), 3), ("tau --c".to_string(), 0)]
    );
}

#[test]
fn ops_guide_runs_tau_commands_with_leading_environment_but_not_the_gateway() {
    assert!(runnable("cargo run -p tau-coding-agent -- status"));
    assert!(runnable(
        "TAU_X=1 A_B=c cargo run -p tau-coding-agent -- did init"
    ));
    assert!(!runnable(
        "cargo run -p tau-coding-agent -- gateway serve --state-dir x"
    ));
    assert!(!runnable(
        "cargo run -p tau-coding-agent -- --gateway-serve"
    ));
    assert!(!runnable("fly deploy"));
    assert!(!runnable("lower=1 cargo run -p tau-coding-agent -- status"));
}
