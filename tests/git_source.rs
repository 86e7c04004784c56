//! Loading a registry from git revisions: no checkout, the same loader as for a folder.

use crate::util::{fixture, run};
use modelgate::synth::commit_all;

#[test]
fn validate_at_revisions() {
    let dir = fixture("_base");
    let root = dir.path();
    commit_all(root, "good").unwrap();
    std::fs::write(
        root.join("registry/models/fraud/aliases.yaml"),
        "champion: 4\n",
    )
    .unwrap();
    commit_all(root, "bad alias").unwrap();
    // Fix the working tree: only the commit is broken now.
    std::fs::write(
        root.join("registry/models/fraud/aliases.yaml"),
        "champion: 1\n",
    )
    .unwrap();

    let (code, out, _) = run(&["validate"], root);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = run(&["validate", "--rev", "HEAD"], root);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("registry/models/fraud/aliases.yaml:1:11"),
        "{out}"
    );
    let (code, out, _) = run(&["validate", "--rev", "HEAD~1"], root);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("HEAD~1 ("), "{out}");
}

#[test]
fn unknown_revision_is_exit_2() {
    let dir = fixture("_base");
    commit_all(dir.path(), "good").unwrap();
    let (code, _, err) = run(&["validate", "--rev", "no-such-branch"], dir.path());
    assert_eq!(code, 2);
    assert!(err.contains("reading revision `no-such-branch`"), "{err}");
}
