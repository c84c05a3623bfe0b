//! Lab 6: the LSTM on Alice, and the comparison with the SimpleRNN the lecture asks for.
//!
//! The book's windows, their batches, text generation and the character-model training
//! loop come from `shared::chars`; the SimpleRNN to compare with is lab 5's own model.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::prelude::*;
use lab_alice_rnn::model::CharRnn;
use shared::chars::{self, CharArgs, CharConfig, CharData, EpochSamples};
use shared::cli::{CommonArgs, Mode};
use shared::lab::{Lab, Session};
use shared::plot::{self, Panel};
use shared::report::{Summary, thousands};
use shared::run::RunDir;
use shared::train::{History, Metric};

use crate::model::{CharLstm, char_model_params, matching_rnn_units};

/// Lab 6, with its defaults (epochs, batch size, learning rate). An LSTM epoch costs about
/// three SimpleRNN epochs, so the default run is shorter than lab 5's; the lecture's 25
/// epochs are `--full` (or `--epochs 25`).
pub const LAB: Lab = Lab::new("alice-lstm", "Lab 6")
    .sample(5, 128, 1e-3)
    .full(25, 128, 1e-3)
    .quick(1, 128, 1e-3);

/// Where the SimpleRNN to compare with comes from.
#[derive(Debug, Clone)]
pub enum Comparison {
    /// Train one here, with about the LSTM's parameter count (`--compare`).
    Train,
    /// A finished run folder of lab 5 (`--rnn-run`).
    Folder(PathBuf),
    /// The newest finished lab 5 run under `--out`, if there is one.
    Latest,
}

/// One side of the comparison.
pub struct Side {
    pub name: String,
    pub params: usize,
    pub history: History,
    pub samples: Vec<EpochSamples>,
}

pub struct Outcome {
    pub run: RunDir,
    pub lstm: Side,
    pub rnn: Option<Side>,
}

pub fn run(args: &CommonArgs, chars: &CharArgs, comparison: Comparison) -> Result<Outcome> {
    let session = LAB.start(args, |data, fit| chars.config(data, fit))?;
    let config = &session.config;
    // Find a lab 5 run to compare with before spending minutes on training.
    let rnn_folder = match &comparison {
        Comparison::Folder(path) => Some(check_rnn_folder(path)?),
        Comparison::Latest => latest_rnn_run(&args.out, config.data.mode),
        Comparison::Train => None,
    };

    let data = config.load_data()?;
    println!("{}", config.describe_data(&data));
    let model = CharLstm::new(
        data.vocab.len(),
        config.units,
        config.cell,
        &session.train_device(),
    );
    let layers = model.summary();
    let (fitted, samples, mut summary) =
        chars::train_and_report(&session, &data, model, &layers, "LSTM writes like Alice")?;
    let lstm = Side {
        name: format!("LSTM({})", config.units),
        params: fitted.model.num_params(),
        history: fitted.history.clone(),
        samples,
    };

    // The SimpleRNN side.
    let rnn = match (&comparison, rnn_folder) {
        (Comparison::Train, _) => Some(train_rnn(&session, &data)?),
        (_, Some(folder)) => {
            println!("\ncomparing with the SimpleRNN run in {}", folder.display());
            Some(read_rnn_run(&folder, data.vocab.len())?)
        }
        (_, None) => {
            println!(
                "\nno SimpleRNN run to compare with: run lab 5 first (cargo run -p \
                 lab-alice-rnn), pass --rnn-run <its run folder>, or add --compare to train one here"
            );
            None
        }
    };
    if let Some(rnn) = &rnn {
        compare(&session.run, config, &lstm, rnn, &mut summary)?;
    }
    session.close(&mut summary)?;
    Ok(Outcome {
        run: session.run.clone(),
        lstm,
        rnn,
    })
}

/// Trains lab 5's SimpleRNN with about the LSTM's parameter count, same data and settings,
/// into `<run>/simple-rnn/`.
fn train_rnn(session: &Session<CharConfig>, data: &CharData) -> Result<Side> {
    let config = &session.config;
    let vocab = data.vocab.len();
    let units = matching_rnn_units(vocab, config.units);
    let folder = session.run.file("simple-rnn");
    std::fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;
    let mut rnn_config = config.clone();
    rnn_config.units = units;
    rnn_config
        .save(folder.join("config.json"))
        .context("writing simple-rnn/config.json")?;
    let rnn_run = RunDir::open(&folder)?;
    println!(
        "\nthe SimpleRNN to compare with: {units} units, {} parameters (the LSTM: {})",
        thousands(char_model_params(vocab, units, false)),
        thousands(char_model_params(vocab, config.units, true))
    );
    let model = CharRnn::new(vocab, units, rnn_config.cell, &session.train_device());
    // Resuming continues the SimpleRNN too, if it had got as far as a checkpoint.
    let training = session.training_in(&rnn_run, model, &rnn_config.optimizer)?;
    let (fitted, samples) = chars::train_char_model(training, &rnn_config, data, &session.device)?;
    fitted.history.save(&folder)?;
    Ok(Side {
        name: format!("SimpleRNN({units})"),
        params: fitted.model.num_params(),
        history: fitted.history,
        samples,
    })
}

/// A lab 5 run folder must have finished: its history and its samples.
fn check_rnn_folder(path: &Path) -> Result<PathBuf> {
    for file in ["config.json", "history.json", "samples.json"] {
        if !path.join(file).exists() {
            bail!(
                "{} is not a finished run of lab 5 (lab-alice-rnn): it has no {file}",
                path.display()
            );
        }
    }
    Ok(path.to_path_buf())
}

/// The newest finished lab 5 run of the same mode under `out`.
fn latest_rnn_run(out: &Path, mode: Mode) -> Option<PathBuf> {
    let mut runs: Vec<PathBuf> = std::fs::read_dir(out.join("alice-rnn"))
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("summary.txt").exists() && check_rnn_folder(p).is_ok())
        .filter(|p| CharConfig::load(p.join("config.json")).is_ok_and(|c| c.data.mode == mode))
        .collect();
    runs.sort();
    runs.pop()
}

fn read_rnn_run(folder: &Path, vocab: usize) -> Result<Side> {
    let config = CharConfig::load(folder.join("config.json"))
        .with_context(|| format!("reading {}", folder.join("config.json").display()))?;
    let history = History::load(&folder.join("history.json"))?;
    let samples: Vec<EpochSamples> = serde_json::from_slice(
        &std::fs::read(folder.join("samples.json"))
            .with_context(|| format!("reading {}", folder.join("samples.json").display()))?,
    )
    .with_context(|| {
        format!(
            "{} is not a list of samples",
            folder.join("samples.json").display()
        )
    })?;
    Ok(Side {
        name: format!("SimpleRNN({})", config.units),
        params: char_model_params(vocab, config.units, false),
        history,
        samples,
    })
}

/// `comparison.png` (validation loss and accuracy of both), `comparison.txt` (the texts of
/// the last common epoch side by side) and summary rows.
fn compare(
    run: &RunDir,
    config: &CharConfig,
    lstm: &Side,
    rnn: &Side,
    summary: &mut Summary,
) -> Result<()> {
    let points = |side: &Side, name: &str| side.history.series(name);
    let lstm_label = format!("{} ({} params)", lstm.name, thousands(lstm.params));
    let rnn_label = format!("{} ({} params)", rnn.name, thousands(rnn.params));
    plot::plot_curves(
        &run.file("comparison.png"),
        "LSTM vs SimpleRNN on Alice (same data, similar parameter count)",
        &[
            Panel::new(
                "validation loss",
                "cross-entropy",
                vec![
                    (&rnn_label, plot::BLUE, points(rnn, "val_loss")),
                    (&lstm_label, plot::RED, points(lstm, "val_loss")),
                ],
            ),
            Panel::new(
                "validation next-character accuracy",
                "accuracy",
                vec![
                    (&rnn_label, plot::BLUE, points(rnn, "val_accuracy")),
                    (&lstm_label, plot::RED, points(lstm, "val_accuracy")),
                ],
            ),
        ],
    )?;

    let common = lstm.history.epochs.len().min(rnn.history.epochs.len());
    if common == 0 {
        return Ok(());
    }
    let at = |side: &Side| side.history.epochs[common - 1].clone();
    let (l, r) = (at(lstm), at(rnn));
    summary
        .row(
            &format!("valid loss, epoch {common}"),
            format!(
                "LSTM {:.4} vs SimpleRNN {:.4} ({:+.1}%)",
                l.valid(Metric::Loss),
                r.valid(Metric::Loss),
                100.0 * (l.valid(Metric::Loss) - r.valid(Metric::Loss)) / r.valid(Metric::Loss)
            ),
        )
        .row(
            &format!("valid accuracy, epoch {common}"),
            format!(
                "LSTM {:.1}% vs SimpleRNN {:.1}%",
                100.0 * l.valid(Metric::Accuracy),
                100.0 * r.valid(Metric::Accuracy)
            ),
        )
        .row(
            "time per epoch",
            format!("LSTM {:.1} s, SimpleRNN {:.1} s", l.seconds, r.seconds),
        );

    let find = |side: &Side| side.samples.iter().find(|s| s.epoch == common).cloned();
    if let (Some(a), Some(b)) = (find(rnn), find(lstm)) {
        let text = side_by_side(&config.seed_text, &rnn.name, &a, &lstm.name, &b, 52);
        println!(
            "\nAfter epoch {common}, from \"{}\":\n{text}",
            config.seed_text
        );
        run.write_text(
            "comparison.txt",
            &format!(
                "After epoch {common}, from \"{}\":\n{text}",
                config.seed_text
            ),
        )?;
    }
    Ok(())
}

/// Two sets of samples in two columns, `width` characters each.
pub fn side_by_side(
    seed: &str,
    left_name: &str,
    left: &EpochSamples,
    right_name: &str,
    right: &EpochSamples,
    width: usize,
) -> String {
    let wrap = |text: &str| -> Vec<String> {
        let chars: Vec<char> = format!("{seed}{text}")
            .chars()
            .map(|c| if c == '\n' { ' ' } else { c })
            .collect();
        chars.chunks(width).map(|c| c.iter().collect()).collect()
    };
    let mut out = String::new();
    let _ = writeln!(out, "{:>7}   {left_name:<width$} | {right_name}", "");
    for ((sampling, a), (_, b)) in left.texts.iter().zip(&right.texts) {
        let (a, b) = (wrap(a), wrap(b));
        for i in 0..a.len().max(b.len()) {
            let label = if i == 0 { sampling.as_str() } else { "" };
            let _ = writeln!(
                out,
                "{label:>7}   {:<width$} | {}",
                a.get(i).map_or("", String::as_str),
                b.get(i).map_or("", String::as_str)
            );
        }
    }
    out
}
