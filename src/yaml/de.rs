//! A serde `Deserializer` over [`Node`] whose errors point at the node they are about.
//!
//! Every `deserialize_*` method stamps the span of its node on an error that has none yet, so the
//! innermost node wins: an unknown key points at the key, a wrong type at the value, a missing
//! key at the mapping that lacks it. [`Spanned`] lets a typed struct keep the span of a field for
//! diagnostics found later (an alias that names a missing version, say).

use super::{Node, NodeKind, Resolved, Span};
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What went wrong while turning a node into a typed value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// A key the schema does not know.
    UnknownKey,
    /// A key the schema requires is absent.
    MissingKey,
    /// The value has the wrong type.
    WrongType,
    /// The value has the right type but is not acceptable.
    InvalidValue,
}

/// A deserialization error with the span of the node it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// The kind, which selects the diagnostic code.
    pub kind: ErrorKind,
    /// What is wrong.
    pub message: String,
    /// A suggestion (did you mean …?).
    pub hint: Option<String>,
    /// Where; `None` only until the enclosing node stamps it.
    pub span: Option<Span>,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl Error {
    fn new(kind: ErrorKind, message: String) -> Self {
        Error {
            kind,
            message,
            hint: None,
            span: None,
        }
    }
}

/// The closest of `candidates` to `word`, if it is close enough to be a plausible typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

fn one_of(expected: &[&str]) -> String {
    match expected.len() {
        0 => "no keys are allowed here".to_string(),
        _ => format!(
            "expected one of {}",
            expected
                .iter()
                .map(|e| format!("`{e}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::new(ErrorKind::InvalidValue, msg.to_string())
    }

    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Error::new(
            ErrorKind::WrongType,
            format!(
                "wrong type: expected {}, found {}",
                expected_in_words(&exp.to_string()),
                unexpected(&unexp)
            ),
        )
    }

    fn invalid_value(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Error::new(
            ErrorKind::InvalidValue,
            format!(
                "invalid value {}: expected {}",
                unexpected(&unexp),
                expected_in_words(&exp.to_string())
            ),
        )
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        let mut e = Error::new(ErrorKind::UnknownKey, format!("unknown key `{field}`"));
        e.hint = Some(match did_you_mean(field, expected.iter().copied()) {
            Some(best) => format!("did you mean `{best}`?"),
            None => one_of(expected),
        });
        e
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        let mut e = Error::new(
            ErrorKind::InvalidValue,
            format!("unknown value `{variant}`"),
        );
        e.hint = Some(match did_you_mean(variant, expected.iter().copied()) {
            Some(best) => format!("did you mean `{best}`?"),
            None => one_of(expected),
        });
        e
    }

    fn missing_field(field: &'static str) -> Self {
        Error::new(
            ErrorKind::MissingKey,
            format!("missing required key `{field}`"),
        )
    }

    fn duplicate_field(field: &'static str) -> Self {
        Error::new(ErrorKind::InvalidValue, format!("duplicate key `{field}`"))
    }
}

fn unexpected(u: &de::Unexpected<'_>) -> String {
    match u {
        de::Unexpected::Unit => "null".into(),
        de::Unexpected::Map => "a mapping".into(),
        de::Unexpected::Seq => "a sequence".into(),
        other => other.to_string(),
    }
}

/// What serde expected, in a user's words: Rust's `u32` is "a whole number from 0 to
/// 4294967295", not a type name.
fn expected_in_words(exp: &str) -> String {
    match exp {
        "u8" => "a whole number from 0 to 255".into(),
        "u16" => "a whole number from 0 to 65535".into(),
        "u32" => "a whole number from 0 to 4294967295".into(),
        "u64" | "usize" | "u128" => "a whole number, 0 or more".into(),
        "i8" | "i16" | "i32" | "i64" | "isize" | "i128" => "a whole number".into(),
        "f32" | "f64" => "a number".into(),
        "a boolean" | "bool" => "true or false".into(),
        "char" => "a single character".into(),
        other => other.to_string(),
    }
}

/// Deserializes a typed value from a node.
pub fn from_node<T: DeserializeOwned>(node: &Node) -> Result<T, Error> {
    T::deserialize(NodeDe { node })
}

/// Deserializes a typed value, reporting every unknown key, not just the first: after an
/// unknown key the value is tried again without it (at most 64 times), so one run names all
/// the typos. A missing key that an unknown key's did-you-mean already names is not repeated.
pub fn from_node_all<T: DeserializeOwned>(node: &Node) -> Result<T, Vec<Error>> {
    let first = match from_node::<T>(node) {
        Ok(v) => return Ok(v),
        Err(e) => e,
    };
    let mut errors = Vec::new();
    let mut node = node.clone();
    let mut next = Some(first);
    while let Some(e) = next.take() {
        let retry = e.kind == ErrorKind::UnknownKey
            && errors.len() < 64
            && e.span.is_some_and(|s| remove_key(&mut node, s));
        let named = e.kind == ErrorKind::MissingKey
            && errors.iter().any(|p: &Error| {
                p.kind == ErrorKind::UnknownKey
                    && p.hint
                        .as_deref()
                        .zip(e.message.rsplit('`').nth(1))
                        .is_some_and(|(h, key)| h == format!("did you mean `{key}`?"))
            });
        if !named {
            errors.push(e);
        }
        if retry {
            next = from_node::<T>(&node).err();
        }
    }
    Err(errors)
}

/// Removes the mapping entry whose key is at `span`; whether one was found.
fn remove_key(node: &mut Node, span: Span) -> bool {
    match &mut node.kind {
        NodeKind::Map(entries) => {
            if let Some(i) = entries.iter().position(|(k, _)| k.span == span) {
                entries.remove(i);
                return true;
            }
            entries.iter_mut().any(|(_, v)| remove_key(v, span))
        }
        NodeKind::Seq(items) => items.iter_mut().any(|v| remove_key(v, span)),
        NodeKind::Scalar(..) => false,
    }
}

/// Stamps `span` on an error that has none yet.
fn at<T>(r: Result<T, Error>, span: Span) -> Result<T, Error> {
    r.map_err(|mut e| {
        if e.span.is_none() {
            e.span = Some(span);
        }
        e
    })
}

struct NodeDe<'a> {
    node: &'a Node,
}

impl<'a> NodeDe<'a> {
    fn unexpected(&self) -> de::Unexpected<'a> {
        match self.node.resolve() {
            None => match self.node.kind {
                NodeKind::Seq(_) => de::Unexpected::Seq,
                _ => de::Unexpected::Map,
            },
            Some(Resolved::Null) => de::Unexpected::Unit,
            Some(Resolved::Bool(b)) => de::Unexpected::Bool(b),
            Some(Resolved::Int(i)) => de::Unexpected::Signed(i),
            Some(Resolved::Float(f)) => de::Unexpected::Float(f),
            Some(Resolved::Str(s)) => de::Unexpected::Str(s),
        }
    }

    fn wrong<T>(&self, exp: &dyn de::Expected) -> Result<T, Error> {
        Err(de::Error::invalid_type(self.unexpected(), exp))
    }
}

macro_rules! deserialize_int {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            let span = self.node.span;
            at(match self.node.resolve() {
                Some(Resolved::Int(i)) => visitor.visit_i64(i),
                _ => self.wrong(&visitor),
            }, span)
        }
    )*};
}

impl<'de, 'a> de::Deserializer<'de> for NodeDe<'a> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let span = self.node.span;
        at(
            match &self.node.kind {
                NodeKind::Seq(items) => visitor.visit_seq(Seq { iter: items.iter() }),
                NodeKind::Map(entries) => visitor.visit_map(Map {
                    iter: entries.iter(),
                    value: None,
                }),
                NodeKind::Scalar(..) => match self.node.resolve() {
                    Some(Resolved::Null) => visitor.visit_unit(),
                    Some(Resolved::Bool(b)) => visitor.visit_bool(b),
                    Some(Resolved::Int(i)) => visitor.visit_i64(i),
                    Some(Resolved::Float(f)) => visitor.visit_f64(f),
                    Some(Resolved::Str(s)) => visitor.visit_str(s),
                    None => visitor.visit_unit(),
                },
            },
            span,
        )
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let span = self.node.span;
        at(
            match self.node.resolve() {
                Some(Resolved::Bool(b)) => visitor.visit_bool(b),
                _ => self.wrong(&visitor),
            },
            span,
        )
    }

    deserialize_int!(deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64);

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let span = self.node.span;
        at(
            match self.node.resolve() {
                Some(Resolved::Int(i)) => visitor.visit_f64(i as f64),
                Some(Resolved::Float(f)) => visitor.visit_f64(f),
                _ => self.wrong(&visitor),
            },
            span,
        )
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    /// Strings are lenient: a plain scalar such as `3.10` or `2024` is taken as the text it was
    /// written as, which is what a person means by `python: 3.10`. Only null is refused.
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let span = self.node.span;
        at(
            match (&self.node.kind, self.node.resolve()) {
                (_, Some(Resolved::Null)) | (_, None) => self.wrong(&visitor),
                (NodeKind::Scalar(s, _), _) => visitor.visit_str(s),
                _ => self.wrong(&visitor),
            },
            span,
        )
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let span = self.node.span;
        at(
            match self.node.resolve() {
                Some(Resolved::Null) => visitor.visit_none(),
                _ => visitor.visit_some(self),
            },
            span,
        )
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let span = self.node.span;
        at(
            match self.node.resolve() {
                Some(Resolved::Null) => visitor.visit_unit(),
                _ => self.wrong(&visitor),
            },
            span,
        )
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        let span = self.node.span;
        at(visitor.visit_newtype_struct(self), span)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let span = self.node.span;
        at(
            match &self.node.kind {
                NodeKind::Seq(items) => visitor.visit_seq(Seq { iter: items.iter() }),
                _ => self.wrong(&visitor),
            },
            span,
        )
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let span = self.node.span;
        at(
            match &self.node.kind {
                NodeKind::Map(entries) => visitor.visit_map(Map {
                    iter: entries.iter(),
                    value: None,
                }),
                _ => self.wrong(&visitor),
            },
            span,
        )
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        if name == SPANNED_NAME {
            return visitor.visit_map(SpannedAccess {
                node: self.node,
                step: 0,
            });
        }
        let _ = fields;
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let span = self.node.span;
        at(
            match &self.node.kind {
                NodeKind::Scalar(s, _) => visitor.visit_enum(Enum {
                    variant: s.as_str(),
                    variant_span: span,
                    value: None,
                }),
                NodeKind::Map(entries) if entries.len() == 1 => {
                    let (k, v) = &entries[0];
                    match &k.kind {
                        NodeKind::Scalar(s, _) => visitor.visit_enum(Enum {
                            variant: s.as_str(),
                            variant_span: k.span,
                            value: Some(v),
                        }),
                        _ => self.wrong(&visitor),
                    }
                }
                _ => self.wrong(&visitor),
            },
            span,
        )
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }
}

struct Seq<'a> {
    iter: std::slice::Iter<'a, Node>,
}

impl<'de, 'a> SeqAccess<'de> for Seq<'a> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        match self.iter.next() {
            None => Ok(None),
            Some(node) => seed.deserialize(NodeDe { node }).map(Some),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct Map<'a> {
    iter: std::slice::Iter<'a, (Node, Node)>,
    value: Option<&'a Node>,
}

impl<'de, 'a> MapAccess<'de> for Map<'a> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.iter.next() {
            None => Ok(None),
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(NodeDe { node: k }).map(Some)
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        match self.value.take() {
            Some(node) => seed.deserialize(NodeDe { node }),
            None => Err(de::Error::custom("a value was requested before its key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct Enum<'a> {
    variant: &'a str,
    variant_span: Span,
    value: Option<&'a Node>,
}

impl<'de, 'a> EnumAccess<'de> for Enum<'a> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), Error> {
        let d: de::value::StrDeserializer<'_, Error> = self.variant.into_deserializer();
        let v = at(seed.deserialize(d), self.variant_span)?;
        Ok((v, self))
    }
}

impl<'de, 'a> VariantAccess<'de> for Enum<'a> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        match self.value {
            None => Ok(()),
            Some(node) => at(
                Err(de::Error::custom(format!(
                    "`{}` takes no value here",
                    self.variant
                ))),
                node.span,
            ),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        match self.value {
            Some(node) => seed.deserialize(NodeDe { node }),
            None => at(
                Err(de::Error::custom(format!(
                    "`{}` needs a value",
                    self.variant
                ))),
                self.variant_span,
            ),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Some(node) => de::Deserializer::deserialize_seq(NodeDe { node }, visitor),
            None => at(
                Err(de::Error::custom(format!(
                    "`{}` needs a value",
                    self.variant
                ))),
                self.variant_span,
            ),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.value {
            Some(node) => de::Deserializer::deserialize_map(NodeDe { node }, visitor),
            None => at(
                Err(de::Error::custom(format!(
                    "`{}` needs a value",
                    self.variant
                ))),
                self.variant_span,
            ),
        }
    }
}

const SPANNED_NAME: &str = "$__modelgate_private_Spanned";
const SPANNED_FIELDS: &[&str] = &["$__span", "$__value"];

/// A value together with the span it was read from, for diagnostics found after parsing.
///
/// Compares, hashes and serializes as its value alone.
#[derive(Clone, Debug)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub span: Span,
}

impl<T> Spanned<T> {
    /// A value with no source position (made by a command rather than read from a file).
    pub fn unspanned(value: T) -> Self {
        Spanned {
            value,
            span: Span::file_start(),
        }
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T: Eq> Eq for Spanned<T> {}

/// A spanned value has the schema of its value: the span is where it was read, not content.
impl<T: schemars::JsonSchema> schemars::JsonSchema for Spanned<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> std::borrow::Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

impl<T: Serialize> Serialize for Spanned<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Spanned<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a value read from a registry YAML file")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut span = None;
                let mut value = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key == SPANNED_FIELDS[0] {
                        let raw: [u64; 6] = map.next_value()?;
                        span = Some(Span {
                            start: super::Pos {
                                line: raw[0] as u32,
                                column: raw[1] as u32,
                                offset: raw[2] as usize,
                            },
                            end: super::Pos {
                                line: raw[3] as u32,
                                column: raw[4] as u32,
                                offset: raw[5] as usize,
                            },
                        });
                    } else {
                        value = Some(map.next_value()?);
                    }
                }
                match (value, span) {
                    (Some(value), Some(span)) => Ok(Spanned { value, span }),
                    _ => Err(de::Error::custom("spanned values come from YAML only")),
                }
            }
        }
        d.deserialize_struct(SPANNED_NAME, SPANNED_FIELDS, V(std::marker::PhantomData))
    }
}

/// Feeds a `Spanned` visitor its span and then its value.
struct SpannedAccess<'a> {
    node: &'a Node,
    step: u8,
}

impl<'de, 'a> MapAccess<'de> for SpannedAccess<'a> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let key = match self.step {
            0 => SPANNED_FIELDS[0],
            1 => SPANNED_FIELDS[1],
            _ => return Ok(None),
        };
        let d: de::value::StrDeserializer<'_, Error> = key.into_deserializer();
        seed.deserialize(d).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        self.step += 1;
        if self.step == 1 {
            let s = self.node.span;
            let raw = [
                s.start.line as u64,
                s.start.column as u64,
                s.start.offset as u64,
                s.end.line as u64,
                s.end.column as u64,
                s.end.offset as u64,
            ];
            let d: de::value::SeqDeserializer<_, Error> =
                de::value::SeqDeserializer::new(raw.into_iter());
            seed.deserialize(d)
        } else {
            seed.deserialize(NodeDe { node: self.node })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse;
    use std::collections::BTreeMap;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Doc {
        version: u32,
        name: String,
        metrics: BTreeMap<String, f64>,
        alias: Option<Spanned<u32>>,
    }

    fn de(text: &str) -> Result<Doc, Error> {
        from_node(&parse(text).map_err(|e| Error::new(ErrorKind::InvalidValue, e.message))?)
    }

    #[test]
    fn reads_a_document_and_keeps_spans() {
        let doc = de("version: 3\nname: x\nmetrics: {auc: 0.85, n: 2}\nalias: 4\n").unwrap();
        assert_eq!(doc.version, 3);
        assert_eq!(doc.metrics["auc"], 0.85);
        assert_eq!(doc.metrics["n"], 2.0);
        let alias = doc.alias.unwrap();
        assert_eq!(*alias, 4);
        assert_eq!((alias.span.start.line, alias.span.start.column), (4, 8));
    }

    #[test]
    fn unknown_key_points_at_the_key_with_a_suggestion() {
        let e = de("version: 3\nnmae: x\nmetrics: {}\n").unwrap_err();
        assert_eq!(e.kind, ErrorKind::UnknownKey);
        assert_eq!(e.hint.as_deref(), Some("did you mean `name`?"));
        let s = e.span.unwrap();
        assert_eq!((s.start.line, s.start.column), (2, 1));
    }

    #[test]
    fn wrong_type_points_at_the_value() {
        let e = de("version: three\nname: x\nmetrics: {}\n").unwrap_err();
        assert_eq!(e.kind, ErrorKind::WrongType);
        assert!(
            e.message.contains("expected a whole number from 0"),
            "{}",
            e.message
        );
        let s = e.span.unwrap();
        assert_eq!((s.start.line, s.start.column), (1, 10));
    }

    #[test]
    fn missing_key_is_reported() {
        let e = de("version: 3\nmetrics: {}\n").unwrap_err();
        assert_eq!(e.kind, ErrorKind::MissingKey);
        assert_eq!(e.message, "missing required key `name`");
    }

    #[test]
    fn duplicate_keys_and_anchors_are_refused() {
        let e = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert!(e.duplicate_key);
        assert_eq!(e.span.start.line, 3);
        assert!(parse("a: &x 1\nb: *x\n").is_err());
        assert!(parse("a: !custom 1\n").is_err());
    }

    #[test]
    fn core_schema_resolution() {
        let n = parse("[1, 1.5, .inf, true, ~, '7', x, 0x10, 1e3, -2]").unwrap();
        let NodeKind::Seq(items) = &n.kind else {
            panic!("not a sequence")
        };
        let r: Vec<_> = items.iter().map(|n| n.resolve().unwrap()).collect();
        assert_eq!(r[0], Resolved::Int(1));
        assert_eq!(r[1], Resolved::Float(1.5));
        assert_eq!(r[2], Resolved::Float(f64::INFINITY));
        assert_eq!(r[3], Resolved::Bool(true));
        assert_eq!(r[4], Resolved::Null);
        assert_eq!(r[5], Resolved::Str("7"));
        assert_eq!(r[6], Resolved::Str("x"));
        assert_eq!(r[7], Resolved::Int(16));
        assert_eq!(r[8], Resolved::Float(1000.0));
        assert_eq!(r[9], Resolved::Int(-2));
    }

    #[test]
    fn non_ascii_offsets_are_bytes() {
        let text = "name: \"é\"\nversion: x\nmetrics: {}\n";
        let e = de(text).unwrap_err();
        let s = e.span.unwrap();
        assert_eq!(&text[s.start.offset..s.end.offset], "x");
    }

    #[test]
    fn every_unknown_key_is_reported_in_one_run() {
        let node = parse("version: 3\nnmae: x\nmetrics: {}\ncolour: red\nsize: 2\n").unwrap();
        let errs = from_node_all::<Doc>(&node).unwrap_err();
        let msgs: Vec<&str> = errs.iter().map(|e| e.message.as_str()).collect();
        // the typo of `name` is not also reported as a missing `name`
        assert_eq!(
            msgs,
            [
                "unknown key `nmae`",
                "unknown key `colour`",
                "unknown key `size`"
            ]
        );
        let lines: Vec<u32> = errs.iter().map(|e| e.span.unwrap().start.line).collect();
        assert_eq!(lines, [2, 4, 5]);
        // unknown keys inside nested mappings too, and a real missing key after them
        let node = parse("metrics: {}\nextra: 1\nalias: 2\n").unwrap();
        let errs = from_node_all::<Doc>(&node).unwrap_err();
        let msgs: Vec<&str> = errs.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(
            msgs,
            ["unknown key `extra`", "missing required key `version`"]
        );
    }

    #[test]
    fn expected_types_are_named_in_words() {
        let e = de("version: -1\nname: x\nmetrics: {}\n").unwrap_err();
        assert!(
            e.message
                .contains("expected a whole number from 0 to 4294967295"),
            "{}",
            e.message
        );
        assert!(!e.message.contains("u32"), "{}", e.message);
    }
}
