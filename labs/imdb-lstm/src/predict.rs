//! `--predict`: a finished run read back from its folder, and new text scored by it.
//!
//! ```text
//! <run>/config.json       the model's settings (units, bidirectional, maxlen) → an untrained model
//! <run>/model.bpk         the trained weights (the best epoch's)
//! <run>/vocabulary.txt    the words it knows, by rank → the text becomes the same indices
//! ```
//!
//! New text goes through exactly the training reviews' steps: ASCII lower case, Keras's
//! filters, `<START>`, each word's rank + 3 (`<UNK>` 2 for a word the model never learned),
//! padded or cut at the front to `maxlen`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::config::Config;
use burn::module::Module;
use burn::prelude::*;
use shared::report::thousands;

use crate::data::{SequenceBatcher, Vocabulary};
use crate::model::SentimentLstm;
use crate::training::{LAB, LabConfig, probabilities};

/// A trained model back in memory, with the vocabulary it reads.
pub struct Predictor {
    pub run: PathBuf,
    pub config: LabConfig,
    pub vocabulary: Vocabulary,
    pub model: SentimentLstm,
}

/// A scored text.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub words: usize,
    pub unknown: usize,
    /// Words beyond `maxlen` that the model did not read (the front of a long text).
    pub cut: usize,
    pub p_positive: f32,
}

/// The newest finished run (one with `summary.txt`) under `<out>/imdb-lstm/`.
pub fn newest_run(out: &Path) -> Result<PathBuf> {
    let dir = out.join(LAB.name);
    let mut runs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| {
            format!(
                "no runs in {} (train one first, or pass --run)",
                dir.display()
            )
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("summary.txt").exists() && p.join("model.bpk").exists())
        .collect();
    runs.sort();
    runs.pop().with_context(|| {
        format!(
            "no finished run in {} (train one first, or pass --run)",
            dir.display()
        )
    })
}

impl Predictor {
    /// Loads the model, its settings and its vocabulary from a finished run folder.
    pub fn load(run: &Path, device: &Device) -> Result<Predictor> {
        let config_file = run.join("config.json");
        if !config_file.exists() {
            bail!(
                "{} is not a run folder of {} (it has no config.json); pass a folder under \
                 runs/{}/",
                run.display(),
                LAB.name,
                LAB.name
            );
        }
        let config = LabConfig::load(&config_file).map_err(|e| {
            anyhow::anyhow!(
                "{} is not a run of {} (its config.json does not fit this lab: {e}); pass a \
                 folder under runs/{}/",
                run.display(),
                LAB.name,
                LAB.name
            )
        })?;
        let weights = run.join("model.bpk");
        if !weights.exists() {
            bail!(
                "{} has no model.bpk: the run has not finished (resume it with --resume {})",
                run.display(),
                run.display()
            );
        }
        let vocabulary = Vocabulary::load(&run.join("vocabulary.txt"))?;
        if vocabulary.num_words() != config.model.num_words {
            bail!(
                "{}: vocabulary.txt has {} words, the model expects {}",
                run.display(),
                vocabulary.len(),
                config.model.num_words - 3
            );
        }
        let model = config
            .model
            .init(device)
            .try_load_file(&weights)
            .with_context(|| format!("loading {}", weights.display()))?;
        Ok(Predictor {
            run: run.to_path_buf(),
            config,
            vocabulary,
            model,
        })
    }

    /// The probability that `text` is a positive review.
    pub fn score(&self, text: &str, device: &Device) -> Result<Scored> {
        let encoded = self.vocabulary.encode(text);
        if encoded.words == 0 {
            bail!("the text has no words: give a review, e.g. --predict \"a wonderful film\"");
        }
        if encoded.unknown == encoded.words {
            bail!(
                "none of the text's {} word{} is among the {} words the model knows (is it \
                 English?): there is nothing to go on",
                encoded.words,
                if encoded.words == 1 { "" } else { "s" },
                thousands(self.vocabulary.len())
            );
        }
        let maxlen = self.config.maxlen;
        let batcher = SequenceBatcher::single(&encoded.indices, maxlen);
        let p = probabilities(&self.model, &batcher, device)?;
        Ok(Scored {
            words: encoded.words,
            unknown: encoded.unknown,
            cut: encoded.indices.len().saturating_sub(maxlen),
            p_positive: p[0],
        })
    }
}

/// A review from a file: UTF-8 text (a clear error for anything else).
pub fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{} is not UTF-8 text (invalid byte at offset {}); save it as UTF-8 and try again",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

/// Scores each text and prints one line per text.
pub fn print_predictions(run: &Path, texts: &[(String, String)], device: &Device) -> Result<()> {
    let predictor = Predictor::load(run, device)?;
    println!(
        "Model: {} (maxlen {}) from {}",
        predictor.config.model.describe(),
        predictor.config.maxlen,
        run.display()
    );
    for (name, text) in texts {
        let scored = predictor
            .score(text, device)
            .with_context(|| format!("--predict {name}"))?;
        let verdict = if scored.p_positive > 0.5 {
            "positive"
        } else {
            "negative"
        };
        let mut notes = vec![format!("{} words", scored.words)];
        if scored.unknown > 0 {
            notes.push(format!("{} unknown → <UNK>", scored.unknown));
        }
        if scored.cut > 0 {
            notes.push(format!("the first {} not read", scored.cut));
        }
        println!(
            "  p(positive) = {:.3}  {verdict:<8}  {name}  ({})",
            scored.p_positive,
            notes.join(", ")
        );
    }
    Ok(())
}
