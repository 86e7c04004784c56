//! `modelgate plan --shards N`: split the models over CI jobs.
//!
//! Every model lands in exactly one shard, by rendezvous hashing of its name (`shard.rs`), so
//! each job can run `modelgate drift --all --shard i/N` and two jobs never touch one model.

use super::{Ctx, EXIT_OK};
use crate::cli::{PlanArgs, PlanFormat};
use anyhow::{Result, bail};
use modelgate::registry::source::FsSource;
use serde::Serialize;

/// One shard of the plan.
#[derive(Serialize)]
struct Shard {
    /// `i/N`, as `--shard` takes it.
    shard: String,
    /// Its index.
    index: u32,
    /// The models it owns.
    models: Vec<String>,
}

/// Runs the command.
pub fn run(ctx: &Ctx, args: &PlanArgs) -> Result<u8> {
    if args.shards == 0 || args.shards > 256 {
        bail!(
            "--shards {} is out of range: expected 1 to 256",
            args.shards
        );
    }
    let root = ctx.registry_root()?;
    let reg = modelgate::registry::load(Box::new(FsSource::new(&root)?))?.registry;
    let mut shards: Vec<Shard> = (0..args.shards)
        .map(|i| Shard {
            shard: format!("{i}/{}", args.shards),
            index: i,
            models: Vec::new(),
        })
        .collect();
    for name in reg.models.keys() {
        let i = modelgate::shard::shard_of(name.as_str(), args.shards);
        shards[i as usize].models.push(name.to_string());
    }
    match args.format {
        PlanFormat::GithubMatrix => {
            // `strategy.matrix: ${{ fromJSON(needs.plan.outputs.matrix) }}`
            let include: Vec<serde_json::Value> = shards
                .iter()
                .map(|s| serde_json::json!({"shard": s.shard, "models": s.models.len()}))
                .collect();
            println!("{}", serde_json::json!({ "include": include }));
        }
        PlanFormat::Json => println!("{}", serde_json::to_string_pretty(&shards)?),
        PlanFormat::Lines => {
            // One index per line: the completion indexes of a Kubernetes Indexed Job.
            for s in &shards {
                println!("{}\t{}", s.index, s.models.join(","));
            }
        }
    }
    Ok(EXIT_OK)
}
