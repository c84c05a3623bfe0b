//! Train LeNet-5, evaluate it on the test digits, and show what it learned.

use anyhow::Result;
use burn::prelude::*;
use shared::batchers::MnistBatcher;
use shared::cli::{CommonArgs, Defaults};
use shared::download::Downloader;
use shared::images::ImageSet;
use shared::lab::{DataChoice, Lab, ModeDefaults, OptimizerConfig};
use shared::plot;
use shared::report::{model_summary, thousands};
use shared::run::RunDir;
use shared::train::{self, Batcher, ClassPrediction, FitConfig, History};

use crate::model::{LeNet, LeNetConfig, dense_comparison};

/// Everything that defines a run; saved as `config.json` in the run folder.
#[derive(Config, Debug)]
pub struct LabConfig {
    pub data: DataChoice,
    pub fit: FitConfig,
    pub optimizer: OptimizerConfig,
    pub model: LeNetConfig,
    /// Share of the training images held out to watch for overfitting (Keras's
    /// `validation_split`); the test set is only used once, at the end.
    #[config(default = 0.1)]
    pub validation_split: f64,
}

shared::run_config!(LabConfig);

/// Lab 1, with its defaults: a minute on the sample, the accuracy target on the full set,
/// seconds for `--quick`. The learning rate decays x0.8 per epoch (see `LabConfig`).
pub const LAB: Lab = Lab {
    name: "lenet",
    title: "Lab 1",
    defaults: ModeDefaults {
        sample: Defaults {
            epochs: 15,
            batch_size: 64,
            lr: 1e-3,
        },
        full: Defaults {
            epochs: 10,
            batch_size: 64,
            lr: 1e-3,
        },
        quick: Defaults {
            epochs: 2,
            batch_size: 64,
            lr: 1e-3,
        },
    },
};

/// Per-epoch learning-rate decay: epoch `e` trains with `lr * LR_DECAY^(e-1)`.
pub const LR_DECAY: f64 = 0.8;

/// `--quick` trains on this many of the bundled training images and tests on as many.
const QUICK_TRAIN: usize = 1000;
const QUICK_TEST: usize = 300;

/// What a run produced, for the caller (and the tests).
pub struct Outcome {
    pub run: RunDir,
    pub history: History,
    pub test_accuracy: f64,
}

pub fn run(args: &CommonArgs) -> Result<Outcome> {
    // A new run, or the continuation of an interrupted one with its saved settings.
    let session = LAB.start(args, |data, fit| {
        Ok(LabConfig::new(
            data,
            fit.with_lr_decay(LR_DECAY),
            OptimizerConfig::adam(),
            LeNetConfig::new(),
        ))
    })?;
    let config = &session.config;

    // 1. Data: the official IDX files (sample or full), 10% of train held out for validation.
    let source = session.source();
    println!("MNIST: {}", source.describe());
    let mnist = shared::mnist::load(&source, &Downloader::default())?;
    let (train_all, test) = if config.data.is_quick() {
        (mnist.train.take(QUICK_TRAIN), mnist.test.take(QUICK_TEST))
    } else {
        (mnist.train, mnist.test)
    };
    let (train_set, valid_set) = train_all.split(config.validation_split, config.fit.seed);
    println!(
        "  {} training, {} validation, {} test images of {}x{} pixels",
        thousands(train_set.len()),
        thousands(valid_set.len()),
        thousands(test.len()),
        test.height,
        test.width
    );

    // 2. The model.
    let model = config.model.init(&session.train_device());
    println!(
        "\n{}",
        model_summary("LeNet-5", &model.summary(&session.device))
    );
    println!("The dense networks it replaces would need:");
    for (name, params) in dense_comparison() {
        println!("  {name}: {} parameters", thousands(params));
    }
    println!("Convolutions share each 5x5 filter across the whole image: far fewer weights.\n");

    // 3. Training.
    let fitted = train::fit(
        session.training(model, &config.optimizer)?,
        &MnistBatcher::new(train_set),
        &MnistBatcher::new(valid_set),
        &config.fit,
        &mut [],
    )?;

    // 4. The test set, once.
    let device = &session.device;
    let test_batcher = MnistBatcher::new(test.clone());
    let evaluation = train::evaluate(&fitted.model, &test_batcher, 500, device);
    let predictions = train::predict_classes(&fitted.model, &test_batcher, 500, device)?;
    let confusion = train::confusion_matrix(&predictions, 10);

    // 5. Everything a student wants to look at.
    let mut summary = session.finish(&fitted, "LeNet-5 on MNIST")?;
    let run = &session.run;
    plot::plot_confusion(
        &run.file("confusion.png"),
        &confusion,
        &test.class_names,
        &format!("Test confusion matrix ({} digits)", thousands(test.len())),
    )?;
    let mistakes: Vec<&ClassPrediction> = predictions
        .iter()
        .filter(|p| p.predicted != p.target)
        .take(48)
        .collect();
    let digit = |class: usize| class.to_string();
    plot::plot_predictions(
        &run.file("mistakes.png"),
        &test,
        &mistakes,
        digit,
        8,
        "Misclassified test digits: true → predicted (confidence)",
    )?;
    let first: Vec<&ClassPrediction> = predictions.iter().take(24).collect();
    plot::plot_predictions(
        &run.file("predictions.png"),
        &test,
        &first,
        digit,
        8,
        "The first test digits: true → predicted",
    )?;
    plot_filters_and_maps(run, &fitted.model, &test, device)?;

    let wrong = predictions
        .iter()
        .filter(|p| p.predicted != p.target)
        .count();
    summary.row(
        "test",
        format!(
            "{} ({wrong} of {} wrong)",
            evaluation.describe(),
            test.len()
        ),
    );
    session.close(&mut summary)?;
    Ok(Outcome {
        run: session.run.clone(),
        history: fitted.history,
        test_accuracy: evaluation.get(train::Metric::Accuracy),
    })
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
