//! The index page's context and `models.json`.

use super::*;

impl<'a> Site<'a> {
    /// The index's context and models.json, from every model's row.
    pub fn index(&self, rows: &[Value]) -> Result<(Value, String)> {
        let mut ctx = self.base("", "index.html");
        let count = |f: &dyn Fn(&Value) -> bool| rows.iter().filter(|r| f(r)).count();
        ctx.insert(
            "totals".into(),
            json!({
                "versions": rows.iter().filter_map(|r| r["versions"].as_u64()).sum::<u64>(),
                "champions": count(&|r| !r["champion"].is_null()),
                "challengers": count(&|r| !r["challenger"].is_null()),
                "drifting": count(&|r| {
                    r["drift"]
                        .as_str()
                        .and_then(Severity::parse)
                        .is_some_and(|s| s >= Severity::Issue)
                }),
                "bias_block": count(&|r| r["bias"] == "block"),
            }),
        );
        ctx.insert("models".into(), Value::Array(rows.to_vec()));
        let search: Vec<Value> = rows
            .iter()
            .map(|r| {
                json!({
                    "name": r["name"], "description": r["description"], "owner": r["owner"],
                    "task": r["task"], "tags": r["tags"], "metrics": r["metrics"],
                    "champion": r["champion"], "challenger": r["challenger"],
                    "drift": r["drift"], "bias": r["bias"], "url": r["url"],
                })
            })
            .collect();
        ctx.insert(
            "search_index".into(),
            script_json(&Value::Array(search.clone())).into(),
        );
        let json = serde_json::to_string_pretty(&json!({
            "modelgate": env!("CARGO_PKG_VERSION"),
            "models": rows,
        }))? + "\n";
        Ok((Value::Object(ctx), json))
    }
}
