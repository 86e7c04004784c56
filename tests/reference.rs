//! The numbers against the reference libraries: values computed once by `scripts/fixtures.py`
//! (scipy, numpy, scikit-learn, Fairlearn, Evidently; pinned in scripts/requirements*.txt) and
//! stored in tests/data/monitor/expected.json.
//!
//! Tolerances: 1e-9 relative for the exact statistics (KS D, Wasserstein, PSI, chi-square,
//! Jensen–Shannon, ROC-AUC, the group rates); 1e-9 relative for p-values too, except that
//! below 1e-250 (where the two implementations' floating-point tails differ) both must simply
//! be that small. Drift decisions must equal Evidently's on its default settings.

use crate::util::repo_root;
use modelgate::monitor::data::{self, Kind, Request};
use modelgate::monitor::{bias, drift, metrics};
use serde_json::Value;

fn expected() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("tests/data/monitor/expected.json")).unwrap(),
    )
    .unwrap()
}

fn close(what: &str, actual: f64, expected: &Value) {
    let e = match expected {
        Value::String(s) if s == "inf" => f64::INFINITY,
        v => v.as_f64().unwrap_or_else(|| panic!("{what}: expected {v}")),
    };
    if e.is_infinite() || actual.is_infinite() {
        assert_eq!(actual, e, "{what}");
        return;
    }
    if e.abs() < 1e-250 {
        assert!(actual.abs() < 1e-250, "{what}: {actual} vs {e}");
        return;
    }
    let rel = (actual - e).abs() / e.abs().max(1e-300);
    assert!(
        rel <= 1e-9 || (actual - e).abs() <= 1e-15,
        "{what}: {actual} vs {e} (relative {rel:e})"
    );
}

#[test]
fn drift_statistics_and_decisions() {
    let root = repo_root();
    let exp = expected();
    let mut compared = 0;
    for case in exp["drift"].as_array().unwrap() {
        let name = case["case"].as_str().unwrap();
        let columns: Vec<String> = case["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["column"].as_str().unwrap().to_string())
            .collect();
        let req = Request {
            columns: columns.clone(),
            ..Default::default()
        };
        let r = data::read(case["reference"].as_str().unwrap(), &root, &req).unwrap();
        let c = data::read(case["current"].as_str().unwrap(), &root, &req).unwrap();
        for col in case["columns"].as_array().unwrap() {
            let column = col["column"].as_str().unwrap();
            let what = format!("{name}.{column}");
            let kind = if col["kind"] == "numerical" {
                Kind::Numerical
            } else {
                Kind::Categorical
            };
            let rc = data::column(&r.frame, column, Some(kind)).unwrap();
            let cc = data::column(&c.frame, column, Some(kind)).unwrap();
            let d = drift::column(&rc, &cc, None, None).unwrap_or_else(|e| panic!("{what}: {e}"));
            let st = &d.statistics;
            if let Some(ks) = col.get("ks").filter(|v| !v.is_null()) {
                let k = st.ks.as_ref().unwrap();
                close(
                    &format!("{what} ks.statistic"),
                    k.statistic,
                    &ks["statistic"],
                );
                close(&format!("{what} ks.p_value"), k.p_value, &ks["p_value"]);
            }
            for (key, v) in [
                ("wasserstein", st.wasserstein),
                ("wasserstein_normed", st.wasserstein_normed),
                ("jensen_shannon", st.jensen_shannon),
            ] {
                if let Some(e) = col.get(key).filter(|v| !v.is_null()) {
                    close(
                        &format!("{what} {key}"),
                        v.unwrap_or_else(|| panic!("{what} {key} absent")),
                        e,
                    );
                }
            }
            if let Some(e) = col.get("psi").filter(|v| !v.is_null()) {
                close(&format!("{what} psi"), st.psi.unwrap(), e);
            }
            if let Some(e) = col.get("chi_square").filter(|v| !v.is_null()) {
                if let Some(chi) = &st.chi_square {
                    close(
                        &format!("{what} chi.statistic"),
                        chi.statistic,
                        &e["statistic"],
                    );
                    close(&format!("{what} chi.p_value"), chi.p_value, &e["p_value"]);
                    assert_eq!(chi.dof, e["dof"].as_u64().unwrap(), "{what} dof");
                }
            }
            if let Some(e) = col.get("z_test").filter(|v| !v.is_null()) {
                if let Some(z) = &st.z_test {
                    close(&format!("{what} z.p_value"), z.p_value, &e["p_value"]);
                }
            }
            let ev = &col["evidently"];
            if !ev.is_null() {
                assert_eq!(
                    Value::Bool(d.drifted),
                    ev["drifted"],
                    "{what}: modelgate {} {} says drifted={}, Evidently {} {} says {}",
                    d.method.as_str(),
                    d.score,
                    d.drifted,
                    ev["method"],
                    ev["score"],
                    ev["drifted"]
                );
                let same_method = match ev["method"].as_str().unwrap() {
                    "z" => "ztest",
                    m => m,
                };
                assert_eq!(
                    d.method.as_str(),
                    same_method,
                    "{what}: the deciding method"
                );
            }
            compared += 1;
        }
    }
    assert!(compared >= 25, "{compared} columns compared");
}

#[test]
fn classification_metrics() {
    let root = repo_root();
    for case in expected()["evaluate"].as_array().unwrap() {
        let name = case["case"].as_str().unwrap();
        let t = data::read(
            case["data"].as_str().unwrap(),
            &root,
            &Request {
                columns: vec![
                    case["label"].as_str().unwrap().into(),
                    case["score"].as_str().unwrap().into(),
                ],
                ..Default::default()
            },
        )
        .unwrap();
        let (labels, scores, _) = data::labels_and_scores(
            &t.frame,
            case["label"].as_str().unwrap(),
            case["score"].as_str().unwrap(),
        )
        .unwrap();
        let e = metrics::evaluate(&labels, &scores, case["threshold"].as_f64().unwrap());
        for (k, v) in case["metrics"].as_object().unwrap() {
            match e.metrics.get(k) {
                Some(x) => close(&format!("{name} {k}"), *x, v),
                None => assert!(v.is_null(), "{name} {k}: modelgate has none, sklearn {v}"),
            }
        }
    }
}

#[test]
fn fairness_metrics() {
    let root = repo_root();
    for case in expected()["bias"].as_array().unwrap() {
        let name = case["case"].as_str().unwrap();
        let label = case["label"].as_str().unwrap();
        let score = case["score"].as_str().unwrap();
        let sensitive: Vec<String> = case["sensitive"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect();
        let mut cols = vec![label.to_string(), score.to_string()];
        cols.extend(sensitive.iter().cloned());
        let t = data::read(
            case["data"].as_str().unwrap(),
            &root,
            &Request {
                columns: cols,
                ..Default::default()
            },
        )
        .unwrap();
        let (labels, scores, kept) = data::labels_scores_kept(&t.frame, label, score).unwrap();
        let threshold = case["threshold"].as_f64().unwrap();
        for exp in case["attributes"].as_array().unwrap() {
            let attr = exp["attribute"].as_str().unwrap();
            let groups: Vec<Option<String>> = data::strings(&t.frame, attr)
                .unwrap()
                .into_iter()
                .zip(&kept)
                .filter(|(_, k)| **k)
                .map(|(g, _)| g)
                .collect();
            let a = bias::attribute(attr, &groups, &labels, &scores, threshold, (0.1, 0.15));
            let what = format!("{name}.{attr}");
            for g in exp["groups"].as_array().unwrap() {
                let group = g["group"].as_str().unwrap();
                let ours = a
                    .groups
                    .iter()
                    .find(|x| x.group == group)
                    .unwrap_or_else(|| panic!("{what}: no group {group}"));
                assert_eq!(
                    ours.count,
                    g["count"].as_u64().unwrap(),
                    "{what} {group} count"
                );
                close(
                    &format!("{what} {group} selection_rate"),
                    ours.selection_rate,
                    &g["selection_rate"],
                );
                close(&format!("{what} {group} tpr"), ours.tpr, &g["tpr"]);
                close(&format!("{what} {group} fpr"), ours.fpr, &g["fpr"]);
                close(
                    &format!("{what} {group} precision"),
                    ours.precision,
                    &g["precision"],
                );
            }
            for (key, v) in [
                (
                    "demographic_parity_difference",
                    a.demographic_parity_difference,
                ),
                ("demographic_parity_ratio", a.demographic_parity_ratio),
                (
                    "equal_opportunity_difference",
                    a.equal_opportunity_difference,
                ),
                ("equalized_odds_difference", a.equalized_odds_difference),
                (
                    "predictive_parity_difference",
                    a.predictive_parity_difference,
                ),
            ] {
                close(&format!("{what} {key}"), v, &exp[key]);
            }
        }
    }
}
