//! Command-line arguments, parsed with clap.
//!
//! This module only describes and validates arguments; `cmd/` turns them into work. Commands
//! that are not built yet are still listed, so `--help` shows the whole tool, and say so plainly
//! when run (exit 2) instead of printing anything that looks like a result.

use crate::diag::render::Format;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// modelgate: a GitOps model registry and governance tool.
///
/// Models, versions, champion/challenger aliases, signed approvals and an append-only audit log
/// live as YAML in a git repository; every change is a pull request that modelgate checks.
#[derive(Debug, Parser)]
#[command(
    name = "modelgate",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// The registry repository. Default: the nearest folder, from the current one upwards,
    /// that holds registry/policy.yaml.
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// When to color text output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Color of text output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Color when writing to a terminal.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// The subcommands (DESIGN.md §2).
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scaffold a registry repository: policy, signers, audit log, model-card template, workflow.
    Init(InitArgs),
    /// Scaffold a model from the template.
    New(NewArgs),
    /// Check schema, references, digests and the audit chain of the whole registry.
    Validate(ValidateArgs),
    /// Run the whole flow on the bundled example, in a temporary copy.
    Demo(DemoArgs),
    /// Register a new version (not built yet).
    Register(PendingArgs),
    /// Move an alias to a version (the old champion is archived), with its audit entries.
    Promote(PromoteArgs),
    /// Write an approval signed with your SSH key.
    Approve(ApproveArgs),
    /// Approval helpers: print the exact bytes an approval signs.
    Approval(ApprovalArgs),
    /// The pull-request gate: what changed between two revisions, and whether every promotion
    /// passes its gates.
    Check(CheckArgs),
    /// Data, prediction and concept drift: of two data sets, or of models from the registry.
    Drift(DriftArgs),
    /// Fairness metrics across protected attributes.
    Bias(BiasArgs),
    /// Classification metrics of scores against labels.
    Evaluate(EvaluateArgs),
    /// A mergeable profile of one partition of current data against a reference.
    Profile(ProfileArgs),
    /// Batch inference with ONNX Runtime, with lineage for every prediction.
    Batch(BatchArgs),
    /// Apply the retention policy (not built yet).
    Retire(PendingArgs),
    /// Search versions across models with MLflow's filter grammar (plus OR and parentheses).
    Search(SearchArgs),
    /// Lineage of a version or a prediction.
    Lineage(LineageArgs),
    /// Reproduce a version (not built yet).
    Reproduce(PendingArgs),
    /// Import from MLflow (not built yet).
    Import(PendingArgs),
    /// Split the models over CI jobs (a GitHub Actions matrix, JSON, or lines).
    Plan(PlanArgs),
    /// Render the static site (not built yet).
    Site(PendingArgs),
    /// Developer tools: synthetic registries for benchmarks.
    #[command(hide = true)]
    Dev(DevArgs),
}

impl Command {
    /// The issue that tracks a command that is not built yet.
    pub fn pending_issue(&self) -> Option<(&'static str, u32)> {
        Some(match self {
            Command::Register(_) => ("register", 8),
            Command::Retire(_) => ("retire", 8),
            Command::Reproduce(_) => ("reproduce", 8),
            Command::Import(_) => ("import", 8),
            Command::Site(_) => ("site", 6),
            _ => return None,
        })
    }
}

/// Arguments of a command that is not built yet: accepted, so that the message is about the
/// command and not about its flags.
#[derive(Debug, Args)]
pub struct PendingArgs {
    /// Arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub args: Vec<String>,
}

/// `modelgate init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to create the registry (created if missing).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

/// `modelgate new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The model name: a lowercase letter, then lowercase letters, digits or underscores.
    pub model: String,
    /// Who is responsible for the model.
    #[arg(long, default_value = "ml-team@example.com")]
    pub owner: String,
    /// One line on what it predicts.
    #[arg(long)]
    pub description: Option<String>,
}

/// `modelgate validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Validate the registry as it is at this git revision (read from git, no checkout)
    /// instead of the working tree.
    #[arg(long, value_name = "REV")]
    pub rev: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Skip hashing local artifacts and datasets.
    #[arg(long)]
    pub no_digests: bool,
}

/// `modelgate demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The example to copy (default: the example registry of this source tree).
    #[arg(long, value_name = "DIR")]
    pub example: Option<PathBuf>,
    /// Where to put the copy (default: a new temporary folder, kept so you can look at it).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// `modelgate check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The pull request's base (e.g. `${{ github.event.pull_request.base.sha }}`).
    #[arg(long, value_name = "REV")]
    pub base: String,
    /// The pull request's head.
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub head: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Skip hashing local artifacts and datasets of the head.
    #[arg(long)]
    pub no_digests: bool,
}

/// `modelgate promote`.
#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// The model.
    pub model: String,
    /// The version to promote (`4` or `v4`).
    #[arg(value_name = "VERSION")]
    pub model_version: String,
    /// The alias to move.
    #[arg(long, value_name = "ALIAS")]
    pub to: String,
    /// Who promotes (default: git's user.email).
    #[arg(long)]
    pub actor: Option<String>,
    /// When (RFC 3339; default: now).
    #[arg(long, value_name = "TIMESTAMP")]
    pub at: Option<String>,
}

/// `modelgate approve`.
#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The model.
    pub model: String,
    /// The version (`4` or `v4`).
    #[arg(value_name = "VERSION")]
    pub model_version: String,
    /// The alias the approval is for.
    #[arg(long)]
    pub alias: String,
    /// The role you approve in.
    #[arg(long)]
    pub role: String,
    /// Your private SSH key (OpenSSH format, unencrypted; for an encrypted key or a hardware
    /// key, sign `modelgate approval message` with ssh-keygen instead).
    #[arg(long, value_name = "PATH")]
    pub key: std::path::PathBuf,
    /// Your principal (default: the one allowed_signers lists for the key).
    #[arg(long)]
    pub principal: Option<String>,
    /// When (RFC 3339; default: now).
    #[arg(long, value_name = "TIMESTAMP")]
    pub at: Option<String>,
}

/// Severity at which `drift` exits 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Any drift worth an issue.
    Issue,
    /// Alert and above.
    Alert,
    /// Retrain only.
    Retrain,
    /// Never fail on drift.
    Never,
}

/// `modelgate drift`.
#[derive(Debug, Args)]
pub struct DriftArgs {
    /// Reference data: a Parquet or CSV file, or a glob (plain-file mode).
    #[arg(long, value_name = "PATH", requires = "current", conflicts_with_all = ["model", "all"])]
    pub reference: Option<String>,
    /// Current data: a file or a glob (plain-file mode).
    #[arg(long, value_name = "PATH", requires = "reference")]
    pub current: Option<String>,
    /// Columns to compare (default: every column of the reference).
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
    pub columns: Vec<String>,
    /// Columns to treat as categorical even when they hold numbers.
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
    pub categorical: Vec<String>,
    /// Read the current CSV data row by row into reference-derived bins (bounded memory,
    /// whatever its size); reports PSI, Jensen–Shannon, chi-square and binned Wasserstein (no KS).
    #[arg(long, requires = "reference")]
    pub stream: bool,
    /// Timestamp column for --since (plain-file mode).
    #[arg(long, value_name = "COLUMN", requires = "since")]
    pub timestamp: Option<String>,
    /// Keep current rows at or after this instant (RFC 3339 or YYYY-MM-DD).
    #[arg(long, value_name = "TIME", requires = "timestamp")]
    pub since: Option<String>,
    /// Profiles of partitions of the current data (from `modelgate profile`) to merge.
    #[arg(long, num_args = 1.., value_name = "P.json", conflicts_with_all = ["reference", "model", "all"])]
    pub profiles: Vec<std::path::PathBuf>,
    /// Models of the registry to check (repeatable).
    #[arg(long, value_name = "MODEL")]
    pub model: Vec<String>,
    /// Every model of the registry with a `monitoring:` section.
    #[arg(long)]
    pub all: bool,
    /// Only the models of this shard, `i/N` (with --all).
    #[arg(long, value_name = "i/N", requires = "all")]
    pub shard: Option<String>,
    /// Force one test for every column (default: automatic, as Evidently).
    #[arg(long, value_enum)]
    pub method: Option<crate::monitor::drift::Method>,
    /// Override the test's threshold.
    #[arg(long)]
    pub threshold: Option<f64>,
    /// Correct p-values for the number of columns tested.
    #[arg(long, value_enum)]
    pub correction: Option<crate::monitor::drift::Correction>,
    /// Minimum effect size (KS D or Jensen–Shannon distance) for a p-value test to count.
    #[arg(long, value_name = "X")]
    pub min_effect: Option<f64>,
    /// Concept drift when the primary metric drops by more than this.
    #[arg(long, default_value_t = 0.05)]
    pub concept_drop: f64,
    /// Date of the monitoring result (default: the last day of the data window).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<String>,
    /// Registry mode: report only, write no monitoring file or audit entry.
    #[arg(long)]
    pub dry_run: bool,
    /// Who runs the job, for the audit entry (default: git's user.email, else modelgate-ci).
    #[arg(long)]
    pub actor: Option<String>,
    /// Exit 1 at or above this severity.
    #[arg(long, value_enum, default_value_t = FailOn::Alert)]
    pub fail_on: FailOn,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `modelgate profile`.
#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// Reference data (file or glob).
    #[arg(long, value_name = "PATH")]
    pub reference: String,
    /// One partition of the current data (file or glob).
    #[arg(long, value_name = "PATH")]
    pub current: String,
    /// Where to write the profile (JSON).
    #[arg(long, value_name = "P.json")]
    pub out: std::path::PathBuf,
    /// Columns (default: every column of the reference).
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
    pub columns: Vec<String>,
    /// Columns to treat as categorical even when they hold numbers.
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
    pub categorical: Vec<String>,
    /// Read the current CSV data row by row (bounded memory, whatever its size).
    #[arg(long)]
    pub stream: bool,
}

/// `modelgate batch`.
#[derive(Debug, Args)]
pub struct BatchArgs {
    /// `model`, `model@champion`, `model@challenger` or `model@v4` (default alias: champion).
    #[arg(value_name = "MODEL[@ALIAS|@vN]", required_unless_present = "onnx")]
    pub target: Option<String>,
    /// Score with an ONNX file directly, without a registry.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "target",
        requires = "features"
    )]
    pub onnx: Option<std::path::PathBuf>,
    /// With --onnx: the numerical feature columns, in the model's input order.
    #[arg(long, value_delimiter = ',', value_name = "A,B,C")]
    pub features: Vec<String>,
    /// Input data: Parquet or CSV, a path or a glob.
    #[arg(long, value_name = "PATH|GLOB")]
    pub input: String,
    /// Output Parquet file (a manifest is written beside it).
    #[arg(long, value_name = "PATH")]
    pub output: std::path::PathBuf,
    /// Id column(s) to carry into the output (default: the row number).
    #[arg(long = "id-column", value_name = "COLUMN")]
    pub id_columns: Vec<String>,
    /// Rows per batch.
    #[arg(long, default_value_t = 65_536)]
    pub batch_size: usize,
    /// ONNX Runtime threads (one is fastest for small tree models on 2 cores).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Only this shard's rows (by id, or content), `i/N`.
    #[arg(long, value_name = "i/N")]
    pub shard: Option<String>,
    /// Threshold of the `prediction` column.
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f64,
    /// The `scored_at` written (RFC 3339; default: now).
    #[arg(long, value_name = "TIME")]
    pub scored_at: Option<String>,
    /// Also append the scored rows, features included, to the model's inference log (the
    /// folder of model.yaml's `monitoring.current`), where the drift job reads them.
    #[arg(long, requires = "target")]
    pub log: bool,
    /// Output format of the summary.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `modelgate lineage`.
#[derive(Debug, Args)]
pub struct LineageArgs {
    /// `model@vN` (or `model@champion`), or a prediction id.
    #[arg(value_name = "MODEL@VERSION|PREDICTION_ID")]
    pub target: String,
    /// Batch outputs to look for a prediction id in (path or glob).
    #[arg(long = "in", value_name = "PATH|GLOB")]
    pub inputs: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `modelgate bias`.
#[derive(Debug, Args)]
pub struct BiasArgs {
    /// Scored, labelled data (file or glob).
    #[arg(long, value_name = "PATH", required_unless_present = "model")]
    pub data: Option<String>,
    /// Label column (0/1).
    #[arg(long, default_value = "label")]
    pub label: String,
    /// Score column (probability of the positive class).
    #[arg(long, default_value = "score")]
    pub score: String,
    /// Decision threshold.
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f64,
    /// Protected attributes (default with --model: model.yaml's protected_attributes).
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
    pub sensitive: Vec<String>,
    /// Also every combination of two attributes.
    #[arg(long)]
    pub intersectional: bool,
    /// A model of the registry: its evaluation data is model.yaml's labelled current data.
    #[arg(long, value_name = "MODEL", conflicts_with = "data")]
    pub model: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `modelgate evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Scored, labelled data (file or glob).
    #[arg(long, value_name = "PATH")]
    pub data: String,
    /// Label column (0/1).
    #[arg(long, default_value = "label")]
    pub label: String,
    /// Score column.
    #[arg(long, default_value = "score")]
    pub score: String,
    /// Decision threshold.
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Output of `plan`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanFormat {
    /// `{"include": [{"shard": "0/4", "models": 12}, …]}` for `strategy.matrix`.
    GithubMatrix,
    /// Every shard with its models.
    Json,
    /// `index<TAB>models`, one shard a line (Kubernetes Indexed Jobs).
    Lines,
}

/// `modelgate plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Number of shards (CI jobs).
    #[arg(long)]
    pub shards: u32,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PlanFormat::GithubMatrix)]
    pub format: PlanFormat,
}

/// `modelgate search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The filter, e.g. "metrics.roc_auc > 0.85 AND (tags.status = 'prod' OR stage = 'champion')".
    #[arg(default_value = "")]
    pub filter: String,
    /// Order, e.g. 'metrics.roc_auc DESC' (repeatable).
    #[arg(long = "order-by", value_name = "FIELD [ASC|DESC]")]
    pub order_by: Vec<String>,
    /// At most this many results.
    #[arg(long, default_value_t = 100)]
    pub max_results: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `modelgate approval`.
#[derive(Debug, Args)]
pub struct ApprovalArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: ApprovalCommand,
}

/// Approval helpers.
#[derive(Debug, Subcommand)]
pub enum ApprovalCommand {
    /// Print the exact bytes an approval signs (no trailing newline), for
    /// `ssh-keygen -Y sign -n modelgate-approval -f KEY`.
    Message {
        /// An approval file; its `signature:` may be absent.
        file: PathBuf,
    },
}

/// `modelgate dev`.
#[derive(Debug, Args)]
pub struct DevArgs {
    /// The developer tool.
    #[command(subcommand)]
    pub command: DevCommand,
}

/// Developer tools.
#[derive(Debug, Subcommand)]
pub enum DevCommand {
    /// Write a synthetic registry of many models for benchmarks.
    Synth {
        /// Output folder (must not exist).
        #[arg(long)]
        out: PathBuf,
        /// Number of models.
        #[arg(long, default_value_t = 1000)]
        models: u32,
        /// Versions per model.
        #[arg(long, default_value_t = 20)]
        versions: u32,
        /// Also make it a git repository with one commit.
        #[arg(long)]
        git: bool,
    },
}

#[cfg(test)]
mod tests {
    /// clap's own consistency checks on every subcommand (they otherwise panic at run time).
    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
