//! Unit tests of the command line: every command takes `--format`, and every example in
//! `--help` parses.

/// Every command takes `--format` (clap's "use `-- --format`" tip misled users), except those
/// whose output is itself a file format.
#[test]
fn every_command_takes_format() {
    use clap::CommandFactory;
    // a shell completion script and a man page are formats of their own; the demo is a tour
    const NO_FORMAT: &[&str] = &["completions", "man", "demo", "help"];
    fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        let subs: Vec<_> = cmd.get_subcommands().collect();
        if subs.is_empty() {
            if !cmd.get_arguments().any(|a| a.get_id() == "format") {
                missing.push(path.to_string());
            }
            return;
        }
        for s in subs {
            if !NO_FORMAT.contains(&s.get_name()) {
                walk(s, &format!("{path} {}", s.get_name()), missing);
            }
        }
    }
    let mut missing = Vec::new();
    let mut cli = crate::cli::Cli::command();
    cli.build(); // propagates the global `--format` of `site`, `import`, … to their subcommands
    walk(&cli, "modelgate", &mut missing);
    assert!(missing.is_empty(), "without --format: {missing:?}");
}

/// Words of a shell command line: quotes respected, nothing expanded.
fn shell_words(line: &str) -> Vec<String> {
    let (mut words, mut cur, mut quote, mut any) = (Vec::new(), String::new(), None, false);
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            (None, c) => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// Every command's `--help` ends with examples, and every example is a command line that parses
/// (a renamed flag cannot leave a stale example behind).
#[test]
fn every_command_has_examples_that_parse() {
    use clap::{CommandFactory, Parser};
    let cli = crate::cli::Cli::command();
    let mut checked = 0;
    for sub in cli.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = sub.get_name();
        let help = sub
            .get_after_help()
            .map(|h| h.to_string())
            .unwrap_or_default();
        assert!(
            help.starts_with("EXAMPLES:\n  modelgate "),
            "`{name}` has no examples"
        );
        let joined = help.replace("\\\n", " ");
        for line in joined.lines().map(str::trim) {
            let Some(rest) = line.strip_prefix("modelgate ") else {
                continue;
            };
            // up to a comment, a pipe, a redirection or the next command
            let cmd = rest
                .split(" #")
                .next()
                .unwrap()
                .split(" | ")
                .next()
                .unwrap()
                .split(" && ")
                .next()
                .unwrap()
                .split(" > ")
                .next()
                .unwrap();
            let mut argv = vec!["modelgate".to_string()];
            argv.extend(shell_words(cmd));
            if let Err(e) = crate::cli::Cli::try_parse_from(&argv) {
                panic!("the example `{line}` of `{name}` does not parse: {e}");
            }
            checked += 1;
        }
    }
    assert!(checked > 40, "{checked}");
}
