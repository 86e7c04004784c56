//! The A/B router: which alias answers a request, by a model's `serving:` section.
//!
//! With a sticky key (a field of the request row or a header, as `serving.sticky` says), the
//! request goes to a **bucket** 0..100: the first 8 bytes of
//! sha256(`modelgate-split-1` ‖ 0 ‖ model name ‖ 0 ‖ key), read as a big-endian integer,
//! modulo 100. Buckets below the champion's weight go to the champion, the others to the
//! challenger, so one key always reaches one version while the weights stay the same, and a
//! raised challenger weight only moves keys from the champion to the challenger (never back).
//! The model name is part of the hash: a key's bucket in one model says nothing about another.
//! Without a key, the bucket is drawn at random (SplitMix64 over a per-router random seed and a
//! counter: uniform, lock-free, no shared state between routers).

use crate::registry::schema::Serving;
use crate::registry::types::Alias;
use serde::Serialize;
use sha2::Digest;
use std::sync::atomic::{AtomicU64, Ordering};

/// Domain separation of the bucket hash; a new rule would take a new tag.
const TAG: &[u8] = b"modelgate-split-1";

/// Where the sticky key of a request comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeySource {
    /// A field of the request row.
    Field(String),
    /// A request header (compared case-insensitively by HTTP).
    Header(String),
}

/// Which alias answers a request, and which one is also scored in shadow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// The alias whose prediction is returned (and logged).
    pub serve: Alias,
    /// The alias also scored and logged, but not returned.
    pub shadow: Option<Alias>,
}

/// The split in force, as `/v1/models` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SplitView {
    /// Percent of requests the champion answers.
    pub champion: u32,
    /// Percent of requests the challenger answers.
    pub challenger: u32,
    /// What keeps a caller on one version; `null`: random per request.
    pub sticky: Option<KeySource>,
    /// Whether the challenger is scored in shadow.
    pub shadow: bool,
    /// Why the split written in model.yaml is not the one in force (no challenger), if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Why a `serving:` section cannot be routed (what `validate` reports as MG021).
#[derive(Debug, thiserror::Error)]
#[error("{model}: {}", problems.join("; "))]
pub struct SplitError {
    /// The model.
    pub model: String,
    /// Each problem of the section.
    pub problems: Vec<String>,
}

/// Routes the requests of one model.
#[derive(Debug)]
pub struct Router {
    model: String,
    champion: u32,
    shadow: bool,
    sticky: Option<KeySource>,
    note: Option<String>,
    seed: u64,
    counter: AtomicU64,
}

/// The bucket (0..100) of a key for a model: see the module documentation.
pub fn bucket(model: &str, key: &[u8]) -> u32 {
    let mut h = sha2::Sha256::new();
    h.update(TAG);
    h.update([0u8]);
    h.update(model.as_bytes());
    h.update([0u8]);
    h.update(key);
    let d = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&d[..8]);
    (u64::from_be_bytes(first) % 100) as u32
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A random seed from the standard library's per-process random hasher keys.
fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x6d6f_6465_6c67_6174);
    h.finish()
}

impl Router {
    /// A router for `model` by its `serving:` section (`None`: the champion answers all).
    /// `has_challenger`: whether the model has a challenger to send traffic to; without one,
    /// the champion answers every request and nothing is shadowed (the view says why).
    pub fn new(
        model: &str,
        serving: Option<&Serving>,
        has_challenger: bool,
    ) -> Result<Router, SplitError> {
        let default = Serving::default();
        let sv = serving.unwrap_or(&default);
        let problems: Vec<String> = sv.problems().into_iter().map(|(_, m)| m).collect();
        if !problems.is_empty() {
            return Err(SplitError {
                model: model.to_string(),
                problems,
            });
        }
        let sticky = sv
            .sticky
            .as_ref()
            .and_then(|s| match (&s.field, &s.header) {
                (Some(f), None) => Some(KeySource::Field(f.value.clone())),
                (None, Some(h)) => Some(KeySource::Header(h.value.clone())),
                _ => None,
            });
        let (mut champion, mut shadow, mut note) = (sv.weights().0, sv.shadow == Some(true), None);
        if !has_challenger && sv.uses_challenger() {
            note = Some(format!(
                "model.yaml gives the challenger {}% of requests{}, but {model} has no challenger: the champion answers all",
                sv.weights().1,
                if shadow { " and shadow scoring" } else { "" }
            ));
            champion = 100;
            shadow = false;
        }
        Ok(Router {
            model: model.to_string(),
            champion,
            shadow,
            sticky,
            note,
            seed: random_seed(),
            counter: AtomicU64::new(0),
        })
    }

    /// Where the sticky key of a request is read from; `None`: requests are routed at random.
    pub fn sticky(&self) -> Option<&KeySource> {
        self.sticky.as_ref()
    }

    /// The split in force.
    pub fn view(&self) -> SplitView {
        SplitView {
            champion: self.champion,
            challenger: 100 - self.champion,
            sticky: self.sticky.clone(),
            shadow: self.shadow,
            note: self.note.clone(),
        }
    }

    fn random_bucket(&self) -> u32 {
        let n = self
            .counter
            .fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed);
        // Multiply-shift maps 64 random bits onto 0..100 without modulo bias.
        ((u128::from(splitmix64(self.seed ^ n)) * 100) >> 64) as u32
    }

    /// Routes one request: `key` is the sticky key's value (the field's value as text, or the
    /// header's bytes), `None` when the request has none or the section names none.
    pub fn route(&self, key: Option<&[u8]>) -> Decision {
        let b = match key {
            Some(k) if self.sticky.is_some() => bucket(&self.model, k),
            _ => self.random_bucket(),
        };
        if b < self.champion {
            Decision {
                serve: Alias::Champion,
                shadow: self.shadow.then_some(Alias::Challenger),
            }
        } else {
            Decision {
                serve: Alias::Challenger,
                shadow: None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::schema::{Split, Sticky};
    use crate::yaml::Spanned;

    fn serving(champion: u32, challenger: u32, field: Option<&str>, shadow: bool) -> Serving {
        Serving {
            split: Some(Split {
                champion: Spanned::unspanned(champion),
                challenger: Spanned::unspanned(challenger),
            }),
            sticky: field.map(|f| Sticky {
                field: Some(Spanned::unspanned(f.to_string())),
                header: None,
            }),
            shadow: Some(shadow),
        }
    }

    fn share_of_challenger(r: &Router, keys: impl Iterator<Item = Option<Vec<u8>>>) -> f64 {
        let (mut n, mut c) = (0u32, 0u32);
        for k in keys {
            n += 1;
            if r.route(k.as_deref()).serve == Alias::Challenger {
                c += 1;
            }
        }
        f64::from(c) / f64::from(n)
    }

    /// Over 100,000 distinct keys each weight is met within half a percentage point (the
    /// binomial standard deviation at 10% is 0.09 points), and so is it without keys.
    #[test]
    fn proportions_match_the_weights() {
        for (champion, challenger) in [(90, 10), (50, 50), (75, 25), (1, 99)] {
            let r = Router::new(
                "diabetes",
                Some(&serving(champion, challenger, Some("patient_id"), false)),
                true,
            )
            .unwrap();
            let keyed = share_of_challenger(
                &r,
                (0..100_000u32).map(|i| Some(format!("patient-{i}").into_bytes())),
            );
            let random = share_of_challenger(&r, (0..100_000).map(|_| None));
            let want = f64::from(challenger) / 100.0;
            assert!(
                (keyed - want).abs() < 0.005,
                "{champion}/{challenger}: keyed {keyed}"
            );
            assert!(
                (random - want).abs() < 0.005,
                "{champion}/{challenger}: random {random}"
            );
        }
    }

    /// One key always reaches one version; buckets are the documented hash, and differ by model.
    #[test]
    fn sticky_keys_keep_their_version() {
        let r = Router::new("diabetes", Some(&serving(50, 50, Some("id"), false)), true).unwrap();
        for i in 0..1000u32 {
            let k = format!("p{i}");
            let first = r.route(Some(k.as_bytes()));
            for _ in 0..5 {
                assert_eq!(r.route(Some(k.as_bytes())), first);
            }
            let want = if bucket("diabetes", k.as_bytes()) < 50 {
                Alias::Champion
            } else {
                Alias::Challenger
            };
            assert_eq!(first.serve, want);
        }
        // A second router (another process) routes every key the same way.
        let again =
            Router::new("diabetes", Some(&serving(50, 50, Some("id"), false)), true).unwrap();
        assert!((0..1000).all(|i| {
            let k = format!("p{i}");
            r.route(Some(k.as_bytes())) == again.route(Some(k.as_bytes()))
        }));
        // The model name is in the hash: the buckets of two models are unrelated.
        let same = (0..10_000)
            .filter(|i| {
                let k = format!("p{i}");
                bucket("diabetes", k.as_bytes()) == bucket("heart_disease", k.as_bytes())
            })
            .count();
        assert!(same < 200, "{same} of 10,000 keys share a bucket");
        // sha256("modelgate-split-1\0diabetes\0patient-42"), first 8 bytes mod 100: pinned, so
        // that a change of the rule (which would move patients) cannot pass unnoticed.
        let mut h = sha2::Sha256::new();
        h.update(b"modelgate-split-1\0diabetes\0patient-42");
        let d = h.finalize();
        let want = u64::from_be_bytes(d[..8].try_into().unwrap()) % 100;
        assert_eq!(u64::from(bucket("diabetes", b"patient-42")), want);
    }

    /// Raising the challenger's weight only moves keys to the challenger.
    #[test]
    fn raising_the_challenger_weight_moves_keys_one_way() {
        let a = Router::new("m", Some(&serving(90, 10, Some("id"), false)), true).unwrap();
        let b = Router::new("m", Some(&serving(70, 30, Some("id"), false)), true).unwrap();
        for i in 0..10_000 {
            let k = format!("{i}");
            if a.route(Some(k.as_bytes())).serve == Alias::Challenger {
                assert_eq!(b.route(Some(k.as_bytes())).serve, Alias::Challenger);
            }
        }
    }

    /// 100/0 and 0/100 send every request, keyed or not, to one version; no section is 100/0.
    #[test]
    fn edges_send_everything_to_one_side() {
        let all_champion =
            Router::new("m", Some(&serving(100, 0, Some("id"), false)), true).unwrap();
        let all_challenger =
            Router::new("m", Some(&serving(0, 100, Some("id"), false)), true).unwrap();
        let none = Router::new("m", None, true).unwrap();
        for i in 0..20_000 {
            let k = format!("{i}");
            for key in [Some(k.as_bytes()), None] {
                assert_eq!(all_champion.route(key).serve, Alias::Champion);
                assert_eq!(all_challenger.route(key).serve, Alias::Challenger);
                assert_eq!(none.route(key).serve, Alias::Champion);
            }
        }
        assert_eq!(none.view().champion, 100);
        assert_eq!(none.view().sticky, None);
    }

    /// Shadow: requests the champion answers also score the challenger; without a challenger
    /// the champion answers all, nothing is shadowed, and the view says why.
    #[test]
    fn shadow_scores_the_challenger_behind_the_champion() {
        let r = Router::new("m", Some(&serving(100, 0, None, true)), true).unwrap();
        for _ in 0..1000 {
            assert_eq!(
                r.route(None),
                Decision {
                    serve: Alias::Champion,
                    shadow: Some(Alias::Challenger)
                }
            );
        }
        let split = Router::new("m", Some(&serving(50, 50, None, true)), true).unwrap();
        for _ in 0..1000 {
            let d = split.route(None);
            assert_eq!(d.shadow.is_some(), d.serve == Alias::Champion);
        }
        let lonely = Router::new("m", Some(&serving(50, 50, Some("id"), true)), false).unwrap();
        for i in 0..1000 {
            let k = format!("{i}");
            assert_eq!(
                lonely.route(Some(k.as_bytes())),
                Decision {
                    serve: Alias::Champion,
                    shadow: None
                }
            );
        }
        let v = lonely.view();
        assert_eq!((v.champion, v.challenger, v.shadow), (100, 0, false));
        assert!(v.note.unwrap().contains("no challenger"));
    }

    /// A section `validate` refuses is refused here too, with the same words.
    #[test]
    fn inconsistent_sections_are_refused() {
        let e = Router::new("m", Some(&serving(90, 20, None, false)), true).unwrap_err();
        assert!(e.to_string().contains("sum to 110"), "{e}");
        let both = Serving {
            sticky: Some(Sticky {
                field: Some(Spanned::unspanned("a".into())),
                header: Some(Spanned::unspanned("X-A".into())),
            }),
            ..Default::default()
        };
        let e = Router::new("m", Some(&both), true).unwrap_err();
        assert!(e.to_string().contains("both"), "{e}");
    }
}
