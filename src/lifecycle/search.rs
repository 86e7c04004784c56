//! `search`: versions across all models, with MLflow's filter grammar — `metrics.`, `params.`
//! (hyperparameters), `tags.` and the attributes `name`, `version`, `created_at`, `stage`,
//! `alias`; `= != > >= < <=`, `LIKE`/`ILIKE` with `%` and `_`, `IN (…)`, `AND` — plus `OR` and
//! parentheses, which MLflow does not have. Parse errors give the column in the filter.

use crate::registry::types::Alias;
use crate::registry::{Model, Registry, VersionEntry};
use serde::Serialize;
use std::cmp::Ordering;

/// A filter error, with the 1-based column it is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct FilterError {
    /// 1-based column in the filter string.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    Op(String),
    LParen,
    RParen,
    Comma,
}

fn err<T>(column: usize, message: impl Into<String>) -> Result<T, FilterError> {
    Err(FilterError {
        column,
        message: message.into(),
    })
}

fn lex(s: &str) -> Result<Vec<(Tok, usize)>, FilterError> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        match c {
            ' ' | '\t' | '\n' => i += 1,
            '(' => {
                out.push((Tok::LParen, col));
                i += 1;
            }
            ')' => {
                out.push((Tok::RParen, col));
                i += 1;
            }
            ',' => {
                out.push((Tok::Comma, col));
                i += 1;
            }
            '\'' | '"' => {
                let q = c;
                let mut j = i + 1;
                let mut v = String::new();
                while j < chars.len() && chars[j] != q {
                    v.push(chars[j]);
                    j += 1;
                }
                if j >= chars.len() {
                    return err(col, "unterminated string");
                }
                out.push((Tok::Str(v), col));
                i = j + 1;
            }
            '=' | '!' | '<' | '>' => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                let op = if ["!=", "<=", ">="].contains(&two.as_str()) {
                    two
                } else if c == '!' {
                    return err(col, "expected `!=`");
                } else {
                    c.to_string()
                };
                i += op.len();
                out.push((Tok::Op(op), col));
            }
            '`' => {
                let mut j = i + 1;
                let mut v = String::new();
                while j < chars.len() && chars[j] != '`' {
                    v.push(chars[j]);
                    j += 1;
                }
                if j >= chars.len() {
                    return err(col, "unterminated `quoted name`");
                }
                // A quoted name continues the identifier before it (`metrics.`my metric``).
                match out.last_mut() {
                    Some((Tok::Ident(prev), _)) if prev.ends_with('.') => prev.push_str(&v),
                    _ => out.push((Tok::Ident(v), col)),
                }
                i = j + 1;
            }
            c if c.is_ascii_digit()
                || c == '-'
                || c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()) =>
            {
                let mut j = i + 1;
                while j < chars.len() && (chars[j].is_ascii_digit() || ".eE+-".contains(chars[j])) {
                    j += 1;
                }
                let text: String = chars[i..j].iter().collect();
                match text.parse::<f64>() {
                    Ok(n) => out.push((Tok::Num(n), col)),
                    Err(_) => return err(col, format!("`{text}` is not a number")),
                }
                i = j;
            }
            c if c.is_alphanumeric() || c == '_' => {
                let mut j = i;
                while j < chars.len() && (chars[j].is_alphanumeric() || "_.-".contains(chars[j])) {
                    j += 1;
                }
                out.push((Tok::Ident(chars[i..j].iter().collect()), col));
                i = j;
            }
            other => return err(col, format!("unexpected `{other}`")),
        }
    }
    Ok(out)
}

/// What a comparison is about.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    /// `metrics.x`.
    Metric(String),
    /// `params.x` (hyperparameters).
    Param(String),
    /// `tags.x`.
    Tag(String),
    /// `name`, `version`, `created_at`, `stage` or `alias`.
    Attr(String),
}

/// A literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    /// A number.
    Num(f64),
    /// A string.
    Str(String),
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// field op value.
    Cmp(Field, String, Lit),
    /// field IN (values).
    In(Field, Vec<Lit>),
    /// Both.
    And(Box<Expr>, Box<Expr>),
    /// Either.
    Or(Box<Expr>, Box<Expr>),
}

const ATTRS: &[&str] = &["name", "version", "created_at", "stage", "alias"];

fn field(name: &str, col: usize) -> Result<Field, FilterError> {
    let (prefix, rest) = match name.split_once('.') {
        Some((p, r)) => (p, r),
        None => ("attributes", name),
    };
    let known = [
        "metrics",
        "metric",
        "params",
        "param",
        "tags",
        "tag",
        "attributes",
        "attribute",
    ];
    match prefix {
        "metrics" | "metric" => Ok(Field::Metric(rest.to_string())),
        "params" | "param" => Ok(Field::Param(rest.to_string())),
        "tags" | "tag" => Ok(Field::Tag(rest.to_string())),
        "attributes" | "attribute" if ATTRS.contains(&rest) => Ok(Field::Attr(rest.to_string())),
        "attributes" | "attribute" => err(
            col,
            format!(
                "unknown attribute `{rest}`: expected one of {}",
                ATTRS.join(", ")
            ),
        ),
        other => {
            let hint = crate::yaml::de::did_you_mean(other, known.iter().copied())
                .map(|b| format!(" (did you mean `{b}`?)"))
                .unwrap_or_default();
            err(
                col,
                format!(
                    "unknown prefix `{other}.`{hint}: expected metrics., params., tags. or an attribute"
                ),
            )
        }
    }
}

/// How deeply parentheses may nest. The parser is recursive descent: without a bound, a filter
/// of many `(` would overflow the stack instead of being refused.
pub const MAX_DEPTH: usize = 64;

/// How many comparisons a filter may hold. `a AND b AND c …` builds a left-leaning tree as deep
/// as it is long, which matching and dropping walk recursively; this keeps that depth small.
pub const MAX_TERMS: usize = 1000;

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    end: usize,
    /// Open parentheses around the current position.
    depth: usize,
    /// Comparisons read so far.
    terms: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.0)
    }
    fn col(&self) -> usize {
        self.toks.get(self.pos).map(|t| t.1).unwrap_or(self.end)
    }
    fn keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(s)) if s.eq_ignore_ascii_case(k))
    }
    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut e = self.and()?;
        while self.keyword("OR") {
            self.pos += 1;
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }
    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut e = self.unary()?;
        while self.keyword("AND") {
            self.pos += 1;
            e = Expr::And(Box::new(e), Box::new(self.unary()?));
        }
        Ok(e)
    }
    fn literal(&mut self) -> Result<Lit, FilterError> {
        let col = self.col();
        match self.toks.get(self.pos).map(|t| t.0.clone()) {
            Some(Tok::Num(n)) => {
                self.pos += 1;
                Ok(Lit::Num(n))
            }
            Some(Tok::Str(s)) => {
                self.pos += 1;
                Ok(Lit::Str(s))
            }
            _ => err(col, "expected a number or a 'quoted string'"),
        }
    }
    fn unary(&mut self) -> Result<Expr, FilterError> {
        let col = self.col();
        match self.toks.get(self.pos).map(|t| t.0.clone()) {
            Some(Tok::LParen) => {
                if self.depth >= MAX_DEPTH {
                    return err(
                        col,
                        format!("parentheses nest deeper than {MAX_DEPTH} levels"),
                    );
                }
                self.pos += 1;
                self.depth += 1;
                let e = self.or()?;
                self.depth -= 1;
                if self.peek() != Some(&Tok::RParen) {
                    return err(col, "this parenthesis is never closed");
                }
                self.pos += 1;
                Ok(e)
            }
            Some(Tok::Ident(name)) => {
                self.terms += 1;
                if self.terms > MAX_TERMS {
                    return err(
                        col,
                        format!("a filter holds at most {MAX_TERMS} comparisons"),
                    );
                }
                self.pos += 1;
                let f = field(&name, col)?;
                let op_col = self.col();
                if self.keyword("IN") {
                    self.pos += 1;
                    if self.peek() != Some(&Tok::LParen) {
                        return err(self.col(), "expected `(` after IN");
                    }
                    self.pos += 1;
                    let mut values = vec![self.literal()?];
                    while self.peek() == Some(&Tok::Comma) {
                        self.pos += 1;
                        values.push(self.literal()?);
                    }
                    if self.peek() != Some(&Tok::RParen) {
                        return err(self.col(), "expected `)` to close IN (…)");
                    }
                    self.pos += 1;
                    return Ok(Expr::In(f, values));
                }
                let op = match self.toks.get(self.pos).map(|t| t.0.clone()) {
                    Some(Tok::Op(o)) => o,
                    Some(Tok::Ident(k))
                        if k.eq_ignore_ascii_case("LIKE") || k.eq_ignore_ascii_case("ILIKE") =>
                    {
                        k.to_ascii_uppercase()
                    }
                    _ => return err(op_col, "expected an operator: = != > >= < <= LIKE ILIKE IN"),
                };
                self.pos += 1;
                let lit = self.literal()?;
                let numeric_op = [">", ">=", "<", "<="].contains(&op.as_str());
                let like = op == "LIKE" || op == "ILIKE";
                match (&f, &lit) {
                    (Field::Metric(_), Lit::Str(_)) => {
                        return err(op_col, "a metric compares with a number");
                    }
                    (Field::Metric(_), _) if like => {
                        return err(op_col, "LIKE compares strings; metrics are numbers");
                    }
                    (Field::Tag(_), _)
                    | (Field::Attr(_), Lit::Str(_))
                    | (Field::Param(_), Lit::Str(_))
                        if numeric_op && !matches!(&f, Field::Attr(a) if a == "created_at") =>
                    {
                        return err(
                            op_col,
                            format!(
                                "`{op}` compares numbers; a string can only be compared with =, !=, LIKE, ILIKE or IN"
                            ),
                        );
                    }
                    (_, Lit::Num(_)) if like => {
                        return err(op_col, "LIKE takes a 'pattern' string");
                    }
                    _ => {}
                }
                Ok(Expr::Cmp(f, op, lit))
            }
            Some(Tok::RParen) => err(col, "unbalanced `)`"),
            _ => err(col, "expected a comparison such as metrics.roc_auc > 0.8"),
        }
    }
}

/// Parses a filter (an empty filter matches everything: `None`).
pub fn parse(s: &str) -> Result<Option<Expr>, FilterError> {
    let toks = lex(s)?;
    if toks.is_empty() {
        return Ok(None);
    }
    let mut p = Parser {
        toks,
        pos: 0,
        end: s.chars().count() + 1,
        depth: 0,
        terms: 0,
    };
    let e = p.or()?;
    if p.pos < p.toks.len() {
        let col = p.col();
        return match p.peek() {
            Some(Tok::RParen) => err(col, "unbalanced `)`"),
            _ => err(col, "expected AND or OR"),
        };
    }
    Ok(Some(e))
}

/// SQL LIKE: `%` any run, `_` one character ([`crate::wildcard::matches`]: never exponential).
fn like(pattern: &str, s: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = s.chars().collect();
    crate::wildcard::matches(&p, &s, '%', '_')
}

/// One version as search sees it.
#[derive(Debug, Clone, Serialize)]
pub struct Hit<'a> {
    /// Model.
    pub name: &'a str,
    /// Version.
    pub version: u32,
    /// Lifecycle stage.
    pub stage: &'static str,
    /// Aliases it holds.
    pub aliases: Vec<&'static str>,
    /// created_at as written.
    pub created_at: &'a str,
    /// Metrics.
    pub metrics: std::collections::BTreeMap<&'a str, f64>,
    /// Hyperparameters.
    pub params: &'a std::collections::BTreeMap<String, serde_json::Value>,
    /// Tags.
    pub tags: &'a std::collections::BTreeMap<String, String>,
}

fn hit<'a>(m: &'a Model, v: &'a VersionEntry) -> Hit<'a> {
    let aliases: Vec<&'static str> = [Alias::Champion, Alias::Challenger]
        .into_iter()
        .filter(|a| m.aliases.get(a).is_some_and(|x| x.value == v.number))
        .map(Alias::as_str)
        .collect();
    Hit {
        name: m.name.as_str(),
        version: v.number,
        stage: m.stage_of(v),
        aliases,
        created_at: &v.spec.created_at.raw,
        metrics: v
            .spec
            .metrics
            .iter()
            .map(|(k, x)| (k.as_str(), x.value))
            .collect(),
        params: &v.spec.hyperparameters,
        tags: &v.spec.tags,
    }
}

fn cmp_num(a: f64, op: &str, b: f64) -> bool {
    match op {
        "=" => a == b,
        "!=" => a != b,
        ">" => a > b,
        ">=" => a >= b,
        "<" => a < b,
        "<=" => a <= b,
        _ => false,
    }
}

fn cmp_str(a: &str, op: &str, b: &str) -> bool {
    match op {
        "=" => a == b,
        "!=" => a != b,
        "LIKE" => like(b, a),
        "ILIKE" => like(&b.to_lowercase(), &a.to_lowercase()),
        ">" => a > b,
        ">=" => a >= b,
        "<" => a < b,
        "<=" => a <= b,
        _ => false,
    }
}

/// A field's value for a hit: a number, a string, or several strings (aliases).
fn value(h: &Hit<'_>, f: &Field) -> Vec<Lit> {
    match f {
        Field::Metric(k) => h
            .metrics
            .get(k.as_str())
            .map(|x| vec![Lit::Num(*x)])
            .unwrap_or_default(),
        Field::Param(k) => match h.params.get(k) {
            Some(serde_json::Value::Number(n)) => vec![Lit::Num(n.as_f64().unwrap_or(f64::NAN))],
            Some(serde_json::Value::String(s)) => vec![Lit::Str(s.clone())],
            Some(other) => vec![Lit::Str(other.to_string())],
            None => vec![],
        },
        Field::Tag(k) => h
            .tags
            .get(k)
            .map(|s| vec![Lit::Str(s.clone())])
            .unwrap_or_default(),
        Field::Attr(a) => match a.as_str() {
            "name" => vec![Lit::Str(h.name.to_string())],
            "version" => vec![Lit::Num(f64::from(h.version))],
            "created_at" => vec![Lit::Str(h.created_at.to_string())],
            "stage" => vec![Lit::Str(h.stage.to_string())],
            "alias" => h.aliases.iter().map(|a| Lit::Str(a.to_string())).collect(),
            _ => vec![],
        },
    }
}

fn matches(h: &Hit<'_>, e: &Expr) -> bool {
    match e {
        Expr::And(a, b) => matches(h, a) && matches(h, b),
        Expr::Or(a, b) => matches(h, a) || matches(h, b),
        Expr::In(f, values) => value(h, f).iter().any(|v| values.contains(v)),
        Expr::Cmp(f, op, lit) => value(h, f).iter().any(|v| match (v, lit) {
            (Lit::Num(a), Lit::Num(b)) => cmp_num(*a, op, *b),
            (Lit::Str(a), Lit::Str(b)) => cmp_str(a, op, b),
            (Lit::Str(a), Lit::Num(b)) => a.parse::<f64>().is_ok_and(|a| cmp_num(a, op, *b)),
            (Lit::Num(a), Lit::Str(b)) => b.parse::<f64>().is_ok_and(|b| cmp_num(*a, op, b)),
        }),
    }
}

/// `--order-by 'metrics.roc_auc DESC'`.
#[derive(Debug, Clone)]
pub struct OrderBy {
    field: Field,
    descending: bool,
}

/// Parses one order-by clause.
pub fn parse_order(s: &str) -> Result<OrderBy, FilterError> {
    // Each word with its 1-based column (in characters, as filter errors count).
    let mut parts = s.split_whitespace().map(|w| {
        let at = w.as_ptr() as usize - s.as_ptr() as usize;
        (s[..at].chars().count() + 1, w)
    });
    let (name_col, name) = parts.next().ok_or(FilterError {
        column: 1,
        message: "expected a field to order by".into(),
    })?;
    let descending = match parts.next() {
        None => false,
        Some((_, d)) if d.eq_ignore_ascii_case("ASC") => false,
        Some((_, d)) if d.eq_ignore_ascii_case("DESC") => true,
        Some((col, d)) => return err(col, format!("`{d}`: expected ASC or DESC")),
    };
    if let Some((col, extra)) = parts.next() {
        return err(
            col,
            format!("`{extra}`: expected nothing after ASC or DESC"),
        );
    }
    Ok(OrderBy {
        field: field(name, name_col)?,
        descending,
    })
}

fn order_key(h: &Hit<'_>, f: &Field) -> Option<Lit> {
    value(h, f).into_iter().next()
}

/// Finds versions; ordered by the clauses (missing values last), then by model and version.
pub fn search<'a>(
    reg: &'a Registry,
    filter: Option<&Expr>,
    order: &[OrderBy],
    max: usize,
) -> Vec<Hit<'a>> {
    search_hits(
        reg.models
            .values()
            .flat_map(|m| m.versions.values().map(move |v| hit(m, v))),
        filter,
        order,
        max,
    )
}

/// Filters, orders and truncates versions however they were loaded (the registry, or the
/// search index of [`super::index`]).
pub fn search_hits<'a>(
    all: impl Iterator<Item = Hit<'a>>,
    filter: Option<&Expr>,
    order: &[OrderBy],
    max: usize,
) -> Vec<Hit<'a>> {
    let mut hits: Vec<Hit<'a>> = all
        .filter(|h| filter.is_none_or(|e| matches(h, e)))
        .collect();
    hits.sort_by(|a, b| {
        for o in order {
            let (x, y) = (order_key(a, &o.field), order_key(b, &o.field));
            let c = match (&x, &y) {
                (None, None) => Ordering::Equal,
                (None, _) => Ordering::Greater,
                (_, None) => Ordering::Less,
                (Some(Lit::Num(p)), Some(Lit::Num(q))) => {
                    let c = p.total_cmp(q);
                    if o.descending { c.reverse() } else { c }
                }
                (Some(Lit::Str(p)), Some(Lit::Str(q))) => {
                    let c = p.cmp(q);
                    if o.descending { c.reverse() } else { c }
                }
                _ => Ordering::Equal,
            };
            if c != Ordering::Equal {
                return c;
            }
        }
        a.name.cmp(b.name).then(b.version.cmp(&a.version))
    });
    hits.truncate(max);
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar() {
        let e =
            parse("metrics.roc_auc > 0.8 AND (tags.status = 'x' OR name LIKE 'heart%')").unwrap();
        assert!(matches!(e, Some(Expr::And(..))));
        assert!(parse("").unwrap().is_none());
        assert!(parse("version IN (1, 2, 3)").is_ok());
        assert!(parse("metrics.`my metric` >= 1").is_ok());
    }

    #[test]
    fn errors_point_at_the_column() {
        let e = parse("(metrics.roc_auc > 0.8").unwrap_err();
        assert_eq!(e.column, 1);
        assert!(e.message.contains("never closed"));
        let e = parse("metrics.a > 1)").unwrap_err();
        assert_eq!(e.column, 14);
        let e = parse("metrcs.a > 1").unwrap_err();
        assert!(
            e.message.contains("did you mean `metrics`"),
            "{}",
            e.message
        );
        let e = parse("tags.status > 'a'").unwrap_err();
        assert_eq!(e.column, 13);
        assert!(parse("metrics.a = 'x'").is_err());
    }

    #[test]
    fn like_patterns() {
        assert!(like("heart%", "heart_disease"));
        assert!(like("h_art%", "heart"));
        assert!(!like("heart", "heart_disease"));
    }
}
