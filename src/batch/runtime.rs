//! ONNX Runtime: finding and loading the shared library, and scoring with a session.
//!
//! `ort` loads `libonnxruntime` at run time (`load-dynamic`) from, in order: `ORT_DYLIB_PATH`,
//! or the path `scripts/setup.sh` wrote to `.tools/ort-dylib-path` (looked for above the
//! current folder and in the source tree). A missing library is an error that says how to
//! install it — never a panic inside ort.

use anyhow::{Context, Result, bail};
use ort::session::Session;
use ort::value::{Tensor, ValueType};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// How to get the library, for error messages.
pub const INSTALL_HINT: &str = "install it with `bash scripts/setup.sh` (the pinned onnxruntime==1.31.1 wheel), or point ORT_DYLIB_PATH at libonnxruntime.so.1.31.1";

fn candidates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH") {
        out.push(PathBuf::from(p));
        return out;
    }
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        roots.extend(cwd.ancestors().map(Path::to_path_buf));
    }
    roots.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    for r in roots {
        if let Ok(text) = std::fs::read_to_string(r.join(".tools/ort-dylib-path")) {
            out.push(PathBuf::from(text.trim()));
        }
    }
    out
}

static ENV: OnceLock<std::result::Result<ort::environment::Environment, String>> = OnceLock::new();

/// Loads ONNX Runtime once per process.
pub fn environment() -> Result<&'static ort::environment::Environment> {
    let env = ENV.get_or_init(|| {
        let found = candidates().into_iter().find(|p| p.is_file());
        let Some(path) = found else {
            return Err(format!(
                "the ONNX Runtime library was not found; {INSTALL_HINT}"
            ));
        };
        let builder = ort::init_from(&path).map_err(|e| {
            format!(
                "loading ONNX Runtime from {}: {e}; {INSTALL_HINT}",
                path.display()
            )
        })?;
        builder
            .with_name("modelgate")
            .build()
            .map_err(|e| format!("starting ONNX Runtime: {e}"))
    });
    match env {
        Ok(e) => Ok(e),
        Err(msg) => bail!("{msg}"),
    }
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
        Ok(Scorer {
            input: inp.name().to_string(),
            n_features,
            output,
            session,
        })
    }

    /// Scores `rows` rows of `n` features (row-major): the probability of the positive class.
    pub fn score(&mut self, data: Vec<f32>, rows: usize, n: usize) -> Result<Vec<f64>> {
        let tensor = Tensor::from_array(([rows, n], data))
            .map_err(|e| anyhow::anyhow!("building the input tensor: {e}"))?;
        let outputs = self
            .session
            .run(ort::inputs![self.input.as_str() => tensor])
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
