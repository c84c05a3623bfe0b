//! The six networks of the lecture: three sizes, then the baseline with L2, with dropout,
//! and with both.
//!
//! ```text
//! input        10,000 (multi-hot)
//! hidden1      dense → units, ReLU          (L2 on its kernel; dropout after it)
//! hidden2      dense → units, ReLU          (L2 on its kernel; dropout after it)
//! output       dense → 1 logit              (sigmoid inside the loss)
//!
//! model        units  L2      dropout   parameters
//! small          4    -       -             40,029
//! medium        16    -       -            160,305   the baseline
//! big          512    -       -          5,383,681
//! l2            16    0.001   -            160,305
//! dropout       16    -       0.5          160,305
//! l2+dropout    16    0.001   0.5          160,305
//! ```
//!
//! Ways to fight overfitting (과적합), from the lecture: more data (best, not always
//! possible), a smaller network, weight regularisation (가중치 규제, mostly L2) and dropout
//! (드롭아웃, the most common).
//!
//! **L2.** The slide writes the regularised cost as
//! `J = (1/m) Σ L + (λ / 2m) Σ ‖w‖²`. Keras's `kernel_regularizer=l2(0.001)` adds
//! `0.001 · Σ w²` to each batch's *mean* loss: there is no `1/2m`, so Keras's 0.001 is the
//! slide's `λ / 2m`, i.e. `λ = 0.002 · m` for a batch of `m`. We do exactly what Keras does:
//! [`Classifier::l2_penalty`] is `l2 · Σ w²` over the hidden layers' kernels (as the
//! tutorial regularises them; biases and the output layer are left alone, because shrinking
//! a bias does not make the function any simpler), added to the batch's mean cross-entropy
//! in [`Supervised::forward_step`]. Its gradient is `2 · l2 · w`, which pulls each weight
//! towards 0 in proportion to its size ("weight decay").
//!
//! **Why not Adam's weight decay.** A penalty in the loss goes through Adam like any other
//! gradient: Adam divides it by the running RMS of that weight's gradients, so a weight with
//! large, noisy gradients is barely decayed and a rarely-used one (a rare word's row of
//! `hidden1`) is decayed hard. AdamW (Loshchilov & Hutter, 2019) instead shrinks every weight
//! by `lr · decay · w` *outside* Adam's scaling ("decoupled"): the same amount for every
//! weight. With SGD the two are the same thing; with Adam they are not, and Keras's `l2(…)`
//! is the coupled kind. (burn's `AdamConfig::with_weight_decay` is coupled too, but it would
//! decay the biases and the output layer as well.)
//!
//! **Dropout.** During training each hidden unit's output is set to 0 with probability 0.5
//! and the survivors are doubled (`1 / (1 − 0.5)`), so the expected activation is unchanged
//! and evaluation needs no rescaling: at evaluation time dropout does nothing. A unit cannot
//! rely on any particular other unit being there, so it has to learn something useful on its
//! own. burn's `Dropout` acts only on an autodiff device with the module in training mode;
//! `model.valid()` (what `evaluate` uses) turns it off.

use std::fmt;

use anyhow::{Result, bail};
use burn::nn::{Dropout, DropoutConfig, Linear, Relu};
use burn::prelude::*;
use shared::layers::keras_dense;
use shared::report::LayerRow;
use shared::train::{StepOutput, Supervised};

use crate::data::ReviewBatch;

/// The six models of the lab, in the order they are trained and listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    Small,
    Medium,
    Big,
    L2,
    Dropout,
    L2Dropout,
}

impl ModelKind {
    pub const ALL: [ModelKind; 6] = [
        ModelKind::Small,
        ModelKind::Medium,
        ModelKind::Big,
        ModelKind::L2,
        ModelKind::Dropout,
        ModelKind::L2Dropout,
    ];

    /// The name in `--models`, in the table and as the sub-folder of the run.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Small => "small",
            ModelKind::Medium => "medium",
            ModelKind::Big => "big",
            ModelKind::L2 => "l2",
            ModelKind::Dropout => "dropout",
            ModelKind::L2Dropout => "l2+dropout",
        }
    }

    /// `medium (baseline) 16-16-1`.
    pub fn describe(self) -> String {
        let c = self.config(crate::data::NUM_WORDS);
        let mut text = format!("{} {}-{}-1", self.name(), c.units, c.units);
        if self == ModelKind::Medium {
            text += " (baseline)";
        }
        if c.l2 > 0.0 {
            text += &format!(", L2 {}", c.l2);
        }
        if c.dropout > 0.0 {
            text += &format!(", dropout {}", c.dropout);
        }
        text
    }

    /// The model's settings: the lecture's sizes, L2(0.001), Dropout(0.5).
    pub fn config(self, num_words: usize) -> ClassifierConfig {
        let base = ClassifierConfig::new(num_words, 16);
        match self {
            ModelKind::Small => ClassifierConfig::new(num_words, 4),
            ModelKind::Medium => base,
            ModelKind::Big => ClassifierConfig::new(num_words, 512),
            ModelKind::L2 => base.with_l2(0.001),
            ModelKind::Dropout => base.with_dropout(0.5),
            ModelKind::L2Dropout => base.with_l2(0.001).with_dropout(0.5),
        }
    }

    pub fn parse(name: &str) -> Result<ModelKind> {
        let name = name.trim();
        match ModelKind::ALL.into_iter().find(|m| m.name() == name) {
            Some(kind) => Ok(kind),
            None => bail!(
                "--models: unknown model {name:?}; choose from {} (comma-separated)",
                ModelKind::ALL.map(|m| m.name()).join(", ")
            ),
        }
    }

    /// `small,medium,l2` → the models, each once, in the order given.
    pub fn parse_list(list: &str) -> Result<Vec<ModelKind>> {
        let mut models = Vec::new();
        for name in list.split(',').filter(|n| !n.trim().is_empty()) {
            let kind = ModelKind::parse(name)?;
            if !models.contains(&kind) {
                models.push(kind);
            }
        }
        if models.is_empty() {
            bail!(
                "--models: name at least one model (small, medium, big, l2, dropout, l2+dropout)"
            );
        }
        Ok(models)
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One network: `num_words → units → units → 1`, with optional L2 and dropout.
#[derive(Config, Debug)]
pub struct ClassifierConfig {
    /// Inputs: the multi-hot row's length.
    pub num_words: usize,
    /// Units of each of the two hidden layers.
    pub units: usize,
    /// Keras's `l2(…)` factor on the hidden kernels (0: none).
    #[config(default = 0.0)]
    pub l2: f64,
    /// Probability of dropping each hidden unit's output during training (0: no dropout).
    #[config(default = 0.0)]
    pub dropout: f64,
}

#[derive(Module, Debug)]
pub struct Classifier {
    pub hidden1: Linear,
    pub dropout1: Dropout,
    pub hidden2: Linear,
    pub dropout2: Dropout,
    pub output: Linear,
    pub activation: Relu,
    /// Keras's `l2(…)` factor: a setting, not a weight.
    #[module(skip)]
    pub l2: f64,
}

impl ClassifierConfig {
    pub fn init(&self, device: &Device) -> Classifier {
        Classifier {
            hidden1: keras_dense(self.num_words, self.units, device),
            dropout1: DropoutConfig::new(self.dropout).init(),
            hidden2: keras_dense(self.units, self.units, device),
            dropout2: DropoutConfig::new(self.dropout).init(),
            output: keras_dense(self.units, 1, device),
            activation: Relu::new(),
            l2: self.l2,
        }
    }
}

impl Classifier {
    /// Multi-hot reviews `[batch, num_words]` → one logit per review `[batch, 1]`
    /// (p(positive) = sigmoid(logit)).
    pub fn forward(&self, inputs: Tensor<2>) -> Tensor<2> {
        let x = self.activation.forward(self.hidden1.forward(inputs)); // [batch, units]
        let x = self.dropout1.forward(x);
        let x = self.activation.forward(self.hidden2.forward(x)); // [batch, units]
        let x = self.dropout2.forward(x);
        self.output.forward(x) // [batch, 1]
    }

    /// `Σ w²` over the regularised kernels (hidden1's and hidden2's): the squared size of
    /// the weights L2 pushes down. Biases are not in it.
    pub fn kernel_sum_of_squares(&self) -> Tensor<1> {
        self.hidden1.weight.val().powi_scalar(2).sum()
            + self.hidden2.weight.val().powi_scalar(2).sum()
    }

    /// Keras's L2 penalty, `l2 · Σ w²` over the hidden kernels, or `None` without L2.
    pub fn l2_penalty(&self) -> Option<Tensor<1>> {
        (self.l2 > 0.0).then(|| self.kernel_sum_of_squares() * self.l2)
    }

    /// Layer by layer, for the printed summary.
    pub fn summary(&self) -> Vec<LayerRow> {
        let [inputs, units] = self.hidden1.weight.dims();
        let row = |name: &str, kind: &str, width: usize, params: usize| LayerRow {
            name: name.into(),
            kind: kind.into(),
            output_shape: vec![width],
            params,
        };
        let dropout = self.dropout1.prob > 0.0;
        let mut rows = vec![
            row("input", "multi-hot", inputs, 0),
            row("hidden1", "Linear + ReLU", units, self.hidden1.num_params()),
        ];
        if dropout {
            rows.push(row("dropout1", "Dropout", units, 0));
        }
        rows.push(row(
            "hidden2",
            "Linear + ReLU",
            units,
            self.hidden2.num_params(),
        ));
        if dropout {
            rows.push(row("dropout2", "Dropout", units, 0));
        }
        rows.push(row("output", "Linear (logit)", 1, self.output.num_params()));
        rows
    }
}

impl Supervised for Classifier {
    type Batch = ReviewBatch;

    /// Binary cross-entropy from the logit, plus the L2 penalty where there is one: the
    /// loss that is minimised and reported includes it, as Keras's does (training and
    /// validation alike). The lab subtracts it again where models are compared.
    fn forward_step(&self, batch: ReviewBatch) -> StepOutput {
        let mut step = StepOutput::binary(self.forward(batch.inputs), batch.labels);
        if let Some(penalty) = self.l2_penalty() {
            step.loss = step.loss + penalty;
        }
        step
    }
}
