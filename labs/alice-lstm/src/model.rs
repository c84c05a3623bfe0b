//! The LSTM of the slides, and the character model built on it.
//!
//! With `a_{t-1}` the previous output (hidden state), `x_t` the input and `C_{t-1}` the
//! previous cell state:
//!
//! ```text
//! C̃_t = tanh(W_c·[a_{t-1}, x_t] + b_c)      candidate cell state
//! Γ_u = σ(W_u·[a_{t-1}, x_t] + b_u)         update (input) gate
//! Γ_f = σ(W_f·[a_{t-1}, x_t] + b_f)         forget gate
//! Γ_o = σ(W_o·[a_{t-1}, x_t] + b_o)         output gate
//! C_t = Γ_u * C̃_t + Γ_f * C_{t-1}
//! a_t = Γ_o * tanh(C_t)
//! ```
//!
//! The four products share their input, so the weights of the four gates sit side by side
//! in one matrix (Keras's layout, gates in the order u, f, c̃, o): one product gives all four
//! pre-activations, which are then cut into quarters.

use burn::nn::{Linear, LinearConfig, Lstm as BurnLstm, LstmConfig};
use burn::prelude::*;
use burn::tensor::activation::{sigmoid, tanh};
use shared::chars::{CellImpl, CharBatch, NextChar};
use shared::recurrent::{Lstm, last_step};
use shared::report::LayerRow;
use shared::train::{StepOutput, Supervised};

/// One step of the slide's LSTM. `x_t: [batch, features]`; `a_prev`, `c_prev`:
/// `[batch, units]` → `(a_t, C_t)`.
pub fn lstm_step(
    cell: &Lstm,
    x_t: Tensor<2>,
    a_prev: Tensor<2>,
    c_prev: Tensor<2>,
) -> (Tensor<2>, Tensor<2>) {
    let n = cell.units();
    let batch = x_t.dims()[0];
    let w_x = cell.input.weight.val(); // [features, 4n]
    let b = cell.input.bias.as_ref().expect("the cell has a bias").val(); // [4n]
    let w_a = cell.recurrent.val(); // [n, 4n]
    let z = x_t.matmul(w_x) + a_prev.matmul(w_a) + b.unsqueeze(); // [batch, 4n]
    let quarter = |k: usize| z.clone().slice([0..batch, k * n..(k + 1) * n]);

    let update = sigmoid(quarter(0)); // Γ_u
    let forget = sigmoid(quarter(1)); // Γ_f
    let candidate = tanh(quarter(2)); // C̃_t
    let output = sigmoid(quarter(3)); // Γ_o
    let c_t = update * candidate + forget * c_prev;
    let a_t = output * tanh(c_t.clone());
    (a_t, c_t)
}

/// The LSTM over a whole sequence, one step at a time, from `a_0 = C_0 = 0`.
/// `x: [batch, T, features]` → every `a_t`: `[batch, T, units]`.
///
/// The version to read. Training uses [`Lstm::forward`]: the same numbers (a test checks
/// it), with the recurrence as one operation and a hand-written backward pass.
pub fn lstm_steps(cell: &Lstm, x: Tensor<3>) -> Tensor<3> {
    let [batch, steps, features] = x.dims();
    let mut a = Tensor::zeros([batch, cell.units()], &x.device());
    let mut c = a.clone();
    let mut outputs = Vec::with_capacity(steps);
    for t in 0..steps {
        let x_t = x
            .clone()
            .slice([0..batch, t..t + 1, 0..features])
            .reshape([batch, features]);
        (a, c) = lstm_step(cell, x_t, a, c);
        outputs.push(a.clone());
    }
    Tensor::stack(outputs, 1)
}

/// The recurrent layer: the lab's LSTM, or burn's.
// One model value per run: the size of the enum does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum LstmLayer {
    Lab(Lstm),
    Burn(BurnLstm),
}

#[derive(Module, Debug)]
pub struct CharLstm {
    pub recurrence: LstmLayer,
    /// The last output `a_T` → one score per character.
    pub output: Linear,
    /// Step-by-step (`true`) or fused recurrence for the lab's cell.
    pub step_by_step: bool,
}

impl CharLstm {
    pub fn new(vocab_size: usize, units: usize, cell: CellImpl, device: &Device) -> Self {
        let recurrence = match cell {
            CellImpl::Lab | CellImpl::Steps => LstmLayer::Lab(Lstm::new(vocab_size, units, device)),
            CellImpl::Burn => {
                LstmLayer::Burn(LstmConfig::new(vocab_size, units, true).init(device))
            }
        };
        CharLstm {
            recurrence,
            output: LinearConfig::new(units, vocab_size).init(device),
            step_by_step: cell == CellImpl::Steps,
        }
    }

    /// Every output `a_t`: `[batch, T, units]`.
    pub fn hidden_states(&self, inputs: Tensor<3>) -> Tensor<3> {
        match &self.recurrence {
            LstmLayer::Lab(cell) if self.step_by_step => lstm_steps(cell, inputs),
            LstmLayer::Lab(cell) => cell.forward(inputs),
            LstmLayer::Burn(lstm) => lstm.forward(inputs, None).0,
        }
    }

    /// Keras-style layer table.
    pub fn summary(&self) -> Vec<LayerRow> {
        let [units, vocab] = self.output.weight.dims();
        vec![
            LayerRow {
                name: "lstm".into(),
                kind: "LSTM".into(),
                output_shape: vec![units],
                params: lstm_params(vocab, units),
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

/// Parameters of `LSTM(units)` on `features` inputs: four gates of `W_x`, `W_a`, `b`.
pub fn lstm_params(features: usize, units: usize) -> usize {
    4 * (features * units + units * units + units)
}

/// Parameters of the whole character model (recurrent layer and dense output).
pub fn char_model_params(vocab: usize, units: usize, lstm: bool) -> usize {
    let recurrent = if lstm {
        lstm_params(vocab, units)
    } else {
        vocab * units + units * units + units
    };
    recurrent + units * vocab + vocab
}

/// The SimpleRNN width whose character model has about as many parameters as an LSTM
/// character model of `lstm_units`.
pub fn matching_rnn_units(vocab: usize, lstm_units: usize) -> usize {
    let target = char_model_params(vocab, lstm_units, true);
    (1..=16 * lstm_units)
        .min_by_key(|&u| char_model_params(vocab, u, false).abs_diff(target))
        .unwrap_or(lstm_units)
}

impl NextChar for CharLstm {
    fn logits(&self, inputs: Tensor<3>) -> Tensor<2> {
        self.output.forward(last_step(self.hidden_states(inputs)))
    }
}

impl Supervised for CharLstm {
    type Batch = CharBatch;

    fn forward_step(&self, batch: CharBatch) -> StepOutput {
        shared::chars::forward_step(self, batch)
    }
}
