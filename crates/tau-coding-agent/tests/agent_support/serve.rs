//! Starting `tau agent serve` and reading the address it prints. Shared by `agent_support` and
//! `registry_support` (which includes this file by path), so both wait for an agent the same way.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A started agent process, its first stdout line and the URL in it.
pub struct Served {
    pub child: Child,
    pub first_line: String,
    pub url: String,
}

/// Spawns `command` (a configured `tau agent serve`) with stdout piped and waits up to two
/// minutes for its first line, which names the URL it listens on. If none comes, the process is
/// killed and the panic shows its stderr (when the caller piped it).
pub fn serve(mut command: Command) -> Served {
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .expect("tau agent serve starts");
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let first_line = match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(line) => line,
        Err(_) => {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "agent did not start: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    };
    let url = first_line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {first_line:?}"))
        .to_string();
    Served {
        child,
        first_line,
        url,
    }
}
