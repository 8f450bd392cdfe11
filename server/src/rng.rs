//! A tiny seeded PRNG (xorshift64*), so a fault profile replays the same way from its seed.
//!
//! Not for anything secret: it only decides which demo request fails.

/// xorshift64* (Vigna, "An experimental exploration of Marsaglia's xorshift generators").
#[derive(Debug, Clone)]
pub struct XorShift {
    state: u64,
}

impl XorShift {
    /// A generator for `seed`. Any seed works, 0 included: it is spread by one splitmix64 step
    /// first because xorshift's state must never be zero.
    pub fn new(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        XorShift {
            state: if z == 0 { 0x2545_F491_4F6C_DD1D } else { z },
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `[0, 1)`, from the top 53 bits (all an f64 can hold exactly).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// An index in `0..n` (`n > 0`); the tiny modulo bias is irrelevant for picking faults.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::XorShift;

    #[test]
    fn same_seed_same_sequence() {
        let a: Vec<u64> = (0..5)
            .scan(XorShift::new(7), |r, _| Some(r.next_u64()))
            .collect();
        let b: Vec<u64> = (0..5)
            .scan(XorShift::new(7), |r, _| Some(r.next_u64()))
            .collect();
        let c: Vec<u64> = (0..5)
            .scan(XorShift::new(8), |r, _| Some(r.next_u64()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn fractions_stay_in_range_and_spread() {
        let mut r = XorShift::new(0);
        let n = 10_000;
        let hits = (0..n)
            .map(|_| r.next_f64())
            .inspect(|x| assert!((0.0..1.0).contains(x)))
            .filter(|x| *x < 0.3)
            .count();
        assert!((2_700..3_300).contains(&hits), "{hits}");
    }
}
