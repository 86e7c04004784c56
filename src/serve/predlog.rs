//! The prediction log of `modelgate serve`: every served prediction, appended to Parquet in the
//! columns the drift job and `bias` read from `batch --log` output, written off the request
//! path.
//!
//! **Columns.** The model's features (numerical as `Float64`, categorical as text; then the
//! protected attributes that are not features, as text), as the request gave them; `score`,
//! `prediction` (`Int32`), `prediction_id`, `model`, `version` (`UInt32`), `artifact_sha256`
//! and `scored_at` (microseconds, UTC) exactly as `batch` writes them — so a log file is
//! "scored output" to the drift job ([`crate::monitor::data::SCORED_COLUMNS`]) — and then `alias`,
//! `request_key` (null without one) and `shadow`.
//!
//! **Files.** Served rows go to the log folder, shadow rows (a challenger scored behind the
//! champion, never returned) to its `shadow/` subfolder, so that the drift job, which reads
//! `*.parquet` of the folder, counts each request once. A file is written as a hidden
//! `.served-….parquet.part` and renamed to `served-<UTC time>-<process token>-<n>.parquet` once
//! finished: a file appears whole or not at all, and a finished file is never opened again.
//! A file is finished when it reaches `max_bytes` (checked after each written batch), when it
//! is `max_age` old, on [`PredictionLog::flush`] and on [`PredictionLog::close`].
//!
//! **Memory.** [`PredictionLog::append`] never blocks the request: rows go through a bounded
//! channel of `capacity` rows to one writer thread, which writes them in batches of
//! `batch_rows`. When the channel is full the row is **dropped and counted**
//! ([`LogStats::dropped`]); a request is never slowed by the disk. Memory is bounded by
//! `capacity + 2 × batch_rows` rows (the channel, and a batch each of served and shadow rows).
//! Under load the writer sleeps a few milliseconds after each round of rows, so appending a row
//! does not wake a thread (a system call) on the request path.

use crate::batch::Feature;
use crate::registry::schema::ModelSpec;
use crate::registry::types::Alias;
use anyhow::{Context, Result, bail};
use polars::prelude::{
    Column, DataFrame, DataType, IntoColumn, NamedFrom, ParquetCompression, ParquetWriter, Series,
    TimeUnit,
};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};

/// How long the writer sleeps after taking rows, gathering the next ones: at most this many
/// milliseconds' worth of rows wait in the channel (far below its capacity at any request rate
/// one process serves).
const GATHER: Duration = Duration::from_millis(10);

/// How much the writer thread lowers its priority (a nice value, Linux only, where it is a
/// thread's own): the log is background work, and a batch written on a busy core then waits for
/// the request threads instead of stalling the requests behind it for milliseconds. At this
/// value the scheduler still gives it about a quarter of a contended core, more than it needs.
#[cfg(target_os = "linux")]
const WRITER_NICE: i32 = 5;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The subfolder of shadow predictions.
pub const SHADOW_DIR: &str = "shadow";

/// The file name prefix of served logs.
pub const PREFIX: &str = "served-";

/// One column of the log that comes from the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputColumn {
    /// Its name.
    pub name: String,
    /// Numbers (`Float64`) or text.
    pub numerical: bool,
}

/// The request columns a model's log holds, in order: the features, then the protected
/// attributes that are not features (text; `bias` groups by them).
pub fn input_columns(spec: &ModelSpec) -> Vec<InputColumn> {
    let mut out: Vec<InputColumn> = spec
        .features
        .iter()
        .map(|f| InputColumn {
            name: f.name.clone(),
            numerical: Feature::from_spec(f).categories.is_none(),
        })
        .collect();
    for a in &spec.protected_attributes {
        if !out.iter().any(|c| &c.name == a) {
            out.push(InputColumn {
                name: a.clone(),
                numerical: false,
            });
        }
    }
    out
}

/// One served prediction.
#[derive(Clone, Debug)]
pub struct Served {
    /// The request's value of each [`input_columns`] column, in order, as received (`Null`
    /// when absent).
    pub inputs: Vec<serde_json::Value>,
    /// The score.
    pub score: f64,
    /// The decision (score at or above the threshold).
    pub prediction: i32,
    /// Its id.
    pub prediction_id: String,
    /// The version that scored it.
    pub version: u32,
    /// The alias it was served as.
    pub alias: Alias,
    /// sha256 of the artifact that scored it.
    pub artifact_sha256: String,
    /// When it was scored.
    pub served_at: chrono::DateTime<chrono::Utc>,
    /// The sticky key of the request, if any.
    pub request_key: Option<String>,
    /// Whether it was scored in shadow (logged, not returned).
    pub shadow: bool,
}

/// How the log writes.
#[derive(Clone, Debug)]
pub struct LogOptions {
    /// The log folder (shadow rows go to its `shadow/` subfolder).
    pub dir: PathBuf,
    /// Rows the channel holds before rows are dropped.
    pub capacity: usize,
    /// Rows written at once (and at most held by the writer).
    pub batch_rows: usize,
    /// Finish a file once it holds at least this many bytes.
    pub max_bytes: u64,
    /// Finish a file this long after its first row.
    pub max_age: Duration,
}

impl LogOptions {
    /// Defaults: 65,536 rows of room, batches of 4,096, files of 64 MiB or one hour.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        LogOptions {
            dir: dir.into(),
            capacity: 65_536,
            batch_rows: 4_096,
            max_bytes: 64 << 20,
            max_age: Duration::from_secs(3600),
        }
    }
}

/// What the log did so far.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LogStats {
    /// Rows handed to [`PredictionLog::append`] and accepted.
    pub accepted: u64,
    /// Rows dropped because the channel was full.
    pub dropped: u64,
    /// Rows in finished files.
    pub written: u64,
    /// Rows lost to a write error.
    pub failed: u64,
    /// Files finished.
    pub files: u64,
    /// The last write error, if any.
    pub last_error: Option<String>,
}

enum Msg {
    Row(Box<Served>),
    /// Finish the open files, then answer.
    Flush(mpsc::Sender<Result<(), String>>),
}

#[derive(Default)]
struct Counters {
    accepted: AtomicU64,
    dropped: AtomicU64,
    written: AtomicU64,
    failed: AtomicU64,
    files: AtomicU64,
    last_error: Mutex<Option<String>>,
}

/// The prediction log of one model.
pub struct PredictionLog {
    tx: Option<SyncSender<Msg>>,
    thread: Option<std::thread::JoinHandle<()>>,
    counters: Arc<Counters>,
    dir: PathBuf,
}

/// The folder served predictions of a model go to by default: the folder of its
/// `monitoring.predictions` (else `monitoring.current`), inside the registry root, created if
/// missing; refused outside the repository as `batch --log` refuses it.
pub fn default_dir(root: &Path, model_file: &str, spec: &ModelSpec) -> Result<PathBuf> {
    let mon = spec.monitoring.as_ref().with_context(|| {
        format!(
            "{model_file} has no `monitoring:` section: say where served predictions go (monitoring.predictions) or pass a log folder"
        )
    })?;
    let probe = crate::batch::log_path(
        root,
        mon.inference_log(),
        &format!("{model_file}: `{}`", mon.inference_log_key()),
        "served.parquet",
    )?;
    Ok(probe.parent().unwrap_or(root).to_path_buf())
}

impl PredictionLog {
    /// Opens the log of `model` (its request columns from [`input_columns`]) and starts its
    /// writer thread. Creates the folders; writes nothing until the first row.
    pub fn open(model: &str, columns: Vec<InputColumn>, opts: LogOptions) -> Result<Self> {
        if opts.capacity == 0 || opts.batch_rows == 0 {
            bail!("the prediction log needs room for at least one row (capacity and batch_rows)");
        }
        for d in [opts.dir.clone(), opts.dir.join(SHADOW_DIR)] {
            std::fs::create_dir_all(&d).with_context(|| format!("creating {}", d.display()))?;
        }
        let (tx, rx) = mpsc::sync_channel(opts.capacity);
        let counters = Arc::new(Counters::default());
        let writer = Writer {
            model: model.to_string(),
            columns,
            token: process_token(),
            seq: 0,
            served: Pending::default(),
            shadow: Pending::default(),
            counters: counters.clone(),
            opts: opts.clone(),
        };
        let thread = std::thread::Builder::new()
            .name(format!("predlog-{model}"))
            .spawn(move || writer.run(rx))
            .context("starting the prediction log's writer thread")?;
        Ok(PredictionLog {
            tx: Some(tx),
            thread: Some(thread),
            counters,
            dir: opts.dir,
        })
    }

    /// The log folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Hands a row to the writer without waiting: `false` when it was dropped (the channel is
    /// full, or the log is closed).
    pub fn append(&self, row: Served) -> bool {
        let sent = match &self.tx {
            Some(tx) => match tx.try_send(Msg::Row(Box::new(row))) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => false,
            },
            None => false,
        };
        let c = if sent {
            &self.counters.accepted
        } else {
            &self.counters.dropped
        };
        c.fetch_add(1, Ordering::Relaxed);
        sent
    }

    /// Waits until every row accepted so far is in a finished file (the open files are
    /// finished; the next rows start new ones).
    pub fn flush(&self) -> Result<()> {
        let tx = self.tx.as_ref().context("the prediction log is closed")?;
        let (ack, done) = mpsc::channel();
        tx.send(Msg::Flush(ack))
            .map_err(|_| anyhow::anyhow!("the prediction log's writer stopped"))?;
        done.recv()
            .map_err(|_| anyhow::anyhow!("the prediction log's writer stopped"))?
            .map_err(|e| anyhow::anyhow!("{e}"))
    }

    /// What the log did so far.
    pub fn stats(&self) -> LogStats {
        let c = &self.counters;
        LogStats {
            accepted: c.accepted.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            written: c.written.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            files: c.files.load(Ordering::Relaxed),
            last_error: c.last_error.lock().map(|e| e.clone()).unwrap_or_default(),
        }
    }

    /// Writes every accepted row, finishes the files and stops the writer (graceful shutdown).
    pub fn close(mut self) -> Result<LogStats> {
        self.shutdown()?;
        Ok(self.stats())
    }

    fn shutdown(&mut self) -> Result<()> {
        let flushed = if self.tx.is_some() {
            self.flush()
        } else {
            Ok(())
        };
        drop(self.tx.take());
        if let Some(t) = self.thread.take() {
            t.join()
                .map_err(|_| anyhow::anyhow!("the prediction log's writer panicked"))?;
        }
        flushed
    }
}

impl Drop for PredictionLog {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            log::warn!(
                "closing the prediction log of {}: {e:#}",
                self.dir.display()
            );
        }
    }
}

/// Distinguishes the files of processes writing to one folder (replicas of a server).
fn process_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    format!("{:08x}", h.finish() as u32)
}

/// An open log file behind a buffer, shared with the Parquet writer, which the writer thread
/// flushes after each batch: a batch reaches the file in a few large writes, not one a page.
#[derive(Clone)]
struct LogFile(Arc<Mutex<std::io::BufWriter<std::fs::File>>>);

impl LogFile {
    fn new(file: std::fs::File) -> Self {
        LogFile(Arc::new(Mutex::new(std::io::BufWriter::with_capacity(
            1 << 20,
            file,
        ))))
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<T>,
    ) -> std::io::Result<T> {
        let mut w = self
            .0
            .lock()
            .map_err(|_| std::io::Error::other("the log file's lock is poisoned"))?;
        f(&mut w)
    }
}

impl std::io::Write for LogFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.with(|w| w.write(buf))
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.with(|w| w.write_all(buf))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.with(|w| w.flush())
    }
}

/// Rows waiting, and the open file of one stream (served or shadow).
#[derive(Default)]
struct Pending {
    rows: Vec<Served>,
    open: Option<OpenFile>,
}

struct OpenFile {
    part: PathBuf,
    done: PathBuf,
    writer: polars::io::parquet::write::BatchedWriter<LogFile>,
    /// The file under the writer, flushed after each batch.
    file: LogFile,
    rows: u64,
    since: Instant,
}

struct Writer {
    model: String,
    columns: Vec<InputColumn>,
    token: String,
    seq: u64,
    served: Pending,
    shadow: Pending,
    counters: Arc<Counters>,
    opts: LogOptions,
}

impl Writer {
    fn run(mut self, rx: Receiver<Msg>) {
        #[cfg(target_os = "linux")]
        if let Err(e) = rustix::process::nice(WRITER_NICE) {
            log::debug!(
                "prediction log of {}: lowering its priority: {e}",
                self.model
            );
        }
        let tick = self
            .opts
            .max_age
            .min(Duration::from_secs(1))
            .max(Duration::from_millis(10));
        loop {
            let first = rx.recv_timeout(tick);
            let rows = matches!(first, Ok(Msg::Row(_)));
            if !self.handle(first) {
                return;
            }
            while let Ok(msg) = rx.try_recv() {
                if !self.handle(Ok(msg)) {
                    return;
                }
            }
            if rows {
                // Under load rows come steadily: gather them while asleep rather than being woken
                // (a futex call on the request path) for every row.
                std::thread::sleep(GATHER);
            }
        }
    }

    /// Handles one message (or the tick); false once every sender is gone and all is written.
    fn handle(&mut self, msg: Result<Msg, RecvTimeoutError>) -> bool {
        match msg {
            Ok(Msg::Row(r)) => {
                let shadow = r.shadow;
                self.pending(shadow).rows.push(*r);
                if self.pending(shadow).rows.len() >= self.opts.batch_rows {
                    self.write(shadow, false);
                }
            }
            Ok(Msg::Flush(ack)) => {
                let before = self.counters.failed.load(Ordering::Relaxed);
                self.write(false, true);
                self.write(true, true);
                let after = self.counters.failed.load(Ordering::Relaxed);
                let _ = ack.send(if after == before {
                    Ok(())
                } else {
                    Err(format!(
                        "{} rows could not be written: {}",
                        after - before,
                        self.counters
                            .last_error
                            .lock()
                            .map(|e| e.clone().unwrap_or_default())
                            .unwrap_or_default()
                    ))
                });
            }
            Err(RecvTimeoutError::Timeout) => {
                // A quiet server still writes what waits, and finishes files that are old.
                for shadow in [false, true] {
                    let p = self.pending(shadow);
                    if !p.rows.is_empty() || p.open.is_some() {
                        self.write(shadow, false);
                    }
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                self.write(false, true);
                self.write(true, true);
                return false;
            }
        }
        true
    }

    fn pending(&mut self, shadow: bool) -> &mut Pending {
        if shadow {
            &mut self.shadow
        } else {
            &mut self.served
        }
    }

    fn fail(&self, rows: u64, e: &anyhow::Error) {
        self.counters.failed.fetch_add(rows, Ordering::Relaxed);
        log::warn!("prediction log of {}: {e:#}", self.model);
        if let Ok(mut last) = self.counters.last_error.lock() {
            *last = Some(format!("{e:#}"));
        }
    }

    /// Writes the waiting rows of one stream; finishes its file when `finish`, too big or too old.
    fn write(&mut self, shadow: bool, finish: bool) {
        let rows = std::mem::take(&mut self.pending(shadow).rows);
        if !rows.is_empty() {
            let n = rows.len() as u64;
            if let Err(e) = self.write_rows(shadow, &rows) {
                self.fail(n, &e);
                // The open file may be damaged: drop it; its rows are lost and counted.
                if let Some(f) = self.pending(shadow).open.take() {
                    self.counters.failed.fetch_add(f.rows, Ordering::Relaxed);
                    let _ = std::fs::remove_file(&f.part);
                }
                return;
            }
        }
        let max_bytes = self.opts.max_bytes;
        let max_age = self.opts.max_age;
        let due = self.pending(shadow).open.as_ref().is_some_and(|f| {
            finish
                || f.since.elapsed() >= max_age
                || std::fs::metadata(&f.part).is_ok_and(|m| m.len() >= max_bytes)
        });
        if due {
            if let Some(f) = self.pending(shadow).open.take() {
                let n = f.rows;
                match finish_file(f) {
                    Ok(()) => {
                        self.counters.written.fetch_add(n, Ordering::Relaxed);
                        self.counters.files.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => self.fail(n, &e),
                }
            }
        }
    }

    fn write_rows(&mut self, shadow: bool, rows: &[Served]) -> Result<()> {
        let df = frame(&self.model, &self.columns, rows)?;
        if self.pending(shadow).open.is_none() {
            let f = self.new_file(shadow, &df)?;
            self.pending(shadow).open = Some(f);
        }
        let Some(f) = self.pending(shadow).open.as_mut() else {
            bail!("no open file");
        };
        f.writer
            .write_batch(&df)
            .with_context(|| format!("writing {}", f.part.display()))?;
        std::io::Write::flush(&mut f.file)
            .with_context(|| format!("writing {}", f.part.display()))?;
        f.rows += rows.len() as u64;
        Ok(())
    }

    fn new_file(&mut self, shadow: bool, df: &DataFrame) -> Result<OpenFile> {
        self.seq += 1;
        let dir = if shadow {
            self.opts.dir.join(SHADOW_DIR)
        } else {
            self.opts.dir.clone()
        };
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ");
        let name = format!("{PREFIX}{stamp}-{}-{:06}.parquet", self.token, self.seq);
        let part = dir.join(format!(".{name}.part"));
        let done = dir.join(&name);
        let file =
            std::fs::File::create(&part).with_context(|| format!("creating {}", part.display()))?;
        let file = LogFile::new(file);
        let writer = ParquetWriter::new(file.clone())
            .with_compression(ParquetCompression::Snappy)
            .batched(df.schema())
            .with_context(|| format!("starting {}", part.display()))?;
        Ok(OpenFile {
            part,
            done,
            writer,
            file,
            rows: 0,
            since: Instant::now(),
        })
    }
}

/// Finishes a file: footer, fsync, rename to its final name (never over an existing file).
fn finish_file(f: OpenFile) -> Result<()> {
    let OpenFile {
        part,
        done,
        writer,
        mut file,
        ..
    } = f;
    let file = writer
        .finish()
        .map(|_| ())
        .and_then(|()| Ok(std::io::Write::flush(&mut file)?))
        .with_context(|| format!("finishing {}", part.display()));
    if let Err(e) = file {
        let _ = std::fs::remove_file(&part);
        return Err(e);
    }
    std::fs::File::open(&part)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("syncing {}", part.display()))?;
    if done.exists() {
        bail!(
            "{} exists already; a finished log file is never replaced",
            done.display()
        );
    }
    std::fs::rename(&part, &done)
        .with_context(|| format!("renaming {} to {}", part.display(), done.display()))?;
    if let Some(dir) = done.parent() {
        // The rename itself is durable once the folder is synced (best effort off Unix).
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

/// The log's frame of some rows: see the module documentation for the columns.
fn frame(model: &str, columns: &[InputColumn], rows: &[Served]) -> Result<DataFrame> {
    let n = rows.len();
    let mut cols: Vec<Column> = Vec::with_capacity(columns.len() + 10);
    for (j, c) in columns.iter().enumerate() {
        fn cell(r: &Served, j: usize) -> Option<&serde_json::Value> {
            r.inputs.get(j).filter(|v| !v.is_null())
        }
        let col = if c.numerical {
            let v: Vec<Option<f64>> = rows.iter().map(|r| cell(r, j).and_then(number)).collect();
            Series::new(c.name.as_str().into(), v)
        } else {
            let v: Vec<Option<String>> = rows.iter().map(|r| cell(r, j).and_then(text)).collect();
            Series::new(c.name.as_str().into(), v)
        };
        cols.push(col.into_column());
    }
    let col = |name: &str, s: Series| s.with_name(name.into()).into_column();
    cols.push(col(
        "score",
        Series::new(
            "".into(),
            rows.iter().map(|r| r.score).collect::<Vec<f64>>(),
        ),
    ));
    cols.push(col(
        "prediction",
        Series::new(
            "".into(),
            rows.iter().map(|r| r.prediction).collect::<Vec<i32>>(),
        ),
    ));
    cols.push(col(
        "prediction_id",
        Series::new(
            "".into(),
            rows.iter()
                .map(|r| r.prediction_id.as_str())
                .collect::<Vec<&str>>(),
        ),
    ));
    cols.push(col("model", Series::new("".into(), vec![model; n])));
    cols.push(col(
        "version",
        Series::new(
            "".into(),
            rows.iter().map(|r| r.version).collect::<Vec<u32>>(),
        ),
    ));
    cols.push(col(
        "artifact_sha256",
        Series::new(
            "".into(),
            rows.iter()
                .map(|r| r.artifact_sha256.as_str())
                .collect::<Vec<&str>>(),
        ),
    ));
    let micros: Vec<i64> = rows
        .iter()
        .map(|r| r.served_at.timestamp_micros())
        .collect();
    cols.push(col(
        "scored_at",
        Series::new("".into(), micros).cast(&DataType::Datetime(
            TimeUnit::Microseconds,
            Some(polars::prelude::TimeZone::UTC),
        ))?,
    ));
    cols.push(col(
        "alias",
        Series::new(
            "".into(),
            rows.iter().map(|r| r.alias.as_str()).collect::<Vec<&str>>(),
        ),
    ));
    cols.push(col(
        "request_key",
        Series::new(
            "".into(),
            rows.iter()
                .map(|r| r.request_key.as_deref())
                .collect::<Vec<Option<&str>>>(),
        ),
    ));
    cols.push(col(
        "shadow",
        Series::new(
            "".into(),
            rows.iter().map(|r| r.shadow).collect::<Vec<bool>>(),
        ),
    ));
    Ok(DataFrame::new(n, cols)?)
}

/// A request value as a number: numbers, booleans (1/0) and numeric text; anything else null.
fn number(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::Bool(b) => Some(f64::from(u8::from(*b))),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A request value as text: strings as they are, numbers and booleans as written; null and
/// composites null.
fn text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
