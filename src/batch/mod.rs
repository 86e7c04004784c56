//! Batch inference with lineage: score Parquet/CSV input with an ONNX model through ONNX
//! Runtime, batch by batch (memory stays bounded whatever the input size), and write Parquet
//! output in which every prediction carries its lineage: a stable `prediction_id`, the model,
//! version and artifact digest, and the time of scoring. A manifest beside the output records
//! the inputs and output with their digests.

pub mod install;
pub mod lineage;
pub mod runtime;

use crate::monitor::data;
use crate::registry::types::Timestamp;
use crate::shard::Shard;
use anyhow::{Context, Result, bail};
use polars::prelude::{
    AnyValue, Column, DataFrame, DataType, IntoColumn, LazyFrame, NamedFrom, ParquetCompression,
    ParquetWriter, Scalar, Series, TimeUnit,
};
use serde::Serialize;
use std::path::{Path, PathBuf};

pub use crate::scoring::Feature;

/// What is scored.
#[derive(Clone, Debug, Serialize)]
pub struct Target {
    /// Model name (or the ONNX file name without a registry).
    pub model: String,
    /// Version (0 without a registry).
    pub version: u32,
    /// The alias it was resolved from.
    pub alias: Option<String>,
    /// sha256 of the artifact, verified before loading.
    pub artifact_sha256: String,
    /// Where the artifact is.
    pub artifact: String,
    /// The features, in tensor order.
    #[serde(skip)]
    pub features: Vec<Feature>,
}

/// How to score.
#[derive(Clone, Debug)]
pub struct Options {
    /// Input path or glob.
    pub input: String,
    /// Base folder of relative paths.
    pub base: PathBuf,
    /// Output Parquet file.
    pub output: PathBuf,
    /// Id columns copied to the output (none: a `row` number).
    pub id_columns: Vec<String>,
    /// Rows per batch.
    pub batch_size: usize,
    /// ONNX Runtime intra-op threads.
    pub threads: usize,
    /// Only the rows of this shard (by their id, or content).
    pub shard: Option<Shard>,
    /// Decision threshold of `prediction`.
    pub threshold: f64,
    /// The time written as `scored_at`.
    pub scored_at: Timestamp,
    /// Also append the scored rows (features included) to this Parquet file: the inference
    /// log that the drift job reads.
    pub log: Option<PathBuf>,
    /// Show a progress bar.
    pub progress: bool,
}

/// An input file with its digest.
#[derive(Clone, Debug, Serialize)]
pub struct InputFile {
    /// Path as given.
    pub path: String,
    /// sha256.
    pub sha256: String,
    /// Rows read.
    pub rows: u64,
}

/// The run manifest written beside the output (`<output>.manifest.json`).
#[derive(Clone, Debug, Serialize)]
pub struct Manifest {
    /// What was scored with.
    pub target: Target,
    /// The inputs.
    pub inputs: Vec<InputFile>,
    /// The output file.
    pub output: String,
    /// Its sha256.
    pub output_sha256: String,
    /// Rows written.
    pub rows: u64,
    /// The shard, `i/N`, if any.
    pub shard: Option<String>,
    /// scored_at.
    pub scored_at: String,
    /// Seconds taken.
    pub duration_seconds: f64,
    /// The inference log appended to, if any.
    pub log: Option<String>,
    /// modelgate's version.
    pub modelgate_version: String,
}

/// The stable id of a prediction: the first 128 bits of the sha256 of model, version and the
/// row's key, as 32 hex digits.
pub fn prediction_id(model: &str, version: u32, key: &str) -> String {
    PredictionIds::new(model, version).id(key)
}

/// [`prediction_id`] for many rows of one model version: the hash of the model and version is
/// computed once, and each row only hashes its key.
#[derive(Clone)]
pub struct PredictionIds(sha2::Sha256);

impl PredictionIds {
    /// For `model` at `version`.
    pub fn new(model: &str, version: u32) -> Self {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(model.as_bytes());
        h.update([0u8]);
        h.update(version.to_string().as_bytes());
        h.update([0u8]);
        PredictionIds(h)
    }

    /// The id of the row whose key is `key`.
    pub fn id(&self, key: &str) -> String {
        use sha2::Digest;
        let mut h = self.0.clone();
        h.update(key.as_bytes());
        let digest = h.finalize();
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(32);
        for b in &digest[..16] {
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
        out
    }
}

fn lazy(path: &Path) -> Result<LazyFrame> {
    data::scan_file(path)
}

/// One batch, read and encoded, ready to score (only the rows of this shard).
struct Prepared {
    /// The input rows kept.
    input: DataFrame,
    /// Their features, row-major.
    matrix: Vec<f32>,
    /// Their prediction ids.
    ids: Vec<String>,
    /// Their 1-based row numbers in the file (when there is no id column).
    rows: Vec<u64>,
}

/// Reads every input file batch by batch and sends prepared batches; returns the inputs read.
fn read_and_prepare(
    files: &[PathBuf],
    target: &Target,
    opts: &Options,
    tx: &std::sync::mpsc::SyncSender<Result<Prepared>>,
) -> Result<Vec<InputFile>> {
    let n = target.features.len();
    let id_of = PredictionIds::new(&target.model, target.version);
    let mut inputs = Vec::new();
    for file in files {
        let lf = lazy(file)?;
        let total = lf
            .clone()
            .select([polars::prelude::len()])
            .collect()
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?
            .column("len")
            .ok()
            .and_then(|c| c.get(0).ok())
            .and_then(|v| v.extract::<u64>())
            .unwrap_or(0);
        let mut offset = 0u64;
        while offset < total {
            let df = lf
                .clone()
                .slice(offset as i64, opts.batch_size as polars::prelude::IdxSize)
                .collect()
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?;
            let height = df.height();
            if height == 0 {
                break;
            }
            let crate::scoring::Encoded { matrix, keys } = crate::scoring::encode_frame(
                &df,
                &target.features,
                &opts.id_columns,
                file,
                offset,
            )?;
            let keep: Vec<bool> = keys
                .iter()
                .map(|k| opts.shard.is_none_or(|s| s.owns(k)))
                .collect();
            let kept = keep.iter().filter(|k| **k).count();
            if kept > 0 {
                let mut m = Vec::with_capacity(kept * n);
                let mut ids = Vec::with_capacity(kept);
                let mut rows = Vec::new();
                for (i, k) in keep.iter().enumerate() {
                    if *k {
                        m.extend_from_slice(&matrix[i * n..(i + 1) * n]);
                        ids.push(id_of.id(&keys[i]));
                        if opts.id_columns.is_empty() {
                            rows.push(offset + i as u64 + 1);
                        }
                    }
                }
                let input = if kept == height {
                    df
                } else {
                    let mask: polars::prelude::BooleanChunked =
                        keep.iter().map(|k| Some(*k)).collect();
                    df.filter(&mask)?
                };
                let prepared = Prepared {
                    input,
                    matrix: m,
                    ids,
                    rows,
                };
                if tx.send(Ok(prepared)).is_err() {
                    // The scorer stopped (it failed): its error is the one to report.
                    return Ok(inputs);
                }
            }
            offset += height as u64;
        }
        inputs.push(InputFile {
            path: file.to_string_lossy().into_owned(),
            sha256: data::file_sha256(file)?.hex(),
            rows: total,
        });
    }
    Ok(inputs)
}

/// The output frame of a scored batch.
fn output_frame(
    p: &mut Prepared,
    scores: Vec<f64>,
    target: &Target,
    opts: &Options,
    scored_at_micros: i64,
) -> Result<DataFrame> {
    let kept = scores.len();
    let mut cols: Vec<Column> = Vec::new();
    if opts.id_columns.is_empty() {
        cols.push(Series::new("row".into(), std::mem::take(&mut p.rows)).into_column());
    } else {
        for c in &opts.id_columns {
            cols.push(p.input.column(c)?.clone());
        }
    }
    let predictions: Vec<i32> = scores
        .iter()
        .map(|s| crate::scoring::prediction(*s, opts.threshold))
        .collect();
    cols.push(Series::new("score".into(), scores).into_column());
    cols.push(Series::new("prediction".into(), predictions).into_column());
    cols.push(Series::new("prediction_id".into(), std::mem::take(&mut p.ids)).into_column());
    // Columns with one value for the whole run are scalar columns: no per-row copies.
    let constant = |name: &str, dtype: DataType, value: AnyValue<'static>| {
        Column::new_scalar(name.into(), Scalar::new(dtype, value), kept)
    };
    cols.push(constant(
        "model",
        DataType::String,
        AnyValue::StringOwned(target.model.as_str().into()),
    ));
    cols.push(constant(
        "version",
        DataType::UInt32,
        AnyValue::UInt32(target.version),
    ));
    cols.push(constant(
        "artifact_sha256",
        DataType::String,
        AnyValue::StringOwned(target.artifact_sha256.as_str().into()),
    ));
    cols.push(
        constant(
            "scored_at",
            DataType::Int64,
            AnyValue::Int64(scored_at_micros),
        )
        .cast(&DataType::Datetime(
            TimeUnit::Microseconds,
            Some(polars::prelude::TimeZone::UTC),
        ))?,
    );
    Ok(DataFrame::new(kept, cols)?)
}

/// The file `batch --log` appends to: `file_name` in the folder of the path or glob `current`
/// (`monitoring.predictions`, else `monitoring.current`; relative to the registry root `root`;
/// `what` names the file and key where it is set, for errors).
/// Missing folders are created. The log is written only inside the registry repository: a
/// folder given as an absolute path, with `..`, or reached through a symbolic link that leads
/// outside `root` is refused, and so is a log file that is itself a symbolic link.
pub fn log_path(root: &Path, current: &str, what: &str, file_name: &str) -> Result<PathBuf> {
    use std::path::Component;
    let outside = |why: String| {
        anyhow::anyhow!(
            "{what} is `{current}`, but {why}; the inference log of `batch --log` is written only inside the registry repository {}: expected a path relative to it, without `..` or links that lead out of it",
            root.display()
        )
    };
    let folder = Path::new(current).parent().unwrap_or(Path::new(""));
    let mut parts = Vec::new();
    for c in folder.components() {
        match c {
            Component::Normal(p) => parts.push(p.to_os_string()),
            Component::CurDir => {}
            Component::ParentDir => return Err(outside("it climbs out with `..`".into())),
            Component::RootDir | Component::Prefix(_) => {
                return Err(outside("it is an absolute path".into()));
            }
        }
    }
    let top = root
        .canonicalize()
        .with_context(|| format!("resolving the registry root {}", root.display()))?;
    let mut dir = top.clone();
    for p in parts {
        let next = dir.join(&p);
        match std::fs::symlink_metadata(&next) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = next.canonicalize().map_err(|e| {
                    outside(format!(
                        "{} is a symbolic link that cannot be followed ({e})",
                        next.display()
                    ))
                })?;
                if !to.starts_with(&top) {
                    return Err(outside(format!(
                        "{} is a symbolic link to {}, outside the repository",
                        next.display(),
                        to.display()
                    )));
                }
                if !to.is_dir() {
                    bail!("{what}: {} is not a folder", next.display());
                }
                dir = to;
            }
            Ok(m) if m.is_dir() => dir = next,
            Ok(_) => bail!(
                "{what}: {} is a file; expected the folder of the inference log",
                next.display()
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir(&next)
                    .with_context(|| format!("creating {}", next.display()))?;
                dir = next;
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", next.display())),
        }
    }
    let file = dir.join(file_name);
    if std::fs::symlink_metadata(&file).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(outside(format!(
            "the log file {} is a symbolic link; it is never written through",
            file.display()
        )));
    }
    Ok(file)
}

/// Writes output batches (and the log) as they come; returns when the channel closes.
fn write_batches(
    out_file: std::fs::File,
    log: Option<&Path>,
    rx: std::sync::mpsc::Receiver<(DataFrame, Option<DataFrame>)>,
) -> Result<u64> {
    let mut writer = None;
    let mut log_writer = None;
    let mut written = 0u64;
    for (out, full) in rx {
        if writer.is_none() {
            writer = Some(
                ParquetWriter::new(out_file.try_clone()?)
                    .with_compression(ParquetCompression::Snappy)
                    .batched(out.schema())?,
            );
        }
        if let Some(w) = writer.as_mut() {
            w.write_batch(&out)?;
        }
        if let (Some(path), Some(full)) = (log, full) {
            if log_writer.is_none() {
                let f = std::fs::File::create(path)
                    .with_context(|| format!("creating {}", path.display()))?;
                log_writer = Some(
                    ParquetWriter::new(f)
                        .with_compression(ParquetCompression::Snappy)
                        .batched(full.schema())?,
                );
            }
            if let Some(w) = log_writer.as_mut() {
                w.write_batch(&full)?;
            }
        }
        written += out.height() as u64;
    }
    match writer {
        Some(w) => {
            w.finish()?;
        }
        None => return Ok(0),
    }
    if let Some(w) = log_writer {
        w.finish()?;
    }
    Ok(written)
}

/// Scores the input with a model and writes the output, the manifest and the optional log.
///
/// Three stages overlap, connected by bounded channels (two batches in flight each, so memory
/// stays bounded): reading and encoding, scoring (ONNX Runtime), and writing Parquet.
pub fn run(model: &[u8], target: &Target, opts: &Options) -> Result<Manifest> {
    let started = std::time::Instant::now();
    let mut scorer = crate::scoring::load_session(model, opts.threads, &target.features)?;
    let files = data::expand(&opts.input, &opts.base)?;
    let out_file = std::fs::File::create(&opts.output)
        .with_context(|| format!("creating {}", opts.output.display()))?;
    let n = target.features.len();
    let progress = opts.progress.then(|| {
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {pos} rows scored ({per_sec})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        pb
    });
    let scored_at_micros = opts.scored_at.at.timestamp_micros();
    let outcome = std::thread::scope(|s| -> Result<(Vec<InputFile>, u64)> {
        let (tx_in, rx_in) = std::sync::mpsc::sync_channel::<Result<Prepared>>(2);
        let (tx_out, rx_out) = std::sync::mpsc::sync_channel(2);
        let files = &files;
        let reader = s.spawn(move || {
            let r = read_and_prepare(files, target, opts, &tx_in);
            if let Err(e) = &r {
                let _ = tx_in.send(Err(anyhow::anyhow!("{e:#}")));
            }
            r
        });
        let log = opts.log.as_deref();
        let writer = s.spawn(move || write_batches(out_file, log, rx_out));
        let mut scored = 0u64;
        let mut failure = None;
        for prepared in rx_in {
            let step = (|| -> Result<()> {
                let mut p = prepared?;
                let rows = p.ids.len();
                let scores = scorer.score(std::mem::take(&mut p.matrix), rows, n)?;
                let out = output_frame(&mut p, scores, target, opts, scored_at_micros)?;
                let full = match opts.log {
                    Some(_) => {
                        let mut full = p.input.clone();
                        for c in out.columns() {
                            if full.column(c.name()).is_err() {
                                full.with_column(c.clone())?;
                            }
                        }
                        Some(full)
                    }
                    None => None,
                };
                scored += rows as u64;
                if let Some(pb) = &progress {
                    pb.set_position(scored);
                }
                tx_out
                    .send((out, full))
                    .map_err(|_| anyhow::anyhow!("the Parquet writer stopped"))
            })();
            if let Err(e) = step {
                failure = Some(e);
                break;
            }
        }
        drop(tx_out);
        let written = writer
            .join()
            .map_err(|_| anyhow::anyhow!("the Parquet writer panicked"))?;
        let inputs = reader
            .join()
            .map_err(|_| anyhow::anyhow!("the reader panicked"))?;
        if let Some(e) = failure {
            return Err(e);
        }
        Ok((inputs?, written?))
    });
    if let Some(pb) = progress {
        pb.finish_and_clear();
    }
    // Never leave a partial output behind.
    let remove_outputs = || {
        let _ = std::fs::remove_file(&opts.output);
        if let Some(l) = &opts.log {
            let _ = std::fs::remove_file(l);
        }
    };
    let (inputs, written) = match outcome {
        Ok(x) => x,
        Err(e) => {
            remove_outputs();
            return Err(e);
        }
    };
    if written == 0 {
        remove_outputs();
        bail!(
            "no row was scored: the input is empty{}",
            if opts.shard.is_some() {
                " (or none of it is in this shard)"
            } else {
                ""
            }
        );
    }
    let manifest = Manifest {
        target: target.clone(),
        inputs,
        output: opts.output.to_string_lossy().into_owned(),
        output_sha256: data::file_sha256(&opts.output)?.hex(),
        rows: written,
        shard: opts.shard.map(|s| format!("{}/{}", s.index, s.count)),
        scored_at: opts.scored_at.raw.clone(),
        duration_seconds: started.elapsed().as_secs_f64(),
        log: opts.log.as_ref().map(|l| l.to_string_lossy().into_owned()),
        modelgate_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let mpath = manifest_path(&opts.output);
    crate::registry::write::write_atomic(
        &mpath,
        (serde_json::to_string_pretty(&manifest)? + "\n").as_bytes(),
    )?;
    Ok(manifest)
}

/// `<output>.manifest.json`.
pub fn manifest_path(output: &Path) -> PathBuf {
    let mut s = output.as_os_str().to_owned();
    s.push(".manifest.json");
    PathBuf::from(s)
}

/// Scores a whole in-memory frame with a loaded model (used by `register --evaluate`): the
/// probability of the positive class for every row, in order.
pub fn score_frame(
    scorer: &mut runtime::Scorer,
    features: &[Feature],
    df: &DataFrame,
    file: &Path,
) -> Result<Vec<f64>> {
    let matrix = crate::scoring::encode_frame(df, features, &[], file, 0)?.matrix;
    let rows = df.height();
    let mut out = Vec::with_capacity(rows);
    let n = features.len();
    let chunk = 65_536;
    let mut start = 0;
    while start < rows {
        let end = (start + chunk).min(rows);
        let part = matrix[start * n..end * n].to_vec();
        out.extend(scorer.score(part, end - start, n)?);
        start = end;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    /// The id is pinned: sha256("heart_disease\0" "3\0" "P0001\x1f"), first 16 bytes, as
    /// Python's hashlib computes it; ids written by earlier runs stay findable.
    #[test]
    fn prediction_ids_are_stable() {
        assert_eq!(
            super::prediction_id("heart_disease", 3, "P0001\u{1f}"),
            "3a6abd51b2e2ca17485e2174d717236f"
        );
        let ids = super::PredictionIds::new("heart_disease", 3);
        assert_eq!(ids.id("P0001\u{1f}"), "3a6abd51b2e2ca17485e2174d717236f");
        assert_ne!(ids.id("P0002\u{1f}"), ids.id("P0001\u{1f}"));
    }
}
