//! What the network is trained on: each word (the centre, 중심 단어) with the words around it
//! (its context, 주변 단어), up to `window` positions to either side.
//!
//! The lecture's sentence with window 2:
//!
//! ```text
//! i  love  [king]  of  korea        centre "king", context: i, love, of, korea
//!
//! skip-gram: the centre predicts each neighbour  (king → i) (king → love) (king → of) (king → korea)
//! CBOW:      the neighbours together predict the centre   (i, love, of, korea → king)
//! ```
//!
//! In training, word2vec.c (and gensim) draw each centre's window anew, uniformly from 1 to
//! `window` ("reduced windows"): close neighbours are used more often than distant ones.

use std::ops::Range;

use serde::{Deserialize, Serialize};
use shared::rng::Rng;

/// The two word2vec networks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "lowercase")]
pub enum Architecture {
    /// Skip-gram: the centre word predicts each of its neighbours.
    #[default]
    Skipgram,
    /// Continuous bag of words: the mean of the neighbours' vectors predicts the centre word.
    Cbow,
}

impl burn::config::Config for Architecture {}

impl Architecture {
    pub fn name(self) -> &'static str {
        match self {
            Architecture::Skipgram => "skip-gram",
            Architecture::Cbow => "CBOW",
        }
    }

    /// The starting learning rate of word2vec.c and gensim: 0.025 for skip-gram, 0.05 for
    /// CBOW.
    pub fn default_lr(self) -> f64 {
        match self {
            Architecture::Skipgram => 0.025,
            Architecture::Cbow => 0.05,
        }
    }
}

/// The positions within `window` of position `centre` in a sentence of `len` words (the
/// centre itself included: skip it).
#[inline]
pub fn window_range(len: usize, centre: usize, window: usize) -> Range<usize> {
    centre.saturating_sub(window)..(centre + window + 1).min(len)
}

/// A centre's window in training: drawn uniformly from `1..=window` (word2vec's reduced
/// windows).
#[inline]
pub fn reduced_window(window: usize, rng: &mut Rng) -> usize {
    if window > 1 {
        window - rng.below(window)
    } else {
        window
    }
}

/// The skip-gram training pairs `(centre, context)` of a sentence, in order: for each centre,
/// its neighbours from left to right.
pub fn skipgram_pairs<T: Copy>(sentence: &[T], window: usize) -> Vec<(T, T)> {
    let mut pairs = Vec::new();
    for centre in 0..sentence.len() {
        for j in window_range(sentence.len(), centre, window) {
            if j != centre {
                pairs.push((sentence[centre], sentence[j]));
            }
        }
    }
    pairs
}

/// The CBOW examples `(context, centre)` of a sentence: each word with its neighbours.
pub fn cbow_contexts<T: Copy>(sentence: &[T], window: usize) -> Vec<(Vec<T>, T)> {
    let mut examples = Vec::new();
    for centre in 0..sentence.len() {
        let context: Vec<T> = window_range(sentence.len(), centre, window)
            .filter(|&j| j != centre)
            .map(|j| sentence[j])
            .collect();
        if !context.is_empty() {
            examples.push((context, sentence[centre]));
        }
    }
    examples
}
