//! VGG-16 as the slide draws it, with the layer names of torchvision's `vgg16` so that its
//! ImageNet weights load by name:
//!
//! ```text
//! input     3 x 224 x 224
//! block 1   2 x conv 3x3, 64, ReLU     → 64 x 224 x 224,  max-pool 2x2 → 112 x 112
//! block 2   2 x conv 3x3, 128, ReLU    → 128 x 112 x 112, max-pool     → 56 x 56
//! block 3   3 x conv 3x3, 256, ReLU    → 256 x 56 x 56,   max-pool     → 28 x 28
//! block 4   3 x conv 3x3, 512, ReLU    → 512 x 28 x 28,   max-pool     → 14 x 14
//! block 5   3 x conv 3x3, 512, ReLU    → 512 x 14 x 14,   max-pool     → 7 x 7
//! flatten   512 x 7 x 7 = 25,088
//! fc1       4,096, ReLU, dropout 0.5
//! fc2       4,096, ReLU, dropout 0.5
//! fc3       1,000 class scores                              138,357,544 parameters in all
//! ```
//!
//! Every convolution pads by one pixel ("same"), so only the pools shrink the image. Nearly
//! all the parameters sit in the first dense layer (25,088 x 4,096 = 102.8 million); nearly
//! all the computation (15.5 billion multiply-adds per image) in the convolutions.
//!
//! torchvision calls the 13 convolutions `features.0`, `features.2`, … `features.28` (the
//! numbers count the ReLUs and pools between them) and the dense layers `classifier.0`, `.3`
//! and `.6`. burn numbers the items of a `Vec` without gaps, and burn-store's PyTorch reader
//! closes the gaps (`features.2` → `features.1`), so the names line up. Keras names the same
//! layers `block1_conv1` … `block5_conv3`, `fc1`, `fc2` and `predictions`: [`crate::weights`]
//! reads both files.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;
use shared::conv::{conv2d, max_pool2d};
use shared::report::LayerRow;

/// The shape of a VGG network. The defaults are VGG-16; the tests build tiny VGGs with the
/// same layout and names.
#[derive(Config, Debug)]
pub struct VggConfig {
    /// Convolutions in each block (VGG-16: 2, 2, 3, 3, 3; VGG-19: 2, 2, 4, 4, 4).
    #[config(default = "vec![2, 2, 3, 3, 3]")]
    pub convs: Vec<usize>,
    /// Channels of each block's convolutions.
    #[config(default = "vec![64, 128, 256, 512, 512]")]
    pub widths: Vec<usize>,
    /// Units of the two hidden dense layers.
    #[config(default = 4096)]
    pub hidden: usize,
    /// Class scores out (ImageNet: 1,000).
    #[config(default = 1000)]
    pub classes: usize,
    /// Dropout between the dense layers while training.
    #[config(default = 0.5)]
    pub dropout: f64,
}

/// The side of the feature map the classifier reads: 7 x 7 (224 / 2^5).
pub const POOLED: usize = 7;

#[derive(Module, Debug)]
pub struct Vgg {
    /// The convolutions in order, block after block (torchvision's `features.*`).
    pub features: Vec<Conv2d>,
    pub pool: MaxPool2d,
    /// torchvision averages the last feature map to 7 x 7 whatever the input size (for a 224
    /// input it is already 7 x 7 and this changes nothing); Keras's VGG16 has no such layer
    /// and only takes 224 x 224.
    pub avgpool: AdaptiveAvgPool2d,
    /// fc1, fc2 and the class scores (torchvision's `classifier.0`, `.3`, `.6`).
    pub classifier: Vec<Linear>,
    pub dropout: Dropout,
    #[module(skip)]
    pub config: VggConfig,
}

impl VggConfig {
    /// VGG-16 for ImageNet.
    pub fn vgg16() -> Self {
        VggConfig::new()
    }

    /// The network with fresh random weights (lazily initialised: building VGG-16 costs
    /// nothing until a weight is used or replaced by loaded ones).
    pub fn init(&self, device: &Device) -> Vgg {
        let mut features = Vec::new();
        let mut channels = 3;
        for (&convs, &width) in self.convs.iter().zip(&self.widths) {
            for _ in 0..convs {
                features.push(
                    Conv2dConfig::new([channels, width], [3, 3])
                        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                        .init(device),
                );
                channels = width;
            }
        }
        let flat = channels * POOLED * POOLED;
        Vgg {
            features,
            pool: MaxPool2dConfig::new([2, 2]).init(),
            avgpool: AdaptiveAvgPool2dConfig::new([POOLED, POOLED]).init(),
            classifier: vec![
                LinearConfig::new(flat, self.hidden).init(device),
                LinearConfig::new(self.hidden, self.hidden).init(device),
                LinearConfig::new(self.hidden, self.classes).init(device),
            ],
            dropout: DropoutConfig::new(self.dropout).init(),
            config: self.clone(),
        }
    }

    /// Channels of the last feature map (512 for VGG-16).
    pub fn feature_channels(&self) -> usize {
        self.widths.last().copied().unwrap_or(3)
    }

    /// Parameters of the whole network, computed from the shapes alone.
    pub fn num_params(&self) -> usize {
        let mut params = 0;
        let mut channels = 3;
        for (&convs, &width) in self.convs.iter().zip(&self.widths) {
            for _ in 0..convs {
                params += channels * width * 9 + width;
                channels = width;
            }
        }
        let flat = channels * POOLED * POOLED;
        params
            + flat * self.hidden
            + self.hidden
            + self.hidden * self.hidden
            + self.hidden
            + self.hidden * self.classes
            + self.classes
    }
}

impl Vgg {
    /// Images `[batch, 3, h, w]` → the last block's pooled feature map
    /// `[batch, 512, h/32, w/32]`: what transfer learning reuses.
    pub fn features(&self, images: Tensor<4>) -> Tensor<4> {
        self.blocks(images, 0..self.config.convs.len())
    }

    /// Runs the blocks in `range` (each: its convolutions, then the max-pool) on `x`, the
    /// output of the block before: transfer learning freezes the first blocks and trains the
    /// last.
    pub fn blocks(&self, x: Tensor<4>, range: std::ops::Range<usize>) -> Tensor<4> {
        let mut x = x;
        let first_conv: usize = self.config.convs[..range.start].iter().sum();
        let mut convs = self.features.iter().skip(first_conv);
        for &n in &self.config.convs[range] {
            for conv in convs.by_ref().take(n) {
                x = relu(conv2d(conv, x));
            }
            x = max_pool2d(&self.pool, x);
        }
        x
    }

    /// The dense part: a feature map → class scores (logits) `[batch, classes]`.
    pub fn classify(&self, features: Tensor<4>) -> Tensor<2> {
        let mut x = self.avgpool.forward(features).flatten::<2>(1, 3);
        // Without its classifier (transfer learning drops it), the flattened features.
        let last = self.classifier.len().saturating_sub(1);
        for (i, dense) in self.classifier.iter().enumerate() {
            x = dense.forward(x);
            if i < last {
                x = self.dropout.forward(relu(x));
            }
        }
        x
    }

    /// Images `[batch, 3, 224, 224]` → class scores (logits) `[batch, classes]`; the
    /// probabilities are their softmax.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        self.classify(self.features(images))
    }

    /// A Keras-style summary for one 224 x 224 image, with Keras's layer names (computed from
    /// the shapes: running VGG-16 once would take seconds).
    pub fn summary(&self) -> Vec<LayerRow> {
        let config = &self.config;
        let mut rows = Vec::new();
        let (mut channels, mut side) = (3, 224);
        for (b, (&convs, &width)) in config.convs.iter().zip(&config.widths).enumerate() {
            for c in 0..convs {
                rows.push(LayerRow {
                    name: format!("block{}_conv{}", b + 1, c + 1),
                    kind: "Conv2d 3x3 + ReLU".into(),
                    output_shape: vec![width, side, side],
                    params: channels * width * 9 + width,
                });
                channels = width;
            }
            side /= 2;
            rows.push(LayerRow {
                name: format!("block{}_pool", b + 1),
                kind: "MaxPool2d 2x2".into(),
                output_shape: vec![width, side, side],
                params: 0,
            });
        }
        let flat = channels * POOLED * POOLED;
        rows.push(LayerRow {
            name: "flatten".into(),
            kind: "Flatten".into(),
            output_shape: vec![flat],
            params: 0,
        });
        for (name, kind, inputs, units) in [
            ("fc1", "Linear + ReLU + Dropout", flat, config.hidden),
            (
                "fc2",
                "Linear + ReLU + Dropout",
                config.hidden,
                config.hidden,
            ),
            (
                "predictions",
                "Linear (softmax)",
                config.hidden,
                config.classes,
            ),
        ] {
            rows.push(LayerRow {
                name: name.into(),
                kind: kind.into(),
                output_shape: vec![units],
                params: inputs * units + units,
            });
        }
        rows
    }
}
