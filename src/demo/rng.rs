//! Deterministic randomness: every "random" choice in the demo world is a pure
//! function of the seed and a few integer tags, mixed with splitmix64.

/// The splitmix64 finaliser (one step of the generator).
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hash a seed and a list of tags into 64 well-mixed bits.
pub fn hash(seed: u64, parts: &[u64]) -> u64 {
    let mut acc = splitmix64(seed ^ 0x5DEE_CE66_D1CE_4E5B);
    for (i, p) in parts.iter().enumerate() {
        acc = splitmix64(acc ^ p.wrapping_mul(0xD6E8_FEB8_6659_FD93).wrapping_add(i as u64));
    }
    acc
}

/// Map 64 random bits to a float in `[0, 1)`.
pub fn unit(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// A stream of dice keyed by a seed and a context (e.g. a slot); each field
/// asks with its own tag, so adding a field never shifts the others.
#[derive(Clone, Copy, Debug)]
pub struct Dice {
    key: u64,
}

impl Dice {
    pub fn new(seed: u64, context: &[u64]) -> Self {
        Dice {
            key: hash(seed, context),
        }
    }

    pub fn bits(&self, tag: u64) -> u64 {
        hash(self.key, &[tag])
    }

    pub fn bits2(&self, tag: u64, n: u64) -> u64 {
        hash(self.key, &[tag, n])
    }

    pub fn unit(&self, tag: u64) -> f64 {
        unit(self.bits(tag))
    }

    pub fn unit2(&self, tag: u64, n: u64) -> f64 {
        unit(self.bits2(tag, n))
    }

    /// Uniform integer in `lo..=hi` (returns `lo` if the range is empty).
    pub fn range(&self, tag: u64, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = (hi - lo) as u64 + 1;
        lo + (self.bits(tag) % span) as i64
    }

    /// Uniform index below `n` (0 when `n == 0`).
    pub fn index(&self, tag: u64, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.bits(tag) % n as u64) as usize
        }
    }

    pub fn index2(&self, tag: u64, k: u64, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.bits2(tag, k) % n as u64) as usize
        }
    }

    pub fn chance(&self, tag: u64, p: f64) -> bool {
        self.unit(tag) < p
    }
}

/// A deterministic Fisher–Yates shuffle of `0..n`.
pub fn permutation(seed: u64, context: &[u64], n: usize) -> Vec<usize> {
    let dice = Dice::new(seed, context);
    let mut v: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = dice.index2(1, i as u64, i + 1);
        v.swap(i, j);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_deterministic_and_sensitive() {
        assert_eq!(hash(1, &[2, 3]), hash(1, &[2, 3]));
        assert_ne!(hash(1, &[2, 3]), hash(1, &[3, 2]));
        assert_ne!(hash(1, &[2, 3]), hash(2, &[2, 3]));
        assert_ne!(hash(1, &[0]), hash(1, &[0, 0]));
    }

    #[test]
    fn unit_and_range_stay_in_bounds() {
        let d = Dice::new(7, &[1]);
        for t in 0..1000 {
            let u = d.unit(t);
            assert!((0.0..1.0).contains(&u));
            let r = d.range(t, -3, 5);
            assert!((-3..=5).contains(&r));
        }
        assert_eq!(d.range(0, 4, 4), 4);
        assert_eq!(d.index(0, 0), 0);
    }

    #[test]
    fn permutation_is_a_permutation() {
        let mut p = permutation(42, &[9], 40);
        assert_ne!(p, (0..40).collect::<Vec<_>>());
        p.sort_unstable();
        assert_eq!(p, (0..40).collect::<Vec<_>>());
    }
}
