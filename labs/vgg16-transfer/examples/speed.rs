//! How long the two networks take per image on this machine, forward only (classifying,
//! caching features) and forward + backward + Adam (the `all` regime), with random weights
//! (the speed does not depend on them):
//!
//! ```text
//! cargo run -p lab-vgg16-transfer --example speed -- [vgg16|efficientnet-lite0] [batch] [side] [steps]
//! ```

use std::time::Instant;

use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use lab_vgg16_transfer::efficientnet::EfficientNetConfig;
use lab_vgg16_transfer::network::Network;
use lab_vgg16_transfer::transfer::{Regime, TransferBatch, TransferNet};
use lab_vgg16_transfer::vgg::VggConfig;
use shared::train::Supervised;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let model = args.first().map_or("efficientnet-lite0", String::as_str);
    let number = |i: usize, default: usize| -> anyhow::Result<usize> {
        Ok(match args.get(i) {
            Some(text) => text.parse()?,
            None => default,
        })
    };
    let (batch, side, steps) = (number(1, 8)?, number(2, 224)?, number(3, 3)?);
    let device = shared::device::select(shared::device::DeviceChoice::Auto)?;
    let train_device = device.clone().autodiff();
    let build = |device: &Device| -> anyhow::Result<Network> {
        Ok(match model {
            "vgg16" => Network::Vgg(VggConfig::vgg16().init(device)),
            "efficientnet-lite0" => Network::EfficientNet(EfficientNetConfig::lite0().init(device)),
            other => anyhow::bail!("unknown model {other}: vgg16 or efficientnet-lite0"),
        })
    };
    println!(
        "{model}, batch {batch}, {side} x {side}, {steps} timed steps after one warm-up, {}",
        shared::device::describe(shared::device::DeviceChoice::Auto)
    );

    let network = build(&device)?;
    let images = || {
        Tensor::<4>::random(
            [batch, 3, side, side],
            burn::tensor::Distribution::Default,
            &device,
        )
    };
    let mut times = Vec::new();
    for step in 0..=steps {
        let started = Instant::now();
        let _ = shared::floats(network.forward(images()));
        if step > 0 {
            times.push(started.elapsed().as_secs_f64());
        }
    }
    report("forward (inference)", batch, &mut times);

    let mut net = TransferNet::new(build(&train_device)?, 10, Regime::All, &train_device);
    let mut optimizer = AdamConfig::new().init();
    let targets = Tensor::<1, Int>::from_data(
        TensorData::new(
            (0..batch as i64).map(|i| i % 10).collect::<Vec<_>>(),
            [batch],
        ),
        &train_device,
    );
    let mut times = Vec::new();
    for step in 0..=steps {
        let started = Instant::now();
        let batch_data = TransferBatch {
            inputs: Tensor::random(
                [batch, 3, side, side],
                burn::tensor::Distribution::Default,
                &train_device,
            ),
            targets: targets.clone(),
        };
        let output = net.forward_step(batch_data);
        let grads = GradientsParams::from_grads(output.loss.backward(), &net);
        net = optimizer.step(1e-4, net, grads);
        let _ = shared::floats(
            net.head
                .bias
                .as_ref()
                .map(|b| b.val())
                .unwrap_or_else(|| Tensor::zeros([1], &train_device)),
        );
        if step > 0 {
            times.push(started.elapsed().as_secs_f64());
        }
    }
    report(
        "training step (forward + backward + Adam)",
        batch,
        &mut times,
    );
    if let Some(mb) = shared::report::peak_memory_mb() {
        println!("peak memory {mb:.0} MB");
    }
    Ok(())
}

fn report(what: &str, batch: usize, times: &mut [f64]) {
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "{what}: median {:.2} s per batch, {:.1} images/s ({:.0} ms per image)",
        median,
        batch as f64 / median,
        1000.0 * median / batch as f64
    );
}
