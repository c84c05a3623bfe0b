//! Training throughput of lab 2's plain network (forward + backward + Adam), steady state,
//! batch 64, on the bundled CIFAR-10 images.
//!
//! ```text
//! cargo run -p lab-cifar-cnn --example cifar_bench -- [repeats] [steps]
//! ```
//!
//! Prints the median images/s over the repeats and where a step's time goes. Compare with
//! `bench/keras_cifar.py`, measured in the same session (`bench/cifar.sh`; docs/benchmarks.md).

use anyhow::Context;
use burn::prelude::*;
use lab_cifar_cnn::data::CifarBatcher;
use lab_cifar_cnn::model::CifarCnnConfig;
use shared::cifar10;
use shared::datasets::samples_dir;
use shared::train::throughput;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [repeats, steps] = throughput::counts(&args, [("repeats", 5), ("steps", 20)])?;

    let dir = samples_dir().join("cifar-10").join(cifar10::FOLDER);
    let data = cifar10::load_dir(&dir).context("the bundled CIFAR-10 sample")?;
    let (mean, std) = cifar10::channel_stats(&data.train);
    let batcher = CifarBatcher::new(data.train, mean, std);
    shared::keep_freed_memory(); // as every lab does
    let device = Device::flex().autodiff();
    device.seed(0);
    let model = CifarCnnConfig::new().init(&device);
    let measured = throughput::measure(model, &batcher, &device, 64, [5, repeats, steps]);
    println!(
        "{{\"framework\": \"burn 0.22.1 flex\", \"network\": \"lab 2 plain\", {}}}",
        measured.json_fields("images")
    );
    Ok(())
}
