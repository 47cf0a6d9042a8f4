//! Space ids: `"1"` + a check character + 11 base62 characters of a keyed,
//! bijective scramble of a 64-bit number (13 characters, like real ids such
//! as `1DXxyRYNejbKM`). Decoding is O(1) and rejects almost all garbage.

use super::rng::{hash, splitmix64};

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BODY_LEN: usize = 11;
pub const ID_LEN: usize = BODY_LEN + 2;
const CHECK_TAG: u64 = 0xC4EC;
const C1: u64 = 0xBF58_476D_1CE4_E5B9;
const C2: u64 = 0x94D0_49BB_1331_11EB;

const fn mod_inverse(c: u64) -> u64 {
    // Newton iteration; doubles the number of correct low bits each round.
    let mut inv = c;
    let mut i = 0;
    while i < 6 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(c.wrapping_mul(inv)));
        i += 1;
    }
    inv
}

const C1_INV: u64 = mod_inverse(C1);
const C2_INV: u64 = mod_inverse(C2);

fn unxorshift(y: u64, s: u32) -> u64 {
    let mut x = y;
    for _ in 0..(64 / s + 1) {
        x = y ^ (x >> s);
    }
    x
}

fn keys(seed: u64) -> (u64, u64) {
    let k1 = splitmix64(seed ^ 0x1D5_1D5);
    (k1, splitmix64(k1))
}

pub fn scramble(seed: u64, x: u64) -> u64 {
    let (k1, k2) = keys(seed);
    let mut z = x ^ k1;
    z ^= z >> 30;
    z = z.wrapping_mul(C1);
    z ^= z >> 27;
    z = z.wrapping_mul(C2);
    z ^= z >> 31;
    z ^ k2
}

pub fn unscramble(seed: u64, y: u64) -> u64 {
    let (k1, k2) = keys(seed);
    let mut z = y ^ k2;
    z = unxorshift(z, 31);
    z = z.wrapping_mul(C2_INV);
    z = unxorshift(z, 27);
    z = z.wrapping_mul(C1_INV);
    z = unxorshift(z, 30);
    z ^ k1
}

fn check_char(seed: u64, value: u64) -> u8 {
    ALPHABET[(hash(seed, &[CHECK_TAG, value]) % 62) as usize]
}

/// Encode a number as a Space id.
pub fn encode(seed: u64, n: u64) -> String {
    let value = scramble(seed, n);
    let mut body = [b'0'; BODY_LEN];
    let mut v = value;
    for slot in body.iter_mut().rev() {
        *slot = ALPHABET[(v % 62) as usize];
        v /= 62;
    }
    let mut out = String::with_capacity(ID_LEN);
    out.push('1');
    out.push(check_char(seed, value) as char);
    for b in body {
        out.push(b as char);
    }
    out
}

fn digit(b: u8) -> Option<u64> {
    match b {
        b'0'..=b'9' => Some(u64::from(b - b'0')),
        b'A'..=b'Z' => Some(u64::from(b - b'A') + 10),
        b'a'..=b'z' => Some(u64::from(b - b'a') + 36),
        _ => None,
    }
}

/// Decode a Space id back to its number; `None` for anything malformed.
pub fn decode(seed: u64, id: &str) -> Option<u64> {
    let bytes = id.as_bytes();
    if bytes.len() != ID_LEN || bytes[0] != b'1' {
        return None;
    }
    let mut value: u128 = 0;
    for &b in &bytes[2..] {
        value = value * 62 + u128::from(digit(b)?);
    }
    let value = u64::try_from(value).ok()?;
    if check_char(seed, value) != bytes[1] {
        return None;
    }
    Some(unscramble(seed, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scramble_round_trips() {
        for seed in [0u64, 1, 42, u64::MAX] {
            for x in [0u64, 1, 2, 12345, 1 << 40, u64::MAX] {
                assert_eq!(unscramble(seed, scramble(seed, x)), x);
            }
        }
    }

    #[test]
    fn ids_round_trip_and_look_real() {
        let mut seen = std::collections::HashSet::new();
        for n in 0..5000u64 {
            let id = encode(42, n);
            assert_eq!(id.len(), 13);
            assert!(id.starts_with('1'));
            assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()));
            assert_eq!(decode(42, &id), Some(n), "{id}");
            assert!(seen.insert(id));
        }
    }

    #[test]
    fn garbage_is_rejected() {
        for bad in [
            "",
            "1",
            "1abcdefghijklmno",
            "2DXxyRYNejbKM",
            "1DXxyRYNejb-M",
            "1DXxyRYNejbKMM",
            "1zzzzzzzzzzzz",
            "1é2345678901",
        ] {
            assert_eq!(decode(42, bad), None, "{bad}");
        }
        // A one-character change almost never survives the check character.
        let id = encode(42, 777);
        let mut survived = 0;
        for pos in 1..13 {
            for &c in ALPHABET.iter() {
                let mut b = id.clone().into_bytes();
                if b[pos] == c {
                    continue;
                }
                b[pos] = c;
                let s = String::from_utf8(b).unwrap();
                if decode(42, &s).is_some_and(|n| n < 1 << 40) {
                    survived += 1;
                }
            }
        }
        assert!(
            survived < 10,
            "{survived} mutated ids decoded to plausible slots"
        );
        // Ids are seed specific.
        assert_ne!(decode(43, &id), Some(777));
    }
}
