//! Tests of the charts.

use super::*;

fn sample_line() -> LineChart {
    LineChart {
        id_prefix: "m1".into(),
        title: "Accuracy across versions".into(),
        x_title: "Version".into(),
        y_title: "Accuracy (fraction)".into(),
        x_labels: (1..=6).map(|i| format!("v{i}")).collect(),
        series: vec![
            Series {
                name: "accuracy".into(),
                values: vec![
                    Some(0.91),
                    Some(0.925),
                    None,
                    Some(0.94),
                    Some(0.938),
                    Some(0.95),
                ],
            },
            Series {
                name: "f1".into(),
                values: vec![Some(0.88), Some(0.9), Some(0.905), None, None, Some(0.93)],
            },
        ],
        hlines: vec![HLine {
            label: "min".into(),
            value: 0.9,
            kind: Level::Block,
        }],
        highlight: Some((0, 5, "champion".into())),
        ..Default::default()
    }
}

fn well_formed(svg: &str) {
    // A small check: tags balance, and no raw NaN/inf or unescaped specials in text.
    let mut stack: Vec<String> = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find('<') {
        let text = &rest[..i];
        assert!(!text.contains('>'), "raw > in text: {text:?}");
        for (j, _) in text.match_indices('&') {
            let t = &text[j..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"]
                    .iter()
                    .any(|e| t.starts_with(e)),
                "bare & in text: {t:?}"
            );
        }
        let end = rest[i..].find('>').expect("unclosed tag") + i;
        let tag = &rest[i + 1..end];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name), "mismatched </{name}>");
        } else if !tag.ends_with('/') {
            let name = tag.split_whitespace().next().unwrap_or("").to_string();
            stack.push(name);
        }
        rest = &rest[end + 1..];
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    assert!(
        !svg.contains("NaN") && !svg.contains("inf\""),
        "non-finite in {svg}"
    );
}

#[test]
fn nice_ticks() {
    let s = Scale::new(0.0, 1.0, 5, true, ValueFormat::Plain);
    assert_eq!(s.ticks, vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
    let s = Scale::new(0.913, 0.948, 5, true, ValueFormat::Plain);
    assert_eq!(s.ticks, vec![0.91, 0.92, 0.93, 0.94, 0.95]);
    assert_eq!(s.fmt_tick(0.93), "0.93");
    let s = Scale::new(3.0, 97.0, 5, true, ValueFormat::Plain);
    assert_eq!(s.ticks, vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
    assert_eq!(s.fmt_tick(40.0), "40");
    let s = Scale::new(-0.3, 0.25, 5, true, ValueFormat::Plain);
    assert_eq!(s.ticks, vec![-0.4, -0.2, 0.0, 0.2, 0.4]);
    assert_eq!(s.fmt_tick(0.0), "0.0");
    // Within a fixed range, ticks stay inside it.
    let s = Scale::new(0.0, 0.9, 5, false, ValueFormat::Plain);
    assert_eq!((s.lo, s.hi), (0.0, 0.9));
    assert_eq!(s.ticks.last().copied(), Some(0.8));
    // Every step is 1, 2 or 5 × 10^k.
    for (lo, hi) in [(0.0, 7.3), (1e-6, 3e-6), (120.0, 125_000.0), (-5.0, -4.99)] {
        let s = Scale::new(lo, hi, 5, true, ValueFormat::Plain);
        let m = s.step / 10f64.powf(s.step.log10().floor());
        assert!(
            [1.0, 2.0, 5.0].iter().any(|n| (m - n).abs() < 1e-6),
            "{lo}..{hi}: step {}",
            s.step
        );
        assert!(s.lo <= lo && s.hi >= hi);
        assert!((3..=12).contains(&s.ticks.len()), "{:?}", s.ticks);
    }
    // Degenerate ranges.
    assert_eq!(
        Scale::new(0.0, 0.0, 5, true, ValueFormat::Plain)
            .ticks
            .len(),
        6
    );
    let s = Scale::new(0.5, 0.5, 5, true, ValueFormat::Plain);
    assert!(s.lo < 0.5 && s.hi > 0.5);
    let s = Scale::new(f64::NAN, 1.0, 5, true, ValueFormat::Plain);
    assert_eq!((s.lo, s.hi), (0.0, 1.0));
    // Percent.
    let s = Scale::new(0.0, 0.5, 5, true, ValueFormat::Percent);
    assert_eq!(s.fmt_tick(0.3), "30%");
}

#[test]
fn a_metric_axis_draws_differences_to_scale() {
    // AUCs of 0.73 and 0.75: the whole 0–1 axis, not one from 0.73.
    let a = metric_axis(&[Some(0.73), None, Some(0.75), Some(f64::NAN)]);
    assert_eq!(a.range, (0.0, 1.0));
    assert!(a.unit_interval);
    // Nothing to draw: still 0–1.
    assert_eq!(metric_axis(&[]).range, (0.0, 1.0));
    // An unbounded metric (an RMSE of 1,200–1,250) starts at zero.
    let a = metric_axis(&[Some(1210.0), Some(1248.0)]);
    assert!(!a.unit_interval);
    assert_eq!(a.range.0, 0.0);
    assert!(a.range.1 >= 1248.0 && a.range.1 <= 1500.0, "{:?}", a.range);
    // A negative value (an R² below zero) reaches below zero, and zero stays on the axis.
    let a = metric_axis(&[Some(-0.2), Some(0.6)]);
    assert!(
        a.range.0 <= -0.2 && a.range.0 > -0.5 && a.range.1 >= 0.6,
        "{:?}",
        a.range
    );
    // The chart drawn with that axis has its lowest tick at 0.
    let svg = line_chart(&LineChart {
        id_prefix: "m".into(),
        title: "auc".into(),
        x_labels: vec!["v1".into(), "v2".into()],
        series: vec![Series {
            name: "auc".into(),
            values: vec![Some(0.73), Some(0.75)],
        }],
        y_range: Some(metric_axis(&[Some(0.73), Some(0.75)]).range),
        ..Default::default()
    });
    assert!(
        svg.contains(">0.0</text>") && svg.contains(">1.0</text>"),
        "{svg}"
    );
    assert!(
        !svg.contains(">0.72</text>") && !svg.contains(">0.73</text>"),
        "{svg}"
    );
}

#[test]
fn nice_step_values() {
    assert_eq!(nice_step(0.13), 0.2);
    assert_eq!(nice_step(0.3), 0.5);
    assert_eq!(nice_step(7.0), 10.0);
    assert_eq!(nice_step(1.0), 1.0);
    assert_eq!(nice_step(0.0), 1.0);
    assert_eq!(nice_step(f64::NAN), 1.0);
}

#[test]
fn fixed_never_negative_zero() {
    assert_eq!(fixed(-0.0, 2), "0.00");
    assert_eq!(fixed(-0.0001, 2), "0.00");
    assert_eq!(fixed(-0.5, 1), "-0.5");
    assert_eq!(fixed(f64::NAN, 2), "0");
    // Coordinates: `fixed(x, 1)` without a trailing `.0`, written without allocating.
    for i in -20_000..20_000 {
        let x = f64::from(i) * 0.0137;
        let s = fixed(x, 1);
        assert_eq!(c(x).to_string(), s.strip_suffix(".0").unwrap_or(&s), "{x}");
    }
    for x in [
        0.05,
        -0.05,
        0.95,
        -0.95,
        1e10,
        -1e10,
        f64::NAN,
        f64::INFINITY,
        -0.0,
    ] {
        let s = fixed(x, 1);
        assert_eq!(c(x).to_string(), s.strip_suffix(".0").unwrap_or(&s), "{x}");
    }
    assert_eq!(esc(FONT).to_string(), FONT_ATTR);
    assert_eq!(esc(MONO).to_string(), MONO_ATTR);
    assert_eq!(
        esc("a<b>&\"'\tc\u{1}").to_string(),
        "a&lt;b&gt;&amp;&quot;&#39; c"
    );
    assert_eq!(c(12.0).to_string(), "12");
    assert_eq!(c(-0.01).to_string(), "0");
}

#[test]
fn line_chart_basics() {
    let svg = line_chart(&sample_line());
    well_formed(&svg);
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.contains("role=\"img\""));
    assert!(svg.contains("aria-labelledby=\"m1-title m1-desc\""));
    assert!(svg.contains("<title id=\"m1-title\">Accuracy across versions</title>"));
    assert!(svg.contains("viewBox=\"0 0 720 "));
    assert!(svg.contains("width=\"100%\""));
    assert!(svg.contains(">0.92<"), "tick label");
    assert!(svg.contains(">Version<") && svg.contains(">Accuracy (fraction)<"));
    assert!(svg.contains(">champion<"));
    assert!(svg.contains("min 0.90"), "hline label with value");
    // Legend with both series.
    assert!(svg.contains(">accuracy<") && svg.contains(">f1<"));
    // Missing values break the line: the accuracy path has two segments.
    let path = svg
        .lines()
        .find(|l| l.starts_with("<path d=\"M") && l.contains("#0072B2"))
        .expect("accuracy path");
    assert_eq!(path.matches('M').count(), 2, "{path}");
    // The missing point has no marker.
    assert!(!svg.contains("accuracy, v3:"));
    assert!(svg.contains("accuracy, v4: 0.940"));
}

#[test]
fn single_series_has_no_legend() {
    let mut spec = sample_line();
    spec.series.truncate(1);
    let svg = line_chart(&spec);
    well_formed(&svg);
    assert!(!svg.contains(">accuracy</text>"));
}

#[test]
fn line_chart_missing_and_non_finite_values() {
    let spec = LineChart {
        id_prefix: "d".into(),
        title: "Drift share".into(),
        x_labels: vec!["a".into(), "b".into(), "c".into(), "d".into()],
        series: vec![Series {
            name: "share".into(),
            values: vec![Some(f64::NAN), Some(0.2), Some(f64::INFINITY), None],
        }],
        y_range: Some((0.0, 1.0)),
        y_format: ValueFormat::Percent,
        bands: vec![
            Band {
                from: 0.3,
                to: 0.5,
                kind: Level::Warn,
                label: "alert".into(),
            },
            Band {
                from: 0.5,
                to: f64::INFINITY,
                kind: Level::Block,
                label: "retrain".into(),
            },
            Band {
                from: f64::NAN,
                to: 1.0,
                kind: Level::Info,
                label: "bad".into(),
            },
        ],
        hlines: vec![HLine {
            label: "nan".into(),
            value: f64::NAN,
            kind: Level::Info,
        }],
        ..Default::default()
    };
    let svg = line_chart(&spec);
    well_formed(&svg);
    assert!(svg.contains(">alert<") && svg.contains(">retrain<"));
    assert!(!svg.contains(">bad<") && !svg.contains(">nan"));
    assert!(svg.contains(">100%<"));
    // The only finite point is isolated, so it gets a marker even without a line.
    assert!(svg.contains("share, b: 20.0%"));
    // All-empty input still renders.
    let empty = line_chart(&LineChart::default());
    well_formed(&empty);
    assert!(empty.contains("id=\"c--title\""));
}

#[test]
fn escaping_everywhere() {
    let evil = "<script>alert(\"x\" & 'y')</script>";
    let spec = LineChart {
        id_prefix: "a\" onload=\"x".into(),
        title: evil.into(),
        x_title: evil.into(),
        y_title: evil.into(),
        x_labels: vec![evil.into(), "b".into()],
        series: vec![
            Series {
                name: evil.into(),
                values: vec![Some(1.0), Some(2.0)],
            },
            Series {
                name: "s\u{1}2".into(),
                values: vec![Some(1.5), None],
            },
        ],
        hlines: vec![HLine {
            label: evil.into(),
            value: 1.5,
            kind: Level::Warn,
        }],
        highlight: Some((0, 1, evil.into())),
        ..Default::default()
    };
    let bars = BarChart {
        id_prefix: "b".into(),
        title: evil.into(),
        x_title: evil.into(),
        groups: vec![BarGroup {
            label: evil.into(),
            bars: vec![
                Bar {
                    label: evil.into(),
                    value: Some(0.1),
                },
                Bar {
                    label: "x".into(),
                    value: None,
                },
            ],
        }],
        thresholds: vec![RefLine {
            label: evil.into(),
            value: 0.2,
            kind: Level::Block,
        }],
        ..Default::default()
    };
    let heat = HeatStrip {
        id_prefix: "h".into(),
        title: evil.into(),
        rows: vec![evil.into()],
        cols: vec![evil.into()],
        cells: vec![vec![Some(HeatCell {
            score: 0.5,
            drifted: true,
        })]],
        ..Default::default()
    };
    let lin = Lineage {
        id_prefix: "l".into(),
        title: evil.into(),
        nodes: vec![Node {
            id: "a".into(),
            kind: evil.into(),
            label: evil.into(),
            detail: Some(evil.into()),
            href: Some("x.html?a=1&b=\"2\"".into()),
        }],
        ..Default::default()
    };
    for svg in [
        line_chart(&spec),
        bar_chart(&bars),
        heat_strip(&heat),
        lineage_graph(&lin),
    ] {
        well_formed(&svg);
        assert!(!svg.contains("<script"), "{svg}");
        assert!(!svg.contains("\"x\""), "{svg}");
        assert!(!svg.contains('\u{1}'));
        assert!(
            svg.contains("&lt;script&gt;") || svg.contains("&lt;script"),
            "{svg}"
        );
    }
    let l = lineage_graph(&lin);
    assert!(l.contains("href=\"x.html?a=1&amp;b=&quot;2&quot;\""), "{l}");
    let s = line_chart(&spec);
    assert!(s.contains("id=\"a--onload--x-title\""));
    assert!(s.contains("&quot;x&quot; &amp; &#39;y&#39;"));
}

#[test]
fn deterministic_output() {
    let a = line_chart(&sample_line());
    let b = line_chart(&sample_line());
    assert_eq!(a, b);
    let lin = sample_lineage();
    assert_eq!(lineage_graph(&lin), lineage_graph(&lin.clone()));
    let h = sample_heat();
    assert_eq!(heat_strip(&h), heat_strip(&h.clone()));
    let bc = sample_bars();
    assert_eq!(bar_chart(&bc), bar_chart(&bc.clone()));
}

#[test]
fn unique_ids_per_prefix() {
    let mut a = sample_line();
    a.id_prefix = "one".into();
    let mut b = sample_line();
    b.id_prefix = "two".into();
    let (sa, sb) = (line_chart(&a), line_chart(&b));
    let ids = |s: &str| -> Vec<String> {
        s.match_indices(" id=\"")
            .map(|(i, _)| {
                let t = &s[i + 5..];
                t[..t.find('"').unwrap_or(0)].to_string()
            })
            .collect()
    };
    let ia = ids(&sa);
    assert!(ia.iter().all(|i| i.starts_with("one-")), "{ia:?}");
    assert!(ids(&sb).iter().all(|i| i.starts_with("two-")));
    assert!(sa.contains("url(#one-clip)"));
}

fn sample_bars() -> BarChart {
    let g = |label: &str, v: [Option<f64>; 3]| BarGroup {
        label: label.into(),
        bars: [
            "demographic_parity",
            "equal_opportunity",
            "predictive_parity",
        ]
        .iter()
        .zip(v)
        .map(|(l, v)| Bar {
            label: l.to_string(),
            value: v,
        })
        .collect(),
    };
    BarChart {
        id_prefix: "bias".into(),
        title: "Bias by protected attribute".into(),
        x_title: "Disparity (absolute difference)".into(),
        groups: vec![
            g("sex", [Some(0.04), Some(0.12), Some(0.02)]),
            g("age_group", [Some(0.21), None, Some(0.07)]),
        ],
        thresholds: vec![
            RefLine {
                label: "warn".into(),
                value: 0.1,
                kind: Level::Warn,
            },
            RefLine {
                label: "block".into(),
                value: 0.2,
                kind: Level::Block,
            },
        ],
        ..Default::default()
    }
}

#[test]
fn bar_chart_basics() {
    let svg = bar_chart(&sample_bars());
    well_formed(&svg);
    assert!(svg.contains(">sex<") && svg.contains(">age_group<"));
    assert!(svg.contains(">warn 0.10<") && svg.contains(">block 0.20<"));
    assert!(svg.contains(">0.120<"), "value label");
    assert!(svg.contains(">n/a<"));
    assert!(svg.contains("age_group — equal_opportunity: no data"));
    // Legend entries for the three metrics.
    for m in [
        "demographic_parity",
        "equal_opportunity",
        "predictive_parity",
    ] {
        assert!(svg.contains(&format!(">{m}</text>")), "{m}");
    }
    // Same metric, same colour in both groups.
    let color = |tip: &str| {
        let line = svg.lines().find(|l| l.contains(tip)).expect("bar");
        let i = line.find("fill=\"").expect("fill") + 6;
        line[i..i + 7].to_string()
    };
    assert_eq!(
        color("sex — predictive_parity"),
        color("age_group — predictive_parity")
    );
}

#[test]
fn bar_chart_negative_and_empty() {
    let spec = BarChart {
        groups: vec![BarGroup {
            label: "g".into(),
            bars: vec![Bar {
                label: "delta".into(),
                value: Some(-0.3),
            }],
        }],
        ..Default::default()
    };
    let svg = bar_chart(&spec);
    well_formed(&svg);
    assert!(svg.contains(">-0.3<") || svg.contains(">-0.30<"));
    assert!(svg.contains("text-anchor=\"end\""));
    well_formed(&bar_chart(&BarChart::default()));
}

fn sample_heat() -> HeatStrip {
    HeatStrip {
        id_prefix: "heat".into(),
        title: "Drift by feature".into(),
        x_title: "Monitoring run".into(),
        score_title: "Drift score".into(),
        rows: vec![
            "age".into(),
            "income".into(),
            "a_very_long_feature_name_indeed_yes".into(),
        ],
        cols: vec![
            "2024-05-01".into(),
            "2024-05-08".into(),
            "2024-05-15".into(),
        ],
        cells: vec![
            vec![
                Some(HeatCell {
                    score: 0.1,
                    drifted: false,
                }),
                Some(HeatCell {
                    score: 0.8,
                    drifted: true,
                }),
                None,
            ],
            vec![Some(HeatCell {
                score: f64::NAN,
                drifted: false,
            })],
        ],
        ..Default::default()
    }
}

#[test]
fn heat_strip_basics() {
    let svg = heat_strip(&sample_heat());
    well_formed(&svg);
    assert!(svg.contains("<title>age, 2024-05-08: 0.800 (drifted)</title>"));
    assert!(svg.contains("<title>age, 2024-05-01: 0.100</title>"));
    assert!(svg.contains("<title>age, 2024-05-15: no data</title>"));
    // NaN and ragged rows are "no data".
    assert!(svg.contains("<title>income, 2024-05-01: no data</title>"));
    assert!(svg.contains("<title>income, 2024-05-15: no data</title>"));
    // Seven cells and the legend swatch.
    assert_eq!(
        svg.matches("fill=\"url(#heat-nodata)\"").count(),
        1 + 3 + 3 + 1
    );
    // One drifted dot plus the legend's.
    assert_eq!(svg.matches("<circle").count(), 2);
    assert!(svg.contains(">no data<") && svg.contains(">drifted<"));
    assert!(svg.contains(">Drift score<"));
    // Long row labels are truncated with the full name in a tooltip.
    assert!(svg.contains("a_very_long_feature_nam…"));
    assert!(svg.contains("<title>a_very_long_feature_name_indeed_yes</title>"));
    well_formed(&heat_strip(&HeatStrip::default()));
}

#[test]
fn heat_colours() {
    assert_eq!(hex(heat_rgb(0.0)), "#fcfdbf");
    assert_eq!(hex(heat_rgb(1.0)), "#51127c");
    assert_eq!(hex(heat_rgb(2.0)), "#51127c");
    assert!(is_light(heat_rgb(0.0)));
    assert!(!is_light(heat_rgb(1.0)));
}

fn sample_lineage() -> Lineage {
    let n = |id: &str, kind: &str, label: &str, detail: Option<&str>, href: Option<&str>| Node {
        id: id.into(),
        kind: kind.into(),
        label: label.into(),
        detail: detail.map(String::from),
        href: href.map(String::from),
    };
    Lineage {
        id_prefix: "lin".into(),
        title: "Lineage of churn v3".into(),
        nodes: vec![
            n(
                "raw",
                "raw_data",
                "s3://bucket/raw/2024-05",
                Some("a1b2c3d"),
                None,
            ),
            n(
                "pipe",
                "pipeline",
                "features.py",
                None,
                Some("../pipelines/features.html"),
            ),
            n("ds", "dataset", "churn-train", Some("sha256:9f8e7d"), None),
            n(
                "commit",
                "commit",
                "Tune regularisation",
                Some("4e5f6a7"),
                None,
            ),
            n("run", "run", "run-42", None, Some("javascript:alert(1)")),
            n(
                "v3",
                "version",
                "churn v3",
                None,
                Some("https://example.com/v3"),
            ),
            n("prod", "alias", "production", None, None),
        ],
        edges: vec![
            ("raw".into(), "pipe".into()),
            ("pipe".into(), "ds".into()),
            ("ds".into(), "run".into()),
            ("commit".into(), "run".into()),
            ("run".into(), "v3".into()),
            ("v3".into(), "prod".into()),
            ("v3".into(), "missing".into()),
            ("v3".into(), "v3".into()),
        ],
        ..Default::default()
    }
}

#[test]
fn lineage_layout_and_links() {
    let svg = lineage_graph(&sample_lineage());
    well_formed(&svg);
    assert!(svg.contains("role=\"group\""));
    assert!(svg.contains("<a href=\"../pipelines/features.html\">"));
    assert!(svg.contains("<a href=\"https://example.com/v3\">"));
    assert!(!svg.contains("javascript"), "javascript: href dropped");
    assert!(
        svg.contains(">run-42<"),
        "node still drawn without its link"
    );
    // Six valid edges, each with an arrow.
    assert_eq!(svg.matches("marker-end=\"url(#lin-arrow)\"").count(), 6);
    // Legend of the kinds present.
    for k in [
        "raw data", "pipeline", "dataset", "commit", "run", "version", "alias",
    ] {
        assert!(svg.contains(&format!(">{k}</text>")), "{k}");
    }
    assert!(!svg.contains(">batch</text>"));
    // Long labels are truncated and kept in full in the tooltip.
    let mut spec = sample_lineage();
    spec.nodes[0].label = "x".repeat(60);
    let svg = lineage_graph(&spec);
    assert!(svg.contains(&format!(">{}<", "x".repeat(20))));
    assert!(svg.contains(&format!(">{}…<", "x".repeat(19))));
    assert!(svg.contains(&format!("raw data: {} (a1b2c3d)", "x".repeat(60))));
}

#[test]
fn lineage_columns_follow_longest_path() {
    let svg = lineage_graph(&sample_lineage());
    let x_of = |label: &str| -> f64 {
        let i = svg.find(&format!(">{label}</text>")).expect("label");
        let start = svg[..i].rfind("<text x=\"").expect("text") + 9;
        let t = &svg[start..];
        t[..t.find('"').unwrap_or(0)].parse().expect("x")
    };
    let order = [
        "s3://bucket/raw/",
        "features.py",
        "churn-train",
        "run-42",
        "churn v3",
        "production",
    ];
    for w in order.windows(2) {
        assert!(x_of(w[0]) < x_of(w[1]), "{} before {}", w[0], w[1]);
    }
    // The commit source is pulled next to the run it feeds.
    assert_eq!(x_of("Tune regularisation"), x_of("churn-train"));
}

#[test]
fn lineage_survives_cycles_and_duplicates() {
    let spec = Lineage {
        nodes: vec![
            Node {
                id: "a".into(),
                kind: "run".into(),
                label: "A".into(),
                ..Default::default()
            },
            Node {
                id: "b".into(),
                kind: "run".into(),
                label: "B".into(),
                ..Default::default()
            },
            Node {
                id: "a".into(),
                kind: "run".into(),
                label: "dup".into(),
                ..Default::default()
            },
        ],
        edges: vec![("a".into(), "b".into()), ("b".into(), "a".into())],
        ..Default::default()
    };
    let svg = lineage_graph(&spec);
    well_formed(&svg);
    assert!(!svg.contains(">dup<"));
    assert!(svg.contains("role=\"img\""));
    well_formed(&lineage_graph(&Lineage::default()));
}

#[test]
fn label_wrapping() {
    assert_eq!(wrap2("short", 20), vec!["short"]);
    assert_eq!(
        wrap2("s3://lake/raw/customers/2024-05-01/part-0000.parquet", 20),
        vec!["s3://lake/raw/", "customers/2024-05-0…"]
    );
    assert_eq!(
        wrap2("Tune L2 regularisation now", 20),
        vec!["Tune L2", "regularisation now"]
    );
    assert_eq!(
        wrap2(&"é".repeat(25), 20),
        vec!["é".repeat(20), "é".repeat(5)]
    );
}

#[test]
fn href_filter() {
    assert_eq!(safe_href("page.html#x"), Some("page.html#x"));
    assert_eq!(safe_href("../a/b.html"), Some("../a/b.html"));
    assert_eq!(safe_href("a:b/c"), None);
    assert_eq!(safe_href("dir/a:b"), Some("dir/a:b"));
    assert_eq!(safe_href("HTTPS://x.org"), Some("HTTPS://x.org"));
    assert_eq!(safe_href(" http://x.org "), Some("http://x.org"));
    assert_eq!(safe_href("javascript:alert(1)"), None);
    assert_eq!(safe_href("JavaScript:alert(1)"), None);
    assert_eq!(safe_href("java\tscript:alert(1)"), None);
    assert_eq!(safe_href("\u{1}javascript:alert(1)"), None);
    assert_eq!(safe_href("data:text/html,x"), None);
    assert_eq!(safe_href("vbscript:x"), None);
    assert_eq!(safe_href("//evil.example/x"), None);
    assert_eq!(safe_href("/\\evil.example"), None);
    assert_eq!(safe_href(""), None);
}

#[test]
fn crowded_labels_are_thinned() {
    let shown = shown_labels(100, 60.0, 600.0);
    assert!(shown[99], "last label always shown");
    let count = shown.iter().filter(|&&s| s).count();
    assert!((5..=9).contains(&count), "{count}");
    assert!(shown_labels(3, 10.0, 600.0).iter().all(|&s| s));
    assert!(shown_labels(0, 10.0, 600.0).is_empty());
}
