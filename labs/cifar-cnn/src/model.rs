//! The lecture's "deeper CNN" for 32x32 colour images (the Keras CIFAR-10 reference):
//!
//! ```text
//! input    3 x 32 x 32
//! conv1    32 @ 3x3, same, ReLU    → 32 x 32 x 32        896 params
//! conv2    32 @ 3x3, same, ReLU    → 32 x 32 x 32      9,248
//! pool1    max 2x2                 → 32 x 16 x 16
//! dropout  0.25
//! conv3    64 @ 3x3, same, ReLU    → 64 x 16 x 16     18,496
//! conv4    64 @ 3x3, same, ReLU    → 64 x 16 x 16     36,928
//! pool2    max 2x2                 → 64 x 8 x 8
//! dropout  0.25
//! dense1   4,096 → 512, ReLU                       2,097,664
//! dropout  0.5
//! dense2   512 → 10                                    5,130
//!                                                  2,168,362 in all
//! ```
//!
//! Two 3x3 convolutions in a row see a 5x5 patch with fewer weights than one 5x5 filter and
//! an extra non-linearity between them. Dropout switches off a random share of the values
//! while training only, so that no unit can rely on one particular other unit.
//!
//! The convolutions and poolings run through [`shared::conv`]: burn's functions, with forward
//! and backward passes written for the CPU backend (`docs/benchmarks.md`); the dropout layers
//! through [`shared::layers::dropout`], burn's rule with cheaper random numbers.
//!
//! The stronger variant (`batch_norm: true`) normalises each convolution's output over the
//! batch before the ReLU (batch normalisation): every layer then sees inputs of a steady
//! scale, which allows larger steps and trains faster.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d,
};
use burn::prelude::*;
use burn::tensor::activation::relu;
use shared::conv::{conv2d, max_pool2d};
use shared::layers::dropout;
use shared::report::LayerRow;
use shared::train::{StepOutput, Supervised};

use crate::data::CifarBatch;

#[derive(Config, Debug)]
pub struct CifarCnnConfig {
    /// Batch normalisation after every convolution (the stronger variant).
    #[config(default = false)]
    pub batch_norm: bool,
    #[config(default = 10)]
    pub num_classes: usize,
}

/// A 3x3 convolution with `same` padding, optionally followed by batch normalisation.
#[derive(Module, Debug)]
pub struct ConvBlock {
    pub conv: Conv2d,
    pub norm: Option<BatchNorm>,
}

impl ConvBlock {
    fn new(channels: [usize; 2], batch_norm: bool, device: &Device) -> Self {
        ConvBlock {
            conv: Conv2dConfig::new(channels, [3, 3])
                .with_padding(PaddingConfig2d::Same)
                .init(device),
            norm: batch_norm.then(|| BatchNormConfig::new(channels[1]).init(device)),
        }
    }

    /// conv → (batch norm) → ReLU.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = conv2d(&self.conv, x);
        let x = match &self.norm {
            Some(norm) => norm.forward(x),
            None => x,
        };
        relu(x)
    }
}

#[derive(Module, Debug)]
pub struct CifarCnn {
    pub conv1: ConvBlock,
    pub conv2: ConvBlock,
    pub pool1: MaxPool2d,
    pub dropout1: Dropout,
    pub conv3: ConvBlock,
    pub conv4: ConvBlock,
    pub pool2: MaxPool2d,
    pub dropout2: Dropout,
    pub dense1: Linear,
    pub dropout3: Dropout,
    pub dense2: Linear,
}

impl CifarCnnConfig {
    pub fn init(&self, device: &Device) -> CifarCnn {
        let bn = self.batch_norm;
        CifarCnn {
            conv1: ConvBlock::new([3, 32], bn, device),
            conv2: ConvBlock::new([32, 32], bn, device),
            pool1: MaxPool2dConfig::new([2, 2]).init(),
            dropout1: DropoutConfig::new(0.25).init(),
            conv3: ConvBlock::new([32, 64], bn, device),
            conv4: ConvBlock::new([64, 64], bn, device),
            pool2: MaxPool2dConfig::new([2, 2]).init(),
            dropout2: DropoutConfig::new(0.25).init(),
            dense1: LinearConfig::new(64 * 8 * 8, 512).init(device),
            dropout3: DropoutConfig::new(0.5).init(),
            dense2: LinearConfig::new(512, self.num_classes).init(device),
        }
    }
}

impl CifarCnn {
    /// Images `[batch, 3, 32, 32]` → class scores (logits) `[batch, 10]`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let x = self.conv2.forward(self.conv1.forward(images)); // [batch, 32, 32, 32]
        let x = dropout(&self.dropout1, max_pool2d(&self.pool1, x)); // [batch, 32, 16, 16]
        let x = self.conv4.forward(self.conv3.forward(x)); // [batch, 64, 16, 16]
        let x = dropout(&self.dropout2, max_pool2d(&self.pool2, x)); // [batch, 64, 8, 8]
        let x = x.flatten::<2>(1, 3); // [batch, 4096]
        let x = dropout(&self.dropout3, relu(self.dense1.forward(x))); // [batch, 512]
        self.dense2.forward(x) // [batch, 10]
    }

    /// A Keras-style summary: output shape for one image and parameters of each layer.
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
        let conv_kind = |block: &ConvBlock| {
            if block.norm.is_some() {
                "Conv2d 3x3 same + BatchNorm"
            } else {
                "Conv2d 3x3 same"
            }
        };
        let model = self.valid();
        let x = Tensor::<4>::zeros([1, 3, 32, 32], device);
        let x = model.conv1.forward(x);
        row(
            "conv1",
            conv_kind(&model.conv1),
            &x.dims(),
            model.conv1.num_params(),
        );
        let x = model.conv2.forward(x);
        row(
            "conv2",
            conv_kind(&model.conv2),
            &x.dims(),
            model.conv2.num_params(),
        );
        let x = max_pool2d(&model.pool1, x);
        row("pool1", "MaxPool2d 2x2", &x.dims(), 0);
        row("dropout1", "Dropout 0.25", &x.dims(), 0);
        let x = model.conv3.forward(x);
        row(
            "conv3",
            conv_kind(&model.conv3),
            &x.dims(),
            model.conv3.num_params(),
        );
        let x = model.conv4.forward(x);
        row(
            "conv4",
            conv_kind(&model.conv4),
            &x.dims(),
            model.conv4.num_params(),
        );
        let x = max_pool2d(&model.pool2, x);
        row("pool2", "MaxPool2d 2x2", &x.dims(), 0);
        row("dropout2", "Dropout 0.25", &x.dims(), 0);
        let x = x.flatten::<2>(1, 3);
        row("flatten", "Flatten", &x.dims(), 0);
        let x = model.dense1.forward(x);
        row(
            "dense1",
            "Linear + ReLU",
            &x.dims(),
            model.dense1.num_params(),
        );
        row("dropout3", "Dropout 0.5", &x.dims(), 0);
        let x = model.dense2.forward(x);
        row("dense2", "Linear", &x.dims(), model.dense2.num_params());
        rows
    }
}

impl Supervised for CifarCnn {
    type Batch = CifarBatch;

    fn forward_step(&self, batch: CifarBatch) -> StepOutput {
        StepOutput::classification(self.forward(batch.images), batch.targets)
    }
}
