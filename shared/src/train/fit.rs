//! The training loop every lab shares: [`fit`](fn@fit), [`evaluate`] and [`predict`].
//!
//! [`fit`](fn@fit) shuffles the training set each epoch (seeded), steps the optimiser batch by
//! batch, evaluates on the validation set, keeps every metric in a [`History`], writes a
//! checkpoint that `--resume` continues from, and calls the [callbacks](super::callbacks).

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::activation::{sigmoid, softmax};
use serde::{Deserialize, Serialize};

use super::callbacks::{Callback, Control, HistoryWriter, ProgressPrinter, Throttle};
use super::history::{EpochRecord, History};
use super::task::{Metric, StepOutput, Targets, Task};
use crate::rng::Rng;
use crate::run::RunDir;

/// A model that [`fit`](fn@fit) can train: it knows its batch type and its loss.
pub trait Supervised: Module + Clone {
    type Batch;
    fn forward_step(&self, batch: Self::Batch) -> StepOutput;
}

/// Builds batches for a model from the items of a dataset.
pub trait Batcher<B>: Sync {
    /// Number of items.
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The batch made of the items at `indices`, on `device`.
    fn batch(&self, indices: &[usize], device: &Device) -> B;
}

/// When the checkpoint that `--resume` needs (model and optimiser state) is written. For a
/// small model it costs nothing; for VGG-16 it is about a gigabyte each time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Checkpoints {
    /// After every epoch (an interrupted run continues from the last finished epoch).
    EveryEpoch,
    /// Once, after the last epoch (a finished run can be continued for more epochs).
    LastEpoch,
    /// Never (such a run cannot be resumed).
    Never,
}

impl burn::config::Config for Checkpoints {}

/// How [`fit`](fn@fit) trains: saved in every run's `config.json`.
#[derive(Config, Debug, PartialEq)]
pub struct FitConfig {
    /// Passes over the training set (counting those before a `--resume`).
    pub epochs: usize,
    pub batch_size: usize,
    /// Learning rate of the first epoch.
    pub lr: f64,
    /// Seed for the weights, the shuffling and the validation split.
    pub seed: u64,
    /// Each epoch's learning rate is the previous one times this (1.0: constant). Large
    /// steps early move fast; small steps late settle into a minimum instead of bouncing
    /// around it.
    #[config(default = 1.0)]
    pub lr_decay: f64,
    /// Items per batch when evaluating (no gradients are kept, so this can be larger than
    /// `batch_size`, unless the items are large images).
    #[config(default = 256)]
    pub valid_batch_size: usize,
    #[config(default = "Checkpoints::EveryEpoch")]
    pub checkpoints: Checkpoints,
    /// Print every epoch's line (1), or only every n-th and the last (a thousand epochs of a
    /// small model).
    #[config(default = 1)]
    pub print_every: usize,
}

impl FitConfig {
    /// The learning rate of an epoch (counted from 1).
    pub fn lr_at(&self, epoch: usize) -> f64 {
        self.lr * self.lr_decay.powi(epoch as i32 - 1)
    }

    /// Refuses settings that cannot train (a batch of 0, a negative learning rate), before
    /// any work is done.
    pub fn check(&self) -> Result<()> {
        if self.batch_size == 0 || self.valid_batch_size == 0 {
            bail!("the batch size must be at least 1");
        }
        if !(self.lr.is_finite() && self.lr >= 0.0) {
            bail!(
                "the learning rate must be a number ≥ 0 (0 only to watch a model not learn), \
                 not {}",
                self.lr
            );
        }
        if !(self.lr_decay.is_finite() && self.lr_decay > 0.0) {
            bail!(
                "--lr-decay multiplies the learning rate after every epoch: it must be a number \
                 > 0 (1 keeps the rate constant), not {}",
                self.lr_decay
            );
        }
        Ok(())
    }
}

/// Loss and metrics of one pass over a dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub task: Task,
    /// Mean of each of the task's metrics, loss first.
    pub values: Vec<(Metric, f64)>,
    pub items: usize,
}

impl Evaluation {
    /// One metric's mean (NaN if this task does not measure it).
    pub fn get(&self, metric: Metric) -> f64 {
        self.values
            .iter()
            .find(|(m, _)| *m == metric)
            .map_or(f64::NAN, |(_, v)| *v)
    }

    pub fn loss(&self) -> f64 {
        self.get(Metric::Loss)
    }

    /// `loss 0.0345, accuracy 98.90%` / `loss 7.21, mae 1.9234, mse 7.2100`.
    pub fn describe(&self) -> String {
        self.values
            .iter()
            .map(|(m, v)| match m {
                Metric::Accuracy => format!("accuracy {:.2}%", 100.0 * v),
                _ => format!("{m} {v:.4}"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Sums of each metric over the batches seen so far, kept as tensors on the device so that
/// a step does not wait for the numbers to be copied back (which costs little on a CPU but
/// stalls a GPU).
struct Accumulator {
    task: Option<Task>,
    sums: Vec<Tensor<1>>,
    items: usize,
}

impl Accumulator {
    fn new() -> Self {
        Accumulator {
            task: None,
            sums: Vec::new(),
            items: 0,
        }
    }

    fn add(&mut self, output: &StepOutput, items: usize) {
        let sums = output.metric_sums(items);
        self.task = Some(output.task());
        self.sums = if self.sums.is_empty() {
            sums
        } else {
            std::mem::take(&mut self.sums)
                .into_iter()
                .zip(sums)
                .map(|(a, b)| a + b)
                .collect()
        };
        self.items += items;
    }

    /// Copies the sums back and returns the means.
    fn read(&self) -> Evaluation {
        let task = self.task.unwrap_or(Task::MultiClass);
        let values = task
            .metrics()
            .iter()
            .zip(&self.sums)
            .map(|(&metric, sum)| {
                let sum = sum.clone().into_scalar::<f32>() as f64;
                (metric, sum / self.items.max(1) as f64)
            })
            .collect();
        Evaluation {
            task,
            values,
            items: self.items,
        }
    }
}

/// Mean loss and metrics of `model` over all items of `data`, in batches, without gradients.
pub fn evaluate<M: Supervised, B: Batcher<M::Batch>>(
    model: &M,
    data: &B,
    batch_size: usize,
    device: &Device,
) -> Evaluation {
    let model = model.valid();
    let device = device.clone().without_autodiff();
    let mut acc = Accumulator::new();
    let indices: Vec<usize> = (0..data.len()).collect();
    for chunk in indices.chunks(batch_size.max(1)) {
        let output = model.forward_step(data.batch(chunk, &device));
        acc.add(&output, chunk.len());
    }
    acc.read()
}

/// What the model said about one item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// The item's index in the dataset.
    pub index: usize,
    pub output: Predicted,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Predicted {
    /// Multi-class or binary: the most probable class and every class's probability (for a
    /// binary model `[1 − p, p]`, so class 1 is "positive").
    Class {
        target: usize,
        predicted: usize,
        probabilities: Vec<f32>,
    },
    /// Regression: the predicted values against the true ones.
    Values {
        target: Vec<f32>,
        predicted: Vec<f32>,
    },
}

/// A classified item: the shape most labs want from [`predict_classes`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassPrediction {
    pub index: usize,
    pub target: usize,
    pub predicted: usize,
    /// Probability of the predicted class.
    pub confidence: f32,
    pub probabilities: Vec<f32>,
}

/// Runs the model over every item of `data` (in order) and says what it predicts: classes
/// with their probabilities for a classifier, values for a regression model.
pub fn predict<M: Supervised, B: Batcher<M::Batch>>(
    model: &M,
    data: &B,
    batch_size: usize,
    device: &Device,
) -> Vec<Prediction> {
    let model = model.valid();
    let device = device.clone().without_autodiff();
    let indices: Vec<usize> = (0..data.len()).collect();
    let mut predictions = Vec::with_capacity(data.len());
    for chunk in indices.chunks(batch_size.max(1)) {
        let output = model.forward_step(data.batch(chunk, &device));
        let rows: Vec<Predicted> = match output.targets {
            Targets::Classes(targets) => classes(softmax(output.output, 1), &crate::ints(targets)),
            Targets::Binary(labels) => {
                let p = sigmoid(output.output); // [n, 1]
                let probabilities = Tensor::cat(vec![p.clone().neg() + 1.0, p], 1);
                let targets: Vec<i64> = crate::floats(labels)
                    .iter()
                    .map(|&y| i64::from(y > 0.5))
                    .collect();
                classes(probabilities, &targets)
            }
            Targets::Values(values) => {
                let columns = output.output.dims()[1];
                let predicted = crate::floats(output.output);
                let target = crate::floats(values);
                predicted
                    .chunks(columns)
                    .zip(target.chunks(columns))
                    .map(|(p, t)| Predicted::Values {
                        target: t.to_vec(),
                        predicted: p.to_vec(),
                    })
                    .collect()
            }
        };
        predictions.extend(
            chunk
                .iter()
                .zip(rows)
                .map(|(&index, output)| Prediction { index, output }),
        );
    }
    predictions
}

/// Rows of probabilities `[n, classes]` and the true classes → one [`Predicted::Class`] each.
fn classes(probabilities: Tensor<2>, targets: &[i64]) -> Vec<Predicted> {
    let [_, width] = probabilities.dims();
    crate::floats(probabilities)
        .chunks(width)
        .zip(targets)
        .map(|(p, &target)| {
            let predicted = p
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(i, _)| i);
            Predicted::Class {
                target: target as usize,
                predicted,
                probabilities: p.to_vec(),
            }
        })
        .collect()
}

/// [`predict`] for a classifier (multi-class or binary); an error for a regression model.
pub fn predict_classes<M: Supervised, B: Batcher<M::Batch>>(
    model: &M,
    data: &B,
    batch_size: usize,
    device: &Device,
) -> Result<Vec<ClassPrediction>> {
    predict(model, data, batch_size, device)
        .into_iter()
        .map(|p| match p.output {
            Predicted::Class {
                target,
                predicted,
                probabilities,
            } => Ok(ClassPrediction {
                index: p.index,
                target,
                predicted,
                confidence: probabilities.get(predicted).copied().unwrap_or(0.0),
                probabilities,
            }),
            Predicted::Values { .. } => {
                bail!("this is a regression model: it predicts values, not classes (use predict)")
            }
        })
        .collect()
}

/// `matrix[true class][predicted class]` = count.
pub fn confusion_matrix(predictions: &[ClassPrediction], classes: usize) -> Vec<Vec<usize>> {
    let mut matrix = vec![vec![0; classes]; classes];
    for p in predictions {
        if p.target < classes && p.predicted < classes {
            matrix[p.target][p.predicted] += 1;
        }
    }
    matrix
}

/// Where the checkpoint for `--resume` lives inside a run folder.
pub const CHECKPOINT_DIR: &str = "checkpoint";

/// A model ready to be trained: its weights, its optimiser's state, the history so far (empty
/// for a new run), the device and, where there is one, the run folder that receives the
/// history and checkpoints.
pub struct Training<M> {
    pub model: M,
    pub optimizer: ModuleOptimizer,
    pub history: Option<History>,
    /// The training device (with autodiff); the model lives on it.
    pub device: Device,
    pub run: Option<RunDir>,
}

impl<M: Module> Training<M> {
    /// A new training, from the model's current weights.
    pub fn new(model: M, optimizer: ModuleOptimizer, device: &Device) -> Self {
        Training {
            model,
            optimizer,
            history: None,
            device: device.clone(),
            run: None,
        }
    }

    /// Writes the history and checkpoints into `run`.
    pub fn in_run(mut self, run: &RunDir) -> Self {
        self.run = Some(run.clone());
        self
    }

    /// Continues a run from its checkpoint: model, optimiser state and history.
    pub fn resume(mut self, run: &RunDir) -> Result<Self> {
        let dir = run.path.join(CHECKPOINT_DIR);
        let history_path = dir.join("history.json");
        if !history_path.exists() {
            bail!(
                "{} has no checkpoint to resume from (expected {}; a run saves one unless it \
                 was started with checkpoints \"never\")",
                run.path.display(),
                history_path.display()
            );
        }
        self.history = Some(History::load(&history_path)?);
        self.model = self
            .model
            .try_load_file(dir.join("model.bpk"))
            .with_context(|| format!("loading the model checkpoint in {}", dir.display()))?;
        self.optimizer = self
            .optimizer
            .load(dir.join("optimizer.bpk"))
            .with_context(|| format!("loading the optimiser checkpoint in {}", dir.display()))?;
        self.run = Some(run.clone());
        Ok(self)
    }
}

/// What [`fit`](fn@fit) hands back.
pub struct Fitted<M> {
    /// The trained model: the last epoch's, or the one a callback put back (early
    /// stopping's best epoch).
    pub model: M,
    pub history: History,
    /// The epoch a callback stopped training at, if one did.
    pub stopped_early: Option<usize>,
    /// The epoch whose weights `model` holds (0: no epoch was trained).
    pub model_epoch: usize,
    /// Seconds spent in this call (training, validation, callbacks).
    pub seconds: f64,
}

/// Trains until `config.epochs` epochs are done (counting those of a resumed history), or a
/// callback stops it.
pub fn fit<M: Supervised, B: Batcher<M::Batch>>(
    training: Training<M>,
    train: &B,
    valid: &B,
    config: &FitConfig,
    callbacks: &mut [&mut dyn Callback<M>],
) -> Result<Fitted<M>> {
    config.check()?;
    anyhow::ensure!(!train.is_empty(), "the training set is empty");
    anyhow::ensure!(!valid.is_empty(), "the validation set is empty");
    let started = Instant::now();
    let Training {
        mut model,
        mut optimizer,
        history,
        device,
        run,
    } = training;
    let mut history = history.unwrap_or_else(|| History::new(Task::MultiClass));
    let resumed = !history.epochs.is_empty();
    if resumed {
        println!("resuming after epoch {}", history.epochs.len());
    }
    // Keras's fit always adds the progress bar and the History; so does this one.
    let mut printer = ProgressPrinter::every(config.print_every);
    let mut writer = run.as_ref().map(|run| HistoryWriter::new(run.path.clone()));
    let mut all: Vec<&mut dyn Callback<M>> = vec![&mut printer];
    if let Some(writer) = writer.as_mut() {
        all.push(writer);
    }
    all.extend(callbacks.iter_mut().map(|c| &mut **c));

    let steps = train.len().div_ceil(config.batch_size);
    let mut stopped_early = None;
    for epoch in history.epochs.len() + 1..=config.epochs {
        let epoch_started = Instant::now();
        all.iter_mut()
            .for_each(|c| c.on_epoch_begin(epoch, config.epochs, steps));
        let order = Rng::new(config.seed.wrapping_add(epoch as u64)).permutation(train.len());
        let mut acc = Accumulator::new();
        let mut throttle = Throttle::new();
        let lr = config.lr_at(epoch);
        for chunk in order.chunks(config.batch_size) {
            let output = model.forward_step(train.batch(chunk, &device));
            acc.add(&output, chunk.len());
            let grads = GradientsParams::from_grads(output.loss.backward(), &model);
            model = optimizer.step(lr, model, grads);
            let running = throttle.ready().then(|| acc.read().values);
            all.iter_mut()
                .for_each(|c| c.on_batch_end(running.as_deref()));
        }
        let train_eval = acc.read();
        let train_seconds = epoch_started.elapsed().as_secs_f64();
        let valid_eval = evaluate(&model, valid, config.valid_batch_size, &device);

        if history.epochs.is_empty() {
            history = History::new(train_eval.task);
        }
        let mut values = std::collections::BTreeMap::new();
        for (metric, value) in &train_eval.values {
            values.insert(metric.name().to_string(), *value);
        }
        for (metric, value) in &valid_eval.values {
            values.insert(format!("val_{}", metric.name()), *value);
        }
        history.epochs.push(EpochRecord {
            epoch,
            values,
            lr,
            seconds: epoch_started.elapsed().as_secs_f64(),
            samples_per_second: train.len() as f64 / train_seconds,
        });
        if let (Some(run), Checkpoints::EveryEpoch) = (&run, config.checkpoints) {
            checkpoint(run, &model, &optimizer, &history)?;
        }
        let mut stop = false;
        for callback in all.iter_mut() {
            stop |= callback.on_epoch_end(&model, &history)? == Control::Stop;
        }
        if stop {
            stopped_early = Some(epoch);
            break;
        }
    }
    if let (Some(run), Checkpoints::LastEpoch) = (&run, config.checkpoints) {
        checkpoint(run, &model, &optimizer, &history)?;
    }
    let mut model_epoch = history.epochs.len();
    for callback in all.iter_mut() {
        if let Some(epoch) = callback.on_train_end(&mut model, &history)? {
            model_epoch = epoch;
        }
    }
    Ok(Fitted {
        model,
        history,
        stopped_early,
        model_epoch,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Saves model, optimiser and history so that `--resume` can continue after this epoch.
/// Each file is written beside its final name and renamed into place, so an interrupted
/// save never leaves a broken checkpoint.
fn checkpoint<M: Module>(
    run: &RunDir,
    model: &M,
    optimizer: &ModuleOptimizer,
    history: &History,
) -> Result<()> {
    let dir = run.path.join(CHECKPOINT_DIR);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let next = |name: &str| dir.join(format!("{name}.next.bpk"));
    model
        .clone()
        .save_file(next("model"))
        .context("saving the model checkpoint")?;
    optimizer
        .save(next("optimizer"))
        .context("saving the optimiser checkpoint")?;
    std::fs::rename(next("model"), dir.join("model.bpk"))?;
    std::fs::rename(next("optimizer"), dir.join("optimizer.bpk"))?;
    history.save(&dir)
}

/// The checkpoint folder of a run, if it has one.
pub fn checkpoint_dir(run: &Path) -> Option<std::path::PathBuf> {
    let dir = run.join(CHECKPOINT_DIR);
    dir.join("history.json").exists().then_some(dir)
}
