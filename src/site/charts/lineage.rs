//! Lineage graphs: a model version's inputs and outputs as a left-to-right DAG.

use super::*;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A node of a [`Lineage`] graph.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Node {
    /// The id that edges refer to. Nodes with a duplicate id are skipped.
    pub id: String,
    /// The kind: `raw_data`, `pipeline`, `dataset`, `run`, `commit`, `version`, `alias` or
    /// `batch`. Other kinds are drawn in grey.
    pub kind: String,
    /// The label, truncated with `…` if long (the full text is in the tooltip).
    pub label: String,
    /// A second line in monospace, for example a short hash.
    pub detail: Option<String>,
    /// A link target. Only relative references and `http(s)` URLs are kept (see [`safe_href`]).
    pub href: Option<String>,
}

/// A lineage graph, drawn left to right.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Lineage {
    /// The prefix of every id in the chart. Must be unique on the page.
    pub id_prefix: String,
    /// The title, drawn at the top and used as the accessible name.
    pub title: String,
    /// The accessible description. If empty, one is generated from the data.
    pub desc: String,
    /// The nodes.
    pub nodes: Vec<Node>,
    /// Edges as `(from id, to id)`. Edges to unknown ids, self-loops and duplicates are skipped.
    /// Edges that close a cycle are drawn but do not affect the layout.
    pub edges: Vec<(String, String)>,
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

/// Known node kinds, in legend order, with their fill (a light tint) and stroke colours.
pub(super) const KINDS: [(&str, &str, &str); 8] = [
    ("raw_data", "#fbeccc", "#E69F00"),
    ("pipeline", "#d9ecf8", "#56B4E9"),
    ("dataset", "#cceadf", "#009E73"),
    ("run", "#fbf7cf", "#b8ab00"),
    ("commit", "#e3e3e3", "#4d4d4d"),
    ("version", "#cfe2f1", "#0072B2"),
    ("alias", "#f6dccd", "#D55E00"),
    ("batch", "#f3e0ec", "#CC79A7"),
];
pub(super) const UNKNOWN_KIND: (&str, &str) = ("#f2f3f5", "#8c959f");

pub(super) fn kind_colors(kind: &str) -> (&'static str, &'static str) {
    KINDS
        .iter()
        .find(|k| k.0 == kind)
        .map_or(UNKNOWN_KIND, |k| (k.1, k.2))
}

/// Returns the href if it is safe to put in a link: a relative reference (no scheme, not
/// protocol-relative) or an `http`/`https` URL. Anything with ASCII control characters or
/// whitespace inside is rejected, because browsers strip them before reading the scheme
/// (`java\tscript:`). The result is trimmed but not escaped.
pub fn safe_href(href: &str) -> Option<&str> {
    let h = href.trim_matches(|c: char| c.is_ascii_whitespace() || c.is_ascii_control());
    if h.is_empty() || h.chars().any(|c| c.is_ascii_control() || c.is_whitespace()) {
        return None;
    }
    if h.starts_with("//") || h.starts_with("\\\\") || h.starts_with("/\\") {
        return None;
    }
    let end = h.find(['/', '?', '#']).unwrap_or(h.len());
    match h[..end].find(':') {
        None => Some(h),
        Some(i) => {
            let scheme = h[..i].to_ascii_lowercase();
            if scheme == "http" || scheme == "https" {
                Some(h)
            } else {
                None
            }
        }
    }
}

pub(super) struct Placed {
    pub(super) node: usize,
    pub(super) x: f64,
    pub(super) y: f64,
    pub(super) w: f64,
    pub(super) h: f64,
}

/// Renders a lineage graph as a left-to-right `<svg>` DAG.
///
/// Nodes are placed in columns by longest-path layering (sources are then moved right, next to
/// their first consumer) and ordered within columns by a few barycentre sweeps to reduce
/// crossings. Boxes are sized to their text; labels longer than 28 characters are truncated,
/// with the full text in the tooltip. Each box shows its kind, label and detail, and is coloured
/// by kind, with a legend of the kinds present. Nodes with a [`safe_href`] link are wrapped in
/// `<a href>`; the root then has `role="group"` so the links stay reachable.
pub fn lineage_graph(spec: &Lineage) -> String {
    let p = sanitize_id(&spec.id_prefix);

    // Unique nodes and valid edges.
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut nodes: Vec<&Node> = Vec::new();
    for n in &spec.nodes {
        if !index.contains_key(n.id.as_str()) {
            index.insert(&n.id, nodes.len());
            nodes.push(n);
        }
    }
    let nn = nodes.len();
    let mut edges: Vec<(usize, usize)> = Vec::new();
    let mut seen: std::collections::BTreeSet<(usize, usize)> = std::collections::BTreeSet::new();
    for (a, b) in &spec.edges {
        if let (Some(&i), Some(&j)) = (index.get(a.as_str()), index.get(b.as_str())) {
            if i != j && seen.insert((i, j)) {
                edges.push((i, j));
            }
        }
    }

    // Topological order (Kahn, lowest index first); nodes on cycles are appended in input
    // order, and edges that point backwards in this order are ignored for layering.
    let mut indeg = vec![0usize; nn];
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); nn];
    let mut pred: Vec<Vec<usize>> = vec![Vec::new(); nn];
    for &(a, b) in &edges {
        indeg[b] += 1;
        succ[a].push(b);
        pred[b].push(a);
    }
    let mut order: Vec<usize> = Vec::with_capacity(nn);
    let mut ready: std::collections::BTreeSet<usize> = (0..nn).filter(|&i| indeg[i] == 0).collect();
    let mut done = vec![false; nn];
    while let Some(i) = ready.pop_first() {
        order.push(i);
        done[i] = true;
        for &j in &succ[i] {
            indeg[j] -= 1;
            if indeg[j] == 0 {
                ready.insert(j);
            }
        }
    }
    order.extend((0..nn).filter(|&i| !done[i]));
    let mut pos = vec![0usize; nn];
    for (k, &i) in order.iter().enumerate() {
        pos[i] = k;
    }
    let forward = |a: usize, b: usize| pos[a] < pos[b];

    // Longest-path layers.
    let mut layer = vec![0usize; nn];
    for &i in &order {
        layer[i] = pred[i]
            .iter()
            .filter(|&&a| forward(a, i))
            .map(|&a| layer[a] + 1)
            .max()
            .unwrap_or(0);
    }
    // Pull sources right, next to their nearest consumer.
    for &i in order.iter().rev() {
        let has_pred = pred[i].iter().any(|&a| forward(a, i));
        let nearest = succ[i]
            .iter()
            .filter(|&&b| forward(i, b))
            .map(|&b| layer[b])
            .min();
        if let (false, Some(m)) = (has_pred, nearest) {
            layer[i] = m.saturating_sub(1).max(layer[i]);
        }
    }
    let n_layers = layer.iter().copied().max().map_or(0, |m| m + 1);
    let mut cols: Vec<Vec<usize>> = vec![Vec::new(); n_layers];
    for i in 0..nn {
        cols[layer[i]].push(i);
    }

    // Barycentre sweeps.
    let mut rank = vec![0.0f64; nn];
    let set_rank = |cols: &Vec<Vec<usize>>, rank: &mut Vec<f64>| {
        for col in cols {
            let len = col.len().max(1) as f64;
            for (k, &i) in col.iter().enumerate() {
                rank[i] = (k as f64 + 0.5) / len;
            }
        }
    };
    set_rank(&cols, &mut rank);
    for sweep in 0..4 {
        let down = sweep % 2 == 0;
        let range: Vec<usize> = if down {
            (1..n_layers).collect()
        } else {
            (0..n_layers.saturating_sub(1)).rev().collect()
        };
        for l in range {
            let mut keyed: Vec<(f64, usize, usize)> = cols[l]
                .iter()
                .enumerate()
                .map(|(k, &i)| {
                    let nb = if down { &pred[i] } else { &succ[i] };
                    let r: Vec<f64> = nb.iter().map(|&j| rank[j]).collect();
                    let key = if r.is_empty() {
                        rank[i]
                    } else {
                        r.iter().sum::<f64>() / r.len() as f64
                    };
                    (key, k, i)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            cols[l] = keyed.into_iter().map(|k| k.2).collect();
            let len = cols[l].len().max(1) as f64;
            for (k, &i) in cols[l].iter().enumerate() {
                rank[i] = (k as f64 + 0.5) / len;
            }
        }
    }

    // Sizes.
    let labels: Vec<Vec<String>> = nodes.iter().map(|n| wrap2(&n.label, LABEL_CHARS)).collect();
    let captions: Vec<String> = nodes.iter().map(|n| kind_caption(&n.kind)).collect();
    let details: Vec<Option<String>> = nodes
        .iter()
        .map(|n| n.detail.as_ref().map(|d| truncate(d, DETAIL_CHARS).0))
        .collect();
    let size = |i: usize| -> (f64, f64) {
        let n = nodes[i];
        let mut w = labels[i]
            .iter()
            .map(|l| text_w(l, 12.0) * 1.05)
            .fold(0.0, f64::max);
        w = w.max(text_w(&captions[i], 9.5) * 1.1);
        if let Some(d) = &details[i] {
            w = w.max(text_w(d, 10.5));
        }
        let h = 38.0
            + 15.0 * labels[i].len().saturating_sub(1) as f64
            + if n.detail.is_some() { 14.0 } else { 0.0 };
        ((w + 20.0).max(72.0), h)
    };
    let sizes: Vec<(f64, f64)> = (0..nn).map(size).collect();
    let col_gap = 48.0;
    let row_gap = 14.0;
    let col_w: Vec<f64> = cols
        .iter()
        .map(|col| col.iter().map(|&i| sizes[i].0).fold(0.0, f64::max))
        .collect();
    let col_h: Vec<f64> = cols
        .iter()
        .map(|col| {
            col.iter().map(|&i| sizes[i].1).sum::<f64>()
                + row_gap * col.len().saturating_sub(1) as f64
        })
        .collect();
    let graph_w: f64 = col_w.iter().sum::<f64>() + col_gap * n_layers.saturating_sub(1) as f64;
    let graph_h = col_h.iter().copied().fold(0.0, f64::max);

    // Legend of kinds present: known kinds in canonical order, then others by appearance.
    let mut kinds: Vec<String> = KINDS
        .iter()
        .filter(|k| nodes.iter().any(|n| n.kind == k.0))
        .map(|k| k.0.to_string())
        .collect();
    for n in &nodes {
        if !kinds.contains(&n.kind) {
            kinds.push(n.kind.clone());
        }
    }
    let width = (graph_w + 32.0).max(480.0);
    let mut legend_svg = String::new();
    let legend_h = if nodes.is_empty() {
        0.0
    } else {
        let items: Vec<(f64, String)> = kinds.iter().map(|k| (14.0, kind_name(k))).collect();
        legend(
            &mut legend_svg,
            &items,
            16.0,
            34.0,
            width - 32.0,
            |o, i, x, y| {
                let (fill, stroke) = kind_colors(&kinds[i]);
                put!(
                    o,
                    "<rect x=\"",
                    c(x),
                    "\" y=\"",
                    c(y - 6.0),
                    "\" width=\"14\" height=\"12\" rx=\"3\" fill=\"",
                    fill,
                    "\" stroke=\"",
                    stroke,
                    "\" stroke-width=\"1.5\"/>\n",
                );
            },
        )
    };
    let top = 34.0 + legend_h + 14.0;
    let height = top + graph_h.max(20.0) + 16.0;
    let x0 = ((width - graph_w) / 2.0).max(16.0);

    let mut placed: Vec<Option<Placed>> = (0..nn).map(|_| None).collect();
    let mut x = x0;
    for (l, col) in cols.iter().enumerate() {
        let mut y = top + (graph_h - col_h[l]) / 2.0;
        for &i in col {
            let (w, h) = sizes[i];
            placed[i] = Some(Placed {
                node: i,
                x: x + (col_w[l] - w) / 2.0,
                y,
                w,
                h,
            });
            y += h + row_gap;
        }
        x += col_w[l] + col_gap;
    }
    let placed: Vec<Placed> = placed.into_iter().flatten().collect();
    let at = |i: usize| placed.iter().find(|pl| pl.node == i);

    let any_link = nodes
        .iter()
        .any(|n| n.href.as_deref().and_then(safe_href).is_some());
    let desc = if spec.desc.is_empty() {
        lineage_desc(&nodes, &edges)
    } else {
        spec.desc.clone()
    };
    let mut out = String::with_capacity(4096 + nn * 600);
    open_svg_role(
        &mut out,
        &p,
        "lineage",
        width,
        height,
        &spec.title,
        &desc,
        if any_link { "group" } else { "img" },
    );
    w!(
        out,
        "<defs><marker id=\"{p}-arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" markerUnits=\"userSpaceOnUse\" orient=\"auto-start-reverse\"><path d=\"M0 0L10 5L0 10z\" fill=\"#6e7781\"/></marker></defs>\n"
    );
    out.push_str(&legend_svg);

    // Edges under nodes.
    w!(
        out,
        "<g fill=\"none\" stroke=\"#8c959f\" stroke-width=\"1.4\">\n"
    );
    for &(a, b) in &edges {
        let (Some(pa), Some(pb)) = (at(a), at(b)) else {
            continue;
        };
        let (x1, y1) = (pa.x + pa.w, pa.y + pa.h / 2.0);
        let (x2, y2) = (pb.x - 1.5, pb.y + pb.h / 2.0);
        let dx = if x2 > x1 { (x2 - x1) / 2.0 } else { 48.0 };
        put!(
            &mut out,
            "<path d=\"M",
            c(x1),
            " ",
            c(y1),
            "C",
            c(x1 + dx),
            " ",
            c(y1),
            " ",
            c(x2 - dx),
            " ",
            c(y2),
            " ",
            c(x2),
            " ",
            c(y2),
            "\" marker-end=\"url(#",
            p.as_str(),
            "-arrow)\"/>\n",
        );
    }
    out.push_str("</g>\n");

    // Nodes.
    for pl in &placed {
        let n = nodes[pl.node];
        let (fill, stroke) = kind_colors(&n.kind);
        let mut tip = format!("{}: {}", kind_name(&n.kind), n.label);
        if let Some(d) = &n.detail {
            w!(tip, " ({d})");
        }
        let href = n.href.as_deref().and_then(safe_href);
        if let Some(h) = href {
            w!(out, "<a href=\"{}\">\n", esc(h));
        }
        put!(&mut out, "<g><title>", esc(&tip), "</title>\n");
        put!(
            &mut out,
            "<rect x=\"",
            c(pl.x),
            "\" y=\"",
            c(pl.y),
            "\" width=\"",
            c(pl.w),
            "\" height=\"",
            c(pl.h),
            "\" rx=\"7\" fill=\"",
            fill,
            "\" stroke=\"",
            stroke,
            "\" stroke-width=\"1.5\"/>\n",
        );
        let cx = pl.x + pl.w / 2.0;
        put!(
            &mut out,
            "<text x=\"",
            c(cx),
            "\" y=\"",
            c(pl.y + 13.0),
            "\" text-anchor=\"middle\" font-size=\"9.5\" letter-spacing=\"0.5\" fill=\"",
            MUTED,
            "\">",
            esc(&captions[pl.node]),
            "</text>\n",
        );
        let mut ty = pl.y + 29.0;
        for line in &labels[pl.node] {
            put!(
                &mut out,
                "<text x=\"",
                c(cx),
                "\" y=\"",
                c(ty),
                "\" text-anchor=\"middle\" font-size=\"12\" font-weight=\"600\"",
                if href.is_some() {
                    " text-decoration=\"underline\""
                } else {
                    ""
                },
                ">",
                esc(line),
                "</text>\n",
            );
            ty += 15.0;
        }
        if let Some(d) = &details[pl.node] {
            put!(
                &mut out,
                "<text x=\"",
                c(cx),
                "\" y=\"",
                c(ty),
                "\" text-anchor=\"middle\" font-size=\"10.5\" font-family=\"",
                MONO_ATTR,
                "\" fill=\"",
                MUTED,
                "\">",
                esc(d),
                "</text>\n",
            );
        }
        out.push_str("</g>\n");
        if href.is_some() {
            out.push_str("</a>\n");
        }
    }
    out.push_str("</svg>\n");
    out
}

/// Label characters per line in a lineage node, and characters of its detail line.
pub(super) const LABEL_CHARS: usize = 20;
pub(super) const DETAIL_CHARS: usize = 24;

/// Splits a label into at most two lines of at most `max` characters, preferring to break after
/// a space, `/`, `-`, `_`, `.` or `:` in the last two thirds of the line; the second line is
/// truncated with `…` if the label is still too long.
pub(super) fn wrap2(s: &str, max: usize) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= max {
        return vec![s.to_string()];
    }
    let brk = ((max / 3).max(1)..=max)
        .rev()
        .find(|&i| matches!(chars[i - 1], ' ' | '/' | '-' | '_' | '.' | ':'))
        .unwrap_or(max);
    let first: String = chars[..brk]
        .iter()
        .collect::<String>()
        .trim_end()
        .to_string();
    let rest: String = chars[brk..]
        .iter()
        .collect::<String>()
        .trim_start()
        .to_string();
    vec![first, truncate(&rest, max).0]
}

/// The caption printed in a node: the kind in capitals, with `_` as a space.
pub(super) fn kind_caption(kind: &str) -> String {
    truncate(&kind.replace('_', " ").to_uppercase(), 20).0
}

/// The kind as a legend entry: `raw_data` → `raw data`.
pub(super) fn kind_name(kind: &str) -> String {
    if kind.is_empty() {
        "other".into()
    } else {
        kind.replace('_', " ")
    }
}

pub(super) fn lineage_desc(nodes: &[&Node], edges: &[(usize, usize)]) -> String {
    let mut d = format!(
        "Lineage graph with {} nodes and {} edges, flowing left to right.",
        nodes.len(),
        edges.len()
    );
    for (k, &(a, b)) in edges.iter().enumerate() {
        if k == 40 {
            w!(d, " And {} more edges.", edges.len() - 40);
            break;
        }
        w!(
            d,
            " {} {} → {} {}.",
            kind_name(&nodes[a].kind),
            nodes[a].label,
            kind_name(&nodes[b].kind),
            nodes[b].label
        );
    }
    d
}
