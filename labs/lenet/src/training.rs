//! Train LeNet-5, evaluate it on the test digits, and show what it learned.

use anyhow::Result;
use burn::prelude::*;
use shared::batchers::MnistBatcher;
use shared::cli::CommonArgs;
use shared::images::ImageSet;
use shared::lab::{Lab, OptimizerConfig};
use shared::plot;
use shared::report::{model_summary, thousands};
use shared::run::RunDir;
use shared::train::{self, Batcher, ClassPrediction, History};

use crate::model::{LeNet, LeNetConfig, dense_comparison};

shared::lab_config! {
    /// Lab 1 and its defaults (epochs, batch, learning rate): a minute on the sample, the
    /// accuracy target on the full set, seconds for `--quick`.
    const LAB = Lab::new("lenet", "Lab 1")
        .sample(15, 64, 1e-3).full(10, 32, 1e-3).quick(2, 64, 1e-3);
    /// Everything that defines a run; saved as `config.json` in the run folder.
    pub struct LabConfig {
        pub model: LeNetConfig,
        /// Evaluate on the test digits at the end (`false`: `--no-test`, for runs that
        /// choose settings on the validation digits).
        #[config(default = true)]
        pub test: bool,
    }
}

/// Per-epoch learning-rate decay (the default of `--lr-decay`): epoch `e` trains with
/// `lr * LR_DECAY^(e-1)`. Chosen on the validation digits: `docs/lenet.md`.
pub const LR_DECAY: f64 = 0.8;

/// The lab's own flags, beside the common ones.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Per-epoch learning-rate decay factor (1: constant).
    pub lr_decay: f64,
    /// Evaluate on the test digits at the end.
    pub test: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            lr_decay: LR_DECAY,
            test: true,
        }
    }
}

/// What a run produced, for the caller (and the tests).
pub struct Outcome {
    pub run: RunDir,
    pub history: History,
    /// `None` with `--no-test`.
    pub test_accuracy: Option<f64>,
}

pub fn run(args: &CommonArgs, options: Options) -> Result<Outcome> {
    // A new run, or the continuation of an interrupted one with its saved settings.
    let session = LAB.start(args, |data, fit| {
        Ok(LabConfig::new(
            data,
            fit.with_lr_decay(options.lr_decay),
            OptimizerConfig::adam(),
            LeNetConfig::new(),
        )
        .with_test(options.test))
    })?;
    let config = &session.config;

    // 1. Data: the official IDX files (sample or full), 10% of train held out for validation.
    println!("MNIST: {}", session.source().describe());
    let data = shared::mnist::load_splits(&config.data, config.fit.seed)?;
    println!("  {}", data.describe());
    let test = &data.test;

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
        &MnistBatcher::new(data.train),
        &MnistBatcher::new(data.valid.clone()),
        &config.fit,
        &mut [],
    )?;

    let device = &session.device;
    if !config.test {
        // Settings are being chosen on the validation digits: leave the test digits alone.
        let mut summary = session.finish(&fitted, "LeNet-5 on MNIST")?;
        plot_filters_and_maps(&session.run, &fitted.model, &data.valid, device)?;
        summary.row(
            "test",
            "not evaluated (--no-test); run again without it once the settings are chosen",
        );
        session.close(&mut summary)?;
        return Ok(Outcome {
            run: session.run.clone(),
            history: fitted.history,
            test_accuracy: None,
        });
    }

    // 4. The test set, once.
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
        test,
        &mistakes,
        digit,
        8,
        "Misclassified test digits: true → predicted (confidence)",
    )?;
    let first: Vec<&ClassPrediction> = predictions.iter().take(24).collect();
    plot::plot_predictions(
        &run.file("predictions.png"),
        test,
        &first,
        digit,
        8,
        "The first test digits: true → predicted",
    )?;
    plot_filters_and_maps(run, &fitted.model, test, device)?;

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
        test_accuracy: Some(evaluation.get(train::Metric::Accuracy)),
    })
}

/// C1's six learned 5x5 filters, and what C1 and C3 make of the first digit of `digits` (the
/// test digits; the validation digits with `--no-test`).
fn plot_filters_and_maps(
    run: &RunDir,
    model: &LeNet,
    digits: &ImageSet,
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

    let digit = MnistBatcher::new(digits.take(1)).batch(&[0], device);
    let (c1, c3) = model.feature_maps(digit.images.clone());
    let mut values = shared::floats(digit.images);
    let mut captions = vec![format!("input ({})", digits.labels[0])];
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
        "Feature maps of one digit: C1 (28x28) and C3 (10x10, enlarged)",
    )
}
