//! From review text to the multi-hot vectors the dense networks eat.
//!
//! Each review becomes its word indices as Keras's `imdb.load_data(num_words=10000)` gives
//! them (`shared::imdb::encode`: 1 marks the start, 2 a word outside the 10,000 most frequent,
//! 3 and up the words by frequency rank), and then, per batch, a row of 10,000 zeros with a 1
//! at each word the review uses (the bag of words: order and counts are gone). The whole
//! training split as one dense matrix would be 25,000 x 10,000 floats, a gigabyte: so only
//! the word sets are kept, and each batch's rows are built when the batch is needed.
//!
//! Validation (검증) reviews are held out of the 25,000 training reviews, seeded; the 25,000
//! test reviews are used once, at the end.

use anyhow::Result;
use burn::prelude::*;
use shared::datasets::DataSource;
use shared::download::Downloader;
use shared::imdb::{self, EncodeOptions, Review};
use shared::report::thousands;
use shared::rng::Rng;
use shared::text::multi_hot;
use shared::train::Batcher;

/// The vocabulary: the 10,000 most frequent words (indices 0-9,999, the reserved ones
/// included), as in the tutorial.
pub const NUM_WORDS: usize = 10_000;

/// Keras's `imdb.load_data(num_words=…)` options.
pub fn encode_options(num_words: usize) -> EncodeOptions {
    EncodeOptions {
        num_words: Some(num_words as u32),
        ..EncodeOptions::default()
    }
}

/// Reviews as sets of word indices, with their labels.
#[derive(Debug, Clone, Default)]
pub struct Reviews {
    /// Each review's distinct word indices, sorted: all that a multi-hot row needs.
    pub words: Vec<Vec<u32>>,
    /// 1 positive, 0 negative.
    pub labels: Vec<u8>,
    /// `neg/123`, `pos/4567`: which review of the official files this is.
    pub names: Vec<String>,
}

impl Reviews {
    /// Encodes `reviews` (Keras's encoding) and keeps each one's set of words.
    pub fn encode(reviews: &[Review], index: &imdb::WordIndex, num_words: usize) -> Reviews {
        let (sequences, labels) = imdb::encode(reviews, index, &encode_options(num_words));
        let words = sequences
            .into_iter()
            .map(|mut s| {
                s.sort_unstable();
                s.dedup();
                s
            })
            .collect();
        let names = reviews
            .iter()
            .map(|r| format!("{}/{}", if r.label == 1 { "pos" } else { "neg" }, r.id))
            .collect();
        Reviews {
            words,
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

/// The three splits of a run.
pub struct ImdbSplits {
    pub train: Reviews,
    pub valid: Reviews,
    pub test: Reviews,
    /// The word index, for decoding reviews back to words.
    pub word_index: imdb::WordIndex,
}

impl ImdbSplits {
    /// `19,999 train (50.1% positive), 5,000 validation, 25,000 test`.
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
/// (`bench/keras_imdb_regularization.py` computes the same order.)
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
    Ok(ImdbSplits {
        valid: Reviews::encode(&pick(&order[..n_valid]), index, num_words),
        train: Reviews::encode(&pick(&order[n_valid..]), index, num_words),
        test: Reviews::encode(&test, index, num_words),
        word_index: data.word_index,
    })
}

/// A batch: multi-hot rows `[batch, num_words]` and labels 0/1 `[batch]`.
#[derive(Debug, Clone)]
pub struct ReviewBatch {
    pub inputs: Tensor<2>,
    pub labels: Tensor<1>,
}

/// Builds [`ReviewBatch`]es from [`Reviews`], one multi-hot row per review.
pub struct ReviewBatcher {
    pub reviews: Reviews,
    pub num_words: usize,
}

impl ReviewBatcher {
    pub fn new(reviews: Reviews, num_words: usize) -> Self {
        ReviewBatcher { reviews, num_words }
    }
}

impl Batcher<ReviewBatch> for ReviewBatcher {
    fn len(&self) -> usize {
        self.reviews.len()
    }

    fn batch(&self, indices: &[usize], device: &Device) -> ReviewBatch {
        let n = indices.len();
        let words: Vec<&[u32]> = indices
            .iter()
            .map(|&i| self.reviews.words[i].as_slice())
            .collect();
        let rows = multi_hot(&words, self.num_words); // n x num_words, row-major
        let labels: Vec<f32> = indices
            .iter()
            .map(|&i| self.reviews.labels[i] as f32)
            .collect();
        ReviewBatch {
            inputs: Tensor::from_data(TensorData::new(rows, [n, self.num_words]), device), // [n, 10000]
            labels: Tensor::from_data(TensorData::new(labels, [n]), device),               // [n]
        }
    }
}
