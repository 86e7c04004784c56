//! `modelgate approval message FILE`: the bytes an approval signs.

use super::{Ctx, EXIT_ERROR, EXIT_OK};
use crate::cli::{ApprovalArgs, ApprovalCommand, OutputFormat};
use anyhow::{Context, Result};
use modelgate::diag::{Diagnostic, Report, render};
use modelgate::registry::schema::Statement;
use modelgate::yaml::Spanned;
use serde::Deserialize;
use std::io::Write;

/// An approval file before or after signing.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Unsigned {
    statement: Statement,
    #[serde(default)]
    #[allow(dead_code)]
    signature: Option<Spanned<String>>,
}

/// Runs the command.
pub fn run(ctx: &Ctx, args: &ApprovalArgs) -> Result<u8> {
    let ApprovalCommand::Message { file } = &args.command;
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let name = file.display().to_string();
    let parsed = modelgate::yaml::parse(&text)
        .map_err(|e| vec![Diagnostic::of_yaml_parse(&name, e)])
        .and_then(|node| {
            modelgate::yaml::de::from_node_all::<Unsigned>(&node).map_err(|errors| {
                errors
                    .into_iter()
                    .map(|e| Diagnostic::of_yaml_value(&name, e))
                    .collect()
            })
        });
    match parsed {
        Ok(u) => {
            let message = modelgate::signing::approval::message(&u.statement);
            let mut out = std::io::stdout().lock();
            if args.format == OutputFormat::Json {
                let doc = serde_json::json!({"file": name, "message": message});
                writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
            } else {
                out.write_all(message.as_bytes())?;
            }
            out.flush()?;
            Ok(EXIT_OK)
        }
        Err(d) => {
            let report = Report::new(d);
            if args.format == OutputFormat::Json {
                print!("{}", render::json(&report));
                return Ok(EXIT_ERROR);
            }
            let t = text.clone();
            eprint!(
                "{}",
                render::text(&report, &move |_| Some(t.clone()), ctx.color)
            );
            Ok(EXIT_ERROR)
        }
    }
}
