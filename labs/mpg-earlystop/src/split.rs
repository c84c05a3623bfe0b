//! The tutorial's own train/test split, reproduced car for car.
//!
//! TensorFlow's tutorial splits with pandas:
//!
//! ```text
//! dataset = raw_dataset.copy().dropna()                     # 392 cars
//! train_dataset = dataset.sample(frac=0.8, random_state=0)  # 314 cars, in sample's order
//! test_dataset = dataset.drop(train_dataset.index)          # the other 78, in file order
//! ```
//!
//! Without weights, pandas' `sample` is `numpy.random.RandomState(0).choice(392,
//! size=round(0.8 · 392), replace=False)`, and numpy's legacy `choice` without `p` is
//! `permutation(392)[:314]`: a Mersenne Twister (MT19937) seeded by `init_genrand(0)`, then a
//! Fisher-Yates shuffle of `0..392` that draws each swap partner with `random_interval`
//! (a bit mask and rejection on 32-bit draws). [`RandomState`] is those few lines of numpy,
//! and `tests/mpg_earlystop.rs` checks the result against pandas itself
//! (`keras/tutorial_split.txt`, written by `keras/make_split_fixture.py`).
//!
//! The order of the training cars matters: Keras's `validation_split=0.2` takes the *last*
//! 20 % of them, in the order `sample` returned them, as validation cars.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The tutorial's `random_state=0`.
pub const TUTORIAL_RANDOM_STATE: u32 = 0;

/// How the cars are split into training and test cars (`--split`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum SplitKind {
    /// The tutorial's: pandas' `sample(frac=0.8, random_state=0)`, reproduced exactly.
    Tutorial,
    /// The course's own shuffle (`shared::auto_mpg::split`) with `--split-seed`.
    Seeded,
}

impl burn::config::Config for SplitKind {}

/// A split, with its seed where it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// pandas' `sample(frac=0.8, random_state=0)`.
    Tutorial,
    /// The course's shuffle with this seed.
    Seeded(u64),
}

impl Split {
    pub fn new(kind: SplitKind, seed: u64) -> Split {
        match kind {
            SplitKind::Tutorial => Split::Tutorial,
            SplitKind::Seeded => Split::Seeded(seed),
        }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Split::Tutorial => write!(
                f,
                "the tutorial's split, pandas' sample(frac=0.8, random_state=0)"
            ),
            Split::Seeded(seed) => write!(f, "seeded shuffle, split seed {seed}"),
        }
    }
}

/// numpy's legacy `RandomState` as far as the split needs it: MT19937 and `permutation`.
pub struct RandomState {
    key: [u32; 624],
    pos: usize,
}

impl RandomState {
    /// `RandomState(seed)`: MT19937's `init_genrand(seed)` (numpy's `mt19937_seed`).
    pub fn new(seed: u32) -> RandomState {
        let mut key = [0u32; 624];
        key[0] = seed;
        for i in 1..624 {
            let prev = key[i - 1];
            key[i] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        RandomState { key, pos: 624 }
    }

    /// MT19937's `genrand_int32`: the next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        if self.pos == 624 {
            self.regenerate();
        }
        let mut y = self.key[self.pos];
        self.pos += 1;
        // Tempering.
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// The next 624 words of the state (numpy's `mt19937_gen`).
    fn regenerate(&mut self) {
        const UPPER: u32 = 0x8000_0000;
        const LOWER: u32 = 0x7fff_ffff;
        const MATRIX_A: u32 = 0x9908_b0df;
        for i in 0..624 {
            let y = (self.key[i] & UPPER) | (self.key[(i + 1) % 624] & LOWER);
            let twist = (y >> 1) ^ if y & 1 == 1 { MATRIX_A } else { 0 };
            self.key[i] = self.key[(i + 397) % 624] ^ twist;
        }
        self.pos = 0;
    }

    /// numpy's `random_interval(max)`: uniform in `0..=max`, by masking 32-bit draws to the
    /// smallest all-ones mask ≥ `max` and rejecting those above `max`.
    pub fn interval(&mut self, max: u32) -> u32 {
        if max == 0 {
            return 0;
        }
        let mask = u32::MAX >> max.leading_zeros();
        loop {
            let value = self.next_u32() & mask;
            if value <= max {
                return value;
            }
        }
    }

    /// `RandomState.permutation(n)`: `arange(n)` shuffled in place, `i` from `n - 1` down to
    /// 1 swapped with `random_interval(i)`.
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = self.interval(u32::try_from(i).expect("fewer than 2³² rows")) as usize;
            order.swap(i, j);
        }
        order
    }
}

/// pandas' `sample(frac=train_fraction, random_state=random_state)` of `n` rows, then `drop`:
/// `(train, test)` positions, the training ones in the order `sample` returns them, the test
/// ones in row order. The sample size is Python's `round(frac * n)` (ties to even).
pub fn pandas_sample(n: usize, train_fraction: f64, random_state: u32) -> (Vec<usize>, Vec<usize>) {
    let size = (train_fraction * n as f64).round_ties_even() as usize;
    let mut train = RandomState::new(random_state).permutation(n);
    train.truncate(size);
    let mut in_train = vec![false; n];
    for &i in &train {
        in_train[i] = true;
    }
    let test = (0..n).filter(|&i| !in_train[i]).collect();
    (train, test)
}
