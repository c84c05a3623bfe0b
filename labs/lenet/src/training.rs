//! Train LeNet-5, evaluate it on the test digits, and show what it learned.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use burn::optim::AdamConfig;
use burn::prelude::*;
use shared::cli::{CommonArgs, Defaults};
use shared::datasets::DataSource;
use shared::download::Downloader;
use shared::images::ImageSet;
use shared::plot::{self, GridImage};
use shared::report::{Summary, model_summary, thousands};
use shared::run::RunDir;
use shared::train::{self, Batcher, FitConfig, History, Prediction};

use crate::data::MnistBatcher;
use crate::model::{LeNet, LeNetConfig, dense_comparison};

/// Everything that defines a run; saved as `config.json` in the run folder.
#[derive(Config, Debug)]
pub struct LabConfig {
    pub model: LeNetConfig,
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    /// Per-epoch learning-rate decay: epoch `e` trains with `lr * lr_decay^(e-1)`.
    #[config(default = 0.8)]
    pub lr_decay: f64,
    pub seed: u64,
    /// Share of the training images held out to watch for overfitting (Keras's
    /// `validation_split`); the test set is only used once, at the end.
    #[config(default = 0.1)]
    pub validation_split: f64,
    /// `sample`, `full` or `quick`.
    pub mode: String,
    /// The data folder of a `--full` run.
    pub data_dir: Option<PathBuf>,
}

/// Per-mode defaults: a minute on the sample, the accuracy target on the full set, seconds
/// for `--quick`.
pub const SAMPLE: Defaults = Defaults {
    epochs: 15,
    batch_size: 64,
    lr: 1e-3,
};
pub const FULL: Defaults = Defaults {
    epochs: 10,
    batch_size: 64,
    lr: 1e-3,
};
pub const QUICK: Defaults = Defaults {
    epochs: 2,
    batch_size: 64,
    lr: 1e-3,
};

/// `--quick` trains on this many of the bundled training images and tests on as many.
const QUICK_TRAIN: usize = 1000;
const QUICK_TEST: usize = 300;

/// What a run produced, for the caller (and the tests).
pub struct Outcome {
    pub run: RunDir,
    pub history: History,
    pub test_accuracy: f64,
}

impl LabConfig {
    pub fn from_args(args: &CommonArgs) -> LabConfig {
        let hyper = args.hyper(SAMPLE, FULL, QUICK);
        LabConfig::new(
            LeNetConfig::new(),
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
}

pub fn run(args: &CommonArgs) -> Result<Outcome> {
    let device = shared::device::select(args.device)?;

    // A new run, or the continuation of an interrupted one with its saved settings.
    let (run, config) = shared::run::start(
        args,
        "lenet",
        || LabConfig::from_args(args),
        |c| &mut c.epochs,
    )?;

    // 1. Data: the official IDX files (sample or full), 10% of train held out for validation.
    let source = config.source();
    println!("MNIST: {}", source.describe());
    let mnist = shared::mnist::load(&source, &Downloader::default())?;
    let (train_all, test) = if config.mode == "quick" {
        (mnist.train.take(QUICK_TRAIN), mnist.test.take(QUICK_TEST))
    } else {
        (mnist.train, mnist.test)
    };
    let (train_set, valid_set) = train_all.split(config.validation_split, config.seed);
    println!(
        "  {} training, {} validation, {} test images of {}x{} pixels",
        thousands(train_set.len()),
        thousands(valid_set.len()),
        thousands(test.len()),
        test.height,
        test.width
    );

    // 2. The model.
    device.seed(config.seed);
    let train_device = device.clone().autodiff();
    let model = config.model.init(&train_device);
    println!("\n{}", model_summary("LeNet-5", &model.summary(&device)));
    println!("The dense networks it replaces would need:");
    for (name, params) in dense_comparison() {
        println!("  {name}: {} parameters", thousands(params));
    }
    println!("Convolutions share each 5x5 filter across the whole image: far fewer weights.\n");
    println!(
        "training on {} for {} epochs, batch {}, Adam lr {} decaying x{} per epoch",
        shared::device::describe(args.device),
        config.epochs,
        config.batch_size,
        config.lr,
        config.lr_decay
    );

    // 3. Training.
    let optimizer = AdamConfig::new().init();
    let (model, optimizer, history) = match &args.resume {
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
        &MnistBatcher::new(train_set),
        &MnistBatcher::new(valid_set),
        &fit_config,
        &train_device,
        Some(&run),
        history,
    )?;
    let train_time = started.elapsed();

    // 4. The test set, once.
    let test_batcher = MnistBatcher::new(test.clone());
    let evaluation = train::evaluate(&fitted.model, &test_batcher, 500, &device);
    let predictions = train::predict(&fitted.model, &test_batcher, 500, &device);
    let confusion = train::confusion_matrix(&predictions, 10);

    // 5. Everything a student wants to look at.
    fitted
        .model
        .clone()
        .save_file(run.file("model.bpk"))
        .context("saving model.bpk")?;
    fitted.history.save(&run.path)?;
    plot::plot_history(&run.file("curves.png"), &fitted.history, "LeNet-5 on MNIST")?;
    plot::plot_confusion(
        &run.file("confusion.png"),
        &confusion,
        &test.class_names,
        &format!("Test confusion matrix ({} digits)", thousands(test.len())),
    )?;
    let mistakes: Vec<&Prediction> = predictions
        .iter()
        .filter(|p| p.predicted != p.target)
        .collect();
    plot_predictions(
        &run.file("mistakes.png"),
        &test,
        &mistakes,
        "Misclassified test digits: true → predicted (confidence)",
    )?;
    let first: Vec<&Prediction> = predictions.iter().take(24).collect();
    plot_predictions(
        &run.file("predictions.png"),
        &test,
        &first,
        "The first test digits: true → predicted",
    )?;
    plot_filters_and_maps(&run, &fitted.model, &test, &device)?;

    let last = fitted.history.last().copied();
    let mut summary = Summary::new("Lab 1 · LeNet-5 on MNIST");
    summary
        .row("data", source.describe())
        .row("device", shared::device::describe(args.device))
        .row("parameters", thousands(fitted.model.num_params()))
        .row(
            "epochs",
            format!(
                "{} (batch {}, Adam lr {} x{} per epoch)",
                fitted.history.epochs.len(),
                config.batch_size,
                config.lr,
                config.lr_decay
            ),
        );
    if let Some(last) = last {
        summary
            .row(
                "final train",
                format!(
                    "loss {:.4}, accuracy {:.2}%",
                    last.train_loss,
                    100.0 * last.train_metric
                ),
            )
            .row(
                "final valid",
                format!(
                    "loss {:.4}, accuracy {:.2}%",
                    last.valid_loss,
                    100.0 * last.valid_metric
                ),
            )
            .row(
                "throughput",
                format!(
                    "{} training samples/s",
                    thousands(last.samples_per_second as usize)
                ),
            );
    }
    summary
        .row(
            "test",
            format!(
                "loss {:.4}, accuracy {:.2}% ({} of {} wrong)",
                evaluation.loss,
                100.0 * evaluation.metric,
                mistakes.len(),
                test.len()
            ),
        )
        .row(
            "training time",
            format!("{:.1} s", train_time.as_secs_f64()),
        )
        .row("run folder", run.path.display())
        .row("files", "config.json model.bpk history.csv summary.txt")
        .row(
            "plots",
            "curves confusion mistakes predictions c1_filters feature_maps (.png)",
        );
    let text = summary.render();
    println!("\n{text}");
    run.write_text("summary.txt", &text)?;

    Ok(Outcome {
        run,
        history: fitted.history,
        test_accuracy: evaluation.metric,
    })
}

/// A grid of test digits captioned "true → predicted (confidence)", mistakes in red.
fn plot_predictions(
    path: &std::path::Path,
    test: &ImageSet,
    predictions: &[&Prediction],
    title: &str,
) -> Result<()> {
    let images: Vec<GridImage> = predictions
        .iter()
        .take(48)
        .map(|p| GridImage {
            pixels: test.image(p.index).to_vec(),
            channels: 1,
            height: test.height,
            width: test.width,
            caption: format!(
                "{} → {} ({:.0}%)",
                p.target,
                p.predicted,
                100.0 * p.confidence
            ),
            highlight: p.predicted != p.target,
        })
        .collect();
    plot::plot_image_grid(path, &images, 8, title)
}

/// C1's six learned 5x5 filters, and what C1 and C3 make of the first test digit.
fn plot_filters_and_maps(
    run: &RunDir,
    model: &LeNet,
    test: &ImageSet,
    device: &Device,
) -> Result<()> {
    let model = model.valid();
    let filters = shared::floats(model.c1_filters());
    let captions: Vec<String> = (1..=6).map(|k| format!("filter {k}")).collect();
    plot::plot_maps(
        &run.file("c1_filters.png"),
        &filters,
        [6, 5, 5],
        &captions,
        6,
        "C1: the six learned 5x5 filters",
    )?;

    let digit = MnistBatcher::new(test.take(1)).batch(&[0], device);
    let (c1, c3) = model.feature_maps(digit.images.clone());
    let mut values = shared::floats(digit.images);
    let mut captions = vec![format!("input ({})", test.labels[0])];
    values.extend(shared::floats(c1));
    captions.extend((1..=6).map(|k| format!("C1 map {k}")));
    // C3's maps are 10x10: scale them up to 28x28 by nearest neighbour to share the grid.
    let c3 = shared::floats(c3);
    for k in 0..16 {
        for y in 0..28 {
            for x in 0..28 {
                values.push(c3[k * 100 + (y * 10 / 28) * 10 + x * 10 / 28]);
            }
        }
        captions.push(format!("C3 map {}", k + 1));
    }
    plot::plot_maps(
        &run.file("feature_maps.png"),
        &values,
        [23, 28, 28],
        &captions,
        8,
        "Feature maps of the first test digit: C1 (28x28) and C3 (10x10, enlarged)",
    )
}
