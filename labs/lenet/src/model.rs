//! LeNet-5, one field per layer of the lecture's diagram.
//!
//! ```text
//! input   1 x 28 x 28
//! C1      conv 6 @ 5x5, `same` padding   → 6 x 28 x 28     156 params
//! S2      max-pool 2x2 (풀링, pooling)    → 6 x 14 x 14
//! C3      conv 16 @ 5x5, `valid`         → 16 x 10 x 10  2,416 params
//! S4      max-pool 2x2                   → 16 x 5 x 5
//! F5      dense 400 → 120                              48,120 params
//! F6      dense 120 → 84                               10,164 params
//! output  dense 84 → 10                                   850 params
//!                                                      61,706 in all
//! ```
//!
//! The convolutions and poolings run through [`shared::conv::conv2d`] and
//! [`shared::conv::max_pool2d`]: the same functions as burn's `Conv2d::forward` and
//! `MaxPool2d::forward` (same weights, same numbers), with forward and backward passes written
//! for the CPU backend (see `docs/benchmarks.md` for what that gained).
//!
//! The 1998 network used tanh and average pooling ("subsampling"); like the lecture's Keras
//! version we use ReLU and max pooling, which train faster and to a better accuracy.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::prelude::*;
use shared::conv::{conv2d, max_pool2d};
use shared::report::LayerRow;
use shared::train::{StepOutput, Supervised};

use crate::data::MnistBatch;

#[derive(Config, Debug)]
pub struct LeNetConfig {
    #[config(default = 10)]
    pub num_classes: usize,
}

#[derive(Module, Debug)]
pub struct LeNet {
    /// C1: six 5x5 filters over the whole image. `same` padding adds a 2-pixel border so the
    /// output stays 28x28 and strokes at the edge are seen as often as those in the middle.
    pub c1: Conv2d,
    /// S2: keeps the strongest response of each 2x2 patch: half the size, a little shift
    /// invariance, no parameters.
    pub s2: MaxPool2d,
    /// C3: sixteen 5x5 filters, each looking at all six C1 maps (`valid`: 14 → 10).
    pub c3: Conv2d,
    pub s4: MaxPool2d,
    pub f5: Linear,
    pub f6: Linear,
    pub output: Linear,
    pub activation: Relu,
}

impl LeNetConfig {
    pub fn init(&self, device: &Device) -> LeNet {
        LeNet {
            c1: Conv2dConfig::new([1, 6], [5, 5])
                .with_padding(PaddingConfig2d::Same)
                .init(device),
            s2: MaxPool2dConfig::new([2, 2]).init(),
            c3: Conv2dConfig::new([6, 16], [5, 5]).init(device),
            s4: MaxPool2dConfig::new([2, 2]).init(),
            f5: LinearConfig::new(16 * 5 * 5, 120).init(device),
            f6: LinearConfig::new(120, 84).init(device),
            output: LinearConfig::new(84, self.num_classes).init(device),
            activation: Relu::new(),
        }
    }
}

impl LeNet {
    /// Images `[batch, 1, 28, 28]` → class scores (logits) `[batch, 10]`.
    ///
    /// The diagram reads conv → ReLU → pool. We pool first and apply ReLU after: ReLU never
    /// changes which of four values is the largest, so `pool(relu(x)) == relu(pool(x))`
    /// exactly, and the ReLU (forward and backward) then runs on a quarter of the values.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let x = conv2d(&self.c1, images); // [batch, 6, 28, 28]
        let x = self.activation.forward(max_pool2d(&self.s2, x)); // [batch, 6, 14, 14]
        let x = conv2d(&self.c3, x); // [batch, 16, 10, 10]
        let x = self.activation.forward(max_pool2d(&self.s4, x)); // [batch, 16, 5, 5]
        let x = x.flatten::<2>(1, 3); // [batch, 400]
        let x = self.activation.forward(self.f5.forward(x)); // [batch, 120]
        let x = self.activation.forward(self.f6.forward(x)); // [batch, 84]
        self.output.forward(x) // [batch, 10]
    }

    /// What the two convolution stages see: C1's maps `[batch, 6, 28, 28]` and C3's maps
    /// `[batch, 16, 10, 10]`, after the activation.
    pub fn feature_maps(&self, images: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
        let c1 = self.activation.forward(conv2d(&self.c1, images));
        let c3 = self
            .activation
            .forward(conv2d(&self.c3, max_pool2d(&self.s2, c1.clone())));
        (c1, c3)
    }

    /// C1's learned filters `[6, 1, 5, 5]`.
    pub fn c1_filters(&self) -> Tensor<4> {
        self.c1.weight.val()
    }

    /// A Keras-style summary: each layer's output shape for one 28x28 image and its
    /// parameter count, found by running a blank image through the layers.
    pub fn summary(&self, device: &Device) -> Vec<LayerRow> {
        let mut rows = Vec::new();
        let mut row = |name: &str, kind: &str, dims: &[usize], params: usize| {
            rows.push(LayerRow {
                name: name.into(),
                kind: kind.into(),
                output_shape: dims[1..].to_vec(),
                params,
            })
        };
        let x = Tensor::<4>::zeros([1, 1, 28, 28], device);
        row("input", "Input", &x.dims(), 0);
        let x = conv2d(&self.c1, x);
        row("C1", "Conv2d 5x5 same", &x.dims(), self.c1.num_params());
        let x = max_pool2d(&self.s2, x);
        row("S2", "MaxPool2d 2x2", &x.dims(), 0);
        let x = conv2d(&self.c3, x);
        row("C3", "Conv2d 5x5 valid", &x.dims(), self.c3.num_params());
        let x = max_pool2d(&self.s4, x);
        row("S4", "MaxPool2d 2x2", &x.dims(), 0);
        let x = x.flatten::<2>(1, 3);
        row("flatten", "Flatten", &x.dims(), 0);
        let x = self.f5.forward(x);
        row("F5", "Linear", &x.dims(), self.f5.num_params());
        let x = self.f6.forward(x);
        row("F6", "Linear", &x.dims(), self.f6.num_params());
        let x = self.output.forward(x);
        row("output", "Linear", &x.dims(), self.output.num_params());
        rows
    }
}

impl Supervised for LeNet {
    type Batch = MnistBatch;

    fn forward_step(&self, batch: MnistBatch) -> StepOutput {
        StepOutput::classification(self.forward(batch.images), batch.targets)
    }
}

/// Parameters of the dense networks the slide compares LeNet with: the same classifier
/// (120-84-10) on the 784 raw pixels, and a single dense layer that would produce C1's
/// 6x28x28 output from the pixels.
pub fn dense_comparison() -> Vec<(String, usize)> {
    let dense = |inputs: usize, outputs: usize| inputs * outputs + outputs;
    vec![
        (
            "MLP 784-120-84-10 on the flattened pixels".to_string(),
            dense(784, 120) + dense(120, 84) + dense(84, 10),
        ),
        (
            "one dense layer 784 → 6x28x28 in place of C1".to_string(),
            dense(784, 6 * 28 * 28),
        ),
    ]
}
