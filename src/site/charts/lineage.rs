//! Lineage graphs: a model version's inputs and outputs as a left-to-right DAG.

use super::*;
use std::collections::{BTreeMap, BTreeSet};
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

/// A node's box, placed: the node's index, its top-left corner and its size.
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
    let g = Graph::new(spec);
    let nn = g.nodes.len();
    let cols = g.columns();
    let texts: Vec<NodeText> = g.nodes.iter().map(|n| NodeText::of(n)).collect();
    let grid = Grid::new(&cols, &texts);
    let width = (grid.w + 32.0).max(480.0);
    let mut legend_svg = String::new();
    let legend_h = kinds_legend(&mut legend_svg, &g.nodes, width);
    let top = 34.0 + legend_h + 14.0;
    let height = top + grid.h.max(20.0) + 16.0;
    let placed = grid.place(&cols, &texts, ((width - grid.w) / 2.0).max(16.0), top);

    let any_link = g
        .nodes
        .iter()
        .any(|n| n.href.as_deref().and_then(safe_href).is_some());
    let (p, mut out) = Head::new("lineage", &spec.id_prefix, &spec.title, &spec.desc)
        .role(if any_link { "group" } else { "img" })
        .open((width, height), 4096 + nn * 600, || {
            lineage_desc(&g.nodes, &g.edges)
        });
    w!(
        out,
        "<defs><marker id=\"{p}-arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" markerUnits=\"userSpaceOnUse\" orient=\"auto-start-reverse\"><path d=\"M0 0L10 5L0 10z\" fill=\"#6e7781\"/></marker></defs>\n"
    );
    out.push_str(&legend_svg);
    edges_svg(&mut out, &p, &g.edges, &placed);
    for pl in &placed {
        node_svg(&mut out, g.nodes[pl.node], &texts[pl.node], pl);
    }
    out.push_str("</svg>\n");
    out
}

/// The graph as drawn: unique nodes, valid edges between their indices, and each node's
/// successors and predecessors.
struct Graph<'s> {
    nodes: Vec<&'s Node>,
    edges: Vec<(usize, usize)>,
    succ: Vec<Vec<usize>>,
    pred: Vec<Vec<usize>>,
}

impl<'s> Graph<'s> {
    /// Skips nodes with a duplicate id, and edges to unknown ids, self-loops and duplicates.
    fn new(spec: &'s Lineage) -> Graph<'s> {
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
        let mut seen: BTreeSet<(usize, usize)> = BTreeSet::new();
        for (a, b) in &spec.edges {
            if let (Some(&i), Some(&j)) = (index.get(a.as_str()), index.get(b.as_str())) {
                if i != j && seen.insert((i, j)) {
                    edges.push((i, j));
                }
            }
        }
        let mut succ: Vec<Vec<usize>> = vec![Vec::new(); nn];
        let mut pred: Vec<Vec<usize>> = vec![Vec::new(); nn];
        for &(a, b) in &edges {
            succ[a].push(b);
            pred[b].push(a);
        }
        Graph {
            nodes,
            edges,
            succ,
            pred,
        }
    }

    /// Each node's place in a topological order (Kahn, lowest index first); nodes on cycles
    /// come last, in input order. Edges that point backwards in this order are ignored for
    /// layering.
    fn topo_positions(&self) -> (Vec<usize>, Vec<usize>) {
        let nn = self.nodes.len();
        let mut indeg = vec![0usize; nn];
        for &(_, b) in &self.edges {
            indeg[b] += 1;
        }
        let mut order: Vec<usize> = Vec::with_capacity(nn);
        let mut ready: BTreeSet<usize> = (0..nn).filter(|&i| indeg[i] == 0).collect();
        let mut done = vec![false; nn];
        while let Some(i) = ready.pop_first() {
            order.push(i);
            done[i] = true;
            for &j in &self.succ[i] {
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
        (order, pos)
    }

    /// The columns, left to right: longest-path layers, sources pulled right next to their
    /// nearest consumer, ordered by barycentre sweeps.
    fn columns(&self) -> Vec<Vec<usize>> {
        let nn = self.nodes.len();
        let (order, pos) = self.topo_positions();
        let forward = |a: usize, b: usize| pos[a] < pos[b];
        let mut layer = vec![0usize; nn];
        for &i in &order {
            layer[i] = self.pred[i]
                .iter()
                .filter(|&&a| forward(a, i))
                .map(|&a| layer[a] + 1)
                .max()
                .unwrap_or(0);
        }
        for &i in order.iter().rev() {
            let has_pred = self.pred[i].iter().any(|&a| forward(a, i));
            let nearest = self.succ[i]
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
        self.sweep(&mut cols);
        cols
    }

    /// Orders the nodes within columns by four barycentre sweeps, down and up in turn.
    fn sweep(&self, cols: &mut [Vec<usize>]) {
        let n_layers = cols.len();
        let mut rank = vec![0.0f64; self.nodes.len()];
        for col in cols.iter() {
            rank_column(col, &mut rank);
        }
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
                        let nb = if down { &self.pred[i] } else { &self.succ[i] };
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
                rank_column(&cols[l], &mut rank);
            }
        }
    }
}

/// Ranks the nodes of a column by their place in it, in `(0, 1)`.
fn rank_column(col: &[usize], rank: &mut [f64]) {
    let len = col.len().max(1) as f64;
    for (k, &i) in col.iter().enumerate() {
        rank[i] = (k as f64 + 0.5) / len;
    }
}

/// A node's text as drawn: its label in one or two lines, its kind caption and its detail, and
/// the size of its box.
struct NodeText {
    labels: Vec<String>,
    caption: String,
    detail: Option<String>,
    size: (f64, f64),
}

impl NodeText {
    fn of(n: &Node) -> NodeText {
        let labels = wrap2(&n.label, LABEL_CHARS);
        let caption = kind_caption(&n.kind);
        let detail = n.detail.as_ref().map(|d| truncate(d, DETAIL_CHARS).0);
        let mut w = labels
            .iter()
            .map(|l| text_w(l, 12.0) * 1.05)
            .fold(0.0, f64::max);
        w = w.max(text_w(&caption, 9.5) * 1.1);
        if let Some(d) = &detail {
            w = w.max(text_w(d, 10.5));
        }
        let h = 38.0
            + 15.0 * labels.len().saturating_sub(1) as f64
            + if n.detail.is_some() { 14.0 } else { 0.0 };
        NodeText {
            labels,
            caption,
            detail,
            size: ((w + 20.0).max(72.0), h),
        }
    }
}

/// The gaps between columns and between the boxes of a column.
const COL_GAP: f64 = 48.0;
const ROW_GAP: f64 = 14.0;

/// The columns' sizes: each column as wide as its widest box and as tall as its boxes; the
/// whole graph's width and height.
struct Grid {
    col_w: Vec<f64>,
    col_h: Vec<f64>,
    w: f64,
    h: f64,
}

impl Grid {
    fn new(cols: &[Vec<usize>], texts: &[NodeText]) -> Grid {
        let col_w: Vec<f64> = cols
            .iter()
            .map(|col| col.iter().map(|&i| texts[i].size.0).fold(0.0, f64::max))
            .collect();
        let col_h: Vec<f64> = cols
            .iter()
            .map(|col| {
                col.iter().map(|&i| texts[i].size.1).sum::<f64>()
                    + ROW_GAP * col.len().saturating_sub(1) as f64
            })
            .collect();
        let w: f64 = col_w.iter().sum::<f64>() + COL_GAP * cols.len().saturating_sub(1) as f64;
        let h = col_h.iter().copied().fold(0.0, f64::max);
        Grid { col_w, col_h, w, h }
    }

    /// Places the boxes from `(x0, top)`: columns left to right, each centred vertically, each
    /// box centred in its column; in the order of the nodes.
    fn place(&self, cols: &[Vec<usize>], texts: &[NodeText], x0: f64, top: f64) -> Vec<Placed> {
        let mut placed = Vec::new();
        let mut x = x0;
        for (l, col) in cols.iter().enumerate() {
            let mut y = top + (self.h - self.col_h[l]) / 2.0;
            for &i in col {
                let (w, h) = texts[i].size;
                placed.push(Placed {
                    node: i,
                    x: x + (self.col_w[l] - w) / 2.0,
                    y,
                    w,
                    h,
                });
                y += h + ROW_GAP;
            }
            x += self.col_w[l] + COL_GAP;
        }
        // Drawn in the nodes' order.
        placed.sort_by_key(|pl| pl.node);
        placed
    }
}

/// The legend of the kinds present (known kinds in canonical order, then others by
/// appearance), into `out`; returns its height.
fn kinds_legend(out: &mut String, nodes: &[&Node], width: f64) -> f64 {
    if nodes.is_empty() {
        return 0.0;
    }
    let mut kinds: Vec<String> = KINDS
        .iter()
        .filter(|k| nodes.iter().any(|n| n.kind == k.0))
        .map(|k| k.0.to_string())
        .collect();
    for n in nodes {
        if !kinds.contains(&n.kind) {
            kinds.push(n.kind.clone());
        }
    }
    let items: Vec<(f64, String)> = kinds.iter().map(|k| (14.0, kind_name(k))).collect();
    legend(out, &items, 16.0, 34.0, width - 32.0, |o, i, x, y| {
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
    })
}

/// The edges, as curves with arrows, under the nodes.
fn edges_svg(out: &mut String, p: &str, edges: &[(usize, usize)], placed: &[Placed]) {
    let at = |i: usize| placed.iter().find(|pl| pl.node == i);
    w!(
        out,
        "<g fill=\"none\" stroke=\"#8c959f\" stroke-width=\"1.4\">\n"
    );
    for &(a, b) in edges {
        let (Some(pa), Some(pb)) = (at(a), at(b)) else {
            continue;
        };
        let (x1, y1) = (pa.x + pa.w, pa.y + pa.h / 2.0);
        let (x2, y2) = (pb.x - 1.5, pb.y + pb.h / 2.0);
        let dx = if x2 > x1 { (x2 - x1) / 2.0 } else { 48.0 };
        put!(
            out,
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
            p,
            "-arrow)\"/>\n",
        );
    }
    out.push_str("</g>\n");
}

/// A line of text centred on `cx`: `attrs` are written as they are after `text-anchor`.
fn centred_text(out: &mut String, cx: f64, y: f64, attrs: &[&str], text: &str) {
    put!(
        out,
        "<text x=\"",
        c(cx),
        "\" y=\"",
        c(y),
        "\" text-anchor=\"middle\""
    );
    for a in attrs {
        out.push_str(a);
    }
    put!(out, ">", esc(text), "</text>\n");
}

/// One node: its box with kind, label and detail, a tooltip, and a link when it has a safe one.
fn node_svg(out: &mut String, n: &Node, t: &NodeText, pl: &Placed) {
    let (fill, stroke) = kind_colors(&n.kind);
    let mut tip = format!("{}: {}", kind_name(&n.kind), n.label);
    if let Some(d) = &n.detail {
        w!(tip, " ({d})");
    }
    let href = n.href.as_deref().and_then(safe_href);
    if let Some(h) = href {
        w!(out, "<a href=\"{}\">\n", esc(h));
    }
    put!(out, "<g><title>", esc(&tip), "</title>\n");
    put!(
        out,
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
    let muted = [
        " font-size=\"9.5\" letter-spacing=\"0.5\" fill=\"",
        MUTED,
        "\"",
    ];
    centred_text(out, cx, pl.y + 13.0, &muted, &t.caption);
    let underline = if href.is_some() {
        " text-decoration=\"underline\""
    } else {
        ""
    };
    let mut ty = pl.y + 29.0;
    for line in &t.labels {
        let attrs = [" font-size=\"12\" font-weight=\"600\"", underline];
        centred_text(out, cx, ty, &attrs, line);
        ty += 15.0;
    }
    if let Some(d) = &t.detail {
        let attrs = [
            " font-size=\"10.5\" font-family=\"",
            MONO_ATTR,
            "\" fill=\"",
            MUTED,
            "\"",
        ];
        centred_text(out, cx, ty, &attrs, d);
    }
    out.push_str("</g>\n");
    if href.is_some() {
        out.push_str("</a>\n");
    }
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
