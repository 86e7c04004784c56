//! Command-line arguments, parsed with clap.
//!
//! This module only describes and validates arguments; `cmd/` turns them into work.
//!
//! Why one file of over 1,000 lines: it is the whole command-line surface, read and reviewed
//! together (names, defaults and examples must agree across commands, and `cli_tests.rs` checks
//! every command's `--format` and examples); nearly all of it is declarations and help text.

use clap::{Args, Parser, Subcommand};
use modelgate::diag::render::Format;
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

    /// More output on stderr: `-v` progress, `-vv` debug (timings of each step), `-vvv` trace.
    /// `RUST_LOG=debug` does the same. Warnings are always shown.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

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

/// The output format of commands that report what they did: text for people, or one JSON
/// document (with `--format json`, an error is a JSON document on stdout too).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Lines of text.
    #[default]
    Text,
    /// One JSON document.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scaffold a registry repository: policy, signers, audit log, model-card template, workflow.
    #[command(after_help = INIT_EXAMPLES)]
    Init(InitArgs),
    /// Scaffold a model from the template.
    #[command(after_help = NEW_EXAMPLES)]
    New(NewArgs),
    /// Check schema, references, digests and the audit chain of the whole registry.
    #[command(after_help = VALIDATE_EXAMPLES)]
    Validate(ValidateArgs),
    /// Run the whole flow on the bundled example, in a temporary copy.
    #[command(after_help = DEMO_EXAMPLES)]
    Demo(DemoArgs),
    /// Register a new version: hashes, git commit, environment, seed, metrics; appends audit.
    #[command(after_help = REGISTER_EXAMPLES)]
    Register(Box<RegisterArgs>),
    /// Move an alias to a version (the old champion is archived), with its audit entries.
    #[command(after_help = PROMOTE_EXAMPLES)]
    Promote(PromoteArgs),
    /// Write an approval signed with your SSH key.
    #[command(after_help = APPROVE_EXAMPLES)]
    Approve(ApproveArgs),
    /// Approval helpers: print the exact bytes an approval signs.
    #[command(after_help = APPROVAL_EXAMPLES)]
    Approval(ApprovalArgs),
    /// The pull-request gate: what changed between two revisions, and whether every promotion
    /// passes its gates.
    #[command(after_help = CHECK_EXAMPLES)]
    Check(CheckArgs),
    /// Data, prediction and concept drift: of two data sets, or of models from the registry.
    #[command(after_help = DRIFT_EXAMPLES)]
    Drift(Box<DriftArgs>),
    /// Fairness metrics across protected attributes.
    #[command(after_help = BIAS_EXAMPLES)]
    Bias(BiasArgs),
    /// Classification metrics of scores against labels.
    #[command(after_help = EVALUATE_EXAMPLES)]
    Evaluate(EvaluateArgs),
    /// A mergeable profile of one partition of current data against a reference.
    #[command(after_help = PROFILE_EXAMPLES)]
    Profile(ProfileArgs),
    /// Batch inference with ONNX Runtime, with lineage for every prediction.
    #[command(after_help = BATCH_EXAMPLES)]
    Batch(BatchArgs),
    /// Serve each model's champion (and the versions its aliases name) over HTTP from the
    /// registry at a committed revision, swapping in new revisions as a ref moves.
    #[command(after_help = SERVE_EXAMPLES)]
    Serve(ServeArgs),
    /// Apply the retention policy: a plan, or applied with --apply.
    #[command(after_help = RETIRE_EXAMPLES)]
    Retire(RetireArgs),
    /// Search versions across models with MLflow's filter grammar (plus OR and parentheses).
    #[command(after_help = SEARCH_EXAMPLES)]
    Search(SearchArgs),
    /// Lineage of a version or a prediction.
    #[command(after_help = LINEAGE_EXAMPLES)]
    Lineage(LineageArgs),
    /// Everything needed to rebuild a version: commit, environment, dataset, seed, run.
    #[command(after_help = REPRODUCE_EXAMPLES)]
    Reproduce(ReproduceArgs),
    /// Import models, versions and aliases from another registry (MLflow).
    #[command(after_help = IMPORT_EXAMPLES)]
    Import(ImportArgs),
    /// Split the models over CI jobs (a GitHub Actions matrix, JSON, or lines).
    #[command(after_help = PLAN_EXAMPLES)]
    Plan(PlanArgs),
    /// The static site: model cards, lineage, gates, drift and the audit trail.
    #[command(after_help = SITE_EXAMPLES)]
    Site(SiteArgs),
    /// One line per model: champion, challenger, primary metric, drift, bias.
    #[command(after_help = LIST_EXAMPLES)]
    List(ListArgs),
    /// A model (owner, task, aliases, versions) or one version (metrics, bias, lineage,
    /// inputs, artifact, approvals, audit).
    #[command(after_help = SHOW_EXAMPLES)]
    Show(ShowArgs),
    /// Compare two versions of a model: metrics, bias, lineage, inputs, artifact.
    #[command(after_help = DIFF_EXAMPLES)]
    Diff(DiffArgs),
    /// Remove the challenger alias, with its audit entry (the champion is replaced by
    /// promoting another version, never removed).
    #[command(after_help = DEMOTE_EXAMPLES)]
    Demote(DemoteArgs),
    /// Archive one version that holds no alias, with its audit entry.
    #[command(after_help = ARCHIVE_EXAMPLES)]
    Archive(ArchiveArgs),
    /// Print a shell completion script.
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions(CompletionsArgs),
    /// Write man pages: modelgate(1) and one per subcommand.
    #[command(after_help = MAN_EXAMPLES)]
    Man(ManArgs),
    /// ONNX Runtime, which batch scoring and evaluation load: install the pinned library, or
    /// say where it is and whether it loads.
    #[command(after_help = RUNTIME_EXAMPLES)]
    Runtime(RuntimeArgs),
    /// JSON Schemas of the registry's file kinds (for editors), from the loader's own types.
    #[command(after_help = SCHEMA_EXAMPLES)]
    Schema(SchemaArgs),
    /// Developer tools: synthetic registries for benchmarks.
    #[command(hide = true)]
    Dev(DevArgs),
}

impl Command {
    /// Whether the output asked for is JSON: then an error is printed as a JSON document on
    /// stdout as well (`{"error": {...}}`), so a program reading stdout always gets JSON.
    pub fn json_output(&self) -> bool {
        let is = |f: Format| f == Format::Json;
        let out = |f: OutputFormat| f == OutputFormat::Json;
        match self {
            Command::Init(a) => out(a.format),
            Command::New(a) => out(a.format),
            Command::Validate(a) => is(a.report.format),
            Command::Demo(_) => false,
            Command::Register(a) => out(a.format),
            Command::Promote(a) => out(a.format),
            Command::Approve(a) => out(a.format),
            Command::Approval(a) => out(a.format),
            Command::Check(a) => is(a.report.format),
            Command::Drift(a) => is(a.format),
            Command::Bias(a) => is(a.format),
            Command::Evaluate(a) => is(a.format),
            Command::Profile(a) => out(a.format),
            Command::Batch(a) => is(a.format),
            Command::Serve(a) => out(a.format),
            Command::Retire(a) => is(a.format),
            Command::Search(a) => is(a.format),
            Command::Lineage(a) => is(a.format),
            Command::Reproduce(a) => is(a.format),
            Command::Import(a) => out(a.format),
            Command::Plan(a) => a.format == PlanFormat::Json,
            Command::Site(a) => out(a.format),
            Command::Dev(a) => out(a.format),
            Command::List(a) => is(a.format),
            Command::Show(a) => is(a.format),
            Command::Diff(a) => is(a.format),
            Command::Demote(a) => out(a.format),
            Command::Archive(a) => out(a.format),
            Command::Runtime(a) => match &a.command {
                RuntimeCommand::Install(i) => out(i.format),
                RuntimeCommand::Status(st) => out(st.format),
            },
            Command::Schema(a) => a.format == SchemaFormat::Json,
            Command::Completions(_) | Command::Man(_) => false,
        }
    }
}

const INIT_EXAMPLES: &str = r#"EXAMPLES:
  modelgate init                     # in the repository's root
  modelgate init registry-repo && cd registry-repo && git init"#;

const NEW_EXAMPLES: &str = r#"EXAMPLES:
  modelgate new churn --owner growth@example.com --description "Customers likely to leave in 90 days"
  $EDITOR registry/models/churn/model.yaml model-cards/churn.md"#;

const VALIDATE_EXAMPLES: &str = r#"EXAMPLES:
  modelgate validate                         # the working tree
  modelgate validate --rev origin/main       # a commit, read from git
  modelgate validate --format github         # annotations in GitHub Actions"#;

const DEMO_EXAMPLES: &str = r#"EXAMPLES:
  modelgate demo                             # a new temporary folder, kept to look at
  modelgate demo --out /tmp/mg-demo --no-install"#;

const REGISTER_EXAMPLES: &str = r#"EXAMPLES:
  modelgate register churn --artifact model.onnx --evaluate eval.parquet --label churned
  modelgate register churn --artifact model.onnx --metrics metrics.json \
    --dataset data/train.parquet --snapshot snap_2024_07 --raw-data s3://lake/crm/2024-07 \
    --pipeline etl_churn_v3 --requirements requirements.txt --seed 7 --run-id run_123"#;

const PROMOTE_EXAMPLES: &str = r#"EXAMPLES:
  modelgate promote churn 3 --to challenger
  modelgate promote churn 3 --to champion    # the old champion is archived"#;

const APPROVE_EXAMPLES: &str = r#"EXAMPLES:
  modelgate approve churn 3 --alias champion --role compliance --key ~/.ssh/id_ed25519
  modelgate approve --governance registry/policy.yaml --base main --role compliance --key ~/.ssh/id_ed25519"#;

const APPROVAL_EXAMPLES: &str = r#"EXAMPLES:
  modelgate approval message registry/models/churn/approvals/v3-champion-compliance.yaml > msg
  ssh-keygen -Y sign -n modelgate-approval -f ~/.ssh/id_ed25519 msg"#;

const CHECK_EXAMPLES: &str = r#"EXAMPLES:
  modelgate check --base main               # HEAD against main, before pushing
  modelgate check --base "$BASE_SHA" --head "$HEAD_SHA" --format github --comment"#;

const DRIFT_EXAMPLES: &str = r#"EXAMPLES:
  modelgate drift --reference ref.parquet --current 'today/*.parquet'
  modelgate drift --model churn              # from the registry: model.yaml's monitoring:
  modelgate drift --all --shard 0/4 --open-issues"#;

const BIAS_EXAMPLES: &str = r#"EXAMPLES:
  modelgate bias --data scored.parquet --label churned --score score --sensitive sex,age_group
  modelgate bias --model churn --intersectional"#;

const EVALUATE_EXAMPLES: &str = r#"EXAMPLES:
  modelgate evaluate --data scored.parquet --label churned --score score
  modelgate evaluate --data scored.csv --label churned --score score --threshold 0.3 --format json"#;

const PROFILE_EXAMPLES: &str = r#"EXAMPLES:
  modelgate profile --reference ref.parquet --current 'part-00*.parquet' --out p0.json
  modelgate drift --profiles p0.json p1.json   # merged: one drift report of all parts"#;

const BATCH_EXAMPLES: &str = r#"EXAMPLES:
  modelgate batch churn@champion --input 'in/*.parquet' --output scored.parquet
  modelgate batch churn@v3 --input in.csv --output part-0.parquet --shard 0/4 --log"#;

const SERVE_EXAMPLES: &str = r#"EXAMPLES:
  modelgate serve                                  # every champion at HEAD on 127.0.0.1:8080
  modelgate serve --models heart_disease --listen 0.0.0.0:8080 --token-file /run/secrets/token
  modelgate serve --watch origin/main --poll-interval 10   # promotions reach the server
  curl -s localhost:8080/v1/models/heart_disease/predict -d '{"row": {"age": 63, "sex": "M"}}'"#;

const RETIRE_EXAMPLES: &str = r#"EXAMPLES:
  modelgate retire                           # the plan: what the retention policy would do
  modelgate retire --apply --delete-artifacts"#;

const SEARCH_EXAMPLES: &str = r#"EXAMPLES:
  modelgate search "metrics.roc_auc > 0.85 AND tags.framework = 'xgboost'"
  modelgate search "" --order-by 'metrics.roc_auc DESC' --max-results 10   # every version"#;

const LINEAGE_EXAMPLES: &str = r#"EXAMPLES:
  modelgate lineage churn@v3
  modelgate lineage 3f2a9c0e1b7d4e55 --in 'scored/*.parquet'   # one prediction"#;

const REPRODUCE_EXAMPLES: &str = r#"EXAMPLES:
  modelgate reproduce churn@champion
  modelgate reproduce churn@v3 --format json"#;

const IMPORT_EXAMPLES: &str = r#"EXAMPLES:
  modelgate import mlflow ./mlruns --dry-run
  modelgate import mlflow mlflow.db --model churn --copy-artifacts artifacts
  modelgate import mlflow ./mlruns --alias-map prod=champion,staging=challenger --strict
  modelgate import mlflow mlflow.db --artifacts-root ./mlartifacts   # mlflow-artifacts:/ sources"#;

const PLAN_EXAMPLES: &str = r#"EXAMPLES:
  modelgate plan --shards 8                  # a GitHub Actions matrix
  modelgate plan --shards 8 --format lines   # index<TAB>models, for Kubernetes Indexed Jobs"#;

const SITE_EXAMPLES: &str = r#"EXAMPLES:
  modelgate site build --out site && open site/index.html
  modelgate site build --base-url https://models.example.com --github-issues"#;

const RUNTIME_EXAMPLES: &str = r#"EXAMPLES:
  modelgate runtime install                  # the pinned ONNX Runtime, from PyPI
  modelgate runtime install --from ./onnxruntime-1.31.1-cp311-cp311-manylinux_2_28_x86_64.whl
  modelgate runtime status"#;

const SCHEMA_EXAMPLES: &str = r#"EXAMPLES:
  modelgate schema                           # the kinds
  modelgate schema version                   # one JSON Schema
  modelgate schema --out schemas             # refresh the schemas editors use"#;

/// `modelgate init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Output format: text, or one JSON document of what was done (errors too).
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Where to create the registry (created if missing).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

/// `modelgate new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// Output format: text, or one JSON document of what was done (errors too).
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
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
    /// How the report is shown.
    #[command(flatten)]
    pub report: ReportArgs,
}

/// What `validate` and `check` share: the report's format (with `github`, the Markdown report
/// is also appended to `$GITHUB_STEP_SUMMARY`) and whether local files are hashed.
#[derive(Debug, Args)]
pub struct ReportArgs {
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
    /// Do not install ONNX Runtime when it is not found (the sections that score models then
    /// say which command installs it).
    #[arg(long)]
    pub no_install: bool,
}

/// `modelgate runtime`.
#[derive(Debug, Args)]
pub struct RuntimeArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: RuntimeCommand,
}

/// `modelgate runtime` subcommands.
#[derive(Debug, Subcommand)]
pub enum RuntimeCommand {
    /// Download the pinned onnxruntime 1.31.1 wheel from the Python package index, check its
    /// sha256, and unpack only its shared library into modelgate's per-user data folder.
    Install(RuntimeInstallArgs),
    /// Where the ONNX Runtime library is, where its path came from, its version, and whether it
    /// loads (exit 1 when it does not).
    Status(RuntimeStatusArgs),
}

/// `modelgate runtime install`.
#[derive(Debug, Args)]
pub struct RuntimeInstallArgs {
    /// Install from a mirror URL or an already downloaded wheel file instead of
    /// files.pythonhosted.org (still checked against the pinned sha256). Default: the
    /// environment variable MODELGATE_ONNXRUNTIME_URL, else the pinned URL.
    #[arg(long, value_name = "URL|FILE")]
    pub from: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

/// `modelgate runtime status`.
#[derive(Debug, Args)]
pub struct RuntimeStatusArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
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
    /// How the report is shown.
    #[command(flatten)]
    pub report: ReportArgs,
    /// Judge as at this time (RFC 3339) instead of now, to replay history: signatures the pull
    /// request adds must be valid then.
    #[arg(long, value_name = "TIMESTAMP")]
    pub at: Option<String>,
    /// Post the Markdown report as one comment on the pull request, edited on later runs
    /// (needs GITHUB_TOKEN; without one, prints what it would send).
    #[arg(long)]
    pub comment: bool,
    /// The pull request (default: from GITHUB_EVENT_PATH or GITHUB_REF).
    #[arg(long, value_name = "N", requires = "comment")]
    pub pr: Option<u64>,
    /// The GitHub repository (default: GITHUB_REPOSITORY).
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo: Option<String>,
}

/// `modelgate promote`.
#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// Output format: text, or one JSON document of what was done (errors too).
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
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
    /// Output format: text, or one JSON document of what was done (errors too).
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// The model.
    #[arg(required_unless_present = "governance")]
    pub model: Option<String>,
    /// The version (`4` or `v4`).
    #[arg(value_name = "VERSION", required_unless_present = "governance")]
    pub model_version: Option<String>,
    /// The alias the approval is for.
    #[arg(long, required_unless_present = "governance")]
    pub alias: Option<String>,
    /// Approve a governance change instead: the new content of this file
    /// (registry/policy.yaml, registry/allowed_signers or a model's model.yaml), bound by its
    /// sha256; written under registry/governance/.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["model", "model_version", "alias"])]
    pub governance: Option<String>,
    /// With --governance: the revision the change is reviewed against (the pull request's
    /// base); the approval binds the file's content there.
    #[arg(
        long,
        value_name = "REV",
        default_value = "main",
        requires = "governance"
    )]
    pub base: String,
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
    /// Columns to compare (default: every column of the reference but the label, the timestamp
    /// and columns that look like identifiers).
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
    pub columns: Vec<String>,
    /// Columns to treat as categorical even when they hold numbers.
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
    pub categorical: Vec<String>,
    /// Plain files: the label column (default `label`), compared apart from the features
    /// (concept drift) rather than as one.
    #[arg(long, value_name = "COLUMN", requires = "reference")]
    pub label: Option<String>,
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
    pub method: Option<modelgate::monitor::drift::Method>,
    /// Override the test's threshold.
    #[arg(long)]
    pub threshold: Option<f64>,
    /// Correct p-values for the number of columns tested.
    #[arg(long, value_enum)]
    pub correction: Option<modelgate::monitor::drift::Correction>,
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
    /// The drift job's private SSH key: each result is signed with it (namespace
    /// `modelgate-monitoring`); the drift gate trusts only results signed by a key of the
    /// policy's `monitoring.role`.
    #[arg(long, value_name = "PATH", env = "MODELGATE_MONITORING_KEY")]
    pub sign_key: Option<std::path::PathBuf>,
    /// Exit 1 at or above this severity.
    #[arg(long, value_enum, default_value_t = FailOn::Alert)]
    pub fail_on: FailOn,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Open, update or close one GitHub issue per model at or above the `issue` severity
    /// (needs GITHUB_TOKEN; without one, prints what it would send).
    #[arg(long, requires = "all")]
    pub open_issues: bool,
    /// POST a JSON message to this webhook (e.g. Slack) for models at `alert` and above.
    #[arg(long, value_name = "URL")]
    pub notify_webhook: Option<String>,
    /// The GitHub repository (default: GITHUB_REPOSITORY).
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo: Option<String>,
    /// The site's URL, for links in issues (default: the repository's GitHub Pages URL).
    #[arg(long, value_name = "URL")]
    pub site_url: Option<String>,
}

/// `modelgate profile`.
#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// Output format: text, or one JSON document of what was done (errors too).
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
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

/// `modelgate serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The committed revision to serve (never uncommitted files); with --watch, the ref
    /// watched is served from the start.
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub rev: String,
    /// Address to listen on (`127.0.0.1:0` picks a free port; the address is printed).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// The models to serve, comma-separated (default: every model with a champion).
    #[arg(
        long,
        value_name = "A,B",
        value_delimiter = ',',
        conflicts_with = "all"
    )]
    pub models: Vec<String>,
    /// Serve every model with a champion (the default).
    #[arg(long)]
    pub all: bool,
    /// Poll this ref and swap in each new commit it names once it validates and loads.
    #[arg(long, value_name = "REF")]
    pub watch: Option<String>,
    /// Seconds between polls of --watch (SIGHUP polls at once).
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    pub poll_interval: f64,
    /// Folder of the prediction logs (`DIR/<model>/`; default: each model's monitoring folder,
    /// the folder of `monitoring.predictions`, else of `monitoring.current`).
    #[arg(long, value_name = "DIR")]
    pub log_dir: Option<std::path::PathBuf>,
    /// Rows in the live drift window of each model (drift share on /metrics and /v1/models).
    #[arg(long, value_name = "ROWS", default_value_t = 10_000)]
    pub live_window: usize,
    /// A file holding the bearer token that /v1/ requests must carry.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<std::path::PathBuf>,
    /// Decision threshold of `prediction`.
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f64,
    /// Largest request body, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20)]
    pub max_body_bytes: usize,
    /// Most rows in one request.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub max_rows: usize,
    /// Seconds a request may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub timeout: f64,
    /// Requests handled at once; more are refused with 503.
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub concurrency: usize,
    /// ONNX Runtime sessions per loaded version (default: the number of cores).
    #[arg(long, value_name = "N")]
    pub sessions: Option<usize>,
    /// Worker threads of the server (default: the number of cores).
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
    /// Output format of the first line (where it listens, the revision and the models): text,
    /// or one JSON document (errors too).
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
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
    /// Batch outputs to look for a prediction id in (path or glob). Default: every model's
    /// prediction log (`monitoring.predictions`, where `batch --log` and `serve` write).
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

/// Output of `schema` without a kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaFormat {
    /// One kind a line: name and where its files live.
    Text,
    /// A JSON array of `{"kind", "path", "yaml", "about", "schema_file"}`.
    Json,
    /// The key tables of docs/format.md, generated from the schemas (of KIND, or of every kind).
    Markdown,
}

/// `modelgate schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// The file kind whose schema to print (pretty JSON); without it, the kinds are listed.
    pub kind: Option<String>,
    /// Write every schema as `DIR/<kind>.schema.json` (atomically) instead of printing.
    #[arg(long, value_name = "DIR", conflicts_with = "kind")]
    pub out: Option<PathBuf>,
    /// Output format of the list of kinds (`markdown`: the key tables, also with KIND).
    #[arg(long, value_enum, default_value_t = SchemaFormat::Text)]
    pub format: SchemaFormat,
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
    /// Output format: text, or one JSON document of what was done (errors too).
    #[arg(long, value_enum, default_value_t = OutputFormat::Text, global = true)]
    pub format: OutputFormat,
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
    /// Output format: text, or one JSON document of what was done (errors too).
    #[arg(long, value_enum, default_value_t = OutputFormat::Text, global = true)]
    pub format: OutputFormat,
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

/// `modelgate register`.
#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// Output format: text, or one JSON document of what was done (errors too).
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// The model.
    pub model: String,
    /// The ONNX artifact (a local file; recorded relative to the repository).
    #[arg(long, value_name = "PATH")]
    pub artifact: PathBuf,
    /// Record this URI for the artifact (e.g. s3://…) instead of its path; the local file is
    /// still hashed and checked.
    #[arg(long, value_name = "URI")]
    pub artifact_uri: Option<String>,
    /// An explainer file (e.g. SHAP values).
    #[arg(long, value_name = "PATH")]
    pub explainer: Option<PathBuf>,
    /// Metrics: a JSON file ({"roc_auc": 0.85, …}) or `name=value` (repeatable).
    #[arg(long, num_args = 1.., value_name = "FILE.json|K=V")]
    pub metrics: Vec<String>,
    /// A hyperparameter `name=value` (repeatable).
    #[arg(long = "param", value_name = "K=V")]
    pub params: Vec<String>,
    /// A tag `name=value` (repeatable).
    #[arg(long = "tag", value_name = "K=V")]
    pub tags: Vec<String>,
    /// The training dataset (hashed, rows counted).
    #[arg(long, value_name = "PATH")]
    pub dataset: Option<PathBuf>,
    /// The dataset's snapshot name.
    #[arg(long, value_name = "NAME")]
    pub snapshot: Option<String>,
    /// Where the dataset's raw data came from (a URI or a description), for lineage.
    #[arg(long, value_name = "URI")]
    pub raw_data: Option<String>,
    /// The pipeline that made the dataset from the raw data (a name, URI or job), for lineage.
    #[arg(long, value_name = "NAME")]
    pub pipeline: Option<String>,
    /// A requirements or lock file: its `name==version` pins are recorded.
    #[arg(long, value_name = "FILE")]
    pub requirements: Option<PathBuf>,
    /// The Python version used for training.
    #[arg(long, value_name = "X.Y.Z")]
    pub python: Option<String>,
    /// The container image used for training.
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    /// The random seed.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// The training run's id.
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
    /// The experiment name.
    #[arg(long)]
    pub experiment: Option<String>,
    /// The code version (a tag or release name).
    #[arg(long, value_name = "VERSION")]
    pub code_version: Option<String>,
    /// The training code's repository (default: the current folder's).
    #[arg(long, value_name = "DIR")]
    pub code_dir: Option<PathBuf>,
    /// Record this commit instead of reading the code repository.
    #[arg(long, value_name = "SHA")]
    pub git_commit: Option<String>,
    /// Register even when the code repository has uncommitted changes, recording `dirty: true`.
    #[arg(long)]
    pub allow_dirty: bool,
    /// Compute metrics and bias numbers by scoring this labelled data with the artifact.
    #[arg(long, value_name = "DATA", requires = "label")]
    pub evaluate: Option<String>,
    /// The label column of --evaluate data.
    #[arg(long, value_name = "COLUMN", requires = "evaluate")]
    pub label: Option<String>,
    /// Decision threshold for --evaluate.
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f64,
    /// Who registers (default: git's user.email).
    #[arg(long)]
    pub actor: Option<String>,
    /// When (RFC 3339; default: now).
    #[arg(long, value_name = "TIMESTAMP")]
    pub at: Option<String>,
}

/// `modelgate reproduce`.
#[derive(Debug, Args)]
pub struct ReproduceArgs {
    /// The version: `model@v3`, `model@3` or `model@champion`.
    pub target: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `modelgate retire`.
#[derive(Debug, Args)]
pub struct RetireArgs {
    /// Judge as of this day (default: today, UTC).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub today: Option<String>,
    /// Write the changes and audit entries (default: print the plan).
    #[arg(long)]
    pub apply: bool,
    /// With --apply: also delete the local artifact files of versions past delete_after_days.
    #[arg(long, requires = "apply")]
    pub delete_artifacts: bool,
    /// Only these models (repeatable; default: all).
    #[arg(long, value_name = "MODEL")]
    pub model: Vec<String>,
    /// Who retires (default: git's user.email).
    #[arg(long)]
    pub actor: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `modelgate import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Output format: text, or one JSON document of what was done (errors too).
    #[arg(long, value_enum, default_value_t = OutputFormat::Text, global = true)]
    pub format: OutputFormat,
    /// Where from.
    #[command(subcommand)]
    pub source: ImportSource,
}

/// Registries modelgate imports from.
#[derive(Debug, Subcommand)]
pub enum ImportSource {
    /// An MLflow tracking store: an `mlruns/` folder or a SQLite database file.
    Mlflow {
        /// The `mlruns` folder or the `.db` file (or MLflow's URI: `sqlite:///mlflow.db`,
        /// relative; `sqlite:////abs/mlflow.db`, absolute).
        store: String,
        /// Only these registered models (MLflow names; repeatable).
        #[arg(long, value_name = "NAME")]
        model: Vec<String>,
        /// Show what would be written, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Copy each artifact (an ONNX file, or an MLflow model folder) into this repository
        /// folder (e.g. `artifacts`) and record that path, instead of MLflow's URI.
        #[arg(long, value_name = "DIR")]
        copy_artifacts: Option<String>,
        /// A folder outside the store that holds its artifacts (MLflow's
        /// `--default-artifact-root`, or a tracking server's `--artifacts-destination`, where
        /// `mlflow-artifacts:/…` sources are read) and may be read (repeatable). Without it, only
        /// files inside the store are read.
        #[arg(long, value_name = "DIR")]
        artifacts_root: Vec<std::path::PathBuf>,
        /// Who imports (default: git's user.email).
        #[arg(long)]
        actor: Option<String>,
        /// Map MLflow aliases to modelgate's (`prod=champion,staging=challenger`; repeatable).
        /// `champion` and `challenger` map to themselves.
        #[arg(long, value_name = "MLFLOW=ALIAS")]
        alias_map: Vec<String>,
        /// Refuse the whole import when anything is skipped (a deleted run or version, a version
        /// whose artifact is gone, anything the store records that does not read) instead of
        /// warning.
        #[arg(long)]
        strict: bool,
    },
}

/// `modelgate site`.
#[derive(Debug, Args)]
pub struct SiteArgs {
    /// Output format: text, or one JSON document of what was done (errors too).
    #[arg(long, value_enum, default_value_t = OutputFormat::Text, global = true)]
    pub format: OutputFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: SiteCommand,
}

/// Site commands.
#[derive(Debug, Subcommand)]
pub enum SiteCommand {
    /// Render the registry into a static site.
    Build {
        /// Output folder.
        #[arg(long, default_value = "site", value_name = "DIR")]
        out: PathBuf,
        /// The site's public URL, for canonical links and the sitemap (links stay relative).
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
        /// Write the build time into the pages (off: the same registry gives the same bytes).
        #[arg(long)]
        stamp: bool,
        /// Rebuild every page, even those whose inputs did not change.
        #[arg(long)]
        force: bool,
        /// Link each model page to its open drift issues, read from GitHub (GITHUB_TOKEN,
        /// GITHUB_REPOSITORY or --repo; without a token this is skipped with a note).
        #[arg(long)]
        github_issues: bool,
        /// The GitHub repository (default: GITHUB_REPOSITORY).
        #[arg(long, value_name = "OWNER/NAME")]
        repo: Option<String>,
    },
}

const LIST_EXAMPLES: &str = "\
EXAMPLES:
  modelgate list
  modelgate list --format json | jq '.[] | select(.drift == \"alert\")'";

/// `modelgate list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Output format (text or json).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

const SHOW_EXAMPLES: &str = "\
EXAMPLES:
  modelgate show heart_disease              # the model: owner, task, aliases, versions
  modelgate show heart_disease@champion     # the champion version, with approvals and audit
  modelgate show heart_disease@v4 --format json";

/// `modelgate show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// `model`, `model@champion`, `model@challenger` or `model@v4`.
    #[arg(value_name = "MODEL[@ALIAS|@vN]")]
    pub target: String,
    /// Output format (text or json).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

const DIFF_EXAMPLES: &str = "\
EXAMPLES:
  modelgate diff heart_disease v3 v4
  modelgate diff heart_disease 3 4 --format json";

/// `modelgate diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The model.
    pub model: String,
    /// The version compared from (`3` or `v3`).
    #[arg(value_name = "VERSION_A")]
    pub a: String,
    /// The version compared to.
    #[arg(value_name = "VERSION_B")]
    pub b: String,
    /// Output format (text or json).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

const DEMOTE_EXAMPLES: &str = "\
EXAMPLES:
  modelgate demote heart_disease --from challenger --reason \"evaluation stopped\"
  git add registry && git commit -m \"Stop evaluating heart_disease v4\"

The champion cannot be demoted: promote another version to champion instead
(`modelgate promote heart_disease 5 --to champion`), which archives the old one.";

/// `modelgate demote`.
#[derive(Debug, Args)]
pub struct DemoteArgs {
    /// Output format: text, or one JSON document of what was done (errors too).
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// The model.
    pub model: String,
    /// The alias to remove (only `challenger` can be removed).
    #[arg(long, value_name = "ALIAS")]
    pub from: String,
    /// Why, for the audit entry.
    #[arg(long)]
    pub reason: Option<String>,
    /// Who demotes (default: git's user.email).
    #[arg(long)]
    pub actor: Option<String>,
    /// When (RFC 3339; default: now).
    #[arg(long, value_name = "TIMESTAMP")]
    pub at: Option<String>,
}

const ARCHIVE_EXAMPLES: &str = "\
EXAMPLES:
  modelgate archive heart_disease v2 --reason \"superseded by v4\"
  git add registry && git commit -m \"Archive heart_disease v2\"

A version that holds an alias is refused: demote the challenger first, or promote another
version to champion.";

/// `modelgate archive`.
#[derive(Debug, Args)]
pub struct ArchiveArgs {
    /// Output format: text, or one JSON document of what was done (errors too).
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// The model.
    pub model: String,
    /// The version to archive (`2` or `v2`).
    #[arg(value_name = "VERSION")]
    pub model_version: String,
    /// Why, for the audit entry.
    #[arg(long)]
    pub reason: Option<String>,
    /// Who archives (default: git's user.email).
    #[arg(long)]
    pub actor: Option<String>,
    /// When (RFC 3339; default: now).
    #[arg(long, value_name = "TIMESTAMP")]
    pub at: Option<String>,
}

const COMPLETIONS_EXAMPLES: &str = "\
EXAMPLES:
  modelgate completions bash > ~/.local/share/bash-completion/completions/modelgate
  modelgate completions zsh > \"${fpath[1]}/_modelgate\"
  modelgate completions fish > ~/.config/fish/completions/modelgate.fish";

/// `modelgate completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

const MAN_EXAMPLES: &str = "\
EXAMPLES:
  modelgate man --out man && man -l man/modelgate.1
  sudo modelgate man --out /usr/local/share/man/man1";

/// `modelgate man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// The folder to write modelgate.1 and modelgate-<command>.1 into (created if missing).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out: PathBuf,
}
