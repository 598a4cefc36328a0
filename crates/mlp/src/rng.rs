//! The one random-number generator of the library, with a stream that is
//! part of the public contract.
//!
//! Every random choice in `mlp` (initial weights, shuffles, splits) draws from
//! [`Rng`], seeded explicitly. Its output is defined here, not by a
//! dependency, so that a seed gives the same numbers on every platform and in
//! every future version (`rand`'s `StdRng` promises neither):
//!
//! - the state is seeded by four outputs of SplitMix64 started at the seed;
//! - [`Rng::next_u64`] is xoshiro256++ (Blackman & Vigna, 2019);
//! - [`Rng::uniform`] is `(next_u64 >> 11) * 2^-53`, in `[0, 1)`;
//! - [`Rng::normal`] is the Box-Muller transform of two uniforms, computed with
//!   the portable `libm` functions (never the platform's), first value only;
//! - [`Rng::below`] is Lemire's unbiased multiply-and-reject method;
//! - [`Rng::shuffle`] is Fisher-Yates from the last element down.
//!
//! Changing any of these is a breaking change; tests pin the first values
//! against an independent Python transcription (`tests/data/gen_golden.py`).

/// A seeded xoshiro256++ generator. See the [module docs](self) for the exact,
/// stable definition of every stream it produces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator whose state is four SplitMix64 outputs from `seed`.
    pub fn new(seed: u64) -> Self {
        let mut z = seed;
        let mut next = || {
            z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut x = z;
            x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            x ^ (x >> 31)
        };
        Self { s: [next(), next(), next(), next()] }
    }

    /// The next 64 random bits (xoshiro256++).
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A uniform number in `[0, 1)` with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform number in `[low, high)`.
    pub fn uniform_in(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.uniform()
    }

    /// A standard normal number (Box-Muller; consumes two uniforms).
    pub fn normal(&mut self) -> f64 {
        // 1 - u lies in (0, 1], so the logarithm is finite.
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * core::f64::consts::PI * u2)
    }

    /// A uniform integer in `[0, n)`.
    ///
    /// # Panics
    /// If `n == 0`.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "Rng::below(0): the range is empty");
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = u128::from(self.next_u64()) * u128::from(n);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }

    /// The generator's state, for a checkpoint.
    pub fn state(&self) -> [u64; 4] {
        self.s
    }

    /// A generator continuing from a saved [`state`](Self::state), or `None`
    /// for the all-zero state, which xoshiro never leaves and never reaches.
    pub fn from_state(s: [u64; 4]) -> Option<Self> {
        (s != [0; 4]).then_some(Self { s })
    }

    /// Shuffles `items` in place (Fisher-Yates, from the last element down).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn splitmix_seeding_matches_the_reference_sequence() {
        // SplitMix64 from seed 0 (Vigna's reference splitmix64.c): its first
        // output is 0xe220a8397b1dcdaf.
        assert_eq!(Rng::new(0).s[0], 0xe220_a839_7b1d_cdaf);
    }

    #[test]
    fn below_stays_in_range_and_shuffle_is_a_permutation() {
        let mut rng = Rng::new(7);
        for n in 1..50 {
            assert!(rng.below(n) < n);
        }
        let mut v: Vec<u32> = (0..100).collect();
        rng.shuffle(&mut v);
        let mut sorted = v.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        assert_ne!(v, sorted, "a shuffle of 100 items left them in order");
    }

    #[test]
    fn uniforms_lie_in_the_unit_interval_and_normals_are_standard() {
        let mut rng = Rng::new(1);
        let n = 20_000;
        let (mut sum, mut sum_sq) = (0.0, 0.0);
        for _ in 0..n {
            let u = rng.uniform();
            assert!((0.0..1.0).contains(&u));
            let z = rng.normal();
            sum += z;
            sum_sq += z * z;
        }
        let mean = sum / f64::from(n);
        let var = sum_sq / f64::from(n) - mean * mean;
        // Standard errors: 0.007 for the mean, 0.01 for the variance.
        assert!(mean.abs() < 0.04, "mean {mean}");
        assert!((var - 1.0).abs() < 0.05, "variance {var}");
    }
}
