//! Overfit on purpose, then stop early: the same network from the same first weights,
//! trained twice.
//!
//! ```text
//! part 1  overfit/          1,000 epochs, no callback: the validation loss stops falling
//!                           after about a hundred epochs and creeps up (과적합, overfitting)
//! part 2  early-stopping/   EarlyStopping(val_loss, patience 10, restore best) and a
//!                           best-only ModelCheckpoint (best.bpk): training ends about ten
//!                           epochs after the best validation loss (조기 종료, early stopping)
//! ```
//!
//! Both then meet the test cars once, at the end; `early-stopping.png` shows the four curves
//! with the stopping and best epochs marked, and a table compares epochs and MAEs.

use anyhow::{Context, Result};
use burn::config::Config;
use burn::module::Module;
use burn::prelude::*;
use serde::{Deserialize, Serialize};
use shared::auto_mpg;
use shared::cli::CommonArgs;
use shared::download::Downloader;
use shared::lab::{Lab, OptimizerConfig, Session};
use shared::plot::{self, Panel};
use shared::report::{Summary, model_summary, thousands};
use shared::run::RunDir;
use shared::train::{
    self, Batcher, Checkpoints, EarlyStopping, EarlyStoppingConfig, Evaluation, Fitted, History,
    Metric, ModelCheckpoint, Monitor, Predicted,
};

use crate::data::{self, MpgBatcher, Prepared};
use crate::model::{MpgModel, MpgModelConfig};
use crate::split::{Split, SplitKind};

shared::lab_config! {
    /// Lab 9: 1,000 epochs of batch 32 with RMSprop(0.001), as the tutorial; the whole
    /// dataset is bundled, so `--full` only reads the official file from the data folder
    /// (downloading it if missing) and trains the same way. `--quick`: a few dozen epochs.
    const LAB = Lab::new("mpg-earlystop", "Lab 9")
        .sample(1000, 32, 1e-3).full(1000, 32, 1e-3).quick(30, 32, 1e-3);
    /// Everything that defines a run; saved as `config.json` in the run folder (and in each
    /// part's sub-folder).
    pub struct LabConfig {
        pub model: MpgModelConfig,
        /// Part 2's `EarlyStopping` (part 1 has none).
        pub early_stopping: EarlyStoppingConfig,
        /// The 80/20 train/test split: `tutorial` (pandas' `sample(frac=0.8,
        /// random_state=0)`, reproduced car for car) or `seeded` (the course's shuffle with
        /// `split_seed`).
        #[config(default = "SplitKind::Tutorial")]
        pub split: SplitKind,
        /// Seed of the `seeded` split (`--split-seed`); unused by the tutorial's split.
        /// `--seed` changes the first weights and the batch order, not which cars are tested.
        #[config(default = 0)]
        pub split_seed: u64,
    }
}

/// Keras's `fit(validation_split=0.2)` in the tutorial.
pub const VALIDATION_SPLIT: f64 = 0.2;

/// The two parts' sub-folders of a run.
pub const OVERFIT: &str = "overfit";
pub const EARLY_STOPPING: &str = "early-stopping";

/// Evaluation batch: every set fits in one, so a reloaded model sums in the same order.
pub const EVAL_BATCH: usize = 512;

/// One part's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartResult {
    pub name: String,
    pub epochs_run: usize,
    /// The epoch of the lowest validation loss.
    pub best_epoch: usize,
    /// The epoch whose weights the model holds at the end.
    pub model_epoch: usize,
    pub stopped_early: Option<usize>,
    pub seconds: f64,
    pub train_mae: f64,
    pub valid_mae: f64,
    pub test_mae: f64,
    pub test_mse: f64,
}

/// What a run found, saved as `results.json` (its presence marks a finished run).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Results {
    pub seed: u64,
    pub overfit: PartResult,
    pub early_stopping: PartResult,
    /// Predicting the mean MPG of the training cars for every car.
    pub baseline_test_mae: f64,
}

/// What a run produced, for the caller (and the tests).
pub struct Outcome {
    pub run: RunDir,
    pub results: Results,
    pub histories: [History; 2],
}

/// Trains both parts on `split` (the tutorial's unless `--split seeded` says otherwise).
pub fn run(args: &CommonArgs, split: Split) -> Result<Outcome> {
    let (split_kind, split_seed) = match split {
        Split::Tutorial => (SplitKind::Tutorial, 0),
        Split::Seeded(seed) => (SplitKind::Seeded, seed),
    };
    let session = LAB.start(args, |data, mut fit| {
        // `fit` checkpoints every epoch by default (model, optimiser and the whole history):
        // over 1,000 epochs that took 3.4 s here, three times the training itself. One after
        // the last epoch still lets `--resume` extend a run.
        if args.checkpoints.is_none() {
            fit.checkpoints = Checkpoints::LastEpoch;
        }
        Ok(LabConfig::new(
            data.with_validation_split(VALIDATION_SPLIT),
            fit,
            OptimizerConfig::keras_rmsprop(),
            MpgModelConfig::new(),
            EarlyStoppingConfig::new(),
        )
        .with_split(split_kind)
        .with_split_seed(split_seed))
    })?;
    let config = &session.config;
    let run = &session.run;

    // 1. Data, prepared as the tutorial does; the split and the statistics are saved.
    println!("Auto MPG: {}", session.source().describe());
    let cars = auto_mpg::load(&session.source(), &Downloader::default())?;
    let split = Split::new(config.split, config.split_seed);
    let data = data::prepare(cars, split, config.data.validation_split)?;
    print_data(&data, split);
    run.write_text("cars.csv", &data.to_csv())?;
    data.normalisation.save(&run.file("normalisation.json"))?;
    let train_batcher = MpgBatcher::new(&data.train, &data.normalisation);
    let valid_batcher = MpgBatcher::new(&data.valid, &data.normalisation);
    let test_batcher = MpgBatcher::new(&data.test, &data.normalisation);

    // 2. The model, built once: both parts start from these weights, saved as `initial.bpk`
    // (and read back, so that what the two parts start from is what the file holds).
    let initial = config.model.init(&session.train_device());
    println!("\n{}", model_summary("Dense 64-64-1", &initial.summary()));
    let initial_file = run.file("initial.bpk");
    if !initial_file.exists() {
        train::save_model_atomic(&initial, &initial_file)?;
    }
    let initial = initial
        .try_load_file(&initial_file)
        .context("loading initial.bpk")?;

    // 3. Part 1: overfitting on purpose, no callback but fit's own (progress, history).
    let overfit_run = sub_run(&session, OVERFIT)?;
    println!("\n=== Part 1: overfitting on purpose (no early stopping) ===");
    let overfit = train::fit(
        session.training_in(&overfit_run, initial.clone(), &config.optimizer)?,
        &train_batcher,
        &valid_batcher,
        &config.fit,
        &mut [],
    )?;

    // 4. Part 2: the same model, the same first weights, with Keras's two callbacks. Early
    // stopping keeps the best weights (in memory, and in checkpoint/ for a --resume); the
    // best-only checkpoint writes them to best.bpk each time the validation loss improves.
    let early_run = sub_run(&session, EARLY_STOPPING)?;
    println!("\n=== Part 2: early stopping and a best-only checkpoint ===");
    std::fs::create_dir_all(early_run.file("checkpoint"))?;
    let mut early_stopping = EarlyStopping::new(config.early_stopping.clone())?
        .keep_best_in(early_run.file("checkpoint").join("best.bpk"));
    let mut best_only =
        ModelCheckpoint::best_only(early_run.file("best.bpk"), &config.early_stopping.monitor)?;
    let early = train::fit(
        session.training_in(&early_run, initial.clone(), &config.optimizer)?,
        &train_batcher,
        &valid_batcher,
        &config.fit,
        &mut [&mut early_stopping, &mut best_only],
    )?;

    // 5. The test cars, once, for both parts; then the plots and the table.
    let sets = Sets {
        train: &train_batcher,
        valid: &valid_batcher,
        test: &test_batcher,
    };
    let results = Results {
        seed: config.fit.seed,
        overfit: report_part(&session, &overfit_run, &overfit, &sets)?,
        early_stopping: report_part(&session, &early_run, &early, &sets)?,
        baseline_test_mae: 0.0,
    };
    let device = &session.device;
    let predictions = test_predictions(&early.model, &test_batcher, device);
    let predictions_file = early_run.file("test_predictions.csv");
    write_predictions(&predictions_file, &data.test, &predictions)?;
    plot_predictions(run, &predictions)?;
    let histories = [overfit.history, early.history];
    plot_early_stopping(
        run,
        &histories,
        &results.early_stopping,
        config.early_stopping.patience,
    )?;

    // The simplest guess as a yardstick: every car gets the training cars' mean MPG.
    let mean_mpg = data.train.iter().map(|c| c.mpg).sum::<f32>() / data.train.len() as f32;
    let baseline = config.model.init(device).constant(mean_mpg);
    let results = Results {
        baseline_test_mae: train::evaluate(&baseline, &test_batcher, EVAL_BATCH, device)
            .get(Metric::Mae),
        ..results
    };
    let table = results_table(&results, mean_mpg);
    println!("\n{table}");
    run.write_text("results.txt", &table)?;
    run.write_json("results.json", &results)?;

    let mut summary = Summary::new(&format!(
        "{} · Auto MPG: overfitting and early stopping",
        LAB.title
    ));
    summary
        .row(
            "data",
            format!("{} ({})", data.describe(), session.source().describe()),
        )
        .row("device", session.device_name())
        .row("parameters", thousands(initial.num_params()))
        .row("overfit", timing(&results.overfit))
        .row("early stopping", timing(&results.early_stopping))
        .row(
            "test MAE",
            format!(
                "{:.4} MPG with early stopping, {:.4} MPG overfitted",
                results.early_stopping.test_mae, results.overfit.test_mae
            ),
        )
        .row("exact", exact_line(results.early_stopping.test_mae))
        .row(
            "reload",
            format!("lab-mpg-earlystop --run {} --evaluate", run.path.display()),
        );
    session.close(&mut summary)?;
    Ok(Outcome {
        run: run.clone(),
        results,
        histories,
    })
}

/// A part's sub-folder, with the run's config saved in it like any run folder.
fn sub_run(session: &Session<LabConfig>, part: &str) -> Result<RunDir> {
    let path = session.run.file(part);
    std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
    if !path.join("config.json").exists() {
        session
            .config
            .save(path.join("config.json"))
            .with_context(|| format!("writing {}", path.join("config.json").display()))?;
    }
    RunDir::open(&path)
}

/// The three sets' batchers.
struct Sets<'a> {
    train: &'a MpgBatcher,
    valid: &'a MpgBatcher,
    test: &'a MpgBatcher,
}

/// A part's model on the three sets, its sub-folder's files (model.bpk, curves.png,
/// summary.txt) and its line of the table.
fn report_part(
    session: &Session<LabConfig>,
    sub: &RunDir,
    fitted: &Fitted<MpgModel>,
    sets: &Sets,
) -> Result<PartResult> {
    let on = |set: &MpgBatcher| train::evaluate(&fitted.model, set, EVAL_BATCH, &session.device);
    let (train_eval, valid_eval, test) = (on(sets.train), on(sets.valid), on(sets.test));
    let history = &fitted.history;
    let monitor = Monitor::parse(&session.config.early_stopping.monitor)?;
    let name = sub.path.file_name().unwrap_or_default().to_string_lossy();
    let result = PartResult {
        name: name.to_string(),
        epochs_run: history.epochs.len(),
        best_epoch: history.best(monitor).map_or(0, |r| r.epoch),
        model_epoch: fitted.model_epoch,
        stopped_early: fitted.stopped_early,
        seconds: fitted.seconds,
        train_mae: train_eval.get(Metric::Mae),
        valid_mae: valid_eval.get(Metric::Mae),
        test_mae: test.get(Metric::Mae),
        test_mse: test.get(Metric::Mse),
    };
    let mut summary = session.finish_in(sub, fitted, &format!("Auto MPG, {name}"))?;
    summary
        .row("time", timing(&result))
        .row("train", describe_set(&train_eval, sets.train.len()))
        .row("valid", describe_set(&valid_eval, sets.valid.len()))
        .row("test", describe_set(&test, sets.test.len()));
    session.close_in(sub, &mut summary)?;
    Ok(result)
}

fn print_data(data: &Prepared, split: Split) {
    println!("  {} ({split})", data.describe());
    println!("  dropped (horsepower `?`):");
    for car in &data.dropped {
        println!("    {} ({} MPG)", car.name, car.mpg);
    }
    println!("  origin one-hot: USA, Europe, Japan");
    println!(
        "  z-score statistics of the {} training cars (saved as normalisation.json):",
        data.normalisation.cars
    );
    for line in data.normalisation.table().lines() {
        println!("    {line}");
    }
}

/// `1000 epochs in 21.3 s (21.3 ms per epoch)`.
pub fn timing(part: &PartResult) -> String {
    let stop = match part.stopped_early {
        Some(epoch) => format!(
            "; stopped after epoch {epoch}, weights of epoch {}",
            part.model_epoch
        ),
        None => String::new(),
    };
    format!(
        "{} epochs in {:.1} s ({:.1} ms per epoch){stop}",
        part.epochs_run,
        part.seconds,
        1000.0 * part.seconds / part.epochs_run.max(1) as f64
    )
}

fn describe_set(evaluation: &Evaluation, cars: usize) -> String {
    format!("{} on {cars} cars", evaluation.describe())
}

/// The test MAE with every digit an `f64` keeps: a reloaded model must print the same.
pub fn exact_line(mae: f64) -> String {
    format!("test MAE {mae:?} MPG")
}

/// (true MPG, predicted MPG) of each test car, in order.
pub fn test_predictions(model: &MpgModel, test: &MpgBatcher, device: &Device) -> Vec<(f32, f32)> {
    train::predict(model, test, EVAL_BATCH, device)
        .into_iter()
        .filter_map(|p| match p.output {
            Predicted::Values { target, predicted } => Some((target[0], predicted[0])),
            Predicted::Class { .. } => None,
        })
        .collect()
}

/// `early-stopping/test_predictions.csv`: what `--evaluate` must reproduce bit for bit
/// (`f32`s printed in their shortest exact form).
pub fn write_predictions(
    path: &std::path::Path,
    cars: &[auto_mpg::Car],
    predictions: &[(f32, f32)],
) -> Result<()> {
    let mut csv = String::from("name,mpg,predicted\n");
    for (car, (mpg, predicted)) in cars.iter().zip(predictions) {
        csv += &format!("\"{}\",{mpg},{predicted}\n", car.name.replace('"', "'"));
    }
    shared::run::write_atomic(path, csv.as_bytes())
}

/// `predictions.png` (predicted against true MPG, with the diagonal) and `errors.png`
/// (the histogram of predicted − true).
fn plot_predictions(run: &RunDir, predictions: &[(f32, f32)]) -> Result<()> {
    let points: Vec<(f64, f64)> = predictions
        .iter()
        .map(|&(t, p)| (t as f64, p as f64))
        .collect();
    plot::plot_scatter(
        &run.file("predictions.png"),
        &format!("Test cars ({}): predicted vs true MPG", points.len()),
        ("true MPG", "predicted MPG"),
        &points,
    )?;
    let errors: Vec<f64> = points.iter().map(|(t, p)| p - t).collect();
    plot::plot_histogram(
        &run.file("errors.png"),
        "Prediction error on the test cars",
        "predicted − true MPG",
        &errors,
        25,
    )
}

/// `early-stopping.png`: validation (solid) and training (dashed) loss and MAE of both
/// parts on a log scale, with part 2's best and stopping epochs marked; the third panel
/// zooms in on the epochs around the stop.
fn plot_early_stopping(
    run: &RunDir,
    histories: &[History; 2],
    early: &PartResult,
    patience: usize,
) -> Result<()> {
    let colours = [plot::RED, plot::BLUE];
    let names = [
        ["overfit valid", "overfit train"],
        ["early stop valid", "early stop train"],
    ];
    let last = early.stopped_early.unwrap_or(early.epochs_run);
    let zoom = (3 * last).max(60);
    let panel = |title: &'static str, y_label: &'static str, metric: &str, until: usize| {
        let upto = |series: Vec<(usize, f64)>| -> Vec<(usize, f64)> {
            series.into_iter().filter(|(e, _)| *e <= until).collect()
        };
        let solid = (0..2)
            .map(|i| {
                let series = upto(histories[i].series(&format!("val_{metric}")));
                (names[i][0], colours[i], series)
            })
            .collect();
        let dashed = (0..2)
            .map(|i| (names[i][1], colours[i], upto(histories[i].series(metric))))
            .collect();
        let panel = Panel::new(title, y_label, solid)
            .with_dashed(dashed)
            .log_scale();
        // One label, right of the later line, so that the two never overlap.
        match early.stopped_early {
            Some(stopped) => panel.marker(early.model_epoch, "").marker(
                stopped,
                format!("best {}, stopped {stopped}", early.model_epoch),
            ),
            None => panel.marker(early.model_epoch, format!("best {}", early.model_epoch)),
        }
    };
    let epochs = histories[0].epochs.len();
    plot::plot_curves(
        &run.file("early-stopping.png"),
        &format!(
            "Overfitting ({} epochs, red) vs early stopping (patience {}, blue); \
             valid solid, train dashed",
            thousands(epochs),
            patience
        ),
        &[
            panel("MSE loss [MPG²]", "MSE [MPG²]", "loss", epochs),
            panel("MAE [MPG]", "MAE [MPG]", "mae", epochs),
            panel("MAE, the first epochs", "MAE [MPG]", "mae", zoom),
        ],
    )
}

/// The table of both parts: epochs run, best epoch, MAE on the three sets.
pub fn results_table(results: &Results, mean_mpg: f32) -> String {
    let mut text = format!(
        "{:<26} {:>7} {:>6} {:>10} {:>10} {:>10}\n",
        "", "epochs", "best", "train MAE", "valid MAE", "test MAE"
    );
    for (label, part) in [
        ("overfit (과적합)", &results.overfit),
        ("early stopping (조기 종료)", &results.early_stopping),
    ] {
        // Korean syllables are two columns wide in a terminal, one char each here.
        let pad = 26 - label.chars().count() - label.chars().filter(|c| !c.is_ascii()).count();
        text += &format!(
            "{label}{:pad$} {:>7} {:>6} {:>10.4} {:>10.4} {:>10.4}\n",
            "", part.epochs_run, part.best_epoch, part.train_mae, part.valid_mae, part.test_mae
        );
    }
    text += &format!(
        "{:<26} {:>7} {:>6} {:>10} {:>10} {:>10.4}\n",
        format!("always {mean_mpg:.1} MPG (mean)"),
        "-",
        "-",
        "",
        "",
        results.baseline_test_mae
    );
    text
}
