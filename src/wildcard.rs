//! Wildcard matching for patterns a pull request or a user writes (allowed_signers principals,
//! the search filter's LIKE): one symbol matches any run, another any one item, anything else
//! itself.
//!
//! Iterative, remembering only the last any-run symbol: when a later literal fails, that symbol
//! takes one more item and matching resumes after it. Earlier ones never need to be revisited
//! (whatever they could take, the last one can take instead), so this is O(|p|·|s|) at worst
//! with no recursion: a hostile pattern such as `*a*a*a*a*b` cannot make it exponential, nor a
//! long input overflow the stack.

/// Whether `s` matches the pattern `p`, with `run` matching any run and `one` any one item.
pub fn matches<T: PartialEq + Copy>(p: &[T], s: &[T], run: T, one: T) -> bool {
    let (mut pi, mut si) = (0, 0);
    // (pattern index just after the last `run`, the item of `s` that it would take next).
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        match p.get(pi) {
            Some(&c) if c == run => {
                pi += 1;
                star = Some((pi, si));
            }
            Some(&c) if c == one || c == s[si] => {
                pi += 1;
                si += 1;
            }
            _ => match star {
                Some((after, taken)) => {
                    pi = after;
                    si = taken + 1;
                    star = Some((after, taken + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == run)
}
