//! Train the CIFAR-10 CNN (plain or stronger), evaluate it, and show what it does.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::optim::AdamConfig;
use burn::prelude::*;
use shared::cifar10::{self, CLASS_NAMES};
use shared::cli::{CommonArgs, Defaults};
use shared::datasets::DataSource;
use shared::download::Downloader;
use shared::images::ImageSet;
use shared::plot::{self, GridImage, Panel};
use shared::report::{Summary, model_summary, thousands};
use shared::run::RunDir;
use shared::train::{self, FitConfig, History, Prediction};

use crate::data::CifarBatcher;
use crate::model::CifarCnnConfig;

/// Everything that defines a run; saved as `config.json`.
#[derive(Config, Debug)]
pub struct LabConfig {
    pub model: CifarCnnConfig,
    /// Random flips and 4-pixel shifts of the training images.
    pub augment: bool,
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    /// Per-epoch learning-rate decay: epoch `e` trains with `lr * lr_decay^(e-1)`.
    #[config(default = 0.95)]
    pub lr_decay: f64,
    pub seed: u64,
    /// Share of the training images held out for validation (reported as "held-out").
    #[config(default = 0.1)]
    pub validation_split: f64,
    /// `sample`, `full` or `quick`.
    pub mode: String,
    pub data_dir: Option<PathBuf>,
}

/// The bundled sample is 500 training and 200 test images: a few minutes on a laptop.
pub const SAMPLE: Defaults = Defaults {
    epochs: 20,
    batch_size: 32,
    lr: 1e-3,
};
/// The full 50,000 training images: the lecture's Keras reference trains 25-50 epochs.
pub const FULL: Defaults = Defaults {
    epochs: 30,
    batch_size: 64,
    lr: 1e-3,
};
pub const QUICK: Defaults = Defaults {
    epochs: 1,
    batch_size: 32,
    lr: 1e-3,
};

const QUICK_TRAIN: usize = 200;
const QUICK_TEST: usize = 100;

impl LabConfig {
    pub fn from_args(args: &CommonArgs, strong: bool) -> LabConfig {
        let hyper = args.hyper(SAMPLE, FULL, QUICK);
        LabConfig::new(
            CifarCnnConfig::new().with_batch_norm(strong),
            strong,
            hyper.epochs,
            hyper.batch_size,
            hyper.lr,
            args.seed,
            args.mode().name().into(),
        )
        .with_data_dir(args.source().data_dir())
    }

    fn source(&self) -> DataSource {
        DataSource::saved(&self.mode, self.data_dir.as_deref())
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

/// The data of a run: training, held-out validation and test images.
struct Splits {
    train: ImageSet,
    valid: ImageSet,
    test: ImageSet,
    test_note: String,
}

fn load(config: &LabConfig) -> Result<Splits> {
    let source = config.source();
    println!("CIFAR-10: {}", source.describe());
    let data = cifar10::load(&source, &Downloader::default())?;
    let mut test_note = data
        .test_note
        .unwrap_or_else(|| "the 10,000 official test images".into());
    let (train_all, test) = if config.mode == "quick" {
        test_note = format!("the first {QUICK_TEST} of the {}", test_note);
        (data.train.take(QUICK_TRAIN), data.test.take(QUICK_TEST))
    } else {
        (data.train, data.test)
    };
    let (train, valid) = train_all.split(config.validation_split, config.seed);
    println!(
        "  {} training, {} held-out validation (from the training set), {} test images ({test_note})",
        thousands(train.len()),
        thousands(valid.len()),
        thousands(test.len()),
    );
    Ok(Splits {
        train,
        valid,
        test,
        test_note,
    })
}

/// Lab 2. With `compare`, trains the plain and the stronger variant one after the other (in
/// `plain/` and `strong/` of the run folder) and plots both.
pub fn run(args: &CommonArgs, strong: bool, compare: bool) -> Result<Vec<Outcome>> {
    let device = shared::device::select(args.device)?;
    let variants: Vec<bool> = if compare {
        vec![false, true]
    } else {
        vec![strong]
    };
    let (run, first) = shared::run::start(
        args,
        "cifar-cnn",
        || LabConfig::from_args(args, variants[0]),
        |c| &mut c.epochs,
    )?;
    let configs: Vec<LabConfig> = std::iter::once(first)
        .chain(variants[1..].iter().map(|&s| LabConfig::from_args(args, s)))
        .collect();
    let splits = load(&configs[0])?;

    let mut outcomes = Vec::new();
    for config in &configs {
        let variant_run = if compare {
            let name = if config.model.batch_norm {
                "strong"
            } else {
                "plain"
            };
            let path = run.file(name);
            std::fs::create_dir_all(&path)
                .with_context(|| format!("creating {}", path.display()))?;
            config
                .save(path.join("config.json"))
                .context("writing config.json")?;
            RunDir::open(&path)?
        } else {
            run.clone()
        };
        outcomes.push(train_variant(args, config, &splits, &device, variant_run)?);
    }
    if compare {
        let runs: Vec<(String, &History)> = configs
            .iter()
            .zip(&outcomes)
            .map(|(c, o)| {
                let label = format!("{} (test {:.1}%)", c.variant(), 100.0 * o.test_accuracy);
                (label, &o.history)
            })
            .collect();
        plot_variants(&run.file("variants.png"), &runs)?;
    }
    Ok(outcomes)
}

fn train_variant(
    args: &CommonArgs,
    config: &LabConfig,
    splits: &Splits,
    device: &Device,
    run: RunDir,
) -> Result<Outcome> {
    device.seed(config.seed);
    let train_device = device.clone().autodiff();
    let model = config.model.init(&train_device);
    let title = format!("CIFAR-10 CNN ({})", config.variant());
    println!("\n{}", model_summary(&title, &model.summary(device)));
    println!(
        "training on {} for {} epochs, batch {}, Adam lr {} x{} per epoch",
        shared::device::describe(args.device),
        config.epochs,
        config.batch_size,
        config.lr,
        config.lr_decay
    );

    let (mean, std) = cifar10::channel_stats(&splits.train);
    let mut train_batcher = CifarBatcher::new(splits.train.clone(), mean, std);
    if config.augment {
        train_batcher = train_batcher.with_augmentation(config.seed);
    }
    let valid_batcher = CifarBatcher::new(splits.valid.clone(), mean, std);
    let test_batcher = CifarBatcher::new(splits.test.clone(), mean, std);

    let optimizer = AdamConfig::new().init();
    let resume = args.resume.as_ref().filter(|p| **p == run.path);
    let (model, optimizer, history) = match resume {
        Some(path) => train::resume(path, model, optimizer)?,
        None => (model, optimizer, History::default()),
    };
    let fit_config = FitConfig {
        epochs: config.epochs,
        batch_size: config.batch_size,
        lr: config.lr,
        lr_decay: config.lr_decay,
        seed: config.seed,
        early_stopping: None,
    };
    let started = Instant::now();
    let fitted = train::fit(
        model,
        optimizer,
        &train_batcher,
        &valid_batcher,
        &fit_config,
        &train_device,
        Some(&run),
        history,
    )?;
    let seconds = started.elapsed().as_secs_f64();

    let test = train::evaluate(&fitted.model, &test_batcher, 250, device);
    let held_out = train::evaluate(&fitted.model, &valid_batcher, 250, device);
    let predictions = train::predict(&fitted.model, &test_batcher, 250, device);
    let confusion = train::confusion_matrix(&predictions, CLASS_NAMES.len());

    fitted
        .model
        .clone()
        .save_file(run.file("model.bpk"))
        .context("saving model.bpk")?;
    fitted.history.save(&run.path)?;
    plot::plot_history(&run.file("curves.png"), &fitted.history, &title)?;
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
    plot_predictions(&run, &splits.test, &predictions)?;
    let table = per_class_table(&confusion);
    println!("\nPer-class test accuracy:\n{table}");
    run.write_text("per_class.txt", &table)?;

    let epochs = fitted.history.epochs.len();
    let seconds_per_epoch =
        fitted.history.epochs.iter().map(|r| r.seconds).sum::<f64>() / epochs.max(1) as f64;
    let mut summary = Summary::new(&format!("Lab 2 · {title}"));
    summary
        .row("data", config.source().describe())
        .row("device", shared::device::describe(args.device))
        .row("parameters", thousands(fitted.model.num_params()))
        .row(
            "epochs",
            format!(
                "{epochs} (batch {}, Adam lr {} x{} per epoch{})",
                config.batch_size,
                config.lr,
                config.lr_decay,
                if config.augment { ", augmented" } else { "" }
            ),
        )
        .row(
            "time",
            format!("{seconds:.0} s in all, {seconds_per_epoch:.1} s per epoch"),
        );
    if let Some(last) = fitted.history.last() {
        summary.row(
            "final train",
            format!(
                "loss {:.4}, accuracy {:.2}%",
                last.train_loss,
                100.0 * last.train_metric
            ),
        );
    }
    summary
        .row(
            "held-out",
            format!(
                "accuracy {:.2}% on {} training images kept aside",
                100.0 * held_out.metric,
                thousands(splits.valid.len())
            ),
        )
        .row(
            "test",
            format!(
                "accuracy {:.2}%, loss {:.4} on {} ({})",
                100.0 * test.metric,
                test.loss,
                thousands(splits.test.len()),
                splits.test_note
            ),
        )
        .row("run folder", run.path.display())
        .row(
            "files",
            "config.json model.bpk history.csv per_class.txt summary.txt",
        )
        .row("plots", "curves confusion predictions (.png)");
    let text = summary.render();
    println!("\n{text}");
    run.write_text("summary.txt", &text)?;

    Ok(Outcome {
        run,
        history: fitted.history,
        test_accuracy: test.metric,
        held_out_accuracy: held_out.metric,
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

/// The first 36 test images: true → predicted (confidence), mistakes in red.
fn plot_predictions(run: &RunDir, test: &ImageSet, predictions: &[Prediction]) -> Result<()> {
    let images: Vec<GridImage> = predictions
        .iter()
        .take(36)
        .map(|p| GridImage {
            pixels: test.image(p.index).to_vec(),
            channels: 3,
            height: test.height,
            width: test.width,
            caption: format!(
                "{} → {} ({:.0}%)",
                CLASS_NAMES[p.target],
                CLASS_NAMES[p.predicted],
                100.0 * p.confidence
            ),
            highlight: p.predicted != p.target,
        })
        .collect();
    plot::plot_image_grid(
        &run.file("predictions.png"),
        &images,
        6,
        "Test images: true → predicted (confidence); mistakes in red",
    )
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
            100.0 * last.valid_metric
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
    let series = |value: fn(&train::EpochRecord) -> f64| {
        runs.iter()
            .zip(colors.iter().cycle())
            .map(|((label, history), &color)| {
                let points = history.epochs.iter().map(|r| (r.epoch, value(r))).collect();
                (label.as_str(), color, points)
            })
            .collect::<Vec<_>>()
    };
    plot::plot_curves(
        path,
        "CIFAR-10 CNN variants (held-out validation)",
        &[
            Panel {
                title: "validation accuracy",
                y_label: "accuracy",
                series: series(|r| r.valid_metric),
            },
            Panel {
                title: "validation loss",
                y_label: "cross-entropy",
                series: series(|r| r.valid_loss),
            },
        ],
    )
}
