//! Tests of lab 3: the architecture as JSON and YAML, Keras HDF5 weights against a fixture
//! made by Keras, bit-exact round trips in every format, bad inputs, and whole runs.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use burn::prelude::*;
use hdf5_pure::{AttrValue, File, FileBuilder};
use lab_save_load::architecture::{Activation, LayerConfig, SequentialConfig};
use lab_save_load::formats::{self, WeightFormat};
use lab_save_load::keras_h5::{self, KerasH5Error, KerasLayout};
use lab_save_load::model::Sequential;
use lab_save_load::training::different_architecture;
use shared::batchers::MnistBatcher;
use shared::datasets::samples_dir;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("keras")
        .join(name)
}

fn lenet(device: &Device) -> Sequential {
    SequentialConfig::lenet5().init(device).unwrap()
}

#[test]
fn the_architecture_round_trips_through_json_and_yaml() {
    let config = SequentialConfig::lenet5();
    let json = config.to_json();
    let yaml = config.to_yaml();
    assert!(json.contains("\"class_name\": \"Conv2D\""), "{json}");
    assert!(yaml.contains("class_name: MaxPooling2D"), "{yaml}");
    assert_eq!(SequentialConfig::from_json(&json).unwrap(), config);
    assert_eq!(SequentialConfig::from_yaml(&yaml).unwrap(), config);

    // Through files, as the lab does, and rebuilt: the same layers and parameter count.
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [("a.json", &json), ("a.yaml", &yaml), ("a.yml", &yaml)] {
        std::fs::write(dir.path().join(name), text).unwrap();
        let read = SequentialConfig::read(&dir.path().join(name)).unwrap();
        assert_eq!(read, config);
        let device = Device::flex();
        let model = read.init(&device).unwrap();
        assert_eq!(model.num_params(), 61_706, "LeNet-5 as in lab 1");
        assert_eq!(config.num_params().unwrap(), 61_706);
        assert_eq!(model.summary(), lenet(&device).summary());
    }
    assert_eq!(
        lenet(&Device::flex())
            .forward(Tensor::zeros([3, 1, 28, 28], &Device::flex()))
            .dims(),
        [3, 10]
    );
}

#[test]
fn yaml_can_only_build_the_five_layer_kinds() {
    // What made Keras drop model_from_yaml: YAML tags that construct Python objects.
    let evil = "!!python/object/apply:os.system [\"echo pwned\"]\n";
    assert!(SequentialConfig::from_yaml(evil).is_err());
    let evil_layer = "name: x\ninput_shape: [1, 28, 28]\nlayers:\n- !!python/object/apply:os.system [\"echo\"]\n";
    assert!(SequentialConfig::from_yaml(evil_layer).is_err());
    let unknown_class = "name: x\ninput_shape: [1, 28, 28]\nlayers:\n- class_name: Lambda\n  name: l\n  function: print\n";
    let error = SequentialConfig::from_yaml(unknown_class).unwrap_err();
    assert!(error.contains("Lambda"), "{error}");
    let unknown_key = "name: x\ninput_shape: [1, 28, 28]\nlayers:\n- class_name: Flatten\n  name: f\n  code: rm\n";
    assert!(SequentialConfig::from_yaml(unknown_key).is_err());
    let json_unknown =
        r#"{"name":"x","input_shape":[1,28,28],"layers":[{"class_name":"Lambda","name":"l"}]}"#;
    assert!(SequentialConfig::from_json(json_unknown).is_err());
}

#[test]
fn an_architecture_that_does_not_fit_names_the_layer() {
    let mut config = SequentialConfig::lenet5();
    config.layers.remove(4); // the Flatten
    let error = config.validate().unwrap_err().to_string();
    assert!(
        error.contains("layer dense") && error.contains("Flatten"),
        "{error}"
    );
    assert!(config.init(&Device::flex()).is_err());

    let mut config = SequentialConfig::lenet5();
    if let LayerConfig::Conv2D { kernel_size, .. } = &mut config.layers[0] {
        *kernel_size = [4, 4];
    }
    let error = config.validate().unwrap_err().to_string();
    assert!(error.contains("conv2d") && error.contains("odd"), "{error}");

    let mut config = SequentialConfig::lenet5();
    if let LayerConfig::Dense { activation, .. } = &mut config.layers[5] {
        *activation = Activation::Softmax;
    }
    assert!(
        config
            .validate()
            .unwrap_err()
            .to_string()
            .contains("layer dense")
    );

    let mut config = SequentialConfig::lenet5();
    let duplicate = config.layers[0].clone();
    config.layers.insert(1, duplicate);
    assert!(
        config
            .validate()
            .unwrap_err()
            .to_string()
            .contains("conv2d")
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.toml");
    std::fs::write(&path, "x").unwrap();
    assert!(
        SequentialConfig::read(&path)
            .unwrap_err()
            .to_string()
            .contains(".yaml")
    );
    let path = dir.path().join("net.yaml");
    std::fs::write(&path, "name: [unclosed").unwrap();
    let error = SequentialConfig::read(&path).unwrap_err().to_string();
    assert!(error.contains("net.yaml"), "{error}");
    let error = SequentialConfig::read(&dir.path().join("missing.json"))
        .unwrap_err()
        .to_string();
    assert!(error.contains("missing.json"), "{error}");
}

#[test]
fn absurd_sizes_are_refused_before_anything_is_allocated() {
    // A Dense layer of billions of units, and a filter count near u64::MAX: counted with
    // arithmetic that cannot overflow, refused by validate (which init calls first).
    let mut huge_dense = SequentialConfig::lenet5();
    if let LayerConfig::Dense { units, .. } = &mut huge_dense.layers[5] {
        *units = 4_000_000_000;
    }
    let mut huge_filters = SequentialConfig::lenet5();
    if let LayerConfig::Conv2D { filters, .. } = &mut huge_filters.layers[0] {
        *filters = usize::MAX - 1;
    }
    for config in [&huge_dense, &huge_filters] {
        let error = config.validate().unwrap_err().to_string();
        assert!(
            error.contains("too large") && error.contains("parameters"),
            "{error}"
        );
        assert!(config.init(&Device::flex()).is_err());
    }
    // Parameters that fit, but activations of a batch that would not: 4,000 filters of
    // 28x28 (12.5 MB an image) times a batch of 1,000.
    let mut wide = SequentialConfig::lenet5();
    if let LayerConfig::Conv2D { filters, .. } = &mut wide.layers[0] {
        *filters = 4_000;
    }
    wide.validate().unwrap();
    let error = wide.check_memory(1_000).unwrap_err().to_string();
    assert!(error.contains("--batch-size"), "{error}");
    assert!(SequentialConfig::lenet5().check_memory(64).is_ok());

    // From the command line: a message, exit 1, and no run folder.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.yaml");
    std::fs::write(&path, huge_dense.to_yaml()).unwrap();
    let result = lab()
        .args(["--quick", "--architecture"])
        .arg(&path)
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("too large") && !stderr.contains("panicked"),
        "{stderr}"
    );
    assert!(!dir.path().join("save-load").exists());
}

/// Keras's 16 inputs `(16, 28, 28, 1)` as burn images `[16, 1, 28, 28]`, and its probabilities.
fn keras_check(device: &Device) -> (Tensor<4>, Vec<f32>, Vec<i64>, f64) {
    let file = File::open(fixture("lenet5_keras_check.h5")).unwrap();
    let inputs = file.dataset("inputs").unwrap();
    let shape: Vec<usize> = inputs
        .shape()
        .unwrap()
        .iter()
        .map(|&d| d as usize)
        .collect();
    assert_eq!(shape[1..], [28, 28, 1]);
    // One channel: (h, w, 1) and (1, h, w) are the same numbers in the same order.
    let images = Tensor::from_data(
        TensorData::new(inputs.read_f32().unwrap(), [shape[0], 1, 28, 28]),
        device,
    );
    let probabilities = file.dataset("probabilities").unwrap().read_f32().unwrap();
    let labels = file.dataset("labels").unwrap().read_i64().unwrap();
    let accuracy = match file.root().attrs().unwrap().get("test_accuracy") {
        Some(AttrValue::F64(a)) => *a,
        other => panic!("test_accuracy: {other:?}"),
    };
    (images, probabilities, labels, accuracy)
}

#[test]
fn weights_saved_by_keras_reproduce_keras_outputs() {
    let device = Device::flex();
    let model = keras_h5::load(&lenet(&device), &fixture("lenet5_keras.h5")).unwrap();
    let (images, expected, labels, keras_accuracy) = keras_check(&device);
    let ours = shared::floats(model.predict(images));
    assert_eq!(ours.len(), expected.len());
    let worst = ours
        .iter()
        .zip(&expected)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-5, "largest difference from Keras: {worst}");
    println!("largest difference from Keras's probabilities: {worst:e}");
    // The digits are real and the weights trained: most of the 16 are right.
    let right = ours
        .chunks(10)
        .zip(&labels)
        .filter(|(p, l)| {
            let best = (0..10).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap();
            best as i64 == **l
        })
        .count();
    assert!(right >= 14, "{right} of 16");

    // Keras 3 saved the same weights in its own layout (`layers/conv2d/vars/0`): the same
    // model, bit for bit.
    let keras3 = fixture("lenet5_keras3.weights.h5");
    assert_eq!(keras_h5::read(&keras3).unwrap().layout, KerasLayout::Keras3);
    let from_keras3 = keras_h5::load(&lenet(&device), &keras3).unwrap();
    formats::compare(&model, &from_keras3).unwrap();

    // And on the whole bundled test sample, the accuracy Keras measured.
    let mnist = shared::mnist::load_dir(&samples_dir().join("mnist")).unwrap();
    let evaluation =
        shared::train::evaluate(&model, &MnistBatcher::new(mnist.test.clone()), 500, &device);
    assert!(
        (evaluation.get(shared::train::Metric::Accuracy) - keras_accuracy).abs()
            <= 1.0 / mnist.test.len() as f64 + 1e-9,
        "ours {} vs Keras {keras_accuracy}",
        evaluation.get(shared::train::Metric::Accuracy)
    );
}

#[test]
fn our_hdf5_file_has_keras_layout_and_keras_data() {
    // Load Keras's file, save it again: the same layers, names, shapes and bits.
    let device = Device::flex();
    let model = keras_h5::load(&lenet(&device), &fixture("lenet5_keras.h5")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join("weights.h5");
    keras_h5::save(&model, &ours).unwrap();
    let theirs = keras_h5::read(&fixture("lenet5_keras.h5")).unwrap();
    let again = keras_h5::read(&ours).unwrap();
    assert_eq!(theirs.layout, KerasLayout::SaveWeights);
    assert_eq!(again, theirs);

    // The attributes a Keras loader looks for.
    let file = File::open(&ours).unwrap();
    let attrs = file.root().attrs().unwrap();
    let names = attrs["layer_names"].as_strings().unwrap().to_vec();
    assert_eq!(names[..3], ["conv2d", "max_pooling2d", "conv2d_1"]);
    assert_eq!(
        attrs["keras_version"].as_strings().unwrap()[0]
            .chars()
            .next(),
        Some('2')
    );
    let conv = file.group("conv2d").unwrap().attrs().unwrap();
    assert_eq!(
        conv["weight_names"].as_strings().unwrap(),
        ["conv2d/kernel:0", "conv2d/bias:0"]
    );
    let kernel = file.dataset("conv2d/conv2d/kernel:0").unwrap();
    assert_eq!(kernel.shape().unwrap(), [5, 5, 1, 6]);
    let dense = file.dataset("dense/dense/kernel:0").unwrap();
    assert_eq!(dense.shape().unwrap(), [400, 120]);
}

#[test]
fn every_format_round_trips_bit_exact() {
    let device = Device::flex();
    device.seed(7);
    let model = lenet(&device);
    let dir = tempfile::tempdir().unwrap();

    device.seed(8);
    let blank = lenet(&device);
    assert!(formats::compare(&model, &blank).is_err());
    for format in WeightFormat::ALL {
        // Into a fresh model with other random weights.
        let path = dir.path().join(format.file());
        format.save(&model, &path).unwrap();
        let loaded = format.load(&blank, &path).unwrap();
        formats::compare(&model, &loaded).unwrap_or_else(|e| panic!("{}: {e}", format.name()));
    }

    // A multi-channel Flatten whose Dense rows Keras orders differently, and a dropout in
    // between: the round trip still gives back every bit.
    let mut config = SequentialConfig::lenet5();
    config.layers.insert(
        5,
        LayerConfig::Dropout {
            name: "dropout".into(),
            rate: 0.5,
        },
    );
    let model = config.init(&device).unwrap();
    let h5 = dir.path().join("with-dropout.h5");
    keras_h5::save(&model, &h5).unwrap();
    formats::compare(
        &model,
        &keras_h5::load(&config.init(&device).unwrap(), &h5).unwrap(),
    )
    .unwrap();
    let images = Tensor::<4>::random(
        [4, 1, 28, 28],
        burn::tensor::Distribution::Normal(0.0, 1.0),
        &device,
    );
    let loaded = keras_h5::load(&config.init(&device).unwrap(), &h5).unwrap();
    assert_eq!(
        shared::floats(model.predict(images.clone())),
        shared::floats(loaded.predict(images))
    );
}

#[test]
fn a_whole_model_file_is_read_from_its_model_weights_group() {
    // What `model.save("x.h5")` writes (Keras 3.15, checked by hand): the weights under
    // `model_weights/`, named `sequential/conv2d/kernel` in a nested group. Rebuilt here
    // from the fixture's arrays with exactly those names.
    let device = Device::flex();
    let expected = keras_h5::load(&lenet(&device), &fixture("lenet5_keras.h5")).unwrap();
    let layers = keras_h5::keras_layers(&expected);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.h5");
    let mut builder = FileBuilder::new();
    builder.set_attr("keras_version", AttrValue::AsciiString("3.15.1".into()));
    let mut weights = builder.create_group("model_weights");
    weights.set_attr(
        "layer_names",
        AttrValue::VarLenAsciiStringArray(layers.iter().map(|l| l.name.clone()).collect()),
    );
    for layer in &layers {
        let mut group = weights.create_group(&layer.name);
        let names: Vec<String> = layer
            .weights
            .iter()
            .map(|w| {
                format!(
                    "sequential/{}/{}",
                    layer.name,
                    if w.shape.len() == 1 { "bias" } else { "kernel" }
                )
            })
            .collect();
        group.set_attr("weight_names", AttrValue::VarLenAsciiStringArray(names));
        if !layer.weights.is_empty() {
            let mut sequential = group.create_group("sequential");
            let mut inner = sequential.create_group(&layer.name);
            for w in &layer.weights {
                let leaf = if w.shape.len() == 1 { "bias" } else { "kernel" };
                let shape: Vec<u64> = w.shape.iter().map(|&d| d as u64).collect();
                inner
                    .create_dataset(leaf)
                    .with_f32_data(&w.values)
                    .with_shape(&shape);
            }
            sequential.add_group(inner.finish());
            group.add_group(sequential.finish());
        }
        weights.add_group(group.finish());
    }
    builder.add_group(weights.finish());
    builder.write(&path).unwrap();

    assert_eq!(
        keras_h5::read(&path).unwrap().layout,
        KerasLayout::ModelSave
    );
    let loaded = keras_h5::load(&lenet(&device), &path).unwrap();
    formats::compare(&expected, &loaded).unwrap();
}

/// `load` on a bad file: an error whose text contains every one of `words`, and the model
/// passed in is left exactly as it was.
fn refused(model: &Sequential, path: &Path, words: &[&str]) -> KerasH5Error {
    let before = model.clone();
    let error = keras_h5::load(model, path).unwrap_err();
    let text = error.to_string();
    for word in words {
        assert!(text.contains(word), "{word:?} not in: {text}");
    }
    formats::compare(&before, model).unwrap();
    error
}

#[test]
fn bad_weight_files_are_refused_with_the_layer_or_problem_named() {
    let device = Device::flex();
    let keras = fixture("lenet5_keras.h5");
    let dir = tempfile::tempdir().unwrap();

    // Another architecture: the first convolution has 3x3 filters.
    let other = different_architecture(&SequentialConfig::lenet5()).unwrap();
    let model = other.init(&device).unwrap();
    refused(&model, &keras, &["conv2d", "(5, 5, 1, 6)", "(3, 3, 1, 6)"]);

    // Same layer count, another width: the Dense kernel's shape is named.
    let mut config = SequentialConfig::lenet5();
    if let LayerConfig::Dense { units, .. } = &mut config.layers[5] {
        *units = 100;
    }
    let model = config.init(&device).unwrap();
    refused(&model, &keras, &["dense", "(400, 120)", "(400, 100)"]);

    // One layer more than the file.
    let mut config = SequentialConfig::lenet5();
    config.layers.insert(
        6,
        LayerConfig::Dense {
            name: "extra".into(),
            units: 120,
            activation: Activation::Relu,
        },
    );
    let model = config.init(&device).unwrap();
    let error = refused(&model, &keras, &["another architecture", "5 layers", "6"]);
    assert!(matches!(error, KerasH5Error::LayerCount { .. }));

    let model = lenet(&device);
    // A layer listed in layer_names but missing from the file.
    let path = dir.path().join("missing-layer.h5");
    let mut builder = FileBuilder::new();
    builder.set_attr(
        "layer_names",
        AttrValue::AsciiStringArray(vec!["conv2d".into(), "dense_9".into()]),
    );
    let mut group = builder.create_group("conv2d");
    group.set_attr("weight_names", AttrValue::AsciiStringArray(vec![]));
    builder.add_group(group.finish());
    builder.write(&path).unwrap();
    refused(&model, &path, &["dense_9", "no group"]);

    // A weight listed in weight_names but missing.
    let path = dir.path().join("missing-weight.h5");
    let mut builder = FileBuilder::new();
    builder.set_attr(
        "layer_names",
        AttrValue::AsciiStringArray(vec!["conv2d".into()]),
    );
    let mut group = builder.create_group("conv2d");
    group.set_attr(
        "weight_names",
        AttrValue::AsciiStringArray(vec!["conv2d/kernel:0".into()]),
    );
    builder.add_group(group.finish());
    builder.write(&path).unwrap();
    refused(&model, &path, &["conv2d", "kernel:0", "missing"]);

    // HDF5, but not Keras weights.
    let path = dir.path().join("plain.h5");
    let mut builder = FileBuilder::new();
    builder.create_dataset("x").with_f32_data(&[1.0, 2.0]);
    builder.write(&path).unwrap();
    refused(&model, &path, &["layer_names"]);

    // Truncated at many places: an error every time, never a panic.
    let bytes = std::fs::read(&keras).unwrap();
    let path = dir.path().join("truncated.h5");
    for keep in [
        8,
        100,
        1000,
        4096,
        bytes.len() / 3,
        bytes.len() / 2,
        bytes.len() - 100,
    ] {
        std::fs::write(&path, &bytes[..keep]).unwrap();
        refused(&model, &path, &["truncated.h5"]);
    }

    // Not HDF5 at all, and no file.
    let path = dir.path().join("notes.h5");
    std::fs::write(&path, "these are not weights").unwrap();
    let error = refused(&model, &path, &["not an HDF5 file"]);
    assert!(matches!(error, KerasH5Error::NotHdf5 { .. }));
    refused(&model, &dir.path().join("nowhere.h5"), &["nowhere.h5"]);

    // The native formats refuse another architecture too.
    let bpk = dir.path().join("m.bpk");
    formats::save_burnpack(&model, &bpk).unwrap();
    let st = dir.path().join("m.safetensors");
    formats::save_safetensors(&model, &st).unwrap();
    let other = different_architecture(&SequentialConfig::lenet5())
        .unwrap()
        .init(&device)
        .unwrap();
    assert!(formats::load_burnpack(&other, &bpk).is_err());
    assert!(formats::load_safetensors(&other, &st).is_err());
    assert!(formats::load_safetensors(&other, &path).is_err());
}

fn lab() -> Command {
    common::lab(env!("CARGO_BIN_EXE_lab-save-load"))
}

#[test]
fn a_quick_run_saves_everything_checkpoints_each_epoch_and_resumes() {
    let out = tempfile::tempdir().unwrap();
    let stdout = common::succeed(lab().args(["--quick", "--out"]).arg(out.path()));
    let run = common::only_run_folder(out.path(), "save-load");
    for file in [
        "architecture.json",
        "architecture.yaml",
        "weights.h5",
        "model.bpk",
        "model.safetensors",
        "epochs/weights-01.h5",
        "epochs/weights-02.h5",
        "checkpoint/model.bpk",
        "curves.png",
        "predictions.png",
        "summary.txt",
    ] {
        assert!(run.join(file).exists(), "{file} missing; output:\n{stdout}");
    }
    assert_eq!(stdout.matches("bit-exact").count(), 6, "{stdout}");
    assert_eq!(
        stdout.matches("predictions identical").count(),
        6,
        "{stdout}"
    );
    assert!(
        stdout.contains("(3, 3, 1, 6)"),
        "the mismatch demo: {stdout}"
    );

    // The last epoch's Keras file holds the final weights.
    let device = Device::flex();
    let architecture = SequentialConfig::read(&run.join("architecture.yaml")).unwrap();
    let blank = architecture.init(&device).unwrap();
    let last = keras_h5::load(&blank, &run.join("epochs/weights-02.h5")).unwrap();
    let saved = keras_h5::load(&blank, &run.join("weights.h5")).unwrap();
    formats::compare(&last, &saved).unwrap();

    // Start a new run from the first epoch's weights: they are what the file says.
    let from_epoch = tempfile::tempdir().unwrap();
    let output = lab()
        .args(["--quick", "--epochs", "0", "--load-h5"])
        .arg(run.join("epochs/weights-01.h5"))
        .arg("--out")
        .arg(from_epoch.path())
        .output()
        .unwrap();
    assert!(output.status.success());
    let restarted = common::only_run_folder(from_epoch.path(), "save-load");
    let first = keras_h5::load(&blank, &run.join("epochs/weights-01.h5")).unwrap();
    let copied = formats::load_burnpack(&blank, &restarted.join("model.bpk")).unwrap();
    formats::compare(&first, &copied).unwrap();

    // Resuming takes up the checkpoint's weights; then one more epoch.
    common::assert_resume_keeps_the_weights(env!("CARGO_BIN_EXE_lab-save-load"), &run, 2);
    let output = lab()
        .args(["--epochs", "3", "--resume"])
        .arg(&run)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("resuming after epoch 2"), "{stdout}");
    assert!(run.join("epochs/weights-03.h5").exists());
    let history = std::fs::read_to_string(run.join("history.csv")).unwrap();
    assert_eq!(history.lines().count(), 4, "{history}");
}

#[test]
fn keras_weights_load_from_the_command_line_and_bad_input_is_an_error() {
    let out = tempfile::tempdir().unwrap();
    let output = lab()
        .args(["--quick", "--epochs", "0", "--load-h5"])
        .arg(fixture("lenet5_keras.h5"))
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    let line = stdout
        .lines()
        .find(|l| l.contains("before any training"))
        .unwrap();
    let accuracy: f64 = line
        .split("training: ")
        .nth(1)
        .and_then(|s| s.split('%').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(accuracy > 95.0, "{line}");

    // A missing weights file and a broken architecture: a message, exit code 1, no run folder.
    let empty = tempfile::tempdir().unwrap();
    let bad_yaml = empty.path().join("bad.yaml");
    let mut config = SequentialConfig::lenet5();
    config.layers.remove(4);
    std::fs::write(&bad_yaml, config.to_yaml()).unwrap();
    let mut other = different_architecture(&SequentialConfig::lenet5()).unwrap();
    other.name = "lenet5-3x3".into();
    let other_yaml = empty.path().join("other.yaml");
    std::fs::write(&other_yaml, other.to_yaml()).unwrap();
    for args in [
        vec!["--load-h5".to_string(), "no-such-weights.h5".into()],
        vec![
            "--architecture".to_string(),
            other_yaml.display().to_string(),
            "--load-h5".to_string(),
            fixture("lenet5_keras.h5").display().to_string(),
        ],
        vec!["--architecture".to_string(), bad_yaml.display().to_string()],
    ] {
        let output = lab()
            .args(["--quick", "--out"])
            .arg(empty.path())
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!empty.path().join("save-load").exists());
    }
}

#[test]
fn corrupted_bytes_never_panic() {
    let device = Device::flex();
    let model = lenet(&device);
    let bytes = std::fs::read(fixture("lenet5_keras.h5")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corrupt.h5");
    // Flipped bytes in the raw weights go unnoticed (HDF5 keeps no checksum of them, nor does
    // Keras); flipped bytes in the file's structure must be errors, never a panic.
    let mut errors = 0;
    for start in (0..bytes.len()).step_by(97) {
        let mut damaged = bytes.clone();
        for b in &mut damaged[start..(start + 8).min(bytes.len())] {
            *b ^= 0xA5;
        }
        std::fs::write(&path, &damaged).unwrap();
        if keras_h5::load(&model, &path).is_err() {
            errors += 1;
        }
    }
    assert!(errors >= 20, "only {errors} damaged files were noticed");
}
