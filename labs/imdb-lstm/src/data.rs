//! From review text to the numbers an LSTM reads: the lecture's preprocessing.
//!
//! ```text
//! "This movie was great! <br />Loved it."                    the review
//!  this movie was great br loved it                          words (Keras's text_to_word_sequence)
//!  1  14  20  16  87  10  423  12                            <START>, then each word's rank + 3
//!  0  0  …  0  1  14  20  16  87  10  423  12                padded at the front to maxlen
//! ```
//!
//! Keras's `imdb.load_data(num_words=10000)` hands out reviews as word indices: a word's
//! index is its frequency rank in the whole corpus (`the` is rank 1, `and` 2, …) plus 3,
//! because 0, 1 and 2 are reserved: `<PAD>` 0 (filler), `<START>` 1 (the first index of every
//! review) and `<UNK>` 2 (a word outside the 10,000 most frequent). Keras's published
//! `imdb.npz` was made with only ASCII `A`-`Z` lower-cased and with words missing from the
//! index dropped ([`shared::imdb::Rules::ImdbNpz`]); this lab reads the official text files
//! and encodes them the same way, so `train/pos/576_10.txt` becomes Keras's `x_train[0]`.
//!
//! An LSTM reads a batch of equal-length sequences: `pad_sequences(maxlen=200)` pads short
//! reviews with 0 *at the front* and cuts long ones *at the front* too (Keras's defaults), so
//! that the last thing the LSTM reads is always the end of the review.
//!
//! Validation (검증) reviews are held out of the 25,000 training reviews, seeded; the 25,000
//! test reviews are used once, at the end.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use burn::prelude::*;
use shared::datasets::DataSource;
use shared::download::Downloader;
use shared::imdb::{self, EncodeOptions, Review, WordIndex};
use shared::report::thousands;
use shared::rng::Rng;
use shared::text::{Side, multi_hot, pad_sequences, tokenize_ascii_lowercase};
use shared::train::Batcher;

/// The vocabulary: indices 0-9,999, i.e. the 9,997 most frequent words and the three
/// reserved indices (Keras's `num_words=10000`).
pub const NUM_WORDS: usize = 10_000;
/// `<PAD>`: what short reviews are filled with.
pub const PAD: u32 = 0;
/// `<START>`: the first index of every review.
pub const START: u32 = 1;
/// `<UNK>`: a word outside the vocabulary.
pub const UNK: u32 = 2;
/// A word of rank `r` (1 = most frequent) has index `r + INDEX_FROM`.
pub const INDEX_FROM: u32 = 3;

/// Keras's `imdb.load_data(num_words=…)`, as its `imdb.npz` was made.
pub fn encode_options(num_words: usize) -> EncodeOptions {
    EncodeOptions::imdb_npz(num_words as u32)
}

/// Keras's `pad_sequences(sequences, maxlen)`: padded and cut at the front.
pub fn pad(sequences: &[Vec<u32>], maxlen: usize) -> Vec<Vec<u32>> {
    pad_sequences(sequences, maxlen, Side::Pre, Side::Pre, PAD)
}

/// Reviews as word indices (not yet padded), with their labels.
#[derive(Debug, Clone, Default)]
pub struct Reviews {
    pub sequences: Vec<Vec<u32>>,
    /// 1 positive, 0 negative.
    pub labels: Vec<u8>,
    /// `neg/123_2`, `pos/4567_9`: which file of the official archive this is.
    pub names: Vec<String>,
}

impl Reviews {
    /// Encodes `reviews` as Keras's `imdb.load_data(num_words=…)` does.
    pub fn encode(reviews: &[Review], index: &WordIndex, num_words: usize) -> Reviews {
        let (sequences, labels) = imdb::encode(reviews, index, &encode_options(num_words));
        let names = reviews.iter().map(review_name).collect();
        Reviews {
            sequences,
            labels,
            names,
        }
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn positives(&self) -> usize {
        self.labels.iter().filter(|&&l| l == 1).count()
    }
}

/// `pos/576_10`: the review's file in the archive, without `.txt`.
pub fn review_name(review: &Review) -> String {
    let folder = if review.label == 1 { "pos" } else { "neg" };
    format!("{folder}/{}_{}", review.id, review.rating)
}

/// The three splits of a run, and the words behind the indices.
pub struct ImdbSplits {
    pub train: Reviews,
    pub valid: Reviews,
    pub test: Reviews,
    /// The `num_words - 3` most frequent words, for decoding and for `--predict`.
    pub vocabulary: Vocabulary,
    /// The first training review's text, for the preprocessing shown at the start.
    pub example_text: String,
}

impl ImdbSplits {
    /// `20,000 train (50.1% positive), 5,000 validation (49.6% positive), 25,000 test`.
    pub fn describe(&self) -> String {
        let share = |r: &Reviews| 100.0 * r.positives() as f64 / r.len().max(1) as f64;
        format!(
            "{} train ({:.1}% positive), {} validation ({:.1}% positive), {} test",
            thousands(self.train.len()),
            share(&self.train),
            thousands(self.valid.len()),
            share(&self.valid),
            thousands(self.test.len())
        )
    }
}

/// `0..n` in the seeded order that decides the validation split: the first
/// `round(n · validation_split)` indices are validation, the rest training.
pub fn split_order(n: usize, seed: u64) -> Vec<usize> {
    Rng::new(seed).permutation(n)
}

/// Loads the reviews, holds out `validation_split` of the training reviews (seeded) and,
/// with `quick = Some([train, test])`, keeps only that many training and test reviews.
pub fn load(
    source: &DataSource,
    num_words: usize,
    validation_split: f64,
    seed: u64,
    quick: Option<[usize; 2]>,
) -> Result<ImdbSplits> {
    let data = imdb::load(source, &Downloader::default())?;
    // The files come sorted by label: shuffle before keeping a slice of them.
    let mut order = split_order(data.train.len(), seed);
    let mut test: Vec<Review> = data.test;
    if let Some([n_train, n_test]) = quick {
        order.truncate(n_train);
        imdb::shuffle(&mut test, seed);
        test.truncate(n_test);
    }
    let n_valid = (order.len() as f64 * validation_split).round() as usize;
    let pick = |indices: &[usize]| -> Vec<Review> {
        indices.iter().map(|&i| data.train[i].clone()).collect()
    };
    let index = &data.word_index;
    let train = pick(&order[n_valid..]);
    Ok(ImdbSplits {
        valid: Reviews::encode(&pick(&order[..n_valid]), index, num_words),
        example_text: train.first().map(|r| r.text.clone()).unwrap_or_default(),
        train: Reviews::encode(&train, index, num_words),
        test: Reviews::encode(&test, index, num_words),
        vocabulary: Vocabulary::from_index(index, num_words),
    })
}

/// The words a model knows, by rank: what `--predict` needs to read new text exactly as the
/// training reviews were read. Saved in each run folder as `vocabulary.txt`, one word per
/// line, the most frequent first (line `r` holds the word of rank `r`, index `r + 3`).
#[derive(Debug, Clone, PartialEq)]
pub struct Vocabulary {
    /// `words[r - 1]` is the word of rank `r`.
    pub words: Vec<String>,
    ranks: HashMap<String, u32>,
}

/// A review as the model reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Encoded {
    /// `<START>` and one index per word (`<UNK>` for a word outside the vocabulary).
    pub indices: Vec<u32>,
    pub words: usize,
    pub unknown: usize,
}

impl Vocabulary {
    /// The `num_words - 3` most frequent words of Keras's word index. A rank the index
    /// lacks (not so in Keras's) gets a placeholder, `<rank-1234>`, that no text can
    /// produce: `<` is one of the characters tokenising turns into a space.
    pub fn from_index(index: &WordIndex, num_words: usize) -> Vocabulary {
        let size = num_words.saturating_sub(INDEX_FROM as usize);
        let mut words: Vec<String> = (1..=size).map(|r| format!("<rank-{r}>")).collect();
        for (word, &rank) in &index.ranks {
            if rank >= 1 && (rank as usize) <= size {
                words[rank as usize - 1] = word.clone();
            }
        }
        Vocabulary::from_words(words)
    }

    fn from_words(words: Vec<String>) -> Vocabulary {
        let ranks = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i as u32 + 1))
            .collect();
        Vocabulary { words, ranks }
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The indices' upper bound, `num_words`: `len() + 3`.
    pub fn num_words(&self) -> usize {
        self.words.len() + INDEX_FROM as usize
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        shared::run::write_atomic(path, (self.words.join("\n") + "\n").as_bytes())
    }

    pub fn load(path: &Path) -> Result<Vocabulary> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the vocabulary {}", path.display()))?;
        let words: Vec<String> = text.lines().map(str::to_string).collect();
        if words.is_empty() || words.iter().any(|w| w.is_empty() || w.contains(' ')) {
            bail!(
                "{} is not a vocabulary (one word per line, no blank lines)",
                path.display()
            );
        }
        Ok(Vocabulary::from_words(words))
    }

    /// New text, read as the training reviews were (ASCII lower case, Keras's filters,
    /// `<START>` first); a word outside the vocabulary becomes `<UNK>`.
    pub fn encode(&self, text: &str) -> Encoded {
        let words = tokenize_ascii_lowercase(text);
        let mut indices = vec![START];
        let mut unknown = 0;
        for word in &words {
            match self.ranks.get(word) {
                Some(&rank) => indices.push(rank + INDEX_FROM),
                None => {
                    indices.push(UNK);
                    unknown += 1;
                }
            }
        }
        Encoded {
            indices,
            words: words.len(),
            unknown,
        }
    }

    /// Indices back to words, with the reserved ones as `<PAD>`, `<START>`, `<UNK>`.
    pub fn decode(&self, indices: &[u32]) -> String {
        indices
            .iter()
            .map(|&i| match i {
                PAD => "<PAD>",
                START => "<START>",
                UNK => "<UNK>",
                i => self
                    .words
                    .get((i - INDEX_FROM) as usize - 1)
                    .map_or("?", |w| w.as_str()),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Review length classes for the test accuracy by length, in words (`<START>` not counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    /// Fewer than 100 words.
    Short,
    /// 100 words up to `maxlen`: the model sees all of it.
    Medium,
    /// Longer than `maxlen`: the model sees only the last `maxlen` indices.
    Long,
}

impl Length {
    pub const ALL: [Length; 3] = [Length::Short, Length::Medium, Length::Long];

    pub fn of(sequence: &[u32], maxlen: usize) -> Length {
        let words = sequence.len().saturating_sub(1);
        if words < 100 {
            Length::Short
        } else if sequence.len() <= maxlen {
            Length::Medium
        } else {
            Length::Long
        }
    }

    pub fn describe(self, maxlen: usize) -> String {
        match self {
            Length::Short => "short (< 100 words)".to_string(),
            Length::Medium => format!("medium (100-{} words)", maxlen - 1),
            Length::Long => format!("long (> {} words, cut)", maxlen - 1),
        }
    }
}

/// A batch for the LSTM: word indices, **time-major** `[maxlen, batch]` (the recurrence
/// walks the first axis), and labels 0/1 `[batch]`.
#[derive(Debug, Clone)]
pub struct SequenceBatch {
    pub ids: Tensor<2, Int>,
    pub labels: Tensor<1>,
}

/// Builds [`SequenceBatch`]es: every review padded to `maxlen` once, up front
/// (25,000 x 200 indices are 20 MB).
pub struct SequenceBatcher {
    pub padded: Vec<Vec<u32>>,
    pub labels: Vec<u8>,
    pub maxlen: usize,
}

impl SequenceBatcher {
    pub fn new(reviews: &Reviews, maxlen: usize) -> Self {
        SequenceBatcher {
            padded: pad(&reviews.sequences, maxlen),
            labels: reviews.labels.clone(),
            maxlen,
        }
    }

    /// One text to predict (its label is not used).
    pub fn single(indices: &[u32], maxlen: usize) -> Self {
        SequenceBatcher {
            padded: pad(&[indices.to_vec()], maxlen),
            labels: vec![0],
            maxlen,
        }
    }
}

impl Batcher<SequenceBatch> for SequenceBatcher {
    fn len(&self) -> usize {
        self.labels.len()
    }

    fn batch(&self, indices: &[usize], device: &Device) -> SequenceBatch {
        let n = indices.len();
        // Time-major: row t holds word t of every review in the batch.
        let mut ids = vec![0i64; self.maxlen * n];
        for (column, &i) in indices.iter().enumerate() {
            for (t, &w) in self.padded[i].iter().enumerate() {
                ids[t * n + column] = w as i64;
            }
        }
        let labels: Vec<f32> = indices.iter().map(|&i| self.labels[i] as f32).collect();
        SequenceBatch {
            ids: Tensor::from_data(TensorData::new(ids, [self.maxlen, n]), device), // [T, n]
            labels: Tensor::from_data(TensorData::new(labels, [n]), device),        // [n]
        }
    }
}

/// A batch for the bag-of-words baseline: multi-hot rows `[batch, num_words]`.
#[derive(Debug, Clone)]
pub struct BagBatch {
    pub inputs: Tensor<2>,
    pub labels: Tensor<1>,
}

/// Builds [`BagBatch`]es: each review's set of words, one multi-hot row per review, built
/// when the batch is needed (the whole training split at once would be a gigabyte). The
/// baseline sees every word of a review, not only the last `maxlen`: word order is what it
/// gives up, not length.
pub struct BagBatcher {
    pub words: Vec<Vec<u32>>,
    pub labels: Vec<u8>,
    pub num_words: usize,
}

impl BagBatcher {
    pub fn new(reviews: &Reviews, num_words: usize) -> Self {
        let words = reviews
            .sequences
            .iter()
            .map(|s| {
                let mut s = s.clone();
                s.sort_unstable();
                s.dedup();
                s
            })
            .collect();
        BagBatcher {
            words,
            labels: reviews.labels.clone(),
            num_words,
        }
    }
}

impl Batcher<BagBatch> for BagBatcher {
    fn len(&self) -> usize {
        self.labels.len()
    }

    fn batch(&self, indices: &[usize], device: &Device) -> BagBatch {
        let n = indices.len();
        let words: Vec<&[u32]> = indices.iter().map(|&i| self.words[i].as_slice()).collect();
        let rows = multi_hot(&words, self.num_words);
        let labels: Vec<f32> = indices.iter().map(|&i| self.labels[i] as f32).collect();
        BagBatch {
            inputs: Tensor::from_data(TensorData::new(rows, [n, self.num_words]), device),
            labels: Tensor::from_data(TensorData::new(labels, [n]), device),
        }
    }
}
