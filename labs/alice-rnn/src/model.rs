//! The lecture's model: a SimpleRNN reads 10 characters (one-hot), its last hidden state
//! goes through a dense layer to scores for every character of the alphabet (many-to-one).
//!
//! The cell, as on the slide:
//!
//! ```text
//! h_t = tanh(W_h·h_{t-1} + W_x·x_t + b)        y = softmax(W_o·h_T + b_o)
//! ```
//!
//! In code, vectors are rows of a batch, so `W·x` is written `x.matmul(W)` with `W` stored
//! as `[inputs, outputs]` (the transpose of the slide's matrix; same numbers).

use burn::nn::{Linear, LinearConfig, Rnn, RnnConfig};
use burn::prelude::*;
use burn::tensor::activation::tanh;
use shared::chars::{CellImpl, CharBatch, NextChar};
use shared::recurrent::{SimpleRnn, last_step};
use shared::report::LayerRow;
use shared::train::{StepOutput, Supervised};

/// One step of the slide's cell: `h_t = tanh(W_h·h_{t-1} + W_x·x_t + b)`.
///
/// `x_t: [batch, features]`, `h_prev: [batch, units]` → `h_t: [batch, units]`.
pub fn rnn_step(cell: &SimpleRnn, x_t: Tensor<2>, h_prev: Tensor<2>) -> Tensor<2> {
    let w_x = cell.input.weight.val(); // [features, units]
    let b = cell.input.bias.as_ref().expect("the cell has a bias").val(); // [units]
    let w_h = cell.recurrent.val(); // [units, units]
    tanh(h_prev.matmul(w_h) + x_t.matmul(w_x) + b.unsqueeze())
}

/// The cell over a whole sequence, one step at a time, from `h_0 = 0`: exactly what the
/// slide unrolls. `x: [batch, T, features]` → every `h_t`: `[batch, T, units]`.
///
/// This is the version to read. Training uses [`SimpleRnn::forward`], which computes the
/// same numbers (a test checks it) with the recurrence as one operation and a hand-written
/// backward pass: several times faster (see docs/recurrent.md).
pub fn rnn_steps(cell: &SimpleRnn, x: Tensor<3>) -> Tensor<3> {
    let [batch, steps, features] = x.dims();
    let mut h = Tensor::zeros([batch, cell.units()], &x.device());
    let mut states = Vec::with_capacity(steps);
    for t in 0..steps {
        let x_t = x
            .clone()
            .slice([0..batch, t..t + 1, 0..features])
            .reshape([batch, features]);
        h = rnn_step(cell, x_t, h);
        states.push(h.clone());
    }
    Tensor::stack(states, 1)
}

/// The recurrent layer: the lab's cell, or burn's.
// One model value per run: the size of the enum does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Recurrence {
    Lab(SimpleRnn),
    Burn(Rnn),
}

#[derive(Module, Debug)]
pub struct CharRnn {
    pub recurrence: Recurrence,
    /// `W_o`, `b_o`: the last hidden state → one score per character.
    pub output: Linear,
    /// Step-by-step (`true`) or fused recurrence for the lab's cell.
    pub step_by_step: bool,
}

impl CharRnn {
    pub fn new(vocab_size: usize, units: usize, cell: CellImpl, device: &Device) -> Self {
        let recurrence = match cell {
            CellImpl::Lab | CellImpl::Steps => {
                Recurrence::Lab(SimpleRnn::new(vocab_size, units, device))
            }
            CellImpl::Burn => {
                Recurrence::Burn(RnnConfig::new(vocab_size, units, true).init(device))
            }
        };
        CharRnn {
            recurrence,
            output: LinearConfig::new(units, vocab_size).init(device),
            step_by_step: cell == CellImpl::Steps,
        }
    }

    /// Every hidden state: `[batch, T, units]`.
    pub fn hidden_states(&self, inputs: Tensor<3>) -> Tensor<3> {
        match &self.recurrence {
            Recurrence::Lab(cell) if self.step_by_step => rnn_steps(cell, inputs),
            Recurrence::Lab(cell) => cell.forward(inputs),
            Recurrence::Burn(rnn) => rnn.forward(inputs, None).0,
        }
    }

    /// Keras-style layer table.
    pub fn summary(&self) -> Vec<LayerRow> {
        let [units, vocab] = self.output.weight.dims();
        vec![
            LayerRow {
                name: "simple_rnn".into(),
                kind: "SimpleRNN".into(),
                output_shape: vec![units],
                params: vocab * units + units * units + units,
            },
            LayerRow {
                name: "dense".into(),
                kind: "Dense".into(),
                output_shape: vec![vocab],
                params: units * vocab + vocab,
            },
        ]
    }
}

impl NextChar for CharRnn {
    fn logits(&self, inputs: Tensor<3>) -> Tensor<2> {
        self.output.forward(last_step(self.hidden_states(inputs)))
    }
}

impl Supervised for CharRnn {
    type Batch = CharBatch;

    fn forward_step(&self, batch: CharBatch) -> StepOutput {
        shared::chars::forward_step(self, batch)
    }
}
