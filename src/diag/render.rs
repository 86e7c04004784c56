//! Renderers: the same diagnostics as terminal text, JSON, Markdown or GitHub annotations.
//!
//! The JSON form is a contract (documented in `docs/diagnostics.md`): an array of objects with
//! `code`, `name`, `severity`, `file`, `line`, `column`, `end_line`, `end_column`, `message`
//! and `hint`, in the order of [`Report`].

use super::{Diagnostic, Report, Severity};
use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term;
use serde::Serialize;
use std::collections::BTreeMap;

/// Output formats shared by every reporting command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable text with source excerpts.
    Text,
    /// A stable JSON document.
    Json,
    /// Markdown, for pull-request comments and job summaries.
    Markdown,
    /// GitHub Actions workflow commands (`::error file=…`).
    Github,
}

/// The JSON shape of one diagnostic.
#[derive(Serialize)]
pub struct JsonDiagnostic<'a> {
    /// Stable code, `MG006`.
    pub code: &'static str,
    /// Kebab-case name of the code, `unknown-key`.
    pub name: &'static str,
    /// `error`, `warning` or `note`.
    pub severity: Severity,
    /// Repository-relative path, or null.
    pub file: Option<&'a str>,
    /// 1-based line, or null.
    pub line: Option<u32>,
    /// 1-based column (characters), or null.
    pub column: Option<u32>,
    /// 1-based line where the span ends, or null.
    pub end_line: Option<u32>,
    /// 1-based column where the span ends (exclusive), or null.
    pub end_column: Option<u32>,
    /// What is wrong.
    pub message: &'a str,
    /// What to do, or null.
    pub hint: Option<&'a str>,
}

impl<'a> From<&'a Diagnostic> for JsonDiagnostic<'a> {
    fn from(d: &'a Diagnostic) -> Self {
        JsonDiagnostic {
            code: d.code.as_str(),
            name: d.code.slug(),
            severity: d.severity,
            file: d.file.as_deref(),
            line: d.span.map(|s| s.start.line),
            column: d.span.map(|s| s.start.column),
            end_line: d.span.map(|s| s.end.line),
            end_column: d.span.map(|s| s.end.column),
            message: &d.message,
            hint: d.hint.as_deref(),
        }
    }
}

/// The report as the JSON array of the contract.
pub fn json(report: &Report) -> String {
    let items: Vec<JsonDiagnostic<'_>> = report.diagnostics.iter().map(Into::into).collect();
    // Serializing plain data into a String cannot fail.
    serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".into())
}

/// Human-readable text: each diagnostic with the source line and a caret under the value,
/// like rustc. `source` returns the text of a repository file when it can be read.
pub fn text(report: &Report, source: &dyn Fn(&str) -> Option<String>, color: bool) -> String {
    let mut files = SimpleFiles::new();
    let mut ids: BTreeMap<&str, Option<usize>> = BTreeMap::new();
    let config = term::Config::default();
    let mut out = String::new();
    for d in &report.diagnostics {
        let mut diag = cs::Diagnostic::new(match d.severity {
            Severity::Error => cs::Severity::Error,
            Severity::Warning => cs::Severity::Warning,
            Severity::Note => cs::Severity::Note,
        })
        .with_code(d.code.as_str())
        .with_message(&d.message);
        let file_id = match &d.file {
            Some(f) => *ids
                .entry(f.as_str())
                .or_insert_with(|| source(f).map(|t| files.add(f.clone(), t))),
            None => None,
        };
        let mut notes = Vec::new();
        match (file_id, d.span, &d.file) {
            (Some(id), Some(span), _) => {
                let len = files.get(id).map(|f| f.source().len()).unwrap_or(0);
                let start = span.start.offset.min(len);
                let mut end = span.end.offset.clamp(start, len);
                if end == start && start < len {
                    end = start + 1;
                }
                diag = diag.with_labels(vec![cs::Label::primary(id, start..end)]);
            }
            (_, Some(span), Some(f)) => {
                notes.push(format!("at {f}:{}:{}", span.start.line, span.start.column))
            }
            (_, None, Some(f)) => notes.push(format!("in {f}")),
            _ => {}
        }
        if let Some(h) = &d.hint {
            notes.push(format!("hint: {h}"));
        }
        diag = diag.with_notes(notes);
        if color {
            let mut buf = term::termcolor::Buffer::ansi();
            if term::emit_to_write_style(&mut buf, &config, &files, &diag).is_ok() {
                out.push_str(&String::from_utf8_lossy(buf.as_slice()));
                continue;
            }
        }
        match term::emit_into_string(&config, &files, &diag) {
            Ok(s) => out.push_str(&s),
            Err(_) => {
                out.push_str(&format!(
                    "{}[{}]: {}\n  --> {}\n",
                    d.severity,
                    d.code,
                    d.message,
                    d.location()
                ));
            }
        }
    }
    out
}

/// A count with its noun, singular for one: `1 model`, `3 models`, `0 errors`. For the nouns
/// modelgate counts, which all take an `s`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// One line a count: `2 errors, 1 warning`.
pub fn summary(report: &Report) -> String {
    let e = report.count(Severity::Error);
    let w = report.count(Severity::Warning);
    format!("{}, {}", count(e, "error"), count(w, "warning"))
}

/// Escapes the message part of a GitHub workflow command.
fn gh_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value of a GitHub workflow command.
fn gh_prop(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub Actions annotations: `::error file=…,line=…,col=…,title=MG006 unknown-key::message`.
pub fn github(report: &Report) -> String {
    let mut out = String::new();
    for d in &report.diagnostics {
        let level = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let mut props = Vec::new();
        if let Some(f) = &d.file {
            props.push(format!("file={}", gh_prop(f)));
        }
        if let Some(s) = d.span {
            props.push(format!("line={}", s.start.line));
            props.push(format!("col={}", s.start.column));
            if s.end.line >= s.start.line {
                props.push(format!("endLine={}", s.end.line));
            }
        }
        props.push(format!(
            "title={}",
            gh_prop(&format!("{} {}", d.code, d.code.slug()))
        ));
        let mut msg = d.message.clone();
        if let Some(h) = &d.hint {
            msg.push_str(&format!("\nhint: {h}"));
        }
        out.push_str(&format!(
            "::{level} {}::{}\n",
            props.join(","),
            gh_data(&msg)
        ));
    }
    out
}

/// Escapes text for a Markdown table cell.
pub fn md_cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\n', "<br>")
}

/// A Markdown table of the diagnostics, for job summaries and pull-request comments.
pub fn markdown(report: &Report, title: &str) -> String {
    let mut out = format!("### {title}\n\n");
    if report.diagnostics.is_empty() {
        out.push_str("✅ No problems found.\n");
        return out;
    }
    out.push_str(&format!("{}\n\n", summary(report)));
    out.push_str("| | Code | Location | Problem |\n|---|---|---|---|\n");
    for d in &report.diagnostics {
        let icon = match d.severity {
            Severity::Error => "❌",
            Severity::Warning => "⚠️",
            Severity::Note => "ℹ️",
        };
        let mut problem = md_cell(&d.message);
        if let Some(h) = &d.hint {
            problem.push_str(&format!("<br>*{}*", md_cell(h)));
        }
        out.push_str(&format!(
            "| {icon} | `{}` | `{}` | {problem} |\n",
            d.code,
            md_cell(&d.location()),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Code;
    use crate::yaml::Span;

    fn report() -> Report {
        Report::new(vec![
            Diagnostic::error(Code::UnknownKey, "unknown key `nmae`")
                .in_file("registry/models/a/model.yaml")
                .at(Span::of_line("name: a\nnmae: b\n", 2))
                .hint("did you mean `name`?"),
        ])
    }

    #[test]
    fn text_shows_the_source_line() {
        let t = text(&report(), &|_| Some("name: a\nnmae: b\n".into()), false);
        assert!(t.contains("error[MG006]: unknown key `nmae`"), "{t}");
        assert!(t.contains("registry/models/a/model.yaml:2:1"), "{t}");
        assert!(t.contains("nmae: b"), "{t}");
        assert!(t.contains("hint: did you mean `name`?"), "{t}");
    }

    #[test]
    fn github_escapes_properties_and_data() {
        let g = github(&report());
        assert_eq!(
            g,
            "::error file=registry/models/a/model.yaml,line=2,col=1,endLine=2,title=MG006 unknown-key::unknown key `nmae`%0Ahint: did you mean `name`?\n"
        );
    }

    #[test]
    fn json_is_an_array_with_positions() {
        let v: serde_json::Value = serde_json::from_str(&json(&report())).unwrap();
        assert_eq!(v[0]["code"], "MG006");
        assert_eq!(v[0]["line"], 2);
        assert_eq!(v[0]["name"], "unknown-key");
    }
}
