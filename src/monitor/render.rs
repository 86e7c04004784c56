//! Text and Markdown renderings of drift, bias and evaluation reports (JSON is their serde
//! form).

use super::bias;
use super::drift::{ColumnDrift, Report};
use super::metrics::Evaluation;
use crate::diag::render::md_cell;

fn f(x: f64) -> String {
    if x.is_nan() {
        "n/a".into()
    } else if x.is_infinite() {
        "inf".into()
    } else if x != 0.0 && x.abs() < 1e-4 {
        format!("{x:.2e}")
    } else {
        format!("{x:.4}")
    }
}

fn row(c: &ColumnDrift) -> [String; 7] {
    let st = &c.statistics;
    let detail = match c.kind {
        super::data::Kind::Numerical => format!(
            "KS D {} p {}; W {} (normed {}); PSI {}",
            st.ks.as_ref().map(|k| f(k.statistic)).unwrap_or_default(),
            st.ks.as_ref().map(|k| f(k.p_value)).unwrap_or_default(),
            st.wasserstein.map(f).unwrap_or_default(),
            st.wasserstein_normed.map(f).unwrap_or_default(),
            st.psi.map(f).unwrap_or_default()
        ),
        super::data::Kind::Categorical => format!(
            "χ² {} p {}; JS {}; PSI {}",
            st.chi_square
                .as_ref()
                .map(|c| f(c.statistic))
                .unwrap_or_default(),
            st.chi_square
                .as_ref()
                .map(|c| f(c.p_value))
                .unwrap_or_default(),
            st.jensen_shannon.map(f).unwrap_or_default(),
            st.psi.map(f).unwrap_or_default()
        ),
    };
    [
        c.column.clone(),
        format!("{:?}", c.kind).to_lowercase(),
        c.method.as_str().to_string(),
        f(c.score),
        f(c.threshold),
        if c.drifted {
            "DRIFT".into()
        } else {
            "ok".into()
        },
        detail,
    ]
}

/// Drift as a text table.
pub fn drift_text(r: &Report) -> String {
    let rows: Vec<[String; 7]> = r.columns.iter().map(row).collect();
    let head = [
        "column",
        "kind",
        "method",
        "score",
        "threshold",
        "drift",
        "statistics",
    ];
    let mut w = head.map(str::len);
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<width$}", width = w[i]))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut s = format!(
        "rows: reference {}, current {}\n\n{}\n",
        r.rows.reference,
        r.rows.current,
        line(&head.map(String::from))
    );
    for row in &rows {
        s.push_str(&line(row));
        s.push('\n');
    }
    let drifted = r.columns.iter().filter(|c| c.drifted).count();
    s.push_str(&format!(
        "\ndrift share {} ({drifted}/{} columns), dataset drift: {}, severity: {}\n",
        f(r.drift_share),
        r.columns.len(),
        if r.dataset_drift { "yes" } else { "no" },
        r.severity
    ));
    s.push_str(&label_and_notes(r));
    s
}

/// The label's drift (concept drift, apart from the features) and the notes, one line each.
fn label_and_notes(r: &Report) -> String {
    let mut s = String::new();
    if let Some(l) = &r.label {
        s.push_str(&format!(
            "label `{}` (concept drift, not in the drift share): {} {} → {}\n",
            l.column,
            l.method.as_str(),
            f(l.score),
            if l.drifted { "DRIFT" } else { "ok" }
        ));
    }
    for n in &r.notes {
        s.push_str(&format!("note: {n}\n"));
    }
    s
}

/// Drift as a Markdown table.
pub fn drift_markdown(r: &Report) -> String {
    let mut s =
        "| Column | Kind | Method | Score | Threshold | Drift |\n|---|---|---|---|---|---|\n"
            .to_string();
    for c in &r.columns {
        let cells = row(c);
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            md_cell(&cells[0]),
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            if c.drifted { "⚠️ drift" } else { "ok" }
        ));
    }
    let drifted = r.columns.iter().filter(|c| c.drifted).count();
    s.push_str(&format!(
        "\nDrift share **{}** ({drifted}/{} columns) · severity **{}** · rows: reference {}, current {}\n",
        f(r.drift_share),
        r.columns.len(),
        r.severity,
        r.rows.reference,
        r.rows.current
    ));
    let extra = label_and_notes(r);
    if !extra.is_empty() {
        s.push('\n');
        for line in extra.lines() {
            s.push_str(&format!("- {}\n", md_cell(line)));
        }
    }
    s
}

/// Bias as text.
pub fn bias_text(r: &bias::Report) -> String {
    let mut s = format!("threshold {}\n", f(r.threshold));
    for a in &r.attributes {
        s.push_str(&format!(
            "\n{}: disparity {} ({})\n  demographic parity diff {} ratio {}; equal opportunity diff {}; equalized odds diff {}; predictive parity diff {}\n",
            a.attribute,
            f(a.disparity),
            a.verdict,
            f(a.demographic_parity_difference),
            f(a.demographic_parity_ratio),
            f(a.equal_opportunity_difference),
            f(a.equalized_odds_difference),
            f(a.predictive_parity_difference)
        ));
        s.push_str(&format!(
            "  {:<20} {:>7} {:>9} {:>7} {:>7} {:>9}\n",
            "group", "count", "selection", "tpr", "fpr", "precision"
        ));
        for g in &a.groups {
            s.push_str(&format!(
                "  {:<20} {:>7} {:>9} {:>7} {:>7} {:>9}\n",
                g.group,
                g.count,
                f(g.selection_rate),
                f(g.tpr),
                f(g.fpr),
                f(g.precision)
            ));
        }
    }
    s
}

/// Bias as Markdown.
pub fn bias_markdown(r: &bias::Report) -> String {
    let mut s = String::new();
    for a in &r.attributes {
        s.push_str(&format!(
            "#### {} — disparity {} ({})\n\n| Group | Count | Selection rate | TPR | FPR | Precision |\n|---|---|---|---|---|---|\n",
            md_cell(&a.attribute),
            f(a.disparity),
            a.verdict
        ));
        for g in &a.groups {
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                md_cell(&g.group),
                g.count,
                f(g.selection_rate),
                f(g.tpr),
                f(g.fpr),
                f(g.precision)
            ));
        }
        s.push('\n');
    }
    s
}

/// Evaluation as text.
pub fn evaluation_text(e: &Evaluation) -> String {
    let mut s = format!("rows {}, threshold {}\n", e.rows, f(e.threshold));
    for (k, v) in &e.metrics {
        s.push_str(&format!("  {k:<10} {}\n", f(*v)));
    }
    for n in &e.notes {
        s.push_str(&format!("  note: {n}\n"));
    }
    s
}
