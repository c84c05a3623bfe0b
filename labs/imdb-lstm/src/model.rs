//! The lecture's many-to-one LSTM, and the bag-of-words baseline it is measured against.
//!
//! ```text
//! ids          [T, batch]            word indices, time-major, T = maxlen (200)
//! embedding    [T, batch, 128]       a learned 128-number vector per word (10,000 x 128)
//! lstm         [T, batch, 64]        one hidden state per step; many-to-one keeps the last
//! last step    [batch, 64]           (--bidirectional: a second LSTM reads the review
//!                                     backwards; both last states → [batch, 128])
//! output       [batch, 1]            one logit: p(positive) = sigmoid(logit)
//! ```
//!
//! **Many-to-one** (다대일): the LSTM reads the whole review, word by word, and only its
//! state after the last word is used. Pre-padding puts the review's end at the last step,
//! so that state has just read the review's final words (often its verdict).
//!
//! The LSTM is `shared::recurrent::Lstm` (Keras's gates, initialisation and forget bias):
//! its whole recurrence is one operation of the autodiff graph, with back-propagation
//! through time written out by hand (see that module). The embedding starts as Keras's does,
//! uniform in ±0.05.
//!
//! The **bag-of-words baseline** is the "before RNNs" model: a multi-hot row over the same
//! 10,000 words (which words occur, not where or how often) into Dense(16, ReLU) →
//! Dense(16, ReLU) → Dense(1). Word order is gone, so "not good, bad" and "not bad, good"
//! look the same to it; the LSTM's advantage, if any, is what order is worth.

use burn::nn::{Dropout, DropoutConfig, Embedding, EmbeddingConfig, Initializer, Linear, Relu};
use burn::prelude::*;
use shared::layers::keras_dense;
use shared::recurrent::{Lstm, last_step_time_major};
use shared::report::LayerRow;
use shared::train::{StepOutput, Supervised};

use crate::data::{BagBatch, SequenceBatch};

#[derive(Config, Debug)]
pub struct SentimentConfig {
    /// Vocabulary size: word indices are below it.
    #[config(default = 10000)]
    pub num_words: usize,
    /// Length of each word's vector.
    #[config(default = 128)]
    pub embedding: usize,
    /// The LSTM's units (per direction).
    #[config(default = 64)]
    pub units: usize,
    /// A second LSTM reading each review backwards (Keras's `Bidirectional(LSTM(units))`).
    #[config(default = false)]
    pub bidirectional: bool,
    /// While training, the share of the word vectors and of the LSTM's last state that is
    /// set to zero (Keras's `Dropout` after the `Embedding` and before the `Dense`). An
    /// `Option` so that the run folders saved before it existed still load (as no dropout).
    pub dropout: Option<f64>,
}

/// Embedding → LSTM (last step) → Dense(1).
#[derive(Module, Debug)]
pub struct SentimentLstm {
    pub embedding: Embedding,
    pub lstm: Lstm,
    /// Reads the reviews backwards (with `--bidirectional`).
    pub backward: Option<Lstm>,
    /// Only active while training (`--dropout`).
    pub dropout: Dropout,
    pub output: Linear,
}

impl SentimentConfig {
    pub fn init(&self, device: &Device) -> SentimentLstm {
        let directions = if self.bidirectional { 2 } else { 1 };
        SentimentLstm {
            embedding: EmbeddingConfig::new(self.num_words, self.embedding)
                .with_initializer(Initializer::Uniform {
                    min: -0.05,
                    max: 0.05,
                })
                .init(device),
            lstm: Lstm::new(self.embedding, self.units, device),
            backward: self
                .bidirectional
                .then(|| Lstm::new(self.embedding, self.units, device)),
            dropout: DropoutConfig::new(self.dropout.unwrap_or(0.0)).init(),
            output: keras_dense(directions * self.units, 1, device),
        }
    }

    /// `LSTM(64)`, `Bidirectional(LSTM(64))`, with `, dropout 0.3` where there is dropout.
    pub fn describe(&self) -> String {
        let lstm = if self.bidirectional {
            format!("Bidirectional(LSTM({}))", self.units)
        } else {
            format!("LSTM({})", self.units)
        };
        match self.dropout {
            Some(rate) if rate > 0.0 => format!("{lstm}, dropout {rate}"),
            _ => lstm,
        }
    }
}

impl SentimentLstm {
    /// Word indices `[T, batch]` (time-major) → one logit per review `[batch, 1]`.
    pub fn forward(&self, ids: Tensor<2, Int>) -> Tensor<2> {
        let x = self.dropout.forward(self.embedding.forward(ids)); // [T, batch, embedding]
        let mut last = last_step_time_major(self.lstm.forward_time_major(x.clone())); // [batch, units]
        if let Some(backward) = &self.backward {
            // The same vectors from the last word to the first; its "last step" has read
            // the review back to its first word.
            let reversed = x.flip([0]);
            let back = last_step_time_major(backward.forward_time_major(reversed)); // [batch, units]
            last = Tensor::cat(vec![last, back], 1); // [batch, 2·units]
        }
        self.output.forward(self.dropout.forward(last)) // [batch, 1]
    }

    /// Layer by layer, for the printed summary (`maxlen` for the shapes).
    pub fn summary(&self, maxlen: usize) -> Vec<LayerRow> {
        let [num_words, width] = self.embedding.weight.dims();
        let units = self.lstm.units();
        let row = |name: &str, kind: String, shape: Vec<usize>, params: usize| LayerRow {
            name: name.into(),
            kind,
            output_shape: shape,
            params,
        };
        let mut rows = vec![
            row("ids", "word indices".into(), vec![maxlen], 0),
            row(
                "embedding",
                format!("Embedding {num_words}→{width}"),
                vec![maxlen, width],
                self.embedding.num_params(),
            ),
            row(
                "lstm",
                format!("LSTM({units}), last step"),
                vec![units],
                self.lstm.num_params(),
            ),
        ];
        if let Some(backward) = &self.backward {
            rows.push(row(
                "backward",
                format!("LSTM({units}) reversed, last step"),
                vec![units],
                backward.num_params(),
            ));
            rows.push(row("concat", "both directions".into(), vec![2 * units], 0));
        }
        rows.push(row(
            "output",
            "Dense (logit → sigmoid)".into(),
            vec![1],
            self.output.num_params(),
        ));
        rows
    }
}

impl Supervised for SentimentLstm {
    type Batch = SequenceBatch;

    /// Binary cross-entropy from the logit (`sigmoid` is inside the loss), accuracy at
    /// p > 0.5.
    fn forward_step(&self, batch: SequenceBatch) -> StepOutput {
        StepOutput::binary(self.forward(batch.ids), batch.labels)
    }
}

#[derive(Config, Debug)]
pub struct BagOfWordsConfig {
    #[config(default = 10000)]
    pub num_words: usize,
    #[config(default = 16)]
    pub units: usize,
}

/// Multi-hot → Dense(16, ReLU) → Dense(16, ReLU) → Dense(1).
#[derive(Module, Debug)]
pub struct BagOfWords {
    pub hidden1: Linear,
    pub hidden2: Linear,
    pub output: Linear,
    pub activation: Relu,
}

impl BagOfWordsConfig {
    pub fn init(&self, device: &Device) -> BagOfWords {
        BagOfWords {
            hidden1: keras_dense(self.num_words, self.units, device),
            hidden2: keras_dense(self.units, self.units, device),
            output: keras_dense(self.units, 1, device),
            activation: Relu::new(),
        }
    }
}

impl BagOfWords {
    /// Multi-hot rows `[batch, num_words]` → one logit per review `[batch, 1]`.
    pub fn forward(&self, inputs: Tensor<2>) -> Tensor<2> {
        let x = self.activation.forward(self.hidden1.forward(inputs)); // [batch, 16]
        let x = self.activation.forward(self.hidden2.forward(x)); // [batch, 16]
        self.output.forward(x) // [batch, 1]
    }

    pub fn summary(&self) -> Vec<LayerRow> {
        let [inputs, units] = self.hidden1.weight.dims();
        let row = |name: &str, kind: &str, width: usize, params: usize| LayerRow {
            name: name.into(),
            kind: kind.into(),
            output_shape: vec![width],
            params,
        };
        vec![
            row("input", "multi-hot", inputs, 0),
            row("hidden1", "Dense + ReLU", units, self.hidden1.num_params()),
            row("hidden2", "Dense + ReLU", units, self.hidden2.num_params()),
            row("output", "Dense (logit)", 1, self.output.num_params()),
        ]
    }
}

impl Supervised for BagOfWords {
    type Batch = BagBatch;

    fn forward_step(&self, batch: BagBatch) -> StepOutput {
        StepOutput::binary(self.forward(batch.inputs), batch.labels)
    }
}
