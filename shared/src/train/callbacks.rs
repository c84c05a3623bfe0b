//! Callbacks: code that [`fit`](fn@super::fit) calls at fixed points of training, as Keras's
//! callbacks do ("a callback changes what Keras does during training"). A callback can
//! watch (the progress bar, the history file), save (a checkpoint of the best model), or end
//! training (early stopping).
//!
//! ```text
//! for each epoch:   on_epoch_begin → (a batch, on_batch_end)* → validation → on_epoch_end
//! at the end:       on_train_end   (early stopping puts the best weights back here)
//! ```

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use burn::config::Config;
use burn::module::Module;
use indicatif::{ProgressBar, ProgressStyle};

use super::history::{EpochRecord, History, Monitor};
use super::task::Metric;

/// What a callback tells the training loop after an epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Continue,
    Stop,
}

/// Called by [`fit`](fn@super::fit) during training. Every method has a default that does
/// nothing, so a callback implements only what it needs.
pub trait Callback<M> {
    /// Before the first batch of `epoch` (of `epochs`), which has `steps` batches.
    fn on_epoch_begin(&mut self, _epoch: usize, _epochs: usize, _steps: usize) {}

    /// After each batch; `running` is the epoch's mean so far of each metric, given about
    /// four times a second (reading it back makes the device wait).
    fn on_batch_end(&mut self, _running: Option<&[(Metric, f64)]>) {}

    /// After the epoch's validation; the new epoch is `history.last()`. Returning
    /// [`Control::Stop`] ends training after this epoch.
    fn on_epoch_end(&mut self, _model: &M, _history: &History) -> Result<Control> {
        Ok(Control::Continue)
    }

    /// After the last epoch. A callback that puts other weights into `model` (early
    /// stopping's best epoch) returns the epoch they come from.
    fn on_train_end(&mut self, _model: &mut M, _history: &History) -> Result<Option<usize>> {
        Ok(None)
    }
}

/// Keras's `EarlyStopping` settings, saved in a run's `config.json`.
#[derive(Config, Debug, PartialEq)]
pub struct EarlyStoppingConfig {
    /// What to watch, as Keras names it: `val_loss`, `val_accuracy`, `val_mae`, …
    #[config(default = "String::from(\"val_loss\")")]
    pub monitor: String,
    /// Epochs without improvement before training stops.
    #[config(default = 10)]
    pub patience: usize,
    /// The smallest change that counts as an improvement.
    #[config(default = 0.0)]
    pub min_delta: f64,
    /// End with the weights of the best epoch rather than those of the last one.
    #[config(default = true)]
    pub restore_best: bool,
}

/// Keras's `EarlyStopping(monitor, patience, min_delta, restore_best_weights)`: stops when
/// the monitored value has not improved for `patience` epochs, and can put back the best
/// epoch's weights.
pub struct EarlyStopping<M> {
    pub config: EarlyStoppingConfig,
    monitor: Monitor,
    best: Option<(usize, M)>,
    /// Where the best weights are kept on disk, so that a resumed run can still restore them.
    best_file: Option<PathBuf>,
    /// The epoch training stopped at, if this callback stopped it.
    pub stopped_epoch: Option<usize>,
}

impl<M: Module + Clone> EarlyStopping<M> {
    /// Fails for a monitor name that is no metric.
    pub fn new(config: EarlyStoppingConfig) -> Result<Self> {
        let monitor = Monitor::parse(&config.monitor)?;
        Ok(EarlyStopping {
            config,
            monitor,
            best: None,
            best_file: None,
            stopped_epoch: None,
        })
    }

    /// Keeps the best weights in this file too (a resumed run restores them from there).
    pub fn keep_best_in(mut self, path: PathBuf) -> Self {
        self.best_file = Some(path);
        self
    }

    /// The last epoch that improved on every earlier one by more than `min_delta`.
    pub fn best_epoch(&self, history: &History) -> Option<usize> {
        let mut best: Option<(usize, f64)> = None;
        for record in &history.epochs {
            let score = self.monitor.score(record);
            if best.is_none_or(|(_, b)| score < b - self.config.min_delta) {
                best = Some((record.epoch, score));
            }
        }
        best.map(|(epoch, _)| epoch)
    }
}

impl<M: Module + Clone> Callback<M> for EarlyStopping<M> {
    fn on_epoch_end(&mut self, model: &M, history: &History) -> Result<Control> {
        let (Some(last), Some(best)) = (history.last(), self.best_epoch(history)) else {
            return Ok(Control::Continue);
        };
        anyhow::ensure!(
            !last.get(&self.monitor.name()).is_nan(),
            "early stopping watches {}, which this model does not record (it records {})",
            self.monitor.name(),
            history.columns().join(", ")
        );
        if best == last.epoch && self.config.restore_best {
            self.best = Some((last.epoch, model.clone()));
            if let Some(path) = &self.best_file {
                save_model_atomic(model, path)?;
            }
        }
        if last.epoch - best >= self.config.patience {
            println!(
                "early stopping: no improvement of {} for {} epochs (best: epoch {best})",
                self.monitor.name(),
                self.config.patience
            );
            self.stopped_epoch = Some(last.epoch);
            return Ok(Control::Stop);
        }
        Ok(Control::Continue)
    }

    fn on_train_end(&mut self, model: &mut M, history: &History) -> Result<Option<usize>> {
        let Some(best_epoch) = self.best_epoch(history) else {
            return Ok(None);
        };
        if !self.config.restore_best || Some(best_epoch) == history.last().map(|r| r.epoch) {
            return Ok(None);
        }
        match (self.best.take(), &self.best_file) {
            (Some((epoch, best)), _) if epoch == best_epoch => {
                *model = best;
                Ok(Some(epoch))
            }
            // A resumed run: the best epoch came before this process; its weights are on disk.
            (_, Some(path)) if path.exists() => {
                *model = model
                    .clone()
                    .try_load_file(path)
                    .with_context(|| format!("loading the best weights from {}", path.display()))?;
                Ok(Some(best_epoch))
            }
            _ => Ok(None),
        }
    }
}

/// When [`ModelCheckpoint`] writes.
#[derive(Debug, Clone, PartialEq)]
pub enum SaveWhen {
    /// After every epoch, to its own file (the name says which epoch).
    EveryEpoch,
    /// Only when the monitored value is the best so far, always to the same file.
    BestOnly(Monitor),
}

type Writer<M> = Box<dyn Fn(&M, &Path) -> Result<()>>;

/// Keras's `ModelCheckpoint`: saves the model's weights during training, every epoch or
/// only the best one. Files are written beside their final name and renamed into place, so
/// an interrupted save never leaves half a file.
pub struct ModelCheckpoint<M> {
    when: SaveWhen,
    /// The file for an epoch: `epochs/weights-03.bpk`, or always `best.bpk`.
    path: Box<dyn Fn(usize) -> PathBuf>,
    write: Writer<M>,
    /// The epoch the last file written holds.
    pub saved_epoch: Option<usize>,
}

impl<M: Module + Clone + 'static> ModelCheckpoint<M> {
    /// A file per epoch, named by `path(epoch)`, in burnpack.
    pub fn every_epoch(path: impl Fn(usize) -> PathBuf + 'static) -> Self {
        ModelCheckpoint {
            when: SaveWhen::EveryEpoch,
            path: Box::new(path),
            write: Box::new(save_model_atomic),
            saved_epoch: None,
        }
    }

    /// One file, rewritten whenever `monitor` (`val_loss`, …) reaches a new best.
    pub fn best_only(path: PathBuf, monitor: &str) -> Result<Self> {
        Ok(ModelCheckpoint {
            when: SaveWhen::BestOnly(Monitor::parse(monitor)?),
            path: Box::new(move |_| path.clone()),
            write: Box::new(save_model_atomic),
            saved_epoch: None,
        })
    }

    /// Writes with `write` instead of burnpack (lab 3 writes Keras HDF5 files).
    pub fn with_writer(mut self, write: impl Fn(&M, &Path) -> Result<()> + 'static) -> Self {
        self.write = Box::new(write);
        self
    }
}

impl<M: Module + Clone + 'static> Callback<M> for ModelCheckpoint<M> {
    fn on_epoch_end(&mut self, model: &M, history: &History) -> Result<Control> {
        let Some(last) = history.last() else {
            return Ok(Control::Continue);
        };
        let save = match &self.when {
            SaveWhen::EveryEpoch => true,
            SaveWhen::BestOnly(monitor) => {
                history.best(*monitor).map(|r| r.epoch) == Some(last.epoch)
            }
        };
        if save {
            let path = (self.path)(last.epoch);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            (self.write)(model, &path)?;
            self.saved_epoch = Some(last.epoch);
        }
        Ok(Control::Continue)
    }
}

/// Calls a closure with the model and the new epoch's record after every epoch: to show
/// what the model does so far (lab 5 writes text with it).
pub struct EachEpoch<F>(pub F);

impl<M, F: FnMut(&M, &EpochRecord) -> Result<()>> Callback<M> for EachEpoch<F> {
    fn on_epoch_end(&mut self, model: &M, history: &History) -> Result<Control> {
        if let Some(last) = history.last() {
            (self.0)(model, last)?;
        }
        Ok(Control::Continue)
    }
}

/// The progress bar during an epoch and the line after it. [`fit`](fn@super::fit) always
/// installs one, as Keras's `fit` does with `verbose=1`; with `every` > 1 (a thousand epochs
/// of a small model) it shows only every `every`-th epoch, and the last.
pub struct ProgressPrinter {
    bar: Option<ProgressBar>,
    epochs: usize,
    every: usize,
}

impl ProgressPrinter {
    pub fn every(every: usize) -> Self {
        ProgressPrinter {
            bar: None,
            epochs: 0,
            every: every.max(1),
        }
    }

    fn shows(&self, epoch: usize) -> bool {
        epoch.is_multiple_of(self.every) || epoch == self.epochs || epoch == 1
    }
}

impl<M> Callback<M> for ProgressPrinter {
    fn on_epoch_begin(&mut self, epoch: usize, epochs: usize, steps: usize) {
        self.epochs = epochs;
        if !self.shows(epoch) {
            return;
        }
        let bar = ProgressBar::new(steps as u64);
        let style = ProgressStyle::with_template(&format!(
            "epoch {epoch:>2}/{epochs} [{{bar:30.green/white}}] {{pos}}/{{len}} {{msg}} ETA {{eta}}"
        ))
        .expect("static progress template")
        .progress_chars("=> ");
        bar.set_style(style);
        self.bar = Some(bar);
    }

    fn on_batch_end(&mut self, running: Option<&[(Metric, f64)]>) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
            if let Some(values) = running {
                let shown: Vec<String> = values.iter().map(|(m, v)| m.show(*v)).collect();
                bar.set_message(shown.join(" "));
            }
        }
    }

    fn on_epoch_end(&mut self, _model: &M, history: &History) -> Result<Control> {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if let Some(last) = history.last().filter(|r| self.shows(r.epoch)) {
            println!("{}", epoch_line(last, self.epochs, history));
        }
        Ok(Control::Continue)
    }
}

/// Writes `history.csv`/`history.json` into the run folder as training goes, so that an
/// interrupted run still has its curves: after an epoch when the last write is a second
/// old (rewriting the files after each of a thousand 1-ms epochs would take most of the
/// time), and at the end. [`fit`](fn@super::fit) installs it when there is a run folder.
pub struct HistoryWriter {
    pub dir: PathBuf,
    last_write: Option<Instant>,
}

impl HistoryWriter {
    pub fn new(dir: PathBuf) -> Self {
        HistoryWriter {
            dir,
            last_write: None,
        }
    }
}

impl<M> Callback<M> for HistoryWriter {
    fn on_epoch_end(&mut self, _model: &M, history: &History) -> Result<Control> {
        if self
            .last_write
            .is_none_or(|t| t.elapsed() > Duration::from_secs(1))
        {
            history.save(&self.dir)?;
            self.last_write = Some(Instant::now());
        }
        Ok(Control::Continue)
    }

    fn on_train_end(&mut self, _model: &mut M, history: &History) -> Result<Option<usize>> {
        history.save(&self.dir)?;
        Ok(None)
    }
}

/// Whether the progress bar should redraw now (at most four times a second).
pub(crate) struct Throttle(Instant);

impl Throttle {
    pub(crate) fn new() -> Self {
        Throttle(Instant::now())
    }

    pub(crate) fn ready(&mut self) -> bool {
        if self.0.elapsed() > Duration::from_millis(250) {
            self.0 = Instant::now();
            true
        } else {
            false
        }
    }
}

/// The line printed after each epoch:
/// `epoch  3/10  train loss 0.0712 acc 97.81%  valid loss 0.0690 acc 97.90%  4.1s (…)`.
pub fn epoch_line(r: &EpochRecord, epochs: usize, history: &History) -> String {
    let side = |valid: bool| -> String {
        history
            .metrics
            .iter()
            .map(|&m| m.show(if valid { r.valid(m) } else { r.train(m) }))
            .collect::<Vec<_>>()
            .join(" ")
    };
    format!(
        "epoch {:>2}/{epochs}  train {}  valid {}  {:.1}s ({:.0} samples/s)",
        r.epoch,
        side(false),
        side(true),
        r.seconds,
        r.samples_per_second
    )
}

/// Saves a model's weights (burnpack) through a temporary file and a rename.
pub fn save_model_atomic<M: Module + Clone>(model: &M, path: &Path) -> Result<()> {
    let mut tmp = path.as_os_str().to_os_string();
    tmp.push(".next.bpk");
    let tmp = PathBuf::from(tmp);
    model
        .clone()
        .save_file(&tmp)
        .with_context(|| format!("saving {}", path.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("saving {}", path.display()))
}
