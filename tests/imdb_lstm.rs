//! Lab 8 tests: the lecture's preprocessing against Keras, the model's shapes and
//! parameters, training, and the binary (`--quick`, `--predict` and its bad inputs).

mod common;

use std::path::Path;
use std::process::Command;

use burn::module::Param;
use burn::optim::AdamConfig;
use burn::prelude::*;
use lab_imdb_lstm::data::{self, Length, Reviews, SequenceBatcher, Vocabulary};
use lab_imdb_lstm::model::{BagOfWordsConfig, SentimentConfig};
use lab_imdb_lstm::predict::Predictor;
use lab_imdb_lstm::training::{self, Options};
use shared::cli::CommonArgs;
use shared::datasets::DataSource;
use shared::imdb::{self, Review, WordIndex};
use shared::train::{Batcher, Metric, Supervised};

fn word_index() -> WordIndex {
    WordIndex::read(&shared::datasets::samples_dir().join("imdb/imdb_word_index.json")).unwrap()
}

fn review(text: &str, label: u8) -> Review {
    Review {
        text: text.to_string(),
        label,
        rating: if label == 1 { 10 } else { 1 },
        id: 0,
    }
}

#[test]
fn reviews_are_padded_and_cut_at_the_front() {
    let padded = data::pad(&[vec![1, 14, 22], vec![1, 5, 6, 7, 8, 9]], 4);
    assert_eq!(padded, vec![vec![0, 1, 14, 22], vec![6, 7, 8, 9]]);
}

/// `tests/fixtures/imdb_tokens.json`: made once by `tests/fixtures/imdb_tokens.py` with
/// Keras's own `text_to_word_sequence` and `pad_sequences` (the script says which versions).
fn fixture() -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/imdb_tokens.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn ints(v: &serde_json::Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

/// The bundled word index plus the fixture's few entries of the full one that its
/// `synthetic` and `576_10` records need (a word missing from the index is dropped, one of
/// rank ≥ 9,997 becomes <UNK>: the difference needs the word's true rank).
fn fixture_index(json: &serde_json::Value) -> WordIndex {
    let mut index = word_index();
    for (word, rank) in json["word_index_extra"].as_object().unwrap() {
        index
            .ranks
            .insert(word.clone(), rank.as_u64().unwrap() as u32);
    }
    index
}

#[test]
fn review_576_10_encodes_to_keras_x_train_0() {
    let json = fixture();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/imdb_576_10.txt");
    let text = std::fs::read_to_string(path).unwrap();
    let expected = ints(&json["keras_x_train_0"]);
    assert_eq!(expected.len(), 218);
    assert_eq!(&expected[..6], &[1, 14, 22, 16, 43, 530]);
    let reviews = Reviews::encode(&[review(&text, 1)], &fixture_index(&json), data::NUM_WORDS);
    assert_eq!(reviews.sequences[0], expected);
}

#[test]
fn reviews_encode_and_pad_as_kerass_functions_do() {
    let json = fixture();
    let index = fixture_index(&json);
    let mut records: Vec<(String, String, &serde_json::Value)> = Vec::new();
    for r in json["reviews"].as_array().unwrap() {
        let path = shared::datasets::samples_dir()
            .join("imdb/aclImdb")
            .join(r["path"].as_str().unwrap());
        let text = std::fs::read_to_string(&path).unwrap();
        records.push((path.display().to_string(), text, r));
    }
    let synthetic = &json["synthetic"];
    let text = synthetic["text"].as_str().unwrap().to_string();
    records.push(("synthetic".into(), text, synthetic));
    assert_eq!(records.len(), 7);
    for (name, text, r) in records {
        assert_eq!(
            shared::text::tokenize(&text),
            strings(&r["keras_text_to_word_sequence"]),
            "{name}"
        );
        assert_eq!(
            shared::text::tokenize_ascii_lowercase(&text),
            strings(&r["ascii_lowercase_tokens"]),
            "{name}"
        );
        let encoded = Reviews::encode(&[review(&text, 1)], &index, data::NUM_WORDS);
        assert_eq!(encoded.sequences[0], ints(&r["imdb_npz_10000"]), "{name}");
        for maxlen in [200, 20] {
            let keras = ints(&r[format!("pad_{maxlen}")]);
            assert_eq!(data::pad(&encoded.sequences, maxlen)[0], keras, "{name}");
        }
    }
}

#[test]
fn the_vocabulary_reads_text_as_training_does_and_decodes_it_back() {
    let index = word_index();
    let vocabulary = Vocabulary::from_index(&index, data::NUM_WORDS);
    assert_eq!(vocabulary.len(), 9_997);
    assert_eq!(vocabulary.num_words(), 10_000);
    // Every bundled training review: the vocabulary gives Keras's indices (their words are
    // all in the word index, so dropping and <UNK> cannot differ).
    let sample = imdb::load(
        &DataSource::Sample,
        &shared::download::Downloader::default(),
    )
    .unwrap();
    let encoded = Reviews::encode(&sample.train, &index, data::NUM_WORDS);
    for (review, sequence) in sample.train.iter().zip(&encoded.sequences) {
        assert_eq!(&vocabulary.encode(&review.text).indices, sequence);
    }
    let e = vocabulary.encode("This movie was GREAT, zzqxv!");
    assert_eq!(e.words, 5);
    assert_eq!(e.unknown, 1);
    assert_eq!(e.indices[0], data::START);
    assert_eq!(*e.indices.last().unwrap(), data::UNK);
    assert_eq!(
        vocabulary.decode(&[0, 1, e.indices[1], e.indices[4], 2]),
        "<PAD> <START> this great <UNK>"
    );
    // A word missing from the index is dropped from a dataset review, as in imdb.npz.
    let dropped = Reviews::encode(&[review("great zzqxv film", 1)], &index, data::NUM_WORDS);
    assert_eq!(dropped.sequences[0].len(), 3);
    // Saved and read back.
    let dir = tempfile::tempdir().unwrap();
    vocabulary.save(&dir.path().join("vocabulary.txt")).unwrap();
    assert_eq!(
        Vocabulary::load(&dir.path().join("vocabulary.txt")).unwrap(),
        vocabulary
    );
}

#[test]
fn review_lengths_fall_into_short_medium_and_long() {
    let seq = |words: usize| vec![5u32; words + 1];
    assert_eq!(Length::of(&seq(99), 200), Length::Short);
    assert_eq!(Length::of(&seq(100), 200), Length::Medium);
    assert_eq!(Length::of(&seq(199), 200), Length::Medium);
    assert_eq!(Length::of(&seq(200), 200), Length::Long);
}

#[test]
fn the_model_has_kerass_shapes_and_parameter_counts() {
    let device = Device::flex();
    // Embedding 10,000 x 128 + LSTM 4·64·(128 + 64 + 1) + Dense 65: Keras's summary.
    let lstm = SentimentConfig::new().init(&device);
    assert_eq!(lstm.num_params(), 1_280_000 + 49_408 + 65);
    let bi = SentimentConfig::new()
        .with_bidirectional(true)
        .init(&device);
    assert_eq!(bi.num_params(), 1_280_000 + 2 * 49_408 + 129);
    let bag = BagOfWordsConfig::new().init(&device);
    assert_eq!(bag.num_params(), 160_305);

    // Time-major ids: row t is word t of each review.
    let reviews = Reviews {
        sequences: vec![vec![1, 14, 22], vec![1, 5, 6, 7, 8]],
        labels: vec![1, 0],
        names: vec!["a".into(), "b".into()],
    };
    let batcher = SequenceBatcher::new(&reviews, 4);
    let batch = batcher.batch(&[0, 1], &device);
    assert_eq!(batch.ids.dims(), [4, 2]);
    assert_eq!(
        shared::ints(batch.ids.clone()),
        vec![0, 5, 1, 6, 14, 7, 22, 8]
    );
    assert_eq!(lstm.forward(batch.ids.clone()).dims(), [2, 1]);
    assert_eq!(bi.forward(batch.ids).dims(), [2, 1]);
}

#[test]
fn binary_accuracy_of_a_known_batch() {
    let device = Device::flex();
    let mut model = SentimentConfig::new().with_units(4).init(&device);
    // Output weights 0 and bias +5: every review is called positive, p = sigmoid(5).
    model.output.weight = Param::from_tensor(Tensor::zeros([4, 1], &device));
    model.output.bias = Some(Param::from_tensor(Tensor::from_data(
        TensorData::new(vec![5.0f32], [1]),
        &device,
    )));
    let reviews = Reviews {
        sequences: vec![vec![1, 14], vec![1, 15], vec![1, 16], vec![1, 17]],
        labels: vec![1, 0, 1, 1],
        names: vec![String::new(); 4],
    };
    let batcher = SequenceBatcher::new(&reviews, 3);
    let step = model.forward_step(batcher.batch(&[0, 1, 2, 3], &device));
    let evaluation = shared::train::evaluate(&model, &batcher, 4, &device);
    assert!((evaluation.get(Metric::Accuracy) - 0.75).abs() < 1e-9);
    // Loss: three of −ln σ(5) and one of −ln(1 − σ(5)) = 5 + ln(1 + e^−5), averaged.
    let expected = (3.0 * (1.0 + (-5f64).exp()).ln() + 5.0 + (1.0 + (-5f64).exp()).ln()) / 4.0;
    let loss = step.loss.into_scalar::<f32>() as f64;
    assert!((loss - expected).abs() < 1e-5, "{loss} vs {expected}");
}

#[test]
fn a_few_training_steps_lower_the_loss() {
    let splits = data::load(&DataSource::Sample, data::NUM_WORDS, 0.2, 1, None).unwrap();
    let batcher = SequenceBatcher::new(&splits.train, 80);
    let device = Device::flex().autodiff();
    device.seed(1);
    let model = SentimentConfig::new().with_units(16).init(&device);
    let indices: Vec<usize> = (0..64).collect();
    let (before, after) = common::loss_before_and_after(
        model,
        &batcher,
        &indices,
        (4, 16, 1e-2),
        AdamConfig::new().with_epsilon(1e-7).init(),
        &device,
    );
    eprintln!("loss {before} → {after}");
    assert!(
        (before - 0.69).abs() < 0.05,
        "an untrained binary model starts near ln 2: {before}"
    );
    assert!(after < before * 0.8, "loss {before} → {after}");
}

#[test]
fn predict_on_a_saved_quick_run_gives_the_model_in_memorys_probability() {
    let out = tempfile::tempdir().unwrap();
    #[derive(clap::Parser)]
    struct Flags {
        #[command(flatten)]
        common: CommonArgs,
    }
    let out_dir = out.path().to_str().unwrap();
    let args = <Flags as clap::Parser>::parse_from(["lab", "--quick", "--out", out_dir]).common;
    let options = Options {
        units: 8,
        bidirectional: true,
        // Active while training only: the reloaded model must predict as the one in memory.
        dropout: 0.3,
        lr_decay: 0.5,
        maxlen: 50,
        baseline: false,
        test: true,
    };
    let outcome = training::run(&args, options).unwrap();
    let saved = std::fs::read_to_string(outcome.run.path.join("config.json")).unwrap();
    assert!(saved.contains("\"lr_decay\": 0.5"), "{saved}");
    let device = Device::flex();
    let text = "One of the best films I have seen: moving, funny and wonderfully acted.";
    let predictor = Predictor::load(&outcome.run.path, &device).unwrap();
    let encoded = predictor.vocabulary.encode(text);
    let in_memory = training::probabilities(
        &outcome.lstm.model,
        &SequenceBatcher::single(&encoded.indices, 50),
        &device,
    )
    .unwrap()[0];
    let reloaded = predictor.score(text, &device).unwrap().p_positive;
    assert!(
        (in_memory - reloaded).abs() < 1e-6,
        "{in_memory} vs {reloaded}"
    );

    // The binary prints the same probability for the same run.
    let stdout = common::succeed(
        lab()
            .args(["--predict", text, "--run"])
            .arg(&outcome.run.path),
    );
    assert!(
        stdout.contains(&format!("p(positive) = {reloaded:.3}")),
        "{stdout} vs {reloaded}"
    );
    // The test predictions held the probabilities the saved model gives.
    assert_eq!(
        outcome.test.as_ref().unwrap().predictions.len(),
        std::fs::read_to_string(outcome.run.path.join("test_predictions.csv"))
            .unwrap()
            .lines()
            .count()
            - 1
    );
}

fn lab() -> Command {
    common::lab(env!("CARGO_BIN_EXE_lab-imdb-lstm"))
}

/// Runs the binary, expects it to fail with `message` in its error and no panic.
fn fails_with(command: &mut Command, message: &str) {
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "it succeeded: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains(message), "{stderr}");
}

#[test]
fn quick_run_writes_its_run_folder_and_bad_predict_inputs_are_clear_errors() {
    let out = tempfile::tempdir().unwrap();
    let stdout = common::succeed(
        lab()
            .args(["--quick", "--maxlen", "60", "--out"])
            .arg(out.path()),
    );
    assert!(stdout.contains("Total params: 1,329,473"), "{stdout}");
    assert!(stdout.contains("Preprocessing (review"), "{stdout}");
    assert!(stdout.contains("Baseline: bag of words"), "{stdout}");
    let run = common::only_run_folder(out.path(), "imdb-lstm");
    for file in [
        "config.json",
        "vocabulary.txt",
        "preprocessing.txt",
        "history.csv",
        "curves.png",
        "model.bpk",
        "confusion.png",
        "test_predictions.csv",
        "test_reviews.txt",
        "summary.txt",
        "baseline/model.bpk",
        "baseline/history.csv",
        "baseline/config.json",
    ] {
        assert!(run.join(file).is_file(), "{file} missing");
    }
    let summary = std::fs::read_to_string(run.join("summary.txt")).unwrap();
    for row in [
        "test (once)",
        "baseline",
        "by length",
        "short (< 100 words)",
    ] {
        assert!(summary.contains(row), "{row}: {summary}");
    }

    // --predict with the newest run under --out.
    let stdout = common::succeed(
        lab()
            .args(["--predict", "a dreadful, boring waste of time", "--out"])
            .arg(out.path()),
    );
    assert!(stdout.contains("p(positive) = "), "{stdout}");

    let with_run = |extra: &[&str]| {
        let mut command = lab();
        command.args(extra).arg("--run").arg(&run);
        command
    };
    fails_with(&mut with_run(&["--predict", ""]), "the text has no words");
    fails_with(
        &mut with_run(&["--predict", " ?! ... "]),
        "the text has no words",
    );
    fails_with(
        &mut with_run(&["--predict", "zzqxv qqwrtz"]),
        "none of the text's 2 words",
    );
    let bad = out.path().join("latin1.txt");
    std::fs::write(&bad, b"caf\xe9 au lait, a great film").unwrap();
    fails_with(
        &mut with_run(&["--predict-file", bad.to_str().unwrap()]),
        "is not UTF-8 text (invalid byte at offset 3)",
    );
    fails_with(
        &mut with_run(&["--predict-file", "/no/such/review.txt"]),
        "reading /no/such/review.txt",
    );
    // A run folder of another lab.
    let other = out.path().join("imdb-regularization/2026-01-01_00-00-00");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("config.json"), r#"{"models": ["small"]}"#).unwrap();
    fails_with(
        lab().args(["--predict", "great film", "--run"]).arg(&other),
        "is not a run of imdb-lstm",
    );
    fails_with(
        lab()
            .args(["--predict", "great film", "--run"])
            .arg(out.path()),
        "is not a run folder of imdb-lstm",
    );
    fails_with(
        lab().args(["--predict", "great film", "--out"]).arg(&other),
        "no runs in",
    );

    // A tuning run never touches the test reviews.
    let tuning = tempfile::tempdir().unwrap();
    let stdout = common::succeed(
        lab()
            .args(["--quick", "--no-test", "--maxlen", "20", "--out"])
            .arg(tuning.path()),
    );
    assert!(stdout.contains("test reviews not touched"), "{stdout}");
    let run = common::only_run_folder(tuning.path(), "imdb-lstm");
    for file in ["confusion.png", "test_predictions.csv", "test_reviews.txt"] {
        assert!(
            !run.join(file).exists(),
            "{file} written by a --no-test run"
        );
    }
    let summary = std::fs::read_to_string(run.join("summary.txt")).unwrap();
    assert!(summary.contains("not touched (--no-test)"), "{summary}");
    assert!(summary.contains("test not touched"), "{summary}");
}
