//! What `tau deploy` says: one JSON document with `--json`, else short lines on stdout; a
//! spinner on stderr for people at a terminal; each request on stderr with `-v`.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{json, Map, Value};
use tau_cloud::providers::ApiRequest;

use super::Common;
use crate::out::{self, Out};

pub struct Report {
    pub doc: Map<String, Value>,
    lines: Vec<String>,
    json: bool,
    quiet: bool,
    verbose: bool,
    spinner: ProgressBar,
}

impl Report {
    pub fn new(common: &Common) -> Self {
        let ci = std::env::var("CI").ok();
        let draw = !common.json
            && !common.quiet
            && crate::progress::bar_allowed(std::io::stderr().is_terminal(), ci.as_deref());
        let spinner = if draw {
            ProgressBar::new_spinner()
        } else {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden())
        };
        spinner.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .expect("the template is valid"),
        );
        spinner.enable_steady_tick(Duration::from_millis(120));
        Report {
            doc: Map::new(),
            lines: Vec::new(),
            json: common.json,
            quiet: common.quiet,
            verbose: common.verbose,
            spinner,
        }
    }

    /// A step begins (spinner text).
    pub fn stage(&self, what: &str) {
        self.spinner.set_message(what.to_string());
    }

    pub fn set(&mut self, key: &str, value: Value) {
        self.doc.insert(key.to_string(), value);
    }

    /// A line of the text report.
    pub fn line(&mut self, text: String) {
        self.lines.push(text);
    }

    /// With `-v`, a request about to be sent (never its credentials).
    pub fn sending(&self, req: &ApiRequest) {
        if self.verbose {
            self.spinner
                .suspend(|| out::warn(&format!("-> {} {} ({})", req.method, req.url, req.action)));
        }
    }

    /// The dry run's full account of each request.
    pub fn requests(&mut self, requests: &[ApiRequest]) {
        self.set("requests", json!(requests));
        for (i, req) in requests.iter().enumerate() {
            self.lines
                .push(format!("--- request {}: {} ---", i + 1, req.action));
            self.lines.push(format!("{} {}", req.method, req.url));
            for (k, v) in &req.headers {
                self.lines.push(format!("{k}: {v}"));
            }
            if let Some(body) = &req.body {
                self.lines
                    .push(serde_json::to_string_pretty(body).unwrap_or_default());
            }
        }
    }

    pub fn finish(self, out: &mut Out) -> anyhow::Result<()> {
        self.spinner.finish_and_clear();
        if self.json {
            out.json(&Value::Object(self.doc))?;
        } else if !self.quiet {
            for line in &self.lines {
                for part in line.split('\n') {
                    out.line(part)?;
                }
            }
        }
        Ok(())
    }
}
