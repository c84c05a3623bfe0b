//! The network built from a [`SequentialConfig`]: one burn layer per entry of the list.
//!
//! Lab 1 wrote LeNet-5 as a struct with one field per layer, which is the clearest way to
//! read a fixed network. To rebuild *any* architecture from a JSON or YAML file the layers
//! must instead come from data, as in Keras's `Sequential`: a `Vec` of an enum, walked in
//! order by `forward`. The config travels with the module (`#[module(skip)]`: it holds no
//! parameters), so a model always knows the architecture it was built from.
//!
//! Convolutions and poolings run through `shared::conv` (burn's functions, with passes written
//! for the CPU backend), as in labs 1 and 2.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Dropout, DropoutConfig, Identity, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation;
use shared::batchers::MnistBatch;
use shared::conv::{conv2d, max_pool2d};
use shared::report::LayerRow;
use shared::train::{StepOutput, Supervised};

use crate::architecture::{
    Activation, ArchitectureError, LayerConfig, LayerShape, Padding, SequentialConfig,
};

/// One layer with its parameters (if it has any).
#[derive(Module, Debug)]
pub enum Layer {
    Conv2D(Conv2d),
    MaxPooling2D(MaxPool2d),
    /// Flattening has no parameters and no settings; `Identity` stands in its slot.
    Flatten(Identity),
    Dense(Linear),
    Dropout(Dropout),
}

#[derive(Module, Debug)]
pub struct Sequential {
    pub layers: Vec<Layer>,
    #[module(skip)]
    pub config: SequentialConfig,
}

impl SequentialConfig {
    /// Builds the network with fresh random weights. The config is validated first, so a
    /// bad file is an error here, before any tensor exists.
    pub fn init(&self, device: &Device) -> Result<Sequential, ArchitectureError> {
        let inputs = self.input_shapes()?;
        let layers = self
            .layers
            .iter()
            .zip(inputs)
            .map(|(layer, input)| match (layer, input) {
                (
                    LayerConfig::Conv2D {
                        filters,
                        kernel_size,
                        padding,
                        ..
                    },
                    LayerShape::Image([channels, _, _]),
                ) => Layer::Conv2D(
                    Conv2dConfig::new([channels, *filters], *kernel_size)
                        .with_padding(match padding {
                            Padding::Same => PaddingConfig2d::Same,
                            Padding::Valid => PaddingConfig2d::Valid,
                        })
                        .init(device),
                ),
                (LayerConfig::MaxPooling2D { pool_size, .. }, _) => Layer::MaxPooling2D(
                    MaxPool2dConfig::new(*pool_size)
                        .with_strides(*pool_size)
                        .init(),
                ),
                (LayerConfig::Flatten { .. }, _) => Layer::Flatten(Identity::new()),
                (LayerConfig::Dense { units, .. }, LayerShape::Flat(n)) => {
                    Layer::Dense(LinearConfig::new(n, *units).init(device))
                }
                (LayerConfig::Dropout { rate, .. }, _) => {
                    Layer::Dropout(DropoutConfig::new(*rate).init())
                }
                // `input_shapes` validated every pairing above.
                (layer, input) => unreachable!("{} on {input} passed validation", layer.name()),
            })
            .collect();
        Ok(Sequential {
            layers,
            config: self.clone(),
        })
    }
}

/// The values between two layers: images until the Flatten, vectors after it.
enum Values {
    Images(Tensor<4>),  // [batch, channels, height, width]
    Vectors(Tensor<2>), // [batch, features]
}

fn activate<const D: usize>(x: Tensor<D>, activation: Activation) -> Tensor<D> {
    match activation {
        Activation::Linear => x,
        Activation::Relu => activation::relu(x),
        Activation::Tanh => activation::tanh(x),
        Activation::Sigmoid => activation::sigmoid(x),
        Activation::Softmax => activation::softmax(x, D - 1),
    }
}

impl Sequential {
    /// Images `[batch, channels, height, width]` → class scores (logits) `[batch, classes]`.
    ///
    /// Like Keras with `from_logits`, the last layer's softmax is left out here: the loss
    /// applies it together with the logarithm, which is more accurate. [`Self::predict`]
    /// applies it.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let last = self.layers.len() - 1;
        let mut values = Values::Images(images);
        for (i, (layer, config)) in self.layers.iter().zip(&self.config.layers).enumerate() {
            let skip_softmax = |a: Activation| {
                if i == last && a == Activation::Softmax {
                    Activation::Linear
                } else {
                    a
                }
            };
            values = match (layer, config, values) {
                (
                    Layer::Conv2D(conv),
                    LayerConfig::Conv2D { activation, .. },
                    Values::Images(x),
                ) => Values::Images(activate(conv2d(conv, x), *activation)),
                (Layer::MaxPooling2D(pool), _, Values::Images(x)) => {
                    Values::Images(max_pool2d(pool, x))
                }
                // Channels first: the vector is channel 0's rows, then channel 1's, …
                (Layer::Flatten(_), _, Values::Images(x)) => Values::Vectors(x.flatten(1, 3)),
                (
                    Layer::Dense(dense),
                    LayerConfig::Dense { activation, .. },
                    Values::Vectors(x),
                ) => Values::Vectors(activate(dense.forward(x), skip_softmax(*activation))),
                (Layer::Dropout(dropout), _, Values::Images(x)) => {
                    Values::Images(dropout.forward(x))
                }
                (Layer::Dropout(dropout), _, Values::Vectors(x)) => {
                    Values::Vectors(dropout.forward(x))
                }
                // `SequentialConfig::init` built the layers from this very config.
                _ => unreachable!("layer {} does not match its config", config.name()),
            };
        }
        match values {
            Values::Vectors(x) => x,
            Values::Images(x) => x.flatten(1, 3),
        }
    }

    /// Class probabilities `[batch, classes]`: what Keras's `model.predict` returns.
    pub fn predict(&self, images: Tensor<4>) -> Tensor<2> {
        activation::softmax(self.forward(images), 1)
    }

    /// The Keras-style summary: each layer's output shape and parameter count.
    pub fn summary(&self) -> Vec<LayerRow> {
        let outputs = self
            .config
            .validate()
            .expect("a built model's config is valid");
        let inputs = self
            .config
            .input_shapes()
            .expect("a built model's config is valid");
        self.config
            .layers
            .iter()
            .zip(outputs)
            .zip(inputs)
            .map(|((layer, output), input)| LayerRow {
                name: layer.name().into(),
                kind: layer.describe(),
                output_shape: match output {
                    LayerShape::Image(dims) => dims.to_vec(),
                    LayerShape::Flat(n) => vec![n],
                },
                params: layer.params(input),
            })
            .collect()
    }
}

impl Supervised for Sequential {
    type Batch = MnistBatch;

    fn forward_step(&self, batch: MnistBatch) -> StepOutput {
        StepOutput::classification(self.forward(batch.images), batch.targets)
    }
}
