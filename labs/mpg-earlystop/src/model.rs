//! The tutorial's network: two hidden layers of 64 ReLU units and one output, the MPG.
//!
//! ```text
//! input    9 features (z-scores)
//! dense1   dense 9 → 64, ReLU      640 params
//! dense2   dense 64 → 64, ReLU   4,160 params
//! output   dense 64 → 1             65 params   (no activation: any real number)
//!                                4,865 in all
//! ```
//!
//! 4,865 weights for 251 training cars: far more than the data can pin down, so trained
//! long enough the network learns the training cars' noise by heart (과적합, overfitting).
//! That is the point of the lab: watch it happen, then stop in time.

use burn::module::Param;
use burn::nn::{Linear, Relu};
use burn::prelude::*;
use shared::report::LayerRow;
use shared::train::{StepOutput, Supervised};

use crate::data::MpgBatch;

#[derive(Config, Debug)]
pub struct MpgModelConfig {
    #[config(default = 9)]
    pub inputs: usize,
    #[config(default = 64)]
    pub hidden: usize,
}

#[derive(Module, Debug)]
pub struct MpgModel {
    pub dense1: Linear,
    pub dense2: Linear,
    /// One unit, no activation: regression predicts the value itself.
    pub output: Linear,
    pub activation: Relu,
}

impl MpgModelConfig {
    pub fn init(&self, device: &Device) -> MpgModel {
        MpgModel {
            dense1: shared::layers::keras_dense(self.inputs, self.hidden, device),
            dense2: shared::layers::keras_dense(self.hidden, self.hidden, device),
            output: shared::layers::keras_dense(self.hidden, 1, device),
            activation: Relu::new(),
        }
    }
}

impl MpgModel {
    /// Normalised features `[batch, 9]` → predicted MPG `[batch, 1]`.
    pub fn forward(&self, features: Tensor<2>) -> Tensor<2> {
        let x = self.activation.forward(self.dense1.forward(features)); // [batch, 64]
        let x = self.activation.forward(self.dense2.forward(x)); // [batch, 64]
        self.output.forward(x) // [batch, 1]
    }

    /// A Keras-style summary: each layer's output shape and parameter count.
    pub fn summary(&self) -> Vec<LayerRow> {
        let row = |name: &str, kind: &str, width: usize, layer: Option<&Linear>| LayerRow {
            name: name.into(),
            kind: kind.into(),
            output_shape: vec![width],
            params: layer.map_or(0, |l| l.num_params()),
        };
        let width = |l: &Linear| l.weight.shape().dims::<2>()[1];
        vec![
            row(
                "input",
                "Input",
                self.dense1.weight.shape().dims::<2>()[0],
                None,
            ),
            row(
                "dense1",
                "Linear + ReLU",
                width(&self.dense1),
                Some(&self.dense1),
            ),
            row(
                "dense2",
                "Linear + ReLU",
                width(&self.dense2),
                Some(&self.dense2),
            ),
            row("output", "Linear", width(&self.output), Some(&self.output)),
        ]
    }

    /// Sets every weight to zero and the output bias to `value`: a model that predicts
    /// `value` for every car (a baseline, and a model whose errors a test can work out).
    pub fn constant(mut self, value: f32) -> MpgModel {
        let zero = |p: &Param<Tensor<2>>| Param::from_tensor(p.val().zeros_like());
        self.dense1.weight = zero(&self.dense1.weight);
        self.dense2.weight = zero(&self.dense2.weight);
        self.output.weight = zero(&self.output.weight);
        let device = self.output.weight.val().device();
        self.output.bias = Some(Param::from_tensor(Tensor::full([1], value, &device)));
        self
    }
}

impl Supervised for MpgModel {
    type Batch = MpgBatch;

    /// Mean squared error is the loss; MAE and MSE are recorded beside it.
    fn forward_step(&self, batch: MpgBatch) -> StepOutput {
        StepOutput::regression(self.forward(batch.features), batch.mpg)
    }
}
