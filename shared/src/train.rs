//! The training loop every lab shares.
//!
//! A lab describes one step of its lesson by implementing [`Supervised`] (forward pass and
//! loss for a batch) and [`Batcher`] (how a batch is built from item indices). [`fit`] then
//! does the rest, the same way in every lab:
//!
//! * shuffles the training set each epoch (seeded), with a progress bar showing the live loss;
//! * evaluates on the validation set and prints one summary line per epoch;
//! * keeps the metric history and writes it as `history.csv` / `history.json`;
//! * checkpoints model, optimiser and history each epoch, and resumes from them;
//! * stops early when the validation loss (or metric) stops improving, if asked to.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::activation::softmax;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::rng::Rng;
use crate::run::RunDir;

/// What a batch is checked against.
pub enum Targets {
    /// Class indices, for classification (the metric is accuracy).
    Classes(Tensor<1, Int>),
    /// Real values, for regression (the metric is the mean absolute error).
    Values(Tensor<2>),
}

/// What one forward pass over a batch produced.
pub struct StepOutput {
    /// The mean loss over the batch.
    pub loss: Tensor<1>,
    /// Logits `[batch, classes]` or predictions `[batch, outputs]`.
    pub output: Tensor<2>,
    pub targets: Targets,
}

impl StepOutput {
    /// A classification step: class scores `[batch, classes]` against class indices, with
    /// the cross-entropy loss (softmax and the negative log-likelihood in one numerically
    /// stable step, like Keras's `from_logits=True`).
    pub fn classification(logits: Tensor<2>, targets: Tensor<1, Int>) -> StepOutput {
        let loss = burn::nn::loss::CrossEntropyLossConfig::new()
            .init(&logits.device())
            .forward(logits.clone(), targets.clone());
        StepOutput {
            loss,
            output: logits,
            targets: Targets::Classes(targets),
        }
    }
}

/// A model that can be trained by [`fit`]: it knows its batch type and its loss.
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

/// Which quantity early stopping and "best epoch" watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Monitor {
    ValidLoss,
    ValidMetric,
}

/// Keras's `EarlyStopping(monitor, patience, min_delta, restore_best_weights)`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct EarlyStopping {
    pub monitor: Monitor,
    /// Epochs without improvement before training stops.
    pub patience: usize,
    /// Smallest change that counts as an improvement.
    pub min_delta: f64,
    /// Return the weights of the best epoch rather than those of the last one.
    pub restore_best: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FitConfig {
    pub epochs: usize,
    pub batch_size: usize,
    /// Learning rate of the first epoch.
    pub lr: f64,
    /// Each epoch's learning rate is the previous one times this (1.0: constant). Large
    /// steps early move fast; small steps late settle into a minimum instead of bouncing
    /// around it.
    pub lr_decay: f64,
    pub seed: u64,
    pub early_stopping: Option<EarlyStopping>,
}

/// The metrics of one epoch.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct EpochRecord {
    pub epoch: usize,
    pub train_loss: f64,
    pub train_metric: f64,
    pub valid_loss: f64,
    pub valid_metric: f64,
    /// The learning rate used in this epoch.
    #[serde(default)]
    pub lr: f64,
    /// Wall time of the epoch (training and validation).
    pub seconds: f64,
    /// Training throughput.
    pub samples_per_second: f64,
}

/// Everything measured during a run, epoch by epoch.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct History {
    /// `accuracy` (classification) or `mae` (regression).
    pub metric: String,
    pub epochs: Vec<EpochRecord>,
}

impl History {
    pub fn higher_is_better(&self) -> bool {
        self.metric == "accuracy"
    }

    pub fn last(&self) -> Option<&EpochRecord> {
        self.epochs.last()
    }

    /// The value a monitor watches in one epoch, turned so that lower is always better.
    fn score(&self, record: &EpochRecord, monitor: Monitor) -> f64 {
        match monitor {
            Monitor::ValidLoss => record.valid_loss,
            Monitor::ValidMetric if self.higher_is_better() => -record.valid_metric,
            Monitor::ValidMetric => record.valid_metric,
        }
    }

    /// The epoch with the best monitored value.
    pub fn best(&self, monitor: Monitor) -> Option<&EpochRecord> {
        self.epochs
            .iter()
            .min_by(|a, b| self.score(a, monitor).total_cmp(&self.score(b, monitor)))
    }

    pub fn to_csv(&self) -> String {
        let m = &self.metric;
        let mut csv = format!(
            "epoch,train_loss,train_{m},valid_loss,valid_{m},lr,seconds,samples_per_second\n"
        );
        for r in &self.epochs {
            csv += &format!(
                "{},{:.6},{:.6},{:.6},{:.6},{:.3e},{:.3},{:.1}\n",
                r.epoch,
                r.train_loss,
                r.train_metric,
                r.valid_loss,
                r.valid_metric,
                r.lr,
                r.seconds,
                r.samples_per_second
            );
        }
        csv
    }

    /// Writes `history.csv` and `history.json` into `dir`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        crate::run::write_atomic(&dir.join("history.csv"), self.to_csv().as_bytes())?;
        crate::run::write_atomic(
            &dir.join("history.json"),
            serde_json::to_string_pretty(self)?.as_bytes(),
        )
    }

    pub fn load(path: &Path) -> Result<History> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not a history file", path.display()))
    }
}

/// Loss and metric of one pass over a dataset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    pub loss: f64,
    /// Accuracy in [0, 1], or the mean absolute error.
    pub metric: f64,
    pub items: usize,
}

/// Sums of loss and metric, kept as tensors on the device so that a step does not wait for
/// the numbers to be copied back (which costs little on a CPU but stalls a GPU).
struct Accumulator {
    loss_sum: Option<Tensor<1>>,
    metric_sum: Option<Tensor<1>>,
    items: usize,
    metric: &'static str,
}

impl Accumulator {
    fn new() -> Self {
        Accumulator {
            loss_sum: None,
            metric_sum: None,
            items: 0,
            metric: "accuracy",
        }
    }

    fn add(&mut self, output: &StepOutput, items: usize) {
        let loss = output.loss.clone().without_autodiff() * items as f32;
        let metric = match &output.targets {
            Targets::Classes(classes) => {
                self.metric = "accuracy";
                let predicted = output
                    .output
                    .clone()
                    .without_autodiff()
                    .argmax(1)
                    .squeeze_dim::<1>(1);
                predicted
                    .equal(classes.clone().without_autodiff())
                    .float()
                    .sum()
            }
            Targets::Values(values) => {
                self.metric = "mae";
                let output = output.output.clone().without_autodiff();
                let outputs = output.dims()[1] as f32;
                (output - values.clone().without_autodiff()).abs().sum() / outputs
            }
        };
        self.loss_sum = Some(match self.loss_sum.take() {
            Some(sum) => sum + loss,
            None => loss,
        });
        self.metric_sum = Some(match self.metric_sum.take() {
            Some(sum) => sum + metric,
            None => metric,
        });
        self.items += items;
    }

    /// Copies the sums back and returns the means.
    fn read(&self) -> Evaluation {
        let mean = |sum: &Option<Tensor<1>>| match sum {
            Some(sum) if self.items > 0 => {
                sum.clone().into_scalar::<f32>() as f64 / self.items as f64
            }
            _ => f64::NAN,
        };
        Evaluation {
            loss: mean(&self.loss_sum),
            metric: mean(&self.metric_sum),
            items: self.items,
        }
    }
}

/// Mean loss and metric of `model` over all items of `data`, in batches, without gradients.
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
    let mut evaluation = acc.read();
    evaluation.items = data.len();
    evaluation
}

/// One classified item.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Prediction {
    pub index: usize,
    pub target: usize,
    pub predicted: usize,
    /// Softmax probability of the predicted class.
    pub confidence: f32,
}

/// Classifies every item of `data` (in order).
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
        let Targets::Classes(targets) = output.targets else {
            panic!("predict() is for classifiers: this model's targets are not classes");
        };
        let probabilities = softmax(output.output, 1);
        let [n, classes] = probabilities.dims();
        let probabilities = crate::floats(probabilities);
        let targets: Vec<i64> = targets
            .into_data()
            .convert::<i64>()
            .try_to_vec::<i64>()
            .unwrap_or_default();
        for row in 0..n {
            let p = &probabilities[row * classes..(row + 1) * classes];
            let (predicted, confidence) = p
                .iter()
                .copied()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .unwrap_or((0, 0.0));
            predictions.push(Prediction {
                index: chunk[row],
                target: targets[row] as usize,
                predicted,
                confidence,
            });
        }
    }
    predictions
}

/// `matrix[true class][predicted class]` = count.
pub fn confusion_matrix(predictions: &[Prediction], classes: usize) -> Vec<Vec<usize>> {
    let mut matrix = vec![vec![0; classes]; classes];
    for p in predictions {
        if p.target < classes && p.predicted < classes {
            matrix[p.target][p.predicted] += 1;
        }
    }
    matrix
}

/// What [`fit`] hands back.
pub struct Fitted<M> {
    /// The trained model: the best epoch's if early stopping restores it, else the last one's.
    pub model: M,
    pub history: History,
    /// The epoch training stopped at, if early stopping ended it.
    pub stopped_early: Option<usize>,
    /// The epoch whose weights `model` holds.
    pub model_epoch: usize,
}

/// Where checkpoints live inside a run folder.
pub const CHECKPOINT_DIR: &str = "checkpoint";

/// Restores model, optimiser and history from the checkpoint of a run folder, so that
/// [`fit`] continues with the next epoch.
pub fn resume<M: Module>(
    run_dir: &Path,
    model: M,
    optimizer: ModuleOptimizer,
) -> Result<(M, ModuleOptimizer, History)> {
    let dir = run_dir.join(CHECKPOINT_DIR);
    let history_path = dir.join("history.json");
    if !history_path.exists() {
        anyhow::bail!(
            "{} has no checkpoint to resume from (expected {})",
            run_dir.display(),
            history_path.display()
        );
    }
    let history = History::load(&history_path)?;
    let model = model
        .try_load_file(dir.join("model.bpk"))
        .with_context(|| format!("loading the model checkpoint in {}", dir.display()))?;
    let optimizer = optimizer
        .load(dir.join("optimizer.bpk"))
        .with_context(|| format!("loading the optimiser checkpoint in {}", dir.display()))?;
    Ok((model, optimizer, history))
}

/// Trains `model` for `config.epochs` epochs (counting those of a resumed `history`).
///
/// `device` is the training device (with autodiff); the model must live on it. When `run` is
/// given, the history and a checkpoint are written there after every epoch.
#[allow(clippy::too_many_arguments)]
pub fn fit<M: Supervised, B: Batcher<M::Batch>>(
    model: M,
    optimizer: ModuleOptimizer,
    train: &B,
    valid: &B,
    config: &FitConfig,
    device: &Device,
    run: Option<&RunDir>,
    history: History,
) -> Result<Fitted<M>> {
    let mut nothing = |_: &M, _: &EpochRecord| Ok(());
    fit_observed(
        model,
        optimizer,
        train,
        valid,
        config,
        device,
        run,
        history,
        &mut nothing,
    )
}

/// [`fit`], calling `observer` with the model and the metrics after each epoch (after the
/// epoch's line is printed and its checkpoint written): to show what the model does so far.
#[allow(clippy::too_many_arguments)]
pub fn fit_observed<M: Supervised, B: Batcher<M::Batch>>(
    mut model: M,
    mut optimizer: ModuleOptimizer,
    train: &B,
    valid: &B,
    config: &FitConfig,
    device: &Device,
    run: Option<&RunDir>,
    mut history: History,
    observer: &mut dyn FnMut(&M, &EpochRecord) -> Result<()>,
) -> Result<Fitted<M>> {
    anyhow::ensure!(!train.is_empty(), "the training set is empty");
    anyhow::ensure!(!valid.is_empty(), "the validation set is empty");
    let batch_size = config.batch_size.max(1);
    let steps = train.len().div_ceil(batch_size);
    let first_epoch = history.epochs.len() + 1;
    let mut best_model: Option<(usize, M)> = None;
    let mut stopped_early = None;
    if first_epoch > 1 {
        println!("resuming after epoch {}", first_epoch - 1);
    }

    for epoch in first_epoch..=config.epochs {
        let started = Instant::now();
        let order = Rng::new(config.seed.wrapping_add(epoch as u64)).permutation(train.len());
        let bar = epoch_bar(epoch, config.epochs, steps as u64);
        let mut acc = Accumulator::new();
        let mut last_refresh = Instant::now();
        let lr = config.lr * config.lr_decay.powi(epoch as i32 - 1);
        for chunk in order.chunks(batch_size) {
            let output = model.forward_step(train.batch(chunk, device));
            acc.add(&output, chunk.len());
            let grads = GradientsParams::from_grads(output.loss.backward(), &model);
            model = optimizer.step(lr, model, grads);
            bar.inc(1);
            if last_refresh.elapsed() > Duration::from_millis(250) && !bar.is_hidden() {
                let so_far = acc.read();
                bar.set_message(format_metrics(
                    "loss",
                    so_far.loss,
                    acc.metric,
                    so_far.metric,
                ));
                last_refresh = Instant::now();
            }
        }
        let train_eval = acc.read();
        let train_seconds = started.elapsed().as_secs_f64();
        bar.finish_and_clear();
        history.metric = acc.metric.to_string();

        let valid_eval = evaluate(&model, valid, batch_size.max(256), device);
        let record = EpochRecord {
            epoch,
            train_loss: train_eval.loss,
            train_metric: train_eval.metric,
            valid_loss: valid_eval.loss,
            valid_metric: valid_eval.metric,
            lr,
            seconds: started.elapsed().as_secs_f64(),
            samples_per_second: train.len() as f64 / train_seconds,
        };
        history.epochs.push(record);
        println!("{}", epoch_line(&record, config.epochs, &history.metric));

        if let Some(run) = run {
            checkpoint(run, &model, &optimizer, &history)?;
        }
        observer(&model, &record)?;

        if let Some(rule) = config.early_stopping {
            // The same rule decides "improved" here and "no improvement for n epochs" below.
            let last_improvement = last_improvement(&history, rule);
            let improved = last_improvement == epoch;
            if improved && rule.restore_best {
                best_model = Some((epoch, model.clone()));
                if let Some(run) = run {
                    model
                        .clone()
                        .save_file(run.path.join(CHECKPOINT_DIR).join("best-model.bpk"))
                        .context("saving the best model")?;
                }
            }
            if epoch - last_improvement >= rule.patience {
                println!(
                    "early stopping: no improvement of the {} for {} epochs (best: epoch {})",
                    match rule.monitor {
                        Monitor::ValidLoss => "validation loss".to_string(),
                        Monitor::ValidMetric => format!("validation {}", history.metric),
                    },
                    rule.patience,
                    last_improvement
                );
                stopped_early = Some(epoch);
                break;
            }
        }
    }

    let last_epoch = history.epochs.len();
    let (model_epoch, model) = match (config.early_stopping, best_model) {
        (Some(rule), Some((epoch, best))) if rule.restore_best => (epoch, best),
        (Some(rule), None) if rule.restore_best => {
            // Resumed run: the best epoch may predate this process; its weights are on disk.
            let best_epoch = last_improvement(&history, rule);
            match run.map(|r| r.path.join(CHECKPOINT_DIR).join("best-model.bpk")) {
                Some(path) if best_epoch != last_epoch && path.exists() => (
                    best_epoch,
                    model
                        .try_load_file(path)
                        .context("loading the best model")?,
                ),
                _ => (last_epoch, model),
            }
        }
        _ => (last_epoch, model),
    };
    Ok(Fitted {
        model,
        history,
        stopped_early,
        model_epoch,
    })
}

/// The last epoch that improved on every earlier one by more than `min_delta`.
fn last_improvement(history: &History, rule: EarlyStopping) -> usize {
    let mut best = f64::INFINITY;
    let mut best_epoch = 0;
    for record in &history.epochs {
        let score = history.score(record, rule.monitor);
        if score < best - rule.min_delta || best_epoch == 0 {
            best = score;
            best_epoch = record.epoch;
        }
    }
    best_epoch
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
    model
        .clone()
        .save_file(dir.join("model.next.bpk"))
        .context("saving the model checkpoint")?;
    optimizer
        .save(dir.join("optimizer.next.bpk"))
        .context("saving the optimiser checkpoint")?;
    std::fs::rename(dir.join("model.next.bpk"), dir.join("model.bpk"))?;
    std::fs::rename(dir.join("optimizer.next.bpk"), dir.join("optimizer.bpk"))?;
    history.save(&dir)?;
    history.save(&run.path)
}

fn epoch_bar(epoch: usize, epochs: usize, steps: u64) -> ProgressBar {
    let bar = ProgressBar::new(steps);
    let style = ProgressStyle::with_template(&format!(
        "epoch {epoch:>2}/{epochs} [{{bar:30.green/white}}] {{pos}}/{{len}} {{msg}} ETA {{eta}}"
    ))
    .expect("static progress template")
    .progress_chars("=> ");
    bar.set_style(style);
    bar
}

fn format_metrics(loss_name: &str, loss: f64, metric: &str, value: f64) -> String {
    if metric == "accuracy" {
        format!("{loss_name} {loss:.4} acc {:.2}%", 100.0 * value)
    } else {
        format!("{loss_name} {loss:.4} {metric} {value:.4}")
    }
}

/// The line printed after each epoch.
pub fn epoch_line(r: &EpochRecord, epochs: usize, metric: &str) -> String {
    format!(
        "epoch {:>2}/{epochs}  train {}  valid {}  {:.1}s ({:.0} samples/s)",
        r.epoch,
        format_metrics("loss", r.train_loss, metric, r.train_metric),
        format_metrics("loss", r.valid_loss, metric, r.valid_metric),
        r.seconds,
        r.samples_per_second
    )
}
