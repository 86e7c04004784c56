//! The append-only, hash-chained audit log (`registry/audit.jsonl`).
//!
//! One JSON object a line. Each entry's `prev` is the sha256 (hex) of the bytes of the line
//! before it, without its newline; the first entry's `prev` is 64 zeros. Editing, removing or
//! reordering a line therefore breaks the chain at the next line. An edit of the very last line
//! cannot be seen from the log alone; `check` catches it, because a pull request's base log must
//! be a byte prefix of its head log.

use crate::diag::{Code, Diagnostic};
use crate::registry::types::{Alias, Sha256, Timestamp};
use crate::yaml::Span;
use serde::{Deserialize, Serialize};

/// Where the log lives in a registry repository.
pub const AUDIT_PATH: &str = "registry/audit.jsonl";

/// The `prev` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// A version was registered.
    Register,
    /// An alias moved to a version.
    Promote,
    /// An alias was removed.
    Demote,
    /// An approval was signed.
    Approve,
    /// A version was archived.
    Archive,
    /// A version's artifact was deleted.
    Delete,
    /// A drift job ran.
    Drift,
}

impl Action {
    /// As written in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Register => "register",
            Action::Promote => "promote",
            Action::Demote => "demote",
            Action::Approve => "approve",
            Action::Archive => "archive",
            Action::Delete => "delete",
            Action::Drift => "drift",
        }
    }
}

/// One line of the log. Field order is the serialized key order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// 1, 2, 3, … without gaps.
    pub seq: u64,
    /// When.
    pub at: Timestamp,
    /// Who.
    pub actor: String,
    /// What.
    pub action: Action,
    /// Which model, if any.
    #[serde(default)]
    pub model: Option<String>,
    /// Which version, if any.
    #[serde(default)]
    pub version: Option<u32>,
    /// Which alias, if any.
    #[serde(default)]
    pub alias: Option<String>,
    /// Action-specific details.
    #[serde(default)]
    pub details: serde_json::Map<String, serde_json::Value>,
    /// sha256 of the previous line (64 zeros for the first entry).
    #[schemars(regex(pattern = "^[0-9a-f]{64}$"))]
    pub prev: String,
}

/// One line of the log as read: its number, its digest and the entry if it parsed.
#[derive(Clone, Debug)]
pub struct Line {
    /// 1-based line number.
    pub number: u32,
    /// Where the line is in the text (without its newline).
    pub span: Span,
    /// sha256 of the line's bytes without the newline.
    pub digest: Sha256,
    /// The entry, when the line is a valid one.
    pub entry: Option<Entry>,
}

/// The log as read, with the problems found while parsing it.
#[derive(Clone, Debug, Default)]
pub struct Log {
    /// Every line.
    pub lines: Vec<Line>,
}

impl Log {
    /// Parses the log's text. Parse problems become diagnostics; the chain is checked by
    /// [`Log::verify`].
    pub fn parse(text: &str, diags: &mut Vec<Diagnostic>) -> Log {
        let mut lines = Vec::new();
        let mut offset = 0;
        for (i, raw) in text.split_inclusive('\n').enumerate() {
            let number = i as u32 + 1;
            let content = raw.strip_suffix('\n').unwrap_or(raw);
            let line_span = Span::line(number, offset, content);
            offset += raw.len();
            let digest = Sha256::of(content.as_bytes());
            let entry = if content.trim().is_empty() {
                diags.push(
                    Diagnostic::error(Code::AuditMalformed, format!("line {number} is empty"))
                        .in_file(AUDIT_PATH)
                        .at(line_span)
                        .hint("the audit log has one JSON object on every line"),
                );
                None
            } else {
                match serde_json::from_str::<Entry>(content) {
                    Ok(e) => Some(e),
                    Err(e) => {
                        let span = error_span(line_span, content, e.column());
                        diags.push(
                            Diagnostic::error(
                                Code::AuditMalformed,
                                format!("line {number} is not a valid audit entry: {e}"),
                            )
                            .in_file(AUDIT_PATH)
                            .at(span),
                        );
                        None
                    }
                }
            };
            lines.push(Line {
                number,
                span: line_span,
                digest,
                entry,
            });
        }
        Log { lines }
    }

    /// Checks that `seq` counts 1, 2, 3, … and that every `prev` is the digest of the line
    /// before.
    pub fn verify(&self, text: &str) -> Vec<Diagnostic> {
        let mut diags = Vec::new();
        for (i, line) in self.lines.iter().enumerate() {
            let Some(entry) = &line.entry else { continue };
            let span = line.span;
            let seq_span = field_span(text, span, "seq");
            let prev_span = field_span(text, span, "prev");
            let expected_seq = i as u64 + 1;
            if entry.seq != expected_seq {
                diags.push(
                    Diagnostic::error(
                        Code::AuditSeq,
                        format!(
                            "line {} has seq {}, expected {expected_seq}",
                            line.number, entry.seq
                        ),
                    )
                    .in_file(AUDIT_PATH)
                    .at(seq_span)
                    .hint("entries were removed, inserted or reordered; the log only grows"),
                );
            }
            let expected_prev = match i {
                0 => GENESIS.to_string(),
                _ => self.lines[i - 1].digest.hex(),
            };
            if entry.prev != expected_prev {
                let message = if i == 0 {
                    "the first entry's prev must be 64 zeros".to_string()
                } else {
                    format!(
                        "line {}: prev is not the sha256 of line {}: that line was edited, or lines were removed or reordered",
                        line.number,
                        line.number - 1
                    )
                };
                diags.push(
                    Diagnostic::error(Code::AuditChainBroken, message)
                        .in_file(AUDIT_PATH)
                        .at(prev_span)
                        .hint(format!("expected prev {expected_prev}")),
                );
            }
        }
        diags
    }

    /// The entries that parsed.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.lines.iter().filter_map(|l| l.entry.as_ref())
    }

    /// The `seq` and `prev` that the next appended entry must carry.
    pub fn next_link(&self) -> (u64, String) {
        match self.lines.last() {
            None => (1, GENESIS.to_string()),
            Some(l) => (self.lines.len() as u64 + 1, l.digest.hex()),
        }
    }
}

/// Where in a line serde_json's error is: it counts columns in bytes (1-based), spans count
/// characters, and the offset must stay on a character boundary inside the line.
fn error_span(line: Span, content: &str, byte_column: usize) -> Span {
    let mut at = byte_column.saturating_sub(1).min(content.len());
    while !content.is_char_boundary(at) {
        at -= 1;
    }
    let mut span = line;
    span.start.offset += at;
    span.start.column += content[..at].chars().count() as u32;
    span
}

/// The span of `"key":value` inside a line's span (the whole line when it is not found).
fn field_span(text: &str, line: Span, key: &str) -> Span {
    let content = &text[line.start.offset..line.end.offset];
    let needle = format!("\"{key}\":");
    let Some(at) = content.find(&needle) else {
        return line;
    };
    let rest = &content[at..];
    let len = rest.find([',', '}']).unwrap_or(rest.len());
    let mut span = line;
    span.start.offset += at;
    span.start.column += content[..at].chars().count() as u32;
    span.end.offset = span.start.offset + len;
    span.end.column = span.start.column + rest[..len].chars().count() as u32;
    span
}

/// An entry as the line that is appended to the log (with its newline).
pub fn to_line(entry: &Entry) -> String {
    // An Entry holds only strings, numbers and maps: serializing it cannot fail.
    let mut s = serde_json::to_string(entry).unwrap_or_default();
    s.push('\n');
    s
}

/// An entry to append, built by every command that writes the log: everything but its link
/// (`seq`, `prev`), which [`append`] fills in from the log it is chained onto.
///
/// `NewEntry::new(Action::Promote, actor, at).version(model, 4).alias(Alias::Champion)
/// .details(json!({"from": 3, "to": 4}))`.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEntry {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub actor: String,
    /// What.
    pub action: Action,
    /// Which model, if any.
    pub model: Option<String>,
    /// Which version, if any.
    pub version: Option<u32>,
    /// Which alias, if any.
    pub alias: Option<String>,
    /// Action-specific details.
    pub details: serde_json::Map<String, serde_json::Value>,
}

impl NewEntry {
    /// `action` by `actor` at `at`, about no model, with no details.
    pub fn new(action: Action, actor: &str, at: &Timestamp) -> Self {
        NewEntry {
            at: at.clone(),
            actor: actor.to_string(),
            action,
            model: None,
            version: None,
            alias: None,
            details: serde_json::Map::new(),
        }
    }

    /// About `model`.
    pub fn model(mut self, model: &str) -> Self {
        self.model = Some(model.to_string());
        self
    }

    /// About version `version` of `model`.
    pub fn version(self, model: &str, version: u32) -> Self {
        let mut e = self.model(model);
        e.version = Some(version);
        e
    }

    /// Naming an alias.
    pub fn alias(mut self, alias: Alias) -> Self {
        self.alias = Some(alias.as_str().to_string());
        self
    }

    /// With these details: a JSON object (anything else records none).
    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = match details {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        self
    }

    /// The entry at `seq`, after the line whose digest is `prev`.
    pub fn link(self, seq: u64, prev: String) -> Entry {
        Entry {
            seq,
            at: self.at,
            actor: self.actor,
            action: self.action,
            model: self.model,
            version: self.version,
            alias: self.alias,
            details: self.details,
            prev,
        }
    }
}

/// Chains `entries` onto the log `log` read from `text`; returns the log's new text (`text`,
/// with a final newline if it lacked one, then one line an entry).
pub fn append(log: &Log, text: &str, entries: impl IntoIterator<Item = NewEntry>) -> String {
    let mut text = text.to_string();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    let (mut seq, mut prev) = log.next_link();
    for e in entries {
        let line = to_line(&e.link(seq, prev));
        prev = Sha256::of(line.trim_end_matches('\n').as_bytes()).hex();
        seq += 1;
        text.push_str(&line);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64, prev: &str) -> Entry {
        Entry {
            seq,
            at: "2024-01-15T10:00:00Z".parse().unwrap(),
            actor: "alice@example.com".into(),
            action: Action::Register,
            model: Some("m".into()),
            version: Some(seq as u32),
            alias: None,
            details: Default::default(),
            prev: prev.into(),
        }
    }

    fn chain(n: u64) -> String {
        let mut text = String::new();
        let mut prev = GENESIS.to_string();
        for i in 1..=n {
            let line = to_line(&entry(i, &prev));
            prev = Sha256::of(line.trim_end_matches('\n').as_bytes()).hex();
            text.push_str(&line);
        }
        text
    }

    fn problems(text: &str) -> Vec<Code> {
        let mut d = Vec::new();
        let log = Log::parse(text, &mut d);
        d.extend(log.verify(text));
        d.into_iter().map(|d| d.code).collect()
    }

    #[test]
    fn a_good_chain_verifies() {
        assert!(problems(&chain(5)).is_empty());
    }

    #[test]
    fn appended_entries_chain_onto_the_log() {
        let at: Timestamp = "2024-01-15T10:00:00Z".parse().unwrap();
        // The built entry is the one a hand-written Entry would be.
        let built = NewEntry::new(Action::Register, "alice@example.com", &at)
            .version("m", 3)
            .link(3, "p".into());
        assert_eq!(built, entry(3, "p"));
        // Onto a log whose last line lacks its newline: a newline first, then chained lines.
        let old = chain(2);
        let unterminated = old.trim_end_matches('\n');
        let mut d = Vec::new();
        let log = Log::parse(unterminated, &mut d);
        let text = append(
            &log,
            unterminated,
            [
                NewEntry::new(Action::Promote, "bob@example.com", &at)
                    .version("m", 2)
                    .alias(Alias::Champion)
                    .details(serde_json::json!({"from": 1, "to": 2})),
                NewEntry::new(Action::Demote, "bob@example.com", &at)
                    .model("m")
                    .details(serde_json::json!("not an object")),
            ],
        );
        assert!(text.starts_with(&old), "{text}");
        assert!(problems(&text).is_empty(), "{text}");
        let log = Log::parse(&text, &mut d);
        let last: Vec<&Entry> = log.entries().skip(2).collect();
        assert_eq!((last[0].seq, last[1].seq), (3, 4));
        assert_eq!(last[0].alias.as_deref(), Some("champion"));
        assert_eq!(last[0].details["to"], 2);
        assert_eq!((last[1].version, last[1].details.len()), (None, 0));
        // Onto an empty log: from genesis.
        let first = append(
            &Log::default(),
            "",
            [NewEntry::new(Action::Drift, "job", &at)],
        );
        assert!(
            first.contains(&format!("\"prev\":\"{GENESIS}\"")),
            "{first}"
        );
    }

    #[test]
    fn edits_removals_and_reorders_break_it() {
        let text = chain(4);
        let lines: Vec<&str> = text.lines().collect();
        let edited = text.replacen("alice", "mallory", 2);
        assert!(problems(&edited).contains(&Code::AuditChainBroken));
        let removed = format!("{}\n{}\n{}\n", lines[0], lines[2], lines[3]);
        let p = problems(&removed);
        assert!(p.contains(&Code::AuditChainBroken) && p.contains(&Code::AuditSeq));
        let swapped = format!("{}\n{}\n{}\n{}\n", lines[0], lines[2], lines[1], lines[3]);
        assert!(problems(&swapped).contains(&Code::AuditChainBroken));
    }

    #[test]
    fn keys_are_written_in_contract_order() {
        let line = to_line(&entry(1, GENESIS));
        assert!(line.starts_with("{\"seq\":1,\"at\":\"2024-01-15T10:00:00Z\",\"actor\""));
        assert!(line.ends_with(&format!("\"prev\":\"{GENESIS}\"}}\n")));
    }
}
