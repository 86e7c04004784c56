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
