//! The cached view of a state dir that every request reads.
//!
//! Health checks arrive in bursts; re-reading `state.json` for each would make the gateway's cost
//! grow with the state. A snapshot is reused for the cache interval, and even after it expires the
//! file is re-parsed only when its size, modification time or inode changed.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tau_deployment::state::{GateInputs, State};
use tokio::sync::Mutex;

/// What the handlers need from the state dir.
#[derive(Debug, Clone, PartialEq)]
pub enum Snapshot {
    /// What the gate is decided from; `None` when no state has been written yet.
    Gate(Option<Box<GateInputs>>),
    /// The state file exists but cannot be read or parsed. The reason holds no path.
    Unreadable(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp {
    len: u64,
    modified: Option<SystemTime>,
    #[cfg(unix)]
    inode: u64,
}

fn stamp(path: &std::path::Path) -> Option<FileStamp> {
    let meta = std::fs::metadata(path).ok()?;
    Some(FileStamp {
        len: meta.len(),
        modified: meta.modified().ok(),
        #[cfg(unix)]
        inode: std::os::unix::fs::MetadataExt::ino(&meta),
    })
}

struct Cached {
    at: Instant,
    stamp: Option<FileStamp>,
    snapshot: Arc<Snapshot>,
}

/// A snapshot of `<state_dir>/state.json`, refreshed at most once per `ttl`.
pub struct Cache {
    path: PathBuf,
    ttl: Duration,
    current: Mutex<Option<Cached>>,
}

impl Cache {
    pub fn new(state_dir: PathBuf, ttl: Duration) -> Self {
        Cache {
            path: state_dir.join(tau_deployment::STATE_FILE),
            ttl,
            current: Mutex::new(None),
        }
    }

    /// The current snapshot. Concurrent callers at expiry wait for one refresh instead of each
    /// reading the file.
    pub async fn get(&self) -> Arc<Snapshot> {
        let mut current = self.current.lock().await;
        if let Some(c) = current.as_ref() {
            if c.at.elapsed() < self.ttl {
                return c.snapshot.clone();
            }
        }
        let path = self.path.clone();
        let previous = current.take();
        let refreshed = tokio::task::spawn_blocking(move || {
            let now_stamp = stamp(&path);
            match previous {
                Some(p) if p.stamp.is_some() && p.stamp == now_stamp => (now_stamp, p.snapshot),
                _ => {
                    let snapshot = match State::read_gate_inputs(&path) {
                        Ok(inputs) => Snapshot::Gate(inputs.map(Box::new)),
                        Err(tau_deployment::Error::StateVersion { .. }) => {
                            Snapshot::Unreadable("state_schema_unsupported")
                        }
                        Err(_) => Snapshot::Unreadable("state_unreadable"),
                    };
                    (now_stamp, Arc::new(snapshot))
                }
            }
        })
        .await
        .unwrap_or_else(|_| (None, Arc::new(Snapshot::Unreadable("state_unreadable"))));
        let snapshot = refreshed.1.clone();
        *current = Some(Cached {
            at: Instant::now(),
            stamp: refreshed.0,
            snapshot: refreshed.1,
        });
        snapshot
    }
}
