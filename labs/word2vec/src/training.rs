//! Lab 7's run: the lecture's sentence as training examples, the corpus and its vocabulary,
//! training (negative sampling or the full softmax), then what the vectors know:
//! neighbours, analogies, one-hot against learned similarity, pictures and files.
//!
//! ```text
//! runs/word2vec/<date-time>/
//!   config.json  pairs.txt  vocabulary.tsv  history.csv  loss.png
//!   neighbours.txt  analogies.txt  embedding.png  similarity.png
//!   vectors.vec  vectors.tsv  metadata.tsv  summary.txt
//! ```

use anyhow::{Result, bail};
use burn::prelude::Device;
use shared::cli::CommonArgs;
use shared::datasets::DataSource;
use shared::report::thousands;
use shared::run::RunDir;

use crate::config::{self, LAB, LabConfig, Objective, Options, SOFTMAX_MAX_VOCAB};
use crate::corpus::{self, Corpus};
use crate::eval::{self, Analogy, AnalogyResult, Embeddings};
use crate::output;
use crate::report::{self, NEIGHBOURS};
use crate::sgns::{self, EpochStats, Tables};
use crate::softmax;
use crate::vocab::{self, NOISE_POWER, NoiseTable, Vocab};

/// What a run gives back (the tests read it).
pub struct Outcome {
    pub run: RunDir,
    pub config: LabConfig,
    pub vocab: Vocab,
    pub embeddings: Embeddings,
    pub history: Vec<EpochStats>,
    pub analogies: Vec<AnalogyResult>,
    /// With `compare`: top-5 neighbours shared by the two objectives, out of how many.
    pub shared_neighbours: Option<(usize, usize)>,
}

/// Lab 7.
pub fn run(args: &CommonArgs, options: &Options) -> Result<Outcome> {
    if args.resume.is_some() {
        bail!(
            "lab 7 trains in one go (seconds to minutes): --resume is not needed; start a new run"
        );
    }
    let analogies: Vec<Analogy> = options
        .analogies
        .iter()
        .map(|a| Analogy::parse(a))
        .collect::<Result<_>>()?;
    let session = LAB.start(args, |data, fit| {
        config::new_config(args, options, &analogies, data, fit)
    })?;
    let config = &session.config;
    let w2v = &config.word2vec;
    let run = &session.run;

    // 1. One-hot vectors, and what word2vec trains on.
    println!(
        "Lab 7 · word2vec: {} on the {} corpus\n",
        w2v.describe(),
        w2v.corpus.name()
    );
    let shown = report::lecture_examples(w2v.architecture, w2v.window);
    println!("{shown}");
    run.write_text("pairs.txt", &shown)?;

    // 2. The corpus and its vocabulary.
    let source = session.source();
    let sentences = corpus::load(w2v.corpus, &source, config.data.is_quick())?;
    if let Some(path) = &options.dump_corpus {
        corpus::dump(&sentences, path)?;
        println!(
            "tokenised corpus written to {} (one sentence per line)",
            path.display()
        );
    }
    let vocab = Vocab::build(&sentences, w2v.min_count);
    if vocab.is_empty() {
        bail!(
            "no word of the {} corpus is seen {} times: lower --min-count",
            w2v.corpus.name(),
            w2v.min_count
        );
    }
    // Words asked for must be in the vocabulary: say so now, not after training.
    let words = chosen_words(&vocab, &w2v.words, !options.words.is_empty())?;
    let questions = chosen_analogies(&vocab, &w2v.analogies, !options.analogies.is_empty())?;
    if w2v.objective == Objective::Softmax && vocab.len() > SOFTMAX_MAX_VOCAB {
        bail!(
            "--loss softmax scores all {} words of the vocabulary for every example: too slow \
             above {} words. Use --loss negative, or raise --min-count",
            thousands(vocab.len()),
            thousands(SOFTMAX_MAX_VOCAB)
        );
    }
    let encoded = vocab.encode_text(&sentences);
    let keep = vocab::keep_probabilities(&vocab.counts, w2v.sample);
    let corpus_line = format!(
        "{}: {} sentences, {} words",
        source_name(w2v.corpus, &source),
        thousands(sentences.len()),
        thousands(sentences.word_count())
    );
    print!(
        "{}",
        report::describe_corpus(&corpus_line, &vocab, w2v.sample, &keep)
    );
    report::save_vocabulary(run, &vocab)?;

    // 3. Training.
    let trained = train_vectors(
        &vocab,
        &encoded,
        config,
        &keep,
        &session.train_device(),
        true,
    )?;
    report::save_history(
        run,
        &trained.history,
        &format!("{}, {}", w2v.architecture.name(), w2v.objective.name()),
    )?;
    let embeddings = &trained.embeddings;

    // 4. What the vectors know.
    let neighbours = report::neighbours(embeddings, &words)?;
    println!("\nNearest neighbours (cosine similarity):\n{neighbours}");
    run.write_text("neighbours.txt", &neighbours)?;
    let results: Vec<AnalogyResult> = questions
        .iter()
        .map(|q| eval::answer(embeddings, q, NEIGHBOURS))
        .collect::<Result<_>>()?;
    if !results.is_empty() {
        let text = report::analogies(&results);
        println!(
            "Analogies (3CosAdd: the word nearest to b − a + c, a, b and c excluded):\n{text}"
        );
        run.write_text("analogies.txt", &text)?;
    }
    println!("{}", report::one_hot_table(embeddings, &vocab, &words));

    // 5. Pictures and files.
    if words.len() >= 2 {
        report::plot_words(run, embeddings, &words, &results)?;
    }
    output::write_vec(&run.file("vectors.vec"), embeddings)?;
    output::write_projector(
        &run.file("vectors.tsv"),
        &run.file("metadata.tsv"),
        embeddings,
    )?;

    // 6. The other objective, on the same data from the same start.
    let shared_neighbours = if w2v.compare && vocab.len() <= SOFTMAX_MAX_VOCAB {
        let other = w2v.objective.other();
        println!("\nThe same network trained with {} instead:", other.name());
        let mut other_config = config.clone();
        other_config.word2vec.objective = other;
        if other_config.word2vec.negative == 0 {
            other_config.word2vec.negative = 5;
        }
        let other_trained = train_vectors(
            &vocab,
            &encoded,
            &other_config,
            &keep,
            &session.train_device(),
            false,
        )?;
        Some(report::compare_neighbours(
            embeddings,
            &other_trained.embeddings,
            &words,
            other,
        )?)
    } else {
        None
    };

    // 7. The summary.
    let mut summary = report::summary(
        config,
        &corpus_line,
        &vocab,
        &trained,
        &words,
        &results,
        shared_neighbours,
    )?;
    session.close(&mut summary)?;
    Ok(Outcome {
        run: run.clone(),
        config: config.clone(),
        vocab,
        embeddings: trained.embeddings,
        history: trained.history,
        analogies: results,
        shared_neighbours,
    })
}

fn source_name(corpus: Corpus, source: &DataSource) -> String {
    match (corpus, source) {
        (Corpus::Toy, _) => "the lecture's toy sentences".to_string(),
        (Corpus::Alice, _) => "Alice's Adventures in Wonderland".to_string(),
        (Corpus::Imdb, DataSource::Sample) => "IMDB reviews (the bundled sample)".to_string(),
        (Corpus::Imdb, _) => "IMDB reviews (train + test)".to_string(),
    }
}

/// The words to show: all must be known when the user chose them; of the defaults, those
/// the vocabulary has.
fn chosen_words(vocab: &Vocab, words: &[String], given: bool) -> Result<Vec<String>> {
    let mut known = Vec::new();
    for word in words {
        if vocab.id(word).is_some() {
            if !known.contains(word) {
                known.push(word.clone());
            }
        } else if given {
            vocab.require(word, "--words")?;
        }
    }
    if !given && known.len() < words.len() {
        println!(
            "note: default words not in this vocabulary left out: {}",
            words
                .iter()
                .filter(|w| vocab.id(w).is_none())
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(known)
}

fn chosen_analogies(vocab: &Vocab, analogies: &[String], given: bool) -> Result<Vec<Analogy>> {
    let mut questions = Vec::new();
    for text in analogies {
        let question = Analogy::parse(text)?;
        let missing = question.words().into_iter().find(|w| vocab.id(w).is_none());
        match missing {
            None => questions.push(question),
            Some(word) if given => {
                vocab.require(word, &format!("--analogy {question}"))?;
            }
            Some(_) => {}
        }
    }
    Ok(questions)
}

/// Trained word vectors and how training went.
pub struct Trained {
    pub embeddings: Embeddings,
    pub history: Vec<EpochStats>,
}

/// Trains word vectors on the encoded corpus with the run's settings (negative sampling or
/// the softmax network on `device`), printing a line every few epochs when `verbose`.
pub fn train_vectors(
    vocab: &Vocab,
    encoded: &[Vec<u32>],
    config: &LabConfig,
    keep: &[f32],
    device: &Device,
    verbose: bool,
) -> Result<Trained> {
    let w2v = &config.word2vec;
    let fit = &config.fit;
    let settings = sgns::Settings {
        architecture: w2v.architecture,
        window: w2v.window,
        negative: w2v.negative,
        epochs: fit.epochs,
        lr: fit.lr,
        min_lr_fraction: w2v.min_lr_fraction,
        threads: w2v.threads,
        seed: fit.seed,
    };
    let tables = Tables::new(vocab.len(), w2v.dim, fit.seed);
    let every = fit.epochs.div_ceil(10).max(1);
    let print = |s: &EpochStats| {
        if verbose && (s.epoch == 1 || s.epoch.is_multiple_of(every) || s.epoch == fit.epochs) {
            println!(
                "  epoch {:>width$}/{}  loss {:.4}  lr {:.6}  {:.2} s  {} words/s",
                s.epoch,
                fit.epochs,
                s.loss,
                s.lr,
                s.seconds,
                thousands(s.words_per_second() as usize),
                width = fit.epochs.to_string().len()
            );
        }
    };
    if verbose {
        println!("\ntraining: {}", report::describe_plan(config));
    }
    let (vectors, history) = match w2v.objective {
        Objective::Negative => {
            let noise = NoiseTable::new(&vocab.counts, NOISE_POWER);
            let mut tables = tables;
            let history = sgns::train(&mut tables, encoded, &settings, keep, &noise, print)?;
            (tables.input, history)
        }
        Objective::Softmax => softmax::train(
            &tables,
            encoded,
            &settings,
            fit.batch_size,
            keep,
            device,
            print,
        )?,
    };
    Ok(Trained {
        embeddings: Embeddings::new(vocab.words.clone(), w2v.dim, vectors)?,
        history,
    })
}
