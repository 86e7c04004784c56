//! The model card: complete before a version becomes champion. Complete means every section of
//! the registry's template (`model-cards/TEMPLATE.md`, else the built-in one) is present, and
//! none is empty, still holds the template's placeholder text, or leaves a `{{…}}` unfilled.
//! `validate` warns about an incomplete card; a champion promotion blocks on it and a challenger
//! promotion warns.

use super::{GateResult, Status};
use crate::diag::{Code, Diagnostic};
use crate::registry::types::Alias;

/// What a complete card holds: the template's sections and the prompts to replace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    /// The level-2 headings of the template, as written.
    pub sections: Vec<String>,
    /// The template's paragraphs under those headings (whitespace collapsed): text that
    /// prompts the author and must not survive into a card.
    pub placeholders: Vec<String>,
}

impl Template {
    /// The template's sections and prompts.
    pub fn parse(text: &str) -> Template {
        let mut t = Template {
            sections: Vec::new(),
            placeholders: Vec::new(),
        };
        for s in sections(text) {
            if s.level == 2 {
                t.sections.push(s.title.clone());
                t.placeholders
                    .extend(paragraphs(&s.body).filter(|p| !p.contains("{{")));
            }
        }
        t
    }

    /// The template `modelgate new` writes when a registry has none.
    pub fn builtin() -> Template {
        Template::parse(crate::scaffold::MODEL_CARD)
    }

    /// The template of the registry in `source`: its `model-cards/TEMPLATE.md` when it has one
    /// that names sections, else the built-in one.
    pub fn of(source: &dyn crate::registry::source::Source) -> Template {
        let text = source
            .read(crate::scaffold::CARD_TEMPLATE_PATH, 1 << 20)
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        Template::from_registry(text.as_deref())
    }

    /// The registry's template text when it has one (and it names sections), else the
    /// built-in one.
    pub fn from_registry(text: Option<&str>) -> Template {
        text.map(Template::parse)
            .filter(|t| !t.sections.is_empty())
            .unwrap_or_else(Template::builtin)
    }
}

/// One problem of a card: the 1-based line it is about and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    /// The line (1 for a missing section).
    pub line: usize,
    /// What is wrong, in words.
    pub message: String,
}

/// A heading and the lines under it, up to the next heading of the same or a higher level.
struct Section {
    level: usize,
    title: String,
    line: usize,
    body: Vec<String>,
}

/// The ATX headings of a Markdown text (outside fenced code) with their bodies.
fn sections(text: &str) -> Vec<Section> {
    let mut out: Vec<Section> = Vec::new();
    let mut fence: Option<&str> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if let Some(f) = fence {
            if trimmed.starts_with(f) {
                fence = None;
            }
        } else if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fence = Some(&trimmed[..3]);
        } else if let Some((level, title)) = heading(line) {
            out.push(Section {
                level,
                title,
                line: i + 1,
                body: Vec::new(),
            });
            continue;
        }
        // a line belongs to every open section whose level is above the next heading's
        let mut lowest = usize::MAX;
        for s in out.iter_mut().rev() {
            if s.level < lowest {
                s.body.push(line.to_string());
                lowest = s.level;
            }
        }
    }
    out
}

/// `## Intended use` → (2, "Intended use"); at most three leading spaces, as CommonMark says.
fn heading(line: &str) -> Option<(usize, String)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = &line[indent..];
    let level = rest.bytes().take_while(|&b| b == b'#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    let title = &rest[level..];
    if !(title.is_empty() || title.starts_with([' ', '\t'])) {
        return None;
    }
    let title = title.trim().trim_end_matches('#').trim();
    Some((level, title.to_string()))
}

/// The paragraphs of some lines, whitespace collapsed.
fn paragraphs(lines: &[String]) -> impl Iterator<Item = String> + '_ {
    lines
        .split(|l| l.trim().is_empty())
        .map(|p| p.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" "))
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
}

/// Headings compare without case and extra spaces.
fn same_title(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    norm(a) == norm(b)
}

/// What keeps `card` from being complete under `template`; empty when it is complete.
pub fn gaps(card: &str, template: &Template) -> Vec<Gap> {
    let found = sections(card);
    let mut gaps = Vec::new();
    for want in &template.sections {
        let Some(s) = found.iter().find(|s| same_title(&s.title, want)) else {
            gaps.push(Gap {
                line: 1,
                message: format!("the section `## {want}` is missing"),
            });
            continue;
        };
        let paras: Vec<String> = paragraphs(&s.body).collect();
        if paras.is_empty() {
            gaps.push(Gap {
                line: s.line,
                message: format!("the section `{}` is empty", s.title),
            });
        } else if let Some(p) = template
            .placeholders
            .iter()
            .find(|p| paras.iter().any(|q| q.contains(p.as_str())))
        {
            let shown: String = p.chars().take(60).collect();
            let more = if shown.len() < p.len() { "…" } else { "" };
            gaps.push(Gap {
                line: s.line,
                message: format!(
                    "the section `{}` still holds the template's text \"{shown}{more}\"",
                    s.title
                ),
            });
        }
    }
    for (i, line) in card.lines().enumerate() {
        if let Some(at) = line.find("{{") {
            if line[at..].contains("}}") {
                gaps.push(Gap {
                    line: i + 1,
                    message: format!("`{}` was never filled in", line.trim()),
                });
            }
        }
    }
    gaps.sort_by_key(|g| g.line);
    gaps
}

/// The gaps as diagnostics of `file`, with the given severity.
pub fn diagnostics(file: &str, card: &str, gaps: &[Gap], error: bool) -> Vec<Diagnostic> {
    gaps.iter()
        .map(|g| {
            let msg = format!("the model card is incomplete: {}", g.message);
            let d = if error {
                Diagnostic::error(Code::IncompleteModelCard, msg)
            } else {
                Diagnostic::warning(Code::IncompleteModelCard, msg)
            };
            d.in_file(file)
                .at(crate::yaml::Span::of_line(card, g.line as u32))
                .hint("write every section of the template in your own words (a champion's card must be complete)")
        })
        .collect()
}

/// The card gate of a promotion to `alias`: blocks a champion whose card is missing or
/// incomplete, warns for a challenger.
pub fn check(alias: Alias, card: Option<super::bias::Card<'_>>, template: &Template) -> GateResult {
    const NAME: &str = "card";
    let blocks = alias == Alias::Champion;
    let Some(card) = card else {
        // MG022 (no model card) already fails validation; say it here too
        return GateResult {
            gate: NAME,
            status: if blocks { Status::Block } else { Status::Warn },
            detail: "no model card".into(),
            diagnostics: Vec::new(),
        };
    };
    let gaps = gaps(card.text, template);
    if gaps.is_empty() {
        return GateResult {
            gate: NAME,
            status: Status::Pass,
            detail: format!(
                "{} complete ({} sections)",
                card.file,
                template.sections.len()
            ),
            diagnostics: Vec::new(),
        };
    }
    GateResult {
        gate: NAME,
        status: if blocks { Status::Block } else { Status::Warn },
        detail: format!(
            "{} is incomplete ({} of {} sections to write)",
            card.file,
            gaps.len(),
            template.sections.len()
        ),
        diagnostics: diagnostics(card.file, card.text, &gaps, blocks),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled() -> String {
        let t = Template::builtin();
        let mut s = String::from("# churn\n\nWhat churn predicts.\n");
        for (i, sec) in t.sections.iter().enumerate() {
            s.push_str(&format!("\n## {sec}\nOur own words, number {i}.\n"));
        }
        s
    }

    #[test]
    fn the_template_itself_is_incomplete_everywhere() {
        let t = Template::builtin();
        assert_eq!(t.sections.len(), 9);
        let card = crate::scaffold::fill(crate::scaffold::MODEL_CARD, &[("model", "churn")]);
        let g = gaps(&card, &t);
        assert_eq!(g.len(), 9, "{g:?}");
        assert!(
            g[0].message
                .contains("`Model details` still holds the template's text")
        );
        assert_eq!(g[0].line, 3);
    }

    #[test]
    fn a_filled_card_is_complete_and_each_gap_is_named() {
        let t = Template::builtin();
        assert!(gaps(&filled(), &t).is_empty());
        // a missing section, an empty one, a kept prompt, an unfilled placeholder
        let card = filled()
            .replace("## Factors\nOur own words, number 2.\n", "")
            .replace("Our own words, number 0.", "")
            .replace(
                "Our own words, number 1.",
                "Ours. The decisions this model supports, the people who use its output, and uses that are out of scope.",
            )
            .replace("# churn", "# {{model}}");
        let g = gaps(&card, &t);
        let msgs: Vec<&str> = g.iter().map(|g| g.message.as_str()).collect();
        assert_eq!(g.len(), 4, "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("`## Factors` is missing")));
        assert!(msgs.iter().any(|m| m.contains("`Model details` is empty")));
        assert!(
            msgs.iter()
                .any(|m| m.contains("`Intended use` still holds"))
        );
        assert!(
            msgs.iter()
                .any(|m| m.contains("`# {{model}}` was never filled in"))
        );
    }

    #[test]
    fn headings_in_code_and_subsections_count_right() {
        let t = Template::parse("## A\nprompt a\n\n## B\nprompt b\n");
        // a heading inside fenced code is not a section; a subsection's text fills its section
        let card = "## A\n```\n## B\n```\n\n### detail\nwritten\n";
        let g = gaps(card, &t);
        assert_eq!(g.len(), 1, "{g:?}");
        assert!(g[0].message.contains("`## B` is missing"));
        assert!(gaps("##A\n## a \ntext\n## B ##\ntext\n", &t).is_empty());
    }

    #[test]
    fn a_registry_template_without_sections_falls_back_to_the_builtin() {
        assert_eq!(
            Template::from_registry(Some("just text")),
            Template::builtin()
        );
        let own = Template::from_registry(Some("## Purpose\nWhy.\n"));
        assert_eq!(own.sections, vec!["Purpose".to_string()]);
    }
}
