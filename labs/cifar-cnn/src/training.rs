//! Train the CIFAR-10 CNN (plain or stronger), evaluate it, and show what it does.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::prelude::*;
use shared::cifar10::{self, CLASS_NAMES};
use shared::cli::CommonArgs;
use shared::download::Downloader;
use shared::images::Splits;
use shared::lab::{DataChoice, Lab, OptimizerConfig, Session};
use shared::plot::{self, Panel};
use shared::report::{model_summary, thousands};
use shared::run::RunDir;
use shared::train::{self, ClassPrediction, FitConfig, History, Metric};

use crate::data::CifarBatcher;
use crate::model::CifarCnnConfig;

shared::lab_config! {
    /// Lab 2 and its defaults (epochs, batch, learning rate). The bundled sample is 500
    /// training and 200 test images: a few minutes on a laptop; on the full 50,000 the
    /// lecture's Keras reference trains 25-50 epochs.
    const LAB = Lab::new("cifar-cnn", "Lab 2")
        .sample(20, 32, 1e-3).full(30, 64, 1e-3).quick(1, 32, 1e-3);
    /// Everything that defines a run; saved as `config.json`.
    pub struct LabConfig {
        pub model: CifarCnnConfig,
        /// Random flips and 4-pixel shifts of the training images.
        pub augment: bool,
    }
}

/// Per-epoch learning-rate decay: epoch `e` trains with `lr * LR_DECAY^(e-1)`.
pub const LR_DECAY: f64 = 0.95;

/// How many training and test images a `--quick` run keeps.
const QUICK: [usize; 2] = [200, 100];

impl LabConfig {
    pub fn of(data: DataChoice, fit: FitConfig, strong: bool) -> LabConfig {
        LabConfig::new(
            data,
            fit.with_lr_decay(LR_DECAY).with_valid_batch_size(250),
            OptimizerConfig::adam(),
            CifarCnnConfig::new().with_batch_norm(strong),
            strong,
        )
    }

    /// "plain" or "batch norm + augmentation".
    pub fn variant(&self) -> &'static str {
        match (self.model.batch_norm, self.augment) {
            (false, false) => "plain",
            (true, true) => "batch norm + augmentation",
            (true, false) => "batch norm",
            (false, true) => "augmentation",
        }
    }
}

/// What one trained variant gives back.
pub struct Outcome {
    pub run: RunDir,
    pub history: History,
    pub test_accuracy: f64,
    pub held_out_accuracy: f64,
    pub seconds_per_epoch: f64,
}

/// The data of a run, and which test images they are.
struct Data {
    splits: Splits,
    test_note: String,
}

fn load(config: &LabConfig) -> Result<Data> {
    let source = config.data.source();
    println!("CIFAR-10: {}", source.describe());
    let data = cifar10::load(&source, &Downloader::default())?;
    let mut test_note = data
        .test_note
        .unwrap_or_else(|| "the 10,000 official test images".into());
    let quick = config.data.is_quick().then_some(QUICK);
    if let Some([_, n_test]) = quick {
        test_note = format!("the first {n_test} of the {test_note}");
    }
    let splits = Splits::new(
        data.train,
        data.test,
        quick,
        config.data.validation_split,
        config.fit.seed,
    );
    println!(
        "  {} ({test_note}); validation held out from the training set",
        splits.describe()
    );
    Ok(Data { splits, test_note })
}

/// Lab 2. With `compare`, trains the plain and the stronger variant one after the other (in
/// `plain/` and `strong/` of the run folder) and plots both.
pub fn run(args: &CommonArgs, strong: bool, compare: bool) -> Result<Vec<Outcome>> {
    let session = LAB.start(args, |data, fit| {
        Ok(LabConfig::of(data, fit, strong && !compare))
    })?;
    let data = load(&session.config)?;
    if !compare {
        let config = session.config.clone();
        return Ok(vec![train_variant(&session, &config, &data, &session.run)?]);
    }
    let mut outcomes = Vec::new();
    for (name, strong) in [("plain", false), ("strong", true)] {
        let config = LabConfig::of(
            session.config.data.clone(),
            session.config.fit.clone(),
            strong,
        );
        let path = session.run.file(name);
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        config
            .save(path.join("config.json"))
            .context("writing config.json")?;
        outcomes.push(train_variant(
            &session,
            &config,
            &data,
            &RunDir::open(&path)?,
        )?);
    }
    let runs: Vec<(String, &History)> = outcomes
        .iter()
        .zip(["plain", "batch norm + augmentation"])
        .map(|(o, variant)| {
            let label = format!("{variant} (test {:.1}%)", 100.0 * o.test_accuracy);
            (label, &o.history)
        })
        .collect();
    plot_variants(&session.run.file("variants.png"), &runs)?;
    Ok(outcomes)
}

fn train_variant(
    session: &Session<LabConfig>,
    config: &LabConfig,
    data: &Data,
    run: &RunDir,
) -> Result<Outcome> {
    let splits = &data.splits;
    let model = config.model.init(&session.train_device());
    let title = format!("CIFAR-10 CNN ({})", config.variant());
    println!(
        "\n{}",
        model_summary(&title, &model.summary(&session.device))
    );

    let (mean, std) = cifar10::channel_stats(&splits.train);
    let mut train_batcher = CifarBatcher::new(splits.train.clone(), mean, std);
    if config.augment {
        train_batcher = train_batcher.with_augmentation(config.fit.seed);
    }
    let valid_batcher = CifarBatcher::new(splits.valid.clone(), mean, std);
    let test_batcher = CifarBatcher::new(splits.test.clone(), mean, std);

    let fitted = train::fit(
        session.training_in(run, model, &config.optimizer)?,
        &train_batcher,
        &valid_batcher,
        &config.fit,
        &mut [],
    )?;

    let device = &session.device;
    let test = train::evaluate(&fitted.model, &test_batcher, 250, device);
    let held_out = train::evaluate(&fitted.model, &valid_batcher, 250, device);
    let predictions = train::predict_classes(&fitted.model, &test_batcher, 250, device)?;
    let confusion = train::confusion_matrix(&predictions, CLASS_NAMES.len());

    let mut summary = session.finish_in(run, &fitted, &title)?;
    let names: Vec<String> = CLASS_NAMES.iter().map(|s| s.to_string()).collect();
    plot::plot_confusion(
        &run.file("confusion.png"),
        &confusion,
        &names,
        &format!(
            "Test confusion matrix ({} images)",
            thousands(splits.test.len())
        ),
    )?;
    let first: Vec<&ClassPrediction> = predictions.iter().take(36).collect();
    plot::plot_predictions(
        &run.file("predictions.png"),
        &splits.test,
        &first,
        |class| CLASS_NAMES[class].to_string(),
        6,
        "Test images: true → predicted (confidence); mistakes in red",
    )?;
    let table = per_class_table(&confusion);
    println!("\nPer-class test accuracy:\n{table}");
    run.write_text("per_class.txt", &table)?;

    let epochs = fitted.history.epochs.len();
    let seconds_per_epoch =
        fitted.history.epochs.iter().map(|r| r.seconds).sum::<f64>() / epochs.max(1) as f64;
    summary
        .row(
            "held-out",
            format!(
                "accuracy {:.2}% on {} training images kept aside",
                100.0 * held_out.get(Metric::Accuracy),
                thousands(splits.valid.len())
            ),
        )
        .row(
            "test",
            format!(
                "{} on {} ({})",
                test.describe(),
                thousands(splits.test.len()),
                data.test_note
            ),
        );
    session.close_in(run, &mut summary)?;
    Ok(Outcome {
        run: run.clone(),
        history: fitted.history,
        test_accuracy: test.get(Metric::Accuracy),
        held_out_accuracy: held_out.get(Metric::Accuracy),
        seconds_per_epoch,
    })
}

/// Recall per class: the share of each class's test images the model got right.
pub fn per_class_table(confusion: &[Vec<usize>]) -> String {
    let mut out = format!("{:<12} {:>7} {:>9}\n", "class", "images", "accuracy");
    for (name, row) in CLASS_NAMES.iter().zip(confusion) {
        let total: usize = row.iter().sum();
        let right = row[CLASS_NAMES.iter().position(|n| n == name).unwrap_or(0)];
        let accuracy = if total == 0 {
            "-".to_string()
        } else {
            format!("{:.1}%", 100.0 * right as f64 / total as f64)
        };
        out += &format!("{name:<12} {total:>7} {accuracy:>9}\n");
    }
    out
}

/// [`plot_variants`] for finished run folders (a plain and a `--strong` run on the full data,
/// trained hours apart): each line is labelled with the run's variant, its epochs and its
/// last held-out accuracy. `examples/variants.rs` runs it from the command line.
pub fn plot_runs(runs: &[PathBuf], path: &Path) -> Result<()> {
    let mut loaded = Vec::new();
    for run in runs {
        let config_file = run.join("config.json");
        if !config_file.is_file() {
            bail!(
                "{} is not a run folder of lab 2 (it has no config.json): pass folders such as \
                 runs/cifar-cnn/<date-time>",
                run.display()
            );
        }
        let config = LabConfig::load(&config_file)
            .with_context(|| format!("{} is not a config of lab 2", config_file.display()))?;
        let history = History::load(&run.join("history.json"))?;
        let Some(last) = history.last() else {
            bail!("{} has no finished epoch yet", run.display());
        };
        let label = format!(
            "{}, {} epoch{} (held-out {:.1}%)",
            config.variant(),
            last.epoch,
            if last.epoch == 1 { "" } else { "s" },
            100.0 * last.valid(Metric::Accuracy)
        );
        loaded.push((label, history));
    }
    let lines: Vec<(String, &History)> = loaded.iter().map(|(l, h)| (l.clone(), h)).collect();
    plot_variants(path, &lines)
}

/// Validation accuracy and loss per epoch of two or more runs, one line each (`--compare`'s
/// `variants.png`).
pub fn plot_variants(path: &Path, runs: &[(String, &History)]) -> Result<()> {
    let colors = [plot::BLUE, plot::RED, plot::GREEN, plot::MAGENTA];
    let series = |name: &str| {
        runs.iter()
            .zip(colors.iter().cycle())
            .map(|((label, history), &color)| (label.as_str(), color, history.series(name)))
            .collect::<Vec<_>>()
    };
    plot::plot_curves(
        path,
        "CIFAR-10 CNN variants (held-out validation)",
        &[
            Panel::new("validation accuracy", "accuracy", series("val_accuracy")),
            Panel::new("validation loss", "cross-entropy", series("val_loss")),
        ],
    )
}
