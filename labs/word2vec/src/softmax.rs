//! The lecture's network, as drawn: a one-hot vector in, a hidden layer without activation
//! (the embedding), a softmax over the whole vocabulary out (`--loss softmax`).
//!
//! ```text
//! x  [batch, V]   one-hot of the centre word (skip-gram), or the mean of the context
//!                 words' one-hots (CBOW)
//! h = x · W       [batch, d]   W is [V, d]: a one-hot row picks one row of W, the word's vector
//! z = h · W'      [batch, V]   W' is [d, V]: one score per word of the vocabulary
//! p = softmax(z)               the predicted neighbour (skip-gram) or centre (CBOW)
//! loss = −log p[target], summed over the batch
//! ```
//!
//! burn's autodiff computes every gradient, and plain SGD applies it. Every example touches
//! all `V` columns of `W'`, so this is only for small vocabularies: negative sampling
//! ([`crate::sgns`]) asks the same question of `k + 1` words instead of `V`. The examples,
//! subsampling, reduced windows and learning-rate schedule are the same as there, so the two
//! objectives can be compared on the toy corpus.

use std::time::Instant;

use anyhow::Result;
use burn::module::Param;
use burn::optim::{GradientsParams, SgdConfig};
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use shared::rng::Rng;

use crate::sgns::{EpochStats, Schedule, Settings, Tables};
use crate::vocab::subsample;
use crate::windows::{Architecture, reduced_window, window_range};

/// The two weight matrices of the lecture's network.
#[derive(Module, Debug)]
pub struct SoftmaxWord2Vec {
    /// `W`, `[V, d]`: the input → hidden weights, one row per word: the word vectors.
    pub input: Param<Tensor<2>>,
    /// `W'`, `[d, V]`: the hidden → output weights.
    pub output: Param<Tensor<2>>,
}

impl SoftmaxWord2Vec {
    /// The network with `W` and `W'` taken from `tables` (word2vec's start: `W` small and
    /// random, `W'` zero).
    pub fn new(tables: &Tables, device: &Device) -> SoftmaxWord2Vec {
        let (v, d) = (tables.vocab, tables.dim);
        let mut output_t = vec![0f32; v * d]; // W' is stored transposed: [d, V]
        for word in 0..v {
            for k in 0..d {
                output_t[k * v + word] = tables.output[word * d + k];
            }
        }
        let input = Tensor::<2>::from_data(TensorData::new(tables.input.clone(), [v, d]), device);
        let output = Tensor::<2>::from_data(TensorData::new(output_t, [d, v]), device);
        SoftmaxWord2Vec {
            input: Param::from_tensor(input),
            output: Param::from_tensor(output),
        }
    }

    /// Scores over the vocabulary, `[batch, V]`, for inputs `x` of shape `[batch, V]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let hidden = x.matmul(self.input.val()); // [batch, d]: the rows of W the one-hots pick
        hidden.matmul(self.output.val()) // [batch, V]
    }

    /// The cross-entropy of the targets (one-hot rows, `[batch, V]`), summed over the batch:
    /// a sum, so that each example moves the weights as much as in word2vec's one-example
    /// SGD.
    pub fn loss(&self, x: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
        let log_p = log_softmax(self.forward(x), 1); // [batch, V]
        -(log_p * targets).sum()
    }

    /// `W` as plain floats, `[V, d]` row-major.
    pub fn vectors(&self) -> Vec<f32> {
        shared::floats(self.input.val())
    }
}

/// The inputs and one-hot targets of a batch of examples `(input words, target word)`: an
/// input row has `1/n` at each of its `n` words (one word in skip-gram: a one-hot row).
pub fn batch_tensors(
    examples: &[(Vec<u32>, u32)],
    vocab: usize,
    device: &Device,
) -> (Tensor<2>, Tensor<2>) {
    let n = examples.len();
    let mut x = vec![0f32; n * vocab];
    let mut y = vec![0f32; n * vocab];
    for (i, (inputs, target)) in examples.iter().enumerate() {
        let share = 1.0 / inputs.len().max(1) as f32;
        for &w in inputs {
            x[i * vocab + w as usize] += share;
        }
        y[i * vocab + *target as usize] = 1.0;
    }
    (
        Tensor::from_data(TensorData::new(x, [n, vocab]), device),
        Tensor::from_data(TensorData::new(y, [n, vocab]), device),
    )
}

/// Trains the softmax network from `tables` for `settings.epochs` epochs on batches of
/// `batch_size` examples (on the autodiff `device`); returns the word vectors and the
/// history. Calls `on_epoch` after each epoch.
pub fn train(
    tables: &Tables,
    corpus: &[Vec<u32>],
    settings: &Settings,
    batch_size: usize,
    keep: &[f32],
    device: &Device,
    mut on_epoch: impl FnMut(&EpochStats),
) -> Result<(Vec<f32>, Vec<EpochStats>)> {
    let vocab = tables.vocab;
    let mut model = SoftmaxWord2Vec::new(tables, device);
    let mut optimizer = SgdConfig::new().init();
    let words: u64 = corpus.iter().map(|s| s.len() as u64).sum();
    let schedule = Schedule::new(
        settings.lr,
        settings.min_lr_fraction,
        words * settings.epochs as u64,
    );
    let mut history = Vec::with_capacity(settings.epochs);
    let mut kept = Vec::new();
    let mut batch: Vec<(Vec<u32>, u32)> = Vec::with_capacity(batch_size);
    for epoch in 1..=settings.epochs {
        let start = Instant::now();
        let mut rng = Rng::new(
            settings
                .seed
                .wrapping_mul(1_000_003)
                .wrapping_add(epoch as u64),
        );
        let (mut loss, mut examples, mut kept_words) = (0.0f64, 0u64, 0u64);
        let mut step = |batch: &mut Vec<(Vec<u32>, u32)>, model: SoftmaxWord2Vec| {
            let (x, y) = batch_tensors(batch, vocab, device);
            let batch_loss = model.loss(x, y);
            let grads = GradientsParams::from_grads(batch_loss.backward(), &model);
            let model = optimizer.step(f64::from(schedule.lr()), model, grads);
            loss += f64::from(batch_loss.into_scalar::<f32>());
            examples += batch.len() as u64;
            batch.clear();
            model
        };
        for sentence in corpus {
            subsample(sentence, keep, &mut rng, &mut kept);
            kept_words += kept.len() as u64;
            for centre in 0..kept.len() {
                let window = window_range(
                    kept.len(),
                    centre,
                    reduced_window(settings.window, &mut rng),
                );
                let context = window.filter(|&j| j != centre).map(|j| kept[j]);
                match settings.architecture {
                    Architecture::Skipgram => {
                        for word in context {
                            batch.push((vec![kept[centre]], word));
                        }
                    }
                    Architecture::Cbow => {
                        let context: Vec<u32> = context.collect();
                        if !context.is_empty() {
                            batch.push((context, kept[centre]));
                        }
                    }
                }
                if batch.len() >= batch_size {
                    model = step(&mut batch, model);
                }
            }
            schedule.advance(sentence.len() as u64);
        }
        if !batch.is_empty() {
            model = step(&mut batch, model);
        }
        let stats = EpochStats {
            epoch,
            loss: loss / examples.max(1) as f64,
            lr: f64::from(schedule.lr()),
            seconds: start.elapsed().as_secs_f64(),
            words,
            kept_words,
            examples,
        };
        on_epoch(&stats);
        history.push(stats);
    }
    Ok((model.vectors(), history))
}
