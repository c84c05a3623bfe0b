//! EfficientNet-Lite0: a small modern ImageNet network (4.7 million parameters, 0.4 billion
//! multiply-adds per image, 40 times less than VGG-16), and the one whose genuine pretrained
//! weights this course can use offline.
//!
//! It is built from *inverted residual* blocks (MBConv, from MobileNetV2):
//!
//! ```text
//! x ─► 1x1 conv, widen 6x ─► BN ─► ReLU6       (expand; block 0 has no expansion)
//!   ─► k x k depthwise conv ─► BN ─► ReLU6      (one filter per channel: cheap)
//!   ─► 1x1 conv, narrow ─► BN                   (project; no activation)
//!   ─► + x                                       (when the shape is unchanged)
//! ```
//!
//! A depthwise convolution filters each channel on its own (`groups = channels`), so a 5x5
//! filter over 672 channels costs 672 x 25 weights instead of 672 x 672 x 25. The "Lite"
//! variant is EfficientNet-B0 made friendly to phones: ReLU6 instead of swish, no
//! squeeze-and-excitation, and a fixed stem and head. The 16 blocks, stage by stage:
//!
//! ```text
//! stage  blocks  kernel  stride  expand  channels     output at 224
//! stem        -     3x3       2       -        32     32 x 112 x 112
//! 1           1     3x3       1       1        16     16 x 112 x 112
//! 2           2     3x3       2       6        24     24 x 56 x 56
//! 3           2     5x5       2       6        40     40 x 28 x 28
//! 4           3     3x3       2       6        80     80 x 14 x 14
//! 5           3     5x5       1       6       112    112 x 14 x 14
//! 6           4     5x5       2       6       192    192 x 7 x 7
//! 7           1     3x3       1       6       320    320 x 7 x 7
//! head        -     1x1       1       -      1280   1280 x 7 x 7 → average → 1000 scores
//! ```
//!
//! Only the stride of each block cannot be read from the weights' shapes; everything else in
//! the table is checked against the file when it loads. The weights were converted from
//! TensorFlow, so the convolutions pad as TensorFlow's `"same"` does: a stride-2 convolution
//! puts the extra pixel of padding on the right and bottom ([`same_padding`]).

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d,
};
use burn::prelude::*;
use burn::tensor::activation::relu6;
use serde::{Deserialize, Serialize};
use shared::conv::conv2d;
use shared::report::LayerRow;

/// One MBConv block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockSpec {
    pub input: usize,
    pub output: usize,
    pub kernel: usize,
    pub stride: usize,
    /// Expansion ratio: the block works on `input * expand` channels inside.
    pub expand: usize,
}

impl BlockSpec {
    /// Channels inside the block.
    pub fn inner(&self) -> usize {
        self.input * self.expand
    }

    /// The residual connection exists when the block keeps the shape.
    pub fn has_skip(&self) -> bool {
        self.stride == 1 && self.input == self.output
    }
}

#[derive(Config, Debug)]
pub struct EfficientNetConfig {
    /// Channels of the stem convolution.
    pub stem: usize,
    pub blocks: Vec<BlockSpec>,
    /// Channels of the 1x1 head convolution (the features transfer learning reuses).
    pub head: usize,
    pub classes: usize,
    /// Batch normalisation's epsilon (TensorFlow's 1e-3, not PyTorch's 1e-5).
    #[config(default = 1e-3)]
    pub bn_epsilon: f64,
    /// Dropout before the classifier while training.
    #[config(default = 0.2)]
    pub dropout: f64,
}

/// Stages as (repeats, kernel, stride of the first block, expand, output channels).
const LITE0_STAGES: [(usize, usize, usize, usize, usize); 7] = [
    (1, 3, 1, 1, 16),
    (2, 3, 2, 6, 24),
    (2, 5, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112),
    (4, 5, 2, 6, 192),
    (1, 3, 1, 6, 320),
];

impl EfficientNetConfig {
    /// EfficientNet-Lite0 for ImageNet.
    pub fn lite0() -> Self {
        let mut blocks = Vec::new();
        let mut channels = 32;
        for (repeats, kernel, stride, expand, output) in LITE0_STAGES {
            for r in 0..repeats {
                blocks.push(BlockSpec {
                    input: channels,
                    output,
                    kernel,
                    stride: if r == 0 { stride } else { 1 },
                    expand,
                });
                channels = output;
            }
        }
        EfficientNetConfig::new(32, blocks, 1280, 1000)
    }

    /// The network with fresh random weights.
    pub fn init(&self, device: &Device) -> EfficientNet {
        let norm = |channels| {
            BatchNormConfig::new(channels)
                .with_epsilon(self.bn_epsilon)
                .init(device)
        };
        let last = self.blocks.last().map_or(self.stem, |b| b.output);
        EfficientNet {
            conv_stem: conv(3, self.stem, 3, 2, 1, device),
            bn0: norm(self.stem),
            blocks: self
                .blocks
                .iter()
                .map(|spec| MbConv {
                    expand_conv: (spec.expand != 1)
                        .then(|| conv(spec.input, spec.inner(), 1, 1, 1, device)),
                    bn0: (spec.expand != 1).then(|| norm(spec.inner())),
                    depthwise_conv: conv(
                        spec.inner(),
                        spec.inner(),
                        spec.kernel,
                        spec.stride,
                        spec.inner(),
                        device,
                    ),
                    bn1: norm(spec.inner()),
                    project_conv: conv(spec.inner(), spec.output, 1, 1, 1, device),
                    bn2: norm(spec.output),
                    skip: spec.has_skip(),
                })
                .collect(),
            conv_head: conv(last, self.head, 1, 1, 1, device),
            bn1: norm(self.head),
            dropout: DropoutConfig::new(self.dropout).init(),
            fc: Some(LinearConfig::new(self.head, self.classes).init(device)),
            config: self.clone(),
        }
    }

    /// Values of batch norm's running statistics (a mean and a variance per channel): not
    /// parameters, since nothing trains them, but burn's `num_params` counts them.
    pub fn batch_norm_values(&self) -> usize {
        let inner: usize = self
            .blocks
            .iter()
            .map(|b| if b.expand != 1 { 2 * b.inner() } else { b.inner() } + b.output)
            .sum();
        2 * (self.stem + inner + self.head)
    }

    /// Parameters of the network (batch norm's running statistics not counted: they are not
    /// trained), from the shapes alone.
    pub fn num_params(&self) -> usize {
        let bn = |c: usize| 2 * c;
        let mut params = 3 * self.stem * 9 + bn(self.stem);
        for b in &self.blocks {
            if b.expand != 1 {
                params += b.input * b.inner() + bn(b.inner());
            }
            params += b.inner() * b.kernel * b.kernel + bn(b.inner());
            params += b.inner() * b.output + bn(b.output);
        }
        let last = self.blocks.last().map_or(self.stem, |b| b.output);
        params + last * self.head + bn(self.head) + self.head * self.classes + self.classes
    }
}

/// TensorFlow's `"same"` padding for a convolution of kernel `k` and stride `s` on an input
/// whose side is a multiple of `s`: `k - s` pixels in all (never negative), the smaller half
/// before (top, left) and the larger after (bottom, right). The EfficientNet weights were
/// trained with it; PyTorch's symmetric `k / 2` would shift every stride-2 layer by a pixel.
pub fn same_padding(kernel: usize, stride: usize) -> (usize, usize) {
    let total = kernel.saturating_sub(stride);
    (total / 2, total - total / 2)
}

/// A convolution without bias (batch norm follows and has its own), padded "same".
fn conv(
    input: usize,
    output: usize,
    kernel: usize,
    stride: usize,
    groups: usize,
    device: &Device,
) -> Conv2d {
    let (before, after) = same_padding(kernel, stride);
    Conv2dConfig::new([input, output], [kernel, kernel])
        .with_stride([stride, stride])
        .with_groups(groups)
        .with_bias(false)
        .with_padding(PaddingConfig2d::Explicit(before, before, after, after))
        .init(device)
}

/// One inverted residual block (field names as in the PyTorch file, without `_`).
#[derive(Module, Debug)]
pub struct MbConv {
    pub expand_conv: Option<Conv2d>,
    pub bn0: Option<BatchNorm>,
    pub depthwise_conv: Conv2d,
    pub bn1: BatchNorm,
    pub project_conv: Conv2d,
    pub bn2: BatchNorm,
    #[module(skip)]
    pub skip: bool,
}

impl MbConv {
    pub fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        let mut x = input.clone();
        if let (Some(expand), Some(bn)) = (&self.expand_conv, &self.bn0) {
            x = relu6(bn.forward(conv2d(expand, x)));
        }
        x = relu6(self.bn1.forward(conv2d(&self.depthwise_conv, x)));
        x = self.bn2.forward(conv2d(&self.project_conv, x));
        if self.skip { x + input } else { x }
    }
}

#[derive(Module, Debug)]
pub struct EfficientNet {
    pub conv_stem: Conv2d,
    pub bn0: BatchNorm,
    pub blocks: Vec<MbConv>,
    pub conv_head: Conv2d,
    pub bn1: BatchNorm,
    pub dropout: Dropout,
    /// The ImageNet classifier; `None` once transfer learning has replaced it.
    pub fc: Option<Linear>,
    #[module(skip)]
    pub config: EfficientNetConfig,
}

impl EfficientNet {
    /// Images `[batch, 3, h, w]` (sides multiples of 32) → the output of blocks `..until`
    /// (stem included): where a partly frozen network hands over to its trainable top.
    pub fn trunk(&self, images: Tensor<4>, until: usize) -> Tensor<4> {
        let mut x = relu6(self.bn0.forward(conv2d(&self.conv_stem, images)));
        for block in &self.blocks[..until.min(self.blocks.len())] {
            x = block.forward(x);
        }
        x
    }

    /// The output of block `from - 1` → the pooled features `[batch, 1280]`.
    pub fn top(&self, x: Tensor<4>, from: usize) -> Tensor<2> {
        let mut x = x;
        for block in &self.blocks[from.min(self.blocks.len())..] {
            x = block.forward(x);
        }
        let x = relu6(self.bn1.forward(conv2d(&self.conv_head, x)));
        x.mean_dim(3).mean_dim(2).flatten::<2>(1, 3)
    }

    /// Images → pooled features `[batch, 1280]`: what the classifier reads.
    pub fn features(&self, images: Tensor<4>) -> Tensor<2> {
        self.top(self.trunk(images, 0), 0)
    }

    /// Images `[batch, 3, 224, 224]` → class scores (logits) `[batch, classes]`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let features = self.dropout.forward(self.features(images));
        match &self.fc {
            Some(fc) => fc.forward(features),
            // Without its classifier, the network's output is its features.
            None => features,
        }
    }

    /// A Keras-style summary for one `side` x `side` image, stage by stage (from the shapes).
    pub fn summary(&self, side: usize) -> Vec<LayerRow> {
        let config = &self.config;
        let bn = |c: usize| 2 * c;
        let mut side = side / 2;
        let mut rows = vec![LayerRow {
            name: "stem".into(),
            kind: "Conv2d 3x3 /2 + BN + ReLU6".into(),
            output_shape: vec![config.stem, side, side],
            params: 27 * config.stem + bn(config.stem),
        }];
        for (i, b) in config.blocks.iter().enumerate() {
            side /= b.stride;
            let mut params = b.inner() * b.kernel * b.kernel + bn(b.inner());
            params += b.inner() * b.output + bn(b.output);
            if b.expand != 1 {
                params += b.input * b.inner() + bn(b.inner());
            }
            rows.push(LayerRow {
                name: format!("block{i}"),
                kind: format!(
                    "MBConv{} {}x{}{}{}",
                    b.expand,
                    b.kernel,
                    b.kernel,
                    if b.stride > 1 { " /2" } else { "" },
                    if b.has_skip() { " +skip" } else { "" }
                ),
                output_shape: vec![b.output, side, side],
                params,
            });
        }
        let last = config.blocks.last().map_or(config.stem, |b| b.output);
        rows.push(LayerRow {
            name: "head".into(),
            kind: "Conv2d 1x1 + BN + ReLU6".into(),
            output_shape: vec![config.head, side, side],
            params: last * config.head + bn(config.head),
        });
        rows.push(LayerRow {
            name: "pool".into(),
            kind: "GlobalAveragePooling".into(),
            output_shape: vec![config.head],
            params: 0,
        });
        rows.push(LayerRow {
            name: "fc".into(),
            kind: "Dropout + Linear (softmax)".into(),
            output_shape: vec![config.classes],
            params: config.head * config.classes + config.classes,
        });
        rows
    }
}
