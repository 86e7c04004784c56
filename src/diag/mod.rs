//! One diagnostic type for every problem a user can cause.
//!
//! A YAML typo, a digest that does not match, a broken audit chain and (later) a gate that blocks
//! all become a [`Diagnostic`]: a stable code, a severity, the file, line and column, a message
//! and a hint. Renderers in `render.rs` turn the same list into terminal text, JSON, Markdown
//! and GitHub workflow annotations, so every command reports the same way.

pub mod render;

use crate::yaml::Span;
use serde::Serialize;
use std::fmt;

/// How bad a diagnostic is. Errors make `validate` exit 1; warnings and notes do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Something to fix before merging.
    Error,
    /// Worth a look; does not fail the run.
    Warning,
    /// Information.
    Note,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        })
    }
}

macro_rules! codes {
    ($($variant:ident = $code:literal, $slug:literal, $doc:literal;)*) => {
        /// Stable diagnostic codes. Codes are never reused or renumbered; `docs/diagnostics.md`
        /// lists them all.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $(#[doc = $doc] $variant,)*
        }

        impl Code {
            /// The code as printed: `MG006`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            /// A short kebab-case name: `unknown-key`.
            pub fn slug(self) -> &'static str {
                match self { $(Code::$variant => $slug,)* }
            }

            /// One sentence on what the code means.
            pub fn describe(self) -> &'static str {
                match self { $(Code::$variant => $doc,)* }
            }

            /// Every code, in order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];
        }
    };
}

codes! {
    Io = "MG001", "io", "A file or folder could not be read.";
    YamlSyntax = "MG002", "yaml-syntax", "The file is not valid YAML (or uses YAML features the registry refuses: anchors, aliases, custom tags, several documents).";
    NotUtf8 = "MG003", "not-utf8", "The file is not UTF-8 text.";
    TooLarge = "MG004", "too-large", "The file is larger than a registry file may be.";
    DuplicateKey = "MG005", "duplicate-key", "A key appears twice in one mapping.";
    UnknownKey = "MG006", "unknown-key", "A key the schema does not know (often a typo).";
    MissingKey = "MG007", "missing-key", "A required key is absent.";
    WrongType = "MG008", "wrong-type", "A value has the wrong type.";
    InvalidValue = "MG009", "invalid-value", "A value has the right type but is not acceptable.";
    InvalidModelName = "MG010", "invalid-model-name", "A model name does not match ^[a-z][a-z0-9_]{0,63}$.";
    VersionMismatch = "MG011", "version-mismatch", "A version file's name and its `version:` disagree.";
    AliasMissingVersion = "MG012", "alias-missing-version", "An alias points at a version that does not exist.";
    AliasArchivedVersion = "MG013", "alias-archived-version", "An alias points at an archived or deleted version.";
    DigestMismatch = "MG014", "digest-mismatch", "A file's bytes do not match the sha256 recorded for it.";
    MissingFile = "MG015", "missing-file", "A file that the registry refers to does not exist.";
    AuditMalformed = "MG016", "audit-malformed", "An audit log line is not a valid entry.";
    AuditChainBroken = "MG017", "audit-chain-broken", "An audit entry's `prev` is not the sha256 of the line before it: a line was edited, removed or reordered.";
    AuditSeq = "MG018", "audit-seq", "Audit `seq` numbers are not contiguous from 1.";
    UnknownPrincipal = "MG019", "unknown-principal", "A role names a principal that has no key in allowed_signers.";
    SignersSyntax = "MG020", "signers-syntax", "A line of allowed_signers cannot be parsed.";
    PolicyRange = "MG021", "policy-range", "A policy threshold is out of range or inconsistent, or a model's `serving:` split is (weights that are not whole percents summing to 100, a `sticky` naming neither or both of `field` and `header`, a sticky `header` that is no HTTP header name or carries credentials, traffic or shadow scoring for a challenger the model does not have).";
    MissingModelCard = "MG022", "missing-model-card", "A model has no model card in model-cards/.";
    SymlinkEscape = "MG023", "symlink-escape", "A path leads outside the repository (`..` above the root, or absolute); it is not followed. Links of any kind are MG046.";
    NoModels = "MG024", "no-models", "The registry has no models yet.";
    UnexpectedFile = "MG025", "unexpected-file", "A file in the registry that modelgate does not know what to do with.";
    NameMismatch = "MG026", "name-mismatch", "A file names a different model, version or alias than its location says.";
    UnknownRole = "MG027", "unknown-role", "A gate requires approval by a role that `roles:` does not define.";
    AbsolutePath = "MG028", "absolute-path", "A local path must be relative to the repository root.";
    NoRegistry = "MG029", "no-registry", "No registry was found: `registry/policy.yaml` is missing.";
    GitRevision = "MG030", "git-revision", "A git revision could not be resolved or read.";
    AuditReference = "MG031", "audit-reference", "An audit entry names a model or version that the registry does not have.";
    ApprovalSignature = "MG032", "approval-signature", "An approval's signature does not count: malformed, wrong namespace, key not allowed for the principal or not valid at approved_at, or it does not verify.";
    GatePerformance = "MG033", "gate-performance", "The candidate does not improve the primary metric over the current holder of the alias by `min_improvement`.";
    GateStability = "MG034", "gate-stability", "A stability metric of the candidate falls below `min_ratio` of the current holder's.";
    GateBias = "MG035", "gate-bias", "The candidate's fairness disparity is at or above `warn_at` (a warning; an error above `block_at`, when bias numbers are missing, or when the model card does not discuss the attribute).";
    GateDrift = "MG036", "gate-drift", "The current champion is drifting at `alert` severity or above, and the policy blocks promotions meanwhile.";
    GateApprovals = "MG037", "gate-approvals", "A role that the gate requires has no valid approval for this model, version and alias.";
    ApprovalRejected = "MG038", "approval-rejected", "An approval does not count for the promotion: stale digests, a principal without the role, or a statement for something else.";
    ImmutableVersion = "MG039", "immutable-version", "A merged version file was edited or removed; only `archived_at`/`deleted_at` may be set.";
    AuditRewritten = "MG040", "audit-rewritten", "The base revision's audit log is not a prefix of the head's: history was rewritten or truncated.";
    AuditMissingEntry = "MG041", "audit-missing-entry", "An alias move or archive in the pull request has no matching audit entry.";
    ChampionRemoved = "MG042", "champion-removed", "The champion alias was removed with no replacement.";
    NotAncestor = "MG043", "not-ancestor", "The base revision is not an ancestor of the head; the trees are compared anyway.";
    UnsignedCommit = "MG044", "unsigned-commit", "A commit that touches registry/ is not SSH-signed by an allowed signer (policy `require_signed_commits`).";
    BiasGroups = "MG045", "bias-groups", "A protected attribute's per-group rates disagree with its stated differences (max − min across the groups), or a rate is outside 0..1.";
    NotPlainFile = "MG046", "not-plain-file", "A registry path, a model card or a file the registry names is a symbolic link, a submodule or another entry that is not a plain file or folder; it is never followed.";
    GateInput = "MG047", "gate-input", "A number a gate reads (a metric, a disparity) is not a finite number or lies outside its range (0..1 for rates, AUCs and disparities); the gate fails closed.";
    GovernanceChange = "MG048", "governance-change", "The pull request changes the rules (policy.yaml, allowed_signers, or what a model.yaml decides for gates and predictions) in a way not proven to only tighten them, without signed governance approvals by the roles the base policy names.";
    AuditPhantom = "MG049", "audit-phantom", "An audit entry appended by the pull request records something the pull request does not do (a promotion, approval, archive or drift result that is not there).";
    MonitoringResult = "MG050", "monitoring-result", "A monitoring result is not authenticated (no valid signature by the policy's monitoring role), does not parse, is misnamed or future-dated, or a merged one was edited or removed; the drift gate fails closed.";
    IncompleteModelCard = "MG051", "incomplete-model-card", "A model card lacks a section of the template, leaves one empty, keeps the template's placeholder text or an unfilled `{{…}}`: validate warns, a champion promotion blocks.";
    AuditTime = "MG052", "audit-time", "An alias move, demotion, archive or deletion that the pull request appends to the audit log is dated before the base log's last entry or after the time of the check: the times of these entries decide when a tenure ended, and which old approvals never revive.";
    ReferenceSchema = "MG053", "reference-schema", "The reference data that model.yaml's `monitoring:` names lacks a feature column, or holds it with a type the feature cannot take (numbers for a numerical feature; strings, integers or booleans for a categorical one); read from the Parquet schema or the CSV header only.";
    ArtifactChanged = "MG054", "artifact-changed", "The artifact (a file or a model folder) of a merged version changed in the pull request: its bytes, file names or, in a folder, file modes (which the folder digest does not cover). A merged version's artifact is immutable; this holds under `--no-digests` too, and changed bytes are MG014 as well.";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A problem, with where it is and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable code.
    pub code: Code,
    /// Error, warning or note.
    pub severity: Severity,
    /// The file, relative to the repository root, with `/` separators; `None` for problems
    /// that are about no file in particular.
    pub file: Option<String>,
    /// Where in the file; `None` for problems about a whole file or folder.
    pub span: Option<Span>,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// An error with a message and nothing else yet.
    pub fn error(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            file: None,
            span: None,
            message: message.into(),
            hint: None,
        }
    }

    /// A warning with a message and nothing else yet.
    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    /// Sets the file.
    pub fn in_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }

    /// Sets the position in the file.
    pub fn at(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }

    /// Sets the position if there is one.
    pub fn at_opt(mut self, span: Option<Span>) -> Self {
        self.span = span;
        self
    }

    /// Sets the hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// `file:line:col` (or as much of it as is known), for logs and messages.
    pub fn location(&self) -> String {
        match (&self.file, &self.span) {
            (Some(f), Some(s)) => format!("{f}:{}:{}", s.start.line, s.start.column),
            (Some(f), None) => f.clone(),
            (None, _) => String::new(),
        }
    }
}

/// A list of diagnostics with counts, sorted for stable output.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// The diagnostics, sorted by file, position and code.
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    /// Sorts and wraps a list.
    pub fn new(mut diagnostics: Vec<Diagnostic>) -> Self {
        diagnostics.sort_by(|a, b| {
            (&a.file, a.span.map(|s| s.start), a.code, &a.message).cmp(&(
                &b.file,
                b.span.map(|s| s.start),
                b.code,
                &b.message,
            ))
        });
        diagnostics.dedup();
        Report { diagnostics }
    }

    /// How many diagnostics have this severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }

    /// True when any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.count(Severity::Error) > 0
    }
}

impl Diagnostic {
    /// A YAML file that does not parse: MG005 for a duplicated key, else MG002.
    pub fn of_yaml_parse(file: &str, e: crate::yaml::ParseError) -> Diagnostic {
        let code = if e.duplicate_key {
            Code::DuplicateKey
        } else {
            Code::YamlSyntax
        };
        let mut d = Diagnostic::error(code, e.message).in_file(file).at(e.span);
        d.hint = e.hint;
        d
    }

    /// A YAML value that does not fit its type: the code of the error's kind (unknown key,
    /// missing key, wrong type, invalid value), at its span or the file's start.
    pub fn of_yaml_value(file: &str, e: crate::yaml::de::Error) -> Diagnostic {
        use crate::yaml::de::ErrorKind;
        let code = match e.kind {
            ErrorKind::UnknownKey => Code::UnknownKey,
            ErrorKind::MissingKey => Code::MissingKey,
            ErrorKind::WrongType => Code::WrongType,
            ErrorKind::InvalidValue => Code::InvalidValue,
        };
        let mut d = Diagnostic::error(code, e.message)
            .in_file(file)
            .at(e.span.unwrap_or_else(crate::yaml::Span::file_start));
        d.hint = e.hint;
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/diagnostics.md lists every code with its name.
    #[test]
    fn every_code_is_documented() {
        let docs = include_str!("../../docs/diagnostics.md");
        for code in Code::ALL {
            let row = format!("| {} | `{}` |", code.as_str(), code.slug());
            assert!(docs.contains(&row), "docs/diagnostics.md lacks {row}");
        }
    }

    #[test]
    fn codes_are_unique_and_sequential() {
        for (i, code) in Code::ALL.iter().enumerate() {
            assert_eq!(code.as_str(), format!("MG{:03}", i + 1));
        }
    }
}
