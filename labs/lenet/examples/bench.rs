//! Training throughput of LeNet-5 (forward + backward + Adam), steady state, batch 128.
//!
//! ```text
//! cargo run -p lab-lenet --example bench -- [repeats] [steps]
//! ```
//!
//! Prints the median samples/s over the repeats, and where a step's time goes (forward,
//! backward, optimiser). Compare with `bench/keras_lenet.py`, measured in the same session:
//! see docs/benchmarks.md.

use anyhow::Context;
use burn::prelude::*;
use lab_lenet::data::MnistBatcher;
use lab_lenet::model::LeNetConfig;
use shared::datasets::samples_dir;
use shared::train::throughput;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [repeats, steps] = throughput::counts(&args, [("repeats", 5), ("steps", 100)])?;

    let data = shared::mnist::load_dir(&samples_dir().join("mnist"))
        .context("the bundled MNIST sample")?;
    let batcher = MnistBatcher::new(data.train);
    shared::keep_freed_memory(); // as every lab does
    let device = Device::flex().autodiff();
    device.seed(0);
    let model = LeNetConfig::new().init(&device);
    let measured = throughput::measure(model, &batcher, &device, 128, [20, repeats, steps]);
    println!(
        "{{\"framework\": \"burn 0.22.1 flex\", {}}}",
        measured.json_fields("samples")
    );
    Ok(())
}
