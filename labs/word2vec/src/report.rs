//! What a run prints and writes besides the vectors: the lecture's examples, the corpus,
//! the training history, neighbours, analogies, the one-hot comparison, the pictures and
//! the summary.

use anyhow::Result;
use shared::plot::{self, Panel};
use shared::report::{Summary, thousands};
use shared::run::RunDir;

use crate::config::{LAB, LabConfig, Objective};
use crate::corpus::{self, LECTURE_SENTENCE};
use crate::eval::{self, AnalogyResult, Embeddings};
use crate::output;
use crate::sgns::EpochStats;
use crate::training::Trained;
use crate::vocab::{self, Vocab};
use crate::windows::{self, Architecture};

/// Neighbours shown per word.
pub const NEIGHBOURS: usize = 5;

/// The lecture's sentence as the chosen network sees it, with the full window.
pub fn lecture_examples(architecture: Architecture, window: usize) -> String {
    let words = corpus::words(LECTURE_SENTENCE);
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let mut text = format!(
        "\"{LECTURE_SENTENCE}\", window {window}: one-hot vectors of {} words ({} = [{}])\n",
        words.len(),
        words[0],
        eval::one_hot(0, words.len())
            .iter()
            .map(|v| format!("{v:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    match architecture {
        Architecture::Skipgram => {
            let pairs = windows::skipgram_pairs(&words, window);
            text += &format!(
                "skip-gram: the centre word predicts each neighbour ({} pairs)\n",
                pairs.len()
            );
            for centre in &words {
                let targets: Vec<String> = pairs
                    .iter()
                    .filter(|(c, _)| c == centre)
                    .map(|(c, t)| format!("({c} → {t})"))
                    .collect();
                text += &format!("  {}\n", targets.join(" "));
            }
        }
        Architecture::Cbow => {
            let examples = windows::cbow_contexts(&words, window);
            text += &format!(
                "CBOW: the neighbours together predict the centre word ({} examples)\n",
                examples.len()
            );
            for (context, centre) in &examples {
                text += &format!("  ({}) → {centre}\n", context.join(", "));
            }
        }
    }
    text
}

/// The corpus's vocabulary in a few lines: size, most frequent words, subsampling.
pub fn describe_corpus(corpus_line: &str, vocab: &Vocab, sample: f64, keep: &[f32]) -> String {
    let mut text = format!(
        "corpus      {corpus_line}\nvocabulary  {}\n            most frequent: {}\n",
        vocab.describe(),
        (0..vocab.len().min(8))
            .map(|i| format!(
                "{} ({})",
                vocab.words[i],
                thousands(vocab.counts[i] as usize)
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if sample > 0.0 {
        text += &format!(
            "subsampling {sample}: keeps {:.1}% of the words on average (\"{}\": {:.1}% of its \
             occurrences)\n",
            100.0 * vocab::expected_kept_share(&vocab.counts, keep),
            vocab.words[0],
            100.0 * keep[0]
        );
    }
    text
}

/// `vocabulary.tsv`: word and count, by rank.
pub fn save_vocabulary(run: &RunDir, vocab: &Vocab) -> Result<()> {
    let mut text = String::from("word\tcount\n");
    for (word, count) in vocab.words.iter().zip(&vocab.counts) {
        text += &format!("{word}\t{count}\n");
    }
    run.write_text("vocabulary.tsv", &text)
}

/// `200 epochs, lr 0.025 falling linearly to 0.0000025, 2 threads (Hogwild!)`.
pub fn describe_plan(config: &LabConfig) -> String {
    let w2v = &config.word2vec;
    let fit = &config.fit;
    let how = match w2v.objective {
        Objective::Negative => format!(
            "plain Rust loops on {} thread{}{}",
            w2v.threads,
            if w2v.threads == 1 { "" } else { "s" },
            if w2v.threads > 1 { " (Hogwild!)" } else { "" }
        ),
        Objective::Softmax => format!(
            "burn autodiff, SGD on batches of {} examples (loss summed)",
            fit.batch_size
        ),
    };
    format!(
        "{} epoch{}, lr {} falling linearly to {}, {how}",
        fit.epochs,
        if fit.epochs == 1 { "" } else { "s" },
        fit.lr,
        fit.lr * w2v.min_lr_fraction
    )
}

/// The summary's speed line: time, corpus words per second and words kept by subsampling
/// per second (gensim's "raw" and "effective" words).
pub fn describe_speed(history: &[EpochStats]) -> String {
    let seconds: f64 = history.iter().map(|s| s.seconds).sum();
    let words: u64 = history.iter().map(|s| s.words).sum();
    let kept: u64 = history.iter().map(|s| s.kept_words).sum();
    format!(
        "{:.2} s, {} words/s ({} after subsampling)",
        seconds,
        thousands((words as f64 / seconds.max(1e-9)) as usize),
        thousands((kept as f64 / seconds.max(1e-9)) as usize)
    )
}

/// `history.csv` and `loss.png`.
pub fn save_history(run: &RunDir, history: &[EpochStats], what: &str) -> Result<()> {
    let mut csv =
        String::from("epoch,loss,lr,seconds,words,kept_words,examples,words_per_second\n");
    for s in history {
        csv += &format!(
            "{},{},{},{},{},{},{},{:.0}\n",
            s.epoch,
            s.loss,
            s.lr,
            s.seconds,
            s.words,
            s.kept_words,
            s.examples,
            s.words_per_second()
        );
    }
    run.write_text("history.csv", &csv)?;
    if history.is_empty() {
        return Ok(());
    }
    let points = history.iter().map(|s| (s.epoch, s.loss)).collect();
    plot::plot_curves(
        &run.file("loss.png"),
        &format!("word2vec: {what}"),
        &[Panel::new(
            "training loss",
            "mean loss per example",
            vec![("loss", plot::BLUE, points)],
        )],
    )
}

/// Each word's nearest neighbours, one line per word.
pub fn neighbours(embeddings: &Embeddings, words: &[String]) -> Result<String> {
    let mut text = String::new();
    for word in words {
        text += &format!("{word:>12}: {}\n", neighbour_list(embeddings, word)?);
    }
    Ok(text)
}

/// `queen 0.86, man 0.76, …`.
fn neighbour_list(embeddings: &Embeddings, word: &str) -> Result<String> {
    Ok(embeddings
        .nearest(word, NEIGHBOURS)?
        .iter()
        .map(|(w, s)| format!("{w} {s:.2}"))
        .collect::<Vec<_>>()
        .join(", "))
}

/// The analogies' answers, one line per question.
pub fn analogies(results: &[AnalogyResult]) -> String {
    results.iter().map(|r| describe_analogy(r) + "\n").collect()
}

/// `king:queen::man:? → woman 0.91 (expected woman: rank 1) | girl 0.80, …`.
fn describe_analogy(result: &AnalogyResult) -> String {
    let q = &result.question;
    let answers = result
        .answers
        .iter()
        .map(|(w, s)| format!("{w} {s:.2}"))
        .collect::<Vec<_>>()
        .join(", ");
    let verdict = match (&q.expected, result.expected_rank) {
        (Some(e), Some(1)) => format!("  right ({e})"),
        (Some(e), Some(rank)) => format!("  wrong: {e} is answer {rank}"),
        _ => String::new(),
    };
    format!("  {}:{}::{}:?  →  {answers}{verdict}", q.a, q.b, q.c)
}

/// The one-hot point as numbers: two different one-hot vectors always have cosine 0; the
/// learned vectors of related words do not.
pub fn one_hot_table(embeddings: &Embeddings, vocab: &Vocab, words: &[String]) -> String {
    let Some(first) = words.first() else {
        return String::new();
    };
    let mut text = format!(
        "One-hot vectors ({} dimensions, one per word) against learned vectors ({}):\n",
        thousands(vocab.len()),
        embeddings.dim
    );
    let id = |w: &str| vocab.id(w).unwrap_or(0) as usize;
    let mut rows: Vec<(String, f32, f32)> = words[1..]
        .iter()
        .map(|w| {
            let one_hot = eval::cosine(
                &eval::one_hot(id(first), vocab.len()),
                &eval::one_hot(id(w), vocab.len()),
            );
            let learned = embeddings.similarity(first, w).unwrap_or(0.0);
            (w.clone(), one_hot, learned)
        })
        .collect();
    rows.sort_by(|a, b| b.2.total_cmp(&a.2));
    for (w, one_hot, learned) in rows {
        text +=
            &format!("  cos({first}, {w:<10})  one-hot {one_hot:.2}   learned {learned:>5.2}\n");
    }
    text
}

/// `embedding.png` (PCA of the chosen words and the analogies' words, with the analogy
/// offsets as arrows) and `similarity.png` (cosines of the chosen words).
pub fn plot_words(
    run: &RunDir,
    embeddings: &Embeddings,
    words: &[String],
    results: &[AnalogyResult],
) -> Result<()> {
    let mut labels: Vec<String> = words.to_vec();
    let mut arrows = Vec::new();
    for (k, result) in results.iter().enumerate() {
        let q = &result.question;
        let answer = q
            .expected
            .clone()
            .or_else(|| result.answers.first().map(|(w, _)| w.clone()));
        let Some(d) = answer else { continue };
        let mut index = |w: &str| match labels.iter().position(|l| l == w) {
            Some(i) => i,
            None => {
                labels.push(w.to_string());
                labels.len() - 1
            }
        };
        let (a, b, c, d) = (index(&q.a), index(&q.b), index(&q.c), index(&d));
        arrows.push((a, b, k));
        arrows.push((c, d, k));
    }
    let subset = embeddings.subset(&labels)?;
    let rows: Vec<&[f32]> = (0..subset.len()).map(|i| subset.row(i)).collect();
    let points = eval::pca_2d(&rows);
    output::plot_embedding(
        &run.file("embedding.png"),
        "Word vectors in 2-D (PCA); arrows: analogy pairs a → b, c → d",
        &labels,
        &points,
        &arrows,
    )?;
    let chosen = embeddings.subset(words)?;
    let matrix: Vec<Vec<f32>> = (0..chosen.len())
        .map(|i| {
            (0..chosen.len())
                .map(|j| eval::cosine(chosen.row(i), chosen.row(j)))
                .collect()
        })
        .collect();
    output::plot_similarity(
        &run.file("similarity.png"),
        "Cosine similarity of the learned vectors",
        words,
        &matrix,
    )
}

/// Prints each word's top neighbours under both objectives; returns how many are shared.
pub fn compare_neighbours(
    ours: &Embeddings,
    theirs: &Embeddings,
    words: &[String],
    other: Objective,
) -> Result<(usize, usize)> {
    let (mut same, mut of) = (0, 0);
    for word in words {
        let a = ours.nearest(word, NEIGHBOURS)?;
        let b = theirs.nearest(word, NEIGHBOURS)?;
        let shared = a
            .iter()
            .filter(|(w, _)| b.iter().any(|(v, _)| v == w))
            .count();
        same += shared;
        of += NEIGHBOURS.min(a.len());
        let list = |l: &[(String, f32)]| {
            l.iter()
                .map(|(w, _)| w.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        println!(
            "{word:>12}: {}   |   {}: {}   ({shared} shared)",
            list(&a),
            other.name(),
            list(&b)
        );
    }
    println!("  {same} of {of} top-{NEIGHBOURS} neighbours are the same under both objectives");
    Ok((same, of))
}

/// What a run did, in a dozen lines: the summary printed at the end and saved as
/// `summary.txt`.
pub fn summary(
    config: &LabConfig,
    corpus_line: &str,
    vocab: &Vocab,
    trained: &Trained,
    words: &[String],
    results: &[AnalogyResult],
    shared_neighbours: Option<(usize, usize)>,
) -> Result<Summary> {
    let (embeddings, history) = (&trained.embeddings, &trained.history);
    let w2v = &config.word2vec;
    let mut summary = Summary::new(&format!("{} · word2vec ({})", LAB.title, w2v.describe()));
    summary
        .row("corpus", corpus_line)
        .row("vocabulary", vocab.describe())
        .row("training", describe_plan(config))
        .row("speed", describe_speed(history));
    if let (Some(first), Some(last)) = (history.first(), history.last()) {
        summary.row(
            "loss",
            format!(
                "{:.4} (epoch 1) → {:.4} (epoch {}), per {}",
                first.loss,
                last.loss,
                last.epoch,
                match w2v.architecture {
                    Architecture::Skipgram => "pair",
                    Architecture::Cbow => "centre word",
                }
            ),
        );
    }
    if let Some(word) = words.first() {
        summary.row(
            "neighbours",
            format!("{word}: {}", neighbour_list(embeddings, word)?),
        );
    }
    let graded: Vec<&AnalogyResult> = results
        .iter()
        .filter(|r| r.question.expected.is_some())
        .collect();
    if !graded.is_empty() {
        summary.row(
            "analogies",
            format!(
                "{} of {} answered right{}",
                graded.iter().filter(|r| r.correct()).count(),
                graded.len(),
                graded
                    .iter()
                    .filter(|r| !r.correct())
                    .map(|r| format!(
                        "; {}:{}::{}:? → {}, not {}",
                        r.question.a,
                        r.question.b,
                        r.question.c,
                        r.answers.first().map_or("-", |(w, _)| w.as_str()),
                        r.question.expected.as_deref().unwrap_or("-")
                    ))
                    .collect::<String>()
            ),
        );
    }
    if let [first, second, ..] = words {
        let one_hot = |w: &str| eval::one_hot(vocab.id(w).unwrap_or(0) as usize, vocab.len());
        summary.row(
            "one-hot vs learned",
            format!(
                "cos({first}, {second}): one-hot {:.0}, learned {:.2}",
                eval::cosine(&one_hot(first), &one_hot(second)),
                embeddings.similarity(first, second)?
            ),
        );
    }
    if let Some((same, of)) = shared_neighbours {
        summary.row(
            "other objective",
            format!(
                "{}: {same} of {of} top-{NEIGHBOURS} neighbours the same",
                w2v.objective.other().name()
            ),
        );
    }
    Ok(summary)
}
