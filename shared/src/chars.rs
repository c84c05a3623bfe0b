//! Character models: the text cut into windows, their batches, and writing text with a
//! trained model. Lab 5 (SimpleRNN) and lab 6 (LSTM) share all of it.
//!
//! The lecture's data: *Alice in Wonderland*, lower-cased, cut into 10-character windows,
//! each followed by the character to predict ("alice lear" → "n").
//!
//! Writing text: feed the last characters, pick the next one, append it, repeat.
//!
//! * **Greedy** always takes the most likely character. It is deterministic and soon loops
//!   ("the the the …"), because the most likely continuation of a loop is the loop.
//! * **Temperature sampling** draws the next character from `softmax(logits / T)`. A low
//!   temperature (0.2) stays close to greedy; 1.0 samples the model's own distribution;
//!   higher values flatten it towards random letters.

use std::fmt::{self, Write as _};

use anyhow::Result;
use burn::prelude::*;
use clap::ValueEnum;
use serde::{Deserialize, Serialize};

use crate::DataError;
use crate::alice::{self, Vocabulary};
use crate::datasets::DataSource;
use crate::download::Downloader;
use crate::lab::{DataChoice, OptimizerConfig, Session};
use crate::report::{LayerRow, Summary, model_summary, thousands};
use crate::rng::Rng;
use crate::train::{self, Batcher, EachEpoch, FitConfig, Fitted, StepOutput, Supervised, Training};

/// A window of characters (as vocabulary indices) and the character that follows it.
pub type Window = (Vec<usize>, usize);

/// The text, its alphabet, and the windows for training and validation.
pub struct CharData {
    pub text: String,
    pub vocab: Vocabulary,
    pub train: Vec<Window>,
    pub valid: Vec<Window>,
}

/// Loads the book (the bundled copy is the whole book; `--full` downloads it from Project
/// Gutenberg) and cuts it into windows.
///
/// The **last** `valid_share` of the book is kept for validation. Windows overlap, so a
/// random split would put nearly the same window on both sides; a cut keeps them apart.
pub fn load(
    source: &DataSource,
    window: usize,
    step: usize,
    valid_share: f64,
) -> Result<CharData, DataError> {
    let text = alice::load(source, &Downloader::default(), true)?;
    Ok(split(text, window, step, valid_share))
}

/// The windows of a text, split into training and validation parts.
pub fn split(text: String, window: usize, step: usize, valid_share: f64) -> CharData {
    let vocab = Vocabulary::of(&text);
    let encoded = vocab
        .encode(&text)
        .expect("every character of a text is in its own vocabulary");
    let cut = ((encoded.len() as f64) * (1.0 - valid_share)).round() as usize;
    let cut = cut.clamp(window + 1, encoded.len());
    let train = alice::windows(&encoded[..cut], window, step);
    let valid = alice::windows(&encoded[cut.saturating_sub(window)..], window, step);
    CharData {
        text,
        vocab,
        train,
        valid,
    }
}

/// Windows as one-hot tensors: `[batch, window, vocabulary]`.
pub fn one_hot(windows: &[&[usize]], vocab_size: usize, device: &Device) -> Tensor<3> {
    let steps = windows.first().map_or(0, |w| w.len());
    let mut values = vec![0.0f32; windows.len() * steps * vocab_size];
    for (b, window) in windows.iter().enumerate() {
        for (t, &c) in window.iter().enumerate() {
            values[(b * steps + t) * vocab_size + c] = 1.0;
        }
    }
    Tensor::from_data(
        TensorData::new(values, [windows.len(), steps, vocab_size]),
        device,
    )
}

/// A batch: one-hot windows and the index of the next character.
pub struct CharBatch {
    pub inputs: Tensor<3>,
    pub targets: Tensor<1, Int>,
}

pub struct CharBatcher {
    windows: Vec<Window>,
    vocab_size: usize,
}

impl CharBatcher {
    pub fn new(windows: Vec<Window>, vocab_size: usize) -> Self {
        CharBatcher {
            windows,
            vocab_size,
        }
    }
}

impl Batcher<CharBatch> for CharBatcher {
    fn len(&self) -> usize {
        self.windows.len()
    }

    fn batch(&self, indices: &[usize], device: &Device) -> CharBatch {
        let windows: Vec<&[usize]> = indices
            .iter()
            .map(|&i| self.windows[i].0.as_slice())
            .collect();
        let targets: Vec<i64> = indices.iter().map(|&i| self.windows[i].1 as i64).collect();
        CharBatch {
            inputs: one_hot(&windows, self.vocab_size, device),
            targets: Tensor::from_data(TensorData::new(targets, [indices.len()]), device),
        }
    }
}

/// How the next character is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sampling {
    Greedy,
    Temperature(f64),
}

impl fmt::Display for Sampling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sampling::Greedy => write!(f, "greedy"),
            Sampling::Temperature(t) => write!(f, "T={t}"),
        }
    }
}

/// The lecture's samplings: greedy, then temperatures 0.2, 0.5 and 1.0.
pub const LECTURE_SAMPLINGS: [Sampling; 4] = [
    Sampling::Greedy,
    Sampling::Temperature(0.2),
    Sampling::Temperature(0.5),
    Sampling::Temperature(1.0),
];

/// Continues `seed` by `length` characters once per sampling (all in one batch). The model
/// reads the last `window` characters each time. Returns only the new characters.
///
/// Errors: an empty seed, a character the model does not know, a temperature ≤ 0.
#[allow(clippy::too_many_arguments)]
pub fn generate<M: NextChar>(
    model: &M,
    vocab: &Vocabulary,
    seed: &str,
    window: usize,
    length: usize,
    samplings: &[Sampling],
    rng: &mut Rng,
    device: &Device,
) -> Result<Vec<String>, String> {
    if seed.is_empty() {
        return Err("the seed text is empty: give at least one character".into());
    }
    if let Some(bad) = samplings
        .iter()
        .find(|s| matches!(s, Sampling::Temperature(t) if *t <= 0.0 || !t.is_finite()))
    {
        return Err(format!("{bad}: a temperature must be a positive number"));
    }
    let seed = vocab.encode(seed).map_err(|e| {
        format!(
            "seed text: {e}; the model only knows {:?}",
            vocab.decode(&(0..vocab.len()).collect::<Vec<_>>())
        )
    })?;
    let mut texts: Vec<Vec<usize>> = vec![seed.clone(); samplings.len()];
    for _ in 0..length {
        let windows: Vec<&[usize]> = texts
            .iter()
            .map(|t| &t[t.len().saturating_sub(window)..])
            .collect();
        let logits = model.logits(one_hot(&windows, vocab.len(), device));
        let values = crate::floats(logits);
        for (row, (text, sampling)) in texts.iter_mut().zip(samplings).enumerate() {
            let scores = &values[row * vocab.len()..(row + 1) * vocab.len()];
            text.push(choose(scores, *sampling, rng));
        }
    }
    Ok(texts
        .iter()
        .map(|t| vocab.decode(&t[seed.len()..]))
        .collect())
}

/// The next character from one row of logits.
pub fn choose(logits: &[f32], sampling: Sampling, rng: &mut Rng) -> usize {
    match sampling {
        Sampling::Greedy => argmax(logits),
        Sampling::Temperature(t) => {
            let probabilities = softmax_with_temperature(logits, t);
            let mut u = rng.unit();
            for (i, p) in probabilities.iter().enumerate() {
                if u < *p {
                    return i;
                }
                u -= p;
            }
            argmax(logits) // only reached through rounding: the remaining mass is ~0
        }
    }
}

/// `softmax(logits / T)`, computed stably.
pub fn softmax_with_temperature(logits: &[f32], temperature: f64) -> Vec<f64> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let weights: Vec<f64> = logits
        .iter()
        .map(|&l| ((l as f64 - max) / temperature).exp())
        .collect();
    let total: f64 = weights.iter().sum();
    weights.into_iter().map(|w| w / total).collect()
}

fn argmax(values: &[f32]) -> usize {
    values
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(i, _)| i)
}

/// What generation and training need from a character model: next-character scores.
pub trait NextChar: Supervised<Batch = CharBatch> {
    /// `inputs: [batch, T, vocabulary]` one-hot → logits `[batch, vocabulary]`.
    fn logits(&self, inputs: Tensor<3>) -> Tensor<2>;
}

/// The step of every character model: next-character scores against the true next
/// character, a multi-class problem.
pub fn forward_step<M: NextChar>(model: &M, batch: CharBatch) -> StepOutput {
    StepOutput::classification(model.logits(batch.inputs), batch.targets)
}

/// Which code runs the recurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CellImpl {
    /// The lab's cell; the recurrence is one operation with a hand-written backward pass
    /// (back-propagation through time). The fastest.
    Lab,
    /// The lab's cell, one differentiable step at a time: what the slide draws, slower to
    /// train.
    Steps,
    /// burn's own layer (`burn::nn::Rnn`, `burn::nn::Lstm`; same equations).
    Burn,
}

crate::lab_config! {
    /// Everything that defines a run of a character model; saved as `config.json`. The
    /// validation split (`data.validation_split`) is the last share of the book.
    pub struct CharConfig {
        /// Hidden units of the recurrent layer.
        pub units: usize,
        pub cell: CellImpl,
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
        /// Characters of the book used in a `--quick` run (0: all of it).
        #[config(default = 0)]
        pub quick_chars: usize,
    }
}

/// The flags of both character labs, besides the common ones.
#[derive(Debug, Clone, clap::Args)]
pub struct CharArgs {
    /// Hidden units of the recurrent layer
    #[arg(long, default_value_t = 128)]
    pub units: usize,

    /// Which implementation of the recurrence trains: the lab's cell with its hand-written
    /// backward pass (fastest), the same cell one differentiable step at a time, or burn's own
    #[arg(long, value_enum, default_value_t = CellImpl::Lab)]
    pub cell: CellImpl,

    /// The text generation starts from (lower case; characters of the book only)
    #[arg(long, default_value = "alice look")]
    pub seed_text: String,
}

impl CharArgs {
    /// The lecture's config for these flags; refuses a layer of no units.
    pub fn config(&self, data: DataChoice, fit: FitConfig) -> Result<CharConfig> {
        anyhow::ensure!(self.units > 0, "--units must be at least 1");
        Ok(CharConfig::lecture(
            data,
            fit,
            self.units,
            self.cell,
            &self.seed_text,
        ))
    }
}

/// How much of the book a `--quick` run reads.
pub const QUICK_CHARS: usize = 20_000;

impl CharConfig {
    /// The lecture's settings (RMSprop as Keras has it, windows of 10 characters).
    pub fn lecture(
        data: DataChoice,
        fit: FitConfig,
        units: usize,
        cell: CellImpl,
        seed_text: &str,
    ) -> Self {
        let quick_chars = if data.is_quick() { QUICK_CHARS } else { 0 };
        CharConfig::new(
            data,
            fit,
            OptimizerConfig::keras_rmsprop(),
            units,
            cell,
            seed_text.to_string(),
        )
        .with_quick_chars(quick_chars)
    }

    pub fn source(&self) -> DataSource {
        self.data.source()
    }

    /// The book, cut into windows.
    pub fn load_data(&self) -> Result<CharData> {
        let share = self.data.validation_split;
        let mut data = load(&self.source(), self.window, self.step, share)?;
        if self.quick_chars > 0 {
            let text: String = data.text.chars().take(self.quick_chars).collect();
            data = split(text, self.window, self.step, share);
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
}

/// The texts written after one epoch.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EpochSamples {
    pub epoch: usize,
    /// `(sampling, text)`: greedy, then each temperature.
    pub texts: Vec<(String, String)>,
}

/// Trains a character model, printing the text it writes after each epoch and saving it as
/// `samples.txt`/`samples.json` in the training's run folder.
pub fn train_char_model<M: NextChar>(
    training: Training<M>,
    config: &CharConfig,
    data: &CharData,
    device: &Device,
) -> Result<(Fitted<M>, Vec<EpochSamples>)> {
    let run = training
        .run
        .clone()
        .ok_or_else(|| anyhow::anyhow!("a character model trains into a run folder"))?;
    let mut samples: Vec<EpochSamples> = match std::fs::read(run.file("samples.json")) {
        Ok(bytes) if training.history.is_some() => {
            serde_json::from_slice(&bytes).unwrap_or_default()
        }
        _ => Vec::new(),
    };
    // Generation must not fail mid-training: check the seed text once, now.
    data.vocab
        .encode(&config.seed_text)
        .map_err(|e| anyhow::anyhow!("--seed-text {:?}: {e}", config.seed_text))?;
    let mut rng = Rng::new(config.fit.seed ^ 0x5eed);
    let mut write_text = EachEpoch(|model: &M, record: &train::EpochRecord| -> Result<()> {
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
    });
    let fitted = train::fit(
        training,
        &CharBatcher::new(data.train.clone(), data.vocab.len()),
        &CharBatcher::new(data.valid.clone(), data.vocab.len()),
        &config.fit,
        &mut [&mut write_text],
    )?;
    Ok((fitted, samples))
}

/// What both character labs do with their model: show its layers, train it (writing text
/// after every epoch), save it with its curves, and start the summary with the last texts.
pub fn train_and_report<M: NextChar>(
    session: &Session<CharConfig>,
    data: &CharData,
    model: M,
    layers: &[LayerRow],
    what: &str,
) -> Result<(Fitted<M>, Vec<EpochSamples>, Summary)> {
    let config = &session.config;
    println!("\n{}", model_summary(&format!("{what}: the model"), layers));
    println!("cell: {:?}", config.cell);
    let training = session.training(model, &config.optimizer)?;
    let (fitted, samples) = train_char_model(training, config, data, &session.device)?;
    let mut summary = session.finish(&fitted, what)?;
    text_rows(&mut summary, &config.seed_text, &samples);
    Ok((fitted, samples, summary))
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

/// The summary rows of the text written after the last epoch.
pub fn text_rows(summary: &mut Summary, seed_text: &str, samples: &[EpochSamples]) {
    if let Some(last) = samples.last() {
        for (sampling, text) in &last.texts {
            let line: String = text
                .chars()
                .take(60)
                .map(|c| if c == '\n' { ' ' } else { c })
                .collect();
            summary.row(&format!("text, {sampling}"), format!("{seed_text}{line}…"));
        }
    }
}

/// The samplings printed after each epoch (for `--help`).
pub fn samplings_text() -> String {
    LECTURE_SAMPLINGS
        .iter()
        .map(Sampling::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The defaults of a character lab for `--help`.
pub fn defaults_help(lab: &crate::lab::Lab) -> String {
    let quick = format!("on the first {QUICK_CHARS} characters");
    lab.defaults_help(
        "Defaults (RMSprop as in the lecture, windows of 10 characters, the last 10% of the \
         book for validation)",
        [
            "(the whole book is bundled)",
            "(the lecture's 25; downloads the book from Gutenberg)",
            &quick,
        ],
    ) + &format!("\nText after each epoch: {}.", samplings_text())
}
