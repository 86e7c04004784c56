//! The GitHub Actions workflows (this repository's and those `init` writes), the composite
//! action and the Kubernetes example, linted offline by scripts/lint-workflows: actionlint with
//! shellcheck, a policy (pinned actions, least privilege, timeouts, no `${{ }}` in scripts) and
//! the Kubernetes schemas of kubernetes-validate.

use crate::util::{copy_tree, repo_root};
use std::path::Path;
use std::process::Command;

fn lint(root: &Path) -> (i32, String) {
    let out = Command::new("bash")
        .arg(root.join("scripts/lint-workflows"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn workflows_action_and_k8s_example_pass_the_linters() {
    let (code, out) = lint(&repo_root());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("lint-workflows: clean"), "{out}");
}

/// A copy of what the linter reads, sharing the installed tools.
fn lint_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = repo_root();
    for d in [
        ".github/workflows",
        "src/scaffold/workflows",
        "examples/k8s",
    ] {
        copy_tree(&root.join(d), &dir.path().join(d));
    }
    std::fs::create_dir_all(dir.path().join("scripts")).unwrap();
    std::fs::copy(
        root.join("scripts/lint-workflows"),
        dir.path().join("scripts/lint-workflows"),
    )
    .unwrap();
    std::fs::copy(root.join("action.yml"), dir.path().join("action.yml")).unwrap();
    std::os::unix::fs::symlink(root.join(".tools"), dir.path().join(".tools")).unwrap();
    dir
}

#[test]
fn the_linters_catch_real_mistakes() {
    // A script injection: untrusted input interpolated into a shell script.
    let dir = lint_copy();
    let f = dir.path().join(".github/workflows/check.yml");
    let text = std::fs::read_to_string(&f).unwrap();
    let broken = text.replacen(
        "    steps:\n",
        "    steps:\n      - run: echo \"${{ github.event.pull_request.title }}\"\n",
        1,
    );
    assert_ne!(broken, text);
    std::fs::write(&f, broken).unwrap();
    let (code, out) = lint(dir.path());
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("check.yml"), "{out}");

    // A Kubernetes manifest with a misspelt field.
    let dir = lint_copy();
    let f = dir.path().join("examples/k8s/drift-cronjob.yaml");
    let text = std::fs::read_to_string(&f).unwrap();
    std::fs::write(&f, text.replacen("parallelism:", "paralelism:", 1)).unwrap();
    let (code, out) = lint(dir.path());
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("drift-cronjob.yaml"), "{out}");
}

/// The repository's own gate is built from the pull request's base revision, never from the
/// pull request (which would decide its own verdict by editing modelgate's code).
#[test]
fn the_gate_is_built_from_the_base_revision() {
    let text = std::fs::read_to_string(repo_root().join(".github/workflows/check.yml")).unwrap();
    let build = text
        .split("- name: ")
        .find(|s| s.starts_with("Build modelgate"))
        .expect("a build step");
    assert!(
        build.contains("BUILD_SHA: ${{ github.event.pull_request.base.sha || github.sha }}"),
        "{build}"
    );
    assert!(build.contains("git worktree add --detach \"$RUNNER_TEMP/gate-src\" \"$BUILD_SHA\""));
    assert!(build.contains("--manifest-path \"$RUNNER_TEMP/gate-src/Cargo.toml\""));
    assert_eq!(
        text.matches("cargo build").count(),
        1,
        "one build, the base's"
    );
}

/// The `run:` script of the composite action's step called `name`.
fn action_step(name: &str) -> String {
    let py = repo_root().join(".tools/venv/bin/python");
    let out = Command::new(py)
        .args([
            "-c",
            "import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); \
             print(next(s['run'] for s in d['runs']['steps'] if s.get('name') == sys.argv[2]))",
        ])
        .arg(repo_root().join("action.yml"))
        .arg(name)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A release archive as the release workflow packs it, holding a `modelgate` that prints `marker`.
fn release_archive(dir: &Path, name: &str, marker: &str) -> Vec<u8> {
    let folder = dir.join(name);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("modelgate"),
        format!("#!/bin/sh\necho {marker}\n"),
    )
    .unwrap();
    let tgz = dir.join(format!("{name}.tar.gz"));
    let ok = Command::new("tar")
        .arg("-C")
        .arg(dir)
        .arg("-czf")
        .arg(&tgz)
        .arg(name)
        .status()
        .unwrap();
    assert!(ok.success());
    std::fs::read(tgz).unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Runs the action's install step as the runner would, against releases served on 127.0.0.1.
fn run_install(
    server: &crate::util::FileServer,
    home: &Path,
    verify: &str,
    path: &str,
) -> (i32, String) {
    let script = action_step("Install the released modelgate");
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .env_clear()
        .env("PATH", path)
        .env("HOME", home)
        .env("RUNNER_TEMP", home)
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env("GITHUB_SERVER_URL", server.url())
        .env("MODELGATE_ACTION_REPOSITORY", "acme/modelgate")
        .env("MODELGATE_VERSION", "v9.9.9")
        .env("MODELGATE_VERIFY_ATTESTATION", verify)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// The composite action installs the released archive of its version only when the archive's
/// sha256 matches its .sha256 file, fails closed when the attestation cannot be verified, and
/// leaves nothing installed when it refuses.
#[test]
fn the_action_installs_a_verified_release_and_refuses_a_tampered_one() {
    let work = tempfile::tempdir().unwrap();
    let name = "modelgate-v9.9.9-x86_64-unknown-linux-gnu";
    let good = release_archive(&work.path().join("good"), name, "released-9.9.9");
    let evil = release_archive(&work.path().join("evil"), name, "evil");
    let dir = "/acme/modelgate/releases/download/v9.9.9";
    let sum = format!("{}  {name}.tar.gz\n", sha256_hex(&good));
    // `gh` is kept off PATH: only the tools the step needs
    let bin = work.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in [
        "bash",
        "curl",
        "sha256sum",
        "cut",
        "tar",
        "gzip",
        "mkdir",
        "mv",
        "chmod",
        "rm",
        "mktemp",
    ] {
        let found = Command::new("bash")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .unwrap();
        let at = String::from_utf8(found.stdout).unwrap();
        std::os::unix::fs::symlink(at.trim(), bin.join(tool)).unwrap();
    }
    let path = bin.to_str().unwrap();
    let installed = |home: &Path| home.join(".modelgate-action/bin/modelgate");

    // the good archive, checksum only
    let server = crate::util::FileServer::start(vec![
        (format!("{dir}/{name}.tar.gz"), good.clone()),
        (
            format!("{dir}/{name}.tar.gz.sha256"),
            sum.clone().into_bytes(),
        ),
    ]);
    let home = tempfile::tempdir().unwrap();
    let (code, out) = run_install(&server, home.path(), "false", path);
    assert_eq!(code, 0, "{out}");
    let ran = Command::new(installed(home.path())).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&ran.stdout).trim(),
        "released-9.9.9"
    );

    // the attestation cannot be checked (no gh): fail closed, nothing installed
    let home = tempfile::tempdir().unwrap();
    let (code, out) = run_install(&server, home.path(), "true", path);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("gh is needed to verify the build-provenance attestation"),
        "{out}"
    );
    assert!(!installed(home.path()).exists());

    // a swapped archive whose checksum file was not swapped with it
    let server = crate::util::FileServer::start(vec![
        (format!("{dir}/{name}.tar.gz"), evil),
        (format!("{dir}/{name}.tar.gz.sha256"), sum.into_bytes()),
    ]);
    let home = tempfile::tempdir().unwrap();
    let (code, out) = run_install(&server, home.path(), "false", path);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("sha256"), "{out}");
    assert!(out.contains("not installed"), "{out}");
    assert!(!installed(home.path()).exists());

    // a version that was never released
    let server = crate::util::FileServer::start(vec![]);
    let home = tempfile::tempdir().unwrap();
    let (code, out) = run_install(&server, home.path(), "false", path);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("is v9.9.9 released?"), "{out}");
    assert!(!installed(home.path()).exists());
}

/// The workflows `init` writes run the released modelgate of the version that wrote them, never
/// a moving tag and never code from the pull request.
#[test]
fn init_workflows_pin_the_released_modelgate_of_this_version() {
    let want = format!("modelgate/modelgate@v{}", env!("CARGO_PKG_VERSION"));
    let dir = repo_root().join("src/scaffold/workflows");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines().filter(|l| l.contains("modelgate/modelgate@")) {
            seen += 1;
            assert!(
                line.trim_end().ends_with(&want),
                "{}: {line}",
                path.display()
            );
        }
        assert!(
            !text.contains("cargo "),
            "{} builds modelgate",
            path.display()
        );
    }
    assert!(seen >= 4, "{seen}");
    let action = std::fs::read_to_string(repo_root().join("action.yml")).unwrap();
    assert!(
        action.contains("default: release"),
        "the action installs the release by default"
    );
}
