//! YAML with positions.
//!
//! Registry files are YAML written by people, so every problem in them must be reported at the
//! line and column of the offending value. No maintained serde YAML crate keeps value spans, so
//! this module builds a small node tree from `saphyr-parser` events (which do carry spans) and
//! deserializes typed structs from that tree with its own serde `Deserializer` (`de.rs`), whose
//! errors carry the span of the node they are about.
//!
//! The subset accepted is deliberately small and safe: one document per file, scalar keys, no
//! anchors or aliases (no "billion laughs"), no custom tags, no duplicate keys. Scalars resolve
//! with the YAML 1.2 core schema.

pub mod de;
pub mod write;

pub use de::{Spanned, from_node};

use saphyr_parser::{Event, Parser, ScalarStyle};
use std::fmt;

/// A position in a source text: 1-based line and column (in characters), and a byte offset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// 1-based line number.
    pub line: u32,
    /// 1-based column, counted in characters.
    pub column: u32,
    /// Byte offset into the source.
    pub offset: usize,
}

/// A range in a source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    /// Inclusive start.
    pub start: Pos,
    /// Exclusive end.
    pub end: Pos,
}

impl Span {
    /// The span of the first character of a text: where file-level problems point.
    pub fn file_start() -> Span {
        let p = Pos {
            line: 1,
            column: 1,
            offset: 0,
        };
        Span { start: p, end: p }
    }

    /// A span covering one line (1-based) of `text`, used for line-oriented formats.
    pub fn of_line(text: &str, line: u32) -> Span {
        let mut offset = 0;
        for (i, l) in text.split_inclusive('\n').enumerate() {
            if i + 1 == line as usize {
                return Span::line(line, offset, l.trim_end_matches(['\n', '\r']));
            }
            offset += l.len();
        }
        Span::line(line, offset, "")
    }

    /// The span of line `line` (1-based) whose `content` (without its newline) starts at byte
    /// `offset`.
    pub fn line(line: u32, offset: usize, content: &str) -> Span {
        Span {
            start: Pos {
                line,
                column: 1,
                offset,
            },
            end: Pos {
                line,
                column: content.chars().count() as u32 + 1,
                offset: offset + content.len(),
            },
        }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.start.line, self.start.column)
    }
}

/// How a scalar was written: plain scalars are resolved (null, bool, int, float, string),
/// quoted and block scalars are always strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Unquoted.
    Plain,
    /// Single- or double-quoted, literal or folded.
    Quoted,
}

/// A YAML node with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// What the node holds.
    pub kind: NodeKind,
    /// Where it is in the source.
    pub span: Span,
}

/// The three kinds of YAML node.
#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    /// A scalar: its text exactly as parsed, and how it was written.
    Scalar(String, Style),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in source order. Keys are unique (checked at parse time).
    Map(Vec<(Node, Node)>),
}

/// What a plain scalar means under the YAML 1.2 core schema.
#[derive(Clone, Debug, PartialEq)]
pub enum Resolved<'a> {
    /// `~`, `null`, or nothing.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer that fits in i64.
    Int(i64),
    /// A float, including `.inf` and `.nan`.
    Float(f64),
    /// Anything else.
    Str(&'a str),
}

impl Node {
    /// Resolves a scalar with the core schema; `None` for sequences and mappings.
    pub fn resolve(&self) -> Option<Resolved<'_>> {
        match &self.kind {
            NodeKind::Scalar(s, Style::Quoted) => Some(Resolved::Str(s)),
            NodeKind::Scalar(s, Style::Plain) => Some(resolve_plain(s)),
            _ => None,
        }
    }

    /// The key node and value of `key` when this node is a mapping.
    fn entry(&self, key: &str) -> Option<&(Node, Node)> {
        match &self.kind {
            NodeKind::Map(entries) => entries
                .iter()
                .find(|(k, _)| matches!(&k.kind, NodeKind::Scalar(s, _) if s == key)),
            _ => None,
        }
    }

    /// The value under `key` when this node is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key node of `key` when this node is a mapping (for "this key is wrong" spans).
    pub fn key_node(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(k, _)| k)
    }

    /// A short name of the node's kind for error messages: "a mapping", "the integer 4", ….
    pub fn describe(&self) -> String {
        match &self.kind {
            NodeKind::Map(_) => "a mapping".into(),
            NodeKind::Seq(_) => "a sequence".into(),
            NodeKind::Scalar(..) => match self.resolve() {
                Some(Resolved::Null) => "null".into(),
                Some(Resolved::Bool(b)) => format!("the boolean `{b}`"),
                Some(Resolved::Int(i)) => format!("the integer `{i}`"),
                Some(Resolved::Float(f)) => format!("the number `{f}`"),
                Some(Resolved::Str(s)) => format!("the string \"{}\"", ellipsize(s, 40)),
                None => "a scalar".into(),
            },
        }
    }
}

fn ellipsize(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max).collect();
        out.push('…');
        out
    }
}

/// What a plain scalar's text means under the YAML 1.2 core schema (the writer's
/// [`write::plain_ok`] asks this too, so that reader and writer never disagree).
pub fn resolve_plain(s: &str) -> Resolved<'_> {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "true" | "True" | "TRUE" => return Resolved::Bool(true),
        "false" | "False" | "FALSE" => return Resolved::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        _ => {}
    }
    if is_int(s) {
        if let Ok(i) = s.parse::<i64>() {
            return Resolved::Int(i);
        }
    }
    // Core schema: `0x[0-9a-fA-F]+`, `0o[0-7]+` (from_str_radix alone would take a sign too).
    if let Some(hex) = s.strip_prefix("0x") {
        if hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            if let Ok(i) = i64::from_str_radix(hex, 16) {
                return Resolved::Int(i);
            }
        }
    }
    if let Some(oct) = s.strip_prefix("0o") {
        if oct.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
            if let Ok(i) = i64::from_str_radix(oct, 8) {
                return Resolved::Int(i);
            }
        }
    }
    if is_float(s) {
        if let Ok(f) = s.parse::<f64>() {
            return Resolved::Float(f);
        }
    }
    Resolved::Str(s)
}

fn is_int(s: &str) -> bool {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// `[-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?`
fn is_float(s: &str) -> bool {
    let b = s.strip_prefix(['-', '+']).unwrap_or(s).as_bytes();
    let mut i = 0;
    let int_digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        frac_digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        i += frac_digits;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        let exp = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if exp == 0 {
            return false;
        }
        i += exp;
    }
    i == b.len()
}

/// Why a text is not acceptable YAML for the registry.
#[derive(Clone, Debug, PartialEq)]
pub struct ParseError {
    /// What is wrong, in words.
    pub message: String,
    /// Where.
    pub span: Span,
    /// A suggestion, when there is one.
    pub hint: Option<String>,
    /// True when the error is a duplicated mapping key (reported under its own code).
    pub duplicate_key: bool,
}

/// Maps the parser's character indices to positions. Lines and columns are computed here from
/// the index rather than taken from saphyr-parser's markers, whose line and column disagree
/// with their index in places: at the end of a text without a final newline (the line after
/// the last one), after a byte-order mark inside the text (not counted), and at some errors.
struct Offsets<'a> {
    text: &'a str,
    /// Byte offset of every char, present only for non-ASCII text.
    table: Option<Vec<usize>>,
    /// The char index at which each line starts. Lines break at `\n`, `\r\n` and a lone `\r`
    /// (YAML's line breaks); a byte-order mark at the start of the text takes no column.
    lines: Vec<usize>,
    /// The number of chars.
    chars: usize,
}

impl<'a> Offsets<'a> {
    fn new(text: &'a str) -> Self {
        let table: Option<Vec<usize>> = if text.is_ascii() {
            None
        } else {
            Some(text.char_indices().map(|(b, _)| b).collect())
        };
        let mut lines = vec![usize::from(text.starts_with('\u{feff}'))];
        let mut chars = 0;
        let mut it = text.chars().peekable();
        while let Some(c) = it.next() {
            chars += 1;
            if c == '\n' || (c == '\r' && it.peek() != Some(&'\n')) {
                lines.push(chars);
            }
        }
        Offsets {
            text,
            table,
            lines,
            chars,
        }
    }

    fn pos(&self, m: &saphyr_parser::Marker) -> Pos {
        let index = m.index().min(self.chars);
        let offset = match &self.table {
            None => index,
            Some(t) => t.get(index).copied().unwrap_or(self.text.len()),
        };
        // The last line that starts at or before the index (the first always does).
        let line = self.lines.partition_point(|&start| start <= index).max(1);
        let start = self.lines[line - 1];
        Pos {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(index.saturating_sub(start) + 1).unwrap_or(u32::MAX),
            offset,
        }
    }

    fn span(&self, s: &saphyr_parser::Span) -> Span {
        Span {
            start: self.pos(&s.start),
            end: self.pos(&s.end),
        }
    }
}

/// How deeply sequences and mappings may nest in a registry file. Real files nest a handful of
/// levels. Without a bound a file of many `- ` lines would build a tree as deep as the file is
/// long, and the recursive walks over it (deserializing, comparing, dropping) would overflow the
/// stack. saphyr-parser itself stops flow collections (`[`, `{`) at 255 levels.
pub const MAX_DEPTH: usize = 128;

/// Parses one YAML document into a node tree. An empty text is a null scalar.
pub fn parse(text: &str) -> Result<Node, ParseError> {
    let offsets = Offsets::new(text);
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Node> = None;
    let mut documents = 0;
    loop {
        let (event, span) = match parser.next() {
            None => break,
            Some(Ok(ev)) => ev,
            Some(Err(e)) => {
                let p = offsets.pos(e.marker());
                let span = Span { start: p, end: p };
                // saphyr-parser's own bound on `[` and `{` (255 levels), which its scanner can
                // reach before we see the events: the same error as ours.
                if e.info() == "recursion limit exceeded" {
                    return Err(too_deep(span));
                }
                return Err(ParseError {
                    message: format!("invalid YAML: {}", e.info()),
                    span,
                    hint: None,
                    duplicate_key: false,
                });
            }
        };
        let span = offsets.span(&span);
        let is_map = matches!(event, Event::MappingStart(..));
        let node = match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing | Event::DocumentEnd => {
                continue;
            }
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(ParseError {
                        message: "a registry file holds one YAML document, found a second one"
                            .into(),
                        span,
                        hint: Some("remove the `---` separator and what follows it".into()),
                        duplicate_key: false,
                    });
                }
                continue;
            }
            Event::Alias(_) => {
                return Err(unsupported(span, "YAML aliases (`*name`)"));
            }
            Event::Scalar(value, style, anchor, tag) => {
                if anchor != 0 {
                    return Err(unsupported(span, "YAML anchors (`&name`)"));
                }
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    _ => Style::Quoted,
                };
                let style = match tag {
                    None => style,
                    Some(t) if t.handle == "tag:yaml.org,2002:" || t.handle == "!!" => {
                        if t.suffix == "str" {
                            Style::Quoted
                        } else {
                            style
                        }
                    }
                    Some(_) => return Err(unsupported(span, "custom YAML tags (`!tag`)")),
                };
                Node {
                    kind: NodeKind::Scalar(value.into_owned(), style),
                    span,
                }
            }
            Event::SequenceStart(anchor, tag) | Event::MappingStart(anchor, tag) => {
                if anchor != 0 {
                    return Err(unsupported(span, "YAML anchors (`&name`)"));
                }
                if let Some(t) = tag {
                    if !(t.handle == "!!" || t.handle == "tag:yaml.org,2002:") {
                        return Err(unsupported(span, "custom YAML tags (`!tag`)"));
                    }
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(too_deep(span));
                }
                stack.push(Frame {
                    start: span,
                    items: Vec::new(),
                    is_map,
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = stack.pop() else {
                    continue;
                };
                let span = Span {
                    start: frame.start.start,
                    end: span.end,
                };
                if frame.is_map {
                    check_keys(&frame.items)?;
                    let mut entries: Vec<(Node, Node)> = Vec::with_capacity(frame.items.len() / 2);
                    let mut it = frame.items.into_iter();
                    while let (Some(k), Some(v)) = (it.next(), it.next()) {
                        entries.push((k, v));
                    }
                    Node {
                        kind: NodeKind::Map(entries),
                        span,
                    }
                } else {
                    Node {
                        kind: NodeKind::Seq(frame.items),
                        span,
                    }
                }
            }
        };
        match stack.last_mut() {
            Some(frame) => frame.items.push(node),
            None => root = Some(node),
        }
    }
    Ok(root.unwrap_or(Node {
        kind: NodeKind::Scalar(String::new(), Style::Plain),
        span: Span::file_start(),
    }))
}

/// Checks the keys of a mapping (`items` alternates key, value): scalars, each once. A hash set,
/// not a scan of the keys before each one: a 1 MiB file of short keys is some 100,000 keys, and
/// a quadratic check of those takes minutes. Keys compare by their text whatever their quoting
/// (`a` and `"a"` are the same key), as the deserializer reads them.
fn check_keys(items: &[Node]) -> Result<(), ParseError> {
    let mut seen: std::collections::HashMap<&str, &Node> =
        std::collections::HashMap::with_capacity(items.len() / 2);
    for k in items.iter().step_by(2) {
        let NodeKind::Scalar(name, _) = &k.kind else {
            return Err(ParseError {
                message: format!("mapping keys must be plain text, found {}", k.describe()),
                span: k.span,
                hint: None,
                duplicate_key: false,
            });
        };
        if let Some(first) = seen.insert(name, k) {
            return Err(ParseError {
                message: format!("duplicate key `{name}`"),
                span: k.span,
                hint: Some(format!(
                    "`{name}` is already set at line {}; keep one of the two",
                    first.span.start.line
                )),
                duplicate_key: true,
            });
        }
    }
    Ok(())
}

fn too_deep(span: Span) -> ParseError {
    ParseError {
        message: format!("sequences and mappings nest deeper than {MAX_DEPTH} levels here"),
        span,
        hint: Some("registry files nest a few levels: flatten this value".into()),
        duplicate_key: false,
    }
}

fn unsupported(span: Span, what: &str) -> ParseError {
    ParseError {
        message: format!("{what} are not supported in registry files"),
        span,
        hint: Some("write the value out in full".into()),
        duplicate_key: false,
    }
}

struct Frame {
    start: Span,
    items: Vec<Node>,
    is_map: bool,
}
