//! Training throughput of recurrent layers on an IMDB-sized problem: Embedding(10,000 → 128),
//! a recurrent layer of 64 units over 200 steps, Dense(1) with a sigmoid cross-entropy,
//! Adam, batch 64. Steady state (forward + backward + optimiser), synthetic tokens.
//!
//! ```text
//! cargo run -p lab-alice-lstm --example recurrent_bench -- [repeats] [steps] [variants…]
//! ```
//!
//! Variants: `lstm-lab` (the labs' LSTM: recurrence as one op with hand-written BPTT),
//! `lstm-steps` (the lab's cell one autodiff step at a time), `lstm-burn` (`burn::nn::Lstm`),
//! and the same three for the SimpleRNN (`rnn-lab`, `rnn-steps`, `rnn-burn`). Default: all.
//! Prints one JSON line per variant with the median samples/s. Compare with
//! `bench/keras_rnn.py` run in the same session (docs/recurrent.md).

use std::time::Instant;

use burn::nn::loss::BinaryCrossEntropyLossConfig;
use burn::nn::{Embedding, EmbeddingConfig, Linear, LinearConfig, LstmConfig, RnnConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use lab_alice_lstm::model::{LstmLayer, lstm_steps};
use lab_alice_rnn::model::{Recurrence, rnn_steps};
use shared::recurrent::{Lstm, SimpleRnn, last_step, last_step_time_major};
use shared::rng::Rng;

const VOCAB: usize = 10_000;
const EMBED: usize = 128;
const UNITS: usize = 64;
const STEPS: usize = 200;
const BATCH: usize = 64;

// One model value per run: the size of the enum does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
enum Layer {
    Lstm(LstmLayer),
    Rnn(Recurrence),
}

#[derive(Module, Debug)]
struct Classifier {
    embedding: Embedding,
    layer: Layer,
    output: Linear,
    step_by_step: bool,
}

impl Classifier {
    fn new(variant: &str, device: &Device) -> Classifier {
        let layer = match variant {
            "lstm-lab" | "lstm-steps" => {
                Layer::Lstm(LstmLayer::Lab(Lstm::new(EMBED, UNITS, device)))
            }
            "lstm-burn" => Layer::Lstm(LstmLayer::Burn(
                LstmConfig::new(EMBED, UNITS, true).init(device),
            )),
            "rnn-lab" | "rnn-steps" => {
                Layer::Rnn(Recurrence::Lab(SimpleRnn::new(EMBED, UNITS, device)))
            }
            "rnn-burn" => Layer::Rnn(Recurrence::Burn(
                RnnConfig::new(EMBED, UNITS, true).init(device),
            )),
            other => panic!("unknown variant {other}"),
        };
        Classifier {
            embedding: EmbeddingConfig::new(VOCAB, EMBED).init(device),
            layer,
            output: LinearConfig::new(UNITS, 1).init(device),
            step_by_step: variant.ends_with("-steps"),
        }
    }

    fn forward(&self, tokens: Tensor<2, Int>) -> Tensor<1> {
        let batch = tokens.dims()[0];
        let last = match &self.layer {
            // The fused layers run time-major: transpose the token ids, not the embeddings.
            Layer::Lstm(LstmLayer::Lab(cell)) if !self.step_by_step => last_step_time_major(
                cell.forward_time_major(self.embedding.forward(tokens.transpose())),
            ),
            Layer::Rnn(Recurrence::Lab(cell)) if !self.step_by_step => last_step_time_major(
                cell.forward_time_major(self.embedding.forward(tokens.transpose())),
            ),
            layer => {
                let x = self.embedding.forward(tokens);
                last_step(match layer {
                    Layer::Lstm(LstmLayer::Lab(cell)) => lstm_steps(cell, x),
                    Layer::Lstm(LstmLayer::Burn(lstm)) => lstm.forward(x, None).0,
                    Layer::Rnn(Recurrence::Lab(cell)) => rnn_steps(cell, x),
                    Layer::Rnn(Recurrence::Burn(rnn)) => rnn.forward(x, None).0,
                })
            }
        };
        self.output.forward(last).reshape([batch])
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let repeats: usize = args
        .first()
        .map_or(3, |a| a.parse().expect("repeats: a number"));
    let steps: usize = args
        .get(1)
        .map_or(5, |a| a.parse().expect("steps: a number"));
    let all = [
        "lstm-lab",
        "lstm-steps",
        "lstm-burn",
        "rnn-lab",
        "rnn-steps",
        "rnn-burn",
    ];
    let variants: Vec<&str> = if args.len() > 2 {
        args[2..].iter().map(String::as_str).collect()
    } else {
        all.to_vec()
    };

    shared::keep_freed_memory(); // as every lab does
    let device = Device::flex().autodiff();
    let mut rng = Rng::new(0);
    let batches: Vec<(Vec<i64>, Vec<i64>)> = (0..8)
        .map(|_| {
            let tokens = (0..BATCH * STEPS)
                .map(|_| rng.below(VOCAB) as i64)
                .collect();
            let labels = (0..BATCH).map(|_| rng.below(2) as i64).collect();
            (tokens, labels)
        })
        .collect();
    let loss_fn = BinaryCrossEntropyLossConfig::new()
        .with_logits(true)
        .init(&device);

    for variant in variants {
        device.seed(0);
        let mut model = Classifier::new(variant, &device);
        let mut optimizer = AdamConfig::new().init();
        let mut step = |s: usize| {
            let (tokens, labels) = &batches[s % batches.len()];
            let tokens = Tensor::<2, Int>::from_data(
                TensorData::new(tokens.clone(), [BATCH, STEPS]),
                &device,
            );
            let labels =
                Tensor::<1, Int>::from_data(TensorData::new(labels.clone(), [BATCH]), &device);
            let loss = loss_fn.forward(model.forward(tokens), labels);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optimizer.step(1e-3, model.clone(), grads);
        };
        step(0); // warm-up
        step(1);
        let mut rates = Vec::new();
        for r in 0..repeats {
            let start = Instant::now();
            for s in 0..steps {
                step(r * steps + s);
            }
            rates.push((steps * BATCH) as f64 / start.elapsed().as_secs_f64());
        }
        println!(
            "{{\"framework\": \"burn 0.22.1 flex\", \"variant\": \"{variant}\", \"samples_per_s_median\": {:.1}, \"all\": {:?}}}",
            median(rates.clone()),
            rates
                .iter()
                .map(|r| (r * 10.0).round() / 10.0)
                .collect::<Vec<_>>()
        );
    }
}
