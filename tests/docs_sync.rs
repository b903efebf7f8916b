//! The shell completions and man pages committed under `completions/` and `man/` are what
//! `rlog generate` makes from the CLI today, they work, and the CLI documents itself.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command as StdCommand;

use clap::CommandFactory;
use common::{rlog, tempdir};
use predicates::prelude::*;
use rlog::cli::Cli;

/// What a maintainer runs to refresh the committed copies.
const REFRESH: &str = "cargo run -- generate .";

/// Options no script needs to set from the environment, each with the reason.
const NO_ENV: &[(&str, &str)] = &[("help", "prints help"), ("version", "prints the version")];

fn generate_into(dir: &Path) {
    rlog(dir)
        .args(["generate", "."])
        .assert()
        .success()
        .stdout("")
        .stderr("");
}

/// Every file directly in `dir`, by name; none when `dir` does not exist.
fn files_in(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    entries
        .map(|e| e.expect("a readable directory entry").path())
        .filter(|p| p.is_file())
        .map(|p| {
            let name = p
                .file_name()
                .expect("a file name")
                .to_string_lossy()
                .into_owned();
            (name, common::read(&p))
        })
        .collect()
}

/// Where two texts first differ, as "line N: committed … / generated …".
fn first_difference(committed: &[u8], generated: &[u8]) -> String {
    let committed = String::from_utf8_lossy(committed);
    let generated = String::from_utf8_lossy(generated);
    let mut old = committed.lines();
    let mut new = generated.lines();
    for n in 1.. {
        match (old.next(), new.next()) {
            (Some(a), Some(b)) if a == b => continue,
            (None, None) => return "they differ only in line endings".to_string(),
            (a, b) => {
                return format!(
                    "line {n}: committed {:?} / generated {:?}",
                    shorten(a.unwrap_or("<end of file>")),
                    shorten(b.unwrap_or("<end of file>"))
                );
            }
        }
    }
    unreachable!("the loop returns at the first difference or at the end")
}

fn shorten(line: &str) -> String {
    match line.char_indices().nth(100) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    }
}

#[test]
fn committed_completions_and_man_pages_match_the_cli() {
    let dir = tempdir();
    generate_into(dir.path());
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut problems = Vec::new();
    for folder in ["completions", "man"] {
        let generated = files_in(&dir.path().join(folder));
        let committed = files_in(&repo.join(folder));
        assert!(
            !generated.is_empty(),
            "rlog generate wrote nothing into {folder}/"
        );
        let names: BTreeSet<&String> = generated.keys().chain(committed.keys()).collect();
        for name in names {
            match (committed.get(name), generated.get(name)) {
                (Some(old), Some(new)) if old == new => {}
                (Some(old), Some(new)) => problems.push(format!(
                    "{folder}/{name} is out of date ({})",
                    first_difference(old, new)
                )),
                (None, Some(_)) => problems.push(format!("{folder}/{name} is not committed")),
                (Some(_), None) => {
                    problems.push(format!("{folder}/{name} is no longer generated: delete it"))
                }
                (None, None) => unreachable!("every name comes from one of the two maps"),
            }
        }
    }
    assert!(
        problems.is_empty(),
        "completions/ and man/ do not match the CLI:\n  {}\nRefresh them with `{REFRESH}` \
         (from the repository root) and commit the result.",
        problems.join("\n  ")
    );
}

#[test]
fn generate_names_the_path_it_cannot_write() {
    let dir = tempdir();
    // A file where the completions folder should go.
    std::fs::write(dir.path().join("completions"), "").unwrap();
    rlog(dir.path())
        .args(["generate", "."])
        .assert()
        .code(73)
        .stderr(predicate::str::contains("completions"));
}

/// Asks the generated bash completion for the candidates bash would offer when TAB is
/// pressed at the end of `words`, the way bash's programmable completion calls it.
fn bash_complete(words: &[&str]) -> Vec<String> {
    let dir = tempdir();
    generate_into(dir.path());
    let script = r#"
        source "$1" || exit 3
        shift
        spec=$(complete -p rlog) || exit 4
        [[ $spec == *" -F "* ]] || exit 5
        fn=${spec##* -F }
        fn=${fn%% *}
        COMP_WORDS=("$@")
        COMP_CWORD=$(( $# - 1 ))
        COMP_LINE="$*"
        COMP_POINT=${#COMP_LINE}
        "$fn" rlog "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
        printf '%s\n' "${COMPREPLY[@]}"
    "#;
    let out = StdCommand::new("bash")
        .args(["--norc", "--noprofile", "-c", script, "bash"])
        .arg(dir.path().join("completions/rlog.bash"))
        .args(words)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "bash completion failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_pa_to_path() {
    // --parse-level shares the prefix, so bash shows both; one more letter settles it.
    assert_eq!(
        bash_complete(&["rlog", "--pa"]),
        ["--path", "--parse-level"]
    );
    assert_eq!(bash_complete(&["rlog", "--pat"]), ["--path"]);
    assert_eq!(bash_complete(&["rlog", "write", "--pat"]), ["--path"]);
}

#[test]
fn bash_offers_level_names_after_level() {
    let all = ["NOTSET", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"];
    assert_eq!(bash_complete(&["rlog", "--level", ""]), all);
    assert_eq!(bash_complete(&["rlog", "-l", ""]), all);
    assert_eq!(bash_complete(&["rlog", "--min-level", ""]), all);
    assert_eq!(bash_complete(&["rlog", "write", "--level", "E"]), ["ERROR"]);
    assert_eq!(bash_complete(&["rlog", "run", "--stderr-level", ""]), all);
}

#[test]
fn bash_offers_visible_subcommands_only() {
    let offered = bash_complete(&["rlog", ""]);
    assert!(offered.contains(&"write".to_string()), "{offered:?}");
    assert!(!offered.contains(&"generate".to_string()), "{offered:?}");
}

#[test]
fn a_level_from_define_level_is_still_accepted() {
    let dir = tempdir();
    rlog(dir.path())
        .args(["write", "--define-level", "NOTICE=25", "--level", "notice"])
        .args(["--format", "%{level} %{message}", "-p", "out.log", "hi"])
        .assert()
        .success();
    assert_eq!(
        common::read_lines(dir.path().join("out.log")),
        ["NOTICE hi"]
    );
}

/// Whether groff can be used. In CI (CI=true), where `.ci/run` installs it, its absence
/// is a failure; elsewhere the test says it is skipped.
fn have_groff(test: &str) -> bool {
    let found = StdCommand::new("groff")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{test}: groff is required in CI (apt-get install groff-base)"
        );
        eprintln!("{test}: skipped, groff is not installed");
    }
    found
}

#[test]
fn man_pages_render_without_warnings_and_with_every_section() {
    if !have_groff("man_pages_render_without_warnings_and_with_every_section") {
        return;
    }
    let dir = tempdir();
    generate_into(dir.path());
    let pages = files_in(&dir.path().join("man"));
    assert!(pages.contains_key("rlog.1") && pages.contains_key("rlog-write.1"));
    for name in pages.keys() {
        // -ww: every warning; -P-cbou: plain text, no escape sequences or overstriking.
        let out = StdCommand::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-P-cbou"])
            .arg(dir.path().join("man").join(name))
            .env("MANWIDTH", "80")
            .output()
            .expect("groff runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.is_empty(),
            "{name}: {stderr}"
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let headings: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_uppercase()))
            .collect();
        let mut expected = vec!["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXAMPLES"];
        if name == "rlog.1" {
            expected.extend(["EXIT STATUS", "SIGNALS", "FILES", "ENVIRONMENT"]);
        }
        for heading in expected {
            assert!(
                headings.contains(&heading),
                "{name} has no {heading} section; it has {headings:?}"
            );
        }
        if name == "rlog.1" {
            for text_wanted in ["RLOG_PATH", "RLOG_LEVEL", "RLOG_FORMAT", "TZ", "NO_COLOR"] {
                assert!(text.contains(text_wanted), "rlog.1 lacks {text_wanted}");
            }
        }
    }
}

#[test]
fn every_option_a_script_sets_has_an_rlog_variable_named_after_it() {
    let mut cmd = Cli::command();
    cmd.build();
    let commands = std::iter::once(&cmd).chain(cmd.get_subcommands().filter(|s| !s.is_hide_set()));
    for sub in commands {
        for arg in sub
            .get_arguments()
            .filter(|a| !a.is_positional() && !a.is_hide_set())
        {
            let long = arg.get_long().expect("every option has a long name");
            if NO_ENV.iter().any(|(name, _)| *name == long) {
                continue;
            }
            let wanted = format!("RLOG_{}", long.to_ascii_uppercase().replace('-', "_"));
            let env = arg.get_env().map(|e| e.to_string_lossy().into_owned());
            assert_eq!(
                env.as_deref(),
                Some(wanted.as_str()),
                "--{long} (in `{}`) should have env = \"{wanted}\", or be listed in NO_ENV \
                 with the reason no script would set it",
                sub.get_name()
            );
        }
    }
}

#[test]
fn durations_and_sizes_show_their_units_in_help() {
    let mut cmd = Cli::command();
    cmd.build();
    let commands = std::iter::once(&cmd).chain(cmd.get_subcommands().filter(|s| !s.is_hide_set()));
    for sub in commands {
        for arg in sub
            .get_arguments()
            .filter(|a| !a.is_positional() && !a.is_hide_set())
        {
            let takes_value = arg.get_num_args().is_some_and(|n| n.takes_values());
            if !takes_value {
                continue;
            }
            let id = arg.get_id().as_str();
            let names = arg.get_value_names().unwrap_or_default();
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            if names
                .iter()
                .any(|n| ["DURATION", "SIZE"].contains(&n.as_str()))
            {
                // An example with its unit: 2s, 500ms, 1MiB, 64k.
                let has_unit_example = help.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| {
                    let digits = w.trim_end_matches(|c: char| c.is_ascii_alphabetic());
                    !digits.is_empty()
                        && digits.len() < w.len()
                        && digits.bytes().all(|b| b.is_ascii_digit())
                });
                assert!(
                    has_unit_example,
                    "--{id}: show an example with its unit in the help: {help:?}"
                );
            }
        }
    }
}

/// "Examples:" followed by an indented line that runs rlog.
fn shows_examples(help: &str) -> bool {
    help.split("Examples:\n")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .is_some_and(|first| first.starts_with("  ") && first.contains("rlog"))
}

#[test]
fn every_subcommand_help_shows_examples() {
    let dir = tempdir();
    let cmd = Cli::command();
    let mut invocations = vec![vec!["--help".to_string()]];
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        invocations.push(vec![sub.get_name().to_string(), "--help".to_string()]);
    }
    assert!(invocations.len() > 1, "rlog has visible subcommands");
    for args in invocations {
        rlog(dir.path())
            .args(&args)
            .assert()
            .success()
            .stdout(predicate::function(shows_examples));
    }
}

#[test]
fn readme_exit_status_table_has_every_code_of_the_exit_table() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let section = readme
        .split("## Exit status")
        .nth(1)
        .expect("README has an Exit status section");
    let codes: Vec<&str> = rlog::exit::TABLE
        .lines()
        .skip(1)
        // A row is indented by two spaces; a wrapped meaning, further.
        .filter(|row| row.starts_with("  ") && !row.starts_with("   "))
        .filter_map(|row| row.split_whitespace().next())
        .collect();
    assert!(codes.len() >= 7, "{codes:?}");
    for code in codes {
        assert!(
            section.contains(&format!("\n| {code} |")),
            "README's exit status table lacks {code}, which src/exit.rs lists"
        );
    }
}
