//! Reading monitoring data with polars: Parquet and CSV files, paths or globs, only the columns
//! needed, optionally a time window, into per-column values ready for the statistics.
//!
//! Nulls are counted, not silently dropped; NaN and ±inf in numerical columns are counted
//! separately and excluded from the statistics.

use anyhow::{Context, Result, bail};
use polars::prelude::{
    BooleanChunked, DataFrame, DataType, Expr, LazyCsvReader, LazyFileListReader, LazyFrame,
    PlRefPath, ScanArgsParquet, TimeUnit, UnionArgs, col, concat,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Numerical or categorical.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Numbers.
    Numerical,
    /// Categories (strings, booleans, or numbers declared categorical).
    Categorical,
}

/// The values of one column, split the way the statistics need them.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// Numbers: the finite ones sorted, and how many were NaN or infinite.
    Numerical {
        /// Finite values, sorted.
        sorted: Vec<f64>,
        /// NaN, +inf, -inf.
        non_finite: u64,
    },
    /// Category counts.
    Categorical {
        /// Count per category.
        counts: BTreeMap<String, u64>,
    },
}

/// One column of a table.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnData {
    /// Its name.
    pub name: String,
    /// Its values.
    pub values: Values,
    /// Null count.
    pub nulls: u64,
}

impl ColumnData {
    /// A numerical column of `values`, none null; non-finite values are counted apart, as a
    /// column read from a file keeps them.
    pub fn numerical(name: &str, values: &[f64]) -> ColumnData {
        let finite: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        ColumnData {
            name: name.into(),
            values: Values::Numerical {
                sorted: super::stats::sorted(&finite),
                non_finite: (values.len() - finite.len()) as u64,
            },
            nulls: 0,
        }
    }

    /// A categorical column of `values`, none null.
    pub fn categorical(name: &str, values: &[&str]) -> ColumnData {
        let mut counts = BTreeMap::new();
        for x in values {
            *counts.entry(x.to_string()).or_insert(0) += 1;
        }
        ColumnData {
            name: name.into(),
            values: Values::Categorical { counts },
            nulls: 0,
        }
    }

    /// Numerical or categorical.
    pub fn kind(&self) -> Kind {
        match self.values {
            Values::Numerical { .. } => Kind::Numerical,
            Values::Categorical { .. } => Kind::Categorical,
        }
    }

    /// Number of usable (non-null, finite) values.
    pub fn usable(&self) -> u64 {
        match &self.values {
            Values::Numerical { sorted, .. } => sorted.len() as u64,
            Values::Categorical { counts } => counts.values().sum(),
        }
    }
}

/// The files a path or glob names, sorted; an error when it names none.
pub fn expand(pattern: &str, base: &Path) -> Result<Vec<PathBuf>> {
    let full = if Path::new(pattern).is_absolute() {
        PathBuf::from(pattern)
    } else {
        base.join(pattern)
    };
    let text = full.to_string_lossy().into_owned();
    let mut files: Vec<PathBuf> = if text.contains(['*', '?', '[']) {
        glob::glob(&text)
            .with_context(|| format!("`{pattern}` is not a valid glob"))?
            .filter_map(|p| p.ok())
            .filter(|p| p.is_file())
            .collect()
    } else if full.is_file() {
        vec![full]
    } else {
        bail!("{} does not exist", full.display());
    };
    files.sort();
    if files.is_empty() {
        bail!("`{pattern}` matches no file");
    }
    Ok(files)
}

/// The files a path or glob **named by the registry** (`monitoring.reference`/`current`) matches:
/// relative to the repository root, never climbing out of it, and plain files only — a match
/// that is, or lies under, a symbolic link is refused (the registry's rule for every path it
/// names).
pub fn expand_in_repository(pattern: &str, root: &Path) -> Result<Vec<PathBuf>> {
    let rel = match crate::registry::source::locate(pattern) {
        Ok(crate::registry::source::Location::Local(p)) => p,
        _ => bail!("`{pattern}` must be a path inside the repository"),
    };
    let src = crate::registry::source::FsSource::new(root)
        .with_context(|| format!("opening {}", root.display()))?;
    let files = expand(&rel, src.root())?;
    for f in &files {
        let inner = f
            .strip_prefix(src.root())
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .map_err(|_| anyhow::anyhow!("{} is outside the repository", f.display()))?;
        use crate::registry::source::Source;
        if !src.is_file(&inner) {
            bail!(
                "{inner} (matched by `{pattern}`) is not a plain file inside the repository: modelgate does not follow links"
            );
        }
    }
    Ok(files)
}

/// A repository path's folders and file name, and the index of the first that holds a glob
/// character (none for a plain path).
fn pattern_parts(rel: &str) -> (Vec<&str>, Option<usize>) {
    let parts: Vec<&str> = rel.split('/').collect();
    let glob_at = parts.iter().position(|p| p.contains(['*', '?', '[']));
    (parts, glob_at)
}

/// A cheap identity of what a path or glob named by the registry matches in a source: the
/// source's fingerprint (for a commit, the git object id) of the file, or of the folder the glob
/// starts in, so any change to a matched file changes it. `None` where the source has none.
pub fn fingerprint_in_source(
    pattern: &str,
    src: &dyn crate::registry::source::Source,
) -> Option<String> {
    let rel = match crate::registry::source::locate(pattern) {
        Ok(crate::registry::source::Location::Local(p)) => p,
        _ => return None,
    };
    let (parts, glob_at) = pattern_parts(&rel);
    src.fingerprint(&parts[..glob_at.unwrap_or(parts.len())].join("/"))
}

/// The files a path or glob **named by the registry** matches in a registry source (a commit,
/// for `serve`), copied under `into` at their paths in the repository: the readers of this
/// module then read the revision as committed, never the working tree. The rules of
/// [`expand_in_repository`] hold: inside the repository, plain files only (a match that is a
/// link is refused); a glob's `*` does not cross a `/`, and `**` matches any folders. Returns
/// how many files were copied.
pub fn export_from_source(
    pattern: &str,
    src: &dyn crate::registry::source::Source,
    into: &Path,
) -> Result<usize> {
    use crate::registry::source::EntryKind;
    let rel = match crate::registry::source::locate(pattern) {
        Ok(crate::registry::source::Location::Local(p)) => p,
        _ => bail!("`{pattern}` must be a path inside the repository"),
    };
    let (parts, glob_at) = pattern_parts(&rel);
    let mut files = Vec::new();
    match glob_at {
        None => {
            if !src.is_file(&rel) {
                bail!(
                    "{} does not exist (as a plain file) in {}",
                    rel,
                    src.describe()
                );
            }
            files.push(rel.clone());
        }
        Some(at) => {
            let matcher = glob::Pattern::new(&rel)
                .with_context(|| format!("`{pattern}` is not a valid glob"))?;
            let opts = glob::MatchOptions {
                case_sensitive: true,
                require_literal_separator: true,
                require_literal_leading_dot: false,
            };
            let deep = rel.contains("**");
            let mut stack = vec![(parts[..at].join("/"), at)];
            while let Some((dir, depth)) = stack.pop() {
                let entries = src
                    .list(&dir)
                    .map_err(|e| anyhow::anyhow!("listing {dir}: {e}"))?;
                for e in entries {
                    let path = if dir.is_empty() {
                        e.name.clone()
                    } else {
                        format!("{dir}/{}", e.name)
                    };
                    match e.kind {
                        EntryKind::Dir if deep || depth + 1 < parts.len() => {
                            stack.push((path, depth + 1));
                        }
                        EntryKind::Dir => {}
                        EntryKind::File if matcher.matches_with(&path, opts) => files.push(path),
                        EntryKind::File => {}
                        EntryKind::NotPlain(what) if matcher.matches_with(&path, opts) => bail!(
                            "{path} (matched by `{pattern}`) is {what}, not a plain file: modelgate does not follow links"
                        ),
                        EntryKind::NotPlain(_) => {}
                    }
                }
            }
            if files.is_empty() {
                bail!("`{pattern}` matches no file in {}", src.describe());
            }
        }
    }
    for f in &files {
        let bytes = src
            .read(f, u64::MAX)
            .map_err(|e| anyhow::anyhow!("reading {f} from {}: {e}", src.describe()))?;
        let to = into.join(f);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&to, bytes).with_context(|| format!("writing {}", to.display()))?;
    }
    Ok(files.len())
}

/// The error of a file without a column it needs: names the file, the column (with `what` it
/// is, e.g. " (a feature of the model)") and the columns the file has.
pub fn missing_column(file: &Path, column: &str, have: &[&str], what: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "{} has no column `{column}`{what} (it has: {})",
        file.display(),
        have.join(", ")
    )
}

/// Columns only `batch` output has: a file with all of them was written by `batch` (its output
/// or its `--log`), so its rows are scored copies of input rows.
pub const SCORED_COLUMNS: [&str; 3] = ["prediction_id", "artifact_sha256", "scored_at"];

/// Whether a Parquet or CSV file was written by `batch` (it has every [`SCORED_COLUMNS`]);
/// reads the schema only.
pub fn is_scored_output(path: &Path) -> Result<bool> {
    let schema = scan_file(path)?
        .collect_schema()
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    Ok(SCORED_COLUMNS.iter().all(|c| schema.get(c).is_some()))
}

/// A lazy scan of one Parquet or CSV file.
pub fn scan_file(path: &Path) -> Result<LazyFrame> {
    let p = PlRefPath::from(path.to_string_lossy().as_ref());
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let lf = match ext.as_str() {
        "parquet" | "pq" => LazyFrame::scan_parquet(p, ScanArgsParquet::default()),
        "csv" | "tsv" => {
            let sep = if ext == "tsv" { b'\t' } else { b',' };
            LazyCsvReader::new(p)
                .with_has_header(true)
                .with_infer_schema_length(Some(10_000))
                .with_try_parse_dates(true)
                .map_parse_options(|o| o.with_separator(sep))
                .finish()
        }
        _ => bail!("{}: expected a .parquet or .csv file", path.display()),
    };
    lf.map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))
}

/// A table read from one or more files.
pub struct Table {
    /// The files read.
    pub files: Vec<PathBuf>,
    /// The frame (only the requested columns).
    pub frame: DataFrame,
}

/// What to read.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// Columns to read (all when empty).
    pub columns: Vec<String>,
    /// A timestamp column and the earliest instant to keep.
    pub since: Option<(String, chrono::DateTime<chrono::Utc>)>,
    /// A timestamp column and a number of days: keep the last `days` before the latest row.
    pub last_days: Option<(String, u32)>,
}

/// Reads files (a path or glob, relative to `base`) into one frame.
pub fn read(pattern: &str, base: &Path, req: &Request) -> Result<Table> {
    let files = expand(pattern, base)?;
    let mut frames = Vec::with_capacity(files.len());
    for f in &files {
        let mut lf = scan_file(f)?;
        let schema = lf
            .collect_schema()
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", f.display()))?;
        for c in &req.columns {
            if schema.get(c.as_str()).is_none() {
                let have: Vec<&str> = schema.iter_names().map(|n| n.as_str()).collect();
                return Err(missing_column(f, c, &have, ""));
            }
        }
        let mut names: Vec<&str> = req.columns.iter().map(String::as_str).collect();
        let time_columns = [
            req.since.as_ref().map(|s| &s.0),
            req.last_days.as_ref().map(|s| &s.0),
        ];
        for ts in time_columns.into_iter().flatten() {
            if schema.get(ts.as_str()).is_none() {
                bail!("{} has no timestamp column `{ts}`", f.display());
            }
            if !names.contains(&ts.as_str()) {
                names.push(ts);
            }
        }
        let cols: Vec<Expr> = names.iter().map(|c| col(*c)).collect();
        if !req.columns.is_empty() {
            lf = lf.select(cols);
        }
        frames.push(lf);
    }
    let lf = concat(
        frames,
        UnionArgs {
            to_supertypes: true,
            ..Default::default()
        },
    )?;
    let mut frame = lf
        .collect()
        .map_err(|e| anyhow::anyhow!("reading {pattern}: {e}"))?;
    if let Some((ts, since)) = &req.since {
        frame = filter_time(frame, ts, |t| t >= since.timestamp_micros())?;
    }
    if let Some((ts, days)) = &req.last_days {
        let micros = timestamps(&frame, ts)?;
        if let Some(max) = micros.iter().flatten().max().copied() {
            let from = max - i64::from(*days) * 86_400_000_000;
            frame = filter_time(frame, ts, |t| t > from)?;
        }
    }
    Ok(Table { files, frame })
}

/// A timestamp column as microseconds since the epoch (UTC).
fn timestamps(frame: &DataFrame, name: &str) -> Result<Vec<Option<i64>>> {
    let s = frame
        .column(name)
        .map_err(|_| anyhow::anyhow!("no timestamp column `{name}`"))?
        .as_materialized_series()
        .clone();
    let s = match s.dtype() {
        DataType::Datetime(_, _) | DataType::Date => {
            s.cast(&DataType::Datetime(TimeUnit::Microseconds, None))?
        }
        other => bail!("`{name}` is {other}, expected a timestamp column"),
    };
    let phys = s.to_physical_repr();
    Ok(phys.i64()?.iter().collect())
}

fn filter_time(frame: DataFrame, name: &str, keep: impl Fn(i64) -> bool) -> Result<DataFrame> {
    let ts = timestamps(&frame, name)?;
    let mask: BooleanChunked = ts.iter().map(|t| Some(t.is_some_and(&keep))).collect();
    Ok(frame.filter(&mask)?)
}

/// Extracts one column's values; `kind` forces numerical or categorical, else it is inferred
/// (numbers → numerical; strings and booleans → categorical).
pub fn column(frame: &DataFrame, name: &str, kind: Option<Kind>) -> Result<ColumnData> {
    let s = frame
        .column(name)
        .map_err(|_| anyhow::anyhow!("no column `{name}`"))?
        .as_materialized_series();
    // A column with no value at all has no type worth the name (CSV readers say "string").
    let all_null = s.null_count() == s.len();
    let numeric = s.dtype().is_primitive_numeric() || (all_null && kind == Some(Kind::Numerical));
    let kind = kind.unwrap_or(if numeric {
        Kind::Numerical
    } else {
        Kind::Categorical
    });
    let nulls = s.null_count() as u64;
    let values = match kind {
        Kind::Numerical => {
            if !numeric {
                bail!(
                    "column `{name}` holds {} values, expected numbers",
                    s.dtype()
                );
            }
            let f = if all_null {
                polars::prelude::Series::full_null(s.name().clone(), s.len(), &DataType::Float64)
            } else {
                s.cast(&DataType::Float64)?
            };
            let mut sorted = Vec::with_capacity(f.len());
            let mut non_finite = 0;
            for v in f.f64()?.iter().flatten() {
                if v.is_finite() {
                    sorted.push(v);
                } else {
                    non_finite += 1;
                }
            }
            sorted.sort_unstable_by(f64::total_cmp);
            Values::Numerical { sorted, non_finite }
        }
        Kind::Categorical => {
            let st = s.cast(&DataType::String)?;
            let mut counts = BTreeMap::new();
            for v in st.str()?.iter().flatten() {
                *counts.entry(v.to_string()).or_insert(0u64) += 1;
            }
            Values::Categorical { counts }
        }
    };
    Ok(ColumnData {
        name: name.to_string(),
        values,
        nulls,
    })
}

/// Labels (0/1 or booleans) and scores of the rows where both are present and the score is
/// finite; also how many rows were left out.
pub fn labels_and_scores(
    frame: &DataFrame,
    label: &str,
    score: &str,
) -> Result<(Vec<bool>, Vec<f64>, u64)> {
    let (l, s, kept) = labels_scores_kept(frame, label, score)?;
    let dropped = kept.iter().filter(|k| !**k).count() as u64;
    Ok((l, s, dropped))
}

/// As [`labels_and_scores`], with which rows were kept.
pub fn labels_scores_kept(
    frame: &DataFrame,
    label: &str,
    score: &str,
) -> Result<(Vec<bool>, Vec<f64>, Vec<bool>)> {
    let l = frame
        .column(label)
        .map_err(|_| anyhow::anyhow!("no label column `{label}`"))?
        .as_materialized_series()
        .cast(&DataType::Float64)
        .map_err(|_| anyhow::anyhow!("label column `{label}` is not 0/1 or boolean"))?;
    let s = frame
        .column(score)
        .map_err(|_| anyhow::anyhow!("no score column `{score}`"))?
        .as_materialized_series()
        .cast(&DataType::Float64)
        .map_err(|_| anyhow::anyhow!("score column `{score}` is not numeric"))?;
    let (mut labels, mut scores, mut kept) = (Vec::new(), Vec::new(), Vec::new());
    for (lv, sv) in l.f64()?.iter().zip(s.f64()?.iter()) {
        match (lv, sv) {
            (Some(lv), Some(sv)) if sv.is_finite() => {
                if lv != 0.0 && lv != 1.0 {
                    bail!("label column `{label}` holds {lv}; expected 0 or 1");
                }
                labels.push(lv == 1.0);
                scores.push(sv);
                kept.push(true);
            }
            _ => kept.push(false),
        }
    }
    Ok((labels, scores, kept))
}

/// A column as optional strings (group values for fairness).
pub fn strings(frame: &DataFrame, name: &str) -> Result<Vec<Option<String>>> {
    let s = frame
        .column(name)
        .map_err(|_| anyhow::anyhow!("no column `{name}`"))?
        .as_materialized_series()
        .cast(&DataType::String)?;
    Ok(s.str()?.iter().map(|v| v.map(str::to_string)).collect())
}

/// The sha256 of a file, streamed.
pub fn file_sha256(path: &Path) -> Result<crate::registry::types::Sha256> {
    let f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    crate::registry::source::hash_reader(f).with_context(|| format!("reading {}", path.display()))
}

/// The names of the columns of the first file a path or glob names that drift can compare
/// (numbers, strings, booleans; not timestamps). Reads the schema only.
pub fn column_names(pattern: &str, base: &Path) -> Result<Vec<String>> {
    let files = expand(pattern, base)?;
    let mut lf = scan_file(&files[0])?;
    let schema = lf
        .collect_schema()
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", files[0].display()))?;
    Ok(schema
        .iter()
        .filter(|(_, dt)| {
            dt.is_primitive_numeric() || matches!(dt, DataType::String | DataType::Boolean)
        })
        .map(|(n, _)| n.to_string())
        .collect())
}

/// Whether a column name reads as an identifier: `id`, `uuid`, `guid` or ending in `_id`
/// (any case).
pub fn identifier_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(n.as_str(), "id" | "uuid" | "guid") || n.ends_with("_id") || n.ends_with("_uuid")
}

/// Rows an unnamed column needs before "every value distinct" marks it as an identifier: a
/// handful of rows is distinct by chance.
pub const IDENTIFIER_MIN_ROWS: usize = 20;

/// The columns of a table that look like identifiers — strings or integers, every (non-null)
/// value distinct, and either named like one ([`identifier_name`]) or at least
/// [`IDENTIFIER_MIN_ROWS`] values — so that comparing their distributions means nothing.
pub fn identifier_columns(frame: &DataFrame) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for c in frame.columns() {
        let s = c.as_materialized_series();
        let dt = s.dtype();
        if !(dt.is_integer() || matches!(dt, DataType::String)) {
            continue;
        }
        let values = s.len() - s.null_count();
        let named = identifier_name(s.name());
        if values < 2 || (!named && values < IDENTIFIER_MIN_ROWS) {
            continue;
        }
        let distinct = s.drop_nulls().n_unique()?;
        if distinct == values {
            out.push(s.name().to_string());
        }
    }
    Ok(out)
}

/// The number of rows of a Parquet or CSV file (Parquet: from its metadata).
pub fn row_count(path: &Path) -> Result<u64> {
    let df = scan_file(path)?
        .select([polars::prelude::len()])
        .collect()
        .map_err(|e| anyhow::anyhow!("counting the rows of {}: {e}", path.display()))?;
    let v = df
        .columns()
        .first()
        .and_then(|c| c.get(0).ok())
        .and_then(|v| v.extract::<u64>())
        .context("counting rows")?;
    Ok(v)
}

/// A column of a data file as its schema describes it, read without the data.
#[derive(Clone, Debug, PartialEq)]
pub struct SchemaColumn {
    /// Its name.
    pub name: String,
    /// Its type (Parquet); `None` for CSV, whose header names columns but not their types.
    pub dtype: Option<DataType>,
}

/// The columns of a Parquet file (from its footer) or a CSV file (from its header line), read
/// from a registry source: only those bytes, never the data.
pub fn schema_of(
    src: &dyn crate::registry::source::Source,
    path: &str,
) -> Result<Vec<SchemaColumn>> {
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let read = |start: u64, len: u64, from_end: bool| {
        src.read_range(path, start, len, from_end)
            .map_err(|e| anyhow::anyhow!("reading {path}: {e}"))
    };
    match ext.as_str() {
        "parquet" | "pq" => {
            use polars::prelude::{ParquetReader, SerReader};
            let (tail, size) = read(0, 8, true)?;
            if size < 12 || tail.len() != 8 || &tail[4..] != b"PAR1" {
                bail!("{path} is not a Parquet file (no PAR1 footer)");
            }
            let meta_len = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
            if meta_len + 12 > size {
                bail!("{path}: its Parquet footer is longer than the file");
            }
            let (footer, _) = read(0, meta_len + 8, true)?;
            let schema = ParquetReader::new(std::io::Cursor::new(footer))
                .schema()
                .map_err(|e| anyhow::anyhow!("reading the Parquet schema of {path}: {e}"))?;
            Ok(schema
                .iter_values()
                .map(|f| SchemaColumn {
                    name: f.name.to_string(),
                    dtype: Some(DataType::from_arrow_field(f)),
                })
                .collect())
        }
        "csv" | "tsv" => {
            let sep = if ext == "tsv" { '\t' } else { ',' };
            let (head, size) = read(0, 1 << 16, false)?;
            let text = String::from_utf8_lossy(&head);
            let line = match text.find('\n') {
                Some(i) => &text[..i],
                None if size <= 1 << 16 => &text[..],
                None => bail!("{path}: no header line in its first 64 KiB"),
            };
            Ok(line
                .trim_end_matches('\r')
                .trim_start_matches('\u{feff}')
                .split(sep)
                .map(|n| SchemaColumn {
                    name: n.trim().trim_matches('"').to_string(),
                    dtype: None,
                })
                .collect())
        }
        _ => bail!("{path}: expected a .parquet or .csv file"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A registry pattern copied out of a source matches what it matches in a working tree:
    /// a file, a glob whose `*` stays in its folder, `**` across folders; a link it matches,
    /// a path out of the repository and a pattern matching nothing are refused.
    #[test]
    fn export_from_source_matches_as_a_working_tree_does() {
        let repo = tempfile::tempdir().unwrap();
        let r = repo.path();
        std::fs::create_dir_all(r.join("ref/sub")).unwrap();
        for f in [
            "ref/a.parquet",
            "ref/b.parquet",
            "ref/sub/c.parquet",
            "ref/x.csv",
        ] {
            std::fs::write(r.join(f), f).unwrap();
        }
        let src = crate::registry::source::FsSource::new(r).unwrap();
        let exported = |pattern: &str| -> Result<Vec<String>> {
            let into = tempfile::tempdir().unwrap();
            export_from_source(pattern, &src, into.path())?;
            let mut files: Vec<String> = expand_in_repository(pattern, into.path())?
                .iter()
                .map(|p| {
                    let rel = p.strip_prefix(into.path()).unwrap();
                    let text = std::fs::read_to_string(p).unwrap();
                    assert_eq!(text, rel.to_string_lossy().replace('\\', "/"));
                    text
                })
                .collect();
            files.sort();
            Ok(files)
        };
        assert_eq!(exported("ref/a.parquet").unwrap(), ["ref/a.parquet"]);
        assert_eq!(
            exported("./ref/*.parquet").unwrap(),
            ["ref/a.parquet", "ref/b.parquet"]
        );
        assert_eq!(
            exported("ref/**/*.parquet").unwrap(),
            ["ref/a.parquet", "ref/b.parquet", "ref/sub/c.parquet"]
        );
        assert!(exported("ref/*.json").is_err());
        assert!(exported("../ref/a.parquet").is_err());
        assert!(exported("ref/missing.parquet").is_err());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc/hostname", r.join("ref/link.parquet")).unwrap();
            let e = exported("ref/*.parquet").unwrap_err().to_string();
            assert!(e.contains("ref/link.parquet") && e.contains("link"), "{e}");
        }
    }
}
