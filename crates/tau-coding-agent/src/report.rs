//! Formatting and terminal helpers shared by every command.

use tau_durable::lock::Wait;

/// A comma-separated list for a `key=value` line; `none` when empty.
pub fn join(items: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    let list: Vec<String> = items.into_iter().map(|s| s.as_ref().to_string()).collect();
    if list.is_empty() {
        "none".into()
    } else {
        list.join(",")
    }
}

/// Tells the user why a command is blocked on the state-dir lock.
pub fn waiting_for_lock(holder: &str) {
    eprintln!(
        "waiting for the state dir lock (held by {holder}); pass --deployment-lock-no-wait to fail instead"
    );
}

/// The lock behaviour `--deployment-lock-no-wait` selects.
pub fn lock_wait(no_wait: bool, note: &mut dyn FnMut(&str)) -> Wait<'_> {
    if no_wait {
        Wait::FailFast
    } else {
        Wait::Block(note)
    }
}
