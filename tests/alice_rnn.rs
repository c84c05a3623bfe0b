//! Tests of lab 5: the SimpleRNN cell against burn's, the fused recurrence against the
//! step-by-step one, the "hello" example, generation, gradients, and whole runs.

mod common;

use std::process::Command;

use burn::module::Param;
use burn::nn::RnnConfig;
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::Distribution;
use lab_alice_rnn::gradients::gradient_flow;
use lab_alice_rnn::hello::learn_hello;
use lab_alice_rnn::model::{CharRnn, Recurrence, rnn_steps};
use shared::alice::Vocabulary;
use shared::chars::{CellImpl, NextChar};
use shared::chars::{CharBatcher, split};
use shared::chars::{LECTURE_SAMPLINGS, Sampling, generate, softmax_with_temperature};
use shared::datasets::samples_dir;
use shared::recurrent::SimpleRnn;
use shared::rng::Rng;
use shared::train::{Batcher, Supervised};

fn max_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
    (a - b).abs().max().into_scalar::<f32>()
}

/// The first characters of the bundled book, as the lab cuts them.
fn small_data(chars: usize) -> shared::chars::CharData {
    let text = shared::alice::read(&samples_dir().join("alice").join("11-0.txt"), true).unwrap();
    split(text.chars().take(chars).collect(), 10, 1, 0.1)
}

#[test]
fn the_cell_computes_what_burn_rnn_computes_with_the_same_weights() {
    let device = Device::flex();
    device.seed(1);
    let cell = SimpleRnn::new(6, 5, &device);
    let mut burn_rnn = RnnConfig::new(6, 5, true).init(&device);
    // burn's Rnn: h_t = tanh(x·W_i + b_i + h·W_h + b_h). Give it the cell's W_x, b, W_h, and b_h = 0.
    burn_rnn.gate.input_transform.weight = Param::from_tensor(cell.input.weight.val());
    burn_rnn.gate.input_transform.bias =
        Some(Param::from_tensor(cell.input.bias.as_ref().unwrap().val()));
    burn_rnn.gate.hidden_transform.weight = Param::from_tensor(cell.recurrent.val());
    burn_rnn.gate.hidden_transform.bias = Some(Param::from_tensor(Tensor::zeros([5], &device)));

    let x = Tensor::<3>::random([3, 8, 6], Distribution::Normal(0.0, 1.0), &device);
    let ours = rnn_steps(&cell, x.clone());
    let theirs = burn_rnn.forward(x.clone(), None).0;
    assert_eq!(ours.dims(), [3, 8, 5]);
    assert!(max_diff(ours.clone(), theirs) < 1e-6);
    // And the fast path computes the same.
    assert!(max_diff(cell.forward(x), ours) < 1e-6);
}

#[test]
fn fused_and_step_by_step_training_give_the_same_gradients() {
    let device = Device::flex().autodiff();
    device.seed(2);
    let data = small_data(3000);
    let fused = CharRnn::new(data.vocab.len(), 16, CellImpl::Lab, &device);
    let mut steps = fused.clone();
    steps.step_by_step = true;
    let batch =
        || CharBatcher::new(data.train.clone(), data.vocab.len()).batch(&[0, 5, 9, 200], &device);

    let grads_fused =
        GradientsParams::from_grads(fused.forward_step(batch()).loss.backward(), &fused);
    let grads_steps =
        GradientsParams::from_grads(steps.forward_step(batch()).loss.backward(), &steps);
    let Recurrence::Lab(cell) = &fused.recurrence else {
        unreachable!()
    };
    let w_x = grads_fused.get::<2>(cell.input.weight.id).unwrap();
    let w_h = grads_fused.get::<2>(cell.recurrent.id).unwrap();
    let b = grads_fused
        .get::<1>(cell.input.bias.as_ref().unwrap().id)
        .unwrap();
    assert!(max_diff(w_x, grads_steps.get::<2>(cell.input.weight.id).unwrap()) < 1e-6);
    assert!(max_diff(w_h, grads_steps.get::<2>(cell.recurrent.id).unwrap()) < 1e-6);
    assert!(
        max_diff(
            b,
            grads_steps
                .get::<1>(cell.input.bias.as_ref().unwrap().id)
                .unwrap()
        ) < 1e-6
    );
}

#[test]
fn model_shapes_and_parameter_count() {
    let device = Device::flex();
    let model = CharRnn::new(48, 128, CellImpl::Lab, &device);
    // Keras: SimpleRNN(128) on 48 one-hot inputs 48·128 + 128·128 + 128 = 22,656; Dense 6,192.
    assert_eq!(model.num_params(), 22_656 + 6_192);
    let rows = model.summary();
    assert_eq!(
        rows.iter().map(|r| r.params).sum::<usize>(),
        model.num_params()
    );
    let x = shared::chars::one_hot(&[&[1, 2, 3], &[4, 5, 6]], 48, &device);
    assert_eq!(x.dims(), [2, 3, 48]);
    assert_eq!(model.logits(x).dims(), [2, 48]);
}

#[test]
fn validation_windows_come_from_the_end_of_the_book() {
    let data = small_data(5000);
    assert_eq!(data.train.len() + data.valid.len(), 5000 - 10);
    assert_eq!(data.valid.len(), 500);
    // The first validation window starts where the training text ends: no window is on both sides.
    let train_text: Vec<usize> = data
        .vocab
        .encode(&data.text.chars().take(4500).collect::<String>())
        .unwrap();
    assert_eq!(data.valid[0].0, train_text[4490..4500].to_vec());
    assert_eq!(data.train.last().unwrap().1, train_text[4499]);
}

#[test]
fn a_few_steps_lower_the_loss() {
    let device = Device::flex().autodiff();
    device.seed(3);
    let data = small_data(4000);
    let batcher = CharBatcher::new(data.train.clone(), data.vocab.len());
    let model = CharRnn::new(data.vocab.len(), 32, CellImpl::Lab, &device);
    let indices: Vec<usize> = (0..256).collect();
    let (before, after) = common::loss_before_and_after(
        model,
        &batcher,
        &indices,
        (30, 256, 1e-2),
        burn::optim::AdamConfig::new().init(),
        &device,
    );
    assert!(after < 0.8 * before, "{before} → {after}");
}

#[test]
fn hello_is_learned_in_seconds() {
    let outcome = learn_hello(&Device::flex(), 42, 500);
    assert_eq!(outcome.predicted, "ello");
    assert!(outcome.iterations < 500);
    assert!(outcome.seconds < 30.0, "{} s", outcome.seconds);
}

#[test]
fn generation_is_reproducible_and_stays_in_the_vocabulary() {
    let device = Device::flex();
    device.seed(4);
    let data = small_data(3000);
    let model = CharRnn::new(data.vocab.len(), 16, CellImpl::Lab, &device);
    let run = |seed: u64| {
        generate(
            &model,
            &data.vocab,
            "alice was ",
            10,
            40,
            &LECTURE_SAMPLINGS,
            &mut Rng::new(seed),
            &device,
        )
        .unwrap()
    };
    let first = run(7);
    assert_eq!(first, run(7));
    assert_eq!(first.len(), 4);
    for text in &first {
        assert_eq!(text.chars().count(), 40);
        assert!(
            text.chars().all(|c| data.vocab.index(c).is_some()),
            "{text:?}"
        );
    }
    // Greedy does not depend on the random seed; sampling at T = 1 does.
    let other = run(8);
    assert_eq!(first[0], other[0]);
    assert_ne!(first[3], other[3]);
}

#[test]
fn bad_seed_texts_and_temperatures_are_clear_errors() {
    let device = Device::flex();
    let vocab = Vocabulary::of("abc ");
    let model = CharRnn::new(vocab.len(), 4, CellImpl::Lab, &device);
    let try_seed = |seed: &str, sampling: Sampling| {
        generate(
            &model,
            &vocab,
            seed,
            10,
            5,
            &[sampling],
            &mut Rng::new(0),
            &device,
        )
        .unwrap_err()
    };
    let error = try_seed("abz", Sampling::Greedy);
    assert!(
        error.contains("'z'") && error.contains("not in the vocabulary"),
        "{error}"
    );
    assert!(try_seed("", Sampling::Greedy).contains("empty"));
    assert!(try_seed("ab", Sampling::Temperature(0.0)).contains("positive"));
}

#[test]
fn temperature_sharpens_or_flattens_the_distribution() {
    let logits = [1.0f32, 2.0, 3.0];
    for t in [0.2, 1.0, 5.0] {
        let p = softmax_with_temperature(&logits, t);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
    let cold = softmax_with_temperature(&logits, 0.2);
    let warm = softmax_with_temperature(&logits, 5.0);
    assert!(cold[2] > 0.99);
    assert!(warm[2] < 0.5 && warm[0] > 0.2);
}

#[test]
fn small_recurrent_weights_vanish_and_large_ones_explode() {
    let flows = gradient_flow(&Device::flex(), 30, 32, 5);
    assert_eq!(flows.len(), 3);
    let ratio = |i: usize| flows[i].norms[0] / flows[i].norms[29];
    assert!(ratio(0) < 1e-4, "small weights: {}", ratio(0));
    assert!(ratio(2) > 10.0, "large weights: {}", ratio(2));
    assert!(ratio(0) < ratio(1) && ratio(1) < ratio(2));
}

fn lab() -> Command {
    common::lab(env!("CARGO_BIN_EXE_lab-alice-rnn"))
}

#[test]
fn quick_run_writes_a_complete_run_folder_and_resumes() {
    let out = tempfile::tempdir().unwrap();
    let stdout = common::succeed(
        lab()
            .args(["--quick", "--units", "32", "--out"])
            .arg(out.path()),
    );
    assert!(stdout.contains("all four steps right"), "{stdout}");
    assert!(stdout.contains("epoch  1/1"), "{stdout}");
    assert!(stdout.contains("greedy | alice look"), "{stdout}");
    let run = common::only_run_folder(out.path(), "alice-rnn");
    for file in [
        "config.json",
        "history.csv",
        "history.json",
        "model.bpk",
        "samples.txt",
        "samples.json",
        "summary.txt",
        "curves.png",
        "gradients.png",
        "gradients.csv",
        "checkpoint/model.bpk",
    ] {
        assert!(
            run.join(file).exists(),
            "{file} missing in {}",
            run.display()
        );
    }
    common::assert_resume_keeps_the_weights(env!("CARGO_BIN_EXE_lab-alice-rnn"), &run, 1);
    let result = lab()
        .arg("--resume")
        .arg(&run)
        .args(["--epochs", "2"])
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let csv = std::fs::read_to_string(run.join("history.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    let samples = std::fs::read_to_string(run.join("samples.txt")).unwrap();
    assert!(
        samples.contains("epoch 1") && samples.contains("epoch 2"),
        "{samples}"
    );
}

#[test]
fn user_errors_are_messages_not_panics() {
    let out = tempfile::tempdir().unwrap();
    let result = lab()
        .args(["--quick", "--seed-text", "alice 😀", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(!result.status.success());
    assert!(
        stderr.contains("--seed-text") && stderr.contains("'😀'"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");

    let result = lab().args(["--units", "0"]).output().unwrap();
    assert!(!result.status.success());
    assert!(String::from_utf8_lossy(&result.stderr).contains("--units"));

    let result = lab()
        .args(["--quick", "--out"])
        .arg(out.path())
        .env("BURN_LABS_SAMPLES", out.path().join("nowhere"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(!result.status.success());
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("nowhere"), "{stderr}");
}
