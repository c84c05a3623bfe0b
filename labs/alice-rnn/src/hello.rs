//! The lecture's first recurrent network: the alphabet is `h, e, l, o` (one-hot), the input
//! is "hell" and the target, one step ahead, is "ello". After the first `l` the answer is
//! `l`, after the second it is `o`: the same input, two answers. Only the hidden state,
//! which remembers what came before, can tell them apart.

use std::time::Instant;

use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use shared::recurrent::SimpleRnn;

use shared::chars::one_hot;

pub const ALPHABET: [char; 4] = ['h', 'e', 'l', 'o'];

#[derive(Module, Debug)]
pub struct HelloRnn {
    pub cell: SimpleRnn,
    pub output: Linear,
}

impl HelloRnn {
    /// Many-to-many: a prediction at every step. `[batch, T, 4]` → logits `[batch·T, 4]`.
    pub fn forward(&self, inputs: Tensor<3>) -> Tensor<2> {
        let [batch, steps, _] = inputs.dims();
        let hs = self.cell.forward(inputs);
        let units = self.cell.units();
        self.output.forward(hs.reshape([batch * steps, units]))
    }
}

pub struct HelloOutcome {
    /// Training iterations until all four steps were right.
    pub iterations: usize,
    pub seconds: f64,
    /// What the model predicts after reading "hell" (should be "ello").
    pub predicted: String,
    pub final_loss: f32,
    /// `(iteration, prediction, loss)` every few iterations.
    pub trace: Vec<(usize, String, f32)>,
}

/// Trains the tiny SimpleRNN (8 units) on "hell" → "ello" with Adam until every step is right
/// (at most `max_iterations`).
pub fn learn_hello(device: &Device, seed: u64, max_iterations: usize) -> HelloOutcome {
    let index = |c: char| ALPHABET.iter().position(|&a| a == c).expect("h, e, l or o");
    let input: Vec<usize> = "hell".chars().map(index).collect();
    let target: Vec<i64> = "ello".chars().map(|c| index(c) as i64).collect();

    device.seed(seed);
    let train_device = device.clone().autodiff();
    let mut model = HelloRnn {
        cell: SimpleRnn::new(4, 8, &train_device),
        output: LinearConfig::new(8, 4).init(&train_device),
    };
    let mut optimizer = AdamConfig::new().init();
    let inputs = one_hot(&[&input], 4, &train_device);
    let targets = Tensor::<1, Int>::from_data(TensorData::new(target.clone(), [4]), &train_device);
    let loss_fn = CrossEntropyLossConfig::new().init(&train_device);

    let started = Instant::now();
    let mut trace = Vec::new();
    let mut iterations = max_iterations;
    let mut predicted = String::new();
    let mut final_loss = f32::NAN;
    for iteration in 1..=max_iterations {
        let logits = model.forward(inputs.clone());
        let loss = loss_fn.forward(logits.clone(), targets.clone());
        final_loss = loss.clone().into_scalar::<f32>();
        let guesses = shared::floats(logits.argmax(1).float());
        predicted = guesses.iter().map(|&g| ALPHABET[g as usize]).collect();
        if iteration == 1 || iteration % 10 == 0 {
            trace.push((iteration, predicted.clone(), final_loss));
        }
        let correct = guesses
            .iter()
            .zip(&target)
            .filter(|(g, t)| **g as i64 == **t)
            .count();
        if correct == 4 {
            trace.push((iteration, predicted.clone(), final_loss));
            iterations = iteration;
            break;
        }
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(0.05, model, grads);
    }
    HelloOutcome {
        iterations,
        seconds: started.elapsed().as_secs_f64(),
        predicted,
        final_loss,
        trace,
    }
}
