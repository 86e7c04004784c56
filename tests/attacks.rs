//! The gate under attack: sequences of pull requests on real git repositories, in which the
//! first prepares and the second exploits, by an author who can push branches but not merge and
//! who holds only their own key. Approvals are signed by modelgate with the demo keys, monitoring
//! results by `ssh-keygen -Y sign`. Every test names the defence it proves (SECURITY.md maps
//! threats to these names).

use crate::check::{
    HD, approve, approve_all, approve_version, check, codes, edit, example_repo, expect_check,
    gate, messages, mg, promote_v4, promote_version,
};
use crate::util::run;
use modelgate::synth::commit_all;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// "Merges" the pull request: commits the work tree; returns the new base.
fn merge(dir: &Path, msg: &str) -> String {
    commit_all(dir, msg).unwrap().to_string()
}

pub(crate) fn has(v: &Value, code: &str) -> bool {
    codes(v).iter().any(|c| c == code)
}

fn symlink(target: &str, link: &Path) {
    std::fs::remove_file(link).ok();
    std::os::unix::fs::symlink(target, link).unwrap();
}

/// A new version v5 of heart_disease: v4's file with other bias numbers for `sex`.
fn add_v5(dir: &Path, sex_bias: &str) {
    let v4 = std::fs::read_to_string(dir.join(HD).join("versions/v4.yaml")).unwrap();
    let start = v4.find("  sex:\n").unwrap();
    let end = v4.find("  race:\n").unwrap();
    let v5 = format!("{}  sex: {sex_bias}\n{}", &v4[..start], &v4[end..])
        .replace("version: 4", "version: 5")
        .replace(
            "created_at: 2024-05-27T13:20:00Z",
            "created_at: 2024-06-01T00:00:00Z",
        )
        .replace("roc_auc: 0.8909", "roc_auc: 0.95");
    std::fs::write(dir.join(HD).join("versions/v5.yaml"), v5).unwrap();
}

pub(crate) fn promote_and_approve(dir: &Path, version: &str) {
    promote_version(
        dir,
        version,
        "champion",
        "alice@example.com",
        Some("2024-06-03T09:00:00Z"),
    );
    for (role, who) in [
        ("data_scientist", "alice"),
        ("compliance", "carol"),
        ("business", "bob"),
    ] {
        let key = format!("examples/keys/{who}");
        approve_version(
            dir,
            "heart_disease",
            version,
            "champion",
            role,
            &key,
            "2024-06-03T10:00:00Z",
        );
    }
}

/// A governance approval of `file` as it is now, against `base` (the pull request's base).
/// Signs an approval file again with `ssh-keygen -Y sign` over `modelgate approval message`,
/// as a reviewer with an agent or a hardware key does.
fn resign_with_ssh_keygen(dir: &Path, file: &str, key: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let statement = text[..text.find("signature:").unwrap()].to_string();
    std::fs::write(&path, &statement).unwrap();
    let (code, msg, err) = run(&["approval", "message", file], dir);
    assert_eq!(code, 0, "{err}");
    let msg_file = dir.join("msg");
    std::fs::write(&msg_file, msg).unwrap();
    let _ = std::fs::remove_file(dir.join("msg.sig"));
    let out = Command::new("ssh-keygen")
        .args(["-q", "-Y", "sign", "-n", "modelgate-approval", "-f"])
        .arg(dir.join(key))
        .arg(&msg_file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sig = std::fs::read_to_string(dir.join("msg.sig")).unwrap();
    let indented: String = sig.lines().map(|l| format!("  {l}\n")).collect();
    std::fs::write(&path, format!("{statement}signature: |\n{indented}")).unwrap();
    std::fs::remove_file(msg_file).unwrap();
    std::fs::remove_file(dir.join("msg.sig")).unwrap();
}

pub(crate) fn approve_governance(dir: &Path, base: &str, file: &str, role: &str, who: &str) {
    let key = format!("examples/keys/{who}");
    mg(
        dir,
        &[
            "approve",
            "--governance",
            file,
            "--base",
            base,
            "--role",
            role,
            "--key",
            &key,
            "--at",
            "2024-06-02T10:00:00Z",
        ],
    );
}

// ---- Rule 1: plain files only -------------------------------------------------------------

/// PR 1 replaces aliases.yaml by a link to an identical copy elsewhere; PR 2 would edit only the
/// copy. PR 1 is refused: a link is never followed, from git as from a folder.
#[test]
fn link_to_a_copy_is_refused_before_the_copy_is_edited() {
    let (dir, base) = example_repo();
    let p = dir.path();
    std::fs::copy(
        p.join(HD).join("aliases.yaml"),
        p.join("examples/aliases-copy.yaml"),
    )
    .unwrap();
    symlink(
        "../../../examples/aliases-copy.yaml",
        &p.join(HD).join("aliases.yaml"),
    );
    merge(p, "PR 1: aliases.yaml becomes a link to an identical copy");
    expect_check(p, &base, 1, &["MG046"]);
    // PR 2, had PR 1 been merged: only the copy changes; still refused, and never "no changes".
    let base2 = merge(p, "merged anyway");
    edit(p, "examples/aliases-copy.yaml", |t| {
        t.replace("champion: 3", "champion: 4")
    });
    merge(p, "PR 2: the copy moves the champion");
    expect_check(p, &base2, 1, &["MG046"]);
}

/// A merged version file replaced by a dangling link does not silently disappear, and an alias
/// pointed at it runs no gate-free promotion.
#[test]
fn dangling_version_link_is_refused() {
    let (dir, base) = example_repo();
    let p = dir.path();
    symlink("v9.yaml", &p.join(HD).join("versions/v3.yaml"));
    merge(p, "PR: v3.yaml becomes a dangling link");
    expect_check(p, &base, 1, &["MG046"]);
}

/// A submodule (gitlink) where the registry expects a file is refused.
#[test]
fn submodule_in_the_registry_is_refused() {
    let (dir, base) = example_repo();
    let p = dir.path();
    let ok = Command::new("git")
        .args([
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("160000,{base},{HD}/versions/v5.yaml"),
        ])
        .current_dir(p)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let ok = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "commit",
            "-q",
            "-m",
            "gitlink",
        ])
        .current_dir(p)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    expect_check(p, &base, 1, &["MG046"]);
}

/// Reusing unchanged model folders by git tree id stays sound: a pull request that changes only
/// a file outside the model folder (the artifact a version names) is still caught.
#[test]
fn reused_model_folder_still_sees_changes_outside_it() {
    let (dir, base) = example_repo();
    let p = dir.path();
    let art = p.join("examples/heart_disease/v3/model.onnx");
    let mut bytes = std::fs::read(&art).unwrap();
    bytes.push(0);
    std::fs::write(&art, bytes).unwrap();
    merge(
        p,
        "PR: the champion's artifact changes, no registry file does",
    );
    expect_check(p, &base, 1, &["MG014"]);
}

// ---- Rule 2: rules are governed -----------------------------------------------------------

/// PR 1 empties the champion's approval roles in model.yaml; PR 2 would promote with no
/// approvals. PR 1 is listed as a governance change in plain words and blocked.
#[test]
fn policy_override_emptying_approvals_is_blocked() {
    let (dir, base) = example_repo();
    let p = dir.path();
    edit(p, &format!("{HD}/model.yaml"), |t| {
        t.replace(
            "policy: {}",
            "policy: {gates: {champion: {approvals: {roles: []}}}}",
        )
    });
    merge(p, "PR 1: no approvals needed");
    let v = expect_check(p, &base, 1, &["MG048"]);
    let g = &v["governance"][0];
    assert_eq!(g["file"], format!("{HD}/model.yaml"));
    let lines = g["lines"].to_string();
    assert!(
        lines.contains(
            "gates.champion.approvals.roles: [data_scientist, compliance, business] → []"
        ),
        "{lines}"
    );
    let (_, text, _) = run(&["check", "--base", &base], p);
    assert!(
        text.contains("governance change registry/models/heart_disease/model.yaml"),
        "{text}"
    );
}

/// Raising the bias thresholds to 0.9/0.95 loosens the rules: blocked without approvals; with
/// the governance roles' signed approvals of exactly this content it passes.
#[test]
fn loosening_bias_thresholds_needs_governance_approval() {
    let (dir, base) = example_repo();
    let p = dir.path();
    let file = format!("{HD}/model.yaml");
    edit(p, &file, |t| {
        t.replace(
            "policy: {}",
            "policy: {gates: {champion: {bias: {warn_at: 0.9, block_at: 0.95}}}}",
        )
    });
    merge(p, "PR 1: loosen bias");
    expect_check(p, &base, 1, &["MG048"]);
    // A compliance approval alone is not enough (governance roles: compliance, business).
    approve_governance(p, &base, &file, "compliance", "carol");
    merge(p, "compliance approves");
    expect_check(p, &base, 1, &[]);
    approve_governance(p, &base, &file, "business", "bob");
    merge(p, "business approves");
    let v = expect_check(p, &base, 0, &[]);
    assert_eq!(v["governance"][0]["status"], "pass");
    // Editing the file after approval voids the approvals (they bind its sha256).
    edit(p, &file, |t| t.replace("0.95", "0.99"));
    merge(p, "edit after approval");
    expect_check(p, &base, 1, &["MG048"]);
}

/// A change that provably only tightens the rules passes without approvals.
#[test]
fn tightening_needs_no_approval() {
    let (dir, base) = example_repo();
    let p = dir.path();
    edit(p, &format!("{HD}/model.yaml"), |t| {
        t.replace(
            "policy: {}",
            "policy: {gates: {champion: {bias: {warn_at: 0.05, block_at: 0.08}, min_improvement: 0.03}}}",
        )
    });
    edit(p, "registry/policy.yaml", |t| {
        t.replace("min_ratio: 0.95", "min_ratio: 0.97")
    });
    merge(p, "PR: stricter");
    let v = expect_check(p, &base, 0, &[]);
    assert_eq!(v["governance"].as_array().unwrap().len(), 2);
    assert_eq!(v["governance"][0]["tightens_only"], true);
}

/// Reordering a feature's categories changes what every version predicts: a governance change,
/// and approvals of a promotion made before it no longer count (they bind the input schema).
#[test]
fn reordered_categories_are_governed_and_void_approvals() {
    let (dir, base) = example_repo();
    let p = dir.path();
    promote_v4(p);
    approve_all(p);
    edit(p, &format!("{HD}/model.yaml"), |t| {
        t.replace(
            "categories: [typical, atypical, non_anginal, asymptomatic]",
            "categories: [atypical, typical, non_anginal, asymptomatic]",
        )
    });
    merge(p, "PR: promote, approve, then reorder categories");
    let v = expect_check(p, &base, 1, &["MG048", "MG038"]);
    assert!(messages(&v).contains("input schema"), "{}", messages(&v));
}

/// A new model whose overrides loosen the global policy counts as loosening.
#[test]
fn new_model_with_loosening_overrides_is_governed() {
    let (dir, base) = example_repo();
    let p = dir.path();
    let src = p.join(HD);
    let dst = p.join("registry/models/heart_copy");
    crate::util::copy_tree(&src.join("versions"), &dst.join("versions"));
    std::fs::write(
        dst.join("model.yaml"),
        std::fs::read_to_string(src.join("model.yaml"))
            .unwrap()
            .replace("name: heart_disease", "name: heart_copy")
            .replace(
                "policy: {}",
                "policy: {gates: {champion: {approvals: {roles: [data_scientist]}}}}",
            ),
    )
    .unwrap();
    std::fs::copy(
        p.join("model-cards/heart_disease.md"),
        p.join("model-cards/heart_copy.md"),
    )
    .unwrap();
    merge(p, "PR: a new model with fewer approval roles");
    expect_check(p, &base, 1, &["MG048"]);
}

// ---- Rule 5: gate inputs fail closed -------------------------------------------------------

/// `protected_attributes: []` in the promoting pull request itself does not switch the bias
/// gate off: an existing model's attributes come from the base.
#[test]
fn emptied_protected_attributes_do_not_hide_disparity() {
    let (dir, base) = example_repo();
    let p = dir.path();
    add_v5(
        p,
        "{demographic_parity: 0.40, equal_opportunity: 0.1, predictive_parity: 0.1}",
    );
    edit(p, &format!("{HD}/model.yaml"), |t| {
        t.replace(
            "protected_attributes: [sex, race, age_group]",
            "protected_attributes: []",
        )
    });
    promote_and_approve(p, "5");
    merge(p, "PR: v5 with a 0.40 disparity, attributes emptied");
    expect_check(p, &base, 1, &["MG035", "MG048"]);
}

/// A `.nan` disparity beside a 0.40 one does not hide the 0.40: non-finite numbers block.
#[test]
fn nan_disparity_blocks() {
    let (dir, base) = example_repo();
    let p = dir.path();
    add_v5(
        p,
        "{demographic_parity: .nan, equal_opportunity: 0.40, predictive_parity: 0.01}",
    );
    promote_and_approve(p, "5");
    merge(p, "PR: v5 with a NaN disparity");
    expect_check(p, &base, 1, &["MG047"]);
    let (code, out, _) = run(&["validate"], p);
    assert_eq!(code, 1);
    assert!(out.contains("MG047"), "{out}");
}

/// An infinite metric does not pass the performance gate.
#[test]
fn infinite_metric_blocks() {
    let (dir, base) = example_repo();
    let p = dir.path();
    add_v5(
        p,
        "{demographic_parity: 0.01, equal_opportunity: 0.01, predictive_parity: 0.01}",
    );
    edit(p, &format!("{HD}/versions/v5.yaml"), |t| {
        t.replace("roc_auc: 0.95", "roc_auc: .inf")
    });
    promote_and_approve(p, "5");
    merge(p, "PR: v5 with an infinite AUC");
    expect_check(p, &base, 1, &["MG047"]);
}

// ---- Rule 6: time is not the signer's to choose -------------------------------------------

/// An approval signed with a key whose valid-before has passed, backdated into the key's
/// window, does not count now; `--at` replays history explicitly.
#[test]
fn expired_key_with_backdated_approval_is_refused() {
    let (dir, _) = example_repo();
    let p = dir.path();
    edit(p, "registry/allowed_signers", |t| {
        t.replace(
            "carol@example.com namespaces=\"modelgate-approval,git\"",
            "carol@example.com namespaces=\"modelgate-approval,git\",valid-before=\"20250101\"",
        )
    });
    let base = merge(p, "base: carol's key expires at the start of 2025");
    promote_v4(p);
    approve_all(p); // approved_at 2024-06-03: inside carol's window
    // Carol signs with ssh-keygen, as with an agent-held key.
    resign_with_ssh_keygen(
        p,
        &format!("{HD}/approvals/v4-champion-compliance-carol@example.com.yaml"),
        "examples/keys/carol",
    );
    merge(p, "PR: approvals dated 2024");
    let v = expect_check(p, &base, 1, &[]);
    assert!(messages(&v).contains("not valid now"), "{}", messages(&v));
    let (code, out, err) = run(
        &["check", "--base", &base, "--at", "2024-06-04T00:00:00Z"],
        p,
    );
    assert_eq!(code, 0, "{out}{err}");
}

/// An approval dated in the future of the check does not count.
#[test]
fn future_dated_approval_is_refused() {
    let (dir, base) = example_repo();
    let p = dir.path();
    promote_v4(p);
    approve(p, "data_scientist", "alice", &[]);
    approve(p, "business", "bob", &[]);
    approve_version(
        p,
        "heart_disease",
        "4",
        "champion",
        "compliance",
        "examples/keys/carol",
        "2099-01-01T00:00:00Z",
    );
    merge(p, "PR: carol's approval dated 2099");
    let v = expect_check(p, &base, 1, &[]);
    assert!(
        messages(&v).contains("later than the time of the check"),
        "{}",
        messages(&v)
    );
}

/// An approval dated before the version existed does not count.
#[test]
fn approval_before_the_version_existed_is_refused() {
    let (dir, base) = example_repo();
    let p = dir.path();
    promote_v4(p);
    approve(p, "data_scientist", "alice", &[]);
    approve(p, "business", "bob", &[]);
    approve_version(
        p,
        "heart_disease",
        "4",
        "champion",
        "compliance",
        "examples/keys/carol",
        "2024-01-01T00:00:00Z",
    );
    merge(p, "PR: approval predates v4");
    let v = expect_check(p, &base, 1, &[]);
    assert!(
        messages(&v).contains("before v4 was created"),
        "{}",
        messages(&v)
    );
}

// ---- Rule 7: history -----------------------------------------------------------------------

/// PR 1 (honest) makes v4 champion and archives v3. PR 2 points the champion back at v3 and
/// removes its archived_at, relying on v3's old champion approvals: they never revive.
#[test]
fn old_approvals_never_revive() {
    let (dir, _) = example_repo();
    let p = dir.path();
    // v3's champion approvals, as valid as approvals get (binding the input schema).
    for (role, who) in [
        ("data_scientist", "alice"),
        ("compliance", "carol"),
        ("business", "bob"),
    ] {
        let key = format!("examples/keys/{who}");
        approve_version(
            p,
            "heart_disease",
            "3",
            "champion",
            role,
            &key,
            "2024-05-20T00:00:00Z",
        );
    }
    let base = merge(p, "v3's approvals");
    promote_v4(p);
    approve_all(p);
    let base2 = merge(p, "PR 1: v4 champion");
    expect_check(p, &base, 0, &[]);
    // PR 2: un-archive v3 and move the champion back by hand, with promote-like audit entries.
    edit(p, &format!("{HD}/versions/v3.yaml"), |t| {
        t.replace("archived_at: 2024-06-03T09:00:00Z", "archived_at: null")
    });
    promote_version(
        p,
        "3",
        "champion",
        "mallory@example.com",
        Some("2024-07-01T00:00:00Z"),
    );
    merge(p, "PR 2: back to v3");
    let v = expect_check(p, &base2, 1, &[]);
    assert!(
        messages(&v).contains("old approvals never revive"),
        "{}",
        messages(&v)
    );
}

/// Removing archived_at without a promotion onto the version is refused.
#[test]
fn restoring_an_archived_version_is_a_promotion() {
    let (dir, _) = example_repo();
    let p = dir.path();
    promote_v4(p);
    approve_all(p);
    let base = merge(p, "v4 champion, v3 archived");
    edit(p, &format!("{HD}/versions/v3.yaml"), |t| {
        t.replace("archived_at: 2024-06-03T09:00:00Z", "archived_at: null")
    });
    merge(p, "PR: un-archive v3");
    let v = expect_check(p, &base, 1, &[]);
    assert!(
        messages(&v).contains("restoring a version is a promotion"),
        "{}",
        messages(&v)
    );
}

/// `champion:` and `"champion":` are the same key.
#[test]
fn duplicate_keys_collide_after_resolution() {
    let (dir, base) = example_repo();
    let p = dir.path();
    std::fs::write(
        p.join(HD).join("aliases.yaml"),
        "champion: 3\nchallenger: 4\n\"champion\": 4\n",
    )
    .unwrap();
    merge(p, "PR: a second champion key");
    expect_check(p, &base, 1, &["MG005"]);
}

/// With `distinct_principals: true`, one person cannot fill two roles of one promotion.
#[test]
fn one_person_cannot_fill_two_roles() {
    let (dir, _) = example_repo();
    let p = dir.path();
    edit(p, "registry/policy.yaml", |t| {
        t.replace(
            "business: [bob@example.com]",
            "business: [bob@example.com, alice@example.com]",
        )
    });
    let base = merge(p, "base: alice also holds business");
    promote_v4(p);
    approve(p, "data_scientist", "alice", &[]);
    approve(p, "compliance", "carol", &[]);
    approve(p, "business", "alice", &[]);
    merge(p, "PR: alice approves twice");
    let v = expect_check(p, &base, 1, &[]);
    assert!(
        messages(&v).contains("distinct_principals"),
        "{}",
        messages(&v)
    );
}

// ---- Rule 4: evidence ----------------------------------------------------------------------

/// Writes a monitoring result for heart_disease v3, signed by `ssh-keygen -Y sign` with the key
/// `signer` (None: unsigned).
pub(crate) fn monitoring(
    dir: &Path,
    date: &str,
    computed_at: &str,
    severity: &str,
    signer: Option<&str>,
) {
    let folder = dir.join(HD).join("monitoring");
    std::fs::create_dir_all(&folder).unwrap();
    let file = folder.join(format!("{date}.yaml"));
    std::fs::write(
        &file,
        format!(
            "model: heart_disease\nversion: 3\ndate: {date}\ncomputed_at: {computed_at}\ndrift_share: 0.5\nseverity: {severity}\n"
        ),
    )
    .unwrap();
    if let Some(who) = signer {
        let out = Command::new("ssh-keygen")
            .args(["-Y", "sign", "-n", "modelgate-monitoring", "-f"])
            .arg(dir.join("examples/keys").join(who))
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A signed alert on the champion blocks a promotion (the honest drift gate).
#[test]
fn signed_alert_blocks_promotion() {
    let (dir, _) = example_repo();
    let p = dir.path();
    monitoring(
        p,
        "2024-06-01",
        "2024-06-02T06:00:00Z",
        "alert",
        Some("drift-job"),
    );
    let base = merge(p, "drift job: alert");
    promote_v4(p);
    approve_all(p);
    merge(p, "PR: promote while drifting");
    expect_check(p, &base, 1, &["MG036"]);
}

/// PR 1 adds a hand-written newer result (`severity: none`) while the champion drifts: refused
/// as unauthenticated. Had it been merged, PR 2's promotion finds the drift gate failing closed
/// rather than trusting it. A result signed by an approver's key (not the monitoring role) and
/// a result that does not parse fare the same.
#[test]
fn forged_monitoring_results_are_refused_and_fail_closed() {
    let (dir, _) = example_repo();
    let p = dir.path();
    monitoring(
        p,
        "2024-06-01",
        "2024-06-02T06:00:00Z",
        "alert",
        Some("drift-job"),
    );
    let base = merge(p, "drift job: alert");
    monitoring(p, "2024-06-08", "2024-06-09T06:00:00Z", "none", None);
    merge(p, "PR 1: a newer, unsigned all-clear");
    expect_check(p, &base, 1, &["MG050"]);
    let base2 = merge(p, "merged anyway");
    promote_v4(p);
    approve_all(p);
    merge(p, "PR 2: promote");
    let v = expect_check(p, &base2, 1, &[]);
    assert!(
        messages(&v).contains("the drift gate fails closed"),
        "{}",
        messages(&v)
    );

    // Signed, but by alice (an approver, not the monitoring role).
    let (dir, _) = example_repo();
    let p = dir.path();
    monitoring(
        p,
        "2024-06-01",
        "2024-06-02T06:00:00Z",
        "alert",
        Some("drift-job"),
    );
    let base = merge(p, "drift job: alert");
    monitoring(
        p,
        "2024-06-08",
        "2024-06-09T06:00:00Z",
        "none",
        Some("alice"),
    );
    merge(p, "PR: all-clear signed by alice");
    expect_check(p, &base, 1, &["MG050"]);

    // A file that does not even parse.
    let (dir, _) = example_repo();
    let p = dir.path();
    monitoring(
        p,
        "2024-06-01",
        "2024-06-02T06:00:00Z",
        "alert",
        Some("drift-job"),
    );
    let base = merge(p, "drift job: alert");
    std::fs::write(
        p.join(HD).join("monitoring/2024-06-09.yaml"),
        "severity: [none\n",
    )
    .unwrap();
    merge(p, "PR: garbage");
    expect_check(p, &base, 1, &["MG050"]);
}

/// The latest result is decided by its signed `computed_at`, not by its file name; a misnamed
/// or future-dated result does not count.
#[test]
fn latest_result_is_decided_by_content() {
    let (dir, _) = example_repo();
    let p = dir.path();
    // An all-clear under a later date name, and an alert computed later under an earlier one.
    monitoring(
        p,
        "2024-06-20",
        "2024-06-21T06:00:00Z",
        "none",
        Some("drift-job"),
    );
    monitoring(
        p,
        "2024-06-10",
        "2024-06-28T06:00:00Z",
        "alert",
        Some("drift-job"),
    );
    let base = merge(p, "two results");
    promote_v4(p);
    approve_all(p);
    merge(p, "PR: promote");
    expect_check(p, &base, 1, &["MG036"]);

    let (dir, base) = example_repo();
    let p = dir.path();
    monitoring(
        p,
        "2024-06-01",
        "2099-01-01T00:00:00Z",
        "none",
        Some("drift-job"),
    );
    std::fs::rename(
        p.join(HD).join("monitoring/2024-06-01.yaml"),
        p.join(HD).join("monitoring/2024-06-02.yaml"),
    )
    .unwrap();
    merge(p, "PR: misnamed and future-dated");
    expect_check(p, &base, 1, &["MG050"]);
}

/// Merged evidence is never edited or removed.
#[test]
fn merged_monitoring_results_cannot_be_removed() {
    let (dir, _) = example_repo();
    let p = dir.path();
    monitoring(
        p,
        "2024-06-01",
        "2024-06-02T06:00:00Z",
        "alert",
        Some("drift-job"),
    );
    let base = merge(p, "drift job: alert");
    std::fs::remove_file(p.join(HD).join("monitoring/2024-06-01.yaml")).unwrap();
    std::fs::remove_file(p.join(HD).join("monitoring/2024-06-01.yaml.sig")).unwrap();
    merge(p, "PR: the alert disappears");
    expect_check(p, &base, 1, &["MG050"]);
}

/// Audit entries a pull request appends must match what it changes: a `promote` entry without
/// the alias move is a phantom.
#[test]
fn phantom_audit_entries_are_refused() {
    let (dir, base) = example_repo();
    let p = dir.path();
    let aliases = std::fs::read(p.join(HD).join("aliases.yaml")).unwrap();
    promote_v4(p);
    std::fs::write(p.join(HD).join("aliases.yaml"), aliases).unwrap();
    // promote also archived v3: restore its file so only the audit entries remain.
    Command::new("git")
        .args(["checkout", "--", &format!("{HD}/versions/v3.yaml")])
        .current_dir(p)
        .status()
        .unwrap();
    merge(p, "PR: audit entries without the change");
    expect_check(p, &base, 1, &["MG049"]);
}

// ---- The honest path -----------------------------------------------------------------------

/// The README's walkthrough: a governance pull request adds a signer and gives them a role,
/// approved by the governance roles; the next pull request's promotion counts their approval.
#[test]
fn governance_pr_then_promotion_that_uses_it() {
    let (dir, base) = example_repo();
    let p = dir.path();
    let out = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "dave@example.com",
            "-f",
        ])
        .arg(p.join("dave"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let public = std::fs::read_to_string(p.join("dave.pub")).unwrap();
    let mut signers = std::fs::read_to_string(p.join("registry/allowed_signers")).unwrap();
    signers.push_str(&format!(
        "dave@example.com namespaces=\"modelgate-approval\" {}",
        public.trim()
    ));
    signers.push('\n');
    std::fs::write(p.join("registry/allowed_signers"), signers).unwrap();
    edit(p, "registry/policy.yaml", |t| {
        t.replace(
            "compliance: [carol@example.com]",
            "compliance: [carol@example.com, dave@example.com]",
        )
    });
    merge(p, "PR 1: dave joins compliance");
    let (code, v) = check(p, &base);
    assert_eq!(code, 1, "unapproved governance change");
    assert!(has(&v, "MG048"), "{}", messages(&v));
    for f in ["registry/allowed_signers", "registry/policy.yaml"] {
        approve_governance(p, &base, f, "compliance", "carol");
        approve_governance(p, &base, f, "business", "bob");
    }
    let base2 = merge(p, "PR 1: approvals");
    expect_check(p, &base, 0, &[]);
    // PR 2: dave approves as compliance.
    promote_v4(p);
    approve(p, "data_scientist", "alice", &[]);
    approve(p, "business", "bob", &[]);
    std::fs::set_permissions(
        p.join("dave"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    approve_version(
        p,
        "heart_disease",
        "4",
        "champion",
        "compliance",
        "dave",
        "2024-06-03T10:00:00Z",
    );
    // Dave signs with ssh-keygen.
    resign_with_ssh_keygen(
        p,
        &format!("{HD}/approvals/v4-champion-compliance-dave@example.com.yaml"),
        "dave",
    );
    std::fs::remove_file(p.join("dave")).unwrap();
    std::fs::remove_file(p.join("dave.pub")).unwrap();
    merge(p, "PR 2: promotion approved by dave");
    expect_check(p, &base2, 0, &[]);
}

/// A signed result the pull request itself adds counts for the drift gate (the job's results
/// arrive by pull request): adding an alert and promoting in one pull request is blocked.
#[test]
fn a_signed_result_added_with_the_promotion_counts() {
    let (dir, base) = example_repo();
    let p = dir.path();
    monitoring(
        p,
        "2024-06-01",
        "2024-06-02T06:00:00Z",
        "alert",
        Some("drift-job"),
    );
    promote_v4(p);
    approve_all(p);
    merge(p, "PR: an alert and a promotion together");
    expect_check(p, &base, 1, &["MG036"]);
}

/// Data and artifacts the registry names are plain files too: the drift job refuses a
/// reference that is a link, and batch an artifact that is one.
#[test]
fn registry_named_data_and_artifacts_must_be_plain_files() {
    let dir = crate::util::example_dir();
    let p = dir.path();
    let reference = p.join("examples/heart_disease/reference.parquet");
    std::fs::rename(
        &reference,
        p.join("examples/heart_disease/reference-copy.parquet"),
    )
    .unwrap();
    symlink("reference-copy.parquet", &reference);
    let (code, out, err) = run(&["drift", "--model", "heart_disease", "--dry-run"], p);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("not a plain file"), "{err}");
    let (code, out, _) = run(&["validate", "--no-digests"], p);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = run(&["validate"], p);
    assert_eq!(code, 1, "digests read no link: {out}");
    assert!(out.contains("MG046"), "{out}");

    let artifact = p.join("examples/heart_disease/v3/model.onnx");
    std::fs::rename(&artifact, p.join("examples/heart_disease/v3/copy.onnx")).unwrap();
    symlink("copy.onnx", &artifact);
    let output = p.join("scores.parquet");
    let (code, out, err) = run(
        &[
            "batch",
            "heart_disease",
            "--input",
            "examples/heart_disease/eval.parquet",
            "--output",
            output.to_str().unwrap(),
        ],
        p,
    );
    assert_ne!(code, 0, "{out}{err}");
    assert!(err.contains("plain files only"), "{err}");
    assert!(!output.exists());
}

/// Governance approvals are validated like promotion approvals: named after what they
/// approve, about a governed file.
#[test]
fn governance_approvals_are_validated() {
    let (dir, base) = example_repo();
    let p = dir.path();
    edit(p, "registry/policy.yaml", |t| {
        t.replace("min_ratio: 0.95", "min_ratio: 0.9")
    });
    approve_governance(p, &base, "registry/policy.yaml", "compliance", "carol");
    let (code, out, _) = run(&["validate"], p);
    assert_eq!(code, 0, "{out}");
    let folder = p.join("registry/governance");
    let file = std::fs::read_dir(&folder)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::rename(
        &file,
        folder.join("000000000000-compliance-carol@example.com.yaml"),
    )
    .unwrap();
    let (code, out, _) = run(&["validate"], p);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("MG026"), "{out}");
    let (code, _, err) = run(
        &[
            "approve",
            "--governance",
            "examples/keys/README.md",
            "--base",
            &base,
            "--role",
            "compliance",
            "--key",
            "examples/keys/carol",
        ],
        p,
    );
    assert_eq!(code, 2);
    assert!(err.contains("not a governed file"), "{err}");
}

/// With `require_signed_commits`, a commit signed by an expired key with a backdated commit
/// time does not count: the committer writes the commit time, so the key must be valid now.
#[test]
fn backdated_commit_signed_with_an_expired_key_is_refused() {
    let (dir, _) = example_repo();
    let p = dir.path();
    edit(p, "registry/policy.yaml", |t| {
        t + "require_signed_commits: true\n"
    });
    edit(p, "registry/allowed_signers", |t| {
        t.replace(
            "alice@example.com namespaces=\"modelgate-approval,git\"",
            "alice@example.com namespaces=\"modelgate-approval,git\",valid-before=\"20250101\"",
        )
    });
    let base = merge(
        p,
        "base: signed commits; alice's key expires at the start of 2025",
    );
    promote_v4(p);
    let out = Command::new("git")
        .args([
            "-c",
            "gpg.format=ssh",
            "-c",
            "user.signingkey=examples/keys/alice",
        ])
        .args([
            "-c",
            "user.name=Alice",
            "-c",
            "user.email=alice@example.com",
        ])
        .args(["add", "-A"])
        .current_dir(p)
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = Command::new("git")
        .args([
            "-c",
            "gpg.format=ssh",
            "-c",
            "user.signingkey=examples/keys/alice",
        ])
        .args([
            "-c",
            "user.name=Alice",
            "-c",
            "user.email=alice@example.com",
        ])
        .args(["commit", "-q", "-S", "-m", "backdated, signed promotion"])
        .env("GIT_COMMITTER_DATE", "2024-06-03T09:00:00Z")
        .env("GIT_AUTHOR_DATE", "2024-06-03T09:00:00Z")
        .current_dir(p)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = expect_check(p, &base, 1, &["MG044"]);
    assert!(
        messages(&v).contains("is not valid now"),
        "{}",
        messages(&v)
    );
}

/// PR 1 (approved) loosens the policy; PR 2 tightens it back; PR 3 writes PR 1's content again,
/// relying on PR 1's merged approvals. They were used up: only approvals the pull request adds
/// count, and merged ones cannot be removed (to come back as new).
#[test]
fn governance_approvals_cannot_be_replayed() {
    let (dir, base0) = example_repo();
    let p = dir.path();
    let file = "registry/policy.yaml";
    let loose = |t: String| t.replace("min_ratio: 0.95", "min_ratio: 0.5");
    edit(p, file, loose);
    approve_governance(p, &base0, file, "compliance", "carol");
    approve_governance(p, &base0, file, "business", "bob");
    let base1 = merge(p, "PR 1: approved loosening");
    expect_check(p, &base0, 0, &[]);
    edit(p, file, |t| t.replace("min_ratio: 0.5", "min_ratio: 0.95"));
    let base2 = merge(p, "PR 2: tightened back");
    let (code, v) = check(p, &base1);
    assert_eq!(code, 0, "tightening needs no approval: {}", messages(&v));
    edit(p, file, loose);
    merge(p, "PR 3: PR 1's content again");
    expect_check(p, &base2, 1, &["MG048"]);
    // Removing the merged approvals (to re-add them later) is refused too.
    std::fs::remove_dir_all(p.join("registry/governance")).unwrap();
    edit(p, file, |t| t.replace("min_ratio: 0.5", "min_ratio: 0.95"));
    merge(p, "PR: approvals removed");
    let v = expect_check(p, &base2, 1, &[]);
    assert!(
        messages(&v).contains("merged governance approval"),
        "{}",
        messages(&v)
    );
}

/// An approval made against another base (the file has changed since) does not count.
#[test]
fn governance_approval_binds_the_replaced_content() {
    let (dir, base0) = example_repo();
    let p = dir.path();
    let file = "registry/policy.yaml";
    edit(p, file, |t| t.replace("min_ratio: 0.95", "min_ratio: 0.5"));
    let loosened = std::fs::read_to_string(p.join(file)).unwrap();
    approve_governance(p, &base0, file, "compliance", "carol");
    approve_governance(p, &base0, file, "business", "bob");
    let gov = p.join("registry/governance");
    let approvals: Vec<(std::ffi::OsString, Vec<u8>)> = std::fs::read_dir(&gov)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name(), std::fs::read(e.path()).unwrap())
        })
        .collect();
    // Meanwhile the base moves: a stricter min_improvement merges first.
    std::fs::remove_dir_all(&gov).unwrap();
    edit(p, file, |t| {
        t.replace("min_ratio: 0.5", "min_ratio: 0.95")
            .replace("min_improvement: 0.02", "min_improvement: 0.03")
    });
    let base1 = merge(p, "base moves");
    std::fs::write(p.join(file), loosened).unwrap();
    std::fs::create_dir_all(&gov).unwrap();
    for (name, bytes) in approvals {
        std::fs::write(gov.join(name), bytes).unwrap();
    }
    merge(p, "PR: the approvals made against the old base");
    let v = expect_check(p, &base1, 1, &[]);
    assert!(
        messages(&v).contains("but the base revision has"),
        "{}",
        messages(&v)
    );
}

/// An override written equal to today's global value pins the model when the global policy is
/// tightened later: it is governed, not invisible.
#[test]
fn an_override_pinning_the_global_value_is_governed() {
    let (dir, base) = example_repo();
    let p = dir.path();
    edit(p, &format!("{HD}/model.yaml"), |t| {
        t.replace(
            "policy: {}",
            "policy: {gates: {champion: {bias: {warn_at: 0.10, block_at: 0.15}}}}",
        )
    });
    merge(p, "PR: pin the bias thresholds");
    let v = expect_check(p, &base, 1, &["MG048"]);
    assert!(
        v["governance"][0]["lines"].to_string().contains("pinned"),
        "{v:#}"
    );
}

/// A promote entry must record exactly where the alias came from (no truncated `from`).
#[test]
fn promote_entries_must_record_the_alias_they_end() {
    let (dir, base) = example_repo();
    let p = dir.path();
    promote_v4(p);
    approve_all(p);
    let audit = std::fs::read_to_string(p.join("registry/audit.jsonl")).unwrap();
    assert!(audit.contains("\"from\":3,\"to\":4"), "{audit}");
    merge(p, "PR: an honest promotion");
    expect_check(p, &base, 0, &[]);
    // The same with `from` forged to 4294967299 (3 modulo 2^32), chain recomputed by hand.
    let (dir, base) = example_repo();
    let p = dir.path();
    promote_v4(p);
    approve_all(p);
    // Edit the appended promote line's text, and re-chain the lines after it.
    let text = std::fs::read_to_string(p.join("registry/audit.jsonl")).unwrap();
    let mut out: Vec<String> = Vec::new();
    let mut rechain: Option<(String, String)> = None;
    for l in text.lines() {
        let mut line = l.to_string();
        if let Some((old, new)) = &rechain {
            line = line.replace(
                &format!("\"prev\":\"{old}\""),
                &format!("\"prev\":\"{new}\""),
            );
        }
        if line.contains("\"action\":\"promote\"") && line.contains("\"from\":3,\"to\":4") {
            line = line.replace("\"from\":3,", "\"from\":4294967299,");
        }
        if line != l || rechain.is_some() {
            let old = modelgate::registry::types::Sha256::of(l.as_bytes()).hex();
            let new = modelgate::registry::types::Sha256::of(line.as_bytes()).hex();
            rechain = Some((old, new));
        }
        out.push(line);
    }
    std::fs::write(p.join("registry/audit.jsonl"), out.join("\n") + "\n").unwrap();
    merge(p, "PR: a forged `from`");
    expect_check(p, &base, 1, &[]);
}

/// A merged approval that a promotion used, and merged retirement times, are history.
#[test]
fn merged_approvals_and_retirement_times_are_history() {
    let (dir, base) = example_repo();
    let p = dir.path();
    std::fs::remove_file(
        p.join(HD)
            .join("approvals/v3-champion-compliance-carol@example.com.yaml"),
    )
    .unwrap();
    merge(p, "PR: a used approval disappears");
    let v = expect_check(p, &base, 1, &[]);
    assert!(
        messages(&v).contains("is a merged approval"),
        "{}",
        messages(&v)
    );

    let (dir, _) = example_repo();
    let p = dir.path();
    promote_v4(p);
    approve_all(p);
    let base = merge(p, "v4 champion, v3 archived");
    edit(p, &format!("{HD}/versions/v3.yaml"), |t| {
        t.replace(
            "archived_at: 2024-06-03T09:00:00Z",
            "archived_at: 2024-01-01T00:00:00Z",
        )
    });
    merge(p, "PR: backdate the archive");
    let v = expect_check(p, &base, 1, &[]);
    assert!(
        messages(&v).contains("rewrites its archived_at"),
        "{}",
        messages(&v)
    );
}

/// The bias gate reads equalized odds too.
#[test]
fn equalized_odds_disparity_blocks() {
    let (dir, base) = example_repo();
    let p = dir.path();
    add_v5(
        p,
        "{demographic_parity: 0.01, equal_opportunity: 0.01, predictive_parity: 0.01, equalized_odds: 0.40}",
    );
    promote_and_approve(p, "5");
    merge(p, "PR: v5 with an FPR gap");
    expect_check(p, &base, 1, &["MG035"]);
}

/// PR 1 adds rows to the data the drift job reads (a reference-like file in the current
/// window); the scheduled job would then sign an all-clear. The data a model's `monitoring:`
/// names is governed: PR 1 is blocked until the governance roles approve exactly that file.
#[test]
fn monitoring_data_is_governed() {
    let (dir, base) = example_repo();
    let p = dir.path();
    let folder = p.join("examples/heart_disease/inference");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::copy(
        p.join("examples/heart_disease/reference.parquet"),
        folder.join("zz-planted.parquet"),
    )
    .unwrap();
    merge(p, "PR 1: reference-like rows in the current window");
    let v = expect_check(p, &base, 1, &["MG048"]);
    assert!(
        messages(&v).contains("monitoring data of heart_disease"),
        "{}",
        messages(&v)
    );
    let file = "examples/heart_disease/inference/zz-planted.parquet";
    approve_governance(p, &base, file, "compliance", "carol");
    approve_governance(p, &base, file, "business", "bob");
    merge(p, "PR 1: approved");
    expect_check(p, &base, 0, &[]);
}

/// The drift job never overwrites a merged result (data dated to land on an existing result's
/// day would replace a real alert), and a result about a day after it was computed does not
/// count.
#[test]
fn a_drift_run_never_overwrites_a_result() {
    let dir = crate::util::example_dir();
    let p = dir.path();
    let args = [
        "drift",
        "--model",
        "heart_disease",
        "--sign-key",
        "examples/keys/drift-job",
    ];
    let (code, out, err) = run(&args, p);
    assert_eq!(code, 1, "the example drifts: {out}{err}");
    let first = std::fs::read(p.join(HD).join("monitoring/2024-06-30.yaml")).unwrap();
    let audit = std::fs::read(p.join("registry/audit.jsonl")).unwrap();
    let (code, _, err) = run(&args, p);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("never rewritten"), "{err}");
    assert_eq!(
        std::fs::read(p.join("registry/audit.jsonl")).unwrap(),
        audit,
        "no second drift entry"
    );
    assert_eq!(
        std::fs::read(p.join(HD).join("monitoring/2024-06-30.yaml")).unwrap(),
        first
    );
}

/// A gate with nothing to compare with blocks: a current champion that records no primary
/// metric does not let any candidate through.
#[test]
fn a_holder_without_the_metric_blocks() {
    let (dir, _) = example_repo();
    let p = dir.path();
    edit(p, &format!("{HD}/versions/v3.yaml"), |t| {
        t.replace("roc_auc: 0.8467, ", "")
    });
    let base = merge(p, "base: the champion records no roc_auc");
    promote_v4(p);
    approve_all(p);
    merge(p, "PR: promote v4");
    expect_check(p, &base, 1, &["MG047"]);
}

/// A file whose name is not UTF-8 is refused, never invisible to `check`.
#[test]
fn a_name_that_is_not_utf8_is_refused() {
    use std::os::unix::ffi::OsStrExt;
    let (dir, base) = example_repo();
    let p = dir.path();
    let name = std::ffi::OsStr::from_bytes(b"v9\xff.yaml");
    std::fs::write(p.join(HD).join("versions").join(name), "version: 9\n").unwrap();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(p)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "PR: an odd name"]);
    expect_check(p, &base, 1, &["MG046"]);
}

/// Results written before results were signed are no evidence: a pull request may remove them
/// (the upgrade path), while a signed merged result stays immutable.
#[test]
fn legacy_unsigned_results_may_be_removed() {
    let (dir, _) = example_repo();
    let p = dir.path();
    monitoring(p, "2024-05-01", "2024-05-02T06:00:00Z", "none", None);
    let base = merge(p, "base: an unsigned result from before signing");
    std::fs::remove_file(p.join(HD).join("monitoring/2024-05-01.yaml")).unwrap();
    merge(p, "PR: remove it");
    expect_check(p, &base, 0, &[]);
}

// ---- Demote and archive --------------------------------------------------------------------

fn demote(dir: &Path, extra: &[&str]) -> (i32, String) {
    let mut args = vec!["demote", "heart_disease", "--actor", "alice@example.com"];
    args.extend_from_slice(extra);
    let (code, out, err) = run(&args, dir);
    (code, format!("{out}{err}"))
}

/// (honest) `demote --from challenger` writes aliases.yaml and its `demote` entry: check
/// accepts the pull request. The same removal by hand (no entry) is refused, with a hint that
/// names `modelgate demote`.
#[test]
fn demoting_the_challenger_goes_through_the_audited_path() {
    let (dir, base) = example_repo();
    let p = dir.path();
    let (code, out) = demote(p, &["--from", "challenger", "--at", "2024-06-05T09:00:00Z"]);
    assert_eq!(code, 0, "{out}");
    let aliases = std::fs::read_to_string(p.join(HD).join("aliases.yaml")).unwrap();
    assert_eq!(aliases, "champion: 3\n");
    let audit = std::fs::read_to_string(p.join("registry/audit.jsonl")).unwrap();
    let last = audit.lines().last().unwrap();
    assert!(
        last.contains("\"action\":\"demote\"") && last.contains("\"version\":4"),
        "{last}"
    );
    merge(p, "PR: stop evaluating v4");
    let v = expect_check(p, &base, 0, &[]);
    let demoted = v["promotions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["alias"] == "challenger")
        .unwrap();
    assert_eq!(demoted["to"], Value::Null, "{v:#}");

    let (dir, base) = example_repo();
    let p = dir.path();
    std::fs::write(p.join(HD).join("aliases.yaml"), "champion: 3\n").unwrap();
    merge(p, "PR: challenger removed by hand");
    let v = expect_check(p, &base, 1, &["MG041"]);
    let hints: String = v["diagnostics"].to_string();
    assert!(
        hints.contains("modelgate demote heart_disease --from challenger"),
        "{hints}"
    );
}

/// A `demote` entry whose demotion is not in the pull request (aliases.yaml restored after
/// `demote` wrote it) records nothing the pull request does.
#[test]
fn a_demote_entry_without_the_demotion_is_refused() {
    let (dir, base) = example_repo();
    let p = dir.path();
    let aliases = std::fs::read(p.join(HD).join("aliases.yaml")).unwrap();
    let (code, out) = demote(p, &["--from", "challenger", "--at", "2024-06-05T09:00:00Z"]);
    assert_eq!(code, 0, "{out}");
    std::fs::write(p.join(HD).join("aliases.yaml"), aliases).unwrap();
    merge(p, "PR: a demote entry, no demotion");
    expect_check(p, &base, 1, &["MG049"]);
}

/// The champion is never removed: `demote --from champion` refuses and says to promote another
/// version. Removing it by hand with a hand-chained `demote` entry (PR 1) is refused (MG042),
/// so PR 2 can never promote a weaker version against an empty seat with no holder to beat.
#[test]
fn the_champion_cannot_be_removed_to_skip_its_gate() {
    let (dir, base) = example_repo();
    let p = dir.path();
    let (code, out) = demote(p, &["--from", "champion"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("Promote another version instead"), "{out}");
    let before = std::fs::read_to_string(p.join(HD).join("aliases.yaml")).unwrap();
    assert!(
        before.ends_with("\nchampion: 3\nchallenger: 4\n"),
        "{before}"
    );
    let (code, out) = demote(p, &["--from", "champion"]);
    assert_eq!(code, 2, "{out}");
    assert_eq!(
        std::fs::read_to_string(p.join(HD).join("aliases.yaml")).unwrap(),
        before,
        "nothing is written"
    );
    // PR 1 by hand: the champion line goes, with a correctly chained demote entry.
    std::fs::write(p.join(HD).join("aliases.yaml"), "challenger: 4\n").unwrap();
    let audit_path = p.join("registry/audit.jsonl");
    let text = std::fs::read_to_string(&audit_path).unwrap();
    let last = text.lines().last().unwrap();
    let seq = text.lines().count() + 1;
    let prev = modelgate::registry::types::Sha256::of(last.as_bytes()).hex();
    std::fs::write(
        &audit_path,
        format!(
            "{text}{{\"seq\":{seq},\"at\":\"2024-06-05T09:00:00Z\",\"actor\":\"mallory@example.com\",\"action\":\"demote\",\"model\":\"heart_disease\",\"version\":3,\"alias\":\"champion\",\"details\":{{}},\"prev\":\"{prev}\"}}\n"
        ),
    )
    .unwrap();
    let base2 = merge(p, "PR 1: the champion seat emptied");
    let v = expect_check(p, &base, 1, &["MG042"]);
    assert!(!has(&v, "MG049") && !has(&v, "MG041"), "{}", messages(&v));
    // PR 2, had PR 1 been merged: v2 (roc_auc 0.77 < v3's 0.85) into the empty seat. The
    // defence is PR 1's refusal; this shows what it prevents (no holder, no performance bar).
    promote_version(
        p,
        "2",
        "champion",
        "mallory@example.com",
        Some("2024-06-06T09:00:00Z"),
    );
    merge(p, "PR 2: a weaker champion");
    let (_, v) = check(p, &base2);
    assert_eq!(
        gate(&v, "heart_disease", "champion", "performance")["status"],
        "skip",
        "{v:#}"
    );
}

/// A demotion does not carry another change that needs approval: demoting the challenger and
/// promoting v2 to champion without approvals blocks on the champion's gates; demoting it
/// together with a loosened policy override blocks as a governance change.
#[test]
fn a_demotion_does_not_carry_changes_that_need_approval() {
    let (dir, base) = example_repo();
    let p = dir.path();
    let (code, out) = demote(p, &["--from", "challenger", "--at", "2024-06-05T09:00:00Z"]);
    assert_eq!(code, 0, "{out}");
    promote_version(
        p,
        "2",
        "champion",
        "alice@example.com",
        Some("2024-06-05T09:30:00Z"),
    );
    merge(p, "PR: demote the challenger, and v2 champion");
    let v = expect_check(p, &base, 1, &[]);
    assert!(has(&v, "MG037") && has(&v, "MG033"), "{}", messages(&v));

    let (dir, base) = example_repo();
    let p = dir.path();
    let (code, out) = demote(p, &["--from", "challenger", "--at", "2024-06-05T09:00:00Z"]);
    assert_eq!(code, 0, "{out}");
    edit(p, &format!("{HD}/model.yaml"), |t| {
        format!("{t}policy:\n  gates:\n    champion:\n      approvals: {{roles: []}}\n")
    });
    merge(p, "PR: demote, and empty the champion's approval roles");
    expect_check(p, &base, 1, &["MG048"]);
}

/// PR 1 demotes the challenger with a backdated time (before v4's challenger approval), so that
/// PR 2 could bring v4 back on that old approval: the backdated entry is refused (MG052), and so
/// is a future-dated one. An honest demotion (PR 1) ends the tenure now, and PR 2's return on
/// the old approval is refused: old approvals never revive.
#[test]
fn a_demotion_ends_the_tenure_and_cannot_be_backdated() {
    let (dir, base) = example_repo();
    let p = dir.path();
    let (code, out) = demote(p, &["--from", "challenger", "--at", "2024-05-01T00:00:00Z"]);
    assert_eq!(code, 0, "{out}");
    merge(p, "PR 1: a backdated demotion");
    expect_check(p, &base, 1, &["MG052"]);

    let (dir, base) = example_repo();
    let p = dir.path();
    let (code, out) = demote(p, &["--from", "challenger", "--at", "2999-01-01T00:00:00Z"]);
    assert_eq!(code, 0, "{out}");
    merge(p, "PR 1: a future-dated demotion");
    expect_check(p, &base, 1, &["MG052"]);

    let (dir, _) = example_repo();
    let p = dir.path();
    // v4's challenger approval, as valid as approvals get (binding the input schema).
    approve_version(
        p,
        "heart_disease",
        "4",
        "challenger",
        "data_scientist",
        "examples/keys/alice",
        "2024-05-30T00:00:00Z",
    );
    let base = merge(p, "v4's challenger approval signed again");
    let (code, out) = demote(p, &["--from", "challenger"]);
    assert_eq!(code, 0, "{out}");
    let base2 = merge(p, "PR 1: an honest demotion, dated now");
    expect_check(p, &base, 0, &[]);
    promote_version(p, "4", "challenger", "mallory@example.com", None);
    merge(p, "PR 2: v4 back as challenger on its old approval");
    let v = expect_check(p, &base2, 1, &["MG037"]);
    assert!(
        messages(&v).contains("old approvals never revive"),
        "{}",
        messages(&v)
    );
}

/// (honest) `archive` sets archived_at with its `archive` entry: check accepts it. A version that
/// holds an alias is refused by the command; archived by hand with a hand-made entry (via the
/// library's own chain) it fails validation (MG013). An `archive` entry with no archive in the
/// pull request is a phantom (MG049).
#[test]
fn archiving_goes_through_the_audited_path() {
    let (dir, base) = example_repo();
    let p = dir.path();
    let (code, out, err) = run(
        &[
            "archive",
            "heart_disease",
            "v2",
            "--reason",
            "superseded",
            "--actor",
            "alice@example.com",
            "--at",
            "2024-06-05T09:00:00Z",
        ],
        p,
    );
    assert_eq!(code, 0, "{out}{err}");
    let v2 = std::fs::read_to_string(p.join(HD).join("versions/v2.yaml")).unwrap();
    assert!(v2.contains("archived_at: 2024-06-05T09:00:00Z"), "{v2}");
    merge(p, "PR: archive v2");
    expect_check(p, &base, 0, &[]);
    let (code, out, err) = run(
        &["archive", "heart_disease", "2", "--actor", "a@example.com"],
        p,
    );
    assert_eq!(code, 2);
    assert!(
        format!("{out}{err}").contains("already archived"),
        "{out}{err}"
    );

    for (version, words) in [
        ("4", "demote heart_disease --from challenger"),
        ("3", "promote another version"),
    ] {
        let (code, out, err) = run(
            &[
                "archive",
                "heart_disease",
                version,
                "--actor",
                "a@example.com",
            ],
            p,
        );
        assert_eq!(code, 2);
        assert!(format!("{out}{err}").contains(words), "{out}{err}");
    }

    // By hand: v4 (the challenger) archived, with an archive entry the library chains.
    let (dir, base) = example_repo();
    let p = dir.path();
    mg(
        p,
        &[
            "archive",
            "heart_disease",
            "2",
            "--actor",
            "mallory@example.com",
            "--at",
            "2024-06-05T09:00:00Z",
        ],
    );
    Command::new("git")
        .args(["checkout", "--", &format!("{HD}/versions/v2.yaml")])
        .current_dir(p)
        .status()
        .unwrap();
    let audit = std::fs::read_to_string(p.join("registry/audit.jsonl")).unwrap();
    let (head, last) = audit.trim_end().rsplit_once('\n').unwrap();
    std::fs::write(
        p.join("registry/audit.jsonl"),
        format!(
            "{head}\n{}\n",
            last.replace("\"version\":2", "\"version\":4")
        ),
    )
    .unwrap();
    edit(p, &format!("{HD}/versions/v4.yaml"), |t| {
        t.replace("archived_at: null", "archived_at: 2024-06-05T09:00:00Z")
    });
    merge(p, "PR: the challenger archived by hand");
    expect_check(p, &base, 1, &["MG013"]);

    let (dir, base) = example_repo();
    let p = dir.path();
    mg(
        p,
        &[
            "archive",
            "heart_disease",
            "2",
            "--actor",
            "mallory@example.com",
        ],
    );
    Command::new("git")
        .args(["checkout", "--", &format!("{HD}/versions/v2.yaml")])
        .current_dir(p)
        .status()
        .unwrap();
    merge(p, "PR: an archive entry, no archive");
    expect_check(p, &base, 1, &["MG049"]);
}

/// A champion's model card must be complete. PR 1 (merged) replaces heart_disease's card with
/// the unfilled template; PR 2 promotes v4 with every approval and also empties the base's
/// template of sections: the card gate judges by the base's template and blocks (MG051), and
/// validate warns about the card. A challenger promotion with the same card only warns.
#[test]
fn unfilled_model_card_blocks_a_champion_promotion() {
    let (dir, _) = example_repo();
    let p = dir.path();
    let card = modelgate::scaffold::fill(
        modelgate::scaffold::MODEL_CARD,
        &[("model", "heart_disease")],
    );
    std::fs::write(p.join("model-cards/heart_disease.md"), &card).unwrap();
    let base = merge(p, "PR 1: the card goes back to the template");
    let (code, out, _) = run(&["validate", "--format", "json"], p);
    assert_eq!(code, 0, "a warning, not an error: {out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let warned = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "MG051" && d["severity"] == "warning")
        .count();
    assert_eq!(warned, 9, "{out}");

    promote_v4(p);
    approve_all(p);
    std::fs::write(
        p.join("model-cards/TEMPLATE.md"),
        "# {{model}}\n\nAnything.\n",
    )
    .unwrap();
    merge(
        p,
        "PR 2: promote v4 to champion; the template loses its sections",
    );
    let v = expect_check(p, &base, 1, &["MG051"]);
    let gate = &v["promotions"][0]["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["gate"] == "card")
        .cloned()
        .unwrap();
    assert_eq!(gate["status"], "block", "{gate}");
    assert!(
        gate["detail"].as_str().unwrap().contains("9 of 9"),
        "{gate}"
    );

    // the same card, written: the promotion passes
    let written =
        std::fs::read_to_string(crate::util::repo_root().join("model-cards/heart_disease.md"))
            .unwrap();
    std::fs::write(p.join("model-cards/heart_disease.md"), written).unwrap();
    merge(p, "PR 2, amended: the card is written");
    expect_check(p, &base, 0, &[]);
}

/// A signer and role added in the same pull request as the promotion they approve do not count
/// (a pull request cannot approve itself), and the report says exactly that and what to do:
/// merge the signers first. The missing-role error no longer tells the user to run `approve`,
/// which they did.
#[test]
fn signers_added_with_the_promotion_are_explained() {
    let (dir, base) = example_repo();
    let p = dir.path();
    let keys = tempfile::tempdir().unwrap();
    let public = crate::signing::keygen(keys.path(), "dave");
    edit(p, "registry/allowed_signers", |t| {
        format!("{t}dave@example.com namespaces=\"modelgate-approval\" {public}\n")
    });
    edit(p, "registry/policy.yaml", |t| {
        t.replace(
            "data_scientist: [alice@example.com]",
            "data_scientist: [alice@example.com, dave@example.com]",
        )
    });
    promote_v4(p);
    crate::check::approve(p, "compliance", "carol", &[]);
    crate::check::approve(p, "business", "bob", &[]);
    let dave = keys.path().join("dave");
    approve_version(
        p,
        "heart_disease",
        "4",
        "champion",
        "data_scientist",
        dave.to_str().unwrap(),
        "2024-06-03T10:00:00Z",
    );
    merge(p, "PR: dave joins and approves the promotion");
    let v = expect_check(p, &base, 1, &[]);
    let all = messages(&v);
    assert!(
        all.contains("its key is added to allowed_signers by this same pull request"),
        "{all}"
    );
    assert!(
        all.contains("merge the change to allowed_signers and roles first"),
        "{all}"
    );
    let gate = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "MG037")
        .unwrap();
    let hint = gate["hint"].as_str().unwrap();
    assert!(
        hint.contains("data_scientist are there but do not count"),
        "{hint}"
    );
    assert!(!hint.contains("modelgate approve"), "{hint}");
}

/// A pull request sends all traffic to the challenger (v4, which no champion gate approved)
/// through `serving:` in model.yaml: what answers patients changes without a promotion. It is a
/// governance change, blocked without the governance roles' approvals and passed with them;
/// moving the traffic back to the champion afterwards only tightens.
#[test]
fn serving_all_traffic_to_the_challenger_needs_governance_approval() {
    let (dir, base) = example_repo();
    let p = dir.path();
    let file = format!("{HD}/model.yaml");
    edit(p, &file, |t| {
        format!(
            "{t}serving:\n  split: {{champion: 0, challenger: 100}}\n  sticky: {{field: patient_id}}\n"
        )
    });
    merge(p, "PR 1: serve the challenger");
    let v = expect_check(p, &base, 1, &["MG048"]);
    let lines = v["governance"][0]["lines"].to_string();
    assert!(
        lines.contains("serving.split.challenger: 0 → 100"),
        "{lines}"
    );
    assert!(
        lines.contains("serving.sticky.field: (none) → patient_id"),
        "{lines}"
    );
    assert_eq!(v["governance"][0]["tightens_only"], false);
    approve_governance(p, &base, &file, "compliance", "carol");
    approve_governance(p, &base, &file, "business", "bob");
    merge(p, "governance roles approve");
    let v = expect_check(p, &base, 0, &[]);
    assert_eq!(v["governance"][0]["status"], "pass");

    // Merged; the next pull request takes the traffic back: no approval needed.
    let base2 = merge(p, "merge");
    edit(p, &file, |t| {
        t.replace(
            "split: {champion: 0, challenger: 100}",
            "split: {champion: 100, challenger: 0}",
        )
    });
    merge(p, "PR 2: back to the champion");
    let v = expect_check(p, &base2, 0, &[]);
    assert_eq!(v["governance"][0]["tightens_only"], true);
}

/// `serving:` is checked: weights summing to 101 and a sticky naming both a field and a header
/// are errors at their line (MG021); traffic for a challenger the model does not have is a
/// warning; an unknown key is MG006 with the file and line.
#[test]
fn serving_section_is_validated() {
    let (dir, _) = example_repo();
    let p = dir.path();
    let file = format!("{HD}/model.yaml");
    edit(p, &file, |t| {
        format!(
            "{t}serving:\n  split: {{champion: 90, challenger: 11}}\n  sticky: {{field: patient_id, header: X-Patient}}\n"
        )
    });
    let (code, out, _) = run(&["validate", "--format", "json"], p);
    assert_eq!(code, 1, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let serving: Vec<&Value> = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "MG021" && d["file"] == file.as_str())
        .collect();
    assert_eq!(serving.len(), 2, "{out}");
    assert!(
        serving[0]["message"]
            .as_str()
            .unwrap()
            .contains("sum to 101"),
        "{out}"
    );
    assert!(
        serving.iter().all(|d| d["line"].as_u64().unwrap() > 20),
        "{out}"
    );
    // A sound split for a model without a challenger: a warning only.
    edit(p, &format!("{HD}/aliases.yaml"), |t| {
        t.replace("challenger: 4\n", "")
    });
    edit(p, &file, |t| {
        t.replace("challenger: 11", "challenger: 10")
            .replace(", header: X-Patient", "")
    });
    let (_, out, _) = run(&["validate", "--format", "json"], p);
    let v: Value = serde_json::from_str(&out).unwrap();
    let warning = v
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "MG021")
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(warning["severity"], "warning");
    assert!(
        warning["message"]
            .as_str()
            .unwrap()
            .contains("has no challenger"),
        "{out}"
    );
    // A typo is reported with its line.
    edit(p, &file, |t| t.replace("sticky:", "stickie:"));
    let (code, out, _) = run(&["validate", "--format", "json"], p);
    assert_eq!(code, 1);
    assert!(out.contains("MG006") && out.contains("stickie"), "{out}");
}
