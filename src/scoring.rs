//! The one scoring core that `batch`, `register --evaluate` and `serve` all call: a model's
//! features, the encoder that turns either a polars frame or JSON rows into the same f32
//! matrix (one rule for a number, one for a category, so a row scores identically online and in
//! batch), the artifact read from the registry and verified against its sha256 before it is
//! loaded, a pool of ONNX Runtime sessions, and the decision at the threshold.

use crate::batch::runtime::Scorer;
use crate::registry::Registry;
use crate::registry::schema::FeatureType;
use crate::registry::types::{Alias, ModelName, Sha256};
use anyhow::{Context, Result, bail};
use polars::prelude::{DataFrame, DataType};
use serde::Serialize;
use std::borrow::Cow;
use std::path::Path;
use std::sync::{Condvar, Mutex};

/// One input feature as the model sees it.
#[derive(Clone, Debug)]
pub struct Feature {
    /// Column name.
    pub name: String,
    /// Categories (index = encoding) for categorical features.
    pub categories: Option<Vec<String>>,
}

impl Feature {
    /// Features of a model.yaml.
    pub fn from_spec(f: &crate::registry::schema::Feature) -> Self {
        Feature {
            name: f.name.clone(),
            categories: match f.kind {
                FeatureType::Categorical => Some(f.categories.clone().unwrap_or_default()),
                FeatureType::Numerical => None,
            },
        }
    }
}

/// The feature matrix of some rows, row-major, and each row's key (the input of
/// [`crate::batch::prediction_id`]).
#[derive(Clone, Debug, Default)]
pub struct Encoded {
    /// rows × features, row-major.
    pub matrix: Vec<f32>,
    /// One key a row: its id columns, else its encoded content.
    pub keys: Vec<String>,
}

/// Why a row cannot be encoded: the column and the reason, for a 4xx answer or an error
/// naming the file and row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct InputError {
    /// `missing_feature`, `unseen_category`, `wrong_type`, `null_category`, `out_of_range`.
    pub code: &'static str,
    /// The column.
    pub column: String,
    /// 0-based index of the row in the request (or 1-based row of a file, in the message).
    pub row: Option<u64>,
    /// What was wrong and what was expected.
    pub message: String,
}

/// The value a number takes in the matrix, and its part of a content key: the one rule for
/// numbers (a missing number is NaN: tree models route it as missing). A finite number beyond
/// the range of a 32-bit float (the model's input type) is refused: the cast would silently
/// make it infinite. The error says what was wrong and what was expected.
#[inline]
fn encode_number(x: Option<f64>, key: Option<&mut String>) -> std::result::Result<f32, String> {
    let x = x.unwrap_or(f64::NAN);
    if x.is_finite() && x.abs() > f64::from(f32::MAX) {
        return Err(format!(
            "is {x}, beyond the range of the 32-bit floats the model takes (at most ±{:e})",
            f32::MAX
        ));
    }
    if let Some(k) = key {
        // The text of `x` as `Display` writes it ("63", "2.3", "NaN"); whole numbers, the
        // common case, without the float formatter (a tenth of its time).
        if x.fract() == 0.0 && x.abs() < 9.0e15 && !(x == 0.0 && x.is_sign_negative()) {
            k.push_str(itoa::Buffer::new().format(x as i64));
        } else {
            use std::fmt::Write;
            let _ = write!(k, "{x}");
        }
        k.push('\u{1f}');
    }
    Ok(x as f32)
}

/// The index of a category, and its part of a content key: the one rule for categories.
#[inline]
fn encode_category(cats: &[String], v: &str, key: Option<&mut String>) -> Option<f32> {
    let idx = cats.iter().position(|c| c == v)?;
    if let Some(k) = key {
        k.push_str(v);
        k.push('\u{1f}');
    }
    Some(idx as f32)
}

/// `at` says where (` at row 7`), or is empty.
fn unseen(column: &str, v: &str, at: &str, cats: &[String]) -> String {
    format!(
        "feature `{column}` has the category `{v}`{at}, which the model does not know (categories: {})",
        cats.join(", ")
    )
}

/// Encodes a frame (a batch of a file): `first_row` is the 0-based offset of the frame in
/// `file`, for error messages.
pub fn encode_frame(
    df: &DataFrame,
    features: &[Feature],
    id_columns: &[String],
    file: &Path,
    first_row: u64,
) -> Result<Encoded> {
    use crate::monitor::data;
    let names: Vec<&str> = df
        .get_column_names()
        .into_iter()
        .map(|n| n.as_str())
        .collect();
    let rows = df.height();
    let n = features.len();
    let mut matrix = vec![0f32; rows * n];
    let content = id_columns.is_empty();
    let mut keys: Vec<String> = vec![String::new(); rows];
    for (j, f) in features.iter().enumerate() {
        let s = df
            .column(&f.name)
            .map_err(|_| data::missing_column(file, &f.name, &names, " (a feature of the model)"))?
            .as_materialized_series();
        match &f.categories {
            None => {
                let numeric = s.cast(&DataType::Float64).ok().filter(|_| {
                    s.dtype().is_primitive_numeric()
                        || s.dtype() == &DataType::Boolean
                        || s.null_count() == s.len()
                });
                let Some(numeric) = numeric else {
                    let first = s.str().ok().and_then(|st| {
                        st.iter()
                            .position(|v| v.is_some_and(|v| v.trim().parse::<f64>().is_err()))
                    });
                    bail!(
                        "{}: feature `{}` holds {} values, expected numbers (first offending row: {})",
                        file.display(),
                        f.name,
                        s.dtype(),
                        first
                            .map(|i| (first_row + i as u64 + 1).to_string())
                            .unwrap_or_else(|| "?".into())
                    );
                };
                for (i, v) in numeric.f64()?.iter().enumerate() {
                    matrix[i * n + j] =
                        encode_number(v, content.then_some(&mut keys[i])).map_err(|why| {
                            anyhow::anyhow!(
                                "{}: feature `{}` {why} at row {}",
                                file.display(),
                                f.name,
                                first_row + i as u64 + 1
                            )
                        })?;
                }
            }
            Some(cats) => {
                let st = s.cast(&DataType::String)?;
                for (i, v) in st.str()?.iter().enumerate() {
                    let row = first_row + i as u64 + 1;
                    let Some(v) = v else {
                        bail!(
                            "{}: feature `{}` is null at row {row}; a categorical feature needs a value",
                            file.display(),
                            f.name
                        );
                    };
                    let Some(x) = encode_category(cats, v, content.then_some(&mut keys[i])) else {
                        bail!(
                            "{}: {}",
                            file.display(),
                            unseen(&f.name, v, &format!(" at row {row}"), cats)
                        );
                    };
                    matrix[i * n + j] = x;
                }
            }
        }
    }
    if !content {
        for c in id_columns {
            let s = df
                .column(c)
                .map_err(|_| data::missing_column(file, c, &names, " (an id column)"))?
                .as_materialized_series()
                .cast(&DataType::String)?;
            for (i, v) in s.str()?.iter().enumerate() {
                keys[i].push_str(v.unwrap_or(""));
                keys[i].push('\u{1f}');
            }
        }
    }
    Ok(Encoded { matrix, keys })
}

/// One row of a JSON request: its fields in the order the body gave them, each name borrowed
/// from the body unless it holds an escape. A name given twice takes its last value, as a JSON
/// object read into a map does. A row holds a few fields, so a field is found by a scan, with
/// none of a map's allocations.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JsonRow<'a>(Vec<(Cow<'a, str>, serde_json::Value)>);

impl<'a> JsonRow<'a> {
    /// The value of the field `name`.
    pub fn get(&self, name: &str) -> Option<&serde_json::Value> {
        self.0.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Moves the value of the field `name` out (`Null` stays in its place, or when absent).
    pub fn take(&mut self, name: &str) -> serde_json::Value {
        self.0
            .iter_mut()
            .rev()
            .find(|(k, _)| k == name)
            .map_or(serde_json::Value::Null, |(_, v)| std::mem::take(v))
    }
}

impl From<serde_json::Map<String, serde_json::Value>> for JsonRow<'static> {
    fn from(m: serde_json::Map<String, serde_json::Value>) -> Self {
        JsonRow(m.into_iter().map(|(k, v)| (Cow::Owned(k), v)).collect())
    }
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for JsonRow<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        /// A field name, borrowed when the input lets it be.
        struct Name<'a>(Cow<'a, str>);
        impl<'de> serde::Deserialize<'de> for Name<'de> {
            fn deserialize<D: serde::Deserializer<'de>>(
                d: D,
            ) -> std::result::Result<Self, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = Name<'de>;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str("a field name")
                    }
                    fn visit_borrowed_str<E>(
                        self,
                        s: &'de str,
                    ) -> std::result::Result<Name<'de>, E> {
                        Ok(Name(Cow::Borrowed(s)))
                    }
                    fn visit_str<E>(self, s: &str) -> std::result::Result<Name<'de>, E> {
                        Ok(Name(Cow::Owned(s.to_string())))
                    }
                    fn visit_string<E>(self, s: String) -> std::result::Result<Name<'de>, E> {
                        Ok(Name(Cow::Owned(s)))
                    }
                }
                d.deserialize_str(V)
            }
        }
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = JsonRow<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<JsonRow<'de>, A::Error> {
                let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(16).min(64));
                while let Some((Name(k), v)) = map.next_entry()? {
                    fields.push((k, v));
                }
                Ok(JsonRow(fields))
            }
        }
        d.deserialize_map(V)
    }
}

/// A JSON value as a category, as polars casts a column to text: strings as they are,
/// integers and booleans in their usual spelling.
fn json_category(v: &serde_json::Value) -> Option<Cow<'_, str>> {
    match v {
        serde_json::Value::String(s) => Some(Cow::Borrowed(s)),
        serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => Some(Cow::Owned(n.to_string())),
        serde_json::Value::Bool(b) => Some(Cow::Owned(b.to_string())),
        _ => None,
    }
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Encodes JSON rows keyed by feature name (extra fields are ignored). `id_fields`, when not
/// empty, make the key of a row (as `batch --id-column` does); else its content does.
pub fn encode_json(
    rows: &[JsonRow<'_>],
    features: &[Feature],
    id_fields: &[String],
) -> std::result::Result<Encoded, InputError> {
    let n = features.len();
    let mut matrix = vec![0f32; rows.len() * n];
    let content = id_fields.is_empty();
    let mut keys = vec![String::new(); rows.len()];
    for (i, row) in rows.iter().enumerate() {
        let err = |code, column: &str, message: String| InputError {
            code,
            column: column.to_string(),
            row: Some(i as u64),
            message: format!("row {i}: {message}"),
        };
        for (j, f) in features.iter().enumerate() {
            let Some(v) = row.get(&f.name) else {
                return Err(err(
                    "missing_feature",
                    &f.name,
                    format!("feature `{}` is missing (a feature of the model)", f.name),
                ));
            };
            let key = content.then_some(&mut keys[i]);
            matrix[i * n + j] = match &f.categories {
                None => {
                    let x = match v {
                        serde_json::Value::Null => None,
                        serde_json::Value::Number(x) => x.as_f64(),
                        serde_json::Value::Bool(b) => Some(f64::from(u8::from(*b))),
                        other => {
                            return Err(err(
                                "wrong_type",
                                &f.name,
                                format!(
                                    "feature `{}` is {}, expected a number (or null for missing)",
                                    f.name,
                                    json_kind(other)
                                ),
                            ));
                        }
                    };
                    encode_number(x, key).map_err(|why| {
                        err(
                            "out_of_range",
                            &f.name,
                            format!("feature `{}` {why}", f.name),
                        )
                    })?
                }
                Some(cats) => {
                    if v.is_null() {
                        return Err(err(
                            "null_category",
                            &f.name,
                            format!(
                                "feature `{}` is null; a categorical feature needs a value",
                                f.name
                            ),
                        ));
                    }
                    let Some(text) = json_category(v) else {
                        return Err(err(
                            "wrong_type",
                            &f.name,
                            format!(
                                "feature `{}` is {}, expected a category (a string: {})",
                                f.name,
                                json_kind(v),
                                cats.join(", ")
                            ),
                        ));
                    };
                    encode_category(cats, &text, key).ok_or_else(|| {
                        err("unseen_category", &f.name, unseen(&f.name, &text, "", cats))
                    })?
                }
            };
        }
        for c in id_fields {
            let v = row.get(c).ok_or_else(|| {
                err(
                    "missing_feature",
                    c,
                    format!("the id field `{c}` is missing"),
                )
            })?;
            match v {
                serde_json::Value::Null => {}
                serde_json::Value::String(s) => keys[i].push_str(s),
                other => keys[i].push_str(&other.to_string()),
            }
            keys[i].push('\u{1f}');
        }
    }
    Ok(Encoded { matrix, keys })
}

/// The decision at a threshold: 1 when the score reaches it.
#[inline]
pub fn prediction(score: f64, threshold: f64) -> i32 {
    i32::from(score >= threshold)
}

/// A model version resolved in a registry, its artifact read and verified.
pub struct Resolved {
    /// What is scored.
    pub target: crate::batch::Target,
    /// The artifact's bytes (their sha256 is the recorded one).
    pub bytes: Vec<u8>,
}

/// Resolves `name` at an alias or a version in a loaded registry (a working tree or a git
/// revision), reads its artifact through the registry's source (plain files inside the
/// repository only) and verifies its sha256 before anything loads it.
pub fn resolve(
    reg: &Registry,
    name: &ModelName,
    sel: &Result<Alias, u32>,
    command: &str,
) -> Result<Resolved> {
    use crate::registry::source::{Location, locate};
    let m = reg
        .models
        .get(name)
        .with_context(|| format!("there is no model `{name}` in this registry"))?;
    let (version, alias) = match sel {
        Ok(a) => (
            m.aliases
                .get(a)
                .map(|v| v.value)
                .with_context(|| format!("{name} has no {a}"))?,
            Some(a.to_string()),
        ),
        Err(v) => (*v, None),
    };
    let v = m
        .versions
        .get(&version)
        .with_context(|| format!("{name} has no version {version}"))?;
    let spec = m.spec.as_ref().with_context(|| {
        format!(
            "{}/model.yaml does not parse; run `modelgate validate`",
            m.dir
        )
    })?;
    v.spec
        .artifact
        .format
        .require_onnx(command, &format!("{name} v{version} ({})", v.file))?;
    let uri = &v.spec.artifact.uri.value;
    let path = match locate(uri) {
        Ok(Location::Local(p)) => p,
        Ok(Location::Remote) => {
            bail!("the artifact {uri} is remote; fetch it and score with --onnx")
        }
        Err(_) => bail!("the artifact path {uri} is outside the repository"),
    };
    let bytes = reg
        .source
        .read(&path, u64::MAX)
        .map_err(|e| anyhow::anyhow!("reading the artifact {uri}: {e}"))?;
    // Verify before loading: a tampered artifact is never run.
    let actual = Sha256::of(&bytes);
    if actual != v.spec.artifact.sha256.value {
        bail!(
            "the artifact {uri} has sha256 {actual}, but {} records {}: refusing to score with it",
            v.file,
            v.spec.artifact.sha256.value
        );
    }
    Ok(Resolved {
        target: crate::batch::Target {
            model: name.to_string(),
            version,
            alias,
            artifact_sha256: actual.hex(),
            artifact: uri.clone(),
            features: spec.features.iter().map(Feature::from_spec).collect(),
        },
        bytes,
    })
}

/// Loads a session and checks that the model takes as many features as are listed.
pub fn load_session(model: &[u8], threads: usize, features: &[Feature]) -> Result<Scorer> {
    let scorer = Scorer::new(model, threads)?;
    if let Some(n) = scorer.n_features {
        if n != features.len() {
            bail!(
                "the model expects {n} features but {} are listed ({})",
                features.len(),
                features
                    .iter()
                    .map(|f| f.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    Ok(scorer)
}

/// A small pool of ONNX Runtime sessions of one model (a session runs one call at a time):
/// as many as there are cores, so concurrent requests do not queue behind one lock.
pub struct SessionPool {
    free: Mutex<Free>,
    returned: Condvar,
    size: usize,
}

/// The sessions not in use, and how many callers wait for one.
struct Free {
    sessions: Vec<Scorer>,
    waiting: usize,
}

impl SessionPool {
    /// `size` sessions (at least one) of one intra-op thread each.
    pub fn new(model: &[u8], size: usize, features: &[Feature]) -> Result<SessionPool> {
        let size = size.max(1);
        let mut sessions = Vec::with_capacity(size);
        for _ in 0..size {
            sessions.push(load_session(model, 1, features)?);
        }
        Ok(SessionPool {
            free: Mutex::new(Free {
                sessions,
                waiting: 0,
            }),
            returned: Condvar::new(),
            size,
        })
    }

    /// How many sessions the pool holds.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Scores `rows` rows of `n` features with a free session (waits for one when all are
    /// busy): the probability of the positive class.
    pub fn score(&self, matrix: Vec<f32>, rows: usize, n: usize) -> Result<Vec<f64>> {
        let poisoned = || anyhow::anyhow!("the session pool is poisoned");
        let mut scorer = {
            let mut free = self.free.lock().map_err(|_| poisoned())?;
            loop {
                if let Some(s) = free.sessions.pop() {
                    break s;
                }
                free.waiting += 1;
                free = self.returned.wait(free).map_err(|_| poisoned())?;
                free.waiting -= 1;
            }
        };
        let out = scorer.score(matrix, rows, n);
        let wake = match self.free.lock() {
            Ok(mut free) => {
                free.sessions.push(scorer);
                free.waiting > 0
            }
            Err(_) => true,
        };
        // Only a waiting caller is woken: without one, a notification is a system call for
        // nothing on every request.
        if wake {
            self.returned.notify_one();
        }
        let out = out?;
        // One score a row, or the caller would pair rows with scores of others.
        if out.len() != rows {
            bail!(
                "the model returned {} scores for {rows} rows; expected one a row",
                out.len()
            );
        }
        Ok(out)
    }
}

/// The number of sessions of a served model: the cores of the machine.
pub fn default_pool_size() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features() -> Vec<Feature> {
        vec![
            Feature {
                name: "age".into(),
                categories: None,
            },
            Feature {
                name: "sex".into(),
                categories: Some(vec!["F".into(), "M".into()]),
            },
        ]
    }

    fn rows(v: serde_json::Value) -> Vec<JsonRow<'static>> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| JsonRow::from(r.as_object().unwrap().clone()))
            .collect()
    }

    /// A request's row reads as a JSON object read into a map does: the last of a name given
    /// twice wins, escaped names are unescaped, and what is not an object is refused as before.
    #[test]
    fn json_rows_read_as_maps_do() {
        let body = r#"{"age": 1, "s\u0065x": "M", "age": 63, "extra": [1, {"a": null}]}"#;
        let row: JsonRow = serde_json::from_str(body).unwrap();
        let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(body).unwrap();
        for name in ["age", "sex", "extra", "missing"] {
            assert_eq!(row.get(name), map.get(name), "{name}");
        }
        assert!(matches!(&row.0[0].0, Cow::Borrowed("age")));
        assert!(matches!(&row.0[1].0, Cow::Owned(n) if n == "sex"));
        let mut row = row;
        assert_eq!(row.take("age"), serde_json::json!(63));
        assert_eq!(row.get("age"), Some(&serde_json::Value::Null));
        assert_eq!(row.take("missing"), serde_json::Value::Null);
        for bad in ["5", "[1]", "\"x\"", "null"] {
            let ours = serde_json::from_str::<JsonRow>(bad)
                .unwrap_err()
                .to_string();
            let maps = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(bad)
                .unwrap_err()
                .to_string();
            assert_eq!(ours, maps, "{bad}");
        }
    }

    /// A number's part of a content key is its `Display` text, whichever path writes it: the
    /// prediction ids of a row never change with how it is formatted.
    #[test]
    fn content_keys_write_numbers_as_display_does() {
        for x in [
            63.0,
            -5.0,
            0.0,
            -0.0,
            2.3,
            27.1,
            1e-7,
            8.9e15,
            9.0e15,
            1e20,
            -1e300,
            f64::NAN,
            f64::MAX,
            f64::MIN_POSITIVE,
            4503599627370497.0,
        ] {
            let mut key = String::new();
            if encode_number(Some(x), Some(&mut key)).is_ok() {
                assert_eq!(key, format!("{x}\u{1f}"), "{x:e}");
            }
        }
    }

    /// JSON rows and a frame of the same values encode to the same matrix and keys.
    #[test]
    fn json_and_frame_encode_alike() {
        use polars::prelude::*;
        let df = df!("age" => [Some(63.0f64), None], "sex" => ["M", "F"]).unwrap();
        let f = encode_frame(&df, &features(), &[], Path::new("x.parquet"), 0).unwrap();
        let j = encode_json(
            &rows(serde_json::json!([{"age": 63, "sex": "M"}, {"age": null, "sex": "F"}])),
            &features(),
            &[],
        )
        .unwrap();
        assert_eq!(f.keys, j.keys);
        assert_eq!(
            f.matrix.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            j.matrix.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
    }

    /// A finite number beyond f32 would become infinite in the matrix: refused in a request and
    /// in a file alike, naming the column (and the file and row); f32's own extremes, NaN and
    /// infinities (as a file may hold them) pass as they did.
    #[test]
    fn numbers_beyond_f32_are_refused_in_json_and_frames() {
        use polars::prelude::*;
        for big in [1e300, -3.5e38] {
            let e = encode_json(
                &rows(serde_json::json!([{"age": 1, "sex": "M"}, {"age": big, "sex": "M"}])),
                &features(),
                &[],
            )
            .unwrap_err();
            assert_eq!(
                (e.code, e.column.as_str(), e.row),
                ("out_of_range", "age", Some(1))
            );
            assert!(e.message.contains("32-bit"), "{}", e.message);
            let df = df!("age" => [Some(1.0f64), Some(big)], "sex" => ["M", "F"]).unwrap();
            let e = encode_frame(&df, &features(), &[], Path::new("x.parquet"), 10)
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("x.parquet") && e.contains("`age`") && e.contains("row 12"),
                "{e}"
            );
        }
        let max = f64::from(f32::MAX);
        let df = df!(
            "age" => [Some(max), Some(-max), Some(f64::NAN), Some(f64::INFINITY)],
            "sex" => ["M", "F", "M", "F"]
        )
        .unwrap();
        let f = encode_frame(&df, &features(), &[], Path::new("x.parquet"), 0).unwrap();
        assert_eq!(f.matrix[0], f32::MAX);
        assert_eq!(f.matrix[6], f32::INFINITY);
    }

    #[test]
    fn bad_json_rows_name_the_column_and_the_reason() {
        let cases = [
            (serde_json::json!([{"sex": "M"}]), "missing_feature", "age"),
            (
                serde_json::json!([{"age": 1, "sex": "X"}]),
                "unseen_category",
                "sex",
            ),
            (
                serde_json::json!([{"age": "old", "sex": "M"}]),
                "wrong_type",
                "age",
            ),
            (
                serde_json::json!([{"age": 1, "sex": [1]}]),
                "wrong_type",
                "sex",
            ),
            (
                serde_json::json!([{"age": 1, "sex": null}]),
                "null_category",
                "sex",
            ),
        ];
        for (v, code, column) in cases {
            let e = encode_json(&rows(v.clone()), &features(), &[]).unwrap_err();
            assert_eq!((e.code, e.column.as_str()), (code, column), "{v}: {e}");
            assert!(e.message.contains(column), "{e}");
        }
    }
}
