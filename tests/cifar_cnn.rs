//! Tests of lab 2: the CNN's shapes and parameter count, batches, augmentation, a few
//! training steps, and whole runs.

mod common;

use std::process::Command;

use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use lab_cifar_cnn::data::CifarBatcher;
use lab_cifar_cnn::model::CifarCnnConfig;
use lab_cifar_cnn::training::per_class_table;
use shared::cifar10;
use shared::datasets::samples_dir;
use shared::train::{Batcher, Supervised};

fn sample() -> cifar10::Cifar10 {
    cifar10::load_dir(&samples_dir().join("cifar-10").join(cifar10::FOLDER)).unwrap()
}

#[test]
fn the_reference_cnn_has_the_keras_shapes_and_parameter_count() {
    let device = Device::flex();
    let model = CifarCnnConfig::new().init(&device);
    // conv 896 + 9,248 + 18,496 + 36,928; dense 2,097,664 + 5,130.
    assert_eq!(model.num_params(), 2_168_362);
    let rows = model.summary(&device);
    let shape = |name: &str| {
        rows.iter()
            .find(|r| r.name == name)
            .unwrap()
            .output_shape
            .clone()
    };
    assert_eq!(shape("conv2"), [32, 32, 32]);
    assert_eq!(shape("pool1"), [32, 16, 16]);
    assert_eq!(shape("pool2"), [64, 8, 8]);
    assert_eq!(shape("flatten"), [4096]);
    assert_eq!(
        rows.iter().map(|r| r.params).sum::<usize>(),
        model.num_params()
    );
    let logits = model.forward(Tensor::zeros([2, 3, 32, 32], &device));
    assert_eq!(logits.dims(), [2, 10]);

    // Batch norm adds a scale and a shift per channel (trained) and the running mean and
    // variance (not trained); like Keras's "Total params", burn counts all four:
    // 4·(32 + 32 + 64 + 64) = 768.
    let strong = CifarCnnConfig::new().with_batch_norm(true).init(&device);
    assert_eq!(strong.num_params(), 2_168_362 + 768);
}

#[test]
fn batches_are_normalised_and_augmentation_changes_only_training_images() {
    let data = sample();
    let (mean, std) = cifar10::channel_stats(&data.train);
    let device = Device::flex();
    let plain = CifarBatcher::new(data.train.clone(), mean, std);
    let batch = plain.batch(&(0..200).collect::<Vec<_>>(), &device);
    assert_eq!(batch.images.dims(), [200, 3, 32, 32]);
    assert_eq!(
        shared::floats(batch.targets.clone().float())[0],
        data.train.labels[0] as f32
    );
    // Normalised with the training set's statistics: about zero mean, unit spread.
    let values = shared::floats(batch.images);
    let m = values.iter().sum::<f32>() / values.len() as f32;
    assert!(m.abs() < 0.2, "mean {m}");
    // The same indices give the same batch without augmentation, different ones with it.
    let again = shared::floats(plain.batch(&[0, 1], &device).images);
    assert_eq!(again, shared::floats(plain.batch(&[0, 1], &device).images));
    let augmented = CifarBatcher::new(data.train.clone(), mean, std).with_augmentation(1);
    let a = shared::floats(augmented.batch(&[0, 1, 2, 3], &device).images);
    let b = shared::floats(augmented.batch(&[0, 1, 2, 3], &device).images);
    assert_ne!(a, b);
}

#[test]
fn a_few_steps_lower_the_loss_for_both_variants() {
    let data = sample();
    let (mean, std) = cifar10::channel_stats(&data.train);
    let batcher = CifarBatcher::new(data.train.take(64), mean, std);
    let device = Device::flex().autodiff();
    for batch_norm in [false, true] {
        device.seed(7);
        let mut model = CifarCnnConfig::new()
            .with_batch_norm(batch_norm)
            .init(&device);
        let mut optimizer = AdamConfig::new().init();
        let indices: Vec<usize> = (0..64).collect();
        let first = model
            .forward_step(batcher.batch(&indices, &device))
            .loss
            .into_scalar::<f32>();
        for _ in 0..12 {
            let loss = model.forward_step(batcher.batch(&indices, &device)).loss;
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optimizer.step(1e-3, model, grads);
        }
        let last = model
            .forward_step(batcher.batch(&indices, &device))
            .loss
            .into_scalar::<f32>();
        assert!(
            last < 0.8 * first,
            "batch norm {batch_norm}: {first} → {last}"
        );
    }
}

#[test]
fn per_class_table_is_recall_per_class() {
    let mut confusion = vec![vec![0usize; 10]; 10];
    confusion[0][0] = 3;
    confusion[0][1] = 1;
    confusion[3][3] = 2;
    let table = per_class_table(&confusion);
    assert!(
        table.contains("airplane") && table.contains("75.0%"),
        "{table}"
    );
    assert!(table.contains("cat") && table.contains("100.0%"), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("truck") && l.ends_with('-')),
        "{table}"
    );
}

fn lab() -> Command {
    common::lab(env!("CARGO_BIN_EXE_lab-cifar-cnn"))
}

#[test]
fn quick_run_writes_a_complete_run_folder_and_resumes() {
    let out = tempfile::tempdir().unwrap();
    let stdout = common::succeed(lab().args(["--quick", "--strong", "--out"]).arg(out.path()));
    assert!(stdout.contains("Total params: 2,169,130"), "{stdout}");
    assert!(stdout.contains("Per-class test accuracy"), "{stdout}");
    assert!(
        stdout.contains("held-out") && stdout.contains("s per epoch"),
        "{stdout}"
    );
    let run = common::only_run_folder(out.path(), "cifar-cnn");
    for file in [
        "config.json",
        "history.csv",
        "model.bpk",
        "per_class.txt",
        "summary.txt",
        "curves.png",
        "confusion.png",
        "predictions.png",
        "checkpoint/model.bpk",
    ] {
        assert!(
            run.join(file).exists(),
            "{file} missing in {}",
            run.display()
        );
    }
    common::assert_resume_keeps_the_weights(env!("CARGO_BIN_EXE_lab-cifar-cnn"), &run, 1);
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
}

#[test]
fn compare_trains_both_variants_and_plots_them() {
    let out = tempfile::tempdir().unwrap();
    common::succeed(
        lab()
            .args(["--quick", "--compare", "--out"])
            .arg(out.path()),
    );
    let run = common::only_run_folder(out.path(), "cifar-cnn");
    for file in [
        "variants.png",
        "plain/summary.txt",
        "strong/summary.txt",
        "strong/curves.png",
    ] {
        assert!(
            run.join(file).exists(),
            "{file} missing in {}",
            run.display()
        );
    }
    // The same plot from the two finished run folders, as for runs trained separately.
    let plot = out.path().join("again.png");
    let runs = [run.join("plain"), run.join("strong")];
    lab_cifar_cnn::training::plot_runs(&runs, &plot).unwrap();
    let png = std::fs::read(&plot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
    // A folder that is no run, and a run without a finished epoch, are errors that say so.
    let error = lab_cifar_cnn::training::plot_runs(&[out.path().to_path_buf()], &plot)
        .unwrap_err()
        .to_string();
    assert!(error.contains("is not a run folder of lab 2"), "{error}");
    let unfinished = out.path().join("unfinished");
    std::fs::create_dir(&unfinished).unwrap();
    std::fs::copy(
        run.join("plain/config.json"),
        unfinished.join("config.json"),
    )
    .unwrap();
    std::fs::write(
        unfinished.join("history.json"),
        r#"{"task": "multi_class", "metrics": ["loss", "accuracy"], "epochs": []}"#,
    )
    .unwrap();
    let error = lab_cifar_cnn::training::plot_runs(&[unfinished], &plot)
        .unwrap_err()
        .to_string();
    assert!(error.contains("has no finished epoch yet"), "{error}");

    // --compare and --strong contradict each other.
    let result = lab()
        .args(["--quick", "--compare", "--strong"])
        .output()
        .unwrap();
    assert!(!result.status.success());
}

#[test]
fn user_errors_are_messages_not_panics() {
    let out = tempfile::tempdir().unwrap();
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
    let result = lab().arg("--resume").arg(out.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(!result.status.success());
    assert!(stderr.contains("not a run folder"), "{stderr}");
}
