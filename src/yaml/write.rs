//! Writing YAML scalars that the reader (`super::parse`) reads back as what was written.
//!
//! Whether a string may be written plain is decided by the reader's own resolution
//! ([`super::resolve_plain`], the YAML 1.2 core schema): a string is written plain only when
//! that resolution gives back the same string — never `TRUE`, `0x1F`, `.inf`, `~` or `1.5`,
//! which the reader would take for a boolean, an integer, a float, null — and it holds only
//! characters that have no meaning in YAML, in block or flow context. Anything else is
//! double-quoted with JSON's escapes. Floats are written as the shortest text that reads back to
//! the same `f64`.

use super::Resolved;

/// Characters a plain scalar may hold besides letters and digits: none of them is a YAML
/// indicator where the writer puts them (`-` and `@` are refused at the start, below).
const PLAIN_PUNCTUATION: &str = " _-.@/+()";

/// Words YAML 1.1 readers (PyYAML, GitHub Actions) take for booleans though the core schema
/// reads them as strings: quoted too, so that other tools read the files as modelgate does.
const YAML_1_1_BOOLEANS: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
    "OFF",
];

/// Whether `s` may be written as a plain scalar: the reader resolves it to the same string,
/// and it holds no character YAML treats specially (no leading `-` or `@`, no leading or
/// trailing space, no trailing ` -`, only letters, digits and ` _-.@/+()`).
pub fn plain_ok(s: &str) -> bool {
    matches!(super::resolve_plain(s), Resolved::Str(r) if r == s)
        && !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || PLAIN_PUNCTUATION.contains(c))
        && !s.starts_with([' ', '-', '@'])
        && !s.ends_with(' ')
        // In a flow map `{a: x -}` the reader takes a last ` -` for the start of a new scalar.
        && !s.ends_with(" -")
        && !YAML_1_1_BOOLEANS.contains(&s)
}

/// A string as a YAML scalar: plain when [`plain_ok`], else [`quoted`].
pub fn string(s: &str) -> String {
    if plain_ok(s) {
        s.to_string()
    } else {
        quoted(s)
    }
}

/// A string double-quoted, with JSON's escapes (`\"`, `\\`, `\n`, `\t`, `\u001b`, …) — the
/// same text `serde_json` writes — and `\uXXXX` also for the characters YAML does not allow
/// unescaped (DEL, the C1 controls, the Unicode line separators, the byte-order mark, U+FFFE
/// and U+FFFF).
pub fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if needs_escape(c) => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Characters outside YAML's printable set, or that some readers take for line breaks.
fn needs_escape(c: char) -> bool {
    matches!(
        c as u32,
        0..=0x1f | 0x7f..=0x9f | 0x2028 | 0x2029 | 0xfeff | 0xfffe | 0xffff
    )
}

/// A float as a YAML scalar the reader resolves to the same `f64`: the shortest text that
/// reads back, always with a decimal point or an exponent (`1.0`, `0.8909`, `2e-7`, `-0.0`),
/// and `.inf`, `-.inf`, `.nan` for the non-finite.
pub fn float(x: f64) -> String {
    if x.is_nan() {
        return ".nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    // Debug formatting: the shortest round-trip text, with an exponent when very small or
    // large, and `1.0` rather than `1`.
    format!("{x:?}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{NodeKind, parse};
    use proptest::prelude::*;

    /// What the reader makes of `scalar` as a block value, a flow value, a flow key and a
    /// sequence item: one resolved value per place, all of which must agree.
    fn read_back(scalar: &str) -> Vec<Resolved<'static>> {
        let doc = format!(
            "block: {scalar}\nflow: {{a: {scalar}, b: 1}}\nkey: {{{scalar}: 1}}\nseq: [{scalar}, x]\nitems:\n  - {scalar}\n"
        );
        let node = parse(&doc).unwrap_or_else(|e| panic!("{doc:?} does not parse: {e:?}"));
        let owned = |n: &crate::yaml::Node| match n.resolve().unwrap() {
            Resolved::Str(s) => Resolved::Str(Box::leak(s.to_string().into_boxed_str())),
            Resolved::Null => Resolved::Null,
            Resolved::Bool(b) => Resolved::Bool(b),
            Resolved::Int(i) => Resolved::Int(i),
            Resolved::Float(f) => Resolved::Float(f),
        };
        let first = |n: &crate::yaml::Node| match &n.kind {
            NodeKind::Seq(items) => owned(&items[0]),
            other => panic!("{doc:?}: not a sequence: {other:?}"),
        };
        let key = match &node.get("key").unwrap().kind {
            NodeKind::Map(entries) => owned(&entries[0].0),
            other => panic!("{doc:?}: not a mapping: {other:?}"),
        };
        vec![
            owned(node.get("block").unwrap()),
            owned(node.get("flow").unwrap().get("a").unwrap()),
            key,
            first(node.get("seq").unwrap()),
            first(node.get("items").unwrap()),
        ]
    }

    fn string_round_trips(s: &str) -> Result<(), TestCaseError> {
        let w = string(s);
        for r in read_back(&w) {
            prop_assert_eq!(&r, &Resolved::Str(s), "{:?} written as {}", s, w);
        }
        Ok(())
    }

    fn float_round_trips(x: f64) -> Result<(), TestCaseError> {
        let w = float(x);
        for r in read_back(&w) {
            match r {
                Resolved::Float(y) if x.is_nan() => prop_assert!(y.is_nan(), "{} as {}", x, w),
                Resolved::Float(y) => {
                    prop_assert_eq!(y.to_bits(), x.to_bits(), "{:?} written as {}", x, w)
                }
                other => prop_assert!(false, "{:?} written as {} reads as {:?}", x, w, other),
            }
        }
        Ok(())
    }

    /// Strings the reader resolves to something else, and pieces YAML gives a meaning to.
    const HOSTILE: &[&str] = &[
        "TRUE",
        "True",
        "true",
        "FALSE",
        "false",
        "0x1F",
        "0o17",
        "0x",
        "0o8",
        ".inf",
        "+.inf",
        "-.Inf",
        ".NaN",
        ".nan",
        "inf",
        "nan",
        "~",
        "null",
        "Null",
        "NULL",
        "",
        " ",
        "- x",
        "-",
        "--- ",
        " -",
        "...",
        ": ",
        ":",
        "#",
        " #",
        "? ",
        "&a",
        "*a",
        "!tag",
        "%YAML",
        "@",
        "`",
        "|",
        ">",
        "'",
        "\"",
        "\\",
        "\\n",
        "{",
        "}",
        "[",
        "]",
        ",",
        "1",
        "-1",
        "+1",
        "1.5",
        "1e5",
        "1_000",
        "1.",
        ".5",
        "yes",
        "no",
        "on",
        "off",
        "y",
        "N",
        "\t",
        "\n",
        "\r",
        "\r\n",
        "\u{0}",
        "\u{7}",
        "\u{1b}",
        "\u{7f}",
        "\u{85}",
        "\u{a0}",
        "\u{2028}",
        "\u{2029}",
        "\u{feff}",
        "\u{fffe}",
        "\u{ffff}",
        "\u{10ffff}",
        "é",
        "ǅ",
        "中文",
        "👍",
        "\u{301}",
    ];

    fn hostile_string() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            prop::sample::select(HOSTILE).prop_map(str::to_string),
            any::<char>().prop_map(|c| c.to_string()),
            "[a-zA-Z0-9 _.@/+()-]{1,6}",
        ];
        prop::collection::vec(piece, 0..6).prop_map(|p| p.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        #[test]
        fn any_string_reads_back_as_itself(s in hostile_string()) {
            string_round_trips(&s)?;
        }

        #[test]
        fn any_float_reads_back_as_itself(bits in any::<u64>()) {
            float_round_trips(f64::from_bits(bits))?;
        }

        #[test]
        fn any_float_class_reads_back_as_itself(x in any::<f64>()) {
            float_round_trips(x)?;
        }
    }

    #[test]
    fn hostile_strings_read_back_as_themselves() {
        for s in HOSTILE {
            string_round_trips(s).unwrap();
            string_round_trips(&format!(" {s} ")).unwrap();
            string_round_trips(&format!("a{s}b")).unwrap();
        }
    }

    #[test]
    fn floats_read_back_as_themselves() {
        for x in [
            0.0,
            -0.0,
            1.0,
            0.1,
            0.8909,
            2e-7,
            1e16,
            1e300,
            f64::MIN_POSITIVE,
            f64::MIN_POSITIVE / 2.0,
            5e-324,
            -5e-324,
            f64::MAX,
            f64::MIN,
            f64::EPSILON,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ] {
            float_round_trips(x).unwrap();
        }
        assert_eq!(float(1.0), "1.0");
        assert_eq!(float(-0.0), "-0.0");
        assert_eq!(float(f64::INFINITY), ".inf");
        assert_eq!(float(f64::NEG_INFINITY), "-.inf");
        assert_eq!(float(f64::NAN), ".nan");
    }

    /// The values `yaml_str` used to write plain and the reader resolved to something else
    /// (an MLflow parameter `TRUE` became a boolean): quoted now.
    #[test]
    fn strings_the_reader_would_resolve_are_quoted() {
        for (s, w) in [
            ("TRUE", "\"TRUE\""),
            ("True", "\"True\""),
            ("0x1F", "\"0x1F\""),
            ("0o17", "\"0o17\""),
            (".inf", "\".inf\""),
            ("+.inf", "\"+.inf\""),
            (".NaN", "\".NaN\""),
            ("1.5", "\"1.5\""),
            ("yes", "\"yes\""),
            ("", "\"\""),
            ("a: b", "\"a: b\""),
            ("A -", "\"A -\""),
            ("a\u{7f}b", "\"a\\u007fb\""),
            ("a\u{2028}b", "\"a\\u2028b\""),
            ("tab\there", "\"tab\\there\""),
        ] {
            assert_eq!(string(s), w, "{s:?}");
        }
        for s in [
            "team@example.com",
            "models/a/v1/model.onnx",
            "gbtree",
            "0x1G",
            "1_000",
            "inf",
            "Straße",
        ] {
            assert_eq!(string(s), s, "{s:?}");
        }
    }

    /// `quoted` writes what `serde_json` writes for every character JSON and YAML agree on.
    #[test]
    fn quoted_is_json() {
        for s in [
            "",
            "a\"b\\c",
            "\n\r\t\u{8}\u{c}\u{1}\u{1f}",
            "é 中 👍 /",
            "\u{a0}",
        ] {
            assert_eq!(quoted(s), serde_json::to_string(s).unwrap());
        }
    }
}
