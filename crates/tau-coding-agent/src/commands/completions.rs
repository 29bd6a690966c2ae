//! `tau completions <SHELL>` and `tau man`: generated from the same clap definition that parses
//! the command line, so they cannot drift from it.

use std::process::ExitCode;

use anyhow::Result;
use clap_complete::Shell;

use crate::out::Out;

pub const COMPLETION_EXAMPLES: &str = "\
Examples:
  tau completions bash > ~/.local/share/bash-completion/completions/tau
  tau completions zsh > \"${fpath[1]}/_tau\"
  tau completions fish > ~/.config/fish/completions/tau.fish";

pub const MAN_EXAMPLES: &str = "\
Examples:
  tau man > tau.1 && man ./tau.1";

#[derive(Debug, Clone, clap::Args)]
pub struct CompletionsArgs {
    /// Shell to generate the completion script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn completions(args: &CompletionsArgs, out: &mut Out) -> Result<ExitCode> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut crate::cli::command(), "tau", &mut script);
    out.raw(&script)?;
    Ok(ExitCode::SUCCESS)
}

pub fn man(out: &mut Out) -> Result<ExitCode> {
    let mut page = Vec::new();
    clap_mangen::Man::new(crate::cli::command()).render(&mut page)?;
    out.raw(&page)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completion_scripts_name_the_subcommands() {
        let mut script = Vec::new();
        clap_complete::generate(Shell::Bash, &mut crate::cli::command(), "tau", &mut script);
        let text = String::from_utf8(script).unwrap();
        for sub in [
            "run",
            "status",
            "fixture",
            "completions",
            "--require-fixture",
        ] {
            assert!(text.contains(sub), "{sub} missing");
        }
    }

    #[test]
    fn the_man_page_is_roff_for_tau() {
        let mut page = Vec::new();
        clap_mangen::Man::new(crate::cli::command())
            .render(&mut page)
            .unwrap();
        let text = String::from_utf8(page).unwrap();
        assert!(text.starts_with(".ie \\n(.g .ds Aq"), "{}", &text[..80]);
        assert!(text.contains(".TH tau 1"), "{text}");
    }
}
