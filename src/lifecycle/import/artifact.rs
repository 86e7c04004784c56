//! A version's artifact: its source URI resolved to a local file or folder, what it is (format,
//! flavors, environment pins) and its digest.

use super::confine::{files_under, inside, yaml_file};
use super::{Run, Store, file_name};
use crate::registry::schema::ArtifactFormat;
use crate::registry::types::Sha256;
use crate::registry::version_yaml;
use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Why a version has no local artifact (a deleted logged model, a remote URI, files that are
/// gone): a sentence for the warning that skips it.
type NoArtifact = String;

/// Finds a local file or folder for an artifact URI, following a moved store: `Err` says why
/// there is none.
pub(super) fn local_path(
    uri: &str,
    store: &Store,
    run: Option<&Run>,
) -> std::result::Result<PathBuf, NoArtifact> {
    if let Some(rest) = uri.strip_prefix("models:/") {
        return logged_model_path(uri, rest, store);
    }
    if let Some(rest) = uri.strip_prefix("runs:/") {
        return run_path(uri, rest, store, run);
    }
    if let Some(rest) = uri.strip_prefix("mlflow-artifacts:") {
        return served_path(uri, rest, store);
    }
    file_path(uri, store)
}

/// `models:/m-<id>`: the files of a logged model (MLflow 3).
fn logged_model_path(
    uri: &str,
    rest: &str,
    store: &Store,
) -> std::result::Result<PathBuf, NoArtifact> {
    let id = rest.trim_end_matches('/');
    if !id.starts_with("m-") || id.contains('/') {
        return Err(format!(
            "its source `{uri}` names a registered model, not a logged model (`models:/m-<id>`)"
        ));
    }
    let Some(lm) = store.logged_models.get(id) else {
        return Err(format!(
            "its logged model {id} (`{uri}`) is not in the store (deleted permanently, or the store is incomplete)"
        ));
    };
    if lm.deleted {
        return Err(format!("its logged model {id} is deleted in MLflow"));
    }
    local_path(&lm.artifact_location, store, None)
}

/// `runs:/<run id>/<path>`: a path under the run's artifact URI.
fn run_path(
    uri: &str,
    rest: &str,
    store: &Store,
    run: Option<&Run>,
) -> std::result::Result<PathBuf, NoArtifact> {
    let (_, sub) = rest.split_once('/').unwrap_or((rest, ""));
    let Some(run) = run else {
        return Err(format!(
            "its source `{uri}` names a run that is not in the store"
        ));
    };
    local_path(
        &format!("{}/{sub}", run.artifact_uri.trim_end_matches('/')),
        store,
        None,
    )
}

/// `mlflow-artifacts:/<path>` or `mlflow-artifacts://<host>/<path>`: a path under the folder
/// the tracking server serves (its --artifacts-destination), given with --artifacts-root.
fn served_path(uri: &str, rest: &str, store: &Store) -> std::result::Result<PathBuf, NoArtifact> {
    let rel = match rest.strip_prefix("//") {
        Some(r) => r.split_once('/').map(|x| x.1).unwrap_or(""),
        None => rest.trim_start_matches('/'),
    };
    if rel.split('/').any(|c| c == "..") {
        return Err(format!(
            "its artifact `{uri}` climbs out of the artifact root"
        ));
    }
    let extra = &store.roots[1.min(store.roots.len())..];
    if extra.is_empty() {
        return Err(format!(
            "its artifact `{uri}` is served by an MLflow tracking server: give the folder it serves (its --artifacts-destination, e.g. ./mlartifacts) with --artifacts-root"
        ));
    }
    extra
        .iter()
        .map(|r| r.join(rel))
        .find(|c| std::fs::symlink_metadata(c).is_ok())
        .ok_or_else(|| {
            format!("its artifact `{uri}` is gone (not under any --artifacts-root folder)")
        })
}

/// `file://<path>`, `file:<path>` or a bare path: the path inside the store, else found again
/// in a moved store, else the path itself (to be refused by name when it is read, when it
/// leads out of the store). A remote URI is not a local path.
fn file_path(uri: &str, store: &Store) -> std::result::Result<PathBuf, NoArtifact> {
    let path = if let Some(p) = uri.strip_prefix("file://") {
        PathBuf::from(p)
    } else if let Some(p) = uri.strip_prefix("file:") {
        PathBuf::from(p)
    } else if uri.contains("://") {
        return Err(format!(
            "its artifact `{uri}` is remote: download it into a folder and give it with --artifacts-root, or import the store where its files are local"
        ));
    } else {
        PathBuf::from(uri)
    };
    let in_store = |p: &Path| {
        p.canonicalize()
            .is_ok_and(|r| store.roots.iter().any(|root| r.starts_with(root)))
    };
    if path.exists() && in_store(&path) {
        return Ok(path);
    }
    if let Some(moved) = in_moved_store(&path, &store.base) {
        return Ok(moved);
    }
    // Outside the store: returned, to be refused by name when it is read.
    if std::fs::symlink_metadata(&path).is_ok() {
        return Ok(path);
    }
    Err(format!(
        "its artifact `{uri}` is gone (no such file or folder, in the store or where MLflow wrote it)"
    ))
}

/// `path` in a moved store: looked up under the store's folder `base` from each of its
/// `mlruns` components on (the first that exists).
fn in_moved_store(path: &Path, base: &Path) -> Option<PathBuf> {
    let comps: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    (0..comps.len())
        .filter(|&i| comps[i] == "mlruns")
        .map(|i| {
            std::iter::once(base.to_path_buf())
                .chain(comps[i..].iter().map(PathBuf::from))
                .collect::<PathBuf>()
        })
        .find(|cand| std::fs::symlink_metadata(cand).is_ok())
}

/// A model artifact found in the store.
pub(super) struct Found {
    /// Its format (from the MLmodel file; ONNX for a bare `.onnx` file).
    pub(super) format: ArtifactFormat,
    /// The ONNX file, or the model folder, that the version records.
    pub(super) path: PathBuf,
    /// Its files: (path below `path`, or the file's name for a file; file).
    pub(super) files: Vec<(String, PathBuf)>,
    /// A folder (its digest is [`Sha256::of_tree`]).
    pub(super) is_dir: bool,
    /// The MLmodel's flavors, sorted.
    pub(super) flavors: Vec<String>,
    /// Python and package pins from `python_env.yaml` and `requirements.txt`.
    pub(super) env: version_yaml::Environment,
    /// What the folder holds but does not read (a `requirements.txt` that is not text), and
    /// so is not recorded.
    pub(super) notes: Vec<String>,
}

/// The format an MLmodel's flavors make: ONNX when it has the `onnx` flavor, else the first
/// (sorted) flavor modelgate names, else `pyfunc` (every other flavor MLflow writes loads as
/// python_function).
fn format_of(flavors: &[String]) -> ArtifactFormat {
    if flavors.iter().any(|f| f == "onnx") {
        return ArtifactFormat::Onnx;
    }
    flavors
        .iter()
        .filter(|f| f.as_str() != "python_function")
        .find_map(|f| ArtifactFormat::from_flavor(f))
        .unwrap_or(ArtifactFormat::Pyfunc)
}

/// Pins from a model folder's `requirements.txt` (`name==version` lines) and
/// `python_env.yaml` (`python:`); a file that does not read is a note in `notes`.
fn environment(files: &[(String, PathBuf)], notes: &mut Vec<String>) -> version_yaml::Environment {
    let mut env = version_yaml::Environment::default();
    let mut read = |p: &Path, expected: &str| {
        std::fs::read_to_string(p)
            .inspect_err(|e| {
                notes.push(format!(
                    "{}: cannot be read ({e}), expected {expected}; the version is imported without them",
                    p.display()
                ))
            })
            .unwrap_or_default()
    };
    for (k, p) in files {
        if k == "requirements.txt" {
            let text = read(p, "pip requirements (the package pins)");
            for line in text.lines() {
                let line = line.split('#').next().unwrap_or("").trim();
                if let Some((n, v)) = line.split_once("==") {
                    let n = n.trim().split('[').next().unwrap_or("").trim();
                    let v = v.split(';').next().unwrap_or("").trim();
                    if !n.is_empty() && !v.is_empty() {
                        env.packages.insert(n.to_ascii_lowercase(), v.to_string());
                    }
                }
            }
        } else if k == "python_env.yaml" {
            let text = read(p, "MLflow's python_env.yaml (the Python version)");
            env.python = text.lines().find_map(|l| {
                l.strip_prefix("python:")
                    .map(|v| v.trim().trim_matches(['"', '\'']).to_string())
                    .filter(|v| !v.is_empty())
            });
        }
    }
    env
}

/// The model at `path` (a file or an MLflow model folder), read only inside `roots`.
pub(super) fn artifact_in(path: &Path, roots: &[PathBuf]) -> Result<Found> {
    inside(path, roots)?;
    if path.is_file() {
        return onnx_file(path);
    }
    let files = files_under(path, roots)?;
    let mut notes = Vec::new();
    let env = environment(&files, &mut notes);
    let flavors = flavors(&files, roots)?;
    let format = format_of(&flavors);
    if format != ArtifactFormat::Onnx {
        return Ok(Found {
            format,
            path: path.to_path_buf(),
            files,
            is_dir: true,
            flavors,
            env,
            notes,
        });
    }
    // ONNX: the one .onnx file of the folder is the artifact (what `batch` loads).
    let onnx = the_onnx_file(path, &files, &flavors)?;
    Ok(Found {
        format,
        files: vec![(file_name(&onnx), onnx.clone())],
        path: onnx,
        is_dir: false,
        flavors,
        env,
        notes,
    })
}

/// A single file as the artifact: an ONNX file, nothing else.
fn onnx_file(path: &Path) -> Result<Found> {
    if path.extension().is_none_or(|x| x != "onnx") {
        bail!(
            "{} is a single file that is neither ONNX nor an MLflow model folder (with an MLmodel file)",
            path.display()
        );
    }
    Ok(Found {
        format: ArtifactFormat::Onnx,
        path: path.to_path_buf(),
        files: vec![(file_name(path), path.to_path_buf())],
        is_dir: false,
        flavors: Vec::new(),
        env: Default::default(),
        notes: Vec::new(),
    })
}

/// The flavors of a model folder's `MLmodel` file, sorted (none without one; an `MLmodel`
/// without flavors is an error).
fn flavors(files: &[(String, PathBuf)], roots: &[PathBuf]) -> Result<Vec<String>> {
    let Some((_, mlmodel)) = files.iter().find(|(k, _)| k == "MLmodel") else {
        return Ok(Vec::new());
    };
    let meta = yaml_file(mlmodel, roots)?;
    let mut flavors: Vec<String> = meta
        .get("flavors")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    flavors.sort();
    if flavors.is_empty() {
        bail!("{}: no flavors (not an MLflow model)", mlmodel.display());
    }
    Ok(flavors)
}

/// The one `.onnx` file among a model folder's `files` (none, or more than one, is an error).
fn the_onnx_file(dir: &Path, files: &[(String, PathBuf)], flavors: &[String]) -> Result<PathBuf> {
    let mut found: Vec<PathBuf> = files
        .iter()
        .map(|(_, p)| p.clone())
        .filter(|p| p.extension().is_some_and(|x| x == "onnx"))
        .collect();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 if flavors.is_empty() => bail!(
            "no MLmodel file and no .onnx file in {}: not an MLflow model folder",
            dir.display()
        ),
        0 => bail!("{} has the onnx flavor but no .onnx file", dir.display()),
        _ => bail!(
            "{} holds {} .onnx files; expected one",
            dir.display(),
            found.len()
        ),
    }
}

/// The digest of a found artifact: the file's sha256, or the folder's ([`Sha256::of_tree`]).
pub(super) fn digest_of(found: &Found) -> Result<Sha256> {
    let mut each = Vec::with_capacity(found.files.len());
    for (k, p) in &found.files {
        let f = std::fs::File::open(p).with_context(|| format!("reading {}", p.display()))?;
        let sha = crate::registry::source::hash_reader(f)
            .with_context(|| format!("reading {}", p.display()))?;
        each.push((k.clone(), sha));
    }
    if found.is_dir {
        Sha256::of_tree(&each)
            .map_err(|odd| anyhow::anyhow!("the folder {}: {odd}", found.path.display()))
    } else {
        each.pop()
            .map(|(_, s)| s)
            .context("internal error: an artifact without its file")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_of_an_mlmodel_is_its_flavor() {
        let f = |x: &[&str]| format_of(&x.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(f(&["python_function", "sklearn"]), ArtifactFormat::Sklearn);
        assert_eq!(f(&["python_function", "xgboost"]), ArtifactFormat::Xgboost);
        assert_eq!(f(&["onnx", "python_function"]), ArtifactFormat::Onnx);
        assert_eq!(
            f(&["lightgbm", "python_function"]),
            ArtifactFormat::Lightgbm
        );
        // A flavor modelgate does not name is a pyfunc model.
        assert_eq!(f(&["python_function", "prophet"]), ArtifactFormat::Pyfunc);
        assert_eq!(f(&["python_function"]), ArtifactFormat::Pyfunc);
    }

    #[test]
    fn environment_pins_from_requirements_and_python_env() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path().join("requirements.txt");
        let p = dir.path().join("python_env.yaml");
        std::fs::write(
            &r,
            "mlflow==3.17.2\n# a comment\nscikit-learn==1.7.2 ; python_version >= '3.9'\nnumpy>=2\nPandas[pyarrow]==2.3.3\n-r other.txt\n",
        )
        .unwrap();
        std::fs::write(&p, "python: 3.11.7\nbuild_dependencies:\n- pip\n").unwrap();
        let mut notes = Vec::new();
        let env = environment(
            &[
                ("requirements.txt".into(), r),
                ("python_env.yaml".into(), p),
            ],
            &mut notes,
        );
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(env.python.as_deref(), Some("3.11.7"));
        let pins: Vec<(&str, &str)> = env
            .packages
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            pins,
            [
                ("mlflow", "3.17.2"),
                ("pandas", "2.3.3"),
                ("scikit-learn", "1.7.2")
            ]
        );
    }
}
