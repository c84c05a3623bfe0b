//! Training a character model on Alice, with the text it writes after every epoch.
//!
//! [`train_char_model`] is shared with lab 6 (the LSTM): same data, same loop, same samples.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use burn::optim::{ModuleOptimizer, RmsPropConfig};
use burn::prelude::*;
use serde::{Deserialize, Serialize};
use shared::cli::{CommonArgs, Defaults, Mode};
use shared::datasets::DataSource;
use shared::plot::{self, Panel};
use shared::report::{Summary, model_summary, thousands};
use shared::rng::Rng;
use shared::run::RunDir;
use shared::train::{self, FitConfig, Fitted, History};

use crate::data::{self, CharBatch, CharBatcher, CharData};
use crate::generate::{LECTURE_SAMPLINGS, Sampling, generate};
use crate::gradients::gradient_flow;
use crate::hello::learn_hello;
use crate::model::{CellImpl, CharRnn, NextChar};

/// Everything that defines a run of a character model; saved as `config.json`.
#[derive(Config, Debug)]
pub struct CharConfig {
    /// Hidden units of the recurrent layer.
    pub units: usize,
    pub cell: CellImpl,
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub seed: u64,
    /// The text generation starts from after each epoch.
    pub seed_text: String,
    /// Characters generated after each epoch.
    #[config(default = 100)]
    pub generate: usize,
    /// Characters the model reads to predict the next one.
    #[config(default = 10)]
    pub window: usize,
    /// A window starts every `step` characters.
    #[config(default = 1)]
    pub step: usize,
    /// The last share of the book, kept for validation.
    #[config(default = 0.1)]
    pub validation_share: f64,
    /// Characters of the book used in a `--quick` run (0: all of it).
    #[config(default = 0)]
    pub quick_chars: usize,
    /// `sample`, `full` or `quick`.
    pub mode: String,
    pub data_dir: Option<PathBuf>,
}

/// The bundled text is the whole book, so the default run already trains on all of it; the
/// lecture trains for 25 epochs of batch 128 with RMSprop at 0.001.
pub const SAMPLE: Defaults = Defaults {
    epochs: 10,
    batch_size: 128,
    lr: 1e-3,
};
pub const FULL: Defaults = Defaults {
    epochs: 25,
    batch_size: 128,
    lr: 1e-3,
};
pub const QUICK: Defaults = Defaults {
    epochs: 1,
    batch_size: 128,
    lr: 1e-3,
};

/// How much of the book a `--quick` run reads.
pub const QUICK_CHARS: usize = 20_000;

/// A lab's defaults for the three modes: the sample (default), `--full` and `--quick`.
pub type ModeDefaults = (Defaults, Defaults, Defaults);

/// Lab 5's defaults.
pub const RNN_DEFAULTS: ModeDefaults = (SAMPLE, FULL, QUICK);

impl CharConfig {
    pub fn from_args(
        args: &CommonArgs,
        defaults: ModeDefaults,
        units: usize,
        cell: CellImpl,
        seed_text: &str,
    ) -> Self {
        let hyper = args.hyper(defaults.0, defaults.1, defaults.2);
        let quick_chars = if args.mode() == Mode::Quick {
            QUICK_CHARS
        } else {
            0
        };
        CharConfig::new(
            units,
            cell,
            hyper.epochs,
            hyper.batch_size,
            hyper.lr,
            args.seed,
            seed_text.to_string(),
            args.mode().name().into(),
        )
        .with_quick_chars(quick_chars)
        .with_data_dir(args.source().data_dir())
    }

    pub fn source(&self) -> DataSource {
        DataSource::saved(&self.mode, self.data_dir.as_deref())
    }

    /// The book, cut into windows.
    pub fn load_data(&self) -> Result<CharData> {
        let source = self.source();
        let mut data = data::load(&source, self.window, self.step, self.validation_share)?;
        if self.quick_chars > 0 {
            let text: String = data.text.chars().take(self.quick_chars).collect();
            data = data::split(text, self.window, self.step, self.validation_share);
        }
        Ok(data)
    }

    /// One line on the text and its windows, printed before training.
    pub fn describe_data(&self, data: &CharData) -> String {
        format!(
            "Alice in Wonderland ({}): {} characters, alphabet of {}; {} training and {} validation windows of {}",
            self.source().describe(),
            thousands(data.text.chars().count()),
            data.vocab.len(),
            thousands(data.train.len()),
            thousands(data.valid.len()),
            self.window
        )
    }

    /// Keras's RMSprop (ρ = 0.9, ε = 1e-7, no momentum), the lecture's optimiser.
    pub fn optimizer(&self) -> ModuleOptimizer {
        RmsPropConfig::new()
            .with_alpha(0.9)
            .with_momentum(0.0)
            .with_epsilon(1e-7)
            .init()
    }
}

/// The texts written after one epoch.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EpochSamples {
    pub epoch: usize,
    /// `(sampling, text)`: greedy, then each temperature.
    pub texts: Vec<(String, String)>,
}

/// Trains `model` (on the autodiff `train_device`), printing and saving
/// `samples.txt`/`samples.json` after each epoch; checkpoints in `run` allow `--resume`.
#[allow(clippy::too_many_arguments)]
pub fn train_char_model<M: NextChar + shared::train::Supervised<Batch = CharBatch>>(
    model: M,
    config: &CharConfig,
    data: &CharData,
    device: &Device,
    train_device: &Device,
    run: &RunDir,
    resume: Option<&std::path::Path>,
) -> Result<(Fitted<M>, Vec<EpochSamples>)> {
    let (model, optimizer, history) = match resume {
        Some(path) => train::resume(path, model, config.optimizer())?,
        None => (model, config.optimizer(), History::default()),
    };
    let mut samples: Vec<EpochSamples> = match std::fs::read(run.file("samples.json")) {
        Ok(bytes) if resume.is_some() => serde_json::from_slice(&bytes).unwrap_or_default(),
        _ => Vec::new(),
    };
    // Generation must not fail mid-training: check the seed text once, now.
    data.vocab
        .encode(&config.seed_text)
        .map_err(|e| anyhow::anyhow!("--seed-text {:?}: {e}", config.seed_text))?;
    let fit_config = FitConfig {
        epochs: config.epochs,
        batch_size: config.batch_size,
        lr: config.lr,
        lr_decay: 1.0,
        seed: config.seed,
        early_stopping: None,
    };
    let mut rng = Rng::new(config.seed ^ 0x5eed);
    let mut observe = |model: &M, record: &train::EpochRecord| -> Result<()> {
        let texts = generate(
            &model.valid(),
            &data.vocab,
            &config.seed_text,
            config.window,
            config.generate,
            &LECTURE_SAMPLINGS,
            &mut rng,
            device,
        )
        .map_err(anyhow::Error::msg)?;
        let epoch = EpochSamples {
            epoch: record.epoch,
            texts: LECTURE_SAMPLINGS
                .iter()
                .map(|s| s.to_string())
                .zip(texts)
                .collect(),
        };
        print!("{}", format_samples(&config.seed_text, &epoch));
        samples.push(epoch);
        run.write_json("samples.json", &samples)?;
        run.write_text("samples.txt", &samples_text(&config.seed_text, &samples))
    };
    let fitted = train::fit_observed(
        model,
        optimizer,
        &CharBatcher::new(data.train.clone(), data.vocab.len()),
        &CharBatcher::new(data.valid.clone(), data.vocab.len()),
        &fit_config,
        train_device,
        Some(run),
        history,
        &mut observe,
    )?;
    Ok((fitted, samples))
}

/// One epoch's texts as printed: `  greedy | alice look…`.
pub fn format_samples(seed: &str, samples: &EpochSamples) -> String {
    let mut out = String::new();
    for (sampling, text) in &samples.texts {
        let shown: String = format!("{seed}{text}")
            .chars()
            .map(|c| if c == '\n' { ' ' } else { c })
            .collect();
        let _ = writeln!(out, "  {sampling:>6} | {shown}");
    }
    out
}

fn samples_text(seed: &str, samples: &[EpochSamples]) -> String {
    samples
        .iter()
        .map(|s| format!("epoch {}\n{}", s.epoch, format_samples(seed, s)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What lab 5 hands back (for the tests and for lab 6).
pub struct Outcome {
    pub run: RunDir,
    pub history: History,
    pub samples: Vec<EpochSamples>,
    pub hello_iterations: usize,
}

/// Lab 5: the "hello" warm-up, vanishing/exploding gradients, then the SimpleRNN on Alice.
pub fn run(args: &CommonArgs, units: usize, cell: CellImpl, seed_text: &str) -> Result<Outcome> {
    let device = shared::device::select(args.device)?;
    let (run, config) = shared::run::start(
        args,
        "alice-rnn",
        || CharConfig::from_args(args, RNN_DEFAULTS, units, cell, seed_text),
        |c| &mut c.epochs,
    )?;

    // 1. "hello": the smallest recurrent problem.
    println!(
        "1. \"hell\" → \"ello\": a SimpleRNN with 8 units learns to continue \"h\" into \"hello\""
    );
    let hello = learn_hello(&device, config.seed, 500);
    for (iteration, predicted, loss) in &hello.trace {
        println!("   iteration {iteration:>3}: h{predicted}  (loss {loss:.4})");
    }
    println!(
        "   {} after {} iterations ({:.2} s)\n",
        if hello.predicted == "ello" {
            "all four steps right"
        } else {
            "NOT learned"
        },
        hello.iterations,
        hello.seconds
    );

    // 2. Vanishing and exploding gradients.
    let (steps, flow_units) = (40, 64);
    let flows = gradient_flow(&device, steps, flow_units, config.seed);
    println!("2. The gradient reaching earlier steps (loss at step {steps}, {flow_units} units):");
    for flow in &flows {
        println!(
            "   {:<28} step {steps}: {:.2e}   step {}: {:.2e}   step 1: {:.2e}",
            flow.label,
            flow.norms[steps - 1],
            steps - 10,
            flow.norms[steps - 11],
            flow.norms[0]
        );
    }
    plot_gradient_flow(&run, &flows, steps)?;
    println!("   plot: gradients.png\n");

    // 3. Alice.
    let data = config.load_data()?;
    println!("3. {}", config.describe_data(&data));
    device.seed(config.seed);
    let train_device = device.clone().autodiff();
    let model = CharRnn::new(data.vocab.len(), config.units, config.cell, &train_device);
    println!(
        "\n{}",
        model_summary("SimpleRNN character model", &model.summary())
    );
    println!(
        "training on {} for {} epochs, batch {}, RMSprop lr {}, cell: {:?}",
        shared::device::describe(args.device),
        config.epochs,
        config.batch_size,
        config.lr,
        config.cell
    );
    let started = Instant::now();
    let (fitted, samples) = train_char_model(
        model,
        &config,
        &data,
        &device,
        &train_device,
        &run,
        args.resume.as_deref(),
    )?;
    let seconds = started.elapsed().as_secs_f64();

    fitted
        .model
        .clone()
        .save_file(run.file("model.bpk"))
        .context("saving model.bpk")?;
    fitted.history.save(&run.path)?;
    plot::plot_history(
        &run.file("curves.png"),
        &fitted.history,
        "SimpleRNN on Alice: next-character loss and accuracy",
    )?;
    let mut summary = Summary::new("Lab 5 · SimpleRNN writes like Alice");
    char_summary(&mut summary, &config, &fitted, &samples, seconds);
    summary
        .row(
            "hello",
            format!(
                "\"h\" → \"h{}\" after {} iterations",
                hello.predicted, hello.iterations
            ),
        )
        .row("device", shared::device::describe(args.device))
        .row("run folder", run.path.display())
        .row(
            "files",
            "config.json model.bpk history.csv samples.txt summary.txt",
        )
        .row("plots", "curves.png gradients.png");
    let text = summary.render();
    println!("\n{text}");
    run.write_text("summary.txt", &text)?;
    Ok(Outcome {
        run,
        history: fitted.history,
        samples,
        hello_iterations: hello.iterations,
    })
}

/// The rows every character lab reports.
pub fn char_summary<M: Module>(
    summary: &mut Summary,
    config: &CharConfig,
    fitted: &Fitted<M>,
    samples: &[EpochSamples],
    seconds: f64,
) {
    summary
        .row("data", format!("Alice, {}", config.source().describe()))
        .row("parameters", thousands(fitted.model.num_params()))
        .row(
            "epochs",
            format!(
                "{} (batch {}, RMSprop lr {}), {:.0} s in all",
                fitted.history.epochs.len(),
                config.batch_size,
                config.lr,
                seconds
            ),
        );
    if let Some(last) = fitted.history.last() {
        summary
            .row(
                "final train",
                format!(
                    "loss {:.4}, next-character accuracy {:.1}%",
                    last.train_loss,
                    100.0 * last.train_metric
                ),
            )
            .row(
                "final valid",
                format!(
                    "loss {:.4}, next-character accuracy {:.1}%",
                    last.valid_loss,
                    100.0 * last.valid_metric
                ),
            )
            .row(
                "speed",
                format!(
                    "{:.1} s per epoch, {} windows/s",
                    last.seconds,
                    thousands(last.samples_per_second as usize)
                ),
            );
    }
    if let Some(last) = samples.last() {
        for (sampling, text) in &last.texts {
            let line: String = text
                .chars()
                .take(60)
                .map(|c| if c == '\n' { ' ' } else { c })
                .collect();
            summary.row(
                &format!("text, {sampling}"),
                format!("{}{line}…", config.seed_text),
            );
        }
    }
}

/// `gradients.png`: log10 of the gradient norm at each step, one line per setting.
fn plot_gradient_flow(
    run: &RunDir,
    flows: &[crate::gradients::GradientFlow],
    steps: usize,
) -> Result<()> {
    let colors = [plot::BLUE, plot::GREEN, plot::RED];
    let series = flows
        .iter()
        .zip(colors.iter().cycle())
        .map(|(flow, color)| {
            let points = flow
                .norms
                .iter()
                .enumerate()
                .map(|(t, n)| (t + 1, n.max(1e-30).log10()))
                .collect();
            (flow.label.as_str(), *color, points)
        })
        .collect();
    plot::plot_lines(
        &run.file("gradients.png"),
        &format!("Gradient reaching each step of a tanh SimpleRNN (loss at step {steps})"),
        "time step",
        &[Panel {
            title: "falling towards step 1: vanishing; rising: exploding",
            y_label: "log10 ‖∂L/∂z_t‖",
            series,
        }],
    )?;
    let mut csv = String::from("step");
    for flow in flows {
        csv += &format!(",{}", flow.label);
    }
    csv.push('\n');
    for t in 0..steps {
        csv += &(t + 1).to_string();
        for flow in flows {
            csv += &format!(",{:e}", flow.norms[t]);
        }
        csv.push('\n');
    }
    run.write_text("gradients.csv", &csv)
}

/// The defaults of a character lab for `--help`, given its sample-mode defaults.
pub fn defaults_help(sample: Defaults) -> String {
    let quick = format!("on the first {QUICK_CHARS} characters");
    shared::cli::defaults_help(
        "Defaults (RMSprop as in the lecture, windows of 10 characters, the last 10% of the \
         book for validation)",
        [sample, FULL, QUICK],
        [
            "(the whole book is bundled)",
            "(the lecture's 25; downloads the book from Gutenberg)",
            &quick,
        ],
    ) + &format!("\nText after each epoch: {}.", samplings_text())
}

/// The samplings printed after each epoch (for `--help`).
pub fn samplings_text() -> String {
    LECTURE_SAMPLINGS
        .iter()
        .map(Sampling::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
