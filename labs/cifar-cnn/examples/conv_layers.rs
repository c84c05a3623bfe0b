//! Time of lab 2's four convolutions alone, forward and forward + backward, batch 64, the
//! fastest of `repeats` runs each (default 40): the figure behind docs/benchmarks.md's
//! per-layer comparisons.
//!
//! ```text
//! RAYON_NUM_THREADS=1 cargo run -p lab-cifar-cnn --example conv_layers -- [repeats]
//! ```
//!
//! The backward pass is that of `sum(y ⊙ w)` for a fixed random `w`, so each time includes
//! one element-wise product and its gradient besides the convolution.

use std::time::Instant;

use anyhow::Context;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2dConfig;
use burn::prelude::*;
use burn::tensor::Distribution;

/// `(input channels, output channels, image side, whether the input needs a gradient)`.
const LAYERS: [(usize, usize, usize, bool); 4] = [
    (3, 32, 32, false),
    (32, 32, 32, true),
    (32, 64, 16, true),
    (64, 64, 16, true),
];

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [repeats] = shared::train::throughput::counts(&args, [("repeats", 40)])?;
    shared::keep_freed_memory(); // as every lab does
    let device = Device::flex().autodiff();
    device.seed(0);
    println!(
        "{}",
        shared::device::describe(shared::device::DeviceChoice::Flex)
    );
    let mut total = 0.0;
    for (channels, filters, side, input_grad) in LAYERS {
        let conv = Conv2dConfig::new([channels, filters], [3, 3])
            .with_padding(PaddingConfig2d::Same)
            .init(&device);
        let normal = Distribution::Normal(0.0, 1.0);
        let x = Tensor::<4>::random([64, channels, side, side], normal, &device);
        let w = Tensor::<4>::random([64, filters, side, side], normal, &device);
        let (mut forward, mut both) = (f64::MAX, f64::MAX);
        for _ in 0..repeats {
            let x = if input_grad {
                x.clone().require_grad()
            } else {
                x.clone()
            };
            let start = Instant::now();
            let y = shared::conv::conv2d(&conv, x);
            y.clone().into_data();
            forward = forward.min(start.elapsed().as_secs_f64());
            let grads = (y * w.clone()).sum().backward();
            conv.weight
                .grad(&grads)
                .context("the weight has a gradient")?
                .into_data();
            both = both.min(start.elapsed().as_secs_f64());
        }
        total += both;
        println!(
            "{channels:>3} -> {filters:>3} channels, {side}x{side}: forward {:5.1} ms, forward + backward {:5.1} ms",
            forward * 1e3,
            both * 1e3
        );
    }
    println!("all four, forward + backward: {:.1} ms", total * 1e3);
    Ok(())
}
