//! Lab 7's settings: the flags, the defaults of each corpus, and the run's `config.json`.

use std::path::PathBuf;

use anyhow::{Result, bail};
use burn::config::Config;
use burn::optim::SgdConfig;
use serde::{Deserialize, Serialize};
use shared::cli::{CommonArgs, Mode};
use shared::lab::{DataChoice, Lab, OptimizerConfig};
use shared::train::FitConfig;

use crate::corpus::Corpus;
use crate::eval::Analogy;
use crate::windows::Architecture;

shared::lab_config! {
    /// Lab 7. Its epochs and learning rate depend on the corpus and the architecture (see
    /// [`CorpusDefaults`]); the batch size is only the softmax network's.
    const LAB = Lab::new("word2vec", "Lab 7")
        .sample(400, 16, 0.025).full(5, 16, 0.025).quick(30, 16, 0.025);
    /// Everything that defines a run; saved as `config.json` in the run folder. `fit.lr` is
    /// the starting learning rate, which falls linearly to `lr · min_lr_fraction`.
    pub struct LabConfig {
        pub word2vec: Word2VecConfig,
    }
}

/// The two training objectives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "lowercase")]
pub enum Objective {
    /// Negative sampling: the true word against `--negative` noise words (fast, any
    /// vocabulary; plain Rust loops, several threads).
    #[default]
    Negative,
    /// The lecture's network: a softmax over the whole vocabulary (burn autodiff; small
    /// vocabularies only).
    Softmax,
}

impl burn::config::Config for Objective {}

impl Objective {
    pub fn name(self) -> &'static str {
        match self {
            Objective::Negative => "negative sampling",
            Objective::Softmax => "full softmax",
        }
    }

    pub fn other(self) -> Objective {
        match self {
            Objective::Negative => Objective::Softmax,
            Objective::Softmax => Objective::Negative,
        }
    }
}

/// The lesson's settings.
#[derive(Config, Debug)]
pub struct Word2VecConfig {
    pub corpus: Corpus,
    pub architecture: Architecture,
    pub objective: Objective,
    /// Neighbours on each side of the centre word (the most: each centre draws 1..=window).
    pub window: usize,
    /// Dimensions of a word vector (the hidden layer's size).
    pub dim: usize,
    /// Noise words per example in negative sampling.
    pub negative: usize,
    /// Words seen fewer times are dropped.
    pub min_count: u64,
    /// Subsampling threshold (0: keep every word).
    pub sample: f64,
    /// Threads of negative-sampling training (1: the same vectors every run).
    pub threads: usize,
    /// The learning rate falls linearly from `fit.lr` to `fit.lr · min_lr_fraction`.
    #[config(default = 0.0001)]
    pub min_lr_fraction: f64,
    /// Words whose neighbours are shown, plotted and compared.
    pub words: Vec<String>,
    /// Analogy questions, `a:b::c:?` or `a:b::c:d`.
    pub analogies: Vec<String>,
    /// Also train the other objective and compare the neighbours.
    pub compare: bool,
}

impl Word2VecConfig {
    /// `skip-gram, negative sampling (5 noise words), window 2, 20 dimensions`.
    pub fn describe(&self) -> String {
        let objective = match self.objective {
            Objective::Negative => format!("negative sampling ({} noise words)", self.negative),
            Objective::Softmax => "full softmax".to_string(),
        };
        format!(
            "{}, {objective}, window {}, {} dimensions",
            self.architecture.name(),
            self.window,
            self.dim
        )
    }

    pub fn check(&self) -> Result<()> {
        if self.window == 0 {
            bail!("--window must be at least 1 (neighbours on each side of the centre word)");
        }
        if self.dim == 0 {
            bail!("--dim must be at least 1");
        }
        if self.negative == 0 && self.objective == Objective::Negative {
            bail!("--negative must be at least 1 with --loss negative (try 5)");
        }
        if self.negative > 100 {
            bail!(
                "--negative {}: at most 100 noise words per example (word2vec's paper uses 5-20)",
                self.negative
            );
        }
        if self.min_count == 0 {
            bail!("--min-count must be at least 1");
        }
        if !(self.sample.is_finite() && self.sample >= 0.0) {
            bail!(
                "--sample {}: the subsampling threshold is a number ≥ 0 (0 keeps every word; \
                 word2vec's default is 0.001)",
                self.sample
            );
        }
        if self.threads == 0 {
            bail!("--threads must be at least 1");
        }
        Ok(())
    }
}

/// A corpus's defaults: what suits a few hundred words differs from what suits millions.
#[derive(Debug, Clone, Copy)]
pub struct CorpusDefaults {
    pub window: usize,
    pub dim: usize,
    pub min_count: u64,
    pub sample: f64,
    /// Epochs without a flag, with `--full`, with `--quick`.
    pub epochs: [usize; 3],
    pub words: &'static [&'static str],
    pub analogies: &'static [&'static str],
    /// Train the other objective too and compare (only where the softmax is cheap).
    pub compare: bool,
    /// Threads of negative sampling (`None`: one per core). A corpus of a few hundred words
    /// trains faster on one thread than it takes to start two, and gives the same vectors
    /// every run.
    pub threads: Option<usize>,
}

impl CorpusDefaults {
    pub fn of(corpus: Corpus) -> CorpusDefaults {
        match corpus {
            // 500 words: many passes, small vectors, every word counts, nothing subsampled
            // (at 0.001 of 500 words every word would count as "frequent").
            Corpus::Toy => CorpusDefaults {
                window: 2,
                dim: 20,
                min_count: 1,
                sample: 0.0,
                epochs: [400, 400, 30],
                words: &[
                    "king", "queen", "man", "woman", "prince", "princess", "boy", "girl", "korea",
                    "seoul", "japan", "tokyo", "kimchi", "sushi",
                ],
                analogies: &[
                    "king:queen::man:woman",
                    "man:woman::boy:girl",
                    "prince:king::princess:queen",
                    "korea:seoul::japan:tokyo",
                    "korea:kimchi::japan:sushi",
                ],
                compare: true,
                threads: Some(1),
            },
            // gensim's defaults (window 5, 100 dimensions, min count 5, sample 0.001).
            Corpus::Alice => CorpusDefaults {
                window: 5,
                dim: 100,
                min_count: 5,
                sample: 1e-3,
                epochs: [20, 20, 2],
                words: &[
                    "alice", "queen", "king", "rabbit", "hatter", "turtle", "cat", "said",
                    "little", "head",
                ],
                analogies: &["king:queen::he:she", "turtle:mock::cat:cheshire"],
                compare: false,
                threads: None,
            },
            Corpus::Imdb => CorpusDefaults {
                window: 5,
                dim: 100,
                min_count: 5,
                sample: 1e-3,
                epochs: [5, 5, 1],
                words: &[
                    "good", "bad", "great", "awful", "movie", "film", "actor", "actress", "funny",
                    "boring", "horror", "music",
                ],
                analogies: &[
                    "man:woman::actor:actress",
                    "good:better::bad:worse",
                    "good:great::bad:terrible",
                    "he:his::she:her",
                ],
                compare: false,
                threads: None,
            },
        }
    }
}

/// The lab's own flags (after the common ones).
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub corpus: Corpus,
    pub architecture: Architecture,
    pub objective: Objective,
    pub window: Option<usize>,
    pub dim: Option<usize>,
    pub negative: usize,
    pub min_count: Option<u64>,
    pub sample: Option<f64>,
    pub threads: Option<usize>,
    /// Empty: the corpus's default words (those the vocabulary has).
    pub words: Vec<String>,
    pub analogies: Vec<String>,
    /// `Some(true)`: `--compare`, `Some(false)`: `--no-compare`.
    pub compare: Option<bool>,
    pub dump_corpus: Option<PathBuf>,
}

/// The softmax network is refused above this vocabulary size: every example would score
/// every word.
pub const SOFTMAX_MAX_VOCAB: usize = 10_000;

/// Cores of this machine (the default of `--threads`).
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// A new run's config: the flags where given, else the corpus's defaults (`epochs` and `lr`
/// too, which the common flags leave to the lab).
pub fn new_config(
    args: &CommonArgs,
    options: &Options,
    analogies: &[Analogy],
    data: DataChoice,
    mut fit: FitConfig,
) -> Result<LabConfig> {
    let defaults = CorpusDefaults::of(options.corpus);
    if args.epochs.is_none() {
        fit.epochs = defaults.epochs[match args.mode() {
            Mode::Sample => 0,
            Mode::Full => 1,
            Mode::Quick => 2,
        }];
    }
    if args.lr.is_none() {
        fit.lr = options.architecture.default_lr();
    }
    let word2vec = Word2VecConfig {
        corpus: options.corpus,
        architecture: options.architecture,
        objective: options.objective,
        window: options.window.unwrap_or(defaults.window),
        dim: options.dim.unwrap_or(defaults.dim),
        negative: options.negative,
        min_count: options.min_count.unwrap_or(defaults.min_count),
        sample: options.sample.unwrap_or(defaults.sample),
        threads: options
            .threads
            .or(defaults.threads)
            .unwrap_or_else(default_threads),
        min_lr_fraction: 0.0001,
        words: if options.words.is_empty() {
            defaults.words.iter().map(|w| w.to_string()).collect()
        } else {
            options
                .words
                .iter()
                .map(|w| w.trim().to_lowercase())
                .collect()
        },
        analogies: if analogies.is_empty() {
            defaults.analogies.iter().map(|a| a.to_string()).collect()
        } else {
            analogies.iter().map(Analogy::to_string).collect()
        },
        compare: options.compare.unwrap_or(defaults.compare),
    };
    word2vec.check()?;
    Ok(LabConfig::new(
        data,
        fit,
        OptimizerConfig::Sgd(SgdConfig::new()),
        word2vec,
    ))
}
