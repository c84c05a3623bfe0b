//! Lab 4: the networks' shapes, weights from PyTorch and Keras files reproduced against
//! fixtures made by PyTorch and Keras, the pretrained EfficientNet-Lite0 on real photos,
//! freezing, and every bad input ending in a message.

mod common;

use std::path::{Path, PathBuf};

use burn::prelude::*;
use common::{lab, only_run_folder, succeed};
use lab_vgg16_transfer::classify::{image_files, top_classes};
use lab_vgg16_transfer::efficientnet::{EfficientNetConfig, same_padding};
use lab_vgg16_transfer::network::Network;
use lab_vgg16_transfer::transfer::{Regime, TransferNet, balanced_pick, count_params, upscale};
use lab_vgg16_transfer::vgg::{Vgg, VggConfig};
use lab_vgg16_transfer::weights::{self, Pretrained};
use shared::image_io::Preprocessing;
use shared::imagenet;

const EXE: &str = env!("CARGO_BIN_EXE_lab-vgg16-transfer");

/// A file made by `labs/vgg16-transfer/reference/make_fixtures.py` (PyTorch, Keras and the
/// official EfficientNet-Lite code).
fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("reference")
        .join(name)
}

fn fixture_json(name: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(name)).unwrap()).unwrap()
}

/// The fixtures' inputs: x[n][c][h][w] = sin(0.37 n + 0.11 c + 0.013 h + 0.029 w), in f64,
/// rounded to f32, as the script computes them.
fn sin_images(n: usize, side: usize, device: &Device) -> Tensor<4> {
    let mut values = Vec::with_capacity(n * 3 * side * side);
    for i in 0..n {
        for c in 0..3 {
            for h in 0..side {
                for w in 0..side {
                    let x = 0.37 * i as f64 + 0.11 * c as f64 + 0.013 * h as f64 + 0.029 * w as f64;
                    values.push(x.sin() as f32);
                }
            }
        }
    }
    Tensor::from_data(TensorData::new(values, [n, 3, side, side]), device)
}

/// Every value of `actual` within `tolerance` of the reference's `expected` (a JSON list of
/// lists, one per image).
fn assert_close(actual: Tensor<2>, expected: &serde_json::Value, tolerance: f32) {
    let expected: Vec<f32> = expected
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
        })
        .collect();
    let actual = shared::floats(actual);
    assert_eq!(actual.len(), expected.len());
    let worst = actual
        .iter()
        .zip(&expected)
        .map(|(a, e)| (a - e).abs())
        .fold(0.0f32, f32::max);
    assert!(
        worst <= tolerance,
        "largest difference {worst}\n{actual:?}\n{expected:?}"
    );
}

fn tiny_vgg_config(reference: &serde_json::Value) -> VggConfig {
    let list = |key: &str| -> Vec<usize> {
        reference[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect()
    };
    VggConfig::new()
        .with_convs(list("convs"))
        .with_widths(list("widths"))
        .with_hidden(reference["hidden"].as_u64().unwrap() as usize)
        .with_classes(reference["classes"].as_u64().unwrap() as usize)
}

/// The real EfficientNet-Lite0 weights of the course material (tests that use them are
/// ignored where they are absent).
fn course_weights() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/models")
        .join(weights::EFFICIENTNET_FILE)
}

fn photos() -> PathBuf {
    shared::datasets::samples_dir().join("imagenet/photos")
}

fn device() -> Device {
    shared::device::select(shared::device::DeviceChoice::Auto).unwrap()
}

fn error_text<T>(result: anyhow::Result<T>) -> String {
    match result {
        Ok(_) => panic!("expected an error"),
        Err(e) => format!("{e:#}"),
    }
}

// ------------------------------------------------------------------------------ the networks

#[test]
fn vgg16_has_the_slides_138_million_parameters() {
    let config = VggConfig::vgg16();
    assert_eq!(config.num_params(), 138_357_544);
    // The module (built lazily: no weight is allocated) agrees, and so does its summary.
    let model = config.init(&device());
    assert_eq!(model.num_params(), 138_357_544);
    let rows = model.summary();
    assert_eq!(rows.iter().map(|r| r.params).sum::<usize>(), 138_357_544);
    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names[0], "block1_conv1");
    assert!(names.contains(&"block5_conv3") && names.ends_with(&["fc1", "fc2", "predictions"]));
    assert_eq!(rows[rows.len() - 4].output_shape, [25_088]);
}

#[test]
fn efficientnet_lite0_has_its_published_shape() {
    let config = EfficientNetConfig::lite0();
    assert_eq!(config.blocks.len(), 16);
    // timm's efficientnet_lite0: 4,652,008 parameters.
    assert_eq!(config.num_params(), 4_652_008);
    let model = config.init(&device());
    // burn also counts batch norm's running statistics.
    assert_eq!(model.num_params(), 4_652_008 + config.batch_norm_values());
    let rows = model.summary(224);
    assert_eq!(rows.iter().map(|r| r.params).sum::<usize>(), 4_652_008);
    assert_eq!(rows[rows.len() - 3].output_shape, [1280, 7, 7]);
    let skips = config.blocks.iter().filter(|b| b.has_skip()).count();
    assert_eq!(skips, 9);
}

#[test]
fn same_padding_is_tensorflows() {
    // The extra pixel of a stride-2 convolution goes after (right, bottom).
    assert_eq!(same_padding(3, 2), (0, 1));
    assert_eq!(same_padding(5, 2), (1, 2));
    assert_eq!(same_padding(3, 1), (1, 1));
    assert_eq!(same_padding(5, 1), (2, 2));
    assert_eq!(same_padding(1, 1), (0, 0));
}

// ------------------------------------------------------------ weights from PyTorch and Keras

/// The tiny VGG of the fixture `json`, loaded from the fixture `weights` by `load`: its
/// logits on two 224 x 224 images are the reference's.
fn tiny_vgg_reproduces(
    json: &str,
    weights: &str,
    load: fn(&VggConfig, &Path, &Device) -> anyhow::Result<Vgg>,
) -> (Vgg, serde_json::Value) {
    let reference = fixture_json(json);
    let device = device();
    let model = load(&tiny_vgg_config(&reference), &fixture(weights), &device).unwrap();
    assert_close(
        model.forward(sin_images(2, 224, &device)),
        &reference["logits_224"],
        1e-4,
    );
    (model, reference)
}

#[test]
fn torchvision_vgg_weights_reproduce_pytorch() {
    let (model, reference) = tiny_vgg_reproduces(
        "tiny_vgg.json",
        "tiny_vgg.pth",
        weights::load_torchvision_vgg,
    );
    // A 32 x 32 input leaves a 1 x 1 map, which torchvision's avgpool repeats to 7 x 7.
    assert_close(
        model.forward(sin_images(1, 32, &device())),
        &reference["logits_32"],
        1e-4,
    );
}

#[test]
fn keras_vgg_weights_reproduce_keras() {
    // Kernels transposed to burn's layout, fc1's rows from (h, w, c) to (c, h, w) order.
    tiny_vgg_reproduces(
        "tiny_vgg_keras.json",
        "tiny_vgg_keras.h5",
        weights::load_keras_vgg,
    );
}

#[test]
fn efficientnet_weights_reproduce_the_official_code() {
    let reference = fixture_json("tiny_efficientnet.json");
    let blocks = reference["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| lab_vgg16_transfer::efficientnet::BlockSpec {
            input: b["input"].as_u64().unwrap() as usize,
            output: b["output"].as_u64().unwrap() as usize,
            kernel: b["kernel"].as_u64().unwrap() as usize,
            stride: b["stride"].as_u64().unwrap() as usize,
            expand: b["expand"].as_u64().unwrap() as usize,
        })
        .collect();
    let get = |key: &str| reference[key].as_u64().unwrap() as usize;
    let config = EfficientNetConfig::new(get("stem"), blocks, get("head"), get("classes"));
    let device = device();
    let model =
        weights::load_efficientnet(&config, &fixture("tiny_efficientnet.pth"), &device).unwrap();
    assert_close(
        model.forward(sin_images(2, 64, &device)),
        &reference["logits_64"],
        1e-4,
    );
}

#[test]
fn efficientnet_port_matches_an_independent_reimplementation() {
    // Made by reference/independent/: tiny batch-norm variances and saturating ReLU6s, so
    // that a wrong epsilon, padding or activation moves the logits by whole units.
    let reference = fixture_json("independent/tiny_efficientnet.json");
    let config = &reference["config"];
    let get = |v: &serde_json::Value, key: &str| v[key].as_u64().unwrap() as usize;
    let blocks = config["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| lab_vgg16_transfer::efficientnet::BlockSpec {
            input: get(b, "in_channels"),
            output: get(b, "out_channels"),
            kernel: get(b, "kernel"),
            stride: get(b, "stride"),
            expand: get(b, "expand_ratio"),
        })
        .collect();
    let config = EfficientNetConfig::new(
        get(config, "stem_channels"),
        blocks,
        get(config, "head_channels"),
        get(config, "num_classes"),
    );
    let device = device();
    let model = weights::load_efficientnet(
        &config,
        &fixture("independent/tiny_efficientnet.pth"),
        &device,
    )
    .unwrap();
    // Those tiny variances also magnify float rounding (1 / sqrt(var + eps) is up to 30):
    // summed in another order than PyTorch's, the logits agree to 3e-3 with burn's
    // convolution and to 0.02 with the course's (shared::conv, whose sums run in yet another
    // order; the well-conditioned tests above agree to 1e-4 and 1e-5), while each of the
    // mistakes the JSON lists moves them by 1.7 or more.
    assert_close(
        model.forward(sin_images(2, 64, &device)),
        &reference["logits"],
        5e-2,
    );
}

#[test]
fn weights_of_another_shape_or_model_are_refused_naming_them() {
    let device = device();
    // The tiny VGG's file into a real VGG-16: same names, other shapes.
    let text = error_text(weights::load_torchvision_vgg(
        &VggConfig::vgg16(),
        &fixture("tiny_vgg.pth"),
        &device,
    ));
    assert!(
        text.contains("does not fit this network") && text.contains("features.0.weight"),
        "{text}"
    );
    // torchvision's numbering (block 2's first convolution is its features.5).
    assert!(
        text.contains("'features.5.weight': expected Shape { dims: [128, 64, 3, 3] }"),
        "{text}"
    );
    // A VGG file into EfficientNet: nothing fits.
    let text = error_text(weights::load_efficientnet(
        &EfficientNetConfig::lite0(),
        &fixture("tiny_vgg.pth"),
        &device,
    ));
    assert!(
        text.contains("247 weight(s) of the network are not in the file")
            && text
                .contains("tensor(s) in the file belong to no layer of the network: classifier."),
        "{text}"
    );
    // A file that lacks one layer: named as torchvision names it, not shifted onto others.
    let text = error_text(weights::load_torchvision_vgg(
        &tiny_vgg_config(&fixture_json("tiny_vgg.json")),
        &fixture("tiny_vgg_without_features28.pth"),
        &device,
    ));
    assert!(
        text.contains(
            "2 weight(s) of the network are not in the file: features.28.bias, features.28.weight"
        ) && !text.contains("could not be loaded"),
        "{text}"
    );
    // Keras weights of a smaller VGG: the first layer whose shape differs is named.
    let text = error_text(weights::load_keras_vgg(
        &VggConfig::vgg16(),
        &fixture("tiny_vgg_keras.h5"),
        &device,
    ));
    assert!(
        text.contains("layer block1_conv1 has a kernel of shape [3, 3, 3, 4]"),
        "{text}"
    );
    // A truncated download.
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(fixture("tiny_vgg.pth")).unwrap();
    let truncated = dir.path().join("truncated.pth");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let text = error_text(weights::load_torchvision_vgg(
        &tiny_vgg_config(&fixture_json("tiny_vgg.json")),
        &truncated,
        &device,
    ));
    assert!(
        text.contains("is not a PyTorch checkpoint this lab can read"),
        "{text}"
    );
    // The file itself is untouched.
    assert_eq!(std::fs::read(&truncated).unwrap().len(), bytes.len() / 2);
}

// ----------------------------------------------------------------- the pretrained network

#[test]
#[cfg_attr(
    not(course_model),
    ignore = "needs the course material's pretrained weights and photos (../shared beside the checkout)"
)]
fn efficientnet_lite0_reproduces_the_official_code_on_the_cat() {
    let reference = fixture_json("efficientnet_lite0_photos.json");
    let device = device();
    let network = Network::load(Pretrained::EfficientnetLite0, &course_weights(), &device).unwrap();
    // The 224 x 224 crop exactly as PyTorch's network saw it (PNG: decoded bit for bit).
    let image = shared::image_io::decode(&fixture("chelsea_224.png")).unwrap();
    let values = Preprocessing::Lite.normalize(&image).unwrap();
    let x = Tensor::<4>::from_data(TensorData::new(values, [1, 3, 224, 224]), &device);
    let logits = reference["chelsea_224_png_logits"].clone();
    assert_close(
        network.forward(x),
        &serde_json::Value::Array(vec![logits]),
        1e-4,
    );
}

#[test]
#[cfg_attr(
    not(course_model),
    ignore = "needs the course material's pretrained weights and photos (../shared beside the checkout)"
)]
fn efficientnet_lite0_agrees_with_the_official_code_on_every_photo() {
    // From the JPEG files: zune-jpeg and Pillow's libjpeg round a few pixels differently, so
    // the probabilities agree to about a percentage point, not exactly.
    let reference = fixture_json("efficientnet_lite0_photos.json");
    let device = device();
    let network = Network::load(Pretrained::EfficientnetLite0, &course_weights(), &device).unwrap();
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets/imagenet/photos");
    for photo in reference["photos"].as_array().unwrap() {
        let name = photo["photo"].as_str().unwrap();
        let values =
            shared::image_io::load_imagenet_input(&dir.join(name), Preprocessing::Lite).unwrap();
        let x = Tensor::<4>::from_data(TensorData::new(values, [1, 3, 224, 224]), &device);
        let p = shared::floats(burn::tensor::activation::softmax(network.forward(x), 1));
        for guess in photo["top5"].as_array().unwrap() {
            let class = guess["class"].as_u64().unwrap() as usize;
            let expected = guess["probability"].as_f64().unwrap() as f32;
            assert!(
                (p[class] - expected).abs() < 0.02,
                "{name}: class {class} {} vs {expected}",
                p[class]
            );
        }
    }
}

#[test]
#[cfg_attr(
    not(course_model),
    ignore = "needs the course material's pretrained weights and photos (../shared beside the checkout)"
)]
fn a_truncated_copy_of_the_real_weights_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(course_weights()).unwrap();
    let truncated = dir.path().join(weights::EFFICIENTNET_FILE);
    std::fs::write(&truncated, &bytes[..bytes.len() - 1000]).unwrap();
    let text = error_text(weights::load_efficientnet(
        &EfficientNetConfig::lite0(),
        &truncated,
        &device(),
    ));
    assert!(
        text.contains("is not a PyTorch checkpoint this lab can read"),
        "{text}"
    );
}

#[test]
#[cfg_attr(
    not(course_model),
    ignore = "needs the course material's pretrained weights and photos (../shared beside the checkout)"
)]
fn efficientnet_lite0_names_the_bundled_photos() {
    let device = device();
    let network = Network::load(Pretrained::EfficientnetLite0, &course_weights(), &device).unwrap();
    let classes = imagenet::read_class_index(&imagenet::bundled_class_index()).unwrap();
    let top1 = |photo: &str| {
        let values =
            shared::image_io::load_imagenet_input(&photos().join(photo), Preprocessing::Lite)
                .unwrap();
        let x = Tensor::<4>::from_data(TensorData::new(values, [1, 3, 224, 224]), &device);
        let p = shared::floats(burn::tensor::activation::softmax(network.forward(x), 1));
        top_classes(&p, &classes, 5)
    };
    let cat = top1("chelsea.jpg");
    // tabby, tiger cat, Persian, Siamese, Egyptian cat
    assert!((281..=285).contains(&cat[0].class), "{cat:?}");
    let coffee = top1("coffee.jpg");
    assert!(
        ["espresso", "cup", "coffee_mug"].contains(&coffee[0].name.as_str()),
        "{coffee:?}"
    );
    let rocket = top1("rocket.jpg");
    assert!(
        ["missile", "projectile", "space_shuttle"].contains(&rocket[0].name.as_str()),
        "{rocket:?}"
    );
}

#[test]
#[cfg_attr(
    not(course_model),
    ignore = "needs the course material's pretrained weights and photos (../shared beside the checkout)"
)]
fn classify_run_writes_its_pictures_and_predictions() {
    let out = tempfile::tempdir().unwrap();
    let stdout = succeed(
        lab(EXE)
            .arg("--weights")
            .arg(course_weights())
            .arg("--out")
            .arg(out.path())
            .arg(photos().join("coffee.jpg")),
    );
    assert!(stdout.contains("('n07920052', 'espresso',"), "{stdout}");
    let run = only_run_folder(out.path(), "vgg16-transfer");
    for file in ["00-coffee-top5.png", "predictions.json", "summary.txt"] {
        assert!(run.join(file).is_file(), "{file} missing");
    }
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("predictions.json")).unwrap())
            .unwrap();
    assert_eq!(saved[0]["top5"].as_array().unwrap().len(), 5);

    // Keras's framing instead of torchvision's: the whole photo squashed to 224 x 224.
    let stdout = succeed(
        lab(EXE)
            .args(["classify", "--resize", "squash", "--weights"])
            .arg(course_weights())
            .arg("--out")
            .arg(out.path())
            .arg(photos().join("coffee.jpg")),
    );
    assert!(
        stdout.contains("Preprocessing: squashed to 224 x 224, nearest neighbour"),
        "{stdout}"
    );
    assert!(stdout.contains("'espresso',"), "{stdout}");
}

// ---------------------------------------------------------------------------- bad inputs

#[test]
fn a_file_that_is_no_checkpoint_is_refused_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let device = device();
    let config = EfficientNetConfig::lite0();
    let empty = dir.path().join("empty.pth");
    std::fs::write(&empty, b"").unwrap();
    let text = error_text(weights::load_efficientnet(&config, &empty, &device));
    assert!(text.contains("is empty"), "{text}");

    let html = dir.path().join("page.pth");
    std::fs::write(&html, b"<html><body>Not found</body></html>").unwrap();
    let text = error_text(weights::load_efficientnet(&config, &html, &device));
    assert!(text.contains("is not a PyTorch checkpoint"), "{text}");

    let missing = dir.path().join("nothing-here.pth");
    let text = error_text(weights::locate(
        Pretrained::EfficientnetLite0,
        Some(&missing),
        dir.path(),
    ));
    assert!(text.contains("no such file"), "{text}");
}

#[test]
fn keras_weights_of_another_model_are_refused_naming_the_layer() {
    // Lab 3's LeNet-5 saved by Keras: a real Keras file, but not a VGG.
    let lenet = Path::new(env!("CARGO_MANIFEST_DIR")).join("../save-load/keras/lenet5_keras.h5");
    let text = error_text(weights::load_keras_vgg(
        &VggConfig::vgg16(),
        &lenet,
        &device(),
    ));
    assert!(text.contains("no weights for layer block1_conv1"), "{text}");
}

#[test]
fn bad_images_end_in_a_message_and_a_failure_exit() {
    let dir = tempfile::tempdir().unwrap();
    let weights_file = dir.path().join("w.pth");
    std::fs::write(&weights_file, b"x").unwrap();
    // A PNG whose header claims 100,000 x 100,000 pixels (30 GB as RGB), and nothing else.
    let mut huge = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    huge.extend(100_000u32.to_be_bytes());
    huge.extend(100_000u32.to_be_bytes());
    huge.extend([8, 2, 0, 0, 0, 0, 0, 0, 0]);
    for (name, bytes, expected) in [
        ("empty.jpg", &b""[..], "is empty"),
        ("notes.jpg", &b"these are my notes"[..], "is not an image"),
        (
            "huge.png",
            &huge[..],
            "100000 x 100000 pixels, over this loader's limit",
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let output = lab(EXE)
            .arg(&path)
            .arg("--weights")
            .arg(&weights_file)
            .arg("--out")
            .arg(dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains(expected) && !stderr.contains("panicked"),
            "{stderr}"
        );
    }
    let empty_folder = dir.path().join("nothing");
    std::fs::create_dir(&empty_folder).unwrap();
    let text = error_text(image_files(&[empty_folder]));
    assert!(text.contains("holds no .jpg"), "{text}");
}

// ------------------------------------------------------------------------- transfer learning

#[test]
fn balanced_pick_takes_as_many_of_each_class() {
    let data = shared::cifar10::load_dir(
        &shared::datasets::samples_dir().join("cifar-10/cifar-10-batches-bin"),
    )
    .unwrap();
    let (picked, rest) = balanced_pick(&data.train, 7, 1).unwrap();
    assert_eq!(picked.class_counts(), [7; 10]);
    assert_eq!(picked.len() + rest.len(), data.train.len());
    let text = error_text(balanced_pick(&data.train, 1000, 1));
    assert!(text.contains("fewer than the 1000 per class"), "{text}");
}

#[test]
fn upscaled_images_have_the_networks_input_shape() {
    // A uniform grey image stays uniform when scaled up, and normalises as torchvision does.
    let grey = vec![128u8; 3 * 32 * 32];
    let values = upscale(&grey, 32, 64, Preprocessing::Torch);
    assert_eq!(values.len(), 3 * 64 * 64);
    let red = (128.0 / 255.0 - 0.485) / 0.229;
    assert!((values[0] - red).abs() < 1e-6 && (values[64 * 64 - 1] - red).abs() < 1e-6);
}

/// A small EfficientNet with Lite0's layout (random weights) for the training tests.
fn tiny_efficientnet() -> EfficientNetConfig {
    let mut config = EfficientNetConfig::lite0();
    config.stem = 8;
    let mut channels = 8;
    for block in config.blocks.iter_mut() {
        block.input = channels;
        block.output = (block.output / 8).max(4);
        block.expand = block.expand.min(2);
        channels = block.output;
    }
    config.head = 16;
    config.classes = 10;
    config
}

/// One Adam step of `net` on four random images, through the whole network (frozen part
/// included, so that a layer left unfrozen by mistake would change).
fn one_step_on_images(net: TransferNet, device: &Device) -> TransferNet {
    use burn::optim::{AdamConfig, GradientsParams};
    let images = Tensor::<4>::random([4, 3, 64, 64], burn::tensor::Distribution::Default, device);
    let targets = Tensor::<1, Int>::from_data(TensorData::new(vec![1i64, 2, 3, 4], [4]), device);
    let logits = net.head.forward(net.base.features(images));
    let loss = burn::nn::loss::CrossEntropyLossConfig::new()
        .init(device)
        .forward(logits, targets);
    let grads = GradientsParams::from_grads(loss.backward(), &net);
    AdamConfig::new().init().step(1e-2, net, grads)
}

#[test]
fn frozen_layers_do_not_change_when_the_top_is_trained() {
    let device = device().autodiff();
    let config = tiny_efficientnet();
    let base = Network::EfficientNet(config.init(&device));
    let net = TransferNet::new(base, 10, Regime::Top, &device);
    let count = count_params(&net, config.batch_norm_values());
    let Network::EfficientNet(base) = &net.base else {
        unreachable!()
    };
    let last = base.blocks.len() - 1;
    // The last block, the 1x1 head convolution with its batch norm, and the new classifier;
    // the old ImageNet classifier is gone.
    let b = config.blocks[last];
    let block = b.input * b.inner()
        + 2 * b.inner()
        + b.inner() * b.kernel * b.kernel
        + 2 * b.inner()
        + b.inner() * b.output
        + 2 * b.output;
    let head = b.output * config.head + 2 * config.head + config.head * 10 + 10;
    assert_eq!(count.trainable, block + head);
    let old_classifier = config.head * config.classes + config.classes;
    assert_eq!(
        count.trainable + count.frozen,
        config.num_params() - old_classifier + config.head * 10 + 10
    );

    let weights = |net: &TransferNet| {
        let Network::EfficientNet(base) = &net.base else {
            unreachable!()
        };
        (
            shared::floats(base.conv_stem.weight.val()),
            shared::floats(base.bn0.running_mean.value()),
            shared::floats(base.blocks[0].depthwise_conv.weight.val()),
            shared::floats(base.blocks[last].project_conv.weight.val()),
            shared::floats(net.head.weight.val()),
        )
    };
    let before = weights(&net);
    let after = weights(&one_step_on_images(net, &device));
    assert_eq!(after.0, before.0, "the stem changed");
    assert_eq!(
        after.1, before.1,
        "a frozen batch norm's statistics changed"
    );
    assert_eq!(after.2, before.2, "block 0 changed");
    assert_ne!(after.3, before.3, "the last block did not learn");
    assert_ne!(after.4, before.4, "the new head did not learn");
}

#[test]
fn a_vgg_trains_only_its_last_block_in_the_top_regime() {
    let device = device().autodiff();
    let config = VggConfig::new()
        .with_widths(vec![4, 8, 8, 8, 8])
        .with_hidden(16)
        .with_classes(10);
    let net = TransferNet::new(Network::Vgg(config.init(&device)), 10, Regime::Top, &device);
    let count = count_params(&net, 0);
    // Block 5: three 3x3 convolutions 8 → 8 with biases, and the head 8 → 10.
    assert_eq!(count.trainable, 3 * (8 * 8 * 9 + 8) + 8 * 10 + 10);
    let weights = |net: &TransferNet| {
        let Network::Vgg(base) = &net.base else {
            unreachable!()
        };
        (
            shared::floats(base.features[0].weight.val()),
            shared::floats(base.features[9].weight.val()),
            shared::floats(base.features[12].weight.val()),
        )
    };
    let before = weights(&net);
    let after = weights(&one_step_on_images(net, &device));
    assert_eq!(after.0, before.0, "block 1 changed");
    assert_eq!(after.1, before.1, "block 4 changed");
    assert_ne!(after.2, before.2, "block 5 did not learn");
}

#[test]
fn head_regime_trains_only_the_new_head() {
    let device = device().autodiff();
    let config = tiny_efficientnet();
    let net = TransferNet::new(
        Network::EfficientNet(config.init(&device)),
        10,
        Regime::Head,
        &device,
    );
    let count = count_params(&net, config.batch_norm_values());
    assert_eq!(count.trainable, 16 * 10 + 10);
    assert_eq!(
        count.frozen,
        config.num_params() - (config.head * config.classes + config.classes)
    );
}

#[test]
fn compare_writes_one_table_one_plot_and_every_run() {
    // Lab 2's CNN needs no pretrained weights, so this runs everywhere.
    let out = tempfile::tempdir().unwrap();
    let stdout = succeed(
        lab(EXE)
            .args([
                "compare",
                "--quick",
                "--regimes",
                "scratch",
                "--sizes",
                "2,4",
                "--out",
            ])
            .arg(out.path()),
    );
    let folder = only_run_folder(out.path(), "vgg16-transfer-compare");
    for file in ["comparison.txt", "comparison.png", "comparison.json"] {
        assert!(folder.join(file).is_file(), "{file} missing\n{stdout}");
    }
    let table = std::fs::read_to_string(folder.join("comparison.txt")).unwrap();
    assert_eq!(table.lines().count(), 3, "{table}");
    assert!(
        table.contains("scratch (lab 2's CNN from scratch)"),
        "{table}"
    );
    let runs = std::fs::read_dir(folder.join("vgg16-transfer"))
        .unwrap()
        .count();
    assert_eq!(runs, 2);
    // --per-class has no meaning beside --sizes.
    let output = lab(EXE)
        .args(["compare", "--quick", "--per-class", "3", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("give the sizes there"));
}

#[test]
fn scratch_baseline_runs_end_to_end_without_any_weights() {
    let out = tempfile::tempdir().unwrap();
    let stdout = succeed(
        lab(EXE)
            .args(["transfer", "--train", "scratch", "--quick", "--out"])
            .arg(out.path()),
    );
    assert!(
        stdout.contains("2,168,362 parameters trained, 0 frozen"),
        "{stdout}"
    );
    let run = only_run_folder(out.path(), "vgg16-transfer");
    for file in [
        "config.json",
        "history.json",
        "model.bpk",
        "curves.png",
        "confusion.png",
        "summary.txt",
    ] {
        assert!(run.join(file).is_file(), "{file} missing");
    }
}

#[test]
#[cfg_attr(
    not(course_model),
    ignore = "needs the course material's pretrained weights and photos (../shared beside the checkout)"
)]
fn quick_head_run_caches_features_and_writes_its_run_folder() {
    let out = tempfile::tempdir().unwrap();
    // The weights where the lab keeps its downloads, `<data folder>/models/`: found there
    // (and checked) without --weights, also when the data itself is the bundled sample.
    let data = tempfile::tempdir().unwrap();
    let models = data.path().join("models");
    std::fs::create_dir(&models).unwrap();
    std::fs::copy(course_weights(), models.join(weights::EFFICIENTNET_FILE)).unwrap();
    let stdout = succeed(
        lab(EXE)
            .args([
                "transfer",
                "--train",
                "head",
                "--quick",
                "--image-size",
                "64",
            ])
            .arg("--data-dir")
            .arg(data.path())
            .arg("--out")
            .arg(out.path()),
    );
    let expected = format!(
        "EfficientNet-Lite0 weights: {}",
        models.join(weights::EFFICIENTNET_FILE).display()
    );
    assert!(stdout.contains(&expected), "{stdout}");
    assert!(
        stdout.contains("12,810 parameters trained, 3,371,008 frozen"),
        "{stdout}"
    );
    assert!(stdout.contains("frozen part computed once"), "{stdout}");
    let run = only_run_folder(out.path(), "vgg16-transfer");
    for file in [
        "config.json",
        "history.json",
        "model.bpk",
        "curves.png",
        "confusion.png",
        "predictions.png",
    ] {
        assert!(run.join(file).is_file(), "{file} missing");
    }
}
