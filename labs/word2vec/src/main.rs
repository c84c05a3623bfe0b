//! `cargo run -p lab-word2vec -- --help`

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use lab_word2vec::config::{Objective, Options};
use lab_word2vec::corpus::Corpus;
use lab_word2vec::training;
use lab_word2vec::windows::Architecture;
use shared::cli::CommonArgs;

/// Lab 7: word2vec, from one-hot vectors to word vectors.
///
/// Prints the lecture's sentence ("I love king of Korea") as skip-gram pairs or CBOW
/// contexts, learns word vectors from a corpus (skip-gram or CBOW; negative sampling or the
/// lecture's full softmax), then shows what they know: nearest neighbours by cosine
/// similarity, analogies (king:queen::man:?), one-hot against learned similarity, a 2-D
/// PCA picture and a similarity heat map. Writes vectors.vec (word2vec's text format, for
/// gensim) and vectors.tsv + metadata.tsv (for projector.tensorflow.org) to the run folder
/// (runs/word2vec/<date-time>/).
#[derive(Debug, Parser)]
#[command(name = "lab-word2vec", version)]
struct Args {
    #[command(flatten)]
    common: CommonArgs,

    /// The text to learn from: the lecture's toy sentences (seconds), Alice in Wonderland
    /// (bundled), or IMDB reviews (600 bundled; all 50,000 with --full)
    #[arg(long, value_enum, default_value_t = Corpus::Toy)]
    corpus: Corpus,

    /// skipgram: the centre word predicts each neighbour; cbow: the neighbours together
    /// predict the centre word
    #[arg(long, value_enum, default_value_t = Architecture::Skipgram)]
    mode: Architecture,

    /// negative: negative sampling (fast, any vocabulary); softmax: the lecture's network,
    /// a softmax over the whole vocabulary (burn autodiff; small vocabularies)
    #[arg(long, value_enum, default_value_t = Objective::Negative)]
    loss: Objective,

    /// Neighbours on each side of the centre word (each centre draws 1..=window, as in
    /// word2vec) [default: 2 for toy, 5 otherwise]
    #[arg(long)]
    window: Option<usize>,

    /// Dimensions of a word vector [default: 20 for toy, 100 otherwise]
    #[arg(long)]
    dim: Option<usize>,

    /// Noise words per example in negative sampling
    #[arg(long, default_value_t = 5)]
    negative: usize,

    /// Words seen fewer times are dropped [default: 1 for toy, 5 otherwise]
    #[arg(long)]
    min_count: Option<u64>,

    /// Frequent words are dropped at random: threshold of word2vec's formula (0 keeps every
    /// word) [default: 0 for toy, 0.001 otherwise]
    #[arg(long)]
    sample: Option<f64>,

    /// Threads of negative-sampling training; 1 gives the same vectors every run
    /// [default: 1 for toy, the number of cores otherwise]
    #[arg(long)]
    threads: Option<usize>,

    /// Words whose nearest neighbours are shown and plotted, comma-separated
    /// [default: depends on the corpus]
    #[arg(long, value_delimiter = ',', value_name = "WORD,...")]
    words: Vec<String>,

    /// Analogy questions, a:b::c:? ("a is to b as c is to ?") or a:b::c:d with the expected
    /// answer; repeatable or comma-separated [default: depends on the corpus]
    #[arg(long, value_delimiter = ',', value_name = "A:B::C:?")]
    analogy: Vec<String>,

    /// Also train the other objective (softmax or negative sampling) and compare the
    /// neighbours [default: on for the toy corpus]
    #[arg(long, conflicts_with = "no_compare")]
    compare: bool,

    /// Do not train the other objective for comparison
    #[arg(long)]
    no_compare: bool,

    /// Write the tokenised corpus here, one sentence (review) per line, as gensim's
    /// LineSentence reads it (bench/gensim_word2vec.py trains gensim on it)
    #[arg(long, value_name = "PATH")]
    dump_corpus: Option<PathBuf>,
}

const DEFAULTS: &str = "\
Defaults by corpus (epochs without a flag / --full / --quick; learning rate 0.025 for
skip-gram, 0.05 for CBOW, falling linearly to 0.0001 of that; --batch-size is only the
softmax network's, 16):
  toy    window 2, 20 dimensions, min count 1, no subsampling, 400 / 400 / 30 epochs,
         one thread;
         also trains the other objective and compares the neighbours
  alice  window 5, 100 dimensions, min count 5, sample 0.001, 20 / 20 / 2 epochs
  imdb   window 5, 100 dimensions, min count 5, sample 0.001, 5 / 5 / 1 epochs
         (600 bundled reviews; --full: the 50,000 of <data-dir>/imdb/)";

fn main() -> ExitCode {
    let args: Args = shared::cli::parse_args(DEFAULTS.to_string());
    let options = Options {
        corpus: args.corpus,
        architecture: args.mode,
        objective: args.loss,
        window: args.window,
        dim: args.dim,
        negative: args.negative,
        min_count: args.min_count,
        sample: args.sample,
        threads: args.threads,
        words: args.words,
        analogies: args.analogy,
        compare: if args.compare {
            Some(true)
        } else if args.no_compare {
            Some(false)
        } else {
            None
        },
        dump_corpus: args.dump_corpus,
    };
    shared::cli::exit_code(training::run(&args.common, &options))
}
