//! Stable assignment of models to shards, for splitting monitoring and batch work over CI jobs.
//!
//! Rendezvous (highest-random-weight) hashing: a model goes to the shard whose hash with it is
//! highest. Every model lands in exactly one shard; adding or removing a model moves no other
//! model, and changing the number of shards from N to N+1 moves only about 1/(N+1) of them.

use anyhow::{Result, bail};

/// `i/N`: this job is shard `i` (0-based) of `N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This shard, 0-based.
    pub index: u32,
    /// The number of shards.
    pub count: u32,
}

impl std::str::FromStr for Shard {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        let Some((i, n)) = s.split_once('/') else {
            bail!("`{s}` is not a shard: expected i/N, e.g. 0/4");
        };
        let (Ok(index), Ok(count)) = (i.trim().parse::<u32>(), n.trim().parse::<u32>()) else {
            bail!("`{s}` is not a shard: expected i/N with whole numbers, e.g. 0/4");
        };
        if count == 0 || index >= count {
            bail!("shard `{s}`: expected 0 <= i < N");
        }
        Ok(Shard { index, count })
    }
}

/// FNV-1a, 64 bits: tiny, fast and stable across platforms and releases (unlike `std`'s
/// hasher, which may change).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100000001b3);
    }
    // Final mix (splitmix64) so that similar names spread well.
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58476d1ce4e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d049bb133111eb);
    h ^ (h >> 31)
}

/// The shard (0-based) a name belongs to among `count`.
pub fn shard_of(name: &str, count: u32) -> u32 {
    (0..count)
        .max_by_key(|i| fnv1a(format!("{name}\u{0}{i}").as_bytes()))
        .unwrap_or(0)
}

impl Shard {
    /// Whether this shard owns `name`.
    pub fn owns(&self, name: &str) -> bool {
        shard_of(name, self.count) == self.index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_in_exactly_one_shard_and_few_move() {
        let names: Vec<String> = (0..1000).map(|i| format!("model_{i:04}")).collect();
        let mut sizes = [0u32; 4];
        for n in &names {
            let owners: Vec<u32> = (0..4)
                .filter(|i| {
                    Shard {
                        index: *i,
                        count: 4,
                    }
                    .owns(n)
                })
                .collect();
            assert_eq!(owners.len(), 1);
            sizes[owners[0] as usize] += 1;
        }
        assert!(sizes.iter().all(|s| (200..300).contains(s)), "{sizes:?}");
        let moved = names
            .iter()
            .filter(|n| shard_of(n, 4) != shard_of(n, 5))
            .count();
        assert!(moved < 300, "{moved} of 1000 moved from 4 to 5 shards");
    }

    #[test]
    fn parse() {
        assert_eq!(
            "1/4".parse::<Shard>().unwrap(),
            Shard { index: 1, count: 4 }
        );
        for bad in ["4/4", "1", "a/b", "0/0"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
