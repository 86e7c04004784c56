//! Batch inference with lineage: score Parquet/CSV input with an ONNX model through ONNX
//! Runtime, batch by batch (memory stays bounded whatever the input size), and write Parquet
//! output in which every prediction carries its lineage: a stable `prediction_id`, the model,
//! version and artifact digest, and the time of scoring. A manifest beside the output records
//! the inputs and output with their digests.

pub mod lineage;
pub mod runtime;

use crate::monitor::data;
use crate::registry::schema::FeatureType;
use crate::registry::types::{Sha256, Timestamp};
use crate::shard::Shard;
use anyhow::{Context, Result, bail};
use polars::prelude::{
    Column, DataFrame, DataType, IntoColumn, LazyFrame, NamedFrom, ParquetWriter, Series, TimeUnit,
};
use serde::Serialize;
use std::path::{Path, PathBuf};

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

/// The stable id of a prediction: model, version and the row's key.
pub fn prediction_id(model: &str, version: u32, key: &str) -> String {
    Sha256::of(format!("{model}\u{0}{version}\u{0}{key}").as_bytes()).hex()[..32].to_string()
}

fn lazy(path: &Path) -> Result<LazyFrame> {
    data::scan_file(path)
}

/// The encoded feature matrix of a batch, row-major, and each row's key.
fn encode(
    df: &DataFrame,
    features: &[Feature],
    id_columns: &[String],
    file: &Path,
    first_row: u64,
) -> Result<(Vec<f32>, Vec<String>)> {
    let rows = df.height();
    let n = features.len();
    let mut matrix = vec![0f32; rows * n];
    let mut content_keys: Vec<String> = vec![String::new(); rows];
    for (j, f) in features.iter().enumerate() {
        let s = df
            .column(&f.name)
            .map_err(|_| {
                anyhow::anyhow!(
                    "{}: no column `{}` (a feature of the model)",
                    file.display(),
                    f.name
                )
            })?
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
                    // A missing number is NaN: tree models route it as missing.
                    let x = v.unwrap_or(f64::NAN);
                    matrix[i * n + j] = x as f32;
                    if id_columns.is_empty() {
                        content_keys[i].push_str(&format!("{x}\u{1f}"));
                    }
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
                    let Some(idx) = cats.iter().position(|c| c == v) else {
                        bail!(
                            "{}: feature `{}` has the category `{v}` at row {row}, which the model does not know (categories: {})",
                            file.display(),
                            f.name,
                            cats.join(", ")
                        );
                    };
                    matrix[i * n + j] = idx as f32;
                    if id_columns.is_empty() {
                        content_keys[i].push_str(v);
                        content_keys[i].push('\u{1f}');
                    }
                }
            }
        }
    }
    let keys = if id_columns.is_empty() {
        content_keys
    } else {
        let mut keys = vec![String::new(); rows];
        for c in id_columns {
            let s = df
                .column(c)
                .map_err(|_| anyhow::anyhow!("{}: no id column `{c}`", file.display()))?
                .as_materialized_series()
                .cast(&DataType::String)?;
            for (i, v) in s.str()?.iter().enumerate() {
                keys[i].push_str(v.unwrap_or(""));
                keys[i].push('\u{1f}');
            }
        }
        keys
    };
    Ok((matrix, keys))
}

/// Scores the input with a model and writes the output, the manifest and the optional log.
pub fn run(model: &[u8], target: &Target, opts: &Options) -> Result<Manifest> {
    let started = std::time::Instant::now();
    let mut scorer = runtime::Scorer::new(model, opts.threads)?;
    if let Some(n) = scorer.n_features {
        if n != target.features.len() {
            bail!(
                "the model expects {n} features but {} are listed ({})",
                target.features.len(),
                target
                    .features
                    .iter()
                    .map(|f| f.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    let files = data::expand(&opts.input, &opts.base)?;
    let out_file = std::fs::File::create(&opts.output)
        .with_context(|| format!("creating {}", opts.output.display()))?;
    let mut writer = None;
    let mut log_writer = None;
    let mut inputs = Vec::new();
    let mut written = 0u64;
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
    for file in &files {
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
            let rows = df.height();
            if rows == 0 {
                break;
            }
            let (matrix, keys) = encode(&df, &target.features, &opts.id_columns, file, offset)?;
            let keep: Vec<bool> = keys
                .iter()
                .map(|k| opts.shard.is_none_or(|s| s.owns(k)))
                .collect();
            let kept = keep.iter().filter(|k| **k).count();
            if kept > 0 {
                let mut m = Vec::with_capacity(kept * n);
                for (i, k) in keep.iter().enumerate() {
                    if *k {
                        m.extend_from_slice(&matrix[i * n..(i + 1) * n]);
                    }
                }
                let scores = scorer.score(m, kept, n)?;
                let mask: polars::prelude::BooleanChunked = keep.iter().map(|k| Some(*k)).collect();
                let input = df.filter(&mask)?;
                let kept_keys: Vec<&String> = keys
                    .iter()
                    .zip(&keep)
                    .filter(|(_, k)| **k)
                    .map(|(key, _)| key)
                    .collect();
                let mut cols: Vec<Column> = Vec::new();
                if opts.id_columns.is_empty() {
                    let rows_idx: Vec<u64> = (0..rows as u64)
                        .zip(&keep)
                        .filter(|(_, k)| **k)
                        .map(|(i, _)| offset + i + 1)
                        .collect();
                    cols.push(Series::new("row".into(), rows_idx).into_column());
                } else {
                    for c in &opts.id_columns {
                        cols.push(input.column(c)?.clone());
                    }
                }
                let predictions: Vec<i32> = scores
                    .iter()
                    .map(|s| i32::from(*s >= opts.threshold))
                    .collect();
                let ids: Vec<String> = kept_keys
                    .iter()
                    .map(|k| prediction_id(&target.model, target.version, k))
                    .collect();
                cols.push(Series::new("score".into(), scores).into_column());
                cols.push(Series::new("prediction".into(), predictions).into_column());
                cols.push(Series::new("prediction_id".into(), ids).into_column());
                cols.push(
                    Series::new("model".into(), vec![target.model.clone(); kept]).into_column(),
                );
                cols.push(Series::new("version".into(), vec![target.version; kept]).into_column());
                cols.push(
                    Series::new(
                        "artifact_sha256".into(),
                        vec![target.artifact_sha256.clone(); kept],
                    )
                    .into_column(),
                );
                cols.push(
                    Series::new("scored_at".into(), vec![scored_at_micros; kept])
                        .cast(&DataType::Datetime(
                            TimeUnit::Microseconds,
                            Some(polars::prelude::TimeZone::UTC),
                        ))?
                        .into_column(),
                );
                let out = DataFrame::new(kept, cols)?;
                if writer.is_none() {
                    writer = Some(ParquetWriter::new(out_file.try_clone()?).batched(out.schema())?);
                }
                if let Some(w) = writer.as_mut() {
                    w.write_batch(&out)?;
                }
                if let Some(log) = &opts.log {
                    let mut full = input.clone();
                    for c in out.columns() {
                        if full.column(c.name()).is_err() {
                            full.with_column(c.clone())?;
                        }
                    }
                    if log_writer.is_none() {
                        let f = std::fs::File::create(log)
                            .with_context(|| format!("creating {}", log.display()))?;
                        log_writer = Some(ParquetWriter::new(f).batched(full.schema())?);
                    }
                    if let Some(w) = log_writer.as_mut() {
                        w.write_batch(&full)?;
                    }
                }
                written += kept as u64;
                if let Some(pb) = &progress {
                    pb.set_position(written);
                }
            }
            offset += rows as u64;
        }
        inputs.push(InputFile {
            path: file.to_string_lossy().into_owned(),
            sha256: data::file_sha256(file)?.hex(),
            rows: total,
        });
    }
    match writer {
        Some(w) => {
            w.finish()?;
        }
        None => bail!(
            "no row was scored: the input is empty{}",
            if opts.shard.is_some() {
                " (or none of it is in this shard)"
            } else {
                ""
            }
        ),
    }
    if let Some(w) = log_writer {
        w.finish()?;
    }
    if let Some(pb) = progress {
        pb.finish_and_clear();
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
