//! The vocabulary (어휘), and the two ways word2vec uses word counts: dropping frequent words
//! (subsampling) and drawing "noise" words for negative sampling.
//!
//! * A word seen fewer than `--min-count` times is dropped from the corpus: too rare to learn
//!   a vector for. The rest are ordered by count, ties in order of first appearance, as
//!   gensim (and Keras's `Tokenizer`) order them; a word's id is its rank, 0 the most
//!   frequent.
//! * **Subsampling** (Mikolov et al. 2013): "the", "a", "of" appear next to everything and
//!   say little about their neighbours. Each occurrence of a word with count `c` is kept with
//!   probability `(√(c / t) + 1) · t / c`, where `t = sample · total` (the formula of
//!   word2vec.c and gensim; the paper's `1 − √(t/f)` is close to it). Words rarer than about
//!   `t` are always kept.
//! * **The noise table**: negative sampling contrasts each true neighbour with `--negative`
//!   words drawn at random with probability ∝ `count^0.75`; the power 0.75 draws rare words
//!   more often than their share of the text.

use std::collections::HashMap;

use anyhow::{Result, bail};
use shared::report::thousands;
use shared::rng::Rng;

use crate::corpus::Text;

/// The words kept for training, by rank, with their counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Vocab {
    /// `words[id]`: the most frequent first.
    pub words: Vec<String>,
    pub counts: Vec<u64>,
    index: HashMap<String, u32>,
    pub min_count: u64,
    /// Distinct words, and their occurrences, that were rarer than `min_count` and dropped.
    pub dropped_words: usize,
    pub dropped_occurrences: u64,
}

impl Vocab {
    /// Counts the words of `text` and keeps those seen at least `min_count` times.
    pub fn build(text: &Text, min_count: u64) -> Vocab {
        let counts = text.counts();
        // `text.words` is in order of first appearance; a stable sort keeps that order among
        // equal counts.
        let mut order: Vec<usize> = (0..counts.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(counts[i]));
        let (kept, dropped): (Vec<usize>, Vec<usize>) = order
            .into_iter()
            .partition(|&i| counts[i] >= min_count.max(1));
        let words: Vec<String> = kept.iter().map(|&i| text.words[i].clone()).collect();
        let index = words
            .iter()
            .enumerate()
            .map(|(id, w)| (w.clone(), id as u32))
            .collect();
        Vocab {
            counts: kept.iter().map(|&i| counts[i]).collect(),
            words,
            index,
            min_count,
            dropped_words: dropped.len(),
            dropped_occurrences: dropped.iter().map(|&i| counts[i]).sum(),
        }
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    pub fn id(&self, word: &str) -> Option<u32> {
        self.index.get(word).copied()
    }

    /// Occurrences of the kept words in the corpus.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// A sentence as word ids; words outside the vocabulary are left out (as word2vec.c and
    /// gensim do: the words around them become neighbours).
    pub fn encode<S: AsRef<str>>(&self, sentence: &[S]) -> Vec<u32> {
        sentence
            .iter()
            .filter_map(|w| self.id(w.as_ref()))
            .collect()
    }

    /// Every sentence of `text` as word ids (see [`Vocab::encode`]); each distinct word is
    /// looked up once.
    pub fn encode_text(&self, text: &Text) -> Vec<Vec<u32>> {
        let ids: Vec<Option<u32>> = text.words.iter().map(|w| self.id(w)).collect();
        text.sentences
            .iter()
            .map(|s| s.iter().filter_map(|&i| ids[i as usize]).collect())
            .collect()
    }

    /// The word's id, or an error that says why it has none.
    pub fn require(&self, word: &str, flag: &str) -> Result<u32> {
        if let Some(id) = self.id(word) {
            return Ok(id);
        }
        let lower = word.to_lowercase();
        if lower != word && self.id(&lower).is_some() {
            bail!(
                "{flag}: \"{word}\" is not in the vocabulary; words are lower case: try \"{lower}\""
            );
        }
        bail!(
            "{flag}: \"{word}\" is not in the vocabulary ({} words seen at least {} times{}); \
             choose another word{}",
            thousands(self.len()),
            self.min_count,
            if self.dropped_words > 0 {
                format!(", {} rarer words dropped", thousands(self.dropped_words))
            } else {
                String::new()
            },
            if self.min_count > 1 {
                " or lower --min-count"
            } else {
                ""
            }
        )
    }

    /// `12,345 words (min count 5; 40,000 rarer words dropped, 1.2% of the text)`.
    pub fn describe(&self) -> String {
        let all = self.total() + self.dropped_occurrences;
        format!(
            "{} words (min count {}; {} rarer words dropped, {:.1}% of the text)",
            thousands(self.len()),
            self.min_count,
            thousands(self.dropped_words),
            100.0 * self.dropped_occurrences as f64 / all.max(1) as f64
        )
    }
}

/// The probability of keeping each occurrence of each word (word2vec.c's and gensim's
/// formula): `(√(c / t) + 1) · t / c`, at most 1, with `t = sample · total`. `sample = 0`
/// keeps everything.
pub fn keep_probabilities(counts: &[u64], sample: f64) -> Vec<f32> {
    let total: u64 = counts.iter().sum();
    let threshold = sample * total as f64;
    counts
        .iter()
        .map(|&c| {
            if sample <= 0.0 || c == 0 {
                1.0
            } else {
                let c = c as f64;
                (((c / threshold).sqrt() + 1.0) * threshold / c).min(1.0) as f32
            }
        })
        .collect()
}

/// The words of `sentence` that survive subsampling, into `kept` (cleared first).
pub fn subsample(sentence: &[u32], keep: &[f32], rng: &mut Rng, kept: &mut Vec<u32>) {
    kept.clear();
    for &w in sentence {
        let p = keep[w as usize];
        if p >= 1.0 || (rng.unit() as f32) < p {
            kept.push(w);
        }
    }
}

/// The share of the corpus's words that subsampling keeps, on average.
pub fn expected_kept_share(counts: &[u64], keep: &[f32]) -> f64 {
    let total: u64 = counts.iter().sum();
    let kept: f64 = counts
        .iter()
        .zip(keep)
        .map(|(&c, &p)| c as f64 * p as f64)
        .sum();
    kept / total.max(1) as f64
}

/// word2vec's noise distribution, `P(w) ∝ count(w)^0.75`, as an alias table (Walker's
/// method, in Vose's construction): `V` columns of equal width `1/V`; column `i` gives word
/// `i` the share `keep[i] / 2³²` of its width and the rest to word `alias[i]`. A draw picks
/// a column uniformly, then flips a coin biased by `keep`: two random numbers and one
/// memory access, whatever the size of the vocabulary. (word2vec.c fills a table of 10⁸
/// word ids in proportion instead; gensim searches a cumulative table: both give the same
/// distribution, this one fastest.)
#[derive(Debug, Clone, PartialEq)]
pub struct NoiseTable {
    /// `(keep, alias)` per column, side by side: one cache line per draw.
    columns: Vec<(u32, u32)>,
}

/// The exponent of the noise distribution (word2vec's 0.75).
pub const NOISE_POWER: f64 = 0.75;

const SCALE: f64 = 4_294_967_296.0; // 2^32: a coin is a uniform u32

impl NoiseTable {
    pub fn new(counts: &[u64], power: f64) -> NoiseTable {
        let n = counts.len();
        let weights: Vec<f64> = counts.iter().map(|&c| (c as f64).powf(power)).collect();
        let total: f64 = weights.iter().sum();
        // Each word's mass in units of one column: they add up to n columns.
        let mut mass: Vec<f64> = weights.iter().map(|w| w * n as f64 / total).collect();
        let mut columns: Vec<(u32, u32)> = (0..n).map(|i| (u32::MAX, i as u32)).collect();
        let (mut small, mut large): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| mass[i] < 1.0);
        // Fill a column that is short of a full one with mass from a word that has too much.
        while let (Some(&short), Some(&full)) = (small.last(), large.last()) {
            small.pop();
            columns[short] = (
                (mass[short] * SCALE).round().min(SCALE - 1.0) as u32,
                full as u32,
            );
            mass[full] -= 1.0 - mass[short];
            if mass[full] < 1.0 {
                large.pop();
                small.push(full);
            }
        }
        // What is left are columns of (within rounding) exactly one word: full already.
        NoiseTable { columns }
    }

    /// A random word of the noise distribution.
    #[inline]
    pub fn sample(&self, rng: &mut Rng) -> u32 {
        let column = rng.below(self.columns.len());
        let (keep, alias) = self.columns[column];
        let coin = (rng.next_u64() >> 32) as u32;
        if coin < keep { column as u32 } else { alias }
    }

    /// The probability that [`NoiseTable::sample`] draws word `id` (sums over the columns:
    /// for tests and reports).
    pub fn probability(&self, id: usize) -> f64 {
        let n = self.columns.len() as f64;
        self.columns
            .iter()
            .enumerate()
            .map(|(column, &(keep, alias))| {
                let own = f64::from(keep) / SCALE;
                let mut p = 0.0;
                if column == id {
                    p += own;
                }
                if alias as usize == id {
                    p += 1.0 - own;
                }
                p / n
            })
            .sum()
    }

    pub fn len(&self) -> usize {
        self.columns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }
}
