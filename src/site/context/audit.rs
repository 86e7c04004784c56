//! The audit page's context.

use super::*;

impl<'a> Site<'a> {
    /// The audit page's context. `pages` are the site's files, to link only to pages that exist.
    pub fn audit(&self, text: &str, pages: &BTreeSet<String>) -> Result<Value> {
        let mut diags = Vec::new();
        let log = crate::audit::Log::parse(text, &mut diags);
        diags.extend(log.verify(text));
        let head = log.lines.last().map(|l| l.digest.hex()).unwrap_or_default();
        let mut entries: Vec<Value> = log
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
                json!({
                    "seq": e.seq,
                    "at": e.at.raw,
                    "action": serde_json::to_value(e.action).unwrap_or(Value::Null),
                    "model": e.model,
                    "model_url": model_url,
                    "version": e.version,
                    "version_url": version_url,
                    "alias": e.alias,
                    "actor": e.actor,
                    "details": if e.details.is_empty() { String::new() } else { Value::Object(e.details.clone()).to_string() },
                    "fields": detail_fields(&e.details),
                })
            })
            .collect();
        entries.reverse();
        let mut ctx = self.base("", "audit.html");
        ctx.insert("entries".into(), entries.into());
        ctx.insert("chain_ok".into(), diags.is_empty().into());
        ctx.insert(
            "chain_problems".into(),
            json!(diags.iter().map(|d| d.message.clone()).collect::<Vec<_>>()),
        );
        ctx.insert("head".into(), head.into());
        let _ = &self.root;
        Ok(Value::Object(ctx))
    }
}
