//! Training throughput of LeNet-5 (forward + backward + Adam), steady state, batch 128.
//!
//! ```text
//! cargo run -p lab-lenet --example bench -- [repeats] [steps]
//! ```
//!
//! Prints the median samples/s over the repeats, and where a step's time goes (forward,
//! backward, optimiser). Compare with `bench/keras_lenet.py`, measured in the same session:
//! see docs/benchmarks.md.

use std::time::Instant;

use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use lab_lenet::data::MnistBatcher;
use lab_lenet::model::LeNetConfig;
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
    let steps = args.next().unwrap_or(100);
    let batch = 128;

    let data = shared::mnist::load_dir(&samples_dir().join("mnist")).expect("bundled MNIST sample");
    let batcher = MnistBatcher::new(data.train);
    let device = Device::flex().autodiff();
    device.seed(0);
    let mut model = LeNetConfig::new().init(&device);
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

    for s in 0..20 {
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
        "{{\"framework\": \"burn 0.22.1 flex\", \"batch\": {batch}, \"samples_per_s_median\": {:.0}, \"all\": {:?}, \
         \"ms_per_step\": {{\"batch\": {:.2}, \"forward\": {:.2}, \"backward\": {:.2}, \"optimizer\": {:.2}}}}}",
        median(rates.clone()),
        rates.iter().map(|r| r.round() as i64).collect::<Vec<_>>(),
        1e3 * parts[0] / total_steps,
        1e3 * parts[1] / total_steps,
        1e3 * parts[2] / total_steps,
        1e3 * parts[3] / total_steps,
    );
}
