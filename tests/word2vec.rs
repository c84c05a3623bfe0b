//! Tests of lab 7: tokens and vocabulary, subsampling and the noise table against their
//! formulas, the training examples of the lecture's sentence, the negative-sampling update
//! against burn's autodiff, training that learns, the evaluation maths, the files, and
//! whole runs of the program.

mod common;

use burn::optim::SgdConfig;
use burn::prelude::*;
use burn::tensor::activation::log_sigmoid;
use lab_word2vec::config::{CorpusDefaults, LabConfig, Objective, Word2VecConfig};
use lab_word2vec::corpus::{self, Corpus, Text};
use lab_word2vec::eval::{self, Analogy, Embeddings};
use lab_word2vec::output;
use lab_word2vec::sgns::{self, SharedRows, Tables};
use lab_word2vec::softmax::{self, SoftmaxWord2Vec};
use lab_word2vec::vocab::{self, NoiseTable, Vocab};
use lab_word2vec::windows::{self, Architecture};
use lab_word2vec::{report, training};
use shared::cli::Mode;
use shared::datasets::DataSource;
use shared::lab::{DataChoice, OptimizerConfig};
use shared::rng::Rng;
use shared::train::FitConfig;

const EXE: &str = env!("CARGO_BIN_EXE_lab-word2vec");

fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

// ---------------------------------------------------------------------------------------
// Text, vocabulary, subsampling, noise
// ---------------------------------------------------------------------------------------

#[test]
fn words_are_lower_case_with_apostrophes_kept_inside() {
    assert_eq!(
        corpus::words("‘Curiouser and curiouser!’ cried Alice."),
        strings(&["curiouser", "and", "curiouser", "cried", "alice"])
    );
    assert_eq!(
        corpus::review_sentence("Don’t miss it.<br /><br />9/10, Alice's 'best'"),
        strings(&["don't", "miss", "it", "9", "10", "alice's", "best"])
    );
    let toy = corpus::parse_lines("# a comment\n\nI love king of Korea\n  the queen  \n");
    assert_eq!(
        toy,
        vec![
            strings(&["i", "love", "king", "of", "korea"]),
            strings(&["the", "queen"])
        ]
    );
}

#[test]
fn a_text_stores_each_word_once_and_gives_its_sentences_back() {
    let mut text = Text::from(corpus::parse_lines("b a c\nc b d"));
    text.push::<&str>(&[]); // an empty sentence is not kept
    assert_eq!(text.words, strings(&["b", "a", "c", "d"]));
    assert_eq!(text.sentences, [vec![0, 1, 2], vec![2, 0, 3]]);
    assert_eq!(text.sentence(1), ["c", "b", "d"]);
    assert_eq!((text.len(), text.word_count()), (2, 6));
    assert_eq!(text.counts(), [2, 1, 2, 1]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corpus.txt");
    corpus::dump(&text, &path).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "b a c\nc b d\n");
}

#[test]
fn vocabulary_is_ordered_by_count_then_first_appearance_and_drops_rare_words() {
    let sentences = Text::from(corpus::parse_lines("b a c\nc b d\ne c a\nf"));
    // Counts: c 3, b 2, a 2, d 1, e 1, f 1; b was seen before a, d before e before f.
    let all = Vocab::build(&sentences, 1);
    assert_eq!(all.words, strings(&["c", "b", "a", "d", "e", "f"]));
    assert_eq!(all.counts, [3, 2, 2, 1, 1, 1]);
    assert_eq!(all.total(), 10);

    let frequent = Vocab::build(&sentences, 2);
    assert_eq!(frequent.words, strings(&["c", "b", "a"]));
    assert_eq!(
        (frequent.dropped_words, frequent.dropped_occurrences),
        (3, 3)
    );
    // Rare words leave the sentences; their neighbours close up.
    assert_eq!(frequent.encode(&strings(&["d", "a", "e", "c"])), [2, 0]);
    let error = frequent.require("d", "--words").unwrap_err().to_string();
    assert!(error.contains("\"d\" is not in the vocabulary"), "{error}");
    assert!(error.contains("--min-count"), "{error}");
    let error = frequent.require("C", "--words").unwrap_err().to_string();
    assert!(error.contains("try \"c\""), "{error}");
}

#[test]
fn subsampling_keeps_rare_words_and_drops_frequent_ones_at_the_published_rate() {
    let counts = [100_000u64, 10_000, 1_000, 100, 10];
    let sample = 1e-3;
    let keep = vocab::keep_probabilities(&counts, sample);
    // word2vec.c: keep with probability (sqrt(c / t) + 1) · t / c, t = sample · total.
    let t = sample * counts.iter().sum::<u64>() as f64;
    for (&c, &p) in counts.iter().zip(&keep) {
        let expected = (((c as f64 / t).sqrt() + 1.0) * t / c as f64).min(1.0);
        assert!(
            (f64::from(p) - expected).abs() < 1e-6,
            "count {c}: {p} vs {expected}"
        );
    }
    assert!(
        keep[0] < 0.05,
        "the most frequent word is mostly dropped: {}",
        keep[0]
    );
    assert_eq!(keep[3..], [1.0, 1.0], "rare words are always kept");
    assert_eq!(vocab::keep_probabilities(&counts, 0.0), [1.0; 5]);

    // And subsample() drops them at that rate (seeded, within 4 standard deviations).
    let sentence: Vec<u32> = (0..50_000).map(|i| (i % 5) as u32).collect();
    let mut rng = Rng::new(7);
    let mut kept = Vec::new();
    let mut seen = [0usize; 5];
    for _ in 0..4 {
        vocab::subsample(&sentence, &keep, &mut rng, &mut kept);
        for &w in &kept {
            seen[w as usize] += 1;
        }
    }
    let trials = 40_000.0; // each word appears 10,000 times per pass, 4 passes
    for (w, &p) in keep.iter().enumerate() {
        let p = f64::from(p);
        let observed = seen[w] as f64 / trials;
        let sigma = (p * (1.0 - p) / trials).sqrt();
        assert!(
            (observed - p).abs() <= 4.0 * sigma + 1e-12,
            "word {w}: kept {observed:.4}, expected {p:.4}"
        );
    }
    assert_eq!(seen[3], 40_000);
    assert_eq!(seen[4], 40_000);
}

#[test]
fn the_noise_table_draws_words_in_proportion_to_count_to_the_three_quarters() {
    let counts = [5_000u64, 800, 120, 7, 1];
    let table = NoiseTable::new(&counts, vocab::NOISE_POWER);
    let weights: Vec<f64> = counts.iter().map(|&c| (c as f64).powf(0.75)).collect();
    let total: f64 = weights.iter().sum();
    for (id, w) in weights.iter().enumerate() {
        assert!(
            (table.probability(id) - w / total).abs() < 1e-8,
            "word {id}: {} vs {}",
            table.probability(id),
            w / total
        );
    }
    let draws = 400_000;
    let mut seen = [0usize; 5];
    let mut rng = Rng::new(11);
    for _ in 0..draws {
        seen[table.sample(&mut rng) as usize] += 1;
    }
    for (id, w) in weights.iter().enumerate() {
        let p = w / total;
        let observed = seen[id] as f64 / draws as f64;
        let sigma = (p * (1.0 - p) / draws as f64).sqrt();
        assert!(
            (observed - p).abs() <= 4.0 * sigma,
            "word {id}: drawn {observed:.5}, expected {p:.5}"
        );
    }
    // Count^0.75 draws a rare word more often than its share of the text.
    assert!(table.probability(4) > 1.0 / counts.iter().sum::<u64>() as f64);
}

// ---------------------------------------------------------------------------------------
// Training examples
// ---------------------------------------------------------------------------------------

#[test]
fn skipgram_pairs_and_cbow_contexts_of_the_lecture_sentence() {
    let words = ["i", "love", "king", "of", "korea"];
    let pairs = windows::skipgram_pairs(&words, 2);
    let expected = [
        ("i", "love"),
        ("i", "king"),
        ("love", "i"),
        ("love", "king"),
        ("love", "of"),
        ("king", "i"),
        ("king", "love"),
        ("king", "of"),
        ("king", "korea"),
        ("of", "love"),
        ("of", "king"),
        ("of", "korea"),
        ("korea", "king"),
        ("korea", "of"),
    ];
    assert_eq!(pairs, expected);
    assert_eq!(windows::skipgram_pairs(&words, 1).len(), 8);

    let contexts = windows::cbow_contexts(&words, 2);
    assert_eq!(
        contexts,
        vec![
            (vec!["love", "king"], "i"),
            (vec!["i", "king", "of"], "love"),
            (vec!["i", "love", "of", "korea"], "king"),
            (vec!["love", "king", "korea"], "of"),
            (vec!["king", "of"], "korea"),
        ]
    );
    // A one-word sentence has no context.
    assert!(windows::cbow_contexts(&["alone"], 2).is_empty());

    // The run prints them.
    let shown = report::lecture_examples(Architecture::Skipgram, 2);
    assert!(
        shown.contains("(king → korea)") && shown.contains("14 pairs"),
        "{shown}"
    );
    let shown = report::lecture_examples(Architecture::Cbow, 2);
    assert!(shown.contains("(i, love, of, korea) → king"), "{shown}");
}

#[test]
fn reduced_windows_are_uniform_from_one_to_the_window() {
    let mut rng = Rng::new(3);
    let mut seen = [0usize; 6];
    for _ in 0..50_000 {
        seen[windows::reduced_window(5, &mut rng)] += 1;
    }
    assert_eq!(seen[0], 0);
    for &n in &seen[1..] {
        assert!((n as f64 - 10_000.0).abs() < 400.0, "{seen:?}");
    }
}

// ---------------------------------------------------------------------------------------
// The negative-sampling update against burn's autodiff
// ---------------------------------------------------------------------------------------

fn random_vector(rng: &mut Rng, n: usize, scale: f64) -> Vec<f32> {
    (0..n)
        .map(|_| ((rng.unit() * 2.0 - 1.0) * scale) as f32)
        .collect()
}

/// burn's loss for hidden vector `h` `[1, d]` and target rows `v` `[k, d]` (the first one
/// the true word): −log σ(h·v₀) − Σ log σ(−h·vₖ).
fn burn_loss(h: Tensor<2>, v: Tensor<2>, device: &Device) -> Tensor<1> {
    let k = v.dims()[0];
    let signs: Vec<f32> = (0..k).map(|i| if i == 0 { 1.0 } else { -1.0 }).collect();
    let signs = Tensor::<2>::from_data(TensorData::new(signs, [k, 1]), device);
    let scores = v.matmul(h.transpose()); // [k, 1]
    -log_sigmoid(scores * signs).sum()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn negative_sampling_gradients_equal_autodiff() {
    let (vocab, dim) = (7, 11);
    let mut rng = Rng::new(5);
    let h = random_vector(&mut rng, dim, 0.8);
    let before = random_vector(&mut rng, vocab * dim, 0.8);
    let targets = [3u32, 0, 6, 2]; // the true word, then three noise words
    let lr = 0.5f32;

    // Ours: one call of the in-place operation.
    let mut table = before.clone();
    let mut grad_h = vec![0f32; dim];
    let loss = {
        let output = SharedRows::new(&mut table, dim);
        sgns::negative_sampling(&h, &output, &targets, lr, &mut grad_h)
    };

    // burn: the same loss on tensors, differentiated by autodiff.
    let device = Device::flex().autodiff();
    let rows: Vec<f32> = targets
        .iter()
        .flat_map(|&t| before[t as usize * dim..(t as usize + 1) * dim].to_vec())
        .collect();
    let h_t = Tensor::<2>::from_data(TensorData::new(h.clone(), [1, dim]), &device).require_grad();
    let v_t =
        Tensor::<2>::from_data(TensorData::new(rows, [targets.len(), dim]), &device).require_grad();
    let burn_loss = burn_loss(h_t.clone(), v_t.clone(), &device);
    let grads = burn_loss.backward();
    let dh = shared::floats(h_t.grad(&grads).unwrap());
    let dv = shared::floats(v_t.grad(&grads).unwrap());

    assert!((loss - burn_loss.into_scalar::<f32>()).abs() < 1e-5);
    assert!(max_abs_diff(&grad_h, &dh) < 1e-5, "∂loss/∂h differs");
    for (k, &t) in targets.iter().enumerate() {
        let t = t as usize;
        // The row moved by −lr · ∂loss/∂v.
        let moved: Vec<f32> = (0..dim)
            .map(|i| (before[t * dim + i] - table[t * dim + i]) / lr)
            .collect();
        assert!(
            max_abs_diff(&moved, &dv[k * dim..(k + 1) * dim]) < 1e-5,
            "row {t} moved by something else than −lr · ∂loss/∂v"
        );
    }
    // Rows that are not targets stay as they were.
    for t in [1usize, 4, 5] {
        assert_eq!(
            table[t * dim..(t + 1) * dim],
            before[t * dim..(t + 1) * dim]
        );
    }
}

#[test]
fn a_noise_word_drawn_twice_in_one_example_moves_from_where_its_first_use_left_it() {
    // Computed here by hand: row 1 is a noise word (label 0) twice, updated in place.
    let dim = 3;
    let h = [0.5f32, -1.0, 0.25];
    let lr = 0.5f32;
    let start = vec![0.1f32, 0.2, 0.3, -0.4, 0.5, -0.6];
    let mut table = start.clone();
    {
        let rows = SharedRows::new(&mut table, dim);
        sgns::negative_sampling(&h, &rows, &[0, 1, 1], lr, &mut vec![0.0; dim]);
    }
    let sigmoid = |f: f32| 1.0 / (1.0 + (-f).exp());
    let mut row1 = start[dim..].to_vec();
    for _ in 0..2 {
        let g = sigmoid(sgns::dot(&h, &row1));
        for (v, x) in row1.iter_mut().zip(h) {
            *v -= lr * g * x;
        }
    }
    assert!(
        max_abs_diff(&table[dim..], &row1) < 1e-6,
        "{:?} vs {row1:?}",
        &table[dim..]
    );
}

#[test]
fn cbow_hidden_gradient_equals_autodiff_and_each_context_word_gets_all_of_it() {
    let dim = 9;
    let mut rng = Rng::new(8);
    let context = random_vector(&mut rng, 3 * dim, 0.9); // three context words' rows of W
    let mut output = random_vector(&mut rng, 5 * dim, 0.9);
    let targets = [4u32, 1, 2];
    let before = output.clone();

    // The hidden vector is the mean of the context rows, as in the lab's CBOW.
    let h: Vec<f32> = (0..dim)
        .map(|i| (context[i] + context[dim + i] + context[2 * dim + i]) / 3.0)
        .collect();
    let mut grad_h = vec![0f32; dim];
    {
        let rows = SharedRows::new(&mut output, dim);
        sgns::negative_sampling(&h, &rows, &targets, 0.1, &mut grad_h);
    }

    let device = Device::flex().autodiff();
    let w = Tensor::<2>::from_data(TensorData::new(context, [3, dim]), &device).require_grad();
    let rows: Vec<f32> = targets
        .iter()
        .flat_map(|&t| before[t as usize * dim..(t as usize + 1) * dim].to_vec())
        .collect();
    let v = Tensor::<2>::from_data(TensorData::new(rows, [3, dim]), &device);
    let grads = burn_loss(w.clone().mean_dim(0), v, &device).backward();
    let dw = shared::floats(w.grad(&grads).unwrap());
    // Autodiff: each context row gets a third of ∂loss/∂h. word2vec.c (and the lab) give
    // each row all of ∂loss/∂h: the lab's update is 3 times autodiff's gradient, on purpose.
    for row in dw.chunks(dim) {
        let times_three: Vec<f32> = row.iter().map(|g| 3.0 * g).collect();
        assert!(max_abs_diff(&times_three, &grad_h) < 1e-5);
    }
}

#[test]
fn the_loss_and_sigmoid_stay_finite_far_from_zero() {
    for f in [-200.0f32, -30.0, 0.0, 30.0, 200.0] {
        for label in [0.0, 1.0] {
            let (sigma, loss) = sgns::sigmoid_and_loss(f, label);
            assert!(sigma.is_finite() && (0.0..=1.0).contains(&sigma));
            assert!(
                loss.is_finite() && loss >= 0.0,
                "f {f} label {label}: {loss}"
            );
        }
    }
    assert!((sgns::sigmoid_and_loss(0.0, 1.0).1 - std::f32::consts::LN_2).abs() < 1e-6);
    assert!((sgns::sigmoid_and_loss(200.0, 0.0).1 - 200.0).abs() < 1e-3);
    assert!(sgns::sigmoid_and_loss(200.0, 1.0).1 < 1e-6);
}

#[test]
fn dot_product_matches_the_plain_sum_at_every_length() {
    let mut rng = Rng::new(1);
    for n in [0, 1, 7, 8, 9, 16, 100, 301] {
        let a = random_vector(&mut rng, n, 1.0);
        let b = random_vector(&mut rng, n, 1.0);
        let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((sgns::dot(&a, &b) - plain).abs() < 1e-4, "length {n}");
    }
}

#[test]
fn sentences_are_split_between_threads_by_word_count() {
    let sentences: Vec<Vec<u32>> = [5, 1, 1, 1, 1, 1, 5, 5]
        .iter()
        .map(|&n| vec![0; n])
        .collect();
    let parts = sgns::split_by_words(&sentences, 2);
    assert_eq!(parts, vec![0..6, 6..8]); // 10 words each
    assert_eq!(sgns::split_by_words(&sentences, 1), vec![0..8]);
    assert_eq!(sgns::split_by_words(&sentences[..1], 4), vec![0..1]);
}

#[test]
fn a_one_hot_input_picks_its_word_row_of_w() {
    // The lecture's point: one-hot · W is a row of W, so the hidden layer is the word's
    // vector; CBOW's averaged one-hots give the mean of the context words' rows.
    let (vocab, dim) = (6, 4);
    let mut tables = Tables::new(vocab, dim, 1);
    tables.output = random_vector(&mut Rng::new(4), vocab * dim, 1.0);
    let device = Device::flex();
    let model = SoftmaxWord2Vec::new(&tables, &device);
    let examples = [(vec![3u32], 0u32), (vec![1, 2], 5)];
    let (x, y) = softmax::batch_tensors(&examples, vocab, &device);
    assert_eq!(shared::floats(y)[5 + vocab], 1.0);
    let hidden = shared::floats(x.clone().matmul(model.input.val())); // [2, dim]
    assert!(max_abs_diff(&hidden[..dim], tables.input_row(3)) < 1e-7);
    let mean: Vec<f32> = (0..dim)
        .map(|k| (tables.input_row(1)[k] + tables.input_row(2)[k]) / 2.0)
        .collect();
    assert!(max_abs_diff(&hidden[dim..], &mean) < 1e-7);
    // The scores: the hidden vector against each word's output vector.
    let logits = shared::floats(model.forward(x)); // [2, vocab]
    for (word, &logit) in logits[..vocab].iter().enumerate() {
        let output = &tables.output[word * dim..(word + 1) * dim];
        let expected = eval::dot(tables.input_row(3), output);
        assert!((logit - expected).abs() < 1e-5);
    }
}

// ---------------------------------------------------------------------------------------
// Training that learns
// ---------------------------------------------------------------------------------------

fn config(
    architecture: Architecture,
    objective: Objective,
    epochs: usize,
    threads: usize,
) -> LabConfig {
    LabConfig::new(
        DataChoice::new(Mode::Sample),
        FitConfig::new(epochs, 16, architecture.default_lr(), 42),
        OptimizerConfig::Sgd(SgdConfig::new()),
        Word2VecConfig {
            corpus: Corpus::Toy,
            architecture,
            objective,
            window: 2,
            dim: 20,
            negative: 5,
            min_count: 1,
            sample: 0.0,
            threads,
            min_lr_fraction: 1e-4,
            words: Vec::new(),
            analogies: Vec::new(),
            compare: false,
        },
    )
}

/// Two words that are never seen together but always in the same company (synonyms), and
/// others in other company.
fn planted_synonyms() -> Text {
    let mut text = String::new();
    for place in ["sofa", "couch"] {
        for who in ["cat", "dog", "child", "guest"] {
            text += &format!("the {who} sleeps on the {place} at night\n");
            text += &format!("a {who} sits on a soft {place} all day\n");
        }
    }
    for who in ["farmer", "sailor"] {
        text += &format!("the {who} watches the rain over the sea\n");
        text += &format!("a {who} hears thunder in the storm\n");
    }
    Text::from(corpus::parse_lines(&text))
}

fn train(sentences: &Text, config: &LabConfig) -> (Embeddings, Vec<sgns::EpochStats>) {
    let vocab = Vocab::build(sentences, 1);
    let encoded = vocab.encode_text(sentences);
    let keep = vocab::keep_probabilities(&vocab.counts, config.word2vec.sample);
    let trained = training::train_vectors(
        &vocab,
        &encoded,
        config,
        &keep,
        &Device::flex().autodiff(),
        false,
    )
    .unwrap();
    (trained.embeddings, trained.history)
}

fn assert_synonyms_learned(embeddings: &Embeddings, history: &[sgns::EpochStats], what: &str) {
    let (first, last) = (&history[0], history.last().unwrap());
    assert!(
        last.loss < 0.8 * first.loss,
        "{what}: the loss should fall: {} → {}",
        first.loss,
        last.loss
    );
    let synonyms = embeddings.similarity("sofa", "couch").unwrap();
    for other in ["rain", "thunder", "sea", "storm"] {
        let unrelated = embeddings.similarity("sofa", other).unwrap();
        assert!(
            synonyms > unrelated + 0.2,
            "{what}: cos(sofa, couch) {synonyms:.3} should beat cos(sofa, {other}) {unrelated:.3}"
        );
    }
}

#[test]
fn skipgram_with_negative_sampling_learns_planted_synonyms() {
    let (embeddings, history) = train(
        &planted_synonyms(),
        &config(Architecture::Skipgram, Objective::Negative, 100, 1),
    );
    assert_synonyms_learned(&embeddings, &history, "skip-gram");
}

#[test]
fn cbow_with_negative_sampling_learns_planted_synonyms() {
    let (embeddings, history) = train(
        &planted_synonyms(),
        &config(Architecture::Cbow, Objective::Negative, 100, 1),
    );
    assert_synonyms_learned(&embeddings, &history, "CBOW");
}

#[test]
fn the_softmax_network_learns_planted_synonyms() {
    let (embeddings, history) = train(
        &planted_synonyms(),
        &config(Architecture::Skipgram, Objective::Softmax, 60, 1),
    );
    assert_synonyms_learned(&embeddings, &history, "softmax");
}

#[test]
fn one_thread_gives_the_same_vectors_every_time_and_two_threads_learn_too() {
    let sentences = planted_synonyms();
    let one = config(Architecture::Skipgram, Objective::Negative, 20, 1);
    assert_eq!(train(&sentences, &one).0, train(&sentences, &one).0);
    let (embeddings, history) = train(
        &sentences,
        &config(Architecture::Skipgram, Objective::Negative, 100, 2),
    );
    assert_synonyms_learned(&embeddings, &history, "two threads");
}

fn toy() -> Text {
    corpus::load(Corpus::Toy, &DataSource::Sample, false).unwrap()
}

#[test]
fn on_the_toy_corpus_skipgram_answers_the_lecture_analogies() {
    let (embeddings, history) = train(
        &toy(),
        &config(Architecture::Skipgram, Objective::Negative, 400, 1),
    );
    assert!(history.last().unwrap().loss < history[0].loss);
    let right = CorpusDefaults::of(Corpus::Toy)
        .analogies
        .iter()
        .filter(|a| {
            let question = Analogy::parse(a).unwrap();
            eval::answer(&embeddings, &question, 1).unwrap().correct()
        })
        .count();
    assert!(right >= 4, "only {right} of 5 analogies right");
    let king = embeddings.nearest("king", 3).unwrap();
    assert!(
        king.iter().any(|(w, _)| w == "queen" || w == "prince"),
        "{king:?}"
    );
}

#[test]
fn both_objectives_give_similar_neighbours_on_the_toy_corpus() {
    let sentences = toy();
    let (negative, _) = train(
        &sentences,
        &config(Architecture::Skipgram, Objective::Negative, 400, 1),
    );
    let (softmax, _) = train(
        &sentences,
        &config(Architecture::Skipgram, Objective::Softmax, 100, 1),
    );
    let words = CorpusDefaults::of(Corpus::Toy).words;
    let (mut same, mut of) = (0, 0);
    for word in words {
        let a = negative.nearest(word, 5).unwrap();
        let b = softmax.nearest(word, 5).unwrap();
        same += a
            .iter()
            .filter(|(w, _)| b.iter().any(|(v, _)| v == w))
            .count();
        of += 5;
    }
    assert!(2 * same >= of, "only {same} of {of} neighbours shared");
}

// ---------------------------------------------------------------------------------------
// Evaluation maths on hand-made vectors
// ---------------------------------------------------------------------------------------

fn hand_made() -> Embeddings {
    // Axes: royalty, maleness, fruitiness.
    let rows: [(&str, [f32; 3]); 5] = [
        ("king", [1.0, 1.0, 0.0]),
        ("queen", [1.0, -1.0, 0.0]),
        ("man", [0.0, 1.0, 0.1]),
        ("woman", [0.0, -1.0, 0.1]),
        ("apple", [0.0, 0.0, 1.0]),
    ];
    Embeddings::new(
        rows.iter().map(|(w, _)| w.to_string()).collect(),
        3,
        rows.iter().flat_map(|(_, v)| *v).collect(),
    )
    .unwrap()
}

#[test]
fn cosine_similarity_and_one_hot_vectors() {
    assert!((eval::cosine(&[1.0, 2.0], &[2.0, 4.0]) - 1.0).abs() < 1e-6);
    assert!((eval::cosine(&[1.0, 2.0], &[-1.0, -2.0]) + 1.0).abs() < 1e-6);
    assert_eq!(eval::cosine(&[1.0, 0.0], &[0.0, 3.0]), 0.0);
    assert_eq!(eval::cosine(&[0.0, 0.0], &[1.0, 1.0]), 0.0);
    // Any two different one-hot vectors: cosine 0, whatever the words.
    for (a, b) in [(0, 1), (3, 7), (9, 2)] {
        assert_eq!(
            eval::cosine(&eval::one_hot(a, 10), &eval::one_hot(b, 10)),
            0.0
        );
    }
    let e = hand_made();
    assert!((e.similarity("king", "queen").unwrap()).abs() < 1e-6);
    assert!(e.similarity("man", "king").unwrap() > 0.5);
    let nearest = e.nearest("woman", 2).unwrap();
    assert_eq!(nearest[0].0, "queen");
    assert!(nearest.iter().all(|(w, _)| w != "woman"));
    assert!(e.nearest("dragon", 2).is_err());
}

#[test]
fn analogies_use_b_minus_a_plus_c_and_exclude_the_question_words() {
    let e = hand_made();
    // king:man::queen:? → man − king + queen = (0, −1, 0.1) = woman.
    let question = Analogy::parse("king:man::queen:woman").unwrap();
    let result = eval::answer(&e, &question, 3).unwrap();
    assert_eq!(result.answers[0].0, "woman");
    assert!(result.answers[0].1 > 0.9);
    assert!(result.correct());
    assert!(
        result
            .answers
            .iter()
            .all(|(w, _)| !["king", "man", "queen"].contains(&w.as_str()))
    );
    // queen:woman::king:? → man.
    let open = Analogy::parse(" Queen : woman :: king : ? ").unwrap();
    assert_eq!(open.expected, None);
    assert_eq!(open.to_string(), "queen:woman::king:?");
    assert_eq!(eval::answer(&e, &open, 1).unwrap().answers[0].0, "man");
    // A wrong expectation gets its rank.
    let wrong = Analogy::parse("king:man::queen:apple").unwrap();
    assert_eq!(eval::answer(&e, &wrong, 1).unwrap().expected_rank, Some(2));
    for bad in [
        "king:man",
        "king:man::queen",
        "king::man:queen:?",
        ":man::queen:?",
    ] {
        let error = Analogy::parse(bad).unwrap_err().to_string();
        assert!(error.contains("a:b::c:?"), "{bad}: {error}");
    }
}

#[test]
fn pca_finds_the_directions_of_largest_spread() {
    // Points spread 10 apart along (1, 1, 0)/√2 and ±1 along (0, 0, 1), uncorrelated.
    const SMALL: [f32; 8] = [1.0, -1.0, -1.0, 1.0, 1.0, -1.0, -1.0, 1.0];
    let points: Vec<Vec<f32>> = (0..8)
        .map(|i| {
            let big = (i as f32 - 3.5) * 10.0 / 2f32.sqrt();
            vec![big + 5.0, big + 5.0, SMALL[i] - 2.0]
        })
        .collect();
    let rows: Vec<&[f32]> = points.iter().map(Vec::as_slice).collect();
    let projected = eval::pca_2d(&rows);
    for (i, p) in projected.iter().enumerate() {
        let big = (i as f32 - 3.5) * 10.0;
        assert!((p[0].abs() - big.abs()).abs() < 1e-3, "{p:?}");
        assert!(
            (p[1] - SMALL[i]).abs() < 1e-3 || (p[1] + SMALL[i]).abs() < 1e-3,
            "{p:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------

#[test]
fn vec_and_tsv_files_parse_back_to_the_same_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(2);
    let words = strings(&["the", "king", "don't", "émile"]);
    let mut vectors = random_vector(&mut rng, 4 * 6, 3.0);
    vectors[0] = 1e-9;
    vectors[1] = -123456.7;
    let e = Embeddings::new(words, 6, vectors).unwrap();

    let vec = dir.path().join("vectors.vec");
    output::write_vec(&vec, &e).unwrap();
    let text = std::fs::read_to_string(&vec).unwrap();
    assert!(text.starts_with("4 6\nthe "), "{text}");
    assert_eq!(output::read_vec(&vec).unwrap(), e);

    let (tsv, metadata) = (
        dir.path().join("vectors.tsv"),
        dir.path().join("metadata.tsv"),
    );
    output::write_projector(&tsv, &metadata, &e).unwrap();
    assert_eq!(
        std::fs::read_to_string(&metadata).unwrap(),
        "the\nking\ndon't\némile\n"
    );
    assert_eq!(output::read_projector(&tsv, &metadata).unwrap(), e);

    // A broken file is an error that says where.
    std::fs::write(&vec, "2 3\na 1 2 3\nb 1 2\n").unwrap();
    let error = format!("{:#}", output::read_vec(&vec).unwrap_err());
    assert!(
        error.contains("line 3") && error.contains("header says 3"),
        "{error}"
    );
    std::fs::write(&vec, "vectors\n").unwrap();
    assert!(output::read_vec(&vec).is_err());
}

#[test]
fn tables_start_as_word2vec_starts_them() {
    let tables = Tables::new(50, 10, 3);
    assert!(tables.input.iter().all(|x| x.abs() <= 0.05));
    assert!(tables.input.iter().any(|&x| x != 0.0));
    assert!(tables.output.iter().all(|&x| x == 0.0));
    assert_eq!(tables.input_row(4).len(), 10);
}

// ---------------------------------------------------------------------------------------
// The program
// ---------------------------------------------------------------------------------------

fn lab_output(args: &[&str], out: &std::path::Path) -> std::process::Output {
    common::lab(EXE)
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn an_unknown_word_is_a_clear_error_not_a_panic() {
    let out = tempfile::tempdir().unwrap();
    for (args, message) in [
        (
            vec!["--quick", "--words", "king,dragon"],
            "--words: \"dragon\" is not in the vocabulary",
        ),
        (
            vec!["--quick", "--analogy", "king:man::dragon:?"],
            "\"dragon\" is not in the vocabulary",
        ),
        (vec!["--quick", "--analogy", "king-man"], "write a:b::c:?"),
        (
            vec!["--quick", "--window", "0"],
            "--window must be at least 1",
        ),
        (
            vec!["--quick", "--resume", "somewhere"],
            "--resume is not needed",
        ),
    ] {
        let output = lab_output(&args, out.path());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn quick_run_writes_its_run_folder() {
    let out = tempfile::tempdir().unwrap();
    let dump = out.path().join("corpus.txt");
    let stdout = common::succeed(
        common::lab(EXE)
            .args(["--quick", "--threads", "1", "--dump-corpus"])
            .arg(&dump)
            .arg("--out")
            .arg(out.path()),
    );
    assert!(stdout.contains("(king → korea)"), "{stdout}");
    assert!(stdout.contains("one-hot 0.00"), "{stdout}");
    assert!(stdout.contains("under both objectives"), "{stdout}");
    let run = common::only_run_folder(out.path(), "word2vec");
    for file in [
        "config.json",
        "pairs.txt",
        "vocabulary.tsv",
        "history.csv",
        "loss.png",
        "neighbours.txt",
        "analogies.txt",
        "embedding.png",
        "similarity.png",
        "vectors.vec",
        "vectors.tsv",
        "metadata.tsv",
        "summary.txt",
    ] {
        assert!(
            run.join(file).exists(),
            "{file} missing from {}",
            run.display()
        );
    }
    let vectors = output::read_vec(&run.join("vectors.vec")).unwrap();
    assert_eq!(vectors.dim, 20);
    assert!(vectors.id("king").is_some());
    let history = std::fs::read_to_string(run.join("history.csv")).unwrap();
    assert_eq!(history.lines().count(), 31, "{history}");
    let config = LabConfig::load(run.join("config.json")).unwrap();
    assert_eq!(config.fit.epochs, 30);
    assert_eq!(config.word2vec.window, 2);
    let dumped = std::fs::read_to_string(&dump).unwrap();
    assert!(dumped.starts_with("i love king of korea\n"), "{dumped}");
    let summary = std::fs::read_to_string(run.join("summary.txt")).unwrap();
    assert!(
        summary.contains("analogies") && summary.contains("words/s"),
        "{summary}"
    );
}

#[test]
fn imdb_quick_run_reads_the_bundled_reviews() {
    let out = tempfile::tempdir().unwrap();
    let stdout = common::succeed(
        common::lab(EXE)
            .args(["--quick", "--corpus", "imdb", "--dim", "20", "--out"])
            .arg(out.path()),
    );
    assert!(
        stdout.contains("IMDB reviews (the bundled sample): 200 sentences"),
        "{stdout}"
    );
    assert!(stdout.contains("subsampling 0.001"), "{stdout}");
    let run = common::only_run_folder(out.path(), "word2vec");
    assert_eq!(output::read_vec(&run.join("vectors.vec")).unwrap().dim, 20);
}

#[test]
fn cbow_softmax_run_on_alice_quick() {
    let out = tempfile::tempdir().unwrap();
    let stdout = common::succeed(
        common::lab(EXE)
            .args([
                "--quick",
                "--corpus",
                "alice",
                "--mode",
                "cbow",
                "--loss",
                "softmax",
                "--min-count",
                "20",
                "--out",
            ])
            .arg(out.path()),
    );
    assert!(
        stdout.contains("CBOW: the neighbours together predict"),
        "{stdout}"
    );
    assert!(stdout.contains("full softmax"), "{stdout}");
}
