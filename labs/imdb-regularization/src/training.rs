//! Train the six models on the same reviews, one after the other, each into its own
//! sub-folder of the run; then compare them: plots (training solid, validation dashed, one
//! colour per model) and a table.
//!
//! ```text
//! runs/imdb-regularization/<date-time>/
//!   config.json  summary.txt  comparison.csv  sizes.png  l2.png  dropout.png  regularised.png
//!   small/  medium/  big/  l2/  dropout/  l2+dropout/    (each: config.json, history.csv,
//!                                                         weights.csv, curves.png, model.bpk, …)
//! ```

use std::path::Path;

use anyhow::{Context, Result};
use burn::prelude::*;
use serde::{Deserialize, Serialize};
use shared::cli::{CommonArgs, Mode};
use shared::lab::{DataChoice, Lab, OptimizerConfig, Session};
use shared::plot::{self, PALETTE, Panel};
use shared::report::{Summary, model_summary, thousands};
use shared::run::RunDir;
use shared::train::{self, EachEpoch, EpochRecord, FitConfig, History, Metric};

use crate::data::{self, ImdbSplits, ReviewBatcher};
use crate::model::{ClassifierConfig, ModelKind};

shared::lab_config! {
    /// Lab 10 and its defaults (epochs, batch size, learning rate).
    ///
    /// * `--full`: the tutorial's settings, 20 epochs of batches of 512, on 20,000 training
    ///   reviews (5,000 held out for validation).
    /// * the bundled sample: 150 training reviews once half of the 300 are held out (60
    ///   validation reviews were too few and too easy to show a curve). Batches of 512 would be
    ///   a single step per epoch, so it takes batches of 16 (10 steps per epoch), 20 epochs:
    ///   the big model's validation loss turns after 2 epochs and climbs; the smaller models
    ///   need the full data to show their turn. About half a minute on 2 cores.
    /// * `--quick`: 2 epochs on 200 + 100 reviews, seconds.
    const LAB = Lab::new("imdb-regularization", "Lab 10")
        .sample(20, 16, 1e-3).full(20, 512, 1e-3).quick(2, 32, 1e-3);
    /// Everything that defines a run; saved as `config.json` in the run folder.
    pub struct LabConfig {
        /// The models trained, in order (`--models`).
        pub models: Vec<String>,
        /// The multi-hot row's length: the 10,000 most frequent words.
        #[config(default = 10000)]
        pub num_words: usize,
    }
}

/// What one model's sub-folder saves as its `config.json`: the run's settings and the
/// model's own.
#[derive(Config, Debug)]
pub struct ModelRunConfig {
    pub name: String,
    pub data: DataChoice,
    pub fit: FitConfig,
    pub optimizer: OptimizerConfig,
    pub model: ClassifierConfig,
}

/// Share of the training reviews held out for validation: a fifth of the 25,000 with
/// `--full`; half of the bundled sample's 300.
pub fn validation_split(mode: Mode) -> f64 {
    match mode {
        Mode::Full => 0.2,
        Mode::Sample | Mode::Quick => 0.5,
    }
}

/// How many training and test reviews a `--quick` run keeps.
const QUICK: [usize; 2] = [200, 100];

/// Every model, as `--models` spells the default.
pub const ALL_MODELS: &str = "small,medium,big,l2,dropout,l2+dropout";

/// The kernels' size after each epoch, and what L2 adds to the loss.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WeightRecord {
    pub epoch: usize,
    /// `Σ w²` over the hidden kernels after the epoch.
    pub kernel_sum_of_squares: f64,
    /// `l2 · Σ w²` (0 without L2).
    pub penalty: f64,
    /// The penalty's share of the epoch's training loss.
    pub penalty_share: f64,
    /// The training loss without the penalty (its mean over the epoch, with the penalty's
    /// mean taken as that of its values before and after the epoch).
    pub train_cross_entropy: f64,
    /// The validation loss without the penalty (exact: the weights are fixed during it).
    pub val_cross_entropy: f64,
}

/// What one trained model gives back.
pub struct ModelOutcome {
    pub kind: ModelKind,
    pub run: RunDir,
    pub params: usize,
    pub history: History,
    pub weights: Vec<WeightRecord>,
    /// Test reviews, once, after the last epoch (cross-entropy without the penalty).
    pub test_accuracy: f64,
    pub test_cross_entropy: f64,
    pub seconds: f64,
}

/// Lab 10: trains the models named in `models` (see [`ModelKind::parse_list`]).
pub fn run(args: &CommonArgs, models: &str) -> Result<Vec<ModelOutcome>> {
    // A wrong name is refused before any run folder is made.
    let kinds = ModelKind::parse_list(models)?;
    let names: Vec<String> = kinds.iter().map(|k| k.name().to_string()).collect();
    let session = LAB.start(args, |data, fit| {
        Ok(LabConfig::new(
            data.with_validation_split(validation_split(args.mode())),
            fit.with_valid_batch_size(1000),
            OptimizerConfig::keras_adam(),
            names,
        ))
    })?;
    let config = &session.config;
    // A resumed run trains the models it was started with.
    let kinds = ModelKind::parse_list(&config.models.join(","))?;

    // 1. Data, once for all models.
    println!("IMDB: {}", session.source().describe());
    let quick = config.data.is_quick().then_some(QUICK);
    let data = data::load(
        &session.source(),
        config.num_words,
        config.data.validation_split,
        config.fit.seed,
        quick,
    )?;
    println!(
        "  {} (validation held out from the training reviews, seed {}; test used once, at the \
         end)",
        data.describe(),
        config.fit.seed
    );
    show_multi_hot(&data, config.num_words);
    session.run.write_text(
        "validation_reviews.txt",
        &(data.valid.names.join("\n") + "\n"),
    )?;

    // 2. Each model in its own sub-folder, from the same data.
    let train_batcher = ReviewBatcher::new(data.train.clone(), config.num_words);
    let valid_batcher = ReviewBatcher::new(data.valid.clone(), config.num_words);
    let test_batcher = ReviewBatcher::new(data.test.clone(), config.num_words);
    let batchers = [&train_batcher, &valid_batcher, &test_batcher];
    let mut outcomes = Vec::new();
    for kind in kinds {
        println!("\n=== {} ===", kind.describe());
        outcomes.push(train_model(&session, kind, batchers)?);
    }

    // 3. The comparison.
    compare(&session, &outcomes, &data)?;
    Ok(outcomes)
}

/// Prints one review as the network sees it.
fn show_multi_hot(data: &ImdbSplits, num_words: usize) {
    let Some(words) = data.train.words.first() else {
        return;
    };
    let reverse = data.word_index.reverse();
    let options = data::encode_options(num_words);
    let shown: Vec<String> = words
        .iter()
        .take(12)
        .map(|&w| format!("{w} {}", shared::imdb::decode(&[w], &reverse, &options)))
        .collect();
    println!(
        "  review {} as a multi-hot row: 1 at {} of the {} columns ({}, …), 0 elsewhere",
        data.train.names[0],
        words.len(),
        thousands(num_words),
        shown.join(", ")
    );
}

fn train_model(
    session: &Session<LabConfig>,
    kind: ModelKind,
    [train_batcher, valid_batcher, test_batcher]: [&ReviewBatcher; 3],
) -> Result<ModelOutcome> {
    let config = &session.config;
    let model_config = kind.config(config.num_words);
    let path = session.run.file(kind.name());
    std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
    ModelRunConfig::new(
        kind.name().to_string(),
        config.data.clone(),
        config.fit.clone(),
        config.optimizer.clone(),
        model_config.clone(),
    )
    .save(path.join("config.json"))
    .context("writing config.json")?;
    let run = RunDir::open(&path)?;

    let model = model_config.init(&session.train_device());
    let title = format!("IMDB {}", kind.describe());
    println!("{}", model_summary(&title, &model.summary()));

    // After each epoch: the kernels' size and, for the L2 models, the penalty's share.
    let mut weights: Vec<WeightRecord> = if session.resumed {
        load_weights(&run.file("weights.json"))
    } else {
        Vec::new()
    };
    let l2 = model_config.l2;
    let mut before = l2 * scalar(model.kernel_sum_of_squares());
    if let Some(last) = weights.last() {
        before = last.penalty;
    }
    let mut each_epoch = EachEpoch(|model: &crate::model::Classifier, r: &EpochRecord| {
        let sum_of_squares = scalar(model.kernel_sum_of_squares());
        let penalty = l2 * sum_of_squares;
        let loss = r.train(Metric::Loss);
        let record = WeightRecord {
            epoch: r.epoch,
            kernel_sum_of_squares: sum_of_squares,
            penalty,
            penalty_share: penalty / loss,
            train_cross_entropy: loss - (before + penalty) / 2.0,
            val_cross_entropy: r.valid(Metric::Loss) - penalty,
        };
        before = penalty;
        if l2 > 0.0 {
            println!(
                "          L2 penalty {penalty:.4} = {:.1}% of the training loss; cross-entropy \
                 train ≈ {:.4}, valid {:.4}",
                100.0 * record.penalty_share,
                record.train_cross_entropy,
                record.val_cross_entropy
            );
        }
        weights.retain(|w| w.epoch < r.epoch);
        weights.push(record);
        save_weights(&run, &weights)
    });
    let fitted = train::fit(
        session.training_in(&run, model, &config.optimizer)?,
        train_batcher,
        valid_batcher,
        &config.fit,
        &mut [&mut each_epoch],
    )?;

    // The test reviews, once.
    let test = train::evaluate(&fitted.model, test_batcher, 1000, &session.device);
    let test_penalty = fitted.model.l2_penalty().map_or(0.0, scalar);
    let test_cross_entropy = test.loss() - test_penalty;

    let mut summary = session.finish_in(&run, &fitted, &title)?;
    if l2 > 0.0 {
        summary.row(
            "loss",
            "includes the L2 penalty (as Keras's does); weights.csv has it per epoch",
        );
    }
    summary.row(
        "test",
        format!(
            "cross-entropy {test_cross_entropy:.4}, accuracy {:.2}% on {} reviews",
            100.0 * test.get(Metric::Accuracy),
            thousands(test.items)
        ),
    );
    session.close_in(&run, &mut summary)?;
    Ok(ModelOutcome {
        kind,
        run,
        params: fitted.model.num_params(),
        history: fitted.history,
        weights,
        test_accuracy: test.get(Metric::Accuracy),
        test_cross_entropy,
        seconds: fitted.seconds,
    })
}

fn scalar(value: Tensor<1>) -> f64 {
    value.into_scalar::<f32>() as f64
}

fn save_weights(run: &RunDir, weights: &[WeightRecord]) -> Result<()> {
    let mut csv = String::from(
        "epoch,kernel_sum_of_squares,penalty,penalty_share,train_cross_entropy,val_cross_entropy\n",
    );
    for w in weights {
        csv += &format!(
            "{},{:.6},{:.6},{:.6},{:.6},{:.6}\n",
            w.epoch,
            w.kernel_sum_of_squares,
            w.penalty,
            w.penalty_share,
            w.train_cross_entropy,
            w.val_cross_entropy
        );
    }
    run.write_text("weights.csv", &csv)?;
    run.write_json("weights.json", &weights)
}

fn load_weights(path: &Path) -> Vec<WeightRecord> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

/// One row of the comparison table.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    pub model: String,
    pub params: usize,
    /// The lowest validation cross-entropy and its epoch.
    pub best_val: (usize, f64),
    /// The first epoch after which the validation cross-entropy goes up (None: it never does).
    pub rises_after: Option<usize>,
    pub final_val: f64,
    pub final_val_accuracy: f64,
    /// Training minus validation accuracy after the last epoch, in points.
    pub accuracy_gap: f64,
    /// Validation minus training cross-entropy after the last epoch.
    pub loss_gap: f64,
    pub test_accuracy: f64,
    pub minutes: f64,
}

impl Stats {
    pub fn of(outcome: &ModelOutcome) -> Option<Stats> {
        let last = outcome.weights.last()?;
        let record = outcome.history.last()?;
        let val: Vec<(usize, f64)> = outcome
            .weights
            .iter()
            .map(|w| (w.epoch, w.val_cross_entropy))
            .collect();
        Some(Stats {
            model: outcome.kind.name().to_string(),
            params: outcome.params,
            best_val: best(&val)?,
            rises_after: rises_after(&val),
            final_val: last.val_cross_entropy,
            final_val_accuracy: record.valid(Metric::Accuracy),
            accuracy_gap: 100.0 * (record.train(Metric::Accuracy) - record.valid(Metric::Accuracy)),
            loss_gap: last.val_cross_entropy - last.train_cross_entropy,
            test_accuracy: outcome.test_accuracy,
            minutes: outcome.seconds / 60.0,
        })
    }
}

/// The (epoch, value) with the lowest value; the earliest on a tie.
pub fn best(series: &[(usize, f64)]) -> Option<(usize, f64)> {
    series.iter().copied().min_by(|a, b| a.1.total_cmp(&b.1))
}

/// The first epoch whose next epoch has a higher value: where the validation loss starts to
/// rise (the first local minimum).
pub fn rises_after(series: &[(usize, f64)]) -> Option<usize> {
    series.windows(2).find(|w| w[1].1 > w[0].1).map(|w| w[0].0)
}

/// The comparison table, as printed and saved in `summary.txt`.
pub fn table(stats: &[Stats]) -> String {
    let mut out = format!(
        "{:<11} {:>10} {:>15} {:>6} {:>10} {:>8} {:>9} {:>9} {:>9} {:>7}\n",
        "model",
        "params",
        "best val (ep)",
        "rises",
        "final val",
        "val acc",
        "acc gap",
        "loss gap",
        "test acc",
        "min"
    );
    for s in stats {
        out += &format!(
            "{:<11} {:>10} {:>15} {:>6} {:>10.4} {:>7.2}% {:>8.2}p {:>9.4} {:>8.2}% {:>7.2}\n",
            s.model,
            thousands(s.params),
            format!("{:.4} ({})", s.best_val.1, s.best_val.0),
            s.rises_after.map_or("-".to_string(), |e| e.to_string()),
            s.final_val,
            100.0 * s.final_val_accuracy,
            s.accuracy_gap,
            s.loss_gap,
            100.0 * s.test_accuracy,
            s.minutes
        );
    }
    out
}

/// What the table's columns mean, line by line.
pub const TABLE_NOTE: [&str; 4] = [
    "val: validation binary cross-entropy, without the L2 penalty, so that models compare",
    "rises: the first epoch after which it goes up; min: minutes of training",
    "acc gap: train − validation accuracy (points); loss gap: validation − train cross-entropy",
    "test acc: the test reviews, once, after the last epoch",
];

/// The comparisons the lecture makes, one plot each: `(file, title, models)`.
pub const COMPARISONS: [(&str, &str, &[ModelKind]); 4] = [
    (
        "sizes.png",
        "IMDB: model size (small 4-4, medium 16-16, big 512-512)",
        &[ModelKind::Small, ModelKind::Medium, ModelKind::Big],
    ),
    (
        "l2.png",
        "IMDB: L2(0.001) on the kernels vs the baseline",
        &[ModelKind::Medium, ModelKind::L2],
    ),
    (
        "dropout.png",
        "IMDB: dropout(0.5) vs the baseline",
        &[ModelKind::Medium, ModelKind::Dropout],
    ),
    (
        "regularised.png",
        "IMDB: the baseline, L2, dropout, both",
        &[
            ModelKind::Medium,
            ModelKind::L2,
            ModelKind::Dropout,
            ModelKind::L2Dropout,
        ],
    ),
];

fn compare(
    session: &Session<LabConfig>,
    outcomes: &[ModelOutcome],
    data: &ImdbSplits,
) -> Result<()> {
    let run = &session.run;
    let stats: Vec<Stats> = outcomes.iter().filter_map(Stats::of).collect();
    let text = table(&stats);
    println!("\n{text}{}", TABLE_NOTE.join("\n"));

    let mut csv = String::from(
        "model,params,best_val_epoch,best_val_cross_entropy,rises_after,final_val_cross_entropy,\
         final_val_accuracy,accuracy_gap_points,loss_gap,test_accuracy,minutes\n",
    );
    for s in &stats {
        csv += &format!(
            "{},{},{},{:.6},{},{:.6},{:.6},{:.4},{:.6},{:.6},{:.3}\n",
            s.model,
            s.params,
            s.best_val.0,
            s.best_val.1,
            s.rises_after.map_or(String::new(), |e| e.to_string()),
            s.final_val,
            s.final_val_accuracy,
            s.accuracy_gap,
            s.loss_gap,
            s.test_accuracy,
            s.minutes
        );
    }
    run.write_text("comparison.csv", &csv)?;

    for (file, title, models) in COMPARISONS {
        let shown: Vec<&ModelOutcome> = outcomes
            .iter()
            .filter(|o| models.contains(&o.kind))
            .collect();
        if shown.len() >= 2 {
            plot_comparison(&run.file(file), title, &shown)?;
        }
    }

    let fit = &session.config.fit;
    let mut summary = Summary::new(&format!(
        "{} · overfitting on IMDB: size, L2, dropout",
        LAB.title
    ));
    summary
        .row("data", session.source().describe())
        .row("reviews", data.describe())
        .row("device", session.device_name())
        .row(
            "training",
            format!(
                "{} epochs, batch {}, {}",
                fit.epochs,
                fit.batch_size,
                session.config.optimizer.describe()
            ),
        );
    // The table as rows: the key column holds the model's name.
    let mut lines = text.lines();
    if let Some(header) = lines.next() {
        summary.row("model", header.get(12..).unwrap_or(""));
    }
    for line in lines {
        let (name, rest) = line.split_at(line.len().min(12));
        summary.row(name.trim(), rest);
    }
    for (i, note) in TABLE_NOTE.iter().enumerate() {
        summary.row(if i == 0 { "columns" } else { "" }, note);
    }
    session.close(&mut summary)?;
    Ok(())
}

/// Cross-entropy (log scale) and accuracy per epoch: training solid, validation dashed, one
/// colour per model (the same colour for a model in every plot).
fn plot_comparison(path: &Path, title: &str, outcomes: &[&ModelOutcome]) -> Result<()> {
    let color =
        |kind: ModelKind| PALETTE[ModelKind::ALL.iter().position(|&k| k == kind).unwrap_or(0)];
    let labels: Vec<(String, String)> = outcomes
        .iter()
        .map(|o| (format!("{} train", o.kind), format!("{} valid", o.kind)))
        .collect();
    let ce = |o: &ModelOutcome, valid: bool| -> Vec<(usize, f64)> {
        o.weights
            .iter()
            .map(|w| {
                let v = if valid {
                    w.val_cross_entropy
                } else {
                    w.train_cross_entropy
                };
                (w.epoch, v)
            })
            .collect()
    };
    let mut loss_solid = Vec::new();
    let mut loss_dashed = Vec::new();
    let mut acc_solid = Vec::new();
    let mut acc_dashed = Vec::new();
    for (o, (train, valid)) in outcomes.iter().zip(&labels) {
        let c = color(o.kind);
        loss_solid.push((train.as_str(), c, ce(o, false)));
        loss_dashed.push((valid.as_str(), c, ce(o, true)));
        acc_solid.push((train.as_str(), c, o.history.series("accuracy")));
        acc_dashed.push((valid.as_str(), c, o.history.series("val_accuracy")));
    }
    plot::plot_curves(
        path,
        title,
        &[
            Panel::new("binary cross-entropy", "cross-entropy", loss_solid)
                .with_dashed(loss_dashed)
                .log_scale(),
            Panel::new("accuracy", "accuracy", acc_solid).with_dashed(acc_dashed),
        ],
    )
}
