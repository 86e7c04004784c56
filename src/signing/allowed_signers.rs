//! `registry/allowed_signers`, in git's and OpenSSH's format (`ssh-keygen(1)`, ALLOWED
//! SIGNERS): `principals [options] keytype base64-key [comment]`, one a line.
//!
//! Options understood: `namespaces="a,b"`, `valid-after=`, `valid-before=` (`YYYYMMDD[Z]` or
//! `YYYYMMDDHHMM[SS][Z]`, read as UTC). `cert-authority` is refused: modelgate checks plain keys
//! only. Principals are comma-separated patterns with `*`, `?` and `!` negation.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// Where the file lives in a registry repository.
pub const SIGNERS_PATH: &str = "registry/allowed_signers";

/// One key line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signer {
    /// 1-based line number.
    pub line: u32,
    /// Principal patterns.
    pub principals: Vec<String>,
    /// Namespaces the key may sign in (`None`: any).
    pub namespaces: Option<Vec<String>>,
    /// Not valid before this instant.
    pub valid_after: Option<DateTime<Utc>>,
    /// Not valid after this instant.
    pub valid_before: Option<DateTime<Utc>>,
    /// Key type, e.g. `ssh-ed25519`.
    pub key_type: String,
    /// The public key as written (`ssh-ed25519 AAAA…`).
    pub public_key: String,
}

/// A parse problem on one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number.
    pub line: u32,
    /// What is wrong.
    pub message: String,
}

/// The parsed file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowedSigners {
    /// Every key line that parsed.
    pub signers: Vec<Signer>,
}

/// How many bad lines are reported one by one; the rest are counted in one last error. A file
/// of garbage (up to 1 MiB: half a million lines) would otherwise give as many diagnostics, and
/// each one's span is found by scanning the text from its start: quadratic.
pub const MAX_LINE_ERRORS: usize = 100;

impl AllowedSigners {
    /// Parses the file, collecting one error per bad line (the first [`MAX_LINE_ERRORS`] of
    /// them, then one error at the next bad line that counts the rest).
    pub fn parse(text: &str) -> (AllowedSigners, Vec<LineError>) {
        let mut signers = Vec::new();
        let mut errors = Vec::new();
        let mut more = 0usize;
        let mut first_unlisted = 0;
        for (i, raw) in text.lines().enumerate() {
            let line = u32::try_from(i).unwrap_or(u32::MAX - 1) + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            match parse_line(trimmed, line) {
                Ok(s) => signers.push(s),
                Err(message) if errors.len() < MAX_LINE_ERRORS => {
                    errors.push(LineError { line, message })
                }
                Err(_) => {
                    if more == 0 {
                        first_unlisted = line;
                    }
                    more += 1;
                }
            }
        }
        if more > 0 {
            errors.push(LineError {
                line: first_unlisted,
                message: match more {
                    1 => format!("this line is not valid either ({MAX_LINE_ERRORS} errors above)"),
                    n => format!(
                        "this line and {} more after it are not valid either (not listed one by one)",
                        n - 1
                    ),
                },
            });
        }
        (AllowedSigners { signers }, errors)
    }

    /// Whether any key line names this principal.
    pub fn knows_principal(&self, principal: &str) -> bool {
        self.signers.iter().any(|s| s.matches_principal(principal))
    }
}

/// The longest principal pattern a line may hold, and the longest principal that can match.
/// Identities are e-mail addresses and the like (at most 254 bytes); the bound keeps the
/// O(|pattern|·|principal|) worst case of [`glob`] at a million steps whatever the files hold.
pub const MAX_PRINCIPAL_LEN: usize = 1024;

impl Signer {
    /// Whether the principal patterns of this line accept `principal`. A principal longer than
    /// [`MAX_PRINCIPAL_LEN`] bytes matches nothing.
    pub fn matches_principal(&self, principal: &str) -> bool {
        principal.len() <= MAX_PRINCIPAL_LEN && match_pattern_list(principal, &self.principals)
    }
}

/// OpenSSH's `match_pattern_list`: any positive match and no negated match.
fn match_pattern_list(s: &str, patterns: &[String]) -> bool {
    let mut matched = false;
    for p in patterns {
        if let Some(neg) = p.strip_prefix('!') {
            if glob(neg.as_bytes(), s.as_bytes()) {
                return false;
            }
        } else if glob(p.as_bytes(), s.as_bytes()) {
            matched = true;
        }
    }
    matched
}

/// OpenSSH's `match_pattern`: `*` matches any run of bytes (also none), `?` exactly one byte,
/// anything else itself ([`crate::wildcard::matches`]: never exponential).
fn glob(p: &[u8], s: &[u8]) -> bool {
    crate::wildcard::matches(p, s, b'*', b'?')
}

/// Splits on spaces outside double quotes, keeping the quotes in the token.
fn tokens(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => {
                quoted = !quoted;
                start.get_or_insert(i);
            }
            ' ' | '\t' if !quoted => {
                if let Some(s) = start.take() {
                    out.push(&line[s..i]);
                }
            }
            _ => {
                start.get_or_insert(i);
            }
        }
    }
    if let Some(s) = start {
        out.push(&line[s..]);
    }
    out
}

fn is_key_type(t: &str) -> bool {
    t.starts_with("ssh-") || t.starts_with("ecdsa-sha2-") || t.starts_with("sk-")
}

fn unquote(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
}

/// Splits options on commas outside quotes.
fn split_options(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn parse_time(v: &str) -> Result<DateTime<Utc>, String> {
    let v = v.strip_suffix('Z').unwrap_or(v);
    let bad = || format!("`{v}` is not a time: expected YYYYMMDD or YYYYMMDDHHMM[SS]");
    let dt = match v.len() {
        8 => NaiveDate::parse_from_str(v, "%Y%m%d")
            .map_err(|_| bad())?
            .and_hms_opt(0, 0, 0)
            .ok_or_else(bad)?,
        12 => NaiveDateTime::parse_from_str(v, "%Y%m%d%H%M").map_err(|_| bad())?,
        14 => NaiveDateTime::parse_from_str(v, "%Y%m%d%H%M%S").map_err(|_| bad())?,
        _ => return Err(bad()),
    };
    Ok(dt.and_utc())
}

fn parse_line(line: &str, number: u32) -> Result<Signer, String> {
    let toks = tokens(line);
    let mut it = toks.into_iter().peekable();
    let principals = it
        .next()
        .ok_or("expected principals, options and a public key")?;
    let principals: Vec<String> = unquote(principals)
        .split(',')
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    if principals.is_empty() {
        return Err("no principals before the key".into());
    }
    if let Some(long) = principals.iter().find(|p| p.len() > MAX_PRINCIPAL_LEN) {
        return Err(format!(
            "a principal pattern of {} bytes: at most {MAX_PRINCIPAL_LEN} are allowed",
            long.len()
        ));
    }
    let mut signer = Signer {
        line: number,
        principals,
        namespaces: None,
        valid_after: None,
        valid_before: None,
        key_type: String::new(),
        public_key: String::new(),
    };
    let next = it
        .next()
        .ok_or("expected a key type and key after the principals")?;
    let key_type = if is_key_type(next) {
        next
    } else {
        for opt in split_options(next) {
            let (name, value) = match opt.split_once('=') {
                Some((n, v)) => (n.to_ascii_lowercase(), Some(unquote(v))),
                None => (opt.to_ascii_lowercase(), None),
            };
            match (name.as_str(), value) {
                ("cert-authority", _) => {
                    return Err("`cert-authority` lines are not supported: list each signer's own public key".into());
                }
                ("namespaces", Some(v)) => {
                    signer.namespaces = Some(v.split(',').map(|s| s.trim().to_string()).collect());
                }
                ("valid-after", Some(v)) => signer.valid_after = Some(parse_time(v)?),
                ("valid-before", Some(v)) => signer.valid_before = Some(parse_time(v)?),
                _ => {
                    return Err(format!(
                        "unknown option `{opt}`: expected namespaces=, valid-after= or valid-before="
                    ));
                }
            }
        }
        it.next().ok_or("expected a key type after the options")?
    };
    if !is_key_type(key_type) {
        return Err(format!(
            "`{key_type}` is not a key type: expected ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa, …"
        ));
    }
    let blob = it
        .next()
        .ok_or("expected the base64 public key after the key type")?;
    if blob.is_empty()
        || !blob
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=')
    {
        return Err("the public key is not base64".into());
    }
    signer.key_type = key_type.to_string();
    signer.public_key = format!("{key_type} {blob}");
    Ok(signer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_git_format_lines() {
        let text = "# comment\n\
            alice@example.com,bob@example.com namespaces=\"modelgate-approval,git\",valid-after=\"20240101\" ssh-ed25519 AAAAC3Nza alice\n\
            *@example.org ssh-ed25519 AAAAC3Nzb\n";
        let (s, errors) = AllowedSigners::parse(text);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(s.signers.len(), 2);
        let a = &s.signers[0];
        assert_eq!(a.line, 2);
        assert_eq!(a.principals, ["alice@example.com", "bob@example.com"]);
        assert_eq!(
            a.namespaces.as_deref().unwrap(),
            ["modelgate-approval", "git"]
        );
        assert_eq!(
            a.valid_after.unwrap().to_rfc3339(),
            "2024-01-01T00:00:00+00:00"
        );
        assert!(s.knows_principal("carol@example.org"));
        assert!(!s.knows_principal("carol@example.com"));
    }

    #[test]
    fn refuses_cert_authorities_and_garbage() {
        let (_, e) =
            AllowedSigners::parse("*@x cert-authority ssh-ed25519 AAAA\nfoo\nbar baz qux\n");
        assert_eq!(e.len(), 3);
        assert!(e[0].message.contains("cert-authority"));
    }

    /// The pattern that was exponential for the recursive matcher, on 10,000 bytes (longer
    /// than a principal may be, to show the matcher alone is not exponential).
    #[test]
    fn exponential_patterns_finish() {
        let s = vec![b'a'; 10_000];
        assert!(!glob(b"*a*a*a*a*a*a*a*a*a*a*b", &s));
        assert!(glob(b"*a*a*a*a*a*a*a*a*a*a*a", &s));
        assert!(!glob(b"*?*?*?*?*?*?*?*?*?*?*?*?*b", &s));
        assert!(glob(b"a*?*a", &s));
    }

    #[test]
    fn negated_patterns() {
        let pats = vec!["*@example.com".to_string(), "!eve@example.com".to_string()];
        assert!(match_pattern_list("alice@example.com", &pats));
        assert!(!match_pattern_list("eve@example.com", &pats));
    }
}
