//! `modelgate drift`: plain files, or models of the registry.

use super::{Ctx, EXIT_FAIL, EXIT_OK};
use crate::cli::{DriftArgs, FailOn};
use anyhow::{Context, Result, bail};
use modelgate::diag::render::Format;
use modelgate::monitor::data::{self, Request};
use modelgate::monitor::drift::{self, Options};
use modelgate::monitor::job::{self, JobOptions};
use modelgate::monitor::pairs::column_pairs;
use modelgate::monitor::render;
use modelgate::registry::policy::DEFAULT_SEVERITY;
use modelgate::registry::source::FsSource;
use modelgate::registry::types::{ModelName, Severity};
use std::io::Write;

fn check_threshold(args: &DriftArgs) -> Result<()> {
    if let Some(t) = args.threshold {
        let psi = args.method == Some(drift::Method::Psi);
        if !(t > 0.0 && (t < 1.0 || psi) && t.is_finite()) {
            bail!("--threshold {t} is out of range: expected a number in (0, 1)");
        }
    }
    if let Some(e) = args.min_effect {
        if !(0.0..=1.0).contains(&e) {
            bail!("--min-effect {e} is out of range: expected a number in [0, 1]");
        }
    }
    Ok(())
}

fn fails(severity: Severity, fail_on: FailOn) -> bool {
    let bar = match fail_on {
        FailOn::Issue => Severity::Issue,
        FailOn::Alert => Severity::Alert,
        FailOn::Retrain => Severity::Retrain,
        FailOn::Never => return false,
    };
    severity >= bar
}

fn options(args: &DriftArgs, severity: (f64, f64, f64)) -> Options {
    Options {
        method: args.method,
        threshold: args.threshold,
        per_column: Default::default(),
        correction: args.correction,
        min_effect: args.min_effect,
        severity,
    }
}

fn parse_since(s: &str) -> Result<chrono::DateTime<chrono::Utc>> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    match chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) => Ok(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()),
        Err(_) => bail!("--since `{s}`: expected an RFC 3339 time or YYYY-MM-DD"),
    }
}

/// Runs the command.
pub fn run(ctx: &Ctx, args: &DriftArgs) -> Result<u8> {
    check_threshold(args)?;
    match (&args.reference, &args.current) {
        _ if !args.profiles.is_empty() => from_profiles(args),
        (Some(r), Some(c)) => plain(args, r, c),
        _ if args.all || !args.model.is_empty() => registry(ctx, args),
        _ => bail!(
            "say what to compare: --reference R --current C, --profiles P1.json P2.json …, --model M, or --all"
        ),
    }
}

fn emit(report: &drift::Report, format: Format) -> Result<()> {
    let text = match format {
        Format::Json => serde_json::to_string_pretty(report)? + "\n",
        Format::Markdown => render::drift_markdown(report),
        Format::Text | Format::Github => render::drift_text(report),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(())
}

fn from_profiles(args: &DriftArgs) -> Result<u8> {
    let mut profiles = Vec::new();
    for p in &args.profiles {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        profiles.push(
            serde_json::from_str::<modelgate::monitor::profile::Profile>(&text)
                .with_context(|| format!("{} is not a modelgate profile", p.display()))?,
        );
    }
    let merged = modelgate::monitor::profile::merge(&profiles)?;
    let report = modelgate::monitor::profile::report(
        &merged,
        args.method,
        args.threshold,
        DEFAULT_SEVERITY,
    )?;
    emit(&report, args.format)?;
    Ok(if fails(report.severity, args.fail_on) {
        EXIT_FAIL
    } else {
        EXIT_OK
    })
}

/// Current CSV data larger than this is streamed even without `--stream`.
const STREAM_ABOVE_BYTES: u64 = 512 * 1024 * 1024;

/// Whether the current data is CSV too large to hold: it is then streamed.
fn too_large_csv(current: &str) -> Result<Option<u64>> {
    let files = data::expand(current, &std::env::current_dir()?)?;
    let all_csv = files.iter().all(|f| {
        f.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
    });
    let size: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    Ok((all_csv && size > STREAM_ABOVE_BYTES).then_some(size))
}

fn plain(args: &DriftArgs, reference: &str, current: &str) -> Result<u8> {
    let stream = args.stream
        || match too_large_csv(current)? {
            Some(size) => {
                eprintln!(
                    "note: the current data is {} MiB of CSV: reading it row by row into the reference's bins (KS needs the raw values and is left out; --stream does this for any size)",
                    size / (1024 * 1024)
                );
                true
            }
            None => false,
        };
    if stream {
        let p = modelgate::monitor::pairs::streamed_profile(
            reference,
            current,
            &args.columns,
            &args.categorical,
            &std::env::current_dir()?,
        )?;
        let report =
            modelgate::monitor::profile::report(&p, args.method, args.threshold, DEFAULT_SEVERITY)?;
        emit(&report, args.format)?;
        return Ok(if fails(report.severity, args.fail_on) {
            EXIT_FAIL
        } else {
            EXIT_OK
        });
    }
    let since = match (&args.timestamp, &args.since) {
        (Some(ts), Some(s)) => Some((ts.clone(), parse_since(s)?)),
        _ => None,
    };
    let label = args.label.as_deref().unwrap_or("label");
    let mut notes = Vec::new();
    let columns = if args.columns.is_empty() {
        default_columns(reference, args.timestamp.as_deref(), label, &mut notes)?
    } else {
        args.columns.clone()
    };
    let (pairs, rows) = column_pairs(
        reference,
        current,
        &columns,
        &args.categorical,
        args.timestamp.as_ref(),
        since.clone(),
        &std::env::current_dir()?,
    )?;
    let mut report = drift::report(&pairs, rows, &options(args, DEFAULT_SEVERITY))?;
    report.label = label_drift(args, reference, current, label, since, &mut notes)?;
    report.notes = notes;
    emit(&report, args.format)?;
    Ok(if fails(report.severity, args.fail_on) {
        EXIT_FAIL
    } else {
        EXIT_OK
    })
}

/// The columns plain-file drift compares when `--columns` is not given: every column of the
/// reference but the timestamp, the label (compared apart, as concept drift) and the columns
/// that look like identifiers (a note names those left out).
fn default_columns(
    reference: &str,
    timestamp: Option<&str>,
    label: &str,
    notes: &mut Vec<String>,
) -> Result<Vec<String>> {
    let base = std::env::current_dir()?;
    let names: Vec<String> = data::column_names(reference, &base)?
        .into_iter()
        .filter(|c| Some(c.as_str()) != timestamp && c != label)
        .collect();
    // Only strings and integers can be identifiers: read just those.
    let first = data::expand(reference, &base)?.remove(0);
    let schema = data::scan_file(&first)?
        .collect_schema()
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", first.display()))?;
    let candidates: Vec<String> = names
        .iter()
        .filter(|c| {
            schema
                .get(c.as_str())
                .is_some_and(|t| t.is_integer() || matches!(t, polars::prelude::DataType::String))
        })
        .cloned()
        .collect();
    let ids = if candidates.is_empty() {
        Vec::new()
    } else {
        let r = data::read(
            reference,
            &base,
            &Request {
                columns: candidates,
                ..Default::default()
            },
        )
        .context("reading the reference data")?;
        data::identifier_columns(&r.frame)?
    };
    if !ids.is_empty() {
        let quoted: Vec<String> = ids.iter().map(|c| format!("`{c}`")).collect();
        notes.push(format!(
            "skipped {} (a distinct value on every row: an identifier, whose distribution means nothing); name it in --columns to compare it",
            quoted.join(", ")
        ));
    }
    Ok(names.into_iter().filter(|c| !ids.contains(c)).collect())
}

/// The label's drift in plain-file drift: compared as a category apart from the features, when
/// both files have it; a current file without it skips this with a note.
fn label_drift(
    args: &DriftArgs,
    reference: &str,
    current: &str,
    label: &str,
    since: Option<(String, chrono::DateTime<chrono::Utc>)>,
    notes: &mut Vec<String>,
) -> Result<Option<drift::ColumnDrift>> {
    let base = std::env::current_dir()?;
    let in_reference = data::column_names(reference, &base)?
        .iter()
        .any(|c| c == label);
    if !in_reference || args.columns.iter().any(|c| c == label) {
        if args.label.is_some() && !in_reference {
            bail!("the reference data has no label column `{label}` (--label)");
        }
        return Ok(None);
    }
    if !data::column_names(current, &base)?
        .iter()
        .any(|c| c == label)
    {
        notes.push(format!(
            "concept drift not computed: the current data has no label column `{label}`"
        ));
        return Ok(None);
    }
    let (pairs, _) = column_pairs(
        reference,
        current,
        &[label.to_string()],
        &[label.to_string()],
        None,
        since,
        &std::env::current_dir()?,
    )?;
    let (r, c) = &pairs[0];
    for (side, col) in [("reference", r), ("current", c)] {
        if col.usable() == 0 {
            notes.push(format!(
                "concept drift not computed: the {side} data's label column `{label}` holds no value"
            ));
            return Ok(None);
        }
    }
    Ok(Some(drift::column(r, c, args.method, args.threshold)?))
}

fn registry(ctx: &Ctx, args: &DriftArgs) -> Result<u8> {
    let root = ctx.registry_root()?;
    let reg = modelgate::registry::load(Box::new(FsSource::new(&root)?))?.registry;
    let shard: Option<modelgate::shard::Shard> =
        args.shard.as_deref().map(str::parse).transpose()?;
    let models: Vec<_> = if args.all {
        reg.models
            .values()
            .filter(|m| m.spec.as_ref().is_some_and(|s| s.monitoring.is_some()))
            .filter(|m| shard.is_none_or(|s| s.owns(m.name.as_str())))
            .collect()
    } else {
        let mut v = Vec::new();
        for name in &args.model {
            let n = ModelName::new(name)?;
            match reg.models.get(&n) {
                Some(m) => v.push(m),
                None => bail!("there is no model `{name}` in this registry"),
            }
        }
        v
    };
    let policy = reg.policy.clone().unwrap_or_default();
    // Every model is computed before anything is written: one failing model writes nothing.
    let mut results = Vec::new();
    for m in &models {
        let over = m.spec.as_ref().and_then(|s| s.policy.as_ref());
        let eff = modelgate::registry::policy::effective(&policy, over);
        let opts = JobOptions {
            drift: options(args, eff.severity),
            concept_drop: args.concept_drop,
            date: args.date.clone(),
        };
        results.push(job::run(&reg, &root, m, &opts)?);
    }
    if !args.dry_run && !results.is_empty() {
        let actor = modelgate::lifecycle::actor(args.actor.as_deref(), &root)
            .unwrap_or_else(|_| "modelgate-ci".to_string());
        let at = modelgate::registry::types::Timestamp::from_utc(chrono::Utc::now());
        let key = match &args.sign_key {
            Some(p) => Some(modelgate::lifecycle::approve::read_key(p)?),
            None => {
                eprintln!(
                    "warning: no --sign-key (or MODELGATE_MONITORING_KEY): the results are written unsigned, and the drift gate will not trust them"
                );
                None
            }
        };
        for r in results.iter().filter(|r| job::already_recorded(&reg, r)) {
            eprintln!(
                "note: {} exists: monitoring results are never rewritten, so this run records nothing for {} (pass --date for another day)",
                r.file, r.model
            );
        }
        let files = job::files(&reg, &results, &actor, &at, key.as_ref())?;
        modelgate::registry::write::write_changes(&root, &files)?;
    }
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            out.write_all((serde_json::to_string_pretty(&results)? + "\n").as_bytes())?
        }
        Format::Markdown => {
            for r in &results {
                writeln!(out, "### {} v{} — {}\n", r.model, r.version, r.date)?;
                out.write_all(render::drift_markdown(&r.data).as_bytes())?;
            }
        }
        Format::Text | Format::Github => {
            for r in &results {
                writeln!(out, "━━ {} v{} (champion), {}", r.model, r.version, r.date)?;
                out.write_all(render::drift_text(&r.data).as_bytes())?;
                if let Some(p) = &r.prediction {
                    writeln!(
                        out,
                        "prediction drift ({}): {} {} → {}",
                        p.column,
                        p.method.as_str(),
                        p.score,
                        if p.drifted { "DRIFT" } else { "ok" }
                    )?;
                }
                if let Some(modelgate::monitor::job::Concept { result: c, note }) = &r.concept {
                    match (c.current, c.recorded) {
                        (Some(now), Some(rec)) => writeln!(
                            out,
                            "concept drift ({}, {} labelled rows): {now:.4} now vs {rec:.4} recorded → {}",
                            c.metric,
                            c.rows,
                            if c.drifted { "DRIFT" } else { "ok" }
                        )?,
                        _ => writeln!(out, "concept drift: {}", note.clone().unwrap_or_default())?,
                    }
                }
                for n in &r.notes {
                    writeln!(out, "note: {n}")?;
                }
                if args.dry_run {
                    writeln!(out, "(dry run: {} not written)\n", r.file)?;
                } else {
                    writeln!(out, "wrote {}\n", r.file)?;
                }
            }
        }
    }
    if args.open_issues || args.notify_webhook.is_some() {
        let gh = modelgate::github::GitHub::from_env(args.repo.as_deref(), args.dry_run)?;
        let opts = modelgate::github::drift::Options {
            site_url: args.site_url.clone(),
            webhook: args.notify_webhook.clone(),
        };
        if args.open_issues {
            for o in modelgate::github::drift::sync(&gh, &results, &opts)? {
                eprintln!(
                    "modelgate: {} issue {}{}{}{}",
                    o.model,
                    o.action,
                    o.issue.map(|n| format!(" #{n}")).unwrap_or_default(),
                    if o.dispatched {
                        ", retrain dispatched"
                    } else {
                        ""
                    },
                    if o.notified { ", webhook notified" } else { "" }
                );
            }
        } else if let Some(url) = &args.notify_webhook {
            for r in results
                .iter()
                .filter(|r| r.data.severity >= Severity::Alert)
            {
                gh.webhook(
                    url,
                    &serde_json::json!({
                        "text": modelgate::github::drift::title(r),
                        "model": r.model, "version": r.version, "severity": r.data.severity,
                        "drift_share": r.data.drift_share, "date": r.date,
                    }),
                )?;
            }
        }
        for line in gh.take_dry_log() {
            println!("{line}");
        }
    }
    let failing = results.iter().any(|r| fails(r.data.severity, args.fail_on));
    Ok(if failing { EXIT_FAIL } else { EXIT_OK })
}
