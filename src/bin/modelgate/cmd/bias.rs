//! `modelgate bias`: fairness across protected attributes, of a file or a registry model.

use super::{Ctx, EXIT_FAIL, EXIT_OK};
use crate::cli::BiasArgs;
use anyhow::{Context, Result, bail};
use modelgate::diag::render::Format;
use modelgate::monitor::{bias, data, render};
use modelgate::registry::source::FsSource;
use modelgate::registry::types::{Alias, ModelName};
use std::io::Write;
use std::path::PathBuf;

/// Runs the command.
pub fn run(ctx: &Ctx, args: &BiasArgs) -> Result<u8> {
    super::evaluate::check_threshold(args.threshold)?;
    let mut sensitive = args.sensitive.clone();
    let mut thresholds = (0.10, 0.15);
    // Where the data comes from, for errors: the model.yaml key it is read under.
    let mut source = None;
    let (pattern, base, label): (String, PathBuf, String) = match &args.model {
        None => (
            args.data.clone().context("--data is required")?,
            std::env::current_dir()?,
            args.label.clone(),
        ),
        Some(name) => {
            let root = ctx.registry_root()?;
            let reg = modelgate::registry::load(Box::new(FsSource::new(&root)?))?.registry;
            let n = ModelName::new(name)?;
            let m = reg
                .models
                .get(&n)
                .with_context(|| format!("there is no model `{name}` in this registry"))?;
            let spec = m.spec.as_ref().context("model.yaml does not parse")?;
            let mon = spec
                .monitoring
                .as_ref()
                .context("model.yaml has no `monitoring:`")?;
            if sensitive.is_empty() {
                sensitive = spec.protected_attributes.clone();
            }
            let policy = reg.policy.clone().unwrap_or_default();
            let eff = modelgate::registry::policy::effective(&policy, spec.policy.as_ref());
            if let Some(b) = eff
                .gates
                .get(&Alias::Champion)
                .and_then(|g| g.bias.as_ref())
            {
                thresholds = (b.warn_at.value, b.block_at.value);
            }
            let label = spec.label.clone().unwrap_or_else(|| args.label.clone());
            source = Some(format!(
                "{}/model.yaml `{}` (scored rows, with `{}` and `{label}`)",
                m.dir,
                mon.inference_log_key(),
                args.score
            ));
            (mon.inference_log().to_string(), root, label)
        }
    };
    if sensitive.is_empty() {
        bail!("name the protected attributes with --sensitive a,b");
    }
    let mut columns = vec![label.clone(), args.score.clone()];
    columns.extend(sensitive.iter().cloned());
    let t = data::read(
        &pattern,
        &base,
        &data::Request {
            columns,
            ..Default::default()
        },
    )
    .with_context(|| match &source {
        Some(s) => format!("reading {pattern}, named by {s}"),
        None => format!("reading {pattern}"),
    })?;
    // Rows without a label or a score cannot be judged; keep the rest, aligned.
    let frame = t.frame;
    let (labels, scores, keep) = data::labels_scores_kept(&frame, &label, &args.score)?;
    if labels.is_empty() {
        bail!("no row has both a label and a finite score");
    }
    let groups_of = |attr: &str| -> Result<Vec<Option<String>>> {
        Ok(data::strings(&frame, attr)?
            .into_iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(g, _)| g)
            .collect())
    };
    let mut attributes = Vec::new();
    let mut cached = Vec::new();
    for a in &sensitive {
        let g = groups_of(a)?;
        attributes.push(bias::attribute(
            a,
            &g,
            &labels,
            &scores,
            args.threshold,
            thresholds,
        ));
        cached.push((a.clone(), g));
    }
    if args.intersectional {
        for i in 0..cached.len() {
            for j in i + 1..cached.len() {
                let g: Vec<Option<String>> = cached[i]
                    .1
                    .iter()
                    .zip(&cached[j].1)
                    .map(|(a, b)| {
                        Some(format!(
                            "{},{}",
                            a.as_deref().unwrap_or("(null)"),
                            b.as_deref().unwrap_or("(null)")
                        ))
                    })
                    .collect();
                let name = format!("{}×{}", cached[i].0, cached[j].0);
                attributes.push(bias::attribute(
                    &name,
                    &g,
                    &labels,
                    &scores,
                    args.threshold,
                    thresholds,
                ));
            }
        }
    }
    let report = bias::Report {
        threshold: args.threshold,
        attributes,
    };
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&report)? + "\n",
        Format::Markdown => render::bias_markdown(&report),
        _ => render::bias_text(&report),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    let blocked = report.attributes.iter().any(|a| a.verdict == "block");
    Ok(if blocked { EXIT_FAIL } else { EXIT_OK })
}
