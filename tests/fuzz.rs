//! Property tests ("fuzzing") of the parsers that read bytes an attacker may control: the YAML
//! loader (`yaml::parse` + `yaml::from_node` into the registry schema), `allowed_signers`, the
//! search filter grammar and the audit log. Every property asserts at least "no panic"; the
//! grammar-aware ones also round-trip or check that errors carry a position inside the input.
//! Each module ends with explicit regression tests (deep nesting, exponential globs, 1 MiB
//! inputs).
//!
//! The default run is a smoke test: `FUZZ_DEFAULT_CASES` cases per property, a few seconds for
//! the lot. Long runs raise the case count and set a wall-clock budget per property (in
//! seconds); the seed is then random unless FUZZ_SEED is given, and each property prints
//! "fuzz <name>: N cases in T s (seed S)". The long runs of this branch were, one module after
//! the other, the test binary that `cargo test --test tests --no-run` builds (copied aside so
//! that rebuilds do not replace it mid-run), with FUZZ_SECS per property chosen so that each
//! module (target) runs 10 minutes: yaml 120 s × 5 properties, signers and search 150 s × 4,
//! audit 200 s × 3:
//!
//! ```text
//! PROPTEST_CASES=1000000000 FUZZ_SECS=120 nice -n 19 \
//!     target/debug/deps/tests-<hash> fuzz::yaml:: --test-threads=1 --nocapture
//! ```
//!
//! or through cargo, the same: `PROPTEST_CASES=1000000000 FUZZ_SECS=120 nice -n 19 cargo test
//! --test tests fuzz::yaml:: -- --test-threads=1 --nocapture`.
//!
//! Results (debug build of commit 7dcf2d2, 2 shared cores, random seeds, no failures):
//!
//! | target  | FUZZ_SECS × properties | wall  | cases     | failures |
//! |---------|------------------------|-------|-----------|----------|
//! | signers | 150 × 4                | 601 s | 6,348,000 | 0        |
//! | search  | 150 × 4                | 602 s | 6,030,000 | 0        |
//! | audit   | 200 × 3                | 603 s | 3,896,000 | 0        |
//! | yaml    | 120 × 5                | 606 s | 2,650,000 | 0        |
//!
//! The smoke run with new properties found the position bugs fixed in 0c1f49d; an earlier
//! 10-minute yaml run (before that property existed) ran 2,128,000 cases without failure.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestError, TestRng, TestRunner};
use std::time::{Duration, Instant};

/// Cases per property when PROPTEST_CASES is not set.
const FUZZ_DEFAULT_CASES: u64 = 200;

/// Runs `test` on values of `strategy`: PROPTEST_CASES cases (or the default), in chunks with a
/// fresh seed each, stopping early when FUZZ_SECS has passed. A failure panics with the
/// shrunk input.
fn run<S: Strategy>(name: &str, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u64>().ok());
    let cases = env("PROPTEST_CASES").unwrap_or(FUZZ_DEFAULT_CASES);
    let budget = env("FUZZ_SECS").map(Duration::from_secs);
    let seed = env("FUZZ_SEED").unwrap_or_else(|| match budget {
        // A long run explores: a new seed each time. The smoke run is reproducible.
        Some(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1),
        None => 0x6d6f_6465_6c67_6174,
    });
    let start = Instant::now();
    let mut done = 0u64;
    let mut chunk = 0u64;
    while done < cases && budget.is_none_or(|b| start.elapsed() < b) {
        let n = (cases - done).min(2000);
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&seed.to_le_bytes());
        bytes[8..16].copy_from_slice(&chunk.to_le_bytes());
        let config = Config {
            cases: n as u32,
            failure_persistence: None,
            ..Config::default()
        };
        let mut runner =
            TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes));
        match runner.run(&strategy, &test) {
            Ok(()) => {}
            Err(TestError::Fail(why, value)) => {
                panic!("fuzz {name} failed (seed {seed}, chunk {chunk}): {why}\ninput: {value:?}")
            }
            Err(e) => panic!("fuzz {name}: {e}"),
        }
        done += n;
        chunk += 1;
    }
    eprintln!(
        "fuzz {name}: {done} cases in {:.1} s (seed {seed})",
        start.elapsed().as_secs_f64()
    );
}

/// Text from a vocabulary of tokens: hostile inputs that stay close to the grammar, which
/// random characters rarely reach.
fn soup(vocab: &'static [&'static str], max: usize) -> impl Strategy<Value = String> + Clone {
    prop::collection::vec(prop::sample::select(vocab), 0..max).prop_map(|t| t.concat())
}

/// Arbitrary text: any Unicode, or bytes made UTF-8 (as a registry read does before parsing).
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::collection::vec(any::<u8>(), 0..400)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

/// A text with one edit: an insertion of `insert`, a deletion, or a duplicated slice.
fn mutate(
    base: &'static str,
    insert: impl Strategy<Value = String>,
) -> impl Strategy<Value = String> {
    let len = base.len();
    (0..=len, 0..=len, 0..3u8, insert).prop_map(move |(a, b, how, ins)| {
        let floor = |mut i: usize| {
            while !base.is_char_boundary(i) {
                i -= 1;
            }
            i
        };
        let (a, b) = (floor(a.min(b)), floor(a.max(b)));
        match how {
            0 => format!("{}{ins}{}", &base[..a], &base[a..]),
            1 => format!("{}{}", &base[..a], &base[b..]),
            _ => format!("{}{}{}", &base[..b], &base[a..b], &base[b..]),
        }
    })
}

mod yaml {
    use super::*;
    use modelgate::registry::schema::{ApprovalFile, ModelSpec, Policy, VersionSpec};
    use modelgate::yaml::{self, MAX_DEPTH, Node, NodeKind, Span};

    const VERSION: &str = include_str!("fixtures/_base/registry/models/churn/versions/v1.yaml");
    const POLICY: &str = include_str!("fixtures/_base/registry/policy.yaml");

    const VOCAB: &[&str] = &[
        "- ",
        "-",
        "[",
        "]",
        "{",
        "}",
        ": ",
        ":",
        ",",
        "\n",
        "  ",
        "    ",
        "\t",
        "? ",
        "&a ",
        "*a",
        "!t ",
        "!!str ",
        "!!int ",
        "'",
        "''",
        "\"",
        "\\",
        "\\u00e9",
        "|",
        ">",
        "|-",
        "#",
        "---",
        "...",
        "key",
        "version",
        "metrics",
        "x",
        "1",
        "-2",
        "0x1f",
        "0o17",
        "1e309",
        ".inf",
        ".nan",
        "~",
        "null",
        "true",
        "%YAML 1.2\n",
        "%TAG ! tag:x,2000:\n",
        "é",
        "\u{feff}",
        "\r\n",
        "\u{85}",
        "\u{2028}",
        " ",
    ];

    /// The line and column of a byte offset: YAML breaks lines at `\n`, `\r\n` and `\r`.
    fn line_col(text: &str, offset: usize) -> (u32, u32) {
        let mut line = 1;
        let mut col = 1;
        let mut chars = text[..offset].chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\n' || (c == '\r' && chars.peek() != Some(&'\n')) {
                line += 1;
                col = 1;
            } else if c != '\r' {
                col += 1;
            }
        }
        (line, col)
    }

    fn well_placed(span: Span, text: &str) -> Result<(), TestCaseError> {
        for p in [span.start, span.end] {
            prop_assert!(p.line >= 1 && p.column >= 1, "position {p:?}");
            prop_assert!(
                p.offset <= text.len(),
                "offset {} > {}",
                p.offset,
                text.len()
            );
            prop_assert!(
                text.is_char_boundary(p.offset),
                "offset {} inside a char",
                p.offset
            );
            // Line and column say the same as the offset (a BOM at the start is not counted).
            let bom = u32::from(text.starts_with('\u{feff}') && p.offset > 0);
            let (line, col) = line_col(text, p.offset);
            let col = if line == 1 { col - bom } else { col };
            prop_assert_eq!((p.line, p.column), (line, col), "position {:?}", p);
        }
        prop_assert!(
            span.start.offset <= span.end.offset,
            "span {span:?} ends before it starts"
        );
        Ok(())
    }

    fn depth(n: &Node) -> usize {
        match &n.kind {
            NodeKind::Scalar(..) => 0,
            NodeKind::Seq(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
            NodeKind::Map(e) => 1 + e.iter().map(|(_, v)| depth(v)).max().unwrap_or(0),
        }
    }

    fn spans_ok(n: &Node, text: &str) -> Result<(), TestCaseError> {
        well_placed(n.span, text)?;
        match &n.kind {
            NodeKind::Scalar(..) => Ok(()),
            NodeKind::Seq(items) => items.iter().try_for_each(|i| spans_ok(i, text)),
            NodeKind::Map(e) => e.iter().try_for_each(|(k, v)| {
                spans_ok(k, text)?;
                spans_ok(v, text)
            }),
        }
    }

    /// The property every YAML input must have: parse and deserialize into every schema type
    /// without panicking; errors and nodes point inside the text; nesting stays bounded.
    fn check(text: &str) -> Result<(), TestCaseError> {
        match yaml::parse(text) {
            Err(e) => well_placed(e.span, text),
            Ok(node) => {
                prop_assert!(depth(&node) <= MAX_DEPTH);
                spans_ok(&node, text)?;
                fn de<T: serde::de::DeserializeOwned>(
                    n: &Node,
                    text: &str,
                ) -> Result<(), TestCaseError> {
                    if let Err(e) = yaml::from_node::<T>(n) {
                        prop_assert!(e.span.is_some(), "no position for {}", e.message);
                        well_placed(e.span.unwrap_or_default(), text)?;
                    }
                    Ok(())
                }
                de::<VersionSpec>(&node, text)?;
                de::<ModelSpec>(&node, text)?;
                de::<Policy>(&node, text)?;
                de::<ApprovalFile>(&node, text)?;
                de::<serde_json::Value>(&node, text)
            }
        }
    }

    #[test]
    fn arbitrary_text() {
        run("yaml::arbitrary_text", any_text(), |t| check(&t));
    }

    #[test]
    fn token_soup() {
        run("yaml::token_soup", soup(VOCAB, 80), |t| check(&t));
    }

    #[test]
    fn mutated_registry_files() {
        let edit = soup(VOCAB, 6);
        let s = prop_oneof![mutate(VERSION, edit.clone()), mutate(POLICY, edit)];
        run("yaml::mutated_registry_files", s, |t| check(&t));
    }

    /// A value tree to write as YAML and read back.
    #[derive(Clone, Debug, PartialEq)]
    enum V {
        Str(String),
        Seq(Vec<V>),
        Map(Vec<(String, V)>),
    }

    fn tree() -> impl Strategy<Value = V> {
        let leaf = any::<String>().prop_map(V::Str);
        leaf.prop_recursive(6, 64, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(V::Seq),
                prop::collection::vec((any::<String>(), inner), 0..6).prop_map(|mut e| {
                    let mut seen = std::collections::HashSet::new();
                    e.retain(|(k, _)| seen.insert(k.clone()));
                    V::Map(e)
                }),
            ]
        })
    }

    /// A double-quoted scalar with every character that YAML might not take as-is escaped.
    fn quoted(s: &str) -> String {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                ' '..='~' => out.push(c),
                c if (c as u32) < 0xa0
                    || matches!(
                        c,
                        '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
                    ) =>
                {
                    out.push_str(&format!("\\U{:08x}", c as u32))
                }
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    fn flow(v: &V) -> String {
        match v {
            V::Str(s) => quoted(s),
            V::Seq(items) => format!(
                "[{}]",
                items.iter().map(flow).collect::<Vec<_>>().join(", ")
            ),
            V::Map(e) => format!(
                "{{{}}}",
                e.iter()
                    .map(|(k, v)| format!("{}: {}", quoted(k), flow(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    fn block(v: &V, indent: usize, out: &mut String) {
        let pad = " ".repeat(indent);
        let nested = |v: &V, out: &mut String| match v {
            V::Seq(i) if !i.is_empty() => {
                out.push('\n');
                block(v, indent + 2, out)
            }
            V::Map(e) if !e.is_empty() => {
                out.push('\n');
                block(v, indent + 2, out)
            }
            _ => {
                out.push(' ');
                out.push_str(&flow(v));
                out.push('\n');
            }
        };
        match v {
            V::Seq(items) if !items.is_empty() => {
                for i in items {
                    out.push_str(&pad);
                    out.push('-');
                    nested(i, out);
                }
            }
            V::Map(e) if !e.is_empty() => {
                for (k, v) in e {
                    out.push_str(&pad);
                    out.push_str(&quoted(k));
                    out.push(':');
                    nested(v, out);
                }
            }
            _ => {
                out.push_str(&pad);
                out.push_str(&flow(v));
                out.push('\n');
            }
        }
    }

    fn back(n: &Node) -> Option<V> {
        Some(match &n.kind {
            NodeKind::Scalar(s, yaml::Style::Quoted) => V::Str(s.clone()),
            NodeKind::Scalar(..) => return None,
            NodeKind::Seq(items) => V::Seq(items.iter().map(back).collect::<Option<_>>()?),
            NodeKind::Map(e) => V::Map(
                e.iter()
                    .map(|(k, v)| match &k.kind {
                        NodeKind::Scalar(s, _) => Some((s.clone(), back(v)?)),
                        _ => None,
                    })
                    .collect::<Option<_>>()?,
            ),
        })
    }

    /// Written in flow and in block style, any tree of strings reads back as itself.
    #[test]
    fn round_trip() {
        run("yaml::round_trip", tree(), |v| {
            let f = flow(&v);
            let mut b = String::new();
            block(&v, 0, &mut b);
            for text in [f, b] {
                let node = yaml::parse(&text).map_err(|e| {
                    TestCaseError::fail(format!("{}: {}\n{text}", e.span, e.message))
                })?;
                prop_assert_eq!(back(&node), Some(v.clone()), "text:\n{}", text);
                spans_ok(&node, &text)?;
            }
            Ok(())
        });
    }

    /// Nesting of any kind up to a few times the limit: accepted up to it, refused past it with
    /// an error on line 1 or on the line where the limit is crossed.
    #[test]
    fn nesting() {
        let s = (0..3 * MAX_DEPTH, 0..5u8);
        run("yaml::nesting", s, |(n, kind)| {
            let text = nested(kind, n);
            let r = yaml::parse(&text);
            if n <= MAX_DEPTH {
                prop_assert!(r.is_ok(), "depth {n} kind {kind}: {:?}", r.err());
            } else {
                let e = r
                    .err()
                    .ok_or_else(|| TestCaseError::fail("deep nesting accepted"))?;
                prop_assert!(e.message.contains("deeper than"), "{}", e.message);
                well_placed(e.span, &text)?;
            }
            Ok(())
        });
    }

    /// `n` nested collections of one kind, around a scalar.
    fn nested(kind: u8, n: usize) -> String {
        match kind {
            0 => format!("{}x{}", "[".repeat(n), "]".repeat(n)),
            1 => format!("{}x{}", "{a: ".repeat(n), "}".repeat(n)),
            2 => format!("{}x\n", "- ".repeat(n)),
            3 => {
                (0..n)
                    .map(|i| format!("{}a:\n", " ".repeat(i)))
                    .collect::<String>()
                    + &" ".repeat(n)
                    + "x\n"
            }
            _ => {
                (0..n)
                    .map(|i| format!("{}-\n", " ".repeat(i)))
                    .collect::<String>()
                    + &" ".repeat(n)
                    + "x\n"
            }
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        for kind in 0..5 {
            // Block nesting indents every level: as deep as fits in 1 MiB.
            let n = if kind >= 3 { 1000 } else { 100_000 };
            let text = nested(kind, n);
            let e = yaml::parse(&text).unwrap_err();
            assert!(
                e.message.contains("deeper than 128 levels"),
                "kind {kind}: {}",
                e.message
            );
            let at = e.span.start;
            assert!(at.line >= 1 && at.column >= 1, "{at:?}");
            // Where the limit is crossed: the 129th level, or for `[` and `{` on one line the
            // 256th, where saphyr-parser's scanner (which reads a line ahead) stops first.
            let expected = [
                (1, 256),
                (1, 4 * 255 + 1),
                (1, 2 * 128 + 1),
                (129, 129),
                (129, 129),
            ];
            assert_eq!((at.line, at.column), expected[kind as usize], "kind {kind}");
        }
        // Just at the limit is fine.
        assert!(yaml::parse(&nested(0, MAX_DEPTH)).is_ok());
        assert!(yaml::parse(&nested(2, MAX_DEPTH)).is_ok());
    }

    #[test]
    fn huge_scalars_and_keys_parse_in_bounded_time() {
        // Just under the registry's 1 MiB file limit; each would take minutes if scanning were
        // quadratic.
        let big = "a".repeat(1_000_000);
        for text in [
            format!("k: {big}\n"),
            format!("k: \"{big}\"\n"),
            format!("k: |\n  {big}\n"),
            format!("{big}: 1\n"),
            format!("\"{big}\": 1\n"),
            format!("[{big}]"),
        ] {
            if let Ok(node) = yaml::parse(&text) {
                assert!(matches!(node.kind, NodeKind::Map(_) | NodeKind::Seq(_)));
            }
        }
        // Half a million nodes, the most 1 MiB can hold.
        let NodeKind::Seq(items) = yaml::parse(&format!("[{}a]", "a,".repeat(500_000)))
            .unwrap()
            .kind
        else {
            panic!("not a sequence")
        };
        assert_eq!(items.len(), 500_001);
        // 100,000 distinct keys: duplicate detection must not be quadratic.
        let many: String = (0..100_000).map(|i| format!("k{i}: 1\n")).collect();
        assert!(many.len() < 1024 * 1024);
        let NodeKind::Map(e) = yaml::parse(&many).unwrap().kind else {
            panic!("not a mapping")
        };
        assert_eq!(e.len(), 100_000);
        let dup = format!("{many}k99999: 2\n");
        let e = yaml::parse(&dup).unwrap_err();
        assert!(e.duplicate_key);
        assert_eq!(e.span.start.line, 100_001);
    }

    #[test]
    fn keys_are_duplicates_whatever_their_quoting() {
        let e = yaml::parse("a: 1\n\"a\": 2\n").unwrap_err();
        assert!(e.duplicate_key, "{}", e.message);
        assert_eq!((e.span.start.line, e.span.start.column), (2, 1));
    }

    #[test]
    fn signed_hex_and_octal_are_strings() {
        for s in ["0x-1", "0x+1", "0o-7", "0x", "0o"] {
            let node = yaml::parse(s).unwrap();
            assert_eq!(node.resolve(), Some(yaml::Resolved::Str(s)), "{s}");
        }
        assert_eq!(
            yaml::parse("0x1f").unwrap().resolve(),
            Some(yaml::Resolved::Int(31))
        );
    }

    /// A version file over the 1 MiB limit is refused before parsing, even when it is one huge
    /// scalar; one just under it is read.
    #[test]
    fn the_file_size_limit_holds_for_huge_scalars() {
        use modelgate::registry::source::FsSource;
        let limit = modelgate::registry::MAX_YAML_BYTES as usize;
        for (size, refused) in [(limit - 64, false), (limit + 1, true)] {
            let dir = crate::util::fixture("_base");
            let text = format!("tag_{}: x\n", "k".repeat(size - 8));
            assert_eq!(text.len(), size);
            let path = dir.path().join("registry/models/churn/versions/v1.yaml");
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &text).unwrap();
            let loaded =
                modelgate::registry::load(Box::new(FsSource::new(dir.path()).unwrap())).unwrap();
            let too_large = loaded
                .diagnostics
                .iter()
                .any(|d| d.code == modelgate::diag::Code::TooLarge);
            assert_eq!(too_large, refused, "size {size}");
        }
    }
}

mod signers {
    use super::*;
    use modelgate::signing::allowed_signers::{
        AllowedSigners, MAX_LINE_ERRORS, MAX_PRINCIPAL_LEN, Signer,
    };

    const VOCAB: &[&str] = &[
        "alice@example.com",
        "*",
        "?",
        "!",
        ",",
        " ",
        "\t",
        "\"",
        "=",
        "namespaces=",
        "valid-after=",
        "valid-before=",
        "cert-authority",
        "20240101",
        "20240101Z",
        "202401011200",
        "20241301",
        "99999999",
        "ssh-ed25519",
        "ecdsa-sha2-nistp256",
        "sk-",
        "ssh-",
        "AAAAC3Nza",
        "+/=",
        "\n",
        "#",
        "é",
        "\r",
        "modelgate-approval,git",
    ];

    fn check(text: &str) -> Result<(), TestCaseError> {
        let (s, errors) = AllowedSigners::parse(text);
        let lines = text.lines().count() as u32;
        prop_assert!(errors.len() <= MAX_LINE_ERRORS + 1);
        for e in &errors {
            prop_assert!(e.line >= 1 && e.line <= lines, "line {} of {lines}", e.line);
        }
        for k in &s.signers {
            prop_assert!(k.line >= 1 && k.line <= lines);
            prop_assert!(!k.principals.is_empty());
            prop_assert!(k.public_key.starts_with(&k.key_type));
            // Matching any principal against the patterns terminates without panicking.
            let _ = k.matches_principal("alice@example.com");
            let _ = s.knows_principal(text);
        }
        Ok(())
    }

    #[test]
    fn arbitrary_text() {
        run("signers::arbitrary_text", any_text(), |t| check(&t));
    }

    #[test]
    fn token_soup() {
        run("signers::token_soup", soup(VOCAB, 40), |t| check(&t));
    }

    /// The reference: OpenSSH's `match_pattern` as a table over prefixes, obviously right and
    /// polynomial.
    fn reference(p: &[u8], s: &[u8]) -> bool {
        let mut m = vec![vec![false; s.len() + 1]; p.len() + 1];
        m[p.len()][s.len()] = true;
        for i in (0..p.len()).rev() {
            for j in (0..=s.len()).rev() {
                m[i][j] = match p[i] {
                    b'*' => m[i + 1][j] || (j < s.len() && m[i][j + 1]),
                    b'?' => j < s.len() && m[i + 1][j + 1],
                    c => j < s.len() && s[j] == c && m[i + 1][j + 1],
                };
            }
        }
        m[0][0]
    }

    fn signer(principals: Vec<String>) -> Signer {
        Signer {
            line: 1,
            principals,
            namespaces: None,
            valid_after: None,
            valid_before: None,
            key_type: "ssh-ed25519".into(),
            public_key: "ssh-ed25519 AAAA".into(),
        }
    }

    /// Globs agree with the reference on small alphabets, where every corner case is hit.
    #[test]
    fn glob_matches_the_reference() {
        run(
            "signers::glob_matches_the_reference",
            ("[ab*?]{0,12}", "[ab]{0,14}"),
            |(p, s)| {
                let got = signer(vec![p.clone()]).matches_principal(&s);
                prop_assert_eq!(
                    got,
                    reference(p.as_bytes(), s.as_bytes()),
                    "pattern {} on {}",
                    p,
                    s
                );
                // A negated pattern only ever takes away.
                let neg = signer(vec!["*".into(), format!("!{p}")]).matches_principal(&s);
                prop_assert_eq!(neg, !reference(p.as_bytes(), s.as_bytes()));
                Ok(())
            },
        );
    }

    /// A line written from its fields reads back as those fields.
    #[test]
    fn round_trip() {
        let fields = (
            prop::collection::vec("[a-z0-9@.*?_-]{1,12}", 1..4),
            prop::option::of(prop::collection::vec("[a-z-]{1,10}", 1..3)),
            prop::option::of(0i64..4_000_000_000),
            prop::sample::select(
                &[
                    "ssh-ed25519",
                    "ecdsa-sha2-nistp256",
                    "ssh-rsa",
                    "sk-ssh-ed25519@openssh.com",
                ][..],
            ),
            "[A-Za-z0-9+/]{1,60}={0,2}",
            prop::option::of("[ -~]{0,20}"),
        );
        run(
            "signers::round_trip",
            fields,
            |(principals, ns, after, kt, blob, comment)| {
                let mut options = Vec::new();
                if let Some(ns) = &ns {
                    options.push(format!("namespaces=\"{}\"", ns.join(",")));
                }
                let after = after.and_then(|t| chrono::DateTime::from_timestamp(t, 0));
                if let Some(t) = after {
                    options.push(format!("valid-after={}Z", t.format("%Y%m%d%H%M%S")));
                }
                let mut line = principals.join(",");
                if !options.is_empty() {
                    line.push(' ');
                    line.push_str(&options.join(","));
                }
                line.push_str(&format!(" {kt} {blob}"));
                if let Some(c) = &comment {
                    line.push(' ');
                    line.push_str(c);
                }
                let (s, errors) = AllowedSigners::parse(&line);
                prop_assert!(errors.is_empty(), "{errors:?}\n{line}");
                prop_assert_eq!(s.signers.len(), 1);
                let k = &s.signers[0];
                prop_assert_eq!(&k.principals, &principals);
                prop_assert_eq!(&k.namespaces, &ns);
                prop_assert_eq!(k.valid_after, after);
                prop_assert_eq!(&k.key_type, kt);
                prop_assert_eq!(&k.public_key, &format!("{kt} {blob}"));
                Ok(())
            },
        );
    }

    /// (The matcher itself on a 10,000-byte input: `allowed_signers::tests`.)
    #[test]
    fn exponential_glob_patterns_finish() {
        let s = "a".repeat(MAX_PRINCIPAL_LEN);
        let k = signer(vec!["*a*a*a*a*a*a*a*a*a*a*b".into()]);
        assert!(!k.matches_principal(&s));
        let k = signer(vec!["*a*a*a*a*a*a*a*a*a*a*a".into()]);
        assert!(k.matches_principal(&s));
        let k = signer(vec!["*?*?*?*?*?*?*?*?*?*?*?*?*b".into()]);
        assert!(!k.matches_principal(&s));
        // Not exponential, but O(|p|·|s|) at worst: both lengths are bounded.
        let long = format!("*{}b", "a".repeat(MAX_PRINCIPAL_LEN - 2));
        let k = signer(vec![long.clone()]);
        assert!(!k.matches_principal(&"a".repeat(MAX_PRINCIPAL_LEN)));
        assert!(!signer(vec!["*".into()]).matches_principal(&"a".repeat(MAX_PRINCIPAL_LEN + 1)));
        let (_, e) = AllowedSigners::parse(&format!("{long}a ssh-ed25519 AAAA\n"));
        assert!(e[0].message.contains("at most 1024"), "{}", e[0].message);
        // The principal comes from a line of the file, too.
        let (f, e) = AllowedSigners::parse("*a*a*a*a*a*a*a*a*a*a*a*a*b ssh-ed25519 AAAA\n");
        assert!(e.is_empty());
        assert!(!f.knows_principal(&s));
    }

    /// A megabyte of garbage gives a bounded list of errors, quickly.
    #[test]
    fn a_file_of_garbage_gives_few_errors() {
        let (_, e) = AllowedSigners::parse(&"x\n".repeat(MAX_LINE_ERRORS + 1));
        assert_eq!(e.len(), MAX_LINE_ERRORS + 1);
        assert!(e[MAX_LINE_ERRORS].message.contains("(100 errors above)"));
        let text = "x\n".repeat(512 * 1024);
        let (s, e) = AllowedSigners::parse(&text);
        assert!(s.signers.is_empty());
        assert_eq!(e.len(), MAX_LINE_ERRORS + 1);
        let last = &e[MAX_LINE_ERRORS];
        assert_eq!(last.line, MAX_LINE_ERRORS as u32 + 1);
        assert!(
            last.message
                .contains(&format!("{} more", 512 * 1024 - MAX_LINE_ERRORS - 1)),
            "{}",
            last.message
        );
    }
}

mod search {
    use super::*;
    use modelgate::lifecycle::search::{self, Expr, Field, Hit, Lit, MAX_DEPTH, MAX_TERMS};
    use std::collections::BTreeMap;

    const VOCAB: &[&str] = &[
        "(",
        ")",
        " AND ",
        " OR ",
        " and ",
        " IN ",
        " LIKE ",
        " ILIKE ",
        "metrics.a",
        "metric.b",
        "params.c",
        "tags.d",
        "name",
        "version",
        "created_at",
        "stage",
        "alias",
        "nme",
        "foo.x",
        "'x'",
        "'%a_'",
        "\"y\"",
        "'",
        "\"",
        "`q r`",
        "`",
        "1",
        "-2.5e3",
        "1e999",
        ".5",
        "-",
        "=",
        "!=",
        ">=",
        "<=",
        "<",
        ">",
        "!",
        ",",
        " ",
        "\t",
        "%",
        "é",
        "metrics.",
        "0x1",
    ];

    fn hits<'a>(
        params: &'a BTreeMap<String, serde_json::Value>,
        tags: &'a BTreeMap<String, String>,
        name: &'a str,
    ) -> Vec<Hit<'a>> {
        let mut metrics = BTreeMap::new();
        metrics.insert("a", 0.5);
        vec![
            Hit {
                name,
                version: 1,
                stage: "champion",
                aliases: vec!["champion"],
                created_at: "2024-01-01T00:00:00Z",
                metrics,
                params,
                tags,
            },
            Hit {
                name: "",
                version: 2,
                stage: "staging",
                aliases: vec![],
                created_at: "",
                metrics: BTreeMap::new(),
                params,
                tags,
            },
        ]
    }

    /// Parses; an error names a column inside the filter (or just past its end); what parses
    /// can be matched and ordered without panicking.
    fn check(filter: &str) -> Result<(), TestCaseError> {
        let end = filter.chars().count() + 1;
        match search::parse(filter) {
            Err(e) => prop_assert!(
                e.column >= 1 && e.column <= end,
                "column {} of {end}",
                e.column
            ),
            Ok(expr) => {
                let params = BTreeMap::from([("c".to_string(), serde_json::json!(3))]);
                let tags = BTreeMap::from([("d".to_string(), "xa".to_string())]);
                let order = search::parse_order("metrics.a DESC")
                    .map_err(|e| TestCaseError::fail(e.message))?;
                let _ = search::search_hits(
                    hits(&params, &tags, "m").into_iter(),
                    expr.as_ref(),
                    &[order],
                    10,
                );
            }
        }
        if let Err(e) = search::parse_order(filter) {
            prop_assert!(
                e.column >= 1 && e.column <= end,
                "order column {} of {end}",
                e.column
            );
        }
        Ok(())
    }

    #[test]
    fn arbitrary_text() {
        run("search::arbitrary_text", any_text(), |t| check(&t));
    }

    #[test]
    fn token_soup() {
        run("search::token_soup", soup(VOCAB, 40), |t| check(&t));
    }

    fn expr() -> impl Strategy<Value = Expr> {
        let name = "[a-z_][a-z0-9_]{0,8}";
        let num = prop_oneof![(-1e6f64..1e6), any::<i32>().prop_map(f64::from)];
        let text = "[^'\u{0}]{0,10}";
        let lit = prop_oneof![num.clone().prop_map(Lit::Num), text.prop_map(Lit::Str)];
        let ops = prop::sample::select(&["=", "!=", ">", ">=", "<", "<="][..]);
        let str_ops = prop::sample::select(&["=", "!=", "LIKE", "ILIKE"][..]);
        let cmp = prop_oneof![
            (name, ops.clone(), num.clone()).prop_map(|(n, o, x)| Expr::Cmp(
                Field::Metric(n),
                o.into(),
                Lit::Num(x)
            )),
            (name, str_ops, text).prop_map(|(n, o, s)| Expr::Cmp(
                Field::Tag(n),
                o.into(),
                Lit::Str(s)
            )),
            (name, ops.clone(), num).prop_map(|(n, o, x)| Expr::Cmp(
                Field::Param(n),
                o.into(),
                Lit::Num(x)
            )),
            (ops, text).prop_map(|(o, s)| Expr::Cmp(
                Field::Attr("created_at".into()),
                o.into(),
                Lit::Str(s)
            )),
            (
                prop::sample::select(&["name", "version", "stage", "alias"][..]),
                prop::collection::vec(lit, 1..4)
            )
                .prop_map(|(a, v)| Expr::In(Field::Attr(a.into()), v)),
        ];
        cmp.prop_recursive(8, 64, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone())
                    .prop_map(|(a, b)| Expr::And(Box::new(a), Box::new(b))),
                (inner.clone(), inner).prop_map(|(a, b)| Expr::Or(Box::new(a), Box::new(b))),
            ]
        })
    }

    fn lit(l: &Lit) -> String {
        match l {
            Lit::Num(x) => format!("{x:?}"),
            Lit::Str(s) => format!("'{s}'"),
        }
    }

    /// The filter text of an expression, every operand parenthesised.
    fn write(e: &Expr) -> String {
        let field = |f: &Field| match f {
            Field::Metric(n) => format!("metrics.{n}"),
            Field::Param(n) => format!("params.{n}"),
            Field::Tag(n) => format!("tags.{n}"),
            Field::Attr(n) => n.clone(),
        };
        match e {
            Expr::Cmp(f, op, l) => format!("{} {op} {}", field(f), lit(l)),
            Expr::In(f, v) => format!(
                "{} IN ({})",
                field(f),
                v.iter().map(lit).collect::<Vec<_>>().join(", ")
            ),
            Expr::And(a, b) => format!("({}) AND ({})", write(a), write(b)),
            Expr::Or(a, b) => format!("({}) OR ({})", write(a), write(b)),
        }
    }

    #[test]
    fn round_trip() {
        run("search::round_trip", expr(), |e| {
            let text = write(&e);
            let back =
                search::parse(&text).map_err(|x| TestCaseError::fail(format!("{x}: {text}")))?;
            prop_assert_eq!(back, Some(e), "{}", text);
            Ok(())
        });
    }

    /// SQL LIKE through a search, against a table-driven reference.
    #[test]
    fn like_matches_the_reference() {
        fn reference(p: &[char], s: &[char]) -> bool {
            let mut m = vec![vec![false; s.len() + 1]; p.len() + 1];
            m[p.len()][s.len()] = true;
            for i in (0..p.len()).rev() {
                for j in (0..=s.len()).rev() {
                    m[i][j] = match p[i] {
                        '%' => m[i + 1][j] || (j < s.len() && m[i][j + 1]),
                        '_' => j < s.len() && m[i + 1][j + 1],
                        c => j < s.len() && s[j] == c && m[i + 1][j + 1],
                    };
                }
            }
            m[0][0]
        }
        run(
            "search::like_matches_the_reference",
            ("[ab%_é]{0,10}", "[abé]{0,12}"),
            |(p, s)| {
                let params = BTreeMap::new();
                let tags = BTreeMap::new();
                let filter = search::parse(&format!("name LIKE '{p}'"))
                    .map_err(|e| TestCaseError::fail(e.message))?;
                let found = search::search_hits(
                    hits(&params, &tags, &s).into_iter().take(1),
                    filter.as_ref(),
                    &[],
                    10,
                );
                let pc: Vec<char> = p.chars().collect();
                let sc: Vec<char> = s.chars().collect();
                prop_assert_eq!(found.len() == 1, reference(&pc, &sc), "{} LIKE {}", s, p);
                Ok(())
            },
        );
    }

    #[test]
    fn deep_parentheses_are_an_error_not_a_stack_overflow() {
        let n = 100_000;
        let f = format!("{}name = 'x'{}", "(".repeat(n), ")".repeat(n));
        let e = search::parse(&f).unwrap_err();
        assert_eq!(e.column, MAX_DEPTH + 1, "{e}");
        assert!(e.message.contains("nest deeper than 64"), "{e}");
        let f = format!(
            "{}name = 'x'{}",
            "(".repeat(MAX_DEPTH),
            ")".repeat(MAX_DEPTH)
        );
        assert!(search::parse(&f).is_ok());
        // An unclosed run of parentheses, and one of closing ones.
        assert!(search::parse(&"(".repeat(n)).is_err());
        assert_eq!(
            search::parse(&format!("name = 'x'{}", ")".repeat(n)))
                .unwrap_err()
                .column,
            11
        );
    }

    #[test]
    fn long_chains_are_bounded() {
        let term = "metrics.a > 1 AND ";
        let f = format!("{}metrics.a > 1", term.repeat(100_000));
        let e = search::parse(&f).unwrap_err();
        assert_eq!(e.column, MAX_TERMS * term.len() + 1, "{e}");
        assert!(e.message.contains("at most 1000 comparisons"), "{e}");
        let f = format!("{}metrics.a > 1", term.repeat(MAX_TERMS - 1));
        assert!(search::parse(&f).is_ok());
    }

    #[test]
    fn exponential_like_patterns_finish() {
        let long = "a".repeat(10_000);
        let params = BTreeMap::new();
        let tags = BTreeMap::new();
        for (pattern, hit) in [
            ("%a%a%a%a%a%a%a%a%a%a%b", false),
            ("%a%a%a%a%a%a%a%a%a%a%a", true),
        ] {
            let filter = search::parse(&format!("name LIKE '{pattern}'")).unwrap();
            let found = search::search_hits(
                hits(&params, &tags, &long).into_iter().take(1),
                filter.as_ref(),
                &[],
                10,
            );
            assert_eq!(found.len() == 1, hit, "{pattern}");
        }
    }

    #[test]
    fn order_by_errors_point_at_the_word() {
        let e = search::parse_order("  metrics.a  DOWN").unwrap_err();
        assert_eq!(e.column, 14, "{e}");
        let e = search::parse_order("metrics.a DESC extra").unwrap_err();
        assert_eq!(e.column, 16, "{e}");
        let e = search::parse_order(" é.a").unwrap_err();
        assert_eq!(e.column, 2, "{e}");
    }
}

mod audit {
    use super::*;
    use modelgate::audit::{self, Action, Entry, GENESIS, Log};
    use modelgate::registry::types::{Sha256, Timestamp};

    const VOCAB: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        "\"seq\":",
        "\"at\":",
        "\"actor\":",
        "\"action\":",
        "\"prev\":",
        "\"details\":",
        "\"model\":",
        "1",
        "-1",
        "1e999",
        "18446744073709551616",
        "\"register\"",
        "\"2024-01-15T10:00:00Z\"",
        "\"x\"",
        "\"\\u00e9\"",
        "\"\\ud800\"",
        "null",
        "true",
        ",",
        ":",
        "\n",
        "\r\n",
        " ",
        "é",
        "\"",
        "\\",
    ];

    /// Parses and verifies; every diagnostic points inside the text, on character boundaries.
    fn check(text: &str) -> Result<(), TestCaseError> {
        let mut diags = Vec::new();
        let log = Log::parse(text, &mut diags);
        diags.extend(log.verify(text));
        let _ = log.next_link();
        for d in &diags {
            let s = d
                .span
                .ok_or_else(|| TestCaseError::fail(format!("no span: {}", d.message)))?;
            for p in [s.start, s.end] {
                prop_assert!(p.line >= 1 && p.column >= 1);
                prop_assert!(
                    p.offset <= text.len() && text.is_char_boundary(p.offset),
                    "{p:?}"
                );
                // The log is split at `\n` only; line and column are those of the offset.
                let before = &text[..p.offset];
                let line = before.matches('\n').count() as u32 + 1;
                let col = before.rsplit('\n').next().unwrap_or("").chars().count() as u32 + 1;
                prop_assert_eq!((p.line, p.column), (line, col), "{:?}: {}", p, d.message);
            }
            prop_assert!(
                s.start.offset <= s.end.offset && s.start.column <= s.end.column,
                "{s:?}: {}",
                d.message
            );
        }
        Ok(())
    }

    #[test]
    fn arbitrary_text() {
        run("audit::arbitrary_text", any_text(), |t| check(&t));
    }

    #[test]
    fn token_soup() {
        run("audit::token_soup", soup(VOCAB, 60), |t| check(&t));
    }

    fn entry() -> impl Strategy<Value = Entry> {
        let action = prop::sample::select(
            &[
                Action::Register,
                Action::Promote,
                Action::Demote,
                Action::Approve,
                Action::Archive,
                Action::Delete,
                Action::Drift,
            ][..],
        );
        let details = prop::collection::btree_map(
            any::<String>(),
            prop_oneof![
                any::<String>().prop_map(serde_json::Value::from),
                any::<i64>().prop_map(serde_json::Value::from),
                any::<bool>().prop_map(serde_json::Value::from),
            ],
            0..4,
        );
        (
            (any::<u64>(), 0i64..253_402_300_799, any::<String>(), action),
            (
                prop::option::of(any::<String>()),
                prop::option::of(any::<u32>()),
                prop::option::of(any::<String>()),
            ),
            details,
        )
            .prop_map(
                |((seq, at, actor, action), (model, version, alias), details)| Entry {
                    seq,
                    at: Timestamp::from_utc(
                        chrono::DateTime::from_timestamp(at, 0).unwrap_or_default(),
                    ),
                    actor,
                    action,
                    model,
                    version,
                    alias,
                    details: details.into_iter().collect(),
                    prev: GENESIS.into(),
                },
            )
    }

    /// A chain of entries written by `to_line` reads back as the entries and verifies; then any
    /// one-byte edit of a line before the last one is seen (it breaks the chain or the line).
    #[test]
    fn chains_round_trip_and_edits_are_seen() {
        let s = (
            prop::collection::vec(entry(), 2..6),
            any::<prop::sample::Index>(),
            any::<u8>(),
        );
        run(
            "audit::chains_round_trip_and_edits_are_seen",
            s,
            |(entries, at, byte)| {
                let mut text = String::new();
                let mut prev = GENESIS.to_string();
                let mut written = Vec::new();
                for (i, mut e) in entries.into_iter().enumerate() {
                    e.seq = i as u64 + 1;
                    e.prev = prev;
                    let line = audit::to_line(&e);
                    prev = Sha256::of(line.trim_end_matches('\n').as_bytes()).hex();
                    text.push_str(&line);
                    written.push(e);
                }
                let mut diags = Vec::new();
                let log = Log::parse(&text, &mut diags);
                diags.extend(log.verify(&text));
                prop_assert!(
                    diags.is_empty(),
                    "{:?}",
                    diags.iter().map(|d| &d.message).collect::<Vec<_>>()
                );
                let back: Vec<Entry> = log.entries().cloned().collect();
                prop_assert_eq!(&back, &written);
                // Edit one byte of a line other than the last (its newline included).
                let last_start = text[..text.len() - 1].rfind('\n').map_or(0, |i| i + 1);
                let i = at.index(last_start);
                let mut bytes = text.clone().into_bytes();
                if bytes[i] == byte {
                    return Ok(());
                }
                bytes[i] = byte;
                let Ok(edited) = String::from_utf8(bytes) else {
                    return Ok(());
                };
                check(&edited)?;
                let mut diags = Vec::new();
                let log = Log::parse(&edited, &mut diags);
                diags.extend(log.verify(&edited));
                prop_assert!(!diags.is_empty(), "edit at byte {i} not seen:\n{edited}");
                Ok(())
            },
        );
    }

    #[test]
    fn deep_json_is_an_error_not_a_stack_overflow() {
        let n = 100_000;
        let line = format!(
            "{{\"seq\":1,\"at\":\"2024-01-15T10:00:00Z\",\"actor\":\"a\",\"action\":\"register\",\"details\":{{\"x\":{}{}}},\"prev\":\"{GENESIS}\"}}\n",
            "[".repeat(n),
            "]".repeat(n)
        );
        let mut diags = Vec::new();
        let log = Log::parse(&line, &mut diags);
        assert_eq!(log.lines.len(), 1);
        assert!(log.lines[0].entry.is_none());
        assert_eq!(diags.len(), 1);
        assert!(
            diags[0].message.contains("recursion limit"),
            "{}",
            diags[0].message
        );
    }

    /// serde_json counts columns in bytes; the diagnostic counts characters, and its offset
    /// stays on a character boundary.
    #[test]
    fn errors_after_non_ascii_point_at_the_character() {
        let text = "{\"actor\":\"ééé\" x}\n";
        let mut diags = Vec::new();
        Log::parse(text, &mut diags);
        let s = diags[0].span.unwrap();
        assert_eq!(&text[s.start.offset..s.start.offset + 1], "x");
        assert_eq!(s.start.column, 16);
    }
}
