//! Parity experiment for issue 15 (why Keras's L2 model ends with a smaller accuracy gap).
//!
//! Builds the lab's model (`l2` or `medium`) with the lab's own code, on the lab's full data
//! (validation split 0.2, seeded as the lab does), and writes everything needed to replay
//! the same training in Keras (`bench/l2_parity.py`) to `--out`:
//!
//! ```text
//! train.txt, valid.txt      one review per line: label, then its distinct word indices
//! order.bin                 u32, epochs x n_train: the review order of each epoch, as fit draws it
//! init_<model>.bin          f32, the initial weights (hidden1 w b, hidden2 w b, output w b;
//!                           kernels [in, out], as Keras's Dense)
//! burn_<model>_step<N>.bin  the weights after step N (the --dump steps and each epoch's end)
//! burn_<model>_steps.csv    per step: loss with and without the penalty, penalty, accuracy
//! burn_<model>_epochs.csv   per epoch: train and validation cross-entropy and accuracy,
//!                           penalty, Σw² of each kernel
//! ```
//!
//! It then trains as `shared::train::fit` does (same order, `forward_step`, backward,
//! `optimizer.step` with `OptimizerConfig::keras_adam`), logging every step. With
//! `--repeat-order` every epoch takes the first epoch's order, as Keras 3's `fit` does on NumPy
//! arrays once `keras.utils.set_random_seed` has run (docs/imdb-regularization-l2-parity.md).
//!
//! ```text
//! BURN_LABS_DATA=/work/shared/datasets \
//!     cargo run -p lab-imdb-regularization --example l2_parity -- --model l2 --epochs 3
//! ... --example l2_parity -- --model l2 --epochs 20 --repeat-order --no-export --tag burn_repeat_l2
//! ```

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burn::module::Param;
use burn::nn::Linear;
use burn::optim::GradientsParams;
use burn::prelude::*;
use clap::Parser;
use lab_imdb_regularization::data::{self, NUM_WORDS, ReviewBatcher, Reviews};
use lab_imdb_regularization::model::{Classifier, ModelKind};
use shared::datasets::{DataSource, data_dir};
use shared::lab::OptimizerConfig;
use shared::rng::Rng;
use shared::train::{Batcher, Metric, Supervised};

#[derive(Debug, Parser)]
struct Args {
    /// `l2` or `medium` (or any model of the lab)
    #[arg(long, default_value = "l2")]
    model: String,
    #[arg(long, default_value_t = 3)]
    epochs: usize,
    #[arg(long, default_value_t = 512)]
    batch_size: usize,
    /// Split, shuffling and initial weights, as the lab's `--seed`.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Start from these weights (a file laid out as `init_<model>.bin`) instead of the
    /// seeded ones.
    #[arg(long)]
    init: Option<PathBuf>,
    /// Steps after which the weights are written (each epoch's end is written too).
    #[arg(long, value_delimiter = ',', default_value = "1,2,3,10,40,100")]
    dump: Vec<usize>,
    #[arg(long, default_value = "/tmp/l2parity")]
    out: PathBuf,
    /// Name of this run's output files (default: burn_<model>).
    #[arg(long)]
    tag: Option<String>,
    /// Every epoch in the first epoch's order (what Keras 3's `fit` on NumPy arrays does
    /// once a seed is set), instead of a new order each epoch.
    #[arg(long)]
    repeat_order: bool,
    /// Do not write train.txt, valid.txt and order.bin again.
    #[arg(long)]
    no_export: bool,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let kind = ModelKind::parse(&args.model)?;
    let name = kind.name().replace('+', "_");
    let tag = args.tag.clone().unwrap_or(format!("burn_{name}"));
    std::fs::create_dir_all(&args.out)?;

    // The lab's data, as `--full --seed <seed>` loads it.
    let source = DataSource::Full {
        data_dir: data_dir(None),
    };
    let splits = data::load(&source, NUM_WORDS, 0.2, args.seed, None)?;
    println!("{}", splits.describe());
    let n = splits.train.len();
    let orders: Vec<Vec<usize>> = (1..=args.epochs)
        .map(|epoch| {
            let epoch = if args.repeat_order { 1 } else { epoch };
            Rng::new(args.seed.wrapping_add(epoch as u64)).permutation(n)
        })
        .collect();
    if !args.no_export {
        write_reviews(&args.out.join("train.txt"), &splits.train)?;
        write_reviews(&args.out.join("valid.txt"), &splits.valid)?;
        // order.bin holds the lab's orders (a new one each epoch), which l2_parity.py checks.
        if !args.repeat_order {
            let flat: Vec<u32> = orders.iter().flatten().map(|&i| i as u32).collect();
            write_u32(&args.out.join("order.bin"), &flat)?;
        }
    }

    // The model as the lab builds it: the device seeded, then `init`.
    let device = Device::flex();
    device.seed(args.seed);
    let train_device = device.clone().autodiff();
    let mut model = kind.config(NUM_WORDS).init(&train_device);
    if let Some(path) = &args.init {
        model = load_weights(model, path, &train_device)?;
    }
    write_f32(&args.out.join(format!("init_{name}.bin")), &weights(&model))?;

    let train = ReviewBatcher::new(splits.train.clone(), NUM_WORDS);
    let valid = ReviewBatcher::new(splits.valid.clone(), NUM_WORDS);
    let mut optimizer = OptimizerConfig::keras_adam().init();
    let lr = 1e-3;
    let l2 = model.l2;

    let mut steps_csv = String::from("step,epoch,items,loss,cross_entropy,penalty,accuracy\n");
    let mut epochs_csv = String::from(
        "epoch,train_loss,train_cross_entropy,train_accuracy,penalty,sumsq_hidden1,\
         sumsq_hidden2,sumsq_output,val_cross_entropy,val_accuracy\n",
    );
    let mut step = 0;
    for (e, order) in orders.iter().enumerate() {
        let epoch = e + 1;
        let (mut loss_sum, mut ce_sum, mut right, mut items) = (0.0, 0.0, 0.0, 0);
        for chunk in order.chunks(args.batch_size) {
            let batch = train.batch(chunk, &train_device);
            let labels = shared::floats(batch.labels.clone());
            let penalty = model.l2_penalty().map_or(0.0, scalar);
            let output = model.forward_step(batch);
            let logits = shared::floats(output.output.clone());
            let loss = scalar(output.loss.clone());
            let grads = GradientsParams::from_grads(output.loss.backward(), &model);
            model = optimizer.step(lr, model, grads);
            step += 1;

            let hits = logits
                .iter()
                .zip(&labels)
                .filter(|&(&x, &y)| (x > 0.0) == (y > 0.5))
                .count() as f64;
            let m = chunk.len() as f64;
            loss_sum += loss * m;
            ce_sum += (loss - penalty) * m;
            right += hits;
            items += chunk.len();
            writeln!(
                steps_csv,
                "{step},{epoch},{},{loss:.8},{:.8},{penalty:.8},{:.6}",
                chunk.len(),
                loss - penalty,
                hits / m
            )?;
            if args.dump.contains(&step) {
                write_f32(
                    &args.out.join(format!("{tag}_step{step}.bin")),
                    &weights(&model),
                )?;
            }
        }
        write_f32(
            &args.out.join(format!("{tag}_step{step}.bin")),
            &weights(&model),
        )?;
        let sums = [&model.hidden1, &model.hidden2, &model.output].map(sum_of_squares);
        let penalty = l2 * (sums[0] + sums[1]);
        let eval = shared::train::evaluate(&model, &valid, 1000, &train_device);
        let (n_items, val_ce, val_acc) = (
            items as f64,
            eval.loss() - penalty,
            eval.get(Metric::Accuracy),
        );
        writeln!(
            epochs_csv,
            "{epoch},{:.6},{:.6},{:.6},{penalty:.6},{:.4},{:.4},{:.4},{val_ce:.6},{val_acc:.6}",
            loss_sum / n_items,
            ce_sum / n_items,
            right / n_items,
            sums[0],
            sums[1],
            sums[2],
        )?;
        println!(
            "epoch {epoch:>2} (step {step}): train ce {:.4} acc {:.2}%, penalty {penalty:.4} \
             (Σw² h1 {:.2}, h2 {:.2}), valid ce {val_ce:.4} acc {:.2}%",
            ce_sum / n_items,
            100.0 * right / n_items,
            sums[0],
            sums[1],
            100.0 * val_acc
        );
    }
    std::fs::write(args.out.join(format!("{tag}_steps.csv")), steps_csv)?;
    std::fs::write(args.out.join(format!("{tag}_epochs.csv")), epochs_csv)?;
    println!("written to {}", args.out.display());
    Ok(())
}

fn scalar(value: Tensor<1>) -> f64 {
    value.into_scalar::<f32>() as f64
}

fn sum_of_squares(layer: &Linear) -> f64 {
    scalar(layer.weight.val().powi_scalar(2).sum())
}

/// hidden1 w b, hidden2 w b, output w b, each row-major; kernels are `[in, out]`.
fn weights(model: &Classifier) -> Vec<f32> {
    let mut all = Vec::new();
    for layer in [&model.hidden1, &model.hidden2, &model.output] {
        all.extend(shared::floats(layer.weight.val()));
        if let Some(bias) = &layer.bias {
            all.extend(shared::floats(bias.val()));
        }
    }
    all
}

fn load_weights(mut model: Classifier, path: &Path, device: &Device) -> Result<Classifier> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let values: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let mut at = 0;
    let mut take = |len: usize| {
        let slice = values[at..at + len].to_vec();
        at += len;
        slice
    };
    for layer in [&mut model.hidden1, &mut model.hidden2, &mut model.output] {
        let [inputs, outputs] = layer.weight.dims();
        layer.weight = Param::from_tensor(Tensor::from_data(
            TensorData::new(take(inputs * outputs), [inputs, outputs]),
            device,
        ));
        layer.bias = Some(Param::from_tensor(Tensor::from_data(
            TensorData::new(take(outputs), [outputs]),
            device,
        )));
    }
    anyhow::ensure!(at == values.len(), "{}: wrong size", path.display());
    Ok(model)
}

fn write_reviews(path: &Path, reviews: &Reviews) -> Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for (words, label) in reviews.words.iter().zip(&reviews.labels) {
        let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        writeln!(out, "{label} {}", words.join(" "))?;
    }
    Ok(())
}

fn write_f32(path: &Path, values: &[f32]) -> Result<()> {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    Ok(std::fs::write(path, bytes)?)
}

fn write_u32(path: &Path, values: &[u32]) -> Result<()> {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    Ok(std::fs::write(path, bytes)?)
}
