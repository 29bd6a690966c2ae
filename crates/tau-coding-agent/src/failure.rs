//! How a command that did not succeed says so: an exit code, a message on stderr and, with
//! `--json`, one JSON error object on stdout so a script never has to scrape stderr.
//!
//! The JSON shape (documented in docs/guides/cli.md):
//!
//! ```json
//! {"error": {"code": "fixture_invalid", "exit_code": 2, "message": "...", "causes": [], ...}}
//! ```
//!
//! `code` is a stable snake_case identifier; `exit_code` is the process status; extra keys carry
//! the structured detail of that code (`problems`, `reason_codes`, `gate_reasons`, ...). A command
//! whose report is itself the answer (a holding gate, a non-compliant artifact) prints its report
//! with the same `error` object added at the top level, so stdout is always one JSON document.

use std::process::ExitCode;

use serde_json::{json, Map, Value};

use crate::out::{self, OutputFailed};

/// Usage, input or environment error.
pub const USAGE: u8 = 2;
/// A gate said no.
pub const REFUSED: u8 = 3;

/// A refusal a command decided on itself, with its code and structured detail.
#[derive(Debug)]
pub struct Refusal {
    pub exit: u8,
    pub code: &'static str,
    pub message: String,
    pub detail: Map<String, Value>,
}

impl Refusal {
    pub fn new(exit: u8, code: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            exit,
            code,
            message: message.into(),
            detail: Map::new(),
        }
    }

    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.detail.insert(key.to_string(), value.into());
        self
    }

    /// The `{"error": {...}}` body.
    pub fn error_object(&self, causes: &[String]) -> Value {
        let mut error = Map::new();
        error.insert("code".into(), self.code.into());
        error.insert("exit_code".into(), self.exit.into());
        error.insert("message".into(), self.message.clone().into());
        error.insert("causes".into(), json!(causes));
        for (key, value) in &self.detail {
            error.insert(key.clone(), value.clone());
        }
        Value::Object(error)
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Refusal {}

/// A report with the refusal's error object beside its fields, in the report's own field order.
#[derive(serde::Serialize)]
pub struct WithError<'a, T: serde::Serialize> {
    #[serde(flatten)]
    pub report: &'a T,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
}

impl<'a, T: serde::Serialize> WithError<'a, T> {
    pub fn new(report: &'a T, refusal: Option<&Refusal>) -> Self {
        WithError {
            report,
            error: refusal.map(|r| r.error_object(&[])),
        }
    }
}

/// A refusal the command reports itself (its text lines are already on stderr): with `json` the
/// error object goes to stdout. Returns the refusal's exit status.
pub fn emit(refusal: &Refusal, json: bool, out: &mut out::Out) -> anyhow::Result<ExitCode> {
    if json {
        out.json(&json!({ "error": refusal.error_object(&[]) }))?;
    }
    Ok(ExitCode::from(refusal.exit))
}

/// Maps an error from any layer to its code and detail.
fn classify(err: &anyhow::Error) -> Refusal {
    let message = err.to_string();
    for cause in err.chain() {
        if let Some(r) = cause.downcast_ref::<Refusal>() {
            return Refusal {
                exit: r.exit,
                code: r.code,
                message: r.message.clone(),
                detail: r.detail.clone(),
            };
        }
        if cause.downcast_ref::<OutputFailed>().is_some() {
            return Refusal::new(USAGE, "output_failed", message);
        }
        if let Some(e) = cause.downcast_ref::<tau_deployment::Error>() {
            return deployment(e, message);
        }
        if let Some(e) = cause.downcast_ref::<tau_wasm::Error>() {
            return wasm(e, message);
        }
        if let Some(e) = cause.downcast_ref::<tau_durable::Error>() {
            return durable(e, message);
        }
        if let Some(e) = cause.downcast_ref::<clap::Error>() {
            let _ = e;
            return Refusal::new(USAGE, "usage", message);
        }
    }
    Refusal::new(USAGE, "error", message)
}

fn deployment(e: &tau_deployment::Error, message: String) -> Refusal {
    use tau_deployment::Error as E;
    match e {
        E::FixtureInvalid { path, problems } => Refusal::new(USAGE, "fixture_invalid", message)
            .with("path", path.display().to_string())
            .with(
                "problems",
                crate::commands::fixture::problems_json(problems),
            ),
        E::ZeroLimit { name } => Refusal::new(USAGE, "usage", message).with("flag", *name),
        E::StateVersion { path, .. } => Refusal::new(USAGE, "state_unreadable", message)
            .with("path", path.display().to_string()),
        E::Durable(d) => durable(d, message),
        #[allow(unreachable_patterns)]
        _ => Refusal::new(USAGE, "io_error", message),
    }
}

fn wasm(e: &tau_wasm::Error, message: String) -> Refusal {
    use tau_wasm::Error as E;
    match e {
        E::Invalid { path, .. } => {
            Refusal::new(USAGE, "module_invalid", message).with("path", path.display().to_string())
        }
        E::Manifest { path, .. } => Refusal::new(USAGE, "manifest_invalid", message)
            .with("path", path.display().to_string()),
        E::BlueprintId { id, .. } => {
            Refusal::new(USAGE, "invalid_input", message).with("blueprint_id", id.clone())
        }
        E::Durable(d) => durable(d, message),
        #[allow(unreachable_patterns)]
        _ => Refusal::new(USAGE, "io_error", message),
    }
}

fn durable(e: &tau_durable::Error, message: String) -> Refusal {
    use tau_durable::Error as E;
    match e {
        E::Locked { dir, .. } => Refusal::new(USAGE, "state_locked", message)
            .with("state_dir", dir.display().to_string()),
        E::Document { path, .. } | E::Journal { path, .. } => {
            Refusal::new(USAGE, "state_unreadable", message)
                .with("path", path.display().to_string())
        }
        #[allow(unreachable_patterns)]
        _ => Refusal::new(USAGE, "io_error", message),
    }
}

/// Reports `err` and returns the exit status: the message and its causes on stderr, and with
/// `json` the error object on stdout.
pub fn report(err: &anyhow::Error, json: bool) -> ExitCode {
    let refusal = classify(err);
    let causes: Vec<String> = err.chain().skip(1).map(|c| c.to_string()).collect();
    // An output failure is reported on stderr only: stdout is what just failed.
    if json && refusal.code != "output_failed" {
        let mut stdout = out::Out::stdout();
        let written = stdout
            .json(&json!({ "error": refusal.error_object(&causes) }))
            .and_then(|()| stdout.flush());
        if let Err(e) = written {
            out::warn(&format!("error: {e}"));
            return ExitCode::from(USAGE);
        }
    }
    let prefix = if refusal.exit == REFUSED {
        "refused"
    } else {
        "error"
    };
    out::warn(&format!("{prefix}: {err}"));
    for cause in &causes {
        out::warn(&format!("  caused by: {cause}"));
    }
    ExitCode::from(refusal.exit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_keeps_its_code_and_detail_through_context() {
        let err = anyhow::Error::new(
            Refusal::new(REFUSED, "gate_hold", "gate holds").with("gate_reasons", json!(["x"])),
        )
        .context("status");
        let r = classify(&err);
        assert_eq!((r.exit, r.code), (REFUSED, "gate_hold"));
        let object = r.error_object(&[]);
        assert_eq!(object["gate_reasons"], json!(["x"]));
        assert_eq!(object["exit_code"], 3);
    }

    #[test]
    fn a_locked_state_dir_is_state_locked() {
        let err = anyhow::Error::new(tau_deployment::Error::Durable(tau_durable::Error::Locked {
            dir: "/s".into(),
            holder: "pid 1".into(),
        }));
        assert_eq!(classify(&err).code, "state_locked");
    }

    #[test]
    fn an_unknown_error_is_a_usage_error() {
        let r = classify(&anyhow::anyhow!("boom"));
        assert_eq!((r.exit, r.code), (USAGE, "error"));
    }
}
