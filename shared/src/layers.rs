//! Layers initialised the way Keras initialises them, for the labs that compare their
//! numbers with a Keras reference (the recurrent layers are in [`crate::recurrent`]), and a
//! faster dropout.

use burn::nn::{Dropout, Initializer, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::{Distribution, TensorData};

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

/// `layer.forward(x)` for burn's [`Dropout`], faster on the CPU: the same rule (while
/// training on an autodiff device, each value is zeroed with probability `p` and the others
/// are divided by `1 − p`; otherwise `x` itself), with the mask drawn differently. burn draws
/// one random number per value through its general-purpose sampler and multiplies twice
/// (`x·mask`, then `·1/(1−p)`): its random numbers were about 5 % of a lab 2 training step.
/// Here the device's generator gives one 64-bit seed per call (so `device.seed(s)` still
/// fixes every mask), a SplitMix64 stream gives two 32-bit draws per step, split across the
/// threads by position (the same mask on any number of threads), and the mask holds `0` or
/// `1/(1−p)`: one multiplication forward and one backward. On other devices than flex (a
/// GPU, where the mask would be drawn on the CPU and copied over) it is burn's own layer.
pub fn dropout<const D: usize>(layer: &Dropout, x: Tensor<D>) -> Tensor<D> {
    if !layer.training.is_enabled() || !x.device().is_autodiff() || layer.prob == 0.0 {
        return x;
    }
    let device = x.device();
    if device.clone().inner() != Device::flex() {
        return layer.forward(x);
    }
    let shape = x.shape();
    let values = dropout_mask(shape.num_elements(), 1.0 - layer.prob, seed_from(&device));
    let mask = Tensor::<D>::from_data(TensorData::new(values, shape), &device).cast(x.dtype());
    x * mask
}

/// A 64-bit seed from the device's own generator (two uniform draws, 24 bits each, and the
/// draws' bit patterns mixed by SplitMix64).
fn seed_from(device: &Device) -> u64 {
    let draws = crate::floats(Tensor::<1>::random([2], Distribution::Default, device));
    let bits = draws
        .iter()
        .fold(0u64, |acc, v| (acc << 32) | u64::from(v.to_bits()));
    crate::rng::Rng::new(bits).next_u64()
}

/// `n` mask values: `1/keep` with probability `keep`, else `0`. Value `i` comes from draw
/// `i / 2` of the stream (its low or high 32 bits), whatever the split across threads.
pub fn dropout_mask(n: usize, keep: f64, seed: u64) -> Vec<f32> {
    use rayon::prelude::*;
    const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;
    const CHUNK: usize = 1 << 14; // values per task: even, so a draw never spans two tasks
    // `draw < threshold` has probability threshold / 2^32 = keep (to 2^-32).
    let threshold = (keep * 4_294_967_296.0).round().min(4_294_967_295.0) as u32;
    let scale = (1.0 / keep) as f32;
    let mut mask = vec![0.0f32; n];
    mask.par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(chunk, values)| {
            let first = (chunk * CHUNK / 2) as u64;
            for (k, pair) in values.chunks_mut(2).enumerate() {
                let mut z = seed.wrapping_add((first + k as u64 + 1).wrapping_mul(GOLDEN));
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                z ^= z >> 31;
                for (v, draw) in pair.iter_mut().zip([z as u32, (z >> 32) as u32]) {
                    *v = if draw < threshold { scale } else { 0.0 };
                }
            }
        });
    mask
}
