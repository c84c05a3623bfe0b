//! Seconds per epoch of lab 8's model on the full IMDB training reviews, for the side-by-side
//! with `bench/keras_imdb_lstm.py` (`bench/imdb_lstm.sh` alternates the two).
//!
//! ```text
//! cargo run -p lab-imdb-lstm --example imdb_lstm_bench -- [epochs] [reviews] [--bidirectional]
//! ```
//!
//! The same data as the Keras script: the 25,000 training reviews of
//! `<data-dir>/imdb/` encoded by the imdb.npz rules (num_words 10,000), padded and cut at the
//! front to 200; `reviews` < 25,000 takes the first half negative, half positive in the
//! seeded order. Embedding(10,000, 128) → LSTM(64) → Dense(1), Adam (Keras's settings),
//! batch 32, shuffled each epoch. Four warm-up steps, then every step of each epoch is timed
//! (forward, backward, optimiser; no validation). One line per epoch.

use std::time::Instant;

use burn::optim::GradientsParams;
use burn::prelude::*;
use lab_imdb_lstm::data::{self, Reviews, SequenceBatcher};
use lab_imdb_lstm::model::SentimentConfig;
use shared::datasets::{DataSource, data_dir};
use shared::download::Downloader;
use shared::lab::OptimizerConfig;
use shared::rng::Rng;
use shared::train::{Batcher, Supervised};

const BATCH: usize = 32;
const MAXLEN: usize = 200;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bidirectional = args.iter().any(|a| a == "--bidirectional");
    let numbers: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let epochs = numbers.first().copied().unwrap_or(1);
    let wanted = numbers.get(1).copied().unwrap_or(25_000);

    let load = Instant::now();
    let imdb = shared::imdb::load(
        &DataSource::Full {
            data_dir: data_dir(None),
        },
        &Downloader::default(),
    )?;
    let mut reviews = Reviews::encode(&imdb.train, &imdb.word_index, data::NUM_WORDS);
    if wanted < reviews.len() {
        // Half negative, half positive, in the seeded order (as the Keras script).
        let order = Rng::new(42).permutation(reviews.len());
        let mut keep = Vec::new();
        for label in [0u8, 1] {
            keep.extend(
                order
                    .iter()
                    .copied()
                    .filter(|&i| reviews.labels[i] == label)
                    .take(wanted / 2),
            );
        }
        keep.sort_unstable();
        reviews = Reviews {
            sequences: keep.iter().map(|&i| reviews.sequences[i].clone()).collect(),
            labels: keep.iter().map(|&i| reviews.labels[i]).collect(),
            names: keep.iter().map(|&i| reviews.names[i].clone()).collect(),
        };
    }
    let batcher = SequenceBatcher::new(&reviews, MAXLEN);
    let sum: u64 = batcher.padded.iter().flatten().map(|&i| i as u64).sum();
    println!(
        "# burn 0.22.1 flex: {} reviews padded to {MAXLEN} (sum of indices {sum}), loaded in {:.1} s",
        batcher.len(),
        load.elapsed().as_secs_f64()
    );

    shared::keep_freed_memory(); // as every lab does
    let device = Device::flex().autodiff();
    device.seed(42);
    let config = SentimentConfig::new().with_bidirectional(bidirectional);
    let mut model = config.init(&device);
    let optimizer_config = OptimizerConfig::keras_adam();
    let mut optimizer = optimizer_config.init();
    let lr = 1e-3;
    let mut rng = Rng::new(7);
    let mut step = |indices: &[usize]| -> (f64, f64) {
        let output = model.forward_step(batcher.batch(indices, &device));
        let loss = output.loss.clone().into_scalar::<f32>() as f64;
        let logits = shared::floats(output.output.clone());
        let right = logits
            .iter()
            .zip(indices)
            .filter(|(z, i)| (**z > 0.0) == (batcher.labels[**i] == 1))
            .count();
        let accuracy = right as f64 / indices.len() as f64;
        let grads = GradientsParams::from_grads(output.loss.backward(), &model);
        model = optimizer.step(lr, model.clone(), grads);
        (loss, accuracy)
    };
    for w in 0..4 {
        let indices: Vec<usize> = (w * BATCH..(w + 1) * BATCH).collect();
        step(&indices);
    }
    for epoch in 1..=epochs {
        let order = rng.permutation(batcher.len());
        let start = Instant::now();
        let (mut loss, mut accuracy) = (0.0, 0.0);
        for chunk in order.chunks(BATCH) {
            let (l, a) = step(chunk);
            loss += l * chunk.len() as f64;
            accuracy += a * chunk.len() as f64;
        }
        let seconds = start.elapsed().as_secs_f64();
        let n = batcher.len() as f64;
        println!(
            "burn model={} epoch={epoch} seconds={seconds:.3} samples_per_s={:.1} loss={:.4} acc={:.4}",
            config.describe(),
            n / seconds,
            loss / n,
            accuracy / n
        );
    }
    Ok(())
}
