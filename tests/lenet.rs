//! Lab 1 tests: the architecture against the lecture, training, saving, and the binary.

mod common;

use std::process::Command;

use burn::optim::AdamConfig;
use burn::prelude::*;
use lab_lenet::data::MnistBatcher;
use lab_lenet::model::{LeNet, LeNetConfig};
use shared::datasets::samples_dir;
use shared::train::Batcher;

fn sample_batcher(n: usize) -> MnistBatcher {
    let data = shared::mnist::load_dir(&samples_dir().join("mnist")).unwrap();
    MnistBatcher::new(data.train.take(n))
}

#[test]
fn lenet_has_the_lecture_shapes_and_61706_parameters() {
    let device = Device::flex();
    let model = LeNetConfig::new().init(&device);
    assert_eq!(model.num_params(), 61_706);
    let output = model.forward(Tensor::zeros([3, 1, 28, 28], &device));
    assert_eq!(output.dims(), [3, 10]);

    let rows = model.summary(&device);
    let shapes: Vec<(&str, Vec<usize>, usize)> = rows
        .iter()
        .map(|r| (r.name.as_str(), r.output_shape.clone(), r.params))
        .collect();
    assert_eq!(
        shapes,
        vec![
            ("input", vec![1, 28, 28], 0),
            ("C1", vec![6, 28, 28], 156),
            ("S2", vec![6, 14, 14], 0),
            ("C3", vec![16, 10, 10], 2_416),
            ("S4", vec![16, 5, 5], 0),
            ("flatten", vec![400], 0),
            ("F5", vec![120], 48_120),
            ("F6", vec![84], 10_164),
            ("output", vec![10], 850),
        ]
    );
    let (c1, c3) = model.feature_maps(Tensor::zeros([2, 1, 28, 28], &device));
    assert_eq!((c1.dims(), c3.dims()), ([2, 6, 28, 28], [2, 16, 10, 10]));
}

#[test]
fn batches_are_normalised_images_and_labels() {
    let batcher = sample_batcher(10);
    let batch = batcher.batch(&[0, 3], &Device::flex());
    assert_eq!(batch.images.dims(), [2, 1, 28, 28]);
    let labels: Vec<i64> = batch
        .targets
        .into_data()
        .convert::<i64>()
        .try_to_vec::<i64>()
        .unwrap();
    assert_eq!(labels, vec![5, 1]);
    // Background pixels (0) map to -mean/std.
    let first: Vec<f32> = batch
        .images
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap();
    assert!((first[0] - (-0.1307 / 0.3081)).abs() < 1e-6);
}

#[test]
fn a_few_training_steps_lower_the_loss() {
    let device = Device::flex().autodiff();
    device.seed(1);
    let model: LeNet = LeNetConfig::new().init(&device);
    let indices: Vec<usize> = (0..256).collect();
    let (before, after) = common::loss_before_and_after(
        model,
        &sample_batcher(256),
        &indices,
        (6, 32, 1e-3),
        AdamConfig::new().init(),
        &device,
    );
    assert!(
        before > 2.0,
        "an untrained 10-class model starts near ln 10: {before}"
    );
    eprintln!("loss {before} → {after}");
    assert!(after < before * 0.5, "loss {before} → {after}");
}

#[test]
fn save_and_load_give_identical_predictions() {
    let device = Device::flex();
    device.seed(2);
    let model = LeNetConfig::new().init(&device);
    let images = sample_batcher(8)
        .batch(&(0..8).collect::<Vec<_>>(), &device)
        .images;
    let before = model.forward(images.clone()).into_data();

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lenet.bpk");
    model.save_file(&path).unwrap();
    device.seed(99); // a fresh model with other weights…
    let loaded = LeNetConfig::new()
        .init(&device)
        .try_load_file(&path)
        .unwrap();
    let after = loaded.forward(images).into_data(); // …takes exactly the saved ones
    assert_eq!(
        before.try_to_vec::<f32>().unwrap(),
        after.try_to_vec::<f32>().unwrap()
    );
}

fn lab() -> Command {
    common::lab(env!("CARGO_BIN_EXE_lab-lenet"))
}

#[test]
fn quick_run_writes_a_complete_run_folder_and_resumes() {
    let out = tempfile::tempdir().unwrap();
    let stdout = common::succeed(lab().args(["--quick", "--out"]).arg(out.path()));
    assert!(stdout.contains("Total params: 61,706"), "{stdout}");
    assert!(stdout.contains("epoch  2/2"), "{stdout}");
    assert!(
        stdout.contains("test") && stdout.contains("accuracy"),
        "{stdout}"
    );

    let run = common::only_run_folder(out.path(), "lenet");
    for file in [
        "config.json",
        "history.csv",
        "history.json",
        "model.bpk",
        "summary.txt",
        "curves.png",
        "confusion.png",
        "mistakes.png",
        "predictions.png",
        "c1_filters.png",
        "feature_maps.png",
        "checkpoint/model.bpk",
        "checkpoint/optimizer.bpk",
    ] {
        assert!(
            run.join(file).exists(),
            "{file} missing in {}",
            run.display()
        );
    }
    let csv = std::fs::read_to_string(run.join("history.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");

    common::assert_resume_keeps_the_weights(env!("CARGO_BIN_EXE_lab-lenet"), &run, 2);

    // Resume the same run for one more epoch: the history continues, and the weights are
    // those of three epochs trained in one go.
    let stdout = common::succeed(
        lab()
            .arg("--resume")
            .arg(&run)
            .args(["--epochs", "3", "--lr", "0.5"]),
    );
    assert!(stdout.contains("--lr 0.5 is ignored"), "{stdout}");
    let csv = std::fs::read_to_string(run.join("history.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    let straight = tempfile::tempdir().unwrap();
    common::succeed(
        lab()
            .args(["--quick", "--epochs", "3", "--out"])
            .arg(straight.path()),
    );
    common::assert_same_weights(
        &run.join("model.bpk"),
        &common::only_run_folder(straight.path(), "lenet").join("model.bpk"),
    );
}

#[test]
fn zero_epochs_evaluates_the_untrained_model() {
    let out = tempfile::tempdir().unwrap();
    let stdout = common::succeed(
        lab()
            .args(["--quick", "--epochs", "0", "--out"])
            .arg(out.path()),
    );
    let run = common::only_run_folder(out.path(), "lenet");
    // No epoch, no curves; the model is saved and tested as it was initialised: about one
    // digit in ten right.
    assert!(run.join("model.bpk").exists() && !run.join("curves.png").exists());
    let epochs = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("epochs "))
        .unwrap();
    assert!(epochs.contains(" 0 (batch 64"), "{epochs}");
    let line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("test "))
        .unwrap();
    let accuracy: f64 = line
        .split("accuracy ")
        .nth(1)
        .and_then(|s| s.split('%').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(accuracy < 40.0, "{line}");
}

#[test]
fn no_test_chooses_on_validation_and_lr_decay_is_saved() {
    let out = tempfile::tempdir().unwrap();
    let stdout = common::succeed(
        lab()
            .args([
                "--quick",
                "--epochs",
                "1",
                "--no-test",
                "--lr-decay",
                "1",
                "--out",
            ])
            .arg(out.path()),
    );
    let run = common::only_run_folder(out.path(), "lenet");
    // The test digits are not touched: no test row with an accuracy, no confusion matrix.
    let line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("test "))
        .unwrap();
    assert!(line.contains("not evaluated (--no-test)"), "{line}");
    assert!(!run.join("confusion.png").exists() && !run.join("mistakes.png").exists());
    assert!(run.join("model.bpk").exists() && run.join("feature_maps.png").exists());
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["test"], false, "{config}");
    assert_eq!(config["fit"]["lr_decay"], 1.0, "{config}");

    // A decay that would stop or reverse learning is refused before anything trains.
    let result = lab()
        .args(["--quick", "--lr-decay", "0", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        !result.status.success() && stderr.contains("--lr-decay"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("panicked"),
        "a message, not a panic: {stderr}"
    );
    // ... and before a run folder is made: still only the first run's.
    assert_eq!(common::only_run_folder(out.path(), "lenet"), run);
}

#[test]
fn user_errors_are_messages_not_panics() {
    let out = tempfile::tempdir().unwrap();
    // A backend that was not compiled in.
    if !cfg!(feature = "wgpu") {
        let result = lab()
            .args(["--quick", "--device", "wgpu", "--out"])
            .arg(out.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert!(!result.status.success());
        assert!(
            stderr.contains("built without the wgpu backend"),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // Resuming from a folder that is not a run.
    let result = lab().arg("--resume").arg(out.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(!result.status.success());
    assert!(stderr.contains("not a run folder"), "{stderr}");
    // Settings that cannot train: refused before a run folder is made.
    for (flag, named) in [("--batch-size=0", "--batch-size 0"), ("--lr=-1", "--lr -1")] {
        let result = lab()
            .args(["--quick", flag, "--out"])
            .arg(out.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert!(!result.status.success(), "{flag}");
        assert!(
            stderr.contains(named) && !stderr.contains("panicked"),
            "{stderr}"
        );
    }
    assert!(!out.path().join("lenet").exists());
    // The sample folder moved away.
    let result = lab()
        .args(["--quick", "--out"])
        .arg(out.path())
        .env("BURN_LABS_SAMPLES", out.path().join("nowhere"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(!result.status.success());
    assert!(
        stderr.contains("bundled MNIST sample is not in"),
        "{stderr}"
    );
}

#[test]
fn forward_gives_the_logits_of_the_diagrams_order() {
    // forward() pools before the ReLU (cheaper: a quarter of the values); the diagram's
    // order is convolution, ReLU, then pooling. Built here from the model's own layers in
    // the diagram's order, the network must give the same logits as LeNet::forward.
    use burn::tensor::activation::relu;
    let device = Device::flex();
    device.seed(7);
    let model = LeNetConfig::new().init(&device);
    let images = sample_batcher(16)
        .batch(&(0..16).collect::<Vec<_>>(), &device)
        .images;
    let x = model.s2.forward(relu(model.c1.forward(images.clone()))); // [16, 6, 14, 14]
    let x = model.s4.forward(relu(model.c3.forward(x))); // [16, 16, 5, 5]
    let x = relu(model.f5.forward(x.flatten::<2>(1, 3)));
    let x = relu(model.f6.forward(x));
    let diagram = shared::floats(model.output.forward(x));
    let ours = shared::floats(model.forward(images));
    assert_eq!(diagram.len(), 16 * 10);
    let max = diagram
        .iter()
        .zip(&ours)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(max < 1e-5, "largest difference {max}");
}
