//! The audit page's context.

use super::*;

/// The audit page's context (template `audit.html`).
#[derive(Serialize)]
struct AuditPage<'a> {
    #[serde(flatten)]
    base: Base,
    /// The entries, newest first.
    entries: Vec<AuditRow<'a>>,
    /// Whether the hash chain verifies.
    chain_ok: bool,
    chain_problems: Vec<String>,
    /// The digest of the last line.
    head: String,
}

/// An audit entry with links to its model's and version's pages, when they exist.
#[derive(Serialize)]
struct AuditRow<'e> {
    #[serde(flatten)]
    entry: EntryRow<'e>,
    model: &'e Option<String>,
    model_url: Option<String>,
    version: Option<u32>,
    version_url: Option<String>,
}

impl<'a> Site<'a> {
    /// The audit page's context. `pages` are the site's files, to link only to pages that exist.
    pub fn audit(&self, text: &str, pages: &BTreeSet<String>) -> Result<Value> {
        let mut diags = Vec::new();
        let log = crate::audit::Log::parse(text, &mut diags);
        diags.extend(log.verify(text));
        let head = log.lines.last().map(|l| l.digest.hex()).unwrap_or_default();
        let mut entries: Vec<AuditRow> = log
            .entries()
            .map(|e| {
                let model_url = e
                    .model
                    .as_ref()
                    .map(|m| format!("models/{m}/index.html"))
                    .filter(|u| pages.contains(u));
                let version_url = match (&e.model, e.version) {
                    (Some(m), Some(v)) => {
                        Some(format!("models/{m}/v{v}.html")).filter(|u| pages.contains(u))
                    }
                    _ => None,
                };
                AuditRow {
                    entry: EntryRow::of(e),
                    model: &e.model,
                    model_url,
                    version: e.version,
                    version_url,
                }
            })
            .collect();
        entries.reverse();
        let _ = &self.root;
        Ok(serde_json::to_value(AuditPage {
            base: self.base("", "audit.html"),
            entries,
            chain_ok: diags.is_empty(),
            chain_problems: diags.iter().map(|d| d.message.clone()).collect(),
            head,
        })?)
    }
}
