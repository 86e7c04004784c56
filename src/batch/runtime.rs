//! ONNX Runtime: finding and loading the shared library, and scoring with a session.
//!
//! `ort` loads `libonnxruntime` at run time (`load-dynamic`) from, in order:
//!
//! 1. `ORT_DYLIB_PATH`, when it is set;
//! 2. the absolute path written in modelgate's own per-user data folder,
//!    `$XDG_DATA_HOME/modelgate/ort-dylib-path` (else `~/.local/share/modelgate/ort-dylib-path`),
//!    which `modelgate runtime install` writes (see [`super::install`]).
//!
//! Nothing else: never a file found by walking up from the current folder (a repository being
//! checked could ship its own `.tools/ort-dylib-path` naming its own library), and no path of
//! the machine the binary was built on. A missing or unloadable library is an error that names
//! the library, where its path came from and the one command that fixes it (`modelgate runtime
//! install`) — never a panic inside ort, and never blamed on the model.

use anyhow::{Context, Result, bail};
use ort::session::{HasSelectedOutputs, OutputSelector, RunOptions, Session};
use ort::value::{Tensor, ValueType};
use std::path::PathBuf;
use std::sync::OnceLock;

/// The command that installs the library.
pub const INSTALL_COMMAND: &str = "modelgate runtime install";

/// How to get the library, for error messages.
pub const INSTALL_HINT: &str = "run `modelgate runtime install` (it installs the pinned ONNX Runtime 1.31.1 into modelgate's data folder)";

/// How to fix a bad `ORT_DYLIB_PATH`, which wins over what `modelgate runtime install` writes.
pub const ENV_HINT: &str = "unset ORT_DYLIB_PATH (or point it at a working libonnxruntime 1.31.1) and run `modelgate runtime install`";

/// The environment variable that names the library.
pub const DYLIB_ENV: &str = "ORT_DYLIB_PATH";

/// The file, in modelgate's per-user data folder, that holds the library's path.
pub const DYLIB_FILE: &str = "ort-dylib-path";

/// modelgate's per-user data folder: `$XDG_DATA_HOME/modelgate`, else
/// `$HOME/.local/share/modelgate` (a relative `XDG_DATA_HOME` is ignored, as the XDG
/// specification says). `None` when neither is known.
pub fn data_dir() -> Option<PathBuf> {
    let abs = |v: Option<std::ffi::OsString>| v.map(PathBuf::from).filter(|p| p.is_absolute());
    abs(std::env::var_os("XDG_DATA_HOME"))
        .or_else(|| abs(std::env::var_os("HOME")).map(|h| h.join(".local/share")))
        .map(|d| d.join("modelgate"))
}

/// Where the library's path came from, for error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DylibSource {
    /// `ORT_DYLIB_PATH`.
    Env,
    /// The file in modelgate's data folder.
    DataFile(PathBuf),
}

impl DylibSource {
    /// The one thing to do when the library from here does not work.
    pub fn hint(&self) -> &'static str {
        match self {
            DylibSource::Env => ENV_HINT,
            DylibSource::DataFile(_) => INSTALL_HINT,
        }
    }
}

impl std::fmt::Display for DylibSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DylibSource::Env => write!(f, "{DYLIB_ENV}"),
            DylibSource::DataFile(p) => write!(f, "{}", p.display()),
        }
    }
}

/// The library to load and where its path came from: `ORT_DYLIB_PATH` (`env`), else the path
/// in `<data_dir>/ort-dylib-path`, which must be absolute.
pub fn locate(
    env: Option<std::ffi::OsString>,
    data_dir: Option<PathBuf>,
) -> std::result::Result<(PathBuf, DylibSource), String> {
    if let Some(p) = env.filter(|p| !p.is_empty()) {
        let path = PathBuf::from(p);
        if !path.is_file() {
            return Err(format!(
                "the ONNX Runtime library {} named by {DYLIB_ENV} does not exist or is not a file; {ENV_HINT}",
                path.display()
            ));
        }
        return Ok((path, DylibSource::Env));
    }
    let Some(file) = data_dir.map(|d| d.join(DYLIB_FILE)) else {
        return Err(format!(
            "the ONNX Runtime library was not found: {DYLIB_ENV} is not set, and modelgate's data folder is unknown (neither XDG_DATA_HOME nor HOME is set); {INSTALL_HINT}"
        ));
    };
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!(
                "the ONNX Runtime library was not found: {DYLIB_ENV} is not set and {} does not exist; {INSTALL_HINT}",
                file.display()
            ));
        }
        Err(e) => {
            return Err(format!(
                "reading {} (the path of the ONNX Runtime library): {e}; {INSTALL_HINT}",
                file.display()
            ));
        }
    };
    let path = PathBuf::from(text.trim());
    if !path.is_absolute() {
        return Err(format!(
            "{} holds `{}`: expected the absolute path of libonnxruntime; {INSTALL_HINT}",
            file.display(),
            text.trim()
        ));
    }
    if !path.is_file() {
        return Err(format!(
            "the ONNX Runtime library {} named in {} does not exist or is not a file; {INSTALL_HINT}",
            path.display(),
            file.display()
        ));
    }
    Ok((path, DylibSource::DataFile(file)))
}

static ENV: OnceLock<std::result::Result<ort::environment::Environment, String>> = OnceLock::new();

/// Loads ONNX Runtime once per process.
pub fn environment() -> Result<&'static ort::environment::Environment> {
    let env = ENV.get_or_init(|| {
        let (path, source) = locate(std::env::var_os(DYLIB_ENV), data_dir())?;
        let builder = ort::init_from(&path).map_err(|e| {
            format!(
                "the ONNX Runtime library {} (from {source}) could not be loaded: {e}; {}",
                path.display(),
                source.hint()
            )
        })?;
        builder.with_name("modelgate").build().map_err(|e| {
            format!(
                "starting ONNX Runtime from {} (from {source}): {e}",
                path.display()
            )
        })
    });
    match env {
        Ok(e) => Ok(e),
        Err(msg) => bail!("{msg}"),
    }
}

/// What `modelgate runtime status` reports.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Status {
    /// The library that would be loaded, when one is found.
    pub library: Option<PathBuf>,
    /// Where its path came from: `ORT_DYLIB_PATH` or the data file.
    pub source: Option<String>,
    /// The ONNX Runtime version: the pinned one when the library's sha256 is the pinned one,
    /// else what its file name says (`libonnxruntime.so.1.31.1`), if anything.
    pub version: Option<String>,
    /// The library's sha256.
    pub sha256: Option<String>,
    /// True when the library is the pinned ONNX Runtime 1.31.1 of this platform.
    pub pinned: bool,
    /// True when it loads (and ONNX Runtime starts).
    pub loads: bool,
    /// Why it was not found or does not load, with the command that fixes it.
    pub error: Option<String>,
}

/// Finds and loads the library as scoring would, and says what happened.
pub fn status() -> Status {
    let mut st = Status {
        library: None,
        source: None,
        version: None,
        sha256: None,
        pinned: false,
        loads: false,
        error: None,
    };
    match locate(std::env::var_os(DYLIB_ENV), data_dir()) {
        Err(e) => st.error = Some(e),
        Ok((path, source)) => {
            st.sha256 = super::install::sha256_file(&path).ok();
            let pin = super::install::pin_for(&super::install::platform()).ok();
            st.pinned =
                pin.is_some_and(|p| st.sha256.as_deref() == Some(p.library_sha256.as_str()));
            st.version = if st.pinned {
                Some(super::install::ORT_VERSION.to_string())
            } else {
                version_from_name(&path)
            };
            st.library = Some(path);
            st.source = Some(source.to_string());
            match environment() {
                Ok(_) => st.loads = true,
                Err(e) => st.error = Some(e.to_string()),
            }
        }
    }
    st
}

/// The version in a library's file name: `libonnxruntime.so.1.31.1`, `libonnxruntime.1.31.1.dylib`.
fn version_from_name(path: &std::path::Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let rest = name.strip_prefix("libonnxruntime.")?;
    let rest = rest.strip_prefix("so.").unwrap_or(rest);
    let v = rest.strip_suffix(".dylib").unwrap_or(rest);
    (v.split('.').count() == 3
        && v.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())))
    .then(|| v.to_string())
}

/// Where the probability of the positive class comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
enum ProbOutput {
    /// A float tensor [N, 2] (or [N, k]): column 1.
    Matrix(String),
    /// A float tensor [N] or [N, 1].
    Vector(String),
}

/// A loaded classifier.
pub struct Scorer {
    session: Session,
    input: String,
    /// Number of input features the model expects, when its shape says.
    pub n_features: Option<usize>,
    output: ProbOutput,
    /// Runs compute the probability output only (not the label, which modelgate derives from
    /// the probability and its threshold).
    run: RunOptions<HasSelectedOutputs>,
}

impl Scorer {
    /// Loads a model from bytes (already verified against its digest), with `threads` intra-op
    /// threads.
    pub fn new(model: &[u8], threads: usize) -> Result<Scorer> {
        let env = environment()?;
        let mut builder = Session::builder(env)
            .map_err(|e| anyhow::anyhow!("creating an ONNX Runtime session: {e}"))?;
        builder = builder
            .with_intra_threads(threads.max(1))
            .map_err(|e| anyhow::anyhow!("setting threads: {e}"))?;
        let session = builder.commit_from_memory(model).map_err(|e| {
            anyhow::anyhow!("the artifact is not a model ONNX Runtime can load: {e}")
        })?;
        if session.inputs().len() != 1 {
            bail!(
                "the model has {} inputs; modelgate scores models with one float input tensor [N, features]",
                session.inputs().len()
            );
        }
        let inp = &session.inputs()[0];
        let n_features = match inp.dtype() {
            ValueType::Tensor { shape, .. } => shape.last().and_then(|d| usize::try_from(*d).ok()),
            _ => None,
        };
        let mut output = None;
        for o in session.outputs() {
            match o.dtype() {
                ValueType::Sequence(_) | ValueType::Map { .. } => bail!(
                    "the model's output `{}` is a ZipMap (a sequence of maps); re-export it without ZipMap: skl2onnx `options={{id(model): {{\"zipmap\": False}}}}`, or onnxmltools without it",
                    o.name()
                ),
                ValueType::Tensor { ty, shape, .. }
                    if *ty == ort::value::TensorElementType::Float32 =>
                {
                    let cols = shape.get(1).copied();
                    let candidate = if shape.len() == 1 || cols == Some(1) {
                        ProbOutput::Vector(o.name().to_string())
                    } else {
                        ProbOutput::Matrix(o.name().to_string())
                    };
                    if o.name() == "probabilities" || output.is_none() {
                        output = Some(candidate);
                    }
                }
                _ => {}
            }
        }
        let Some(output) = output else {
            bail!("the model has no float output with class probabilities");
        };
        let name = match &output {
            ProbOutput::Matrix(n) | ProbOutput::Vector(n) => n.clone(),
        };
        let run = RunOptions::new()
            .map_err(|e| anyhow::anyhow!("creating ONNX Runtime run options: {e}"))?
            .with_outputs(OutputSelector::no_default().with(name));
        Ok(Scorer {
            input: inp.name().to_string(),
            n_features,
            output,
            session,
            run,
        })
    }

    /// Scores `rows` rows of `n` features (row-major): the probability of the positive class.
    pub fn score(&mut self, data: Vec<f32>, rows: usize, n: usize) -> Result<Vec<f64>> {
        let tensor = Tensor::from_array(([rows, n], data))
            .map_err(|e| anyhow::anyhow!("building the input tensor: {e}"))?;
        let outputs = self
            .session
            .run_with_options(ort::inputs![self.input.as_str() => tensor], &self.run)
            .map_err(|e| anyhow::anyhow!("ONNX Runtime failed: {e}"))?;
        let (name, matrix) = match &self.output {
            ProbOutput::Matrix(n) => (n.as_str(), true),
            ProbOutput::Vector(n) => (n.as_str(), false),
        };
        let value = outputs
            .get(name)
            .with_context(|| format!("the model produced no `{name}`"))?;
        let (shape, probs) = value
            .try_extract_tensor::<f32>()
            .map_err(|e| anyhow::anyhow!("reading `{name}`: {e}"))?;
        if matrix {
            let k = shape.get(1).copied().unwrap_or(2).max(1) as usize;
            if k < 2 {
                bail!("`{name}` has one column; expected the probabilities of two classes");
            }
            Ok(probs.chunks(k).map(|row| f64::from(row[1])).collect())
        } else {
            Ok(probs.iter().map(|p| f64::from(*p)).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A repository may carry `.tools/ort-dylib-path`; it is never read: only ORT_DYLIB_PATH
    /// and modelgate's own data folder name the library.
    #[test]
    fn a_path_file_in_the_working_tree_is_never_used() {
        let repo = tempfile::tempdir().unwrap();
        let lib = repo.path().join("evil.so");
        std::fs::write(&lib, b"not a library").unwrap();
        std::fs::create_dir_all(repo.path().join(".tools")).unwrap();
        std::fs::write(
            repo.path().join(".tools").join(DYLIB_FILE),
            lib.to_str().unwrap(),
        )
        .unwrap();
        let data = tempfile::tempdir().unwrap();
        // Neither the data folder nor its parents nor the repository count.
        let err = locate(None, Some(repo.path().to_path_buf())).unwrap_err();
        assert!(!err.contains("evil.so"), "{err}");
        let err = locate(None, Some(data.path().join("modelgate"))).unwrap_err();
        assert!(err.contains("was not found"), "{err}");
        assert!(err.contains("ORT_DYLIB_PATH"), "{err}");
        assert!(!err.contains("evil.so"), "{err}");
    }

    #[test]
    fn the_data_folder_file_must_hold_an_absolute_path() {
        let data = tempfile::tempdir().unwrap();
        std::fs::write(data.path().join(DYLIB_FILE), "lib/libonnxruntime.so\n").unwrap();
        let err = locate(None, Some(data.path().to_path_buf())).unwrap_err();
        assert!(err.contains("expected the absolute path"), "{err}");
        let lib = data.path().join("libonnxruntime.so");
        std::fs::write(&lib, b"x").unwrap();
        std::fs::write(data.path().join(DYLIB_FILE), format!("{}\n", lib.display())).unwrap();
        let (found, source) = locate(None, Some(data.path().to_path_buf())).unwrap();
        assert_eq!(found, lib);
        assert_eq!(source, DylibSource::DataFile(data.path().join(DYLIB_FILE)));
    }

    #[test]
    fn the_version_is_read_from_the_library_file_name() {
        for (name, v) in [
            ("libonnxruntime.so.1.31.1", Some("1.31.1")),
            ("libonnxruntime.1.31.1.dylib", Some("1.31.1")),
            ("libonnxruntime.so", None),
            ("libonnxruntime.so.1.x.1", None),
            ("evil.so", None),
        ] {
            assert_eq!(
                version_from_name(std::path::Path::new("/lib").join(name).as_path()).as_deref(),
                v,
                "{name}"
            );
        }
    }

    #[test]
    fn ort_dylib_path_wins_and_a_bad_one_is_named() {
        let data = tempfile::tempdir().unwrap();
        let lib = data.path().join("libonnxruntime.so");
        std::fs::write(&lib, b"x").unwrap();
        std::fs::write(data.path().join(DYLIB_FILE), lib.to_str().unwrap()).unwrap();
        let err = locate(
            Some("/nonexistent/libonnxruntime.so".into()),
            Some(data.path().to_path_buf()),
        )
        .unwrap_err();
        assert!(err.contains("/nonexistent/libonnxruntime.so"), "{err}");
        assert!(err.contains("ORT_DYLIB_PATH"), "{err}");
        assert!(err.contains("ONNX Runtime library"), "{err}");
    }
}
