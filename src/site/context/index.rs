//! The index page's context and `models.json`.

use super::*;

/// The index page's context (template `index.html`).
#[derive(Serialize)]
struct IndexPage<'r> {
    #[serde(flatten)]
    base: Base,
    totals: Totals,
    models: &'r [ModelRow],
    /// The search index ([`SearchEntry`] per model), as JSON for a `<script>` element.
    search_index: String,
}

/// The counts at the top of the index.
#[derive(Serialize)]
struct Totals {
    versions: u64,
    champions: usize,
    challengers: usize,
    /// Models whose latest run found an issue or worse.
    drifting: usize,
    /// Models whose champion's bias blocks.
    bias_block: usize,
}

/// A model as the index's search reads it. Fields in alphabetical order: the page has always
/// listed them so.
#[derive(Serialize)]
struct SearchEntry<'r> {
    bias: &'r str,
    challenger: Option<u32>,
    champion: Option<u32>,
    description: &'r str,
    drift: &'r str,
    metrics: &'r BTreeMap<String, Option<f64>>,
    name: &'r str,
    owner: &'r str,
    tags: &'r BTreeMap<String, String>,
    task: crate::registry::schema::Task,
    url: &'r str,
}

impl<'r> From<&'r ModelRow> for SearchEntry<'r> {
    fn from(r: &'r ModelRow) -> Self {
        SearchEntry {
            bias: &r.bias,
            challenger: r.challenger,
            champion: r.champion,
            description: &r.description,
            drift: &r.drift,
            metrics: &r.metrics,
            name: &r.name,
            owner: &r.owner,
            tags: &r.tags,
            task: r.task,
            url: &r.url,
        }
    }
}

/// `models.json`.
#[derive(Serialize)]
struct ModelsJson<'r> {
    modelgate: &'static str,
    models: &'r [ModelRow],
}

impl<'a> Site<'a> {
    /// The index's context and models.json, from every model's row.
    pub fn index(&self, rows: &[ModelRow]) -> Result<(Value, String)> {
        let count = |f: &dyn Fn(&ModelRow) -> bool| rows.iter().filter(|r| f(r)).count();
        let totals = Totals {
            versions: rows.iter().map(|r| r.versions as u64).sum(),
            champions: count(&|r| r.champion.is_some()),
            challengers: count(&|r| r.challenger.is_some()),
            drifting: count(&|r| Severity::parse(&r.drift).is_some_and(|s| s >= Severity::Issue)),
            bias_block: count(&|r| r.bias == "block"),
        };
        let search: Vec<SearchEntry> = rows.iter().map(SearchEntry::from).collect();
        let page = IndexPage {
            base: self.base("", "index.html"),
            totals,
            models: rows,
            search_index: script_json(&search),
        };
        let json = serde_json::to_string_pretty(&ModelsJson {
            modelgate: env!("CARGO_PKG_VERSION"),
            models: rows,
        })? + "\n";
        Ok((serde_json::to_value(page)?, json))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{keys_sorted, sample_row};
    use super::*;

    #[test]
    fn the_search_index_and_models_json_keep_their_sorted_keys() {
        let r = sample_row();
        let rows = [r.clone()];
        assert!(keys_sorted(&ModelsJson {
            modelgate: "0",
            models: &rows,
        }));
        assert!(keys_sorted(&SearchEntry::from(&r)));
    }
}
