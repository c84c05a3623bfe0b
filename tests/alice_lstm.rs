//! Tests of lab 6: the LSTM's gates against burn's Lstm, the fused recurrence against the
//! step-by-step one, the comparison with the SimpleRNN, and whole runs.

mod common;

use std::process::Command;

use burn::module::Param;
use burn::nn::{Linear, LstmConfig};
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::Distribution;
use lab_alice_lstm::model::{
    CharLstm, LstmLayer, char_model_params, lstm_params, lstm_steps, matching_rnn_units,
};
use lab_alice_lstm::training::side_by_side;
use shared::chars::CellImpl;
use shared::chars::EpochSamples;
use shared::chars::{CharBatcher, split};
use shared::datasets::samples_dir;
use shared::recurrent::Lstm;
use shared::train::{Batcher, Supervised};

fn max_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
    (a - b).abs().max().into_scalar::<f32>()
}

fn small_data(chars: usize) -> shared::chars::CharData {
    let text = shared::alice::read(&samples_dir().join("alice").join("11-0.txt"), true).unwrap();
    split(text.chars().take(chars).collect(), 10, 1, 0.1)
}

/// Columns `k·n..(k+1)·n` of a `[rows, 4n]` matrix, or of a `[4n]` vector.
fn quarter2(w: Tensor<2>, k: usize, n: usize) -> Tensor<2> {
    let rows = w.dims()[0];
    w.slice([0..rows, k * n..(k + 1) * n])
}

#[test]
fn the_gates_compute_what_burn_lstm_computes_with_the_same_weights() {
    let device = Device::flex();
    device.seed(1);
    let (features, n) = (6, 5);
    let cell = Lstm::new(features, n, &device);
    // Make the bias non-trivial so that a gate mix-up would show.
    let mut cell = cell;
    cell.input.bias = Some(Param::from_tensor(Tensor::random(
        [4 * n],
        Distribution::Normal(0.0, 1.0),
        &device,
    )));
    let mut burn_lstm = LstmConfig::new(features, n, true).init(&device);
    let w_x = cell.input.weight.val();
    let w_a = cell.recurrent.val();
    let b = cell.input.bias.as_ref().unwrap().val();
    // Keras's order in our matrices: update (input), forget, candidate (cell), output.
    let set = |gate: &mut burn::nn::GateController, k: usize| {
        gate.input_transform = Linear {
            weight: Param::from_tensor(quarter2(w_x.clone(), k, n)),
            bias: Some(Param::from_tensor(b.clone().narrow(0, k * n, n))),
        };
        gate.hidden_transform = Linear {
            weight: Param::from_tensor(quarter2(w_a.clone(), k, n)),
            bias: Some(Param::from_tensor(Tensor::zeros([n], &device))),
        };
    };
    set(&mut burn_lstm.input_gate, 0);
    set(burn_lstm.forget_gate.as_mut().unwrap(), 1);
    set(&mut burn_lstm.cell_gate, 2);
    set(&mut burn_lstm.output_gate, 3);

    let x = Tensor::<3>::random([3, 7, features], Distribution::Normal(0.0, 1.0), &device);
    let ours = lstm_steps(&cell, x.clone());
    let theirs = burn_lstm.forward(x.clone(), None).0;
    assert_eq!(ours.dims(), [3, 7, n]);
    assert!(max_diff(ours.clone(), theirs) < 1e-6);
    assert!(max_diff(cell.forward(x), ours) < 1e-6);
}

#[test]
fn fused_and_step_by_step_training_give_the_same_gradients() {
    let device = Device::flex().autodiff();
    device.seed(2);
    let data = small_data(3000);
    let fused = CharLstm::new(data.vocab.len(), 12, CellImpl::Lab, &device);
    let mut steps = fused.clone();
    steps.step_by_step = true;
    let batch =
        || CharBatcher::new(data.train.clone(), data.vocab.len()).batch(&[1, 50, 99, 700], &device);
    let grads_fused =
        GradientsParams::from_grads(fused.forward_step(batch()).loss.backward(), &fused);
    let grads_steps =
        GradientsParams::from_grads(steps.forward_step(batch()).loss.backward(), &steps);
    let LstmLayer::Lab(cell) = &fused.recurrence else {
        unreachable!()
    };
    let bias = cell.input.bias.as_ref().unwrap().id;
    assert!(
        max_diff(
            grads_fused.get::<2>(cell.input.weight.id).unwrap(),
            grads_steps.get::<2>(cell.input.weight.id).unwrap()
        ) < 1e-6
    );
    assert!(
        max_diff(
            grads_fused.get::<2>(cell.recurrent.id).unwrap(),
            grads_steps.get::<2>(cell.recurrent.id).unwrap()
        ) < 1e-6
    );
    assert!(
        max_diff(
            grads_fused.get::<1>(bias).unwrap(),
            grads_steps.get::<1>(bias).unwrap()
        ) < 1e-6
    );
}

#[test]
fn parameter_counts_and_the_matching_simple_rnn() {
    let device = Device::flex();
    // Keras: LSTM(128) on 48 one-hot inputs has 4·(48·128 + 128·128 + 128) = 90,624.
    assert_eq!(lstm_params(48, 128), 90_624);
    let model = CharLstm::new(48, 128, CellImpl::Lab, &device);
    assert_eq!(model.num_params(), char_model_params(48, 128, true));
    assert_eq!(model.num_params(), 90_624 + 128 * 48 + 48);
    let units = matching_rnn_units(48, 128);
    let (lstm, rnn) = (
        char_model_params(48, 128, true),
        char_model_params(48, units, false),
    );
    assert!(
        lstm.abs_diff(rnn) * 100 < lstm,
        "{units} units: {rnn} vs {lstm}"
    );
    assert!(units > 128);
}

#[test]
fn a_few_steps_lower_the_loss() {
    let device = Device::flex().autodiff();
    device.seed(3);
    let data = small_data(4000);
    let batcher = CharBatcher::new(data.train.clone(), data.vocab.len());
    let model = CharLstm::new(data.vocab.len(), 32, CellImpl::Lab, &device);
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
fn texts_side_by_side_are_wrapped_in_two_columns() {
    let samples = |text: &str| EpochSamples {
        epoch: 1,
        texts: vec![("greedy".into(), text.into())],
    };
    let out = side_by_side("ab", "RNN", &samples("cdefgh"), "LSTM", &samples("xy"), 4);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[1].contains("abcd | abxy"), "{out}");
    assert!(lines[2].contains("efgh |"), "{out}");
}

fn lab() -> Command {
    common::lab(env!("CARGO_BIN_EXE_lab-alice-lstm"))
}

#[test]
fn quick_run_with_compare_trains_both_and_writes_the_comparison() {
    let out = tempfile::tempdir().unwrap();
    let stdout = common::succeed(
        lab()
            .args(["--quick", "--units", "24", "--compare", "--out"])
            .arg(out.path()),
    );
    assert!(stdout.contains("the SimpleRNN to compare with"), "{stdout}");
    assert!(stdout.contains("valid loss, epoch 1"), "{stdout}");
    let run = common::only_run_folder(out.path(), "alice-lstm");
    for file in [
        "config.json",
        "history.csv",
        "model.bpk",
        "samples.txt",
        "summary.txt",
        "curves.png",
        "comparison.png",
        "comparison.txt",
        "simple-rnn/config.json",
        "simple-rnn/history.json",
        "simple-rnn/samples.json",
    ] {
        assert!(
            run.join(file).exists(),
            "{file} missing in {}",
            run.display()
        );
    }
    let comparison = std::fs::read_to_string(run.join("comparison.txt")).unwrap();
    assert!(
        comparison.contains("SimpleRNN(") && comparison.contains("LSTM(24)"),
        "{comparison}"
    );
    // Resumed, both models take up their checkpoints.
    let simple_rnn = run.join("simple-rnn/checkpoint/model.bpk");
    let before = std::fs::read(&simple_rnn).unwrap();
    common::assert_resume_keeps_the_weights(env!("CARGO_BIN_EXE_lab-alice-lstm"), &run, 1);
    assert_eq!(std::fs::read(&simple_rnn).unwrap(), before);

    // A finished lab 5 run folder (the SimpleRNN just trained has the same files) can be
    // named with --rnn-run ...
    let other = tempfile::tempdir().unwrap();
    let result = lab()
        .args(["--quick", "--units", "16", "--rnn-run"])
        .arg(run.join("simple-rnn"))
        .arg("--out")
        .arg(other.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(
        stdout.contains("comparing with the SimpleRNN run in"),
        "{stdout}"
    );
    assert!(stdout.contains("valid loss, epoch 1"), "{stdout}");

    // ... and the newest finished lab 5 run under --out is found on its own.
    let lab5 = other.path().join("alice-rnn").join("20260101-000000");
    std::fs::create_dir_all(&lab5).unwrap();
    for file in ["config.json", "history.json", "samples.json"] {
        std::fs::copy(run.join("simple-rnn").join(file), lab5.join(file)).unwrap();
    }
    std::fs::write(lab5.join("summary.txt"), "finished").unwrap();
    let result = lab()
        .args(["--quick", "--units", "16", "--out"])
        .arg(other.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        stdout.contains(&format!(
            "comparing with the SimpleRNN run in {}",
            lab5.display()
        )),
        "{stdout}"
    );
}

#[test]
fn without_a_simple_rnn_it_says_how_to_compare_and_bad_folders_are_refused() {
    let out = tempfile::tempdir().unwrap();
    let result = lab()
        .args(["--quick", "--units", "16", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(
        stdout.contains("no SimpleRNN run to compare with"),
        "{stdout}"
    );

    // A folder that is not a finished lab 5 run is refused before any training.
    let result = lab()
        .args(["--quick", "--rnn-run"])
        .arg(out.path())
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(!result.status.success());
    assert!(stderr.contains("not a finished run of lab 5"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!String::from_utf8_lossy(&result.stdout).contains("epoch  1/1"));
}
