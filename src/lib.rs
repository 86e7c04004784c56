//! modelgate: a GitOps model registry and governance tool.
//!
//! The registry (models, versions, aliases, signed approvals, an audit log) is YAML in a git
//! repository. Data flows one way: files in git are loaded into a typed
//! [`registry::Registry`] (from a folder or a git revision), checks turn it into
//! [`diag::Diagnostic`]s, and renderers turn those into text, JSON, Markdown or GitHub
//! annotations. Commands (`cmd/`) are thin: they parse, call the library, render, and return an
//! exit code; nothing deep in the library prints.

pub mod audit;
pub mod batch;
pub mod check;
pub mod diag;
pub mod gates;
pub mod github;
pub mod gitops;
pub mod lifecycle;
pub mod monitor;
pub mod registry;
pub mod scaffold;
pub mod scoring;
pub mod serve;
pub mod shard;
pub mod signing;
pub mod site;
pub mod synth;
pub mod validate;
pub mod wildcard;
pub mod yaml;
