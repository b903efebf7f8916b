//! `rlog generate DIR`: shell completions and man pages, made from the clap definition so
//! they cannot drift from the CLI. Copies are committed under `completions/` and `man/`, and
//! `tests/docs_sync.rs` regenerates them and fails on any difference.
//!
//! clap gives the synopsis, the options and the subcommands. The sections it cannot know
//! (exit status, signals, environment, files, examples) are written here, each from the
//! source that defines it where there is one: the exit-code table, the options' `env`
//! settings, the help texts' examples. Text about an option or subcommand that has not
//! landed is shown only once the clap definition has it.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::{Arg, ArgAction, Command, CommandFactory};
use clap_complete::{Generator, Shell};
use clap_mangen::Man;
use clap_mangen::roff::{Inline, Roff, bold, italic, roman};

use crate::cli::Cli;
use crate::exit::{self, Exit};

const BIN: &str = "rlog";

/// The shells whose completion scripts are generated.
const SHELLS: [Shell; 5] = [
    Shell::Bash,
    Shell::Zsh,
    Shell::Fish,
    Shell::PowerShell,
    Shell::Elvish,
];

/// One generated file: where it goes under DIR, and what it holds.
#[derive(Debug)]
pub struct Output {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

/// Writes every completion script and man page under `dir`, creating its folders.
pub fn run(dir: &Path) -> Exit {
    let outputs = match outputs() {
        Ok(outputs) => outputs,
        Err(e) => {
            warn!("cannot render the man pages: {e}");
            return Exit::IoError;
        }
    };
    for output in outputs {
        let path = dir.join(&output.path);
        let written = match path.parent() {
            Some(parent) => fs::create_dir_all(parent),
            None => Ok(()),
        }
        .and_then(|()| fs::write(&path, &output.bytes));
        if let Err(e) = written {
            warn!("cannot write {}: {e}", path.display());
            return Exit::CantCreate;
        }
    }
    Exit::Ok
}

/// Every generated file, in memory: `completions/…` then `man/…`.
pub fn outputs() -> io::Result<Vec<Output>> {
    let mut outputs = completions();
    outputs.extend(man_pages()?);
    Ok(outputs)
}

fn completions() -> Vec<Output> {
    SHELLS
        .iter()
        .map(|&shell| {
            let mut bytes = Vec::new();
            clap_complete::generate(shell, &mut completion_command(), BIN, &mut bytes);
            Output {
                path: Path::new("completions").join(shell.file_name(BIN)),
                bytes,
            }
        })
        .collect()
}

/// The command as the completion scripts should see it. clap_complete offers hidden
/// subcommands too, and `generate` is for maintainers, not for the user's tab key; clap
/// cannot remove a subcommand, so this copies everything else into a new command.
fn completion_command() -> Command {
    let full = Cli::command();
    let mut cmd = Command::new(BIN)
        .args(full.get_arguments().cloned())
        .groups(full.get_groups().cloned())
        .subcommands(visible_subcommands(&full).cloned());
    if let Some(about) = full.get_about() {
        cmd = cmd.about(about.clone());
    }
    if full.get_version().is_some() {
        cmd = cmd.version(env!("CARGO_PKG_VERSION"));
    }
    cmd
}

/// `rlog.1`, then one page per visible subcommand (`rlog-write.1`…).
fn man_pages() -> io::Result<Vec<Output>> {
    let mut root = Cli::command().disable_help_subcommand(true);
    root.build();
    let mut pages = vec![Output {
        path: Path::new("man").join(format!("{BIN}.1")),
        bytes: root_page(&root)?,
    }];
    for sub in visible_subcommands(&root) {
        let name = sub.get_display_name().unwrap_or_else(|| sub.get_name());
        pages.push(Output {
            path: Path::new("man").join(format!("{name}.1")),
            bytes: subcommand_page(sub)?,
        });
    }
    Ok(pages)
}

fn visible_subcommands(cmd: &Command) -> impl Iterator<Item = &Command> {
    cmd.get_subcommands().filter(|s| !s.is_hide_set())
}

fn subcommand<'a>(root: &'a Command, name: &str) -> Option<&'a Command> {
    visible_subcommands(root).find(|s| s.get_name() == name)
}

/// Whether the command, or any of its subcommands, has an option with this long name.
fn has_option(root: &Command, long: &str) -> bool {
    all_args(root).any(|a| a.get_long() == Some(long))
}

/// Every visible argument of the command and its visible subcommands (globals repeat).
fn all_args(root: &Command) -> impl Iterator<Item = &Arg> {
    std::iter::once(root)
        .chain(visible_subcommands(root))
        .flat_map(|c| c.get_arguments())
        .filter(|a| !a.is_hide_set())
}

fn root_page(root: &Command) -> io::Result<Vec<u8>> {
    let man = Man::new(root.clone());
    let mut page = Page::default();
    clap_sections(&mut page, &man, root)?;
    let blocks = help_blocks(root);
    add_block_sections(
        &mut page,
        blocks
            .iter()
            .filter(|b| !b.is_examples() && !b.is_exit_status()),
    );
    page.add(&signals_section(root));
    page.add(&exit_status_section(exit::TABLE));
    page.add(&environment_section(root));
    page.add(&files_section(root));
    let mut examples = examples_section(&blocks);
    extra_examples(&mut examples, root);
    page.add(&examples);
    let mut see_also: Vec<String> = visible_subcommands(root)
        .map(|s| format!("{BIN}-{}(1)", s.get_name()))
        .collect();
    see_also.extend(
        [
            "logger(1)",
            "tee(1)",
            "ts(1)",
            "logrotate(8)",
            "crontab(5)",
            "systemd.service(5)",
        ]
        .map(String::from),
    );
    page.add(&see_also_section(&see_also));
    if root.get_version().is_some() {
        page.render(|w| man.render_version_section(w))?;
    }
    Ok(page.out)
}

fn subcommand_page(sub: &Command) -> io::Result<Vec<u8>> {
    // A subcommand has no version of its own; its page shows rlog's.
    let version = env!("CARGO_PKG_VERSION");
    let sub = sub.clone().version(version);
    let man = Man::new(sub.clone()).source(format!("{BIN} {version}"));
    let mut page = Page::default();
    clap_sections(&mut page, &man, &sub)?;
    let blocks = help_blocks(&sub);
    add_block_sections(
        &mut page,
        blocks
            .iter()
            .filter(|b| !b.is_examples() && !b.is_exit_status()),
    );
    for block in blocks.iter().filter(|b| b.is_exit_status()) {
        page.add(&exit_status_section(&block.text()));
    }
    page.add(&examples_section(&blocks));
    let covers = match blocks.iter().any(HelpBlock::is_exit_status) {
        true => "signals, environment and files",
        false => "exit status, signals, environment and files",
    };
    page.add(&see_also_section(&[format!("{BIN}(1), for {covers}")]));
    page.render(|w| man.render_version_section(w))?;
    Ok(page.out)
}

/// The sections clap_mangen knows: title, name, synopsis, description, options, commands.
fn clap_sections(page: &mut Page, man: &Man, cmd: &Command) -> io::Result<()> {
    page.render(|w| man.render_title(w))?;
    page.render(|w| man.render_name_section(w))?;
    page.render(|w| man.render_synopsis_section(w))?;
    page.render(|w| man.render_description_section(w))?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        page.render(|w| man.render_options_section(w))?;
    }
    if visible_subcommands(cmd).next().is_some() {
        page.render(|w| man.render_subcommands_section(w))?;
    }
    Ok(())
}

/// A man page put together from roff documents, each of which starts with the same
/// preamble; it is kept once, at the top.
#[derive(Default)]
struct Page {
    out: Vec<u8>,
}

impl Page {
    fn render(&mut self, section: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
        let mut part = Vec::new();
        section(&mut part)?;
        let preamble = Roff::new().render();
        let body = match self.out.is_empty() {
            true => &part[..],
            false => part.strip_prefix(preamble.as_bytes()).unwrap_or(&part),
        };
        self.out.extend_from_slice(body);
        Ok(())
    }

    fn add(&mut self, roff: &Roff) {
        let preamble = Roff::new().render();
        let text = roff.render();
        let body = text.strip_prefix(&preamble).unwrap_or(&text);
        self.out.extend_from_slice(body.as_bytes());
    }
}

/// A block of a command's after-help text, up to a blank line: a `Title: lead` line
/// (or, for prose, a paragraph under the title "Notes"), then indented lines.
#[derive(Debug, PartialEq, Eq)]
struct HelpBlock {
    title: String,
    /// Prose, filled when rendered.
    lead: String,
    /// Indented lines, kept as laid out.
    lines: Vec<String>,
}

fn help_blocks(cmd: &Command) -> Vec<HelpBlock> {
    let text = cmd
        .get_after_long_help()
        .or_else(|| cmd.get_after_help())
        .map(|t| t.to_string())
        .unwrap_or_default();
    parse_help_blocks(&text)
}

/// `Title: lead` on an unindented line, where the title is a few words (parentheses,
/// slashes and dashes allowed), not the start of a sentence that holds a colon.
fn heading(line: &str) -> Option<(&str, &str)> {
    if line.starts_with(char::is_whitespace) {
        return None;
    }
    let (title, lead) = line.split_once(':')?;
    let is_title = !title.is_empty()
        && title.len() <= 60
        && title.starts_with(|c: char| c.is_ascii_uppercase())
        && title
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " ()-/,_".contains(c))
        && (lead.is_empty() || lead.starts_with(' '));
    is_title.then(|| (title.trim(), lead.trim()))
}

fn parse_help_blocks(text: &str) -> Vec<HelpBlock> {
    let mut blocks: Vec<HelpBlock> = Vec::new();
    let mut open = false;
    for line in text.lines() {
        if line.trim().is_empty() {
            open = false;
            continue;
        }
        let (title, lead) = match (heading(line), blocks.last_mut()) {
            (None, Some(block)) if open => {
                if line.starts_with(char::is_whitespace) || !block.lines.is_empty() {
                    block.lines.push(line.to_string());
                } else {
                    block.lead.push(' ');
                    block.lead.push_str(line.trim());
                }
                continue;
            }
            (Some(found), _) => found,
            (None, _) => ("Notes", line.trim()),
        };
        blocks.push(HelpBlock {
            title: title.to_string(),
            lead: lead.to_string(),
            lines: Vec::new(),
        });
        open = true;
    }
    blocks
}

/// The blocks that become sections of their own, in order; a title seen before adds
/// its block to that title's section rather than repeating the heading.
fn add_block_sections<'a>(page: &mut Page, blocks: impl Iterator<Item = &'a HelpBlock>) {
    let mut seen: Vec<&str> = Vec::new();
    for block in blocks {
        let repeated = seen.contains(&block.title.as_str());
        page.add(&block.section(!repeated));
        seen.push(&block.title);
    }
}

impl HelpBlock {
    fn is_examples(&self) -> bool {
        self.title.starts_with("Example")
    }

    fn is_exit_status(&self) -> bool {
        self.title.eq_ignore_ascii_case("Exit status")
    }

    /// The block as it was written, for the parsers of particular blocks.
    fn text(&self) -> String {
        let mut text = format!("{}: {}\n", self.title, self.lead);
        for line in &self.lines {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    /// The block as a man page section: the title (without its parenthesis) as heading,
    /// the lead as a paragraph, the indented lines kept as they are laid out. Without the
    /// heading, it continues the section before it.
    fn section(&self, with_heading: bool) -> Roff {
        let (heading, aside) = match self.title.split_once('(') {
            Some((heading, aside)) => (heading.trim(), Some(aside.trim_end_matches(')'))),
            None => (self.title.as_str(), None),
        };
        let mut roff = Roff::new();
        if with_heading {
            roff.control("SH", [heading.to_uppercase().as_str()]);
        }
        if let Some(aside) = aside {
            roff.control("PP", []);
            roff.text([roman(format!("For {aside}."))]);
        }
        if !self.lead.is_empty() {
            roff.control("PP", []);
            roff.text([roman(self.lead.as_str())]);
        }
        preformatted(&mut roff, &self.lines);
        roff
    }
}

/// Lines kept as laid out (no filling), their common indentation removed.
fn preformatted<S: AsRef<str>>(roff: &mut Roff, lines: &[S]) {
    if lines.is_empty() {
        return;
    }
    let indent = lines
        .iter()
        .filter(|l| !l.as_ref().trim().is_empty())
        .map(|l| l.as_ref().len() - l.as_ref().trim_start().len())
        .min()
        .unwrap_or(0);
    roff.control("PP", []);
    roff.control("RS", ["4"]);
    roff.control("nf", []);
    for line in lines {
        let line = line.as_ref();
        roff.text([roman(line.get(indent..).unwrap_or(line.trim_start()))]);
    }
    roff.control("fi", []);
    roff.control("RE", []);
}

/// One row of an exit-status table: the code (`0`, `128+N`) and what it means.
#[derive(Debug, PartialEq, Eq)]
struct ExitRow {
    code: String,
    meaning: String,
}

/// Parses a table laid out as `exit::TABLE` is: a title line, then rows `  CODE  meaning`;
/// a line indented further than the rows continues the previous row's meaning.
fn parse_exit_table(table: &str) -> Vec<ExitRow> {
    let mut rows: Vec<ExitRow> = Vec::new();
    let mut row_indent = None;
    for line in table.lines().filter(|l| !l.trim().is_empty()) {
        let indent = line.len() - line.trim_start().len();
        if indent == 0 {
            continue;
        }
        let row_indent = *row_indent.get_or_insert(indent);
        let text = line.trim();
        match rows.last_mut() {
            Some(row) if indent > row_indent => {
                row.meaning.push(' ');
                row.meaning.push_str(text);
            }
            _ => {
                let (code, meaning) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
                rows.push(ExitRow {
                    code: code.to_string(),
                    meaning: meaning.trim().to_string(),
                });
            }
        }
    }
    rows
}

fn exit_status_section(table: &str) -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["EXIT STATUS"]);
    for row in parse_exit_table(table) {
        roff.control("TP", []);
        roff.text([bold(row.code)]);
        roff.text([roman(row.meaning)]);
    }
    roff
}

fn default_of(root: &Command, long: &str) -> Option<String> {
    all_args(root)
        .find(|a| a.get_long() == Some(long))
        .and_then(|a| a.get_default_values().first())
        .map(|v| v.to_string_lossy().into_owned())
}

fn signals_section(root: &Command) -> Roff {
    let grace = match default_of(root, "grace") {
        Some(default) => format!("up to --grace (default {default})"),
        None => "a moment".to_string(),
    };
    let mut roff = Roff::new();
    roff.control("SH", ["SIGNALS"]);
    let mut entry = |names: &[&str], text: String| {
        roff.control("TP", []);
        let mut header = Vec::new();
        for (i, name) in names.iter().enumerate() {
            if i > 0 {
                header.push(roman(", "));
            }
            header.push(bold(*name));
        }
        roff.text(header);
        roff.text([roman(text)]);
    };
    entry(
        &["TERM", "INT"],
        format!(
            "Stop without losing a line. rlog keeps reading its input for {grace}, so the \
             producer's last words are logged, ends a partial last line with a newline, \
             writes, flushes and fsyncs everything, and then dies by the same signal, so a \
             shell sees 143 or 130 and a service manager sees a clean stop. A second signal \
             cuts the wait short; a third stops at once, with a warning that lines may be lost."
        ),
    );
    entry(
        &["HUP"],
        "Flush, fsync and reopen every file at its path, so that after logrotate has moved \
         a file, new lines go to a new file at the old name."
            .to_string(),
    );
    entry(
        &["USR1"],
        "Flush and fsync every file now, then go on: a checkpoint a script can ask for."
            .to_string(),
    );
    entry(
        &["PIPE"],
        "With no --path, a closed standard output (rlog | head) ends rlog quietly with \
         status 141."
            .to_string(),
    );
    entry(
        &["XFSZ"],
        "Ignored: a file that reaches the file size limit is a write error (status 74) \
         that names the file, not a silent death."
            .to_string(),
    );
    if subcommand(root, "run").is_some() {
        roff.control("PP", []);
        roff.text([
            bold("rlog run"),
            roman(" also forwards TERM, INT and HUP to the command it runs; see "),
            bold("rlog-run"),
            roman("(1)."),
        ]);
    }
    roff
}

/// One environment variable that sets an option.
struct EnvVar<'a> {
    name: String,
    arg: &'a Arg,
    /// The subcommand the option belongs to, when it is not global.
    only_in: Option<&'a str>,
}

/// Every `RLOG_*` variable, read from the options' `env` settings, in the order of the
/// options; a global option's variable appears once.
fn env_vars(root: &Command) -> Vec<EnvVar<'_>> {
    let mut vars: Vec<EnvVar<'_>> = Vec::new();
    let commands = std::iter::once((root, None))
        .chain(visible_subcommands(root).map(|s| (s, Some(s.get_name()))));
    for (cmd, only_in) in commands {
        for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
            let Some(name) = arg.get_env() else { continue };
            let name = name.to_string_lossy().into_owned();
            if vars.iter().all(|v| v.name != name) {
                let only_in = only_in.filter(|_| !arg.is_global_set());
                vars.push(EnvVar { name, arg, only_in });
            }
        }
    }
    vars
}

/// "Same as --level LEVEL", saying how the variable's value is read.
fn env_meaning(arg: &Arg, long: &str, only_in: Option<&str>) -> Vec<Inline> {
    let value = arg
        .get_value_names()
        .map(|names| names.join(" "))
        .unwrap_or_else(|| "VALUE".to_string());
    let mut text = vec![roman("Same as "), bold(format!("--{long}"))];
    let is_flag = matches!(arg.get_action(), ArgAction::SetTrue | ArgAction::SetFalse);
    if !is_flag {
        text.push(roman(" "));
        text.push(italic(value));
    }
    if let Some(sub) = only_in {
        text.push(roman(" in "));
        text.push(bold(format!("{BIN} {sub}")));
    }
    match arg.get_action() {
        _ if is_flag => text.extend([
            roman(" when set to "),
            bold("true"),
            roman(", "),
            bold("yes"),
            roman(", "),
            bold("on"),
            roman(" or "),
            bold("1"),
            roman(" (and off with "),
            bold("false"),
            roman(", "),
            bold("no"),
            roman(", "),
            bold("off"),
            roman(" or "),
            bold("0"),
            roman(")"),
        ]),
        ArgAction::Append => match arg.get_value_delimiter() {
            Some(sep) => text.push(roman(format!(", several separated by '{sep}'"))),
            None => text.push(roman(", one value (repeat the option for more)")),
        },
        _ => {}
    }
    text.push(roman(". "));
    if let Some(help) = arg.get_help() {
        let mut help = help.to_string();
        // clap drops the final period of a one-sentence doc comment; prose wants it back.
        if !help.ends_with(['.', '!', '?']) {
            help.push('.');
        }
        text.push(roman(help));
    }
    text
}

fn environment_section(root: &Command) -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["ENVIRONMENT"]);
    roff.text([roman(
        "Each RLOG_ variable stands for an option, for scripts and service files; the \
         option, when given, wins over its variable.",
    )]);
    for var in env_vars(root) {
        let long = var
            .arg
            .get_long()
            .unwrap_or_else(|| var.arg.get_id().as_str());
        roff.control("TP", []);
        roff.text([bold(var.name.as_str())]);
        roff.text(env_meaning(var.arg, long, var.only_in));
    }
    roff.control("TP", []);
    roff.text([bold("TZ")]);
    roff.text([roman(
        "Time zone of %{timestamp}, as an IANA name (Europe/Paris) or a POSIX rule; an \
         unknown one falls back to UTC with a warning. %{timestamputc} ignores it.",
    )]);
    roff.control("TP", []);
    roff.text([bold("NO_COLOR")]);
    roff.text([roman(
        "When set and not empty, console output is not coloured under --color auto.",
    )]);
    roff
}

fn files_section(root: &Command) -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["FILES"]);
    roff.control("TP", []);
    roff.text([italic("PATH"), roman(" (each --path)")]);
    roff.text([roman(
        "Appended to, never truncated or rewritten, so several rlog processes and \
         logrotate's copytruncate can share it. A new file is created with mode 0640 and \
         missing parent directories with mode 0750 (the umask still applies). At exit \
         every file is fsynced, and so is the directory of every file and directory the \
         run created, so that their names survive a crash too.",
    )]);
    if has_option(root, "rotate-size") {
        let mut text = String::from(
            "Archives made by --rotate-size: PATH followed by the UTC time of the rotation, \
             so their names sort in rotation order",
        );
        if has_option(root, "rotate-compress") {
            text.push_str(", gzipped (.gz) with --rotate-compress");
        }
        if has_option(root, "rotate-keep") {
            text.push_str("; --rotate-keep says how many are kept");
        }
        text.push('.');
        roff.control("TP", []);
        roff.text([italic("PATH.TIME")]);
        roff.text([roman(text)]);
    }
    roff.control("PP", []);
    roff.text([roman(
        "rlog reads no configuration file: its settings come from its options and the \
         variables under ENVIRONMENT.",
    )]);
    roff
}

fn examples_section(blocks: &[HelpBlock]) -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["EXAMPLES"]);
    for block in blocks.iter().filter(|b| b.is_examples()) {
        if !block.lead.is_empty() {
            roff.control("PP", []);
            roff.text([roman(block.lead.as_str())]);
        }
        preformatted(&mut roff, &block.lines);
    }
    roff
}

/// Examples too long for `--help`: scheduled tasks, services, logrotate. Each uses
/// `rlog run` once that subcommand exists, and a pipe until then.
fn extra_examples(roff: &mut Roff, root: &Command) {
    let has_run = subcommand(root, "run").is_some();
    let mut example = |caption: &str, lines: &[&str]| {
        roff.control("PP", []);
        roff.text([roman(caption)]);
        preformatted(roff, lines);
    };
    if has_run {
        example(
            "Wrap a task: its standard output and error are logged, each line as it comes, \
             and its exit status becomes rlog's:",
            &["rlog run --path job.log -- ./task.sh"],
        );
    }
    let cron = match has_run {
        true => "0 3 * * * rlog run -p /var/log/backup.log -- /usr/local/bin/backup.sh",
        false => "0 3 * * * /usr/local/bin/backup.sh 2>&1 | rlog -p /var/log/backup.log",
    };
    example(
        "A nightly cron job, its output logged with timestamps (in a crontab, a % in the \
         command must be written \\%):",
        &[cron],
    );
    match has_run {
        true => example(
            "A systemd service whose output rlog logs; with KillMode=mixed only rlog gets \
             the stop signal, and forwards it:",
            &[
                "[Service]",
                "ExecStart=/usr/local/bin/rlog run -p /var/log/app.log -- /usr/local/bin/app",
                "KillMode=mixed",
            ],
        ),
        false => example(
            "A systemd service whose output rlog logs; on stop, both get TERM, and rlog \
             waits for the app's last lines before it syncs and exits:",
            &[
                "[Service]",
                "ExecStart=/bin/sh -c '/usr/local/bin/app 2>&1 | rlog -p /var/log/app.log'",
            ],
        ),
    }
    example(
        "logrotate moves the file and sends HUP, and rlog reopens it (copytruncate works \
         too, since rlog always appends):",
        &[
            "/var/log/app.log {",
            "    weekly",
            "    rotate 8",
            "    compress",
            "    delaycompress",
            "    missingok",
            "    notifempty",
            "    create 0640 root adm",
            "    postrotate",
            "        pkill -HUP -x rlog || true",
            "    endscript",
            "}",
        ],
    );
    if has_option(root, "rotate-size") && has_option(root, "rotate-keep") {
        example(
            "Or let rlog rotate the file itself, between lines:",
            &["long-job | rlog -p job.log --rotate-size 10MiB --rotate-keep 5"],
        );
    }
    example(
        "Ask a running rlog to sync what it has written so far:",
        &["pkill -USR1 -x rlog"],
    );
}

fn see_also_section(pages: &[String]) -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["SEE ALSO"]);
    roff.text([roman(pages.join(", "))]);
    roff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_table_rows_are_parsed_with_continuations() {
        let table = "Exit status:\n  0      fine\n  74     lost lines,\n           counted\n  128+N  signal N\n";
        assert_eq!(
            parse_exit_table(table),
            [
                ExitRow {
                    code: "0".into(),
                    meaning: "fine".into()
                },
                ExitRow {
                    code: "74".into(),
                    meaning: "lost lines, counted".into()
                },
                ExitRow {
                    code: "128+N".into(),
                    meaning: "signal N".into()
                },
            ]
        );
    }

    #[test]
    fn every_code_of_the_exit_table_reaches_the_man_page() {
        let rows = parse_exit_table(exit::TABLE);
        let table_rows = exit::TABLE.lines().skip(1).count();
        assert_eq!(rows.len(), table_rows, "{rows:?}");
        assert!(rows.iter().all(|r| !r.meaning.is_empty()), "{rows:?}");
        let page = String::from_utf8(root_page(&built()).unwrap()).unwrap();
        for row in rows {
            assert!(
                page.contains(&format!(".TP\n\\fB{}\\fR\n", row.code)),
                "code {} missing from rlog.1",
                row.code
            );
        }
    }

    #[test]
    fn prose_with_a_colon_is_a_paragraph_not_a_title() {
        let text =
            "Records (\"started: x\") are logged\nunless --quiet.\n\nSee also: rlog.\nmore prose\n";
        let blocks = parse_help_blocks(text);
        assert_eq!(blocks.len(), 2, "{blocks:?}");
        assert_eq!(blocks[0].title, "Notes");
        assert_eq!(
            blocks[0].lead,
            "Records (\"started: x\") are logged unless --quiet."
        );
        assert_eq!(blocks[1].title, "See also");
        assert_eq!(blocks[1].lead, "rlog. more prose");
    }

    #[test]
    fn help_blocks_split_on_titles_and_blank_lines() {
        let text = "Examples:\n  a\n  b\n\nLevels: X 1, Y 2.\n\nTokens (-f/--format):\n  %{x}  x\nOdd: new block\n";
        let blocks = parse_help_blocks(text);
        let titles: Vec<_> = blocks.iter().map(|b| b.title.as_str()).collect();
        assert_eq!(
            titles,
            ["Examples", "Levels", "Tokens (-f/--format)", "Odd"]
        );
        assert_eq!(blocks[0].lines, ["  a", "  b"]);
        assert_eq!(blocks[1].lead, "X 1, Y 2.");
        let section = blocks[2].section(true).render();
        assert!(
            section.contains(".SH TOKENS\n.PP\nFor \\-f/\\-\\-format.\n"),
            "{section}"
        );
    }

    #[test]
    fn environment_lists_every_variable_of_the_clap_definition() {
        let root = built();
        let page = String::from_utf8(root_page(&root).unwrap()).unwrap();
        let env = page
            .split(".SH ENVIRONMENT")
            .nth(1)
            .and_then(|rest| rest.split("\n.SH ").next())
            .expect("an ENVIRONMENT section");
        let mut count = 0;
        for arg in all_args(&root) {
            if let Some(var) = arg.get_env() {
                let var = var.to_string_lossy();
                assert!(env.contains(&format!("\\fB{var}\\fR")), "{var} missing");
                count += 1;
            }
        }
        assert!(
            count > 5,
            "the clap definition should name RLOG_* variables"
        );
        for var in ["RLOG_PATH", "RLOG_LEVEL", "RLOG_FORMAT", "TZ", "NO_COLOR"] {
            assert!(env.contains(&format!("\\fB{var}\\fR")), "{var} missing");
        }
    }

    #[test]
    fn each_roff_preamble_appears_once_per_page() {
        let preamble = Roff::new().render();
        for output in outputs().unwrap() {
            if output.path.starts_with("man") {
                let text = String::from_utf8(output.bytes).unwrap();
                assert!(text.starts_with(&preamble), "{}", output.path.display());
                assert_eq!(
                    text.matches(&preamble).count(),
                    1,
                    "{}",
                    output.path.display()
                );
            }
        }
    }

    #[test]
    fn hidden_subcommands_get_no_man_page() {
        let paths: Vec<_> = outputs().unwrap().into_iter().map(|o| o.path).collect();
        assert!(paths.contains(&PathBuf::from("man/rlog.1")));
        assert!(paths.contains(&PathBuf::from("man/rlog-write.1")));
        assert!(!paths.contains(&PathBuf::from("man/rlog-generate.1")));
        assert!(!paths.contains(&PathBuf::from("man/rlog-help.1")));
    }

    fn built() -> Command {
        let mut root = Cli::command().disable_help_subcommand(true);
        root.build();
        root
    }
}
