//! Train the LSTM, then the bag-of-words baseline on the same split; meet the test reviews
//! once, at the end; show what the model got right and wrong.
//!
//! ```text
//! runs/imdb-lstm/<date-time>/
//!   config.json  vocabulary.txt  preprocessing.txt  validation_reviews.txt
//!   history.csv  curves.png  model.bpk  early-stopping/best.bpk
//!   confusion.png  test_predictions.csv  test_reviews.txt  summary.txt
//!   baseline/    (the bag-of-words model: config.json, history.csv, curves.png, model.bpk, …)
//! ```

use anyhow::{Context, Result};
use burn::prelude::*;
use shared::cli::{CommonArgs, Mode};
use shared::lab::{Lab, OptimizerConfig, Session};
use shared::report::{model_summary, thousands};
use shared::run::RunDir;
use shared::train::{
    self, Batcher, ClassPrediction, EarlyStopping, EarlyStoppingConfig, FitConfig, Fitted, Metric,
    Supervised, Training,
};

use crate::data::{self, BagBatcher, ImdbSplits, Length, SequenceBatcher};
use crate::model::{BagOfWordsConfig, SentimentConfig};

shared::lab_config! {
    /// Lab 8 and its defaults (epochs, batch size, learning rate). Every mode trains with
    /// early stopping on the validation loss (patience 2, best weights restored), so
    /// `epochs` is the most it will train.
    ///
    /// * `--full`: 25,000 training reviews (5,000 held out for validation), batch 32 as the
    ///   Keras example, Adam 0.001.
    /// * the bundled sample: 300 training reviews (60 for validation), 300 test; an LSTM
    ///   learns little from 240 reviews (the baseline does better on so few): the lab shows
    ///   the whole pipeline in about a minute; `--full` shows what the LSTM can do.
    /// * `--quick`: 1 epoch on 200 + 100 reviews, seconds.
    const LAB = Lab::new("imdb-lstm", "Lab 8")
        .sample(8, 32, 1e-3).full(6, 32, 1e-3).quick(1, 32, 1e-3);
    /// Everything that defines a run; saved as `config.json` in the run folder.
    pub struct LabConfig {
        pub model: SentimentConfig,
        /// Reviews are padded and cut (at the front) to this many indices.
        #[config(default = 200)]
        pub maxlen: usize,
        /// The LSTM's early stopping.
        pub early_stopping: EarlyStoppingConfig,
        /// The bag-of-words baseline, trained after the LSTM (`None`: `--no-baseline`).
        pub baseline: Option<BaselineConfig>,
        /// Evaluate on the test reviews at the end (`false`: `--no-test`, for runs that
        /// choose settings on the validation reviews).
        #[config(default = true)]
        pub test: bool,
    }
}

/// The bag-of-words baseline and how it trains: up to 20 epochs, stopped early on the
/// validation loss (it overfits within a few epochs; see lab 10).
#[derive(Config, Debug)]
pub struct BaselineConfig {
    pub model: BagOfWordsConfig,
    pub fit: FitConfig,
    pub early_stopping: EarlyStoppingConfig,
}

/// Share of the training reviews held out for validation.
pub const VALIDATION_SPLIT: f64 = 0.2;

/// How many training and test reviews a `--quick` run keeps.
const QUICK: [usize; 2] = [200, 100];

/// Reviews per batch when evaluating and predicting (no gradients: larger is fine).
pub const EVAL_BATCH: usize = 250;

/// Where the early-stopping checkpoint (the best epoch's weights) goes in a run folder.
pub const EARLY_STOPPING: &str = "early-stopping";

/// The options of a run beyond the common flags.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub units: usize,
    pub bidirectional: bool,
    /// Dropout on the word vectors and the last state while training (0: none).
    pub dropout: f64,
    /// Per-epoch learning-rate factor (1: constant, as the Keras example).
    pub lr_decay: f64,
    pub maxlen: usize,
    pub baseline: bool,
    /// Evaluate on the test reviews at the end.
    pub test: bool,
}

/// What a finished run gives back (the tests read it).
pub struct Outcome {
    pub run: RunDir,
    pub lstm: Fitted<crate::model::SentimentLstm>,
    /// `None` with `--no-test`.
    pub test: Option<Tested>,
    pub baseline_test_accuracy: Option<f64>,
}

/// Lab 8: trains the LSTM (and the baseline), evaluates both on the test reviews once.
pub fn run(args: &CommonArgs, options: Options) -> Result<Outcome> {
    if options.maxlen < 2 {
        anyhow::bail!(
            "--maxlen must be at least 2 (the <START> index and a word), not {}",
            options.maxlen
        );
    }
    if options.units == 0 {
        anyhow::bail!("--units must be at least 1");
    }
    if !(0.0..1.0).contains(&options.dropout) {
        anyhow::bail!(
            "--dropout is the share of values set to zero, from 0 up to (not including) 1, not {}",
            options.dropout
        );
    }
    let session = LAB.start(args, |data, fit| {
        let fit = fit.with_lr_decay(options.lr_decay);
        let baseline = options.baseline.then(|| baseline_config(args.mode(), &fit));
        Ok(LabConfig::new(
            data.with_validation_split(VALIDATION_SPLIT),
            fit,
            OptimizerConfig::keras_adam(),
            SentimentConfig::new()
                .with_units(options.units)
                .with_bidirectional(options.bidirectional)
                .with_dropout((options.dropout > 0.0).then_some(options.dropout)),
            early_stopping(),
        )
        .with_maxlen(options.maxlen)
        .with_baseline(baseline)
        .with_test(options.test))
    })?;
    let config = &session.config;
    let run = &session.run;

    // 1. Data and the lecture's preprocessing, shown on one review.
    println!("IMDB: {}", session.source().describe());
    let quick = config.data.is_quick().then_some(QUICK);
    let data = data::load(
        &session.source(),
        config.model.num_words,
        config.data.validation_split,
        config.fit.seed,
        quick,
    )?;
    println!(
        "  {} (validation held out from the training reviews, seed {}; {})",
        data.describe(),
        config.fit.seed,
        if config.test {
            "test used once, at the end"
        } else {
            "test not touched: --no-test"
        }
    );
    data.vocabulary.save(&run.file("vocabulary.txt"))?;
    run.write_text(
        "validation_reviews.txt",
        &(data.valid.names.join("\n") + "\n"),
    )?;
    let shown = preprocessing(&data, config.maxlen);
    println!("{shown}");
    run.write_text("preprocessing.txt", &shown)?;

    // 2. The LSTM, stopped early on the validation loss.
    let train_batcher = SequenceBatcher::new(&data.train, config.maxlen);
    let valid_batcher = SequenceBatcher::new(&data.valid, config.maxlen);
    let model = config.model.init(&session.train_device());
    let title = format!(
        "IMDB sentiment: Embedding({}, {}) → {} → Dense(1)",
        config.model.num_words,
        config.model.embedding,
        config.model.describe()
    );
    println!("{}", model_summary(&title, &model.summary(config.maxlen)));
    let mut stopper =
        EarlyStopping::new(config.early_stopping.clone())?.keep_best_in(best_checkpoint(run)?);
    let fitted = train::fit(
        session.training(model, &config.optimizer)?,
        &train_batcher,
        &valid_batcher,
        &config.fit,
        &mut [&mut stopper],
    )?;

    // 3. The test reviews, once (unless this run only tunes settings).
    let lengths: Vec<Length> = data
        .test
        .sequences
        .iter()
        .map(|s| Length::of(s, config.maxlen))
        .collect();
    let tested = if config.test {
        let test_batcher = SequenceBatcher::new(&data.test, config.maxlen);
        let result = test(&fitted.model, &test_batcher, &lengths, &session.device)?;
        println!(
            "\ntest ({} reviews, once): accuracy {:.2}%, loss {:.4}",
            thousands(result.predictions.len()),
            100.0 * result.accuracy,
            result.loss
        );
        report_test(run, &data, &result.predictions, config.maxlen)?;
        Some(result)
    } else {
        println!("\ntest reviews not touched (--no-test: this run tunes settings on validation)");
        None
    };

    // 4. The baseline: the same split, no word order.
    let baseline = match &config.baseline {
        Some(baseline) => Some(train_baseline(&session, baseline, &data, &lengths)?),
        None => None,
    };

    // 5. The summary.
    let mut summary = session.finish(&fitted, &title)?;
    summary
        .row("reviews", data.describe())
        .row(
            "input",
            format!(
                "{} words (indices 0-{}), padded/cut at the front to {}; {:.1}% of the test \
                 reviews cut",
                thousands(config.model.num_words),
                config.model.num_words - 1,
                config.maxlen,
                100.0 * share(&lengths, Length::Long)
            ),
        )
        .row(
            "best epoch",
            format!(
                "{} (lowest validation loss; early stopping, patience {})",
                fitted.model_epoch, config.early_stopping.patience
            ),
        );
    match &tested {
        Some(t) => summary.row(
            "test (once)",
            format!(
                "{}: accuracy {:.2}%, loss {:.4} on {} reviews",
                config.model.describe(),
                100.0 * t.accuracy,
                t.loss,
                thousands(t.predictions.len())
            ),
        ),
        None => summary.row("test", "not touched (--no-test)"),
    };
    if let Some(b) = &baseline {
        summary.row(
            "baseline",
            format!(
                "bag of words (multi-hot → 16 → 16 → 1): {} (best epoch {} of {}; validation \
                 accuracy {:.2}%)",
                b.test
                    .as_ref()
                    .map_or("test not touched".to_string(), |t| format!(
                        "test accuracy {:.2}%",
                        100.0 * t.accuracy
                    )),
                b.model_epoch,
                b.epochs,
                100.0 * b.valid_accuracy
            ),
        );
    }
    if let Some(t) = &tested {
        for (i, length) in Length::ALL.iter().enumerate() {
            let (right, total) = t.by_length[i];
            if total == 0 {
                continue;
            }
            let mut text = format!(
                "{:<30} {:>6} reviews  LSTM {:.1}%",
                length.describe(config.maxlen),
                thousands(total),
                100.0 * right as f64 / total as f64
            );
            if let Some(bt) = baseline.as_ref().and_then(|b| b.test.as_ref()) {
                let (r, n) = bt.by_length[i];
                text += &format!("  baseline {:.1}%", 100.0 * r as f64 / n.max(1) as f64);
            }
            summary.row(if i == 0 { "by length" } else { "" }, text);
        }
    }
    if let Some(mb) = shared::report::peak_memory_mb() {
        summary.row("memory", format!("peak {mb:.0} MB resident"));
    }
    summary.row(
        "predict",
        "cargo run -p lab-imdb-lstm -- --predict \"your review\" (the newest run)",
    );
    session.close(&mut summary)?;
    Ok(Outcome {
        run: run.clone(),
        lstm: fitted,
        test: tested,
        baseline_test_accuracy: baseline.and_then(|b| b.test).map(|t| t.accuracy),
    })
}

/// A model's results on the test reviews.
pub struct Tested {
    pub accuracy: f64,
    pub loss: f64,
    pub predictions: Vec<ClassPrediction>,
    /// `(right, total)` per [`Length`] class.
    pub by_length: [(usize, usize); 3],
}

/// Evaluates `model` on the test reviews (`lengths`: each review's length class).
fn test<M: Supervised, B: Batcher<M::Batch>>(
    model: &M,
    batcher: &B,
    lengths: &[Length],
    device: &Device,
) -> Result<Tested> {
    let evaluation = train::evaluate(model, batcher, EVAL_BATCH, device);
    let predictions = train::predict_classes(model, batcher, EVAL_BATCH, device)?;
    Ok(Tested {
        accuracy: evaluation.get(Metric::Accuracy),
        loss: evaluation.loss(),
        by_length: accuracy_by_length(&predictions, lengths),
        predictions,
    })
}

/// `<run>/early-stopping/best.bpk`, where early stopping keeps the best epoch's weights
/// (across a `--resume` too); the folder is made here.
fn best_checkpoint(run: &RunDir) -> Result<std::path::PathBuf> {
    let dir = run.file(EARLY_STOPPING);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir.join("best.bpk"))
}

/// Early stopping for the LSTM: validation loss, patience 2, best weights restored.
pub fn early_stopping() -> EarlyStoppingConfig {
    EarlyStoppingConfig::new().with_patience(2)
}

/// The baseline's training: batch 512 as lab 10's tutorial with `--full` (16 on the small
/// sets), Adam 0.001, up to 20 epochs, stopped on the validation loss.
fn baseline_config(mode: Mode, fit: &FitConfig) -> BaselineConfig {
    let (epochs, batch) = match mode {
        Mode::Full => (20, 512),
        Mode::Sample => (20, 16),
        Mode::Quick => (2, 32),
    };
    BaselineConfig::new(
        BagOfWordsConfig::new(),
        FitConfig::new(epochs, batch, 1e-3, fit.seed).with_checkpoints(fit.checkpoints),
        EarlyStoppingConfig::new().with_patience(2),
    )
}

/// The preprocessing of the first training review, step by step.
pub fn preprocessing(data: &ImdbSplits, maxlen: usize) -> String {
    let Some(sequence) = data.train.sequences.first() else {
        return String::new();
    };
    let text: String = data.example_text.chars().take(300).collect();
    let words = shared::text::tokenize_ascii_lowercase(&data.example_text);
    let padded = &data::pad(std::slice::from_ref(sequence), maxlen)[0];
    let list = |s: &[u32]| {
        s.iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let head = 12.min(sequence.len());
    let pads = padded.iter().take_while(|&&i| i == data::PAD).count();
    let padded_text = if pads > 0 {
        format!(
            "{pads} x <PAD> 0, then the review: 0 0 0 … 0 {} …",
            list(&padded[pads..(pads + 8).min(maxlen)])
        )
    } else {
        format!(
            "cut at the front: its first {} indices dropped, the last {maxlen} kept: {} …",
            sequence.len() - maxlen,
            list(&padded[..8.min(maxlen)])
        )
    };
    format!(
        "\nPreprocessing (review {}, {}):\n  text     {:?}{}\n  words    {} …  ({} words)\n  indices  \
         {} …  ({} indices: <START> 1, then rank + 3; <UNK> 2 for a word outside the {} \
         most frequent)\n  padded   to {maxlen}: {padded_text}\n  decoded  {} …\n",
        data.train.names[0],
        if data.train.labels[0] == 1 {
            "positive"
        } else {
            "negative"
        },
        text,
        if data.example_text.chars().count() > 300 {
            " …"
        } else {
            ""
        },
        words[..12.min(words.len())].join(" "),
        words.len(),
        list(&sequence[..head]),
        sequence.len(),
        thousands(data.vocabulary.len()),
        data.vocabulary.decode(&sequence[..head.max(1)]),
    )
}

/// `(right, total)` per [`Length`] class, in [`Length::ALL`]'s order.
pub fn accuracy_by_length(
    predictions: &[ClassPrediction],
    lengths: &[Length],
) -> [(usize, usize); 3] {
    let mut counts = [(0, 0); 3];
    for p in predictions {
        let class = Length::ALL
            .iter()
            .position(|&l| l == lengths[p.index])
            .unwrap_or(0);
        counts[class].1 += 1;
        if p.predicted == p.target {
            counts[class].0 += 1;
        }
    }
    counts
}

fn share(lengths: &[Length], which: Length) -> f64 {
    lengths.iter().filter(|&&l| l == which).count() as f64 / lengths.len().max(1) as f64
}

/// The probability of "positive" a prediction holds.
pub fn p_positive(p: &ClassPrediction) -> f32 {
    p.probabilities.get(1).copied().unwrap_or(0.0)
}

/// Confusion matrix, every test prediction, and the most confidently right and wrong
/// reviews decoded back to words.
fn report_test(
    run: &RunDir,
    data: &ImdbSplits,
    predictions: &[ClassPrediction],
    maxlen: usize,
) -> Result<()> {
    let names = ["negative".to_string(), "positive".to_string()];
    let confusion = train::confusion_matrix(predictions, 2);
    shared::plot::plot_confusion(
        &run.file("confusion.png"),
        &confusion,
        &names,
        &format!(
            "IMDB test confusion matrix ({} reviews)",
            thousands(predictions.len())
        ),
    )?;
    println!(
        "  confusion: negative → {} right, {} called positive; positive → {} right, {} called \
         negative",
        confusion[0][0], confusion[0][1], confusion[1][1], confusion[1][0]
    );

    let mut csv = String::from("review,label,p_positive,predicted,words\n");
    for p in predictions {
        csv += &format!(
            "{},{},{:.6},{},{}\n",
            data.test.names[p.index],
            p.target,
            p_positive(p),
            p.predicted,
            data.test.sequences[p.index].len() - 1
        );
    }
    run.write_text("test_predictions.csv", &csv)?;

    // Most confident first.
    let mut ranked: Vec<&ClassPrediction> = predictions.iter().collect();
    ranked.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    let right: Vec<&ClassPrediction> = ranked
        .iter()
        .copied()
        .filter(|p| p.predicted == p.target)
        .take(3)
        .collect();
    let wrong: Vec<&ClassPrediction> = ranked
        .iter()
        .copied()
        .filter(|p| p.predicted != p.target)
        .take(3)
        .collect();
    let mut text = String::new();
    for (heading, list) in [
        ("Most confidently right", &right),
        ("Most confidently wrong", &wrong),
    ] {
        text += &format!(
            "{heading} (test reviews as the model read them: the last {maxlen} indices):\n"
        );
        for p in list {
            let padded = &data::pad(std::slice::from_ref(&data.test.sequences[p.index]), maxlen)[0];
            let read: Vec<u32> = padded.iter().copied().filter(|&i| i != data::PAD).collect();
            text += &format!(
                "\n  {} ({}), p(positive) = {:.3}:\n  {}\n",
                data.test.names[p.index],
                names[p.target],
                p_positive(p),
                data.vocabulary.decode(&read)
            );
        }
        text += "\n";
    }
    run.write_text("test_reviews.txt", &text)?;
    for (heading, list) in [("right", &right), ("wrong", &wrong)] {
        for p in list.iter().take(2) {
            let sequence = &data.test.sequences[p.index];
            let tail = &sequence[sequence.len().saturating_sub(25)..];
            println!(
                "  confidently {heading}: {} ({}), p(positive) {:.3}: … {}",
                data.test.names[p.index],
                names[p.target],
                p_positive(p),
                data.vocabulary.decode(tail)
            );
        }
    }
    println!("  (whole reviews in test_reviews.txt)");
    Ok(())
}

/// The baseline's results.
struct BaselineOutcome {
    test: Option<Tested>,
    valid_accuracy: f64,
    model_epoch: usize,
    epochs: usize,
}

fn train_baseline(
    session: &Session<LabConfig>,
    baseline: &BaselineConfig,
    data: &ImdbSplits,
    lengths: &[Length],
) -> Result<BaselineOutcome> {
    println!("\n=== Baseline: bag of words (multi-hot, word order ignored) ===");
    let path = session.run.file("baseline");
    std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
    baseline
        .save(path.join("config.json"))
        .context("writing baseline/config.json")?;
    let run = RunDir::open(&path)?;
    let num_words = baseline.model.num_words;
    let train_batcher = BagBatcher::new(&data.train, num_words);
    let valid_batcher = BagBatcher::new(&data.valid, num_words);

    session.device.seed(baseline.fit.seed);
    let device = session.device.clone().autodiff();
    let model = baseline.model.init(&device);
    println!(
        "{}",
        model_summary("Bag of words: multi-hot → 16 → 16 → 1", &model.summary())
    );
    let optimizer = OptimizerConfig::keras_adam();
    println!(
        "training on {} for up to {} epochs, batch {}, {} lr {} (early stopping on the \
         validation loss, patience {})",
        session.device_name(),
        baseline.fit.epochs,
        baseline.fit.batch_size,
        optimizer.name(),
        baseline.fit.lr,
        baseline.early_stopping.patience
    );
    let mut training = Training::new(model, optimizer.init(), &device).in_run(&run);
    if session.resumed && train::fit::checkpoint_dir(&run.path).is_some() {
        training = training.resume(&run)?;
    }
    let mut stopper =
        EarlyStopping::new(baseline.early_stopping.clone())?.keep_best_in(best_checkpoint(&run)?);
    let fitted = train::fit(
        training,
        &train_batcher,
        &valid_batcher,
        &baseline.fit,
        &mut [&mut stopper],
    )?;
    let valid = train::evaluate(&fitted.model, &valid_batcher, EVAL_BATCH, &session.device);
    let tested = if session.config.test {
        let test_batcher = BagBatcher::new(&data.test, num_words);
        let result = test(&fitted.model, &test_batcher, lengths, &session.device)?;
        println!(
            "baseline test ({} reviews, once): accuracy {:.2}%, loss {:.4}",
            thousands(result.predictions.len()),
            100.0 * result.accuracy,
            result.loss
        );
        Some(result)
    } else {
        None
    };
    fitted
        .model
        .clone()
        .save_file(run.file("model.bpk"))
        .context("saving baseline/model.bpk")?;
    fitted.history.save(&run.path)?;
    shared::plot::plot_history(
        &run.file("curves.png"),
        &fitted.history,
        "IMDB bag of words (multi-hot → 16 → 16 → 1)",
    )?;
    Ok(BaselineOutcome {
        test: tested,
        valid_accuracy: valid.get(Metric::Accuracy),
        model_epoch: fitted.model_epoch,
        epochs: fitted.history.epochs.len(),
    })
}

/// The probability of "positive" for each of `batcher`'s reviews, by `model`.
pub fn probabilities<M: Supervised, B: Batcher<M::Batch>>(
    model: &M,
    batcher: &B,
    device: &Device,
) -> Result<Vec<f32>> {
    Ok(train::predict_classes(model, batcher, EVAL_BATCH, device)?
        .iter()
        .map(p_positive)
        .collect())
}
