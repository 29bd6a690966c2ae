//! `tau`: a thin front end. It parses the command line, calls the library crates and formats what
//! they return; every decision about deployments lives in `tau-deployment`.

mod cli;
mod commands;
mod failure;
mod legacy;
mod out;
mod progress;
mod report;

use std::io::ErrorKind;
use std::process::ExitCode;

use clap::FromArgMatches;

use cli::Cli;
use out::Out;

// Large runs allocate millions of small strings; mimalloc is markedly faster at that than glibc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let parsed = cli::command()
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches));
    let mut cli = match parsed {
        Ok(cli) => cli,
        Err(err) => return clap_exit(&err),
    };
    let command = match cli.command.take().or_else(|| legacy::command(&cli)) {
        Some(command) => command,
        None => {
            let message = "choose a command, for example `tau run` (or a mode flag such as --deployment-contract-runner)";
            if cli.json {
                return failure::report(
                    &failure::Refusal::new(failure::USAGE, "usage", message).into(),
                    true,
                );
            }
            let help = cli::command().render_help().to_string();
            let mut stdout = Out::stdout();
            if let Err(e) = stdout.raw(help.as_bytes()).and_then(|()| stdout.flush()) {
                out::warn(&format!("error: {e}"));
            }
            out::warn(&format!("\nerror: {message}"));
            return ExitCode::from(failure::USAGE);
        }
    };
    let json = command.wants_json();
    let mut stdout = Out::stdout();
    let result = command
        .exec(&mut stdout)
        .and_then(|code| stdout.flush().map(|()| code).map_err(Into::into));
    match result {
        Ok(code) => code,
        Err(err) => failure::report(&err, json),
    }
}

/// Help, version and usage errors from clap. They go through clap's own printer (which never
/// panics), but a failed write is still an error; with `--json` a usage error is also an object.
fn clap_exit(err: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind as Kind;
    let informational = matches!(
        err.kind(),
        Kind::DisplayHelp | Kind::DisplayVersion | Kind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    if !informational && json_requested() {
        let error = failure::Refusal::new(failure::USAGE, "usage", err.render().to_string().trim());
        let mut stdout = Out::stdout();
        let _ = stdout
            .json(&serde_json::json!({ "error": error.error_object(&[]) }))
            .and_then(|()| stdout.flush());
    }
    match err.print() {
        Err(e) if e.kind() != ErrorKind::BrokenPipe => {
            out::warn(&format!("error: cannot write to standard output: {e}"));
            ExitCode::from(failure::USAGE)
        }
        _ => ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(failure::USAGE)),
    }
}

/// Whether the (unparseable) command line or the environment asked for JSON output.
fn json_requested() -> bool {
    let flag = std::env::args_os().skip(1).any(|a| {
        a.to_str()
            .is_some_and(|a| a == "--json" || (a.starts_with("--") && a.ends_with("-json")))
    });
    // `TAU_JSON` and every command's own `TAU_…_JSON` variable (`TAU_DEPLOYMENT_STATUS_JSON`, …).
    let env = std::env::vars_os().any(|(key, value)| {
        key.to_str()
            .is_some_and(|k| k.starts_with("TAU_") && k.ends_with("JSON"))
            && value.to_str().is_some_and(|v| {
                matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")
            })
    });
    flag || env
}
