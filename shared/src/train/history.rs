//! Everything measured during a run, epoch by epoch: Keras's `History`.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::task::{Direction, Metric, Task};

/// The metrics of one epoch, by Keras's names: `loss`, `accuracy` (training) and
/// `val_loss`, `val_accuracy` (validation); `mae`, `mse`, `val_mae`, `val_mse` for regression.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EpochRecord {
    pub epoch: usize,
    pub values: BTreeMap<String, f64>,
    /// The learning rate used in this epoch.
    pub lr: f64,
    /// Wall time of the epoch (training and validation).
    pub seconds: f64,
    /// Training throughput.
    pub samples_per_second: f64,
}

impl EpochRecord {
    /// A value by name (`"val_loss"`); NaN if this epoch did not record it.
    pub fn get(&self, name: &str) -> f64 {
        self.values.get(name).copied().unwrap_or(f64::NAN)
    }

    /// A metric on the training data.
    pub fn train(&self, metric: Metric) -> f64 {
        self.get(metric.name())
    }

    /// A metric on the validation data.
    pub fn valid(&self, metric: Metric) -> f64 {
        self.get(&format!("val_{}", metric.name()))
    }
}

/// What a monitor (early stopping, a best-only checkpoint) watches: a metric, on the
/// training or the validation data. Written as Keras writes it: `val_loss`, `accuracy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Monitor {
    pub metric: Metric,
    pub validation: bool,
}

impl Monitor {
    pub fn parse(name: &str) -> Result<Monitor> {
        let (validation, metric) = match name.strip_prefix("val_") {
            Some(rest) => (true, rest),
            None => (false, name),
        };
        match Metric::from_name(metric) {
            Some(metric) => Ok(Monitor { metric, validation }),
            None => bail!(
                "unknown metric {name:?}: monitor one of loss, accuracy, mae, mse, with val_ \
                 in front for the validation data (val_loss, val_accuracy, …)"
            ),
        }
    }

    pub fn name(&self) -> String {
        if self.validation {
            format!("val_{}", self.metric.name())
        } else {
            self.metric.name().to_string()
        }
    }

    /// The watched value of an epoch, turned so that lower is always better.
    pub fn score(&self, record: &EpochRecord) -> f64 {
        let value = record.get(&self.name());
        match self.metric.direction() {
            Direction::HigherIsBetter => -value,
            Direction::LowerIsBetter => value,
        }
    }
}

/// Every metric of every epoch of a run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct History {
    pub task: Task,
    /// The metrics recorded each epoch, loss first (on both training and validation data).
    pub metrics: Vec<Metric>,
    pub epochs: Vec<EpochRecord>,
}

impl History {
    pub fn new(task: Task) -> History {
        History {
            task,
            metrics: task.metrics().to_vec(),
            epochs: Vec::new(),
        }
    }

    pub fn last(&self) -> Option<&EpochRecord> {
        self.epochs.last()
    }

    /// The metric that says how good the model is, besides the loss (accuracy, MAE).
    pub fn main_metric(&self) -> Metric {
        self.metrics.get(1).copied().unwrap_or(Metric::Loss)
    }

    /// The epoch with the best value of a monitor (the earliest, on a tie).
    pub fn best(&self, monitor: Monitor) -> Option<&EpochRecord> {
        self.epochs
            .iter()
            .min_by(|a, b| monitor.score(a).total_cmp(&monitor.score(b)))
    }

    /// A column of values by name (`"val_loss"`), with their epochs: for plots.
    pub fn series(&self, name: &str) -> Vec<(usize, f64)> {
        self.epochs.iter().map(|r| (r.epoch, r.get(name))).collect()
    }

    /// The column names, in the order of the CSV: `loss, accuracy, val_loss, val_accuracy`.
    pub fn columns(&self) -> Vec<String> {
        let train = self.metrics.iter().map(|m| m.name().to_string());
        let valid = self.metrics.iter().map(|m| format!("val_{}", m.name()));
        train.chain(valid).collect()
    }

    pub fn to_csv(&self) -> String {
        let columns = self.columns();
        let mut csv = format!(
            "epoch,{},lr,seconds,samples_per_second\n",
            columns.join(",")
        );
        for r in &self.epochs {
            csv += &r.epoch.to_string();
            for column in &columns {
                csv += &format!(",{:.6}", r.get(column));
            }
            csv += &format!(
                ",{:.3e},{:.3},{:.1}\n",
                r.lr, r.seconds, r.samples_per_second
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
        serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a history file of this version of the course (a run made before \
                 the history kept every metric cannot be read: run it again)",
                path.display()
            )
        })
    }
}
