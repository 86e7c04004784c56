//! The file formats of a registry repository, as serde types.
//!
//! Every struct denies unknown keys, so a typo is an error with a did-you-mean hint rather than
//! a silently ignored setting. Values that later checks point at keep their span
//! ([`Spanned`]).

use super::types::{Alias, CommitId, ModelName, Sha256, Timestamp};
use crate::yaml::Spanned;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `registry/policy.yaml`: defaults for every model.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Gates per alias: what moving that alias requires.
    #[serde(default)]
    pub gates: BTreeMap<Alias, GateConfig>,
    /// Principals (as in allowed_signers) that hold each role.
    #[serde(default)]
    pub roles: BTreeMap<String, Vec<Spanned<String>>>,
    /// Drift severities.
    #[serde(default)]
    pub drift: Option<DriftPolicy>,
    /// Retention of versions and artifacts.
    #[serde(default)]
    pub retention: Option<Retention>,
    /// Whether every commit touching `registry/` must be SSH-signed by an allowed signer.
    #[serde(default)]
    pub require_signed_commits: Option<bool>,
    /// Who must approve a governance change (this file, allowed_signers, or what in a
    /// model.yaml decides gates or predictions). Absent: the roles the champion gate requires,
    /// or every role when that requires none.
    #[serde(default)]
    pub governance: Option<ApprovalsGate>,
    /// Whether the approvals of one promotion or governance change must come from as many
    /// different principals as there are roles (one person cannot fill two roles).
    #[serde(default)]
    pub distinct_principals: Option<bool>,
    /// Who signs monitoring results, whose severity the drift gate reads.
    #[serde(default)]
    pub monitoring: Option<MonitoringPolicy>,
}

/// `monitoring: {role: drift_job}` in policy.yaml.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MonitoringPolicy {
    /// The role whose principals' keys sign monitoring results (namespace
    /// `modelgate-monitoring`).
    pub role: Spanned<String>,
}

/// The gates for moving one alias. Every field is optional so that a model can override one
/// threshold and inherit the rest.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GateConfig {
    /// The metric the improvement gate compares.
    #[serde(default)]
    pub primary_metric: Option<Spanned<String>>,
    /// Absolute improvement required over the current holder of the alias.
    #[serde(default)]
    pub min_improvement: Option<Spanned<f64>>,
    /// Metrics that may not fall below a ratio of the current holder's.
    #[serde(default)]
    pub stability: Option<StabilityGate>,
    /// Fairness thresholds on the version's bias numbers.
    #[serde(default)]
    pub bias: Option<BiasGate>,
    /// Whether drift of the current champion blocks.
    #[serde(default)]
    pub drift: Option<DriftGate>,
    /// Roles that must sign an approval.
    #[serde(default)]
    pub approvals: Option<ApprovalsGate>,
}

/// `stability: {metrics: [...], min_ratio: 0.95}`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StabilityGate {
    /// Metrics compared.
    pub metrics: Vec<String>,
    /// Each must be at least this ratio of the current holder's value.
    pub min_ratio: Spanned<f64>,
}

/// `bias: {warn_at: 0.10, block_at: 0.15}`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BiasGate {
    /// Disparity at or above which the gate warns.
    pub warn_at: Spanned<f64>,
    /// Disparity above which the gate blocks.
    pub block_at: Spanned<f64>,
}

/// `drift: {block_if_champion_drifting: true}`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DriftGate {
    /// Block a promotion while the current champion drifts at `alert` or above.
    pub block_if_champion_drifting: bool,
}

/// `approvals: {roles: [...]}`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalsGate {
    /// Every one of these roles must approve.
    pub roles: Vec<Spanned<String>>,
}

/// `drift: {severity: {issue: 0.10, alert: 0.25, retrain: 0.50}}`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DriftPolicy {
    /// Drift-share thresholds (strictly above each).
    pub severity: SeverityThresholds,
}

/// Drift-share thresholds of the three severities.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeverityThresholds {
    /// Open an issue above this share.
    pub issue: Spanned<f64>,
    /// Alert (and block promotions) above this share.
    pub alert: Spanned<f64>,
    /// Request retraining above this share.
    pub retrain: Spanned<f64>,
}

/// `retention: {...}` in days.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    /// Archive a version that has held no alias for this long.
    pub archive_after_days: Spanned<u32>,
    /// Keep former champions this long.
    pub champion_history_days: Spanned<u32>,
    /// List artifacts of versions older than this for deletion.
    pub delete_after_days: Spanned<u32>,
}

/// `policy:` in model.yaml: overrides of policy.yaml for one model.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyOverride {
    /// Gate overrides, merged field by field over the defaults.
    #[serde(default)]
    pub gates: BTreeMap<Alias, GateConfig>,
    /// Replaces the drift severities.
    #[serde(default)]
    pub drift: Option<DriftPolicy>,
    /// Replaces the retention settings.
    #[serde(default)]
    pub retention: Option<Retention>,
}

/// What a model predicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Two classes; the score is the probability of the positive class.
    BinaryClassification,
    /// More than two classes.
    MulticlassClassification,
    /// A number.
    Regression,
}

/// The kind of a feature column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FeatureType {
    /// A number.
    Numerical,
    /// One of a list of categories, encoded as its index in `categories`.
    Categorical,
}

/// One input feature; the list order is the model's input tensor order.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Feature {
    /// Column name.
    pub name: String,
    /// Numerical or categorical.
    #[serde(rename = "type")]
    pub kind: FeatureType,
    /// For categorical features: the categories, whose index is the encoding.
    #[serde(default)]
    pub categories: Option<Vec<String>>,
}

/// Where monitoring jobs find data.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Monitoring {
    /// The reference (training-distribution) data.
    pub reference: Spanned<String>,
    /// The current data (a path or glob) the drift job compares with the reference.
    pub current: Spanned<String>,
    /// The scored inference log (a path or glob): `batch --log` and `serve` write into its
    /// folder, `bias --model` reads it and `lineage` searches it. Without it, all use `current`.
    #[serde(default)]
    pub predictions: Option<Spanned<String>>,
    /// The timestamp column the window is taken on.
    #[serde(default)]
    pub timestamp: Option<String>,
    /// The window of the drift job, in days.
    #[serde(default)]
    pub window_days: Option<u32>,
    /// The score column (default `score`): prediction drift compares it when both the
    /// reference and the current data have it.
    #[serde(default)]
    pub score: Option<String>,
}

impl Monitoring {
    /// The path or glob of the scored inference log: `predictions`, else `current`.
    pub fn inference_log(&self) -> &str {
        self.predictions
            .as_ref()
            .unwrap_or(&self.current)
            .value
            .as_str()
    }

    /// The key the inference log is set under (for messages).
    pub fn inference_log_key(&self) -> &'static str {
        if self.predictions.is_some() {
            "monitoring.predictions"
        } else {
            "monitoring.current"
        }
    }
}

/// `serving:` in model.yaml: how `modelgate serve` answers requests for the model.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Serving {
    /// Traffic weights of the champion and the challenger (integers 0..100 summing to 100).
    /// Absent: the champion answers every request.
    #[serde(default)]
    pub split: Option<Split>,
    /// What keeps one caller on one version: a field of the request row or a request header.
    /// Absent: each request is routed at random by the weights.
    #[serde(default)]
    pub sticky: Option<Sticky>,
    /// Also score the challenger on requests the champion answers and log it, returning only
    /// the champion's answer.
    #[serde(default)]
    pub shadow: Option<bool>,
}

impl Serving {
    /// The champion's and the challenger's weights in percent: the split's, else 100/0.
    pub fn weights(&self) -> (u32, u32) {
        self.split
            .as_ref()
            .map(|s| (s.champion.value, s.challenger.value))
            .unwrap_or((100, 0))
    }

    /// Whether anything but the champion is ever scored: a challenger weight or shadow.
    pub fn uses_challenger(&self) -> bool {
        self.weights().1 > 0 || self.shadow == Some(true)
    }

    /// What makes the section unusable, each with where it is written: weights that are not
    /// whole percents 0..=100 summing to 100, a `sticky` naming neither or both of `field` and
    /// `header`, or an empty one. `validate` reports these (MG021) and the router refuses them.
    pub fn problems(&self) -> Vec<(Option<crate::yaml::Span>, String)> {
        let mut out = Vec::new();
        if let Some(s) = &self.split {
            for (name, w) in [("champion", &s.champion), ("challenger", &s.challenger)] {
                if w.value > 100 {
                    out.push((
                        Some(w.span),
                        format!(
                            "serving.split.{name} is {}, expected a percent 0..100",
                            w.value
                        ),
                    ));
                }
            }
            let sum = u64::from(s.champion.value) + u64::from(s.challenger.value);
            if sum != 100 {
                out.push((
                    Some(s.champion.span),
                    format!(
                        "serving.split weights sum to {sum} (champion {} + challenger {}), expected 100",
                        s.champion.value, s.challenger.value
                    ),
                ));
            }
        }
        if let Some(k) = &self.sticky {
            match (&k.field, &k.header) {
                (None, None) => out.push((
                    None,
                    "serving.sticky names neither a `field` nor a `header`; expected exactly one"
                        .into(),
                )),
                (Some(f), Some(_)) => out.push((
                    Some(f.span),
                    "serving.sticky names both a `field` and a `header`; expected exactly one"
                        .into(),
                )),
                (Some(v), None) | (None, Some(v)) if v.value.trim().is_empty() => out.push((
                    Some(v.span),
                    "serving.sticky names an empty field or header".into(),
                )),
                (None, Some(h)) => {
                    let token =
                        |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
                    let lower = h.value.to_ascii_lowercase();
                    if !h.value.chars().all(token) {
                        out.push((
                            Some(h.span),
                            format!(
                                "serving.sticky.header `{}` is not an HTTP header name (letters, digits and !#$%&'*+-.^_`|~ only): no request could carry it, so the split would never be sticky",
                                h.value.escape_debug()
                            ),
                        ));
                    } else if ["authorization", "proxy-authorization", "cookie"]
                        .contains(&lower.as_str())
                    {
                        out.push((
                            Some(h.span),
                            format!(
                                "serving.sticky.header `{}` carries credentials, and the sticky key is written into the prediction log; expected a header that names the caller, such as X-Patient-Id",
                                h.value
                            ),
                        ));
                    }
                }
                _ => {}
            }
        }
        out
    }
}

/// `split: {champion: 90, challenger: 10}`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Split {
    /// Percent of requests the champion answers.
    #[schemars(range(max = 100))]
    pub champion: Spanned<u32>,
    /// Percent of requests the challenger answers.
    #[schemars(range(max = 100))]
    pub challenger: Spanned<u32>,
}

/// `sticky: {field: patient_id}` or `sticky: {header: X-Patient-Id}`: exactly one of the two.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sticky {
    /// A field of the request row whose value keys the split.
    #[serde(default)]
    pub field: Option<Spanned<String>>,
    /// A request header whose value keys the split.
    #[serde(default)]
    pub header: Option<Spanned<String>>,
}

/// `registry/models/<model>/model.yaml`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Must equal the folder name.
    #[schemars(with = "ModelName")]
    pub name: Spanned<String>,
    /// One line on what the model does.
    pub description: String,
    /// Who is responsible.
    pub owner: String,
    /// What it predicts.
    pub task: Task,
    /// Input features, in tensor order.
    #[serde(default)]
    pub features: Vec<Feature>,
    /// Columns fairness is measured across.
    #[serde(default)]
    pub protected_attributes: Vec<String>,
    /// The label column.
    #[serde(default)]
    pub label: Option<String>,
    /// Data for the monitoring jobs.
    #[serde(default)]
    pub monitoring: Option<Monitoring>,
    /// Overrides of policy.yaml.
    #[serde(default)]
    pub policy: Option<PolicyOverride>,
    /// How `modelgate serve` splits traffic between the champion and the challenger.
    #[serde(default)]
    pub serving: Option<Serving>,
    /// Free-form tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl ModelSpec {
    /// The sha256 of the model's input schema: the task, the label and the features in order
    /// with their types and categories — everything in model.yaml that decides what a version
    /// predicts from a row. Computed here only; approvals bind it.
    pub fn inputs_sha256(&self) -> Sha256 {
        let features: Vec<serde_json::Value> = self
            .features
            .iter()
            .map(|f| serde_json::json!([f.name, f.kind, f.categories]))
            .collect();
        // Arrays only: their order is the content, and no map-key order can vary.
        let canonical = serde_json::json!(["modelgate-inputs-1", self.task, self.label, features]);
        Sha256::of(canonical.to_string().as_bytes())
    }
}

/// A file the registry refers to by location and digest.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileRef {
    /// A repository-relative path, or a URI with a scheme (`s3://…`).
    pub uri: Spanned<String>,
    /// Its sha256.
    pub sha256: Spanned<Sha256>,
}

/// The format of a model artifact: ONNX, or the MLflow flavor of a model imported from MLflow
/// (`import mlflow` reads it from the model's `MLmodel` file). Only ONNX is ever loaded
/// (`batch`, `register --evaluate`): modelgate never unpickles anything; the other formats are
/// recorded, hashed and governed like ONNX, but not run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ArtifactFormat {
    /// ONNX. modelgate never unpickles anything.
    #[default]
    Onnx,
    /// An MLflow `sklearn` model (a pickle, cloudpickle or skops file, with its MLmodel).
    Sklearn,
    /// An MLflow `xgboost` model.
    Xgboost,
    /// An MLflow `lightgbm` model.
    Lightgbm,
    /// An MLflow `catboost` model.
    Catboost,
    /// An MLflow `pytorch` model.
    Pytorch,
    /// An MLflow `tensorflow` model.
    Tensorflow,
    /// An MLflow `keras` model.
    Keras,
    /// An MLflow `statsmodels` model.
    Statsmodels,
    /// An MLflow `spark` model.
    Spark,
    /// An MLflow `transformers` model.
    Transformers,
    /// Any other MLflow model: a `python_function` (pyfunc) flavor.
    Pyfunc,
}

impl ArtifactFormat {
    /// Every format, in the schema's order.
    pub const ALL: [ArtifactFormat; 12] = [
        Self::Onnx,
        Self::Sklearn,
        Self::Xgboost,
        Self::Lightgbm,
        Self::Catboost,
        Self::Pytorch,
        Self::Tensorflow,
        Self::Keras,
        Self::Statsmodels,
        Self::Spark,
        Self::Transformers,
        Self::Pyfunc,
    ];

    /// The name the files use (`onnx`, `sklearn`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::Onnx => "onnx",
            Self::Sklearn => "sklearn",
            Self::Xgboost => "xgboost",
            Self::Lightgbm => "lightgbm",
            Self::Catboost => "catboost",
            Self::Pytorch => "pytorch",
            Self::Tensorflow => "tensorflow",
            Self::Keras => "keras",
            Self::Statsmodels => "statsmodels",
            Self::Spark => "spark",
            Self::Transformers => "transformers",
            Self::Pyfunc => "pyfunc",
        }
    }

    /// The format of an MLflow flavor name (`python_function` is `pyfunc`).
    pub fn from_flavor(flavor: &str) -> Option<Self> {
        let f = if flavor == "python_function" {
            "pyfunc"
        } else {
            flavor
        };
        Self::ALL.into_iter().find(|x| x.name() == f)
    }

    /// An error for a command that runs models (`batch`, `register --evaluate`) when `what`
    /// (a version, a file) is not ONNX: it says so, and how to convert it.
    pub fn require_onnx(self, command: &str, what: &str) -> anyhow::Result<()> {
        if self == Self::Onnx {
            return Ok(());
        }
        anyhow::bail!(
            "{what} is a {self} model, and `{command}` runs ONNX models only (modelgate never unpickles anything): {}, then register the .onnx file with `modelgate register`",
            self.onnx_hint()
        )
    }

    /// How to make an ONNX model of this format, for the commands that run a model.
    pub fn onnx_hint(self) -> &'static str {
        match self {
            Self::Onnx => "",
            Self::Sklearn => "convert it with skl2onnx (`skl2onnx.to_onnx(model, X[:1])`)",
            Self::Xgboost | Self::Lightgbm | Self::Catboost => {
                "convert it with onnxmltools (`onnxmltools.convert_xgboost` / `convert_lightgbm`, or CatBoost's own `save_model(format=\"onnx\")`)"
            }
            Self::Pytorch => "export it with `torch.onnx.export`",
            Self::Tensorflow | Self::Keras => "convert it with tf2onnx",
            _ => "export it to ONNX with the converter of its library",
        }
    }
}

impl std::fmt::Display for ArtifactFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// `artifact: {uri, sha256, format}`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    /// Where the artifact is.
    pub uri: Spanned<String>,
    /// Its sha256.
    pub sha256: Spanned<Sha256>,
    /// Its format.
    pub format: ArtifactFormat,
}

/// `training.dataset`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dataset {
    /// Where the training data is.
    pub uri: Spanned<String>,
    /// Its sha256, when known.
    #[serde(default)]
    pub sha256: Option<Spanned<Sha256>>,
    /// A snapshot name in the feature store.
    #[serde(default)]
    pub snapshot: Option<String>,
    /// Number of rows.
    #[serde(default)]
    pub rows: Option<u64>,
}

/// `training.environment`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// Python version.
    #[serde(default)]
    pub python: Option<String>,
    /// Container image.
    #[serde(default)]
    pub image: Option<String>,
    /// Package versions.
    #[serde(default)]
    pub packages: BTreeMap<String, String>,
}

/// `training`: everything needed to reproduce the version.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Training {
    /// Experiment-tracker run id.
    #[serde(default)]
    pub run_id: Option<String>,
    /// Experiment name.
    #[serde(default)]
    pub experiment: Option<String>,
    /// Commit of the training code.
    #[serde(default)]
    pub git_commit: Option<Spanned<CommitId>>,
    /// Whether that working tree had uncommitted changes.
    #[serde(default)]
    pub dirty: Option<bool>,
    /// Release of the training code.
    #[serde(default)]
    pub code_version: Option<String>,
    /// Random seed.
    #[serde(default)]
    pub random_seed: Option<u64>,
    /// Training data.
    #[serde(default)]
    pub dataset: Option<Dataset>,
    /// Where the raw data came from.
    #[serde(default)]
    pub raw_data: Option<String>,
    /// The pipeline that made the dataset.
    #[serde(default)]
    pub pipeline: Option<String>,
    /// Software environment.
    #[serde(default)]
    pub environment: Option<Environment>,
}

/// Fairness numbers of one protected attribute: max − min across its groups.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BiasNumbers {
    /// Selection-rate difference.
    #[serde(default)]
    pub demographic_parity: Option<f64>,
    /// True-positive-rate difference.
    #[serde(default)]
    pub equal_opportunity: Option<f64>,
    /// Precision difference.
    #[serde(default)]
    pub predictive_parity: Option<f64>,
    /// Max of the TPR and FPR differences.
    #[serde(default)]
    pub equalized_odds: Option<f64>,
    /// The rates of each group these differences come from (optional; `register --evaluate`
    /// writes them). `validate` checks that they agree with the differences above.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Groups>,
}

impl BiasNumbers {
    /// The largest of the recorded differences (the four the bias gate reads); `None` when
    /// none is recorded or one is not a finite number.
    pub fn worst(&self) -> Option<f64> {
        let all = [
            self.demographic_parity,
            self.equal_opportunity,
            self.predictive_parity,
            self.equalized_odds,
        ];
        if all.iter().flatten().any(|x| !x.is_finite()) {
            return None;
        }
        all.into_iter().flatten().max_by(f64::total_cmp)
    }
}

/// The groups of one attribute in the file's order. A list, not a map: a tree map's node holds
/// room for eleven entries, and a thousand models × 20 versions × a few attributes of two or
/// three groups each would spend tens of megabytes on that room.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Groups(pub Vec<(String, GroupRates)>);

impl Groups {
    pub fn iter(&self) -> impl Iterator<Item = (&String, &GroupRates)> {
        self.0.iter().map(|(g, r)| (g, r))
    }

    pub fn values(&self) -> impl Iterator<Item = &GroupRates> {
        self.0.iter().map(|(_, r)| r)
    }
}

impl Serialize for Groups {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (g, r) in &self.0 {
            m.serialize_entry(g, r)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Groups {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Groups;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map from each group to its rates")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Groups, A::Error> {
                let mut v = Vec::with_capacity(a.size_hint().unwrap_or(0));
                while let Some((g, r)) = a.next_entry::<String, GroupRates>()? {
                    v.push((g, r));
                }
                Ok(Groups(v))
            }
        }
        d.deserialize_map(V)
    }
}

/// Groups are a map from each group's name to its rates.
impl JsonSchema for Groups {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Groups".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let rates = generator.subschema_for::<GroupRates>();
        schemars::json_schema!({
            "type": "object",
            "description": "The rates of each group, by group name.",
            "additionalProperties": rates,
        })
    }
}

/// One group of a protected attribute, as `modelgate bias` reports it.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupRates {
    /// Rows of the evaluation data in the group.
    #[serde(default)]
    pub count: Option<u64>,
    /// Share predicted positive.
    #[serde(default)]
    pub selection_rate: Option<f64>,
    /// True-positive rate.
    #[serde(default)]
    pub tpr: Option<f64>,
    /// False-positive rate.
    #[serde(default)]
    pub fpr: Option<f64>,
    /// Precision (0 when nothing is predicted positive).
    #[serde(default)]
    pub precision: Option<f64>,
}

/// `registry/models/<model>/versions/v<N>.yaml`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionSpec {
    /// Must equal the N of the file name.
    pub version: Spanned<u32>,
    /// When it was registered.
    pub created_at: Timestamp,
    /// Who registered it.
    pub created_by: String,
    /// The model artifact.
    pub artifact: Artifact,
    /// An explainer artifact (e.g. SHAP values).
    #[serde(default)]
    pub explainer: Option<FileRef>,
    /// Lineage and reproducibility.
    #[serde(default)]
    pub training: Option<Training>,
    /// Hyperparameters.
    #[serde(default)]
    pub hyperparameters: BTreeMap<String, serde_json::Value>,
    /// Evaluation metrics.
    #[serde(default)]
    pub metrics: BTreeMap<String, Spanned<f64>>,
    /// Fairness numbers per protected attribute.
    #[serde(default)]
    pub bias: BTreeMap<String, Spanned<BiasNumbers>>,
    /// Free-form tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Set when the version was archived.
    #[serde(default)]
    pub archived_at: Option<Spanned<Timestamp>>,
    /// Set when the version's artifact was purged by retention.
    #[serde(default)]
    pub deleted_at: Option<Timestamp>,
}

/// The statement an approval signs.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// The model.
    #[schemars(with = "ModelName")]
    pub model: Spanned<String>,
    /// The version.
    pub version: Spanned<u32>,
    /// The alias it may move to.
    pub alias: Spanned<Alias>,
    /// sha256 of the bytes of the version file.
    pub version_sha256: Spanned<Sha256>,
    /// sha256 of the artifact.
    pub artifact_sha256: Spanned<Sha256>,
    /// sha256 of the model's input schema when approved ([`ModelSpec::inputs_sha256`]): the
    /// task, label and features with their order and categories, which decide what the version
    /// predicts but live in the mutable model.yaml. Absent only in approvals made before it
    /// was bound; those no longer count for a new promotion.
    #[serde(default)]
    pub inputs_sha256: Option<Spanned<Sha256>>,
    /// The role the principal approves in.
    pub role: Spanned<String>,
    /// Who approves.
    pub principal: Spanned<String>,
    /// When.
    pub approved_at: Spanned<Timestamp>,
}

/// `approvals/v<N>-<alias>-<role>-<principal>.yaml`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalFile {
    /// What is approved.
    pub statement: Statement,
    /// An armored OpenSSH SSHSIG over the canonical JSON of the statement.
    pub signature: Spanned<String>,
}

/// The statement a governance approval signs: one role's consent to one new content of a file
/// that sets the rules (policy.yaml, allowed_signers, a model.yaml).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GovernanceStatement {
    /// The repository path of the file changed.
    pub file: Spanned<String>,
    /// sha256 of the file's new bytes.
    pub sha256: Spanned<Sha256>,
    /// sha256 of the bytes it replaces (the base the approver reviewed the change against);
    /// `null` for a new file. An approval counts only against that base, so it cannot be
    /// replayed later to undo a change made since.
    #[serde(default)]
    pub base_sha256: Option<Spanned<Sha256>>,
    /// The role the principal approves in.
    pub role: Spanned<String>,
    /// Who approves.
    pub principal: Spanned<String>,
    /// When.
    pub approved_at: Spanned<Timestamp>,
}

/// `registry/governance/<sha256 prefix>-<role>-<principal>.yaml`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GovernanceApprovalFile {
    /// What is approved.
    pub statement: GovernanceStatement,
    /// An armored OpenSSH SSHSIG over the canonical JSON of the statement.
    pub signature: Spanned<String>,
}

/// `registry/models/<model>/monitoring/<YYYY-MM-DD>.yaml`: one result of the drift job, written
/// and signed by `modelgate drift` (the detached signature `<YYYY-MM-DD>.yaml.sig` covers every
/// byte, so the file is never edited by hand). The drift gate reads `model`, `version`, `date`,
/// `computed_at` and `severity`; the rest is the job's evidence for people.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MonitoringResult {
    /// The model (its folder name).
    #[schemars(with = "ModelName")]
    pub model: String,
    /// The champion version monitored.
    pub version: u32,
    /// The day of the result (the last day of the data window); the file is named after it.
    #[schemars(regex(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))]
    pub date: String,
    /// When the job computed it; the latest result is the one with the greatest `computed_at`.
    pub computed_at: Timestamp,
    /// The first and last timestamp of the current data.
    #[serde(default)]
    pub window: Option<MonitoringWindow>,
    /// Rows read.
    pub rows: MonitoringRows,
    /// Drifted columns / columns.
    pub drift_share: f64,
    /// Whether the share reaches 0.5.
    pub dataset_drift: bool,
    /// The severity from the policy's `drift.severity` thresholds.
    pub severity: super::types::Severity,
    /// The drift of each feature.
    pub columns: Vec<MonitoringColumn>,
    /// Prediction drift (the score column).
    #[serde(default)]
    pub prediction: Option<MonitoringPrediction>,
    /// Concept drift: the primary metric on labelled current data against the recorded one.
    #[serde(default)]
    pub concept: Option<MonitoringConcept>,
    /// The data files read, with their sha256.
    pub inputs: Vec<MonitoringInput>,
}

/// `window: {from, to}` of a monitoring result.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MonitoringWindow {
    /// The first timestamp.
    pub from: Timestamp,
    /// The last timestamp.
    pub to: Timestamp,
}

/// `rows: {reference, current}` of a monitoring result.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MonitoringRows {
    /// Reference rows.
    pub reference: u64,
    /// Current rows.
    pub current: u64,
}

/// One feature's drift in a monitoring result.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MonitoringColumn {
    /// The column.
    pub column: String,
    /// Numerical or categorical.
    pub kind: crate::monitor::data::Kind,
    /// The deciding test.
    pub method: crate::monitor::drift::Method,
    /// Its threshold.
    pub threshold: f64,
    /// Its score (a p-value or a distance).
    pub score: f64,
    /// Whether the column drifted.
    pub drifted: bool,
}

/// `prediction:` of a monitoring result: the drift of the score column.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MonitoringPrediction {
    /// The score column.
    pub column: String,
    /// The deciding test.
    pub method: crate::monitor::drift::Method,
    /// Its threshold.
    pub threshold: f64,
    /// Its score.
    pub score: f64,
    /// Whether the predictions drifted.
    pub drifted: bool,
}

/// `concept:` of a monitoring result.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MonitoringConcept {
    /// The metric compared (the champion gate's primary metric).
    pub metric: String,
    /// Labelled current rows.
    pub rows: u64,
    /// The metric on the current data (null without labels).
    pub current: Option<f64>,
    /// The metric recorded in the version file.
    pub recorded: Option<f64>,
    /// recorded − current.
    pub drop: Option<f64>,
    /// Whether the drop exceeds the allowed one.
    pub drifted: bool,
}

/// One input file of a monitoring result.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MonitoringInput {
    /// Repository-relative path.
    pub file: String,
    /// Its sha256.
    pub sha256: Sha256,
}
