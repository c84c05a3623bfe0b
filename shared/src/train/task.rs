//! The three kinds of problem the course trains, and what each one measures.
//!
//! | task | output of the model | loss | metrics |
//! |---|---|---|---|
//! | multi-class (LeNet, CIFAR, Alice) | one score (logit) per class | softmax cross-entropy | accuracy |
//! | binary (IMDB) | one logit | sigmoid cross-entropy | accuracy at p = 0.5 |
//! | regression (Auto MPG) | the values themselves | mean squared error | MAE, MSE |
//!
//! A model's [`Supervised::forward_step`](super::Supervised::forward_step) picks one by the
//! [`StepOutput`] constructor it calls; the training loop reads the rest from there.

use std::fmt;

use burn::prelude::*;
use burn::tensor::activation::relu;
use serde::{Deserialize, Serialize};

/// Which way a metric improves. Early stopping and "best epoch" need to know: a falling
/// loss is good news, a falling accuracy is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
}

/// A quantity measured on every batch and averaged over an epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// The loss the model is trained on.
    Loss,
    /// The share of items whose predicted class is the true one.
    Accuracy,
    /// Mean absolute error: in the target's own unit (miles per gallon), easy to read.
    Mae,
    /// Mean squared error: what regression minimises; large errors weigh more.
    Mse,
}

impl Metric {
    /// The name in history files and plots, as Keras's `History` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Loss => "loss",
            Metric::Accuracy => "accuracy",
            Metric::Mae => "mae",
            Metric::Mse => "mse",
        }
    }

    pub fn direction(self) -> Direction {
        match self {
            Metric::Accuracy => Direction::HigherIsBetter,
            Metric::Loss | Metric::Mae | Metric::Mse => Direction::LowerIsBetter,
        }
    }

    /// `accuracy 98.10%`, `mae 1.8734`.
    pub fn show(self, value: f64) -> String {
        match self {
            Metric::Accuracy => format!("acc {:.2}%", 100.0 * value),
            _ => format!("{} {value:.4}", self.name()),
        }
    }

    pub fn from_name(name: &str) -> Option<Metric> {
        [Metric::Loss, Metric::Accuracy, Metric::Mae, Metric::Mse]
            .into_iter()
            .find(|m| m.name() == name)
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The kind of problem, which decides the loss and the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    MultiClass,
    Binary,
    Regression,
}

impl Task {
    /// What is recorded each epoch, loss first.
    pub fn metrics(self) -> &'static [Metric] {
        match self {
            Task::MultiClass | Task::Binary => &[Metric::Loss, Metric::Accuracy],
            Task::Regression => &[Metric::Loss, Metric::Mae, Metric::Mse],
        }
    }
}

/// What a batch is checked against.
#[derive(Debug, Clone)]
pub enum Targets {
    /// Class indices `[batch]`, for multi-class classification.
    Classes(Tensor<1, Int>),
    /// Labels 0 or 1 `[batch]`, for binary classification.
    Binary(Tensor<1>),
    /// Real values `[batch, outputs]`, for regression.
    Values(Tensor<2>),
}

/// What one forward pass over a batch produced. Build it with [`StepOutput::classification`],
/// [`StepOutput::binary`] or [`StepOutput::regression`].
#[derive(Debug, Clone)]
pub struct StepOutput {
    /// The mean loss over the batch (what `backward` differentiates).
    pub loss: Tensor<1>,
    /// Logits `[batch, classes]`, one logit `[batch, 1]`, or predictions `[batch, outputs]`.
    pub output: Tensor<2>,
    pub targets: Targets,
}

impl StepOutput {
    /// Multi-class: class scores `[batch, classes]` against class indices, with the
    /// cross-entropy loss (softmax and the negative log-likelihood in one numerically stable
    /// step, like Keras's `from_logits=True`).
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

    /// Binary: one logit per item `[batch, 1]` against labels 0/1 `[batch]`, with the
    /// sigmoid cross-entropy computed from the logit (see [`sigmoid_cross_entropy`]).
    pub fn binary(logits: Tensor<2>, labels: Tensor<1>) -> StepOutput {
        let loss = sigmoid_cross_entropy(logits.clone().flatten::<1>(0, 1), labels.clone()).mean();
        StepOutput {
            loss,
            output: logits,
            targets: Targets::Binary(labels),
        }
    }

    /// Regression: predictions against true values, both `[batch, outputs]`, with the mean
    /// squared error as the loss.
    pub fn regression(predictions: Tensor<2>, values: Tensor<2>) -> StepOutput {
        let loss = (predictions.clone() - values.clone()).powi_scalar(2).mean();
        StepOutput {
            loss,
            output: predictions,
            targets: Targets::Values(values),
        }
    }

    pub fn task(&self) -> Task {
        match self.targets {
            Targets::Classes(_) => Task::MultiClass,
            Targets::Binary(_) => Task::Binary,
            Targets::Values(_) => Task::Regression,
        }
    }

    /// The batch's sums of each of the task's metrics (the loss times the batch size, the
    /// number of right answers, …), left on the device: reading them back would make every
    /// step wait for the device.
    pub(crate) fn metric_sums(&self, items: usize) -> Vec<Tensor<1>> {
        let output = self.output.clone().without_autodiff();
        let loss = self.loss.clone().without_autodiff() * items as f32;
        match &self.targets {
            Targets::Classes(classes) => {
                let predicted = output.argmax(1).squeeze_dim::<1>(1);
                let right = predicted.equal(classes.clone().without_autodiff());
                vec![loss, right.float().sum()]
            }
            Targets::Binary(labels) => {
                // p > 0.5 exactly when the logit is > 0.
                let predicted = output.flatten::<1>(0, 1).greater_elem(0.0);
                let truth = labels.clone().without_autodiff().greater_elem(0.5);
                vec![loss, predicted.equal(truth).float().sum()]
            }
            Targets::Values(values) => {
                let outputs = output.dims()[1] as f32;
                let error = output - values.clone().without_autodiff();
                let mae = error.clone().abs().sum() / outputs;
                let mse = error.powi_scalar(2).sum() / outputs;
                vec![loss, mae, mse]
            }
        }
    }
}

/// `−[y·log σ(x) + (1−y)·log(1−σ(x))]` per item, from the logit `x`, written as
/// `max(x, 0) − x·y + log(1 + e^−|x|)`: the same value, but `e^−|x|` never overflows and the
/// log never sees 0, so a logit of ±100 gives a finite loss (computing σ first would round it
/// to exactly 0 or 1 and take log 0).
pub fn sigmoid_cross_entropy(logits: Tensor<1>, labels: Tensor<1>) -> Tensor<1> {
    relu(logits.clone()) - logits.clone() * labels + logits.abs().neg().exp().log1p()
}
