//! Training throughput of lab 2's plain network (forward + backward + Adam), steady state,
//! batch 64, on the bundled CIFAR-10 images.
//!
//! ```text
//! cargo run -p lab-cifar-cnn --example cifar_bench -- [repeats] [steps]
//! ```
//!
//! Prints the median images/s over the repeats and where a step's time goes. Compare with
//! `bench/keras_cifar.py`, measured in the same session (`bench/cifar.sh`; docs/benchmarks.md).

use std::time::Instant;

use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use lab_cifar_cnn::data::CifarBatcher;
use lab_cifar_cnn::model::CifarCnnConfig;
use shared::cifar10;
use shared::datasets::samples_dir;
use shared::train::{Batcher, Supervised};

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<usize>().expect("numbers"));
    let repeats = args.next().unwrap_or(5);
    let steps = args.next().unwrap_or(20);
    let batch = 64;

    let dir = samples_dir().join("cifar-10").join(cifar10::FOLDER);
    let data = cifar10::load_dir(&dir).expect("bundled CIFAR-10 sample");
    let (mean, std) = cifar10::channel_stats(&data.train);
    let batcher = CifarBatcher::new(data.train, mean, std);
    let device = Device::flex().autodiff();
    device.seed(0);
    let mut model = CifarCnnConfig::new().init(&device);
    let mut optimizer = AdamConfig::new().init();
    let n = batcher.len();

    let mut step = |s: usize, timings: Option<&mut [f64; 4]>| {
        let indices: Vec<usize> = (0..batch).map(|i| (s * batch + i) % n).collect();
        let t0 = Instant::now();
        let b = batcher.batch(&indices, &device);
        let t1 = Instant::now();
        let output = model.forward_step(b);
        let loss = output.loss;
        let _ = loss.clone().into_scalar::<f32>();
        let t2 = Instant::now();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let t3 = Instant::now();
        model = optimizer.step(1e-3, model.clone(), grads);
        let t4 = Instant::now();
        if let Some(t) = timings {
            t[0] += (t1 - t0).as_secs_f64();
            t[1] += (t2 - t1).as_secs_f64();
            t[2] += (t3 - t2).as_secs_f64();
            t[3] += (t4 - t3).as_secs_f64();
        }
    };

    for s in 0..5 {
        step(s, None); // warm-up
    }
    let mut rates = Vec::new();
    let mut parts = [0.0; 4];
    for r in 0..repeats {
        let start = Instant::now();
        for s in 0..steps {
            step(r * steps + s, Some(&mut parts));
        }
        rates.push((steps * batch) as f64 / start.elapsed().as_secs_f64());
    }
    let total_steps = (repeats * steps) as f64;
    println!(
        "{{\"framework\": \"burn 0.22.1 flex\", \"network\": \"lab 2 plain\", \"batch\": {batch}, \
         \"images_per_s_median\": {:.0}, \"all\": {:?}, \"ms_per_step\": {{\"batch\": {:.2}, \
         \"forward\": {:.2}, \"backward\": {:.2}, \"optimizer\": {:.2}}}}}",
        median(rates.clone()),
        rates.iter().map(|r| r.round() as i64).collect::<Vec<_>>(),
        1e3 * parts[0] / total_steps,
        1e3 * parts[1] / total_steps,
        1e3 * parts[2] / total_steps,
        1e3 * parts[3] / total_steps,
    );
}
