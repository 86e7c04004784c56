//! Two-pull-request attacks on what landed last: model folders (non-ONNX artifacts with a folder
//! digest), the governed `serving:` section and the server that routes by it. The first pull
//! request prepares and passes `check` (it is merged), the second exploits; every test names the
//! defence it proves (SECURITY.md maps threats to these names). Real git repositories (commits
//! by the git command line, so that links, modes and gitlinks are what git records), approvals
//! signed with the demo keys.

use crate::attacks::{approve_governance, has, promote_and_approve};
use crate::check::{
    HD, approve_version, check, edit, example_repo, expect_check, messages, promote_version,
};
use modelgate::registry::types::Sha256;
use std::path::Path;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Commits everything (additions, removals, links, modes) with git itself; returns the commit.
fn merge(dir: &Path, msg: &str) -> String {
    git(dir, &["add", "-A", "."]);
    git(dir, &["commit", "-q", "--allow-empty", "-m", msg]);
    git(dir, &["rev-parse", "HEAD"])
}

/// Back to `rev`, as a new branch from the merged base for the next attack.
fn reset(dir: &Path, rev: &str) {
    git(dir, &["reset", "-q", "--hard", rev]);
    git(dir, &["clean", "-q", "-fd"]);
}

const FOLDER: &str = "examples/heart_disease/v5";

/// The files of a scikit-learn MLflow model folder.
fn model_files() -> Vec<(&'static str, &'static [u8])> {
    vec![
        (
            "MLmodel",
            b"flavors:\n  sklearn:\n    pickled_model: model.pkl\n    sklearn_version: 1.7.2\n",
        ),
        ("model.pkl", b"\x80\x04approved pickle bytes."),
        ("requirements.txt", b"scikit-learn==1.7.2\n"),
    ]
}

/// Writes a folder of `files` at `dir/rel` and returns its folder digest.
fn write_folder(dir: &Path, rel: &str, files: &[(&str, &[u8])]) -> Sha256 {
    let root = dir.join(rel);
    std::fs::create_dir_all(&root).unwrap();
    let mut listed = Vec::new();
    for (name, bytes) in files {
        std::fs::write(root.join(name), bytes).unwrap();
        listed.push((name.to_string(), Sha256::of(bytes)));
    }
    Sha256::of_tree(&listed).unwrap()
}

/// Version `n` of heart_disease: v4's numbers (roc_auc raised to pass the champion gate), with a
/// scikit-learn model folder as its artifact.
fn add_folder_version(dir: &Path, n: u32, folder: &str, sha: &Sha256, format: &str) {
    let v4 = std::fs::read_to_string(dir.join(HD).join("versions/v4.yaml")).unwrap();
    let start = v4.find("artifact: ").unwrap();
    let end = start + v4[start..].find('\n').unwrap();
    let text = format!(
        "{}artifact: {{uri: {folder}, sha256: {sha}, format: {format}}}{}",
        &v4[..start],
        &v4[end..]
    )
    .replace("version: 4", &format!("version: {n}"))
    .replace(
        "created_at: 2024-05-27T13:20:00Z",
        "created_at: 2024-06-01T00:00:00Z",
    )
    .replace("roc_auc: 0.8909", "roc_auc: 0.95");
    std::fs::write(dir.join(HD).join(format!("versions/v{n}.yaml")), text).unwrap();
}

/// PR 1, honest: v5 is a scikit-learn model folder, promoted to champion with the three signed
/// approvals; `check` passes it. Returns the repository and the merged base.
fn folder_champion() -> (tempfile::TempDir, String) {
    let (dir, base) = example_repo();
    let p = dir.path();
    let sha = write_folder(p, FOLDER, &model_files());
    add_folder_version(p, 5, FOLDER, &sha, "sklearn");
    promote_and_approve(p, "5");
    merge(p, "PR 1: v5, a scikit-learn model folder, becomes champion");
    let (code, v) = check(p, &base);
    assert_eq!(code, 0, "the honest PR 1 passes: {}", messages(&v));
    let base2 = merge(p, "merged");
    (dir, base2)
}

fn refused(p: &Path, base: &str, code_wanted: &str) {
    let v = expect_check(p, base, 1, &[]);
    assert!(has(&v, code_wanted), "{code_wanted}: {}", messages(&v));
}

/// PR 2 changes the approved champion's model folder without touching its version file: a
/// byte swapped in a file, a file added, a file renamed. Each is a folder digest mismatch
/// (MG014) at the version's recorded sha256.
#[test]
fn a_merged_model_folder_cannot_change_its_files() {
    let (dir, base) = folder_champion();
    let p = dir.path();
    let folder = p.join(FOLDER);

    std::fs::write(folder.join("model.pkl"), b"\x80\x04evil pickle bytes...").unwrap();
    merge(p, "PR 2a: swap the pickle's bytes");
    refused(p, &base, "MG014");
    let (_, v) = check(p, &base);
    let d = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "MG014")
        .unwrap();
    assert_eq!(d["file"], format!("{HD}/versions/v5.yaml"), "{d}");
    assert!(d["line"].as_u64().is_some(), "{d}");
    assert!(d["message"].as_str().unwrap().contains(FOLDER), "{d}");

    reset(p, &base);
    std::fs::write(folder.join("sitecustomize.py"), b"import os\n").unwrap();
    merge(p, "PR 2b: add a file to the folder");
    refused(p, &base, "MG014");

    reset(p, &base);
    std::fs::create_dir_all(folder.join("code")).unwrap();
    std::fs::write(folder.join("code/requirements.txt"), b"evil==1\n").unwrap();
    std::fs::remove_file(folder.join("requirements.txt")).unwrap();
    merge(p, "PR 2d: move a file into a subfolder");
    refused(p, &base, "MG014");

    reset(p, &base);
    std::fs::rename(folder.join("model.pkl"), folder.join("model.pickle")).unwrap();
    merge(p, "PR 2d: rename a file");
    refused(p, &base, "MG014");
}

/// PR 2 replaces a file of the champion's folder by a link: to an identical copy elsewhere in
/// the repository (which a PR 3 would edit), or to a file outside it. A link anywhere in a model
/// folder is MG046 and is never followed; a gitlink (submodule) in it too.
#[test]
fn a_merged_model_folder_cannot_hold_links_or_submodules() {
    let (dir, base) = folder_champion();
    let p = dir.path();
    let pkl = p.join(FOLDER).join("model.pkl");

    std::fs::copy(&pkl, p.join("examples/model-copy.pkl")).unwrap();
    std::fs::remove_file(&pkl).unwrap();
    std::os::unix::fs::symlink("../../model-copy.pkl", &pkl).unwrap();
    merge(p, "PR 2c: the pickle becomes a link to an identical copy");
    refused(p, &base, "MG046");
    let (_, v) = check(p, &base);
    assert!(messages(&v).contains("model.pkl"), "{}", messages(&v));
    // PR 3, had PR 2 been merged: only the copy changes; still refused.
    let base3 = merge(p, "merged anyway");
    std::fs::write(p.join("examples/model-copy.pkl"), b"evil").unwrap();
    merge(p, "PR 3: edit the copy");
    refused(p, &base3, "MG046");

    reset(p, &base);
    std::fs::remove_file(&pkl).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", &pkl).unwrap();
    merge(p, "PR 2c: the pickle becomes a link out of the repository");
    refused(p, &base, "MG046");

    reset(p, &base);
    git(
        p,
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("160000,{base},{FOLDER}/vendor"),
        ],
    );
    git(
        p,
        &["commit", "-q", "-m", "PR 2e: a submodule in the folder"],
    );
    refused(p, &base, "MG046");
}

/// PR 2 makes a file of the champion's folder executable. The folder digest covers names and
/// bytes (as `sha256sum` does), not modes, so the digest still matches; the artifact of a merged
/// version is immutable in git all the same (MG054, at the version's sha256). The same rule
/// holds where `check --no-digests` hashes no artifact: swapped bytes are MG054 there.
#[test]
fn a_mode_change_in_a_merged_model_folder_is_refused() {
    let (dir, base) = folder_champion();
    let p = dir.path();
    git(
        p,
        &["update-index", "--chmod=+x", &format!("{FOLDER}/model.pkl")],
    );
    git(p, &["commit", "-q", "-m", "PR 2e: chmod +x model.pkl"]);
    assert!(git(p, &["ls-tree", "-r", "HEAD", FOLDER]).contains("100755"));
    let v = expect_check(p, &base, 1, &["MG054"]);
    assert!(
        !has(&v, "MG014"),
        "the digest still matches: {}",
        messages(&v)
    );
    let d = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "MG054")
        .unwrap();
    assert_eq!(d["file"], format!("{HD}/versions/v5.yaml"), "{d}");
    assert!(d["line"].as_u64().is_some(), "{d}");
    // Swapped bytes under --no-digests, in the folder and in an ONNX file artifact.
    for file in [
        format!("{FOLDER}/model.pkl"),
        "examples/heart_disease/v3/model.onnx".to_string(),
    ] {
        reset(p, &base);
        let mut bytes = std::fs::read(p.join(&file)).unwrap();
        bytes.push(0);
        std::fs::write(p.join(&file), bytes).unwrap();
        merge(p, "PR 2a: swap bytes, for a gate that skips digests");
        let (code, out, err) = crate::util::run(
            &[
                "check",
                "--base",
                &base,
                "--head",
                "HEAD",
                "--format",
                "json",
                "--no-digests",
            ],
            p,
        );
        assert_eq!(code, 1, "{file}: {out}{err}");
        assert!(
            out.contains("MG054") && !out.contains("MG014"),
            "{file}: {out}"
        );
    }
    // An honest pull request that leaves the folder alone is not affected.
    reset(p, &base);
    edit(p, "model-cards/heart_disease.md", |t| {
        format!("{t}\nA note.\n")
    });
    merge(p, "PR: a card note");
    expect_check(p, &base, 0, &[]);
}

/// PR 2 edits the approved champion's version file: its recorded folder digest (to match
/// swapped bytes), or its `format`. A merged version is immutable (MG039), and the champion's
/// approvals bind the version file's sha256.
#[test]
fn a_merged_folder_versions_digest_and_format_are_immutable() {
    let (dir, base) = folder_champion();
    let p = dir.path();
    let v5 = format!("{HD}/versions/v5.yaml");
    let mut files = model_files();
    files[1].1 = b"\x80\x04evil pickle bytes...";
    let old = write_folder(p, "scratch", &model_files());
    let new = write_folder(p, FOLDER, &files);
    std::fs::remove_dir_all(p.join("scratch")).unwrap();
    edit(p, &v5, |t| t.replace(&old.hex(), &new.hex()));
    merge(p, "PR 2f: swap the pickle and record its digest");
    refused(p, &base, "MG039");

    reset(p, &base);
    edit(p, &v5, |t| t.replace("format: sklearn", "format: xgboost"));
    merge(p, "PR 2f: call it xgboost");
    refused(p, &base, "MG039");
}

/// PR 2 registers v6 pointing at the approved champion's very folder and promotes it: a new
/// version is a new candidate, which needs its own signed approvals (MG037), not v5's.
#[test]
fn a_second_version_on_the_same_folder_needs_its_own_approvals() {
    let (dir, base) = folder_champion();
    let p = dir.path();
    let sha = write_folder(p, FOLDER, &model_files());
    add_folder_version(p, 6, FOLDER, &sha, "sklearn");
    edit(p, &format!("{HD}/versions/v6.yaml"), |t| {
        t.replace("roc_auc: 0.95", "roc_auc: 0.99")
    });
    promote_version(
        p,
        "6",
        "champion",
        "alice@example.com",
        Some("2024-06-04T09:00:00Z"),
    );
    merge(p, "PR 2g: v6 on v5's folder, promoted");
    refused(p, &base, "MG037");
    let (_, v) = check(p, &base);
    assert_eq!(
        crate::check::gate(&v, "heart_disease", "champion", "approvals")["status"],
        "block"
    );
    // v5's approvals copied under v6's names do not count either.
    for f in std::fs::read_dir(p.join(HD).join("approvals")).unwrap() {
        let name = f.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(rest) = name.strip_prefix("v5-champion-") {
            std::fs::copy(
                p.join(HD).join("approvals").join(&name),
                p.join(HD)
                    .join("approvals")
                    .join(format!("v6-champion-{rest}")),
            )
            .unwrap();
        }
    }
    merge(p, "PR 2g: with v5's approvals copied");
    let v = expect_check(p, &base, 1, &[]);
    assert_eq!(
        crate::check::gate(&v, "heart_disease", "champion", "approvals")["status"],
        "block"
    );
}

/// A file name holding a line break could make two different folders print the same listing:
/// `MLmodel` + `model.pkl` lists exactly like a single file named
/// `MLmodel\n<sha256 of model.pkl>  model.pkl` holding MLmodel's bytes. PR 1 would have
/// approvers sign the odd one-file folder, PR 2 swap in the other with the same digest. Such a
/// name is refused where the digest is computed (MG046, in PR 1), and PR 2's swap is caught on
/// its own by the git tree of the merged artifact (MG054).
#[test]
fn a_line_break_in_a_file_name_cannot_forge_a_folder_digest() {
    let (dir, base) = example_repo();
    let p = dir.path();
    let files = model_files();
    let (mlmodel, pkl) = (files[0].1, files[1].1);
    let odd = format!("MLmodel\n{}  model.pkl", Sha256::of(pkl));
    // Without the refusal, the two listings would be the same text.
    let listing = |names: &[(&str, &[u8])]| {
        let mut s = String::new();
        for (n, b) in names {
            s.push_str(&format!("{}  {n}\n", Sha256::of(b)));
        }
        s
    };
    assert_eq!(
        listing(&[(&odd, mlmodel)]),
        listing(&[("MLmodel", mlmodel), ("model.pkl", pkl)])
    );
    assert!(Sha256::of_tree(&[(odd.clone(), Sha256::of(mlmodel))]).is_err());
    let sha = write_folder(p, "scratch", &[("MLmodel", mlmodel), ("model.pkl", pkl)]);
    std::fs::remove_dir_all(p.join("scratch")).unwrap();
    std::fs::create_dir_all(p.join(FOLDER)).unwrap();
    std::fs::write(p.join(FOLDER).join(&odd), mlmodel).unwrap();
    add_folder_version(p, 5, FOLDER, &sha, "sklearn");
    promote_and_approve(p, "5");
    merge(p, "PR 1: v5 is a one-file folder with an odd name");
    refused(p, &base, "MG046");
    let (_, v) = check(p, &base);
    assert!(messages(&v).contains("line break"), "{}", messages(&v));

    // Merged anyway (an admin's mistake): PR 2 swaps in the two-file folder of the same digest.
    let base2 = merge(p, "merged anyway");
    std::fs::remove_file(p.join(FOLDER).join(&odd)).unwrap();
    write_folder(p, FOLDER, &[("MLmodel", mlmodel), ("model.pkl", pkl)]);
    merge(p, "PR 2: the real model folder, same digest");
    refused(p, &base2, "MG054");
    // `validate` refuses the odd name from a folder on disk too.
    reset(p, &base2);
    let (code, out, _) = crate::util::run(&["validate"], p);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("MG046") && out.contains("line break"), "{out}");
}

// ---- The governed `serving:` section ------------------------------------------------------

const MODEL_YAML: &str = "registry/models/heart_disease/model.yaml";

/// PR 1, honest and governed: 5% of heart_disease's traffic goes to the challenger (v4), sticky
/// by patient, with the governance roles' signed approvals. Returns the merged base.
fn small_challenger_share() -> (tempfile::TempDir, String) {
    let (dir, base) = example_repo();
    let p = dir.path();
    edit(p, MODEL_YAML, |t| {
        format!(
            "{t}serving:\n  split: {{champion: 95, challenger: 5}}\n  sticky: {{field: patient_id}}\n"
        )
    });
    approve_governance(p, &base, MODEL_YAML, "compliance", "carol");
    approve_governance(p, &base, MODEL_YAML, "business", "bob");
    merge(p, "PR 1: 5% to the challenger, approved");
    let (code, v) = check(p, &base);
    assert_eq!(code, 0, "the governed PR 1 passes: {}", messages(&v));
    let base2 = merge(p, "merged");
    (dir, base2)
}

/// PR 2 raises the challenger's share, changes the sticky key (moving callers between
/// versions) or turns shadow scoring on, each without approvals: governance changes judged
/// against the base's section, MG048. PR 1's approvals do not carry over (they bind the file's
/// content they approved and were used up by PR 1).
#[test]
fn a_governed_serving_share_cannot_grow_in_the_next_pull_request() {
    let (dir, base) = small_challenger_share();
    let p = dir.path();
    for (what, from, to, line) in [
        (
            "raise the share",
            "split: {champion: 95, challenger: 5}",
            "split: {champion: 50, challenger: 50}",
            "serving.split.challenger: 5 → 50",
        ),
        (
            "change the sticky key",
            "sticky: {field: patient_id}",
            "sticky: {field: age}",
            "serving.sticky.field: patient_id → age",
        ),
        (
            "sticky by a header the caller chooses",
            "sticky: {field: patient_id}",
            "sticky: {header: X-Route}",
            "serving.sticky.header: (none) → X-Route",
        ),
        (
            "turn shadow scoring on",
            "sticky: {field: patient_id}",
            "sticky: {field: patient_id}\n  shadow: true",
            "serving.shadow: false → true",
        ),
    ] {
        reset(p, &base);
        edit(p, MODEL_YAML, |t| t.replace(from, to));
        merge(p, &format!("PR 2: {what}"));
        let (code, v) = check(p, &base);
        assert_eq!(code, 1, "{what}: {}", messages(&v));
        assert!(has(&v, "MG048"), "{what}: {}", messages(&v));
        let lines = v["governance"][0]["lines"].to_string();
        assert!(lines.contains(line), "{what}: {lines}");
    }
    // Merged governance approvals of PR 1's content cannot be replayed for the raise: the raise
    // is a different content, and a merged approval is used up.
    reset(p, &base);
    edit(p, MODEL_YAML, |t| {
        t.replace("challenger: 5}", "challenger: 50}")
            .replace("champion: 95", "champion: 50")
    });
    let approvals = p.join("registry/governance");
    for f in std::fs::read_dir(&approvals).unwrap() {
        let f = f.unwrap().path();
        let text = std::fs::read_to_string(&f).unwrap();
        std::fs::write(
            approvals.join(format!("copy-{}", f.file_name().unwrap().to_string_lossy())),
            text,
        )
        .unwrap();
    }
    merge(p, "PR 2: raise the share with PR 1's approvals copied");
    expect_check(p, &base, 1, &["MG048"]);
    // Lowering the share again only tightens: no approval needed.
    reset(p, &base);
    edit(p, MODEL_YAML, |t| {
        t.replace(
            "split: {champion: 95, challenger: 5}",
            "split: {champion: 99, challenger: 1}",
        )
    });
    merge(p, "PR 2: less to the challenger");
    expect_check(p, &base, 0, &[]);
}

/// PR 2 keeps the approved 5% but swaps the version behind it: the challenger alias moves to a
/// new v5 that nobody approved. The move runs the base's challenger gate (a signed
/// data_scientist approval of v5 as challenger), MG037 without it; with it, it passes.
#[test]
fn the_version_behind_a_serving_share_moves_only_through_the_challenger_gate() {
    let (dir, base) = small_challenger_share();
    let p = dir.path();
    let sha = write_folder(p, FOLDER, &model_files());
    add_folder_version(p, 5, FOLDER, &sha, "sklearn");
    promote_version(
        p,
        "5",
        "challenger",
        "alice@example.com",
        Some("2024-06-03T09:00:00Z"),
    );
    merge(p, "PR 2: v5 behind the challenger's 5%");
    let v = expect_check(p, &base, 1, &["MG037"]);
    assert_eq!(
        crate::check::gate(&v, "heart_disease", "challenger", "approvals")["status"],
        "block"
    );
    // With the signed approval the base's challenger gate demands, the move passes.
    approve_version(
        p,
        "heart_disease",
        "5",
        "challenger",
        "data_scientist",
        "examples/keys/alice",
        "2024-06-03T10:00:00Z",
    );
    merge(p, "PR 2: the data scientist approves v5 as challenger");
    expect_check(p, &base, 0, &[]);
}

/// PR 1 loosens what governs the next change to `serving:` — the governance roles in
/// policy.yaml, or the challenger gate's approval roles in model.yaml — so that PR 2 could send
/// traffic to an unreviewed challenger. PR 1 is itself a governance change, blocked (MG048)
/// without the base's governance roles.
#[test]
fn loosening_what_governs_serving_is_itself_governed() {
    let (dir, base) = small_challenger_share();
    let p = dir.path();
    edit(p, "registry/policy.yaml", |t| {
        t.replace(
            "governance: {roles: [compliance, business]}",
            "governance: {roles: [compliance]}",
        )
    });
    merge(p, "PR 1: one governance role fewer");
    expect_check(p, &base, 1, &["MG048"]);

    reset(p, &base);
    edit(p, MODEL_YAML, |t| {
        t.replace(
            "policy: {}",
            "policy: {gates: {challenger: {approvals: {roles: []}}}}",
        )
    });
    merge(p, "PR 1: the challenger needs no approval");
    expect_check(p, &base, 1, &["MG048"]);

    // A new model with all its traffic on the challenger is judged against the default
    // section (the champion answers all): governed too.
    reset(p, &base);
    let src = p.join(HD);
    let dst = p.join("registry/models/heart_copy");
    crate::util::copy_tree(&src.join("versions"), &dst.join("versions"));
    std::fs::write(
        dst.join("model.yaml"),
        std::fs::read_to_string(src.join("model.yaml"))
            .unwrap()
            .replace("name: heart_disease", "name: heart_copy")
            .replace(
                "champion: 95, challenger: 5",
                "champion: 0, challenger: 100",
            ),
    )
    .unwrap();
    std::fs::copy(
        p.join("model-cards/heart_disease.md"),
        p.join("model-cards/heart_copy.md"),
    )
    .unwrap();
    merge(p, "PR 1: a new model that serves its challenger");
    let v = expect_check(p, &base, 1, &["MG048"]);
    assert!(
        v["governance"]
            .to_string()
            .contains("serving.split.challenger: 0 → 100"),
        "{}",
        v["governance"]
    );
}

/// PR 2 keys the approved split by a header that carries credentials (the sticky key is written
/// into every prediction log row, so the callers' tokens would land on disk), or by a name no
/// HTTP request can carry (the split would silently stop being sticky). Both are MG021 at the
/// header's line, whatever the governance approvals say.
#[test]
fn a_sticky_header_must_name_the_caller_not_carry_credentials() {
    let (dir, base) = small_challenger_share();
    let p = dir.path();
    for header in [
        "Authorization",
        "cookie",
        "\"X Patient\"",
        "\"X-Patient\\n\"",
    ] {
        reset(p, &base);
        edit(p, MODEL_YAML, |t| {
            t.replace(
                "sticky: {field: patient_id}",
                &format!("sticky: {{header: {header}}}"),
            )
        });
        approve_governance(p, &base, MODEL_YAML, "compliance", "carol");
        approve_governance(p, &base, MODEL_YAML, "business", "bob");
        merge(p, &format!("PR 2: sticky by {header}, approved"));
        let (code, v) = check(p, &base);
        assert_eq!(code, 1, "{header}: {}", messages(&v));
        let d = v["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["code"] == "MG021" && d["severity"] == "error")
            .unwrap_or_else(|| panic!("{header}: {}", messages(&v)));
        assert_eq!(d["file"], MODEL_YAML, "{d}");
        assert!(d["line"].as_u64().unwrap() > 20, "{d}");
        assert!(
            d["message"].as_str().unwrap().contains("credentials")
                || d["message"]
                    .as_str()
                    .unwrap()
                    .contains("not an HTTP header name"),
            "{d}"
        );
    }
    // An ordinary header name is fine (with the governance approvals it needs).
    reset(p, &base);
    edit(p, MODEL_YAML, |t| {
        t.replace(
            "sticky: {field: patient_id}",
            "sticky: {header: X-Patient-Id}",
        )
    });
    approve_governance(p, &base, MODEL_YAML, "compliance", "carol");
    approve_governance(p, &base, MODEL_YAML, "business", "bob");
    merge(p, "PR 2: sticky by X-Patient-Id, approved");
    expect_check(p, &base, 0, &[]);
}

/// A pull request made with a hand-written tree object rather than git: the new version's model
/// folder holds an entry named `..` (git never writes one; libgit2 reads it) that names the
/// repository's root tree. A folder digest that took it for a folder would walk
/// `v5/../v5/../…` forever, and `check` would never answer: a gate that hangs is a gate
/// walked around. The entry is refused (MG046) and `check` ends at once.
#[test]
fn a_tree_entry_named_dotdot_is_refused_not_walked_forever() {
    let (dir, base) = example_repo();
    let p = dir.path();
    let sha = write_folder(p, FOLDER, &model_files());
    add_folder_version(p, 5, FOLDER, &sha, "sklearn");
    merge(p, "PR: v5 as a model folder");
    // The same change pushed as hand-written objects: the v5 folder also holds `..`, naming the
    // root tree.
    commit_hand_made_folder(p, FOLDER, "PR: v5 with a `..`", |root, v5| {
        let mut entries = vec![(0o040000, "..".to_string(), root.id())];
        entries.extend(entries_of(v5));
        entries
    });
    let (code, v) = check_within_a_minute(p, &base);
    assert_eq!(code, 1, "{}", messages(&v));
    assert!(has(&v, "MG046"), "{}", messages(&v));
    assert!(messages(&v).contains("v5/.."), "{}", messages(&v));
}

/// The entries of a tree: mode, name, object.
fn entries_of(tree: &git2::Tree) -> Vec<(i32, String, git2::Oid)> {
    tree.iter()
        .map(|e| (e.filemode(), e.name().unwrap().to_string(), e.id()))
        .collect()
}

/// Commits HEAD's tree again with `folder` replaced by a tree object written by hand, entry by
/// entry as `entries` lists them from HEAD's root tree and folder tree (names git itself never
/// writes included): a pull request pushed as raw objects. The commit becomes HEAD.
fn commit_hand_made_folder(
    p: &Path,
    folder: &str,
    msg: &str,
    entries: impl FnOnce(&git2::Tree, &git2::Tree) -> Vec<(i32, String, git2::Oid)>,
) {
    let repo = git2::Repository::open(p).unwrap();
    let commit = repo.head().unwrap().peel_to_commit().unwrap();
    let root = commit.tree().unwrap();
    let tree_at = |path: &str| -> git2::Tree {
        if path.is_empty() {
            return root.clone();
        }
        root.get_path(Path::new(path))
            .unwrap()
            .to_object(&repo)
            .unwrap()
            .peel_to_tree()
            .unwrap()
    };
    let mut raw = Vec::new();
    for (mode, name, oid) in entries(&root, &tree_at(folder)) {
        raw.extend(format!("{mode:o} {name}\0").into_bytes());
        raw.extend(oid.as_bytes());
    }
    let mut inner = repo
        .odb()
        .unwrap()
        .write(git2::ObjectType::Tree, &raw)
        .unwrap();
    // Up the path: each folder with its child replaced.
    let parts: Vec<&str> = folder.split('/').collect();
    for depth in (0..parts.len()).rev() {
        let mut b = repo
            .treebuilder(Some(&tree_at(&parts[..depth].join("/"))))
            .unwrap();
        b.insert(parts[depth], inner, 0o040000).unwrap();
        inner = b.write().unwrap();
    }
    let tree = repo.find_tree(inner).unwrap();
    let sig = git2::Signature::now("mallory", "mallory@example.com").unwrap();
    repo.commit(Some("HEAD"), &sig, &sig, msg, &tree, &[&commit])
        .unwrap();
}

/// `check` of HEAD against `base` under a one-minute deadline (a hang fails the test).
fn check_within_a_minute(p: &Path, base: &str) -> (i32, serde_json::Value) {
    let mut child = crate::util::modelgate()
        .args([
            "check", "--base", base, "--head", "HEAD", "--format", "json",
        ])
        .current_dir(p)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("check did not end within 60 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap();
    (out.status.code().unwrap_or(-1), v)
}

/// A pull request pushed as hand-written objects whose heart_disease folder names
/// `aliases.yaml` twice: first a copy moving the champion to v4 with none of the approvals the
/// base demands, then the file as merged. Readers disagree on such a tree (measured: `git show`
/// reads the first copy, `git reset --hard` writes the last); the walk before the fix kept the
/// last, so `check` saw the aliases unchanged and passed (exit 0). Both copies are refused
/// (MG046); neither is read.
#[test]
fn a_file_named_twice_in_a_folder_is_refused_whichever_copy_a_reader_takes() {
    let (dir, base) = example_repo();
    let p = dir.path();
    let repo = git2::Repository::open(p).unwrap();
    let aliases = std::fs::read_to_string(p.join(HD).join("aliases.yaml")).unwrap();
    let moved = repo
        .blob(aliases.replace("champion: 3", "champion: 4").as_bytes())
        .unwrap();
    commit_hand_made_folder(p, HD, "PR: aliases.yaml twice", |_, folder| {
        let mut entries = Vec::new();
        for (mode, name, oid) in entries_of(folder) {
            if name == "aliases.yaml" {
                entries.push((mode, name.clone(), moved));
            }
            entries.push((mode, name, oid));
        }
        entries
    });
    let (code, v) = check_within_a_minute(p, &base);
    assert_eq!(code, 1, "{}", messages(&v));
    assert!(has(&v, "MG046"), "{}", messages(&v));
    assert!(messages(&v).contains("aliases.yaml"), "{}", messages(&v));
}
