//! Validated value types: a [`ModelName`] that is safe to build paths from, a [`Sha256`] that
//! is 32 bytes, an [`Alias`] that is one of the aliases modelgate knows, a [`Timestamp`] that
//! keeps the text it was written as (approvals sign that text).

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// A model name: `^[a-z][a-z0-9_]{0,63}$`. Checked before any path is built from it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ModelName(String);

/// Why a model name was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "`{0}` is not a valid model name: expected a lowercase letter followed by up to 63 lowercase letters, digits or underscores"
)]
pub struct InvalidModelName(pub String);

impl ModelName {
    /// Validates a name.
    pub fn new(name: &str) -> Result<Self, InvalidModelName> {
        let b = name.as_bytes();
        let ok = !b.is_empty()
            && b.len() <= 64
            && b[0].is_ascii_lowercase()
            && b[1..]
                .iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_');
        if ok {
            Ok(ModelName(name.to_string()))
        } else {
            Err(InvalidModelName(name.to_string()))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ModelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ModelName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ModelName::new(&s).map_err(serde::de::Error::custom)
    }
}

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sha256(pub [u8; 32]);

impl Sha256 {
    /// Lowercase hex.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The digest of some bytes.
    pub fn of(bytes: &[u8]) -> Self {
        use sha2::Digest;
        Sha256(sha2::Sha256::digest(bytes).into())
    }

    /// The digest of a folder (an MLflow model folder, say): the sha256 of the lines
    /// `<sha256 hex>  <path>\n` of its files, sorted by path (bytes, `/`-separated, relative to
    /// the folder) — exactly what `sha256sum` prints, so
    /// `find . -type f -printf '%P\n' | LC_ALL=C sort | xargs -d '\n' sha256sum | sha256sum`
    /// in the folder gives the same digest. `files` are (relative path, file digest); their order
    /// does not matter. docs/format.md documents it.
    ///
    /// A path holding a control character (a line break above all) or a backslash is refused
    /// ([`OddName`]): with a line break in a name, two different folders could print the same
    /// listing (a file named `a\n<sha256>  b` beside nothing else lists like the two files `a`
    /// and `b`), and `sha256sum` escapes such names, so the listing would no longer be its.
    pub fn of_tree(files: &[(String, Sha256)]) -> Result<Self, OddName> {
        let mut sorted: Vec<&(String, Sha256)> = files.iter().collect();
        sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        let mut listing = String::new();
        for (path, sha) in sorted {
            if !listable(path) {
                return Err(OddName(path.clone()));
            }
            listing.push_str(&sha.hex());
            listing.push_str("  ");
            listing.push_str(path);
            listing.push('\n');
        }
        Ok(Sha256::of(listing.as_bytes()))
    }
}

/// Whether a file name (or path) can stand in a folder digest's listing: no control character
/// (line breaks, tabs, …) and no backslash. See [`Sha256::of_tree`].
fn listable(name: &str) -> bool {
    !name.chars().any(|c| c.is_control() || c == '\\')
}

/// A path in a folder that a folder digest cannot list unambiguously (see [`Sha256::of_tree`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "the file {} has a name with a line break, another control character or a backslash, which a folder digest cannot list unambiguously; rename it",
    .0.escape_debug()
)]
pub struct OddName(pub String);

impl fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256({})", self.hex())
    }
}

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

impl FromStr for Sha256 {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut out = [0u8; 32];
        if s.len() != 64 || hex::decode_to_slice(s, &mut out).is_err() {
            return Err(format!(
                "`{s}` is not a sha256: expected 64 hexadecimal digits"
            ));
        }
        Ok(Sha256(out))
    }
}

impl Serialize for Sha256 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.hex())
    }
}

impl<'de> Deserialize<'de> for Sha256 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The aliases a version can hold. Gates are defined per alias.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Alias {
    /// The version in production.
    Champion,
    /// The version being evaluated to replace it.
    Challenger,
}

impl Alias {
    /// The alias as written in YAML.
    pub fn as_str(self) -> &'static str {
        match self {
            Alias::Champion => "champion",
            Alias::Challenger => "challenger",
        }
    }
}

impl fmt::Display for Alias {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Alias {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "champion" => Ok(Alias::Champion),
            "challenger" => Ok(Alias::Challenger),
            _ => Err(format!(
                "unknown alias `{s}`: expected `champion` or `challenger`"
            )),
        }
    }
}

// The one drift severity: monitoring decides it (`monitor::drift::severity`) and stores it in
// `monitoring/<date>.yaml`; the drift gate, the drift job's exit code, the GitHub issues and the
// site compare it through its order. (The doc line below is the JSON Schema's description.)
/// Drift severity, in rising order.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// No drift worth acting on.
    None,
    /// Open an issue.
    Issue,
    /// Alert, and block promotions.
    Alert,
    /// Retrain.
    Retrain,
}

impl Severity {
    /// Parses `none|issue|alert|retrain`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "none" => Severity::None,
            "issue" => Severity::Issue,
            "alert" => Severity::Alert,
            "retrain" => Severity::Retrain,
            _ => return None,
        })
    }

    /// As written.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::None => "none",
            Severity::Issue => "issue",
            Severity::Alert => "alert",
            Severity::Retrain => "retrain",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An RFC 3339 timestamp that remembers how it was written, because signed statements sign the
/// text, not the instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timestamp {
    /// The text as written.
    pub raw: String,
    /// The instant, in UTC.
    pub at: chrono::DateTime<chrono::Utc>,
}

impl Timestamp {
    /// The timestamp of an instant, written as `2024-01-15T10:00:00Z`.
    pub fn from_utc(at: chrono::DateTime<chrono::Utc>) -> Self {
        Timestamp {
            raw: at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            at,
        }
    }
}

impl FromStr for Timestamp {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| Timestamp {
                raw: s.to_string(),
                at: t.with_timezone(&chrono::Utc),
            })
            .map_err(|e| {
                format!("`{s}` is not an RFC 3339 timestamp like 2024-01-15T10:00:00Z ({e})")
            })
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.raw)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A git commit id: 40 hexadecimal digits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct CommitId(pub String);

impl<'de> Deserialize<'de> for CommitId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(CommitId(s.to_ascii_lowercase()))
        } else {
            Err(serde::de::Error::custom(format!(
                "`{s}` is not a git commit id: expected 40 hexadecimal digits"
            )))
        }
    }
}

/// The pattern a [`ModelName`] matches.
pub const MODEL_NAME_PATTERN: &str = "^[a-z][a-z0-9_]{0,63}$";

/// A string schema with a pattern and a description.
fn pattern_schema(pattern: &str, description: &str) -> Schema {
    json_schema!({"type": "string", "pattern": pattern, "description": description})
}

impl JsonSchema for ModelName {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "ModelName".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        pattern_schema(
            MODEL_NAME_PATTERN,
            "A model name: a lowercase letter followed by up to 63 lowercase letters, digits or underscores.",
        )
    }
}

impl JsonSchema for Sha256 {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "Sha256".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        pattern_schema(
            "^[0-9a-fA-F]{64}$",
            "A SHA-256 digest: 64 hexadecimal digits.",
        )
    }
}

impl JsonSchema for CommitId {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "CommitId".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        pattern_schema(
            "^[0-9a-fA-F]{40}$",
            "A git commit id: 40 hexadecimal digits.",
        )
    }
}

/// An enumeration of names (not `oneOf`), so that a map keyed by aliases gets one property per
/// alias and no others.
impl JsonSchema for Alias {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "Alias".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "enum": [Alias::Champion.as_str(), Alias::Challenger.as_str()],
            "description": "An alias: `champion` (the version in production) or `challenger` (the version being evaluated to replace it).",
        })
    }
}

impl JsonSchema for Timestamp {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "Timestamp".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "format": "date-time",
            "description": "An RFC 3339 timestamp, e.g. 2024-01-15T10:00:00Z (kept as written: signatures cover the text).",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names() {
        assert!(ModelName::new("heart_disease").is_ok());
        assert!(ModelName::new("a").is_ok());
        for bad in [
            "",
            "../etc",
            "Heart Disease",
            "1abc",
            "a-b",
            "a/b",
            &"a".repeat(65),
        ] {
            assert!(ModelName::new(bad).is_err(), "{bad}");
        }
        assert!(ModelName::new(&"a".repeat(64)).is_ok());
    }

    #[test]
    fn sha256_parse() {
        let h = "ab".repeat(32);
        assert_eq!(h.parse::<Sha256>().unwrap().hex(), h);
        assert!("abc".parse::<Sha256>().is_err());
        assert!("zz".repeat(32).parse::<Sha256>().is_err());
    }

    #[test]
    fn timestamps_keep_their_text() {
        let t: Timestamp = "2024-06-01T12:00:00+02:00".parse().unwrap();
        assert_eq!(t.raw, "2024-06-01T12:00:00+02:00");
        assert_eq!(t.at.to_rfc3339(), "2024-06-01T10:00:00+00:00");
        assert!("yesterday".parse::<Timestamp>().is_err());
    }

    #[test]
    fn severities_are_ordered_and_written_as_words() {
        use Severity::*;
        assert!(None < Issue && Issue < Alert && Alert < Retrain);
        for (s, word) in [
            (None, "none"),
            (Issue, "issue"),
            (Alert, "alert"),
            (Retrain, "retrain"),
        ] {
            assert_eq!(Severity::parse(word), Some(s));
            assert_eq!(s.to_string(), word);
            assert_eq!(serde_json::to_value(s).unwrap(), word);
            assert_eq!(serde_json::from_value::<Severity>(word.into()).unwrap(), s);
        }
        assert_eq!(Severity::parse("high"), Option::None);
        assert!(serde_json::from_value::<Severity>("ok".into()).is_err());
    }
}
