//! The example workflow (docs/examples/deploy-gate.yml) runs its `tau` steps as written, in
//! order, with the workflow's environment, so the example cannot drift from the binary.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

/// `(key, value)` of the workflow's top-level `env:` block.
fn workflow_env(text: &str) -> Vec<(String, String)> {
    text.lines()
        .skip_while(|l| *l != "env:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.trim().split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The single-line `run:` steps that call the built `tau`.
fn tau_steps(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("run: target/release/tau "))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_example_workflow_steps_run_and_pass_the_gate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join("docs/examples/deploy-gate.yml")).unwrap();
    let steps = tau_steps(&text);
    assert_eq!(steps.len(), 3, "{steps:?}");
    assert!(
        steps[2].starts_with("status --require-pass"),
        "the last step gates"
    );
    let dir = tempfile::tempdir().unwrap();
    for step in &steps {
        let step = step.replace(
            "tau-junit.xml",
            &dir.path().join("junit.xml").to_string_lossy(),
        );
        let mut cmd = Command::new("bash");
        cmd.arg("-c")
            .arg(format!("{} {step}", env!("CARGO_BIN_EXE_tau")))
            .current_dir(&root);
        for (key, _) in
            std::env::vars().filter(|(k, _)| k.starts_with("TAU_") || k == "GITHUB_ACTIONS")
        {
            cmd.env_remove(key);
        }
        for (key, value) in workflow_env(&text) {
            let value = if key == "TAU_DEPLOYMENT_STATE_DIR" {
                dir.path().join("state").to_string_lossy().into_owned()
            } else {
                value
            };
            cmd.env(key, value);
        }
        let out = cmd.output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{step}\n{}\n{}",
            stdout(&out),
            stderr(&out)
        );
    }
    assert!(dir.path().join("junit.xml").is_file());
}
