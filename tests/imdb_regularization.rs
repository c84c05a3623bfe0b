//! Lab 10 tests: the L2 penalty and its gradient, dropout in training and evaluation, the
//! multi-hot input, training, and the binary (`--quick`, `--models`).

mod common;

use std::process::Command;

use burn::module::Param;
use burn::optim::AdamConfig;
use burn::prelude::*;
use lab_imdb_regularization::data::{self, ReviewBatcher, Reviews};
use lab_imdb_regularization::model::{Classifier, ClassifierConfig, ModelKind};
use lab_imdb_regularization::training::{best, rises_after};
use shared::datasets::DataSource;
use shared::imdb::{Review, WordIndex};
use shared::train::{Batcher, Supervised};

/// A 3-2-2-1 network with known weights and biases, on `device`.
fn known_model(l2: f64, device: &Device) -> Classifier {
    let mut model = ClassifierConfig::new(3, 2).with_l2(l2).init(device);
    let param2 = |values: Vec<f32>, shape: [usize; 2]| {
        Param::from_tensor(Tensor::<2>::from_data(
            TensorData::new(values, shape),
            device,
        ))
    };
    let param1 = |values: Vec<f32>| {
        let n = values.len();
        Some(Param::from_tensor(Tensor::<1>::from_data(
            TensorData::new(values, [n]),
            device,
        )))
    };
    model.hidden1.weight = param2(vec![1.0, -2.0, 0.5, 3.0, 0.0, -1.0], [3, 2]); // Σw² 15.25
    model.hidden1.bias = param1(vec![10.0, -10.0]);
    model.hidden2.weight = param2(vec![2.0, 0.0, -1.0, 1.0], [2, 2]); // Σw² 6
    model.hidden2.bias = param1(vec![5.0, 5.0]);
    model.output.weight = param2(vec![4.0, -4.0], [2, 1]); // not regularised
    model.output.bias = param1(vec![7.0]);
    model
}

#[test]
fn l2_penalty_is_lambda_sum_of_squared_kernels_and_its_gradient_is_2_lambda_w() {
    let device = Device::flex().autodiff();
    let lambda = 0.01;
    let model = known_model(lambda, &device);
    // Keras's l2(λ): λ Σ w² over the hidden kernels; biases (and the output layer, as in the
    // tutorial) are left out, however large they are.
    let penalty = model.l2_penalty().expect("an L2 model has a penalty");
    let value = penalty.clone().into_scalar::<f32>() as f64;
    assert!((value - lambda * (15.25 + 6.0)).abs() < 1e-6, "{value}");
    assert!(known_model(0.0, &device).l2_penalty().is_none());

    // d/dw of λ Σ w² is 2λw, for every kernel weight; nothing for the biases.
    let grads = penalty.backward();
    for (layer, weights) in [
        (&model.hidden1, vec![1.0, -2.0, 0.5, 3.0, 0.0, -1.0]),
        (&model.hidden2, vec![2.0, 0.0, -1.0, 1.0]),
    ] {
        let grad = shared::floats(layer.weight.val().grad(&grads).unwrap());
        let expected: Vec<f32> = weights.iter().map(|w| 2.0 * lambda as f32 * w).collect();
        for (g, e) in grad.iter().zip(&expected) {
            assert!((g - e).abs() < 1e-6, "{grad:?} vs {expected:?}");
        }
        let bias = layer.bias.as_ref().unwrap().val().grad(&grads);
        assert!(
            bias.is_none_or(|b| shared::floats(b).iter().all(|&g| g == 0.0)),
            "a bias got a gradient from the penalty"
        );
    }
    assert!(
        model
            .output
            .weight
            .val()
            .grad(&grads)
            .is_none_or(|g| shared::floats(g).iter().all(|&v| v == 0.0))
    );

    // The loss the model trains on (and reports) is the cross-entropy plus the penalty.
    let batch = || data::ReviewBatch {
        inputs: Tensor::from_data(TensorData::new(vec![1.0f32, 0.0, 1.0], [1, 3]), &device),
        labels: Tensor::from_data(TensorData::new(vec![1.0f32], [1]), &device),
    };
    let with = model.forward_step(batch()).loss.into_scalar::<f32>() as f64;
    let without = known_model(0.0, &device)
        .forward_step(batch())
        .loss
        .into_scalar::<f32>() as f64;
    assert!(
        (with - without - lambda * 21.25).abs() < 1e-5,
        "{with} {without}"
    );
}

#[test]
fn dropout_is_the_identity_when_evaluating_and_keeps_the_mean_when_training() {
    let device = Device::flex().autodiff();
    device.seed(3);
    let model = ModelKind::Dropout.config(50).init(&device);
    let ones = Tensor::<2>::ones([400, 500], &device);

    // Training: about half the values are zeroed, the others doubled: the mean stays 1.
    let dropped = shared::floats(model.dropout1.forward(ones.clone()));
    let zeros = dropped.iter().filter(|&&v| v == 0.0).count() as f64 / dropped.len() as f64;
    let mean = dropped.iter().map(|&v| v as f64).sum::<f64>() / dropped.len() as f64;
    assert!((zeros - 0.5).abs() < 0.01, "{zeros}");
    assert!((mean - 1.0).abs() < 0.02, "{mean}");
    assert!(dropped.iter().all(|&v| v == 0.0 || v == 2.0));

    // Evaluation (`valid()`, as `evaluate` does): nothing is dropped or scaled, and the
    // network's output is the same every time, and that of the same weights without dropout.
    let valid = model.valid();
    let plain = Device::flex();
    let kept = shared::floats(
        valid
            .dropout1
            .forward(Tensor::<2>::ones([400, 500], &plain)),
    );
    assert!(kept.iter().all(|&v| v == 1.0));
    let x = Tensor::<2>::ones([4, 50], &plain);
    let a = shared::floats(valid.forward(x.clone()));
    let b = shared::floats(valid.forward(x.clone()));
    let mut no_dropout = valid.clone();
    no_dropout.dropout1.prob = 0.0;
    no_dropout.dropout2.prob = 0.0;
    assert_eq!(a, b);
    assert_eq!(a, shared::floats(no_dropout.forward(x)));
}

#[test]
fn a_known_review_becomes_the_expected_multi_hot_row() {
    let ranks = [
        ("the", 1),
        ("movie", 17),
        ("was", 13),
        ("great", 84),
        ("acting", 112),
    ];
    let index = WordIndex {
        ranks: ranks.iter().map(|&(w, r)| (w.to_string(), r)).collect(),
    };
    let review = Review {
        text: "The movie was GREAT, the acting great! Unheard-of.".into(),
        label: 1,
        rating: 9,
        id: 7,
    };
    // Keras's encoding with num_words 100: start 1; "the" 1 + 3 = 4; "acting" 115 ≥ 100 and
    // the words missing from the index become the OOV index 2.
    let (sequences, _) = shared::imdb::encode(
        std::slice::from_ref(&review),
        &index,
        &data::encode_options(100),
    );
    assert_eq!(sequences[0], vec![1, 4, 20, 16, 87, 4, 2, 87, 2, 2]);
    let reviews = Reviews::encode(&[review], &index, 100);
    assert_eq!(reviews.words[0], vec![1, 2, 4, 16, 20, 87]);
    assert_eq!(reviews.names[0], "pos/7");

    let batch = ReviewBatcher::new(reviews, 100).batch(&[0], &Device::flex());
    assert_eq!(batch.inputs.dims(), [1, 100]);
    let row = shared::floats(batch.inputs);
    let ones: Vec<usize> = (0..100).filter(|&i| row[i] == 1.0).collect();
    assert_eq!(ones, vec![1, 2, 4, 16, 20, 87]);
    assert_eq!(row.iter().filter(|&&v| v != 0.0 && v != 1.0).count(), 0);
    assert_eq!(shared::floats(batch.labels), vec![1.0]);
}

#[test]
fn a_few_training_steps_lower_the_loss() {
    let splits = data::load(&DataSource::Sample, data::NUM_WORDS, 0.5, 1, None).unwrap();
    let batcher = ReviewBatcher::new(splits.train, data::NUM_WORDS);
    let device = Device::flex().autodiff();
    device.seed(1);
    let model = ModelKind::L2.config(data::NUM_WORDS).init(&device);
    let indices: Vec<usize> = (0..batcher.len()).collect();
    let (before, after) = common::loss_before_and_after(
        model,
        &batcher,
        &indices,
        (5, 16, 1e-3),
        AdamConfig::new().with_epsilon(1e-7).init(),
        &device,
    );
    eprintln!("loss {before} → {after}");
    assert!(
        (before - 0.69).abs() < 0.1,
        "an untrained binary model starts near ln 2: {before}"
    );
    assert!(after < before * 0.8, "loss {before} → {after}");
}

#[test]
fn the_table_finds_the_best_epoch_and_where_validation_starts_to_rise() {
    let series = [
        (1, 0.40),
        (2, 0.31),
        (3, 0.29),
        (4, 0.33),
        (5, 0.28),
        (6, 0.35),
    ];
    assert_eq!(best(&series), Some((5, 0.28)));
    assert_eq!(rises_after(&series), Some(3));
    assert_eq!(rises_after(&[(1, 0.5), (2, 0.4)]), None);
}

fn lab() -> Command {
    common::lab(env!("CARGO_BIN_EXE_lab-imdb-regularization"))
}

#[test]
fn quick_run_trains_all_six_models_into_sub_folders_and_compares_them() {
    let out = tempfile::tempdir().unwrap();
    let stdout = common::succeed(lab().args(["--quick", "--out"]).arg(out.path()));
    assert!(stdout.contains("Total params: 5,383,681"), "{stdout}");
    assert!(stdout.contains("L2 penalty"), "{stdout}");
    assert!(stdout.contains("% of the training loss"), "{stdout}");
    assert!(stdout.contains("best val (ep)"), "{stdout}");

    let run = common::only_run_folder(out.path(), "imdb-regularization");
    for file in [
        "config.json",
        "summary.txt",
        "comparison.csv",
        "validation_reviews.txt",
        "sizes.png",
        "l2.png",
        "dropout.png",
        "regularised.png",
    ] {
        assert!(run.join(file).is_file(), "{file} missing");
    }
    for model in ModelKind::ALL {
        let sub = run.join(model.name());
        for file in [
            "config.json",
            "history.csv",
            "weights.csv",
            "model.bpk",
            "summary.txt",
        ] {
            assert!(sub.join(file).is_file(), "{model}/{file} missing");
        }
    }
    let csv = std::fs::read_to_string(run.join("comparison.csv")).unwrap();
    assert_eq!(csv.lines().count(), 7, "{csv}");
    let summary = std::fs::read_to_string(run.join("summary.txt")).unwrap();
    assert!(summary.contains("l2+dropout"), "{summary}");
    // The L2 model's penalty is recorded per epoch, and is part of its loss.
    let weights = std::fs::read_to_string(run.join("l2/weights.csv")).unwrap();
    let last: Vec<f64> = weights
        .lines()
        .last()
        .unwrap()
        .split(',')
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(last[0], 2.0);
    assert!(last[2] > 0.0 && last[3] > 0.0 && last[3] < 1.0, "{weights}");
    let medium = std::fs::read_to_string(run.join("medium/weights.csv")).unwrap();
    assert!(
        medium
            .lines()
            .nth(1)
            .unwrap()
            .contains(",0.000000,0.000000,")
    );
}

#[test]
fn models_picks_a_subset_and_an_unknown_name_is_a_clear_error() {
    let out = tempfile::tempdir().unwrap();
    common::succeed(
        lab()
            .args(["--quick", "--epochs", "1", "--models", "medium,l2", "--out"])
            .arg(out.path()),
    );
    let run = common::only_run_folder(out.path(), "imdb-regularization");
    assert!(run.join("medium").is_dir() && run.join("l2").is_dir());
    assert!(!run.join("big").exists() && !run.join("sizes.png").exists());
    assert!(run.join("l2.png").is_file());

    let out = tempfile::tempdir().unwrap();
    let output = lab()
        .args(["--quick", "--models", "small,huge", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("unknown model \"huge\""), "{stderr}");
    assert!(
        stderr.contains("small, medium, big, l2, dropout, l2+dropout"),
        "{stderr}"
    );
    assert!(
        !out.path().join("imdb-regularization").exists(),
        "a run folder was made"
    );
    assert!(
        ModelKind::parse_list("medium, l2,medium").unwrap() == [ModelKind::Medium, ModelKind::L2]
    );
}

#[test]
fn a_resumed_run_continues_each_model_from_its_own_checkpoint() {
    let out = tempfile::tempdir().unwrap();
    common::succeed(
        lab()
            .args(["--quick", "--epochs", "1", "--models", "medium", "--out"])
            .arg(out.path()),
    );
    let run = common::only_run_folder(out.path(), "imdb-regularization");
    let stdout = common::succeed(lab().arg("--resume").arg(&run).args(["--epochs", "1"]));
    assert!(stdout.contains("resuming after epoch 1"), "{stdout}");
    common::assert_same_weights(
        &run.join("medium/checkpoint/model.bpk"),
        &run.join("medium/model.bpk"),
    );
    let stdout = common::succeed(lab().arg("--resume").arg(&run).args(["--epochs", "2"]));
    assert!(stdout.contains("epoch  2/2"), "{stdout}");
    let weights = std::fs::read_to_string(run.join("medium/weights.csv")).unwrap();
    assert_eq!(weights.lines().count(), 3, "{weights}");
}
