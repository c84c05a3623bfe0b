//! Layers initialised the way Keras initialises them, for the labs that compare their
//! numbers with a Keras reference (the recurrent layers are in [`crate::recurrent`]).

use burn::nn::{Initializer, Linear, LinearConfig};
use burn::prelude::*;

/// Keras's `Dense(outputs)` on `inputs` features: Glorot-uniform kernel (±√(6/(in+out)))
/// and zero bias. burn's default (Kaiming-uniform kernel, random bias) trains as well; this
/// one starts where the Keras reference starts, so that the two can be compared.
pub fn keras_dense(inputs: usize, outputs: usize, device: &Device) -> Linear {
    let mut layer = LinearConfig::new(inputs, outputs)
        .with_initializer(Initializer::XavierUniform { gain: 1.0 })
        .init(device);
    layer.bias = Some(Initializer::Zeros.init([outputs], device));
    layer
}
