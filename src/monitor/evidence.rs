//! Monitoring results as evidence: what the drift gate may believe.
//!
//! A result `monitoring/<YYYY-MM-DD>.yaml` counts only when it parses, names its own model and
//! date (the file name is its `date`), states a `computed_at` not in the future of the check,
//! and carries a detached SSHSIG (`<file>.sig`, namespace `modelgate-monitoring`) by a key that
//! allowed_signers lists for a principal holding the policy's `monitoring.role`. Which result
//! is the latest is decided by `computed_at`, the validated content, never by the file name.
//! Anything else in `monitoring/` is a problem, and the drift gate fails closed on problems.

use crate::diag::{Code, Diagnostic};
use crate::registry::schema::Policy;
use crate::registry::source::Source;
use crate::registry::types::Severity;
use crate::registry::types::Timestamp;
use crate::registry::{self, Model, Registry};
use crate::signing::allowed_signers::AllowedSigners;
use crate::signing::sshsig::{self, Expect};
use chrono::{DateTime, Utc};

/// The SSHSIG namespace of monitoring results.
pub const NAMESPACE: &str = "modelgate-monitoring";

/// The signature file of a monitoring result.
pub fn signature_path(result: &str) -> String {
    format!("{result}.sig")
}

/// One authenticated monitoring result.
#[derive(Clone, Debug)]
pub struct Evidence {
    /// The file.
    pub file: String,
    /// The version monitored.
    pub version: u32,
    /// When the job computed it.
    pub computed_at: Timestamp,
    /// Its severity.
    pub severity: Severity,
}

/// What judging a model's results needs: the rules and keys of the revision that judges.
pub struct Judge<'a> {
    /// The policy (its `monitoring.role` and `roles`).
    pub policy: Option<&'a Policy>,
    /// allowed_signers.
    pub signers: Option<&'a AllowedSigners>,
    /// The time of the check (`None`: no signature or time check, as in `validate
    /// --no-signatures`).
    pub now: Option<DateTime<Utc>>,
    /// Whether to verify signatures.
    pub signatures: bool,
}

/// The text of a scalar node, whatever its type under the core schema.
fn scalar_text(n: &crate::yaml::Node) -> Option<&str> {
    match &n.kind {
        crate::yaml::NodeKind::Scalar(s, _) => Some(s),
        _ => None,
    }
}

fn problem(file: &str, message: String) -> Diagnostic {
    Diagnostic::error(Code::MonitoringResult, message)
        .in_file(file)
        .hint("monitoring results are written and signed by the drift job (`modelgate drift --model M --sign-key KEY`); a result that cannot be trusted blocks promotions of the model. Results written before they were signed: `git rm` them in a pull request (they are no evidence), and let the signed job write new ones")
}

/// Reads and judges one result file; `Err` says why it does not count.
pub fn judge_one(
    reg: &Registry,
    m: &Model,
    file: &str,
    judge: &Judge<'_>,
) -> Result<Evidence, Diagnostic> {
    judge_file(&*reg.source, m.name.as_str(), file, judge)
}

/// [`judge_one`] for a result of the model named `model`, read from `src`.
pub fn judge_file(
    src: &dyn Source,
    model_name: &str,
    file: &str,
    judge: &Judge<'_>,
) -> Result<Evidence, Diagnostic> {
    let name = file.rsplit('/').next().unwrap_or(file);
    let Some(stem) = name.strip_suffix(".yaml") else {
        return Err(problem(
            file,
            format!(
                "{file} is not a monitoring result: results are named <YYYY-MM-DD>.yaml, each with <YYYY-MM-DD>.yaml.sig"
            ),
        ));
    };
    let bytes = src
        .read(file, registry::MAX_YAML_BYTES)
        .map_err(|e| registry::read_error(file, &e))?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| problem(file, format!("{file} is not UTF-8 text")))?;
    let node = crate::yaml::parse(text)
        .map_err(|e| problem(file, format!("{file} does not parse: {}", e.message)).at(e.span))?;
    let field = |k: &str| node.get(k).and_then(|v| v.resolve());
    let str_field = |k: &str| match field(k) {
        Some(crate::yaml::Resolved::Str(s)) => Some(s.to_string()),
        _ => None,
    };
    let model = str_field("model");
    if model.as_deref() != Some(model_name) {
        return Err(problem(
            file,
            format!(
                "{file} is about model `{}`, not {model_name}",
                model.unwrap_or_default(),
            ),
        ));
    }
    let version = match field("version") {
        Some(crate::yaml::Resolved::Int(v)) => u32::try_from(v).ok(),
        _ => None,
    }
    .ok_or_else(|| {
        problem(
            file,
            format!("{file} has no `version:` (the version monitored)"),
        )
    })?;
    let date = match node.get("date").and_then(scalar_text) {
        Some(d) => d.to_string(),
        None => return Err(problem(file, format!("{file} has no `date:`"))),
    };
    if date != stem || chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d").is_err() {
        return Err(problem(
            file,
            format!(
                "{file} is misnamed: its `date:` is {date}; a result is named after its date, <YYYY-MM-DD>.yaml"
            ),
        ));
    }
    let computed_at = node
        .get("computed_at")
        .and_then(scalar_text)
        .and_then(|t| t.parse::<Timestamp>().ok())
        .ok_or_else(|| {
            problem(
                file,
                format!("{file} has no valid `computed_at:` (RFC 3339, written by the drift job)"),
            )
        })?;
    let severity = str_field("severity")
        .as_deref()
        .and_then(Severity::parse)
        .ok_or_else(|| {
            problem(
                file,
                format!("{file} has no valid `severity:` (none, issue, alert or retrain)"),
            )
        })?;
    if date > computed_at.at.format("%Y-%m-%d").to_string() {
        return Err(problem(
            file,
            format!(
                "{file} is about {date}, after it was computed ({}): data from the future",
                computed_at.raw
            ),
        ));
    }
    if let Some(now) = judge.now {
        if computed_at.at > now + sshsig::CLOCK_SKEW {
            return Err(problem(
                file,
                format!(
                    "{file} is dated in the future: computed_at {} is after the time of the check ({})",
                    computed_at.raw,
                    now.to_rfc3339()
                ),
            ));
        }
    }
    if judge.signatures {
        authenticate(src, file, &bytes, &computed_at, judge)?;
    }
    Ok(Evidence {
        file: file.to_string(),
        version,
        computed_at,
        severity,
    })
}

fn authenticate(
    src: &dyn Source,
    file: &str,
    bytes: &[u8],
    computed_at: &Timestamp,
    judge: &Judge<'_>,
) -> Result<(), Diagnostic> {
    let Some(role) = judge
        .policy
        .and_then(|p| p.monitoring.as_ref())
        .map(|m| m.role.value.as_str())
    else {
        return Err(problem(
            file,
            format!(
                "{file} cannot be authenticated: the policy names no `monitoring: {{role: …}}` whose keys sign results"
            ),
        ));
    };
    let holders: Vec<&str> = judge
        .policy
        .and_then(|p| p.roles.get(role))
        .map(|v| v.iter().map(|p| p.value.as_str()).collect())
        .unwrap_or_default();
    let Some(signers) = judge.signers else {
        return Err(problem(
            file,
            format!("{file} cannot be authenticated: no readable allowed_signers"),
        ));
    };
    let sig_file = signature_path(file);
    let sig = src
        .read(&sig_file, 64 * 1024)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            problem(
                file,
                format!("{file} is not signed: {sig_file} is missing or unreadable"),
            )
        })?;
    let mut last = None;
    for principal in &holders {
        let expect = Expect {
            namespace: NAMESPACE,
            principal: Some(principal),
            signed_at: computed_at,
            now: judge.now,
            bound_future: true,
        };
        match sshsig::verify(bytes, &sig, &expect, signers) {
            Ok(_) => return Ok(()),
            Err(e) => last = Some(e),
        }
    }
    Err(problem(
        file,
        match last {
            Some(e) => format!("{file} is not signed by the monitoring role `{role}`: {e}"),
            None => format!("{file} cannot be authenticated: role `{role}` has no holders"),
        },
    ))
}

/// Every monitoring result of a model, judged: the authenticated ones, and a diagnostic for each
/// file that does not count (including stray files and signatures without a result).
pub fn results(reg: &Registry, m: &Model, judge: &Judge<'_>) -> (Vec<Evidence>, Vec<Diagnostic>) {
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for f in &m.monitoring {
        if let Some(result) = f.strip_suffix(".sig") {
            if !m.monitoring.iter().any(|x| x == result) {
                bad.push(problem(
                    f,
                    format!("{f} signs {result}, which does not exist"),
                ));
            }
            continue;
        }
        match judge_one(reg, m, f, judge) {
            Ok(e) => good.push(e),
            Err(d) => bad.push(d),
        }
    }
    (good, bad)
}

/// The latest authenticated result: the greatest `computed_at` (then the file name, for a tie).
pub fn latest(results: &[Evidence]) -> Option<&Evidence> {
    results
        .iter()
        .max_by(|a, b| (a.computed_at.at, &a.file).cmp(&(b.computed_at.at, &b.file)))
}
