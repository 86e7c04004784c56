//! Approvals signed with real keys made by `ssh-keygen`, in both directions: what
//! `ssh-keygen -Y sign` signs over `modelgate approval message` verifies in modelgate, and
//! `ssh-keygen -Y verify` accepts modelgate's message of the example's approvals.

use crate::util::{fixture, repo_root, run};
use std::path::Path;
use std::process::Command;

pub(crate) fn keygen(dir: &Path, name: &str) -> String {
    let key = dir.join(name);
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&key)
        .status()
        .expect("ssh-keygen is installed by scripts/setup.sh");
    assert!(st.success());
    std::fs::read_to_string(key.with_extension("pub"))
        .unwrap()
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Writes an approval of churn v2 by alice, signed by `key` in `namespace`, at `approved_at`.
fn approve(root: &Path, key: &Path, namespace: &str, approved_at: &str) -> std::path::PathBuf {
    let version = std::fs::read(root.join("registry/models/churn/versions/v2.yaml")).unwrap();
    let artifact = std::fs::read(root.join("artifacts/churn-v2.onnx")).unwrap();
    let sha = |b: &[u8]| modelgate::registry::types::Sha256::of(b).hex();
    let file = root
        .join("registry/models/churn/approvals/v2-champion-data_scientist-alice@example.com.yaml");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let statement = format!(
        "statement:\n  model: churn\n  version: 2\n  alias: champion\n  version_sha256: {}\n  artifact_sha256: {}\n  role: data_scientist\n  principal: alice@example.com\n  approved_at: {approved_at}\n",
        sha(&version),
        sha(&artifact)
    );
    std::fs::write(&file, &statement).unwrap();
    let (code, msg, err) = run(&["approval", "message", file.to_str().unwrap()], root);
    assert_eq!(code, 0, "{err}");
    let msg_file = root.join("msg");
    let _ = std::fs::remove_file(root.join("msg.sig"));
    std::fs::write(&msg_file, &msg).unwrap();
    let st = Command::new("ssh-keygen")
        .args(["-q", "-Y", "sign", "-n", namespace, "-f"])
        .arg(key)
        .arg(&msg_file)
        .status()
        .unwrap();
    assert!(st.success());
    let sig = std::fs::read_to_string(root.join("msg.sig")).unwrap();
    let indented: String = sig.lines().map(|l| format!("  {l}\n")).collect();
    std::fs::write(&file, format!("{statement}signature: |\n{indented}")).unwrap();
    file
}

fn codes(root: &Path) -> (i32, String) {
    let (code, out, _) = run(&["validate"], root);
    (code, out)
}

#[test]
fn ssh_keygen_signed_approvals_verify_and_forgeries_do_not() {
    let dir = fixture("_base");
    let root = dir.path();
    let keys = tempfile::tempdir().unwrap();
    let alice = keygen(keys.path(), "alice");
    let mallory = keygen(keys.path(), "mallory");
    let signers = format!(
        "alice@example.com namespaces=\"modelgate-approval\" {alice}\nbob@example.com {mallory}\ncarol@example.com {mallory}\n"
    );
    std::fs::write(root.join("registry/allowed_signers"), &signers).unwrap();

    // A real approval verifies.
    let file = approve(
        root,
        &keys.path().join("alice"),
        "modelgate-approval",
        "2024-06-01T12:00:00Z",
    );
    let (code, out) = codes(root);
    assert_eq!(code, 0, "{out}");

    // The statement edited after signing.
    let text = std::fs::read_to_string(&file).unwrap();
    let edited = text.replace("alias: champion", "alias: challenger");
    assert_ne!(edited, text);
    std::fs::write(&file, edited).unwrap();
    let (code, out) = codes(root);
    assert_eq!(code, 1);
    assert!(out.contains("the signature does not verify"), "{out}");

    // Signed by a valid key of another principal.
    approve(
        root,
        &keys.path().join("mallory"),
        "modelgate-approval",
        "2024-06-01T12:00:00Z",
    );
    let (_, out) = codes(root);
    assert!(
        out.contains(
            "not in allowed_signers for alice@example.com (it belongs to bob@example.com)"
        ),
        "{out}"
    );

    // The wrong namespace.
    approve(
        root,
        &keys.path().join("alice"),
        "git",
        "2024-06-01T12:00:00Z",
    );
    let (_, out) = codes(root);
    assert!(
        out.contains("namespace `git`, not `modelgate-approval`"),
        "{out}"
    );

    // Made before the key became valid.
    std::fs::write(
        root.join("registry/allowed_signers"),
        signers.replace("namespaces=", "valid-after=\"20250101\",namespaces="),
    )
    .unwrap();
    approve(
        root,
        &keys.path().join("alice"),
        "modelgate-approval",
        "2024-06-01T12:00:00Z",
    );
    let (_, out) = codes(root);
    assert!(
        out.contains("the key was not valid at 2024-06-01T12:00:00Z"),
        "{out}"
    );
    assert!(out.contains("MG032"), "{out}");
}

#[test]
fn ssh_keygen_verifies_modelgates_message_of_the_example() {
    let root = repo_root();
    let dir = tempfile::tempdir().unwrap();
    let approvals = root.join("registry/models/heart_disease/approvals");
    let mut checked = 0;
    for entry in std::fs::read_dir(approvals).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let principal = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("principal: "))
            .unwrap()
            .to_string();
        let sig: String = text
            .split("signature: |\n")
            .nth(1)
            .unwrap()
            .lines()
            .map(|l| format!("{}\n", l.trim()))
            .collect();
        std::fs::write(dir.path().join("sig"), sig).unwrap();
        let (code, msg, _) = run(&["approval", "message", path.to_str().unwrap()], &root);
        assert_eq!(code, 0);
        std::fs::write(dir.path().join("msg"), msg).unwrap();
        let st = Command::new("ssh-keygen")
            .args(["-Y", "verify", "-n", "modelgate-approval", "-f"])
            .arg(root.join("registry/allowed_signers"))
            .args(["-I", &principal, "-s"])
            .arg(dir.path().join("sig"))
            .stdin(std::fs::File::open(dir.path().join("msg")).unwrap())
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
        checked += 1;
    }
    assert_eq!(checked, 4);
}

/// ECDSA and RSA keys made by ssh-keygen verify too (modelgate signs with ed25519, ECDSA or RSA
/// key files; these keys sign here through ssh-keygen).
#[test]
fn ecdsa_and_rsa_signatures_verify() {
    for (kind, bits) in [("ecdsa", "256"), ("ecdsa", "384"), ("rsa", "3072")] {
        let dir = fixture("_base");
        let root = dir.path();
        let keys = tempfile::tempdir().unwrap();
        let key = keys.path().join("alice");
        let st = Command::new("ssh-keygen")
            .args(["-q", "-t", kind, "-b", bits, "-N", "", "-C", "alice", "-f"])
            .arg(&key)
            .status()
            .unwrap();
        assert!(st.success());
        let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
        let public: Vec<&str> = public.split_whitespace().take(2).collect();
        std::fs::write(
            root.join("registry/allowed_signers"),
            format!(
                "alice@example.com {}\nbob@example.com {}\ncarol@example.com {}\n",
                public.join(" "),
                public.join(" "),
                public.join(" ")
            ),
        )
        .unwrap();
        approve(root, &key, "modelgate-approval", "2024-06-01T12:00:00Z");
        let (code, out) = codes(root);
        assert_eq!(code, 0, "{kind} {bits}: {out}");
    }
}

/// The one SSHSIG verifier, with real `ssh-keygen -Y sign` signatures: a commit signature
/// (namespace `git`, any principal) counts when any allowed_signers line of its key allows
/// `git`; an approval-style check wants the key listed for the principal; every refusal is one
/// `Rejection` whose text names the reason.
#[test]
fn one_verifier_judges_commit_and_approval_signatures() {
    use modelgate::registry::types::Timestamp;
    use modelgate::signing::allowed_signers::AllowedSigners;
    use modelgate::signing::sshsig::{self, Expect, Rejection};
    let keys = tempfile::tempdir().unwrap();
    let alice = keygen(keys.path(), "alice");
    keygen(keys.path(), "eve");
    let sign = |key: &str, namespace: &str, message: &[u8]| {
        let msg = keys.path().join(format!("msg-{key}-{namespace}"));
        let sig = format!("{}.sig", msg.display());
        let _ = std::fs::remove_file(&sig);
        std::fs::write(&msg, message).unwrap();
        let st = Command::new("ssh-keygen")
            .args(["-q", "-Y", "sign", "-n", namespace, "-f"])
            .arg(keys.path().join(key))
            .arg(&msg)
            .status()
            .unwrap();
        assert!(st.success());
        std::fs::read_to_string(&sig).unwrap()
    };
    // alice's key is listed twice: once for approvals only, once for commits.
    let (signers, problems) = AllowedSigners::parse(&format!(
        "alice@example.com namespaces=\"modelgate-approval\" {alice}\nalice@example.com namespaces=\"git\",valid-before=\"20300101\" {alice}\n"
    ));
    assert!(problems.is_empty(), "{problems:?}");
    let at = chrono::DateTime::parse_from_rfc3339("2025-01-02T03:04:05Z")
        .unwrap()
        .to_utc();
    let commit = b"tree 0000\nauthor A <a@x> 1 +0000\n\nmessage\n";

    // A commit signed in `git` counts through the second line.
    let sig = sign("alice", "git", commit);
    let line = modelgate::signing::commit::verify(&sig, commit, at, Some(at), &signers).unwrap();
    assert_eq!(line.line, 2);
    // Altered content does not verify.
    let e = modelgate::signing::commit::verify(&sig, b"tree 1111\n", at, Some(at), &signers)
        .unwrap_err();
    assert_eq!(e, Rejection::BadSignature);
    assert!(
        e.to_string().starts_with("the signature does not verify"),
        "{e}"
    );
    // The key must be valid now, whatever time the commit states.
    let later = chrono::DateTime::parse_from_rfc3339("2031-01-01T00:00:00Z")
        .unwrap()
        .to_utc();
    let (git_only, _) = AllowedSigners::parse(&format!(
        "alice@example.com namespaces=\"git\",valid-before=\"20300101\" {alice}\n"
    ));
    let e =
        modelgate::signing::commit::verify(&sig, commit, at, Some(later), &git_only).unwrap_err();
    assert!(matches!(e, Rejection::NotValidNow { line: 1, .. }), "{e}");
    // A key nobody lists: no principal to name.
    let e =
        modelgate::signing::commit::verify(&sign("eve", "git", commit), commit, at, None, &signers)
            .unwrap_err();
    assert_eq!(e.to_string(), "the signing key is not in allowed_signers");
    // Signed in another namespace.
    let e = modelgate::signing::commit::verify(
        &sign("alice", "modelgate-approval", commit),
        commit,
        at,
        None,
        &signers,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "the signature is in namespace `modelgate-approval`, not `git`"
    );
    // Not an SSH signature at all (say, a GPG one).
    let e = modelgate::signing::commit::verify(
        "-----BEGIN PGP SIGNATURE-----\nx\n-----END PGP SIGNATURE-----\n",
        commit,
        at,
        None,
        &signers,
    )
    .unwrap_err();
    assert!(matches!(e, Rejection::Malformed(_)), "{e}");

    // The same verifier for a principal: eve's key is not alice's.
    let stamp: Timestamp = "2025-01-02T03:04:05Z".parse().unwrap();
    let expect = Expect {
        namespace: "modelgate-approval",
        principal: Some("alice@example.com"),
        signed_at: &stamp,
        now: Some(at),
        bound_future: true,
    };
    let msg = b"{\"k\":1}";
    assert_eq!(
        sshsig::verify(
            msg,
            &sign("alice", "modelgate-approval", msg),
            &expect,
            &signers
        )
        .unwrap()
        .line,
        1
    );
    let e = sshsig::verify(
        msg,
        &sign("eve", "modelgate-approval", msg),
        &expect,
        &signers,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "the signing key is not in allowed_signers for alice@example.com"
    );
}
