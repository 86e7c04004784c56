//! `modelgate schema [KIND] [--out DIR] [--format text|json|markdown]`: the JSON Schemas of the
//! registry's file kinds, and the key tables of docs/format.md.

use super::EXIT_OK;
use crate::cli::{SchemaArgs, SchemaFormat};
use anyhow::Result;
use modelgate::registry::json_schema::{self, KINDS};

/// Runs the command.
pub fn run(args: &SchemaArgs) -> Result<u8> {
    if let Some(dir) = &args.out {
        let files: Vec<(String, Vec<u8>)> = KINDS
            .iter()
            .map(|k| (k.file_name(), json_schema::schema_text(k).into_bytes()))
            .collect();
        modelgate::registry::write::write_changes(dir, &files)?;
        println!("wrote {} schemas to {}:", files.len(), dir.display());
        for (name, _) in &files {
            println!("  {name}");
        }
        return Ok(EXIT_OK);
    }
    // Resolved first, so that an unknown kind is an error whatever the format.
    let kind = args.kind.as_deref().map(json_schema::kind).transpose()?;
    match (args.format, kind) {
        (SchemaFormat::Markdown, kind) => {
            let kinds: Vec<_> = match kind {
                Some(k) => vec![k],
                None => KINDS.iter().collect(),
            };
            for k in kinds {
                println!("### {}\n", k.name);
                print!("{}", json_schema::key_table(k));
                println!();
            }
        }
        (_, Some(k)) => print!("{}", json_schema::schema_text(k)),
        (SchemaFormat::Text, None) => {
            for k in KINDS {
                println!("{:<20} {}", k.name, k.path);
            }
            println!(
                "(registry/allowed_signers has no schema: it is OpenSSH's allowed_signers format, not YAML)"
            );
        }
        (SchemaFormat::Json, None) => {
            let list: Vec<serde_json::Value> = KINDS
                .iter()
                .map(|k| {
                    serde_json::json!({
                        "kind": k.name,
                        "path": k.path,
                        "yaml": k.yaml,
                        "about": k.about,
                        "schema_file": k.file_name(),
                    })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&list)?);
        }
    }
    Ok(EXIT_OK)
}
