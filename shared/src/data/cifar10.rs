//! CIFAR-10 (Krizhevsky 2009): 60,000 colour images of 32x32 pixels in 10 classes.
//!
//! The official *binary version* (`cifar-10-binary.tar.gz` → `cifar-10-batches-bin/`) stores
//! each image as one record of 3,073 bytes:
//!
//! ```text
//! 1 byte   label 0-9
//! 1024     red plane, 32 rows of 32
//! 1024     green plane
//! 1024     blue plane
//! ```
//!
//! `data_batch_1.bin` … `data_batch_5.bin` hold 10,000 training images each and
//! `test_batch.bin` the 10,000 test images. Gzipped batches (`*.bin.gz`) are read too, and so
//! is `test_batch_first1000.bin.gz`, the first 1,000 test images, which is all the course's
//! own material holds of the test set: a figure measured on it says so.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::DataError;
use crate::archive::extract_tar_gz;
use crate::datasets::{DataSource, samples_dir};
use crate::download::{Downloader, RemoteFile};
use crate::files::open_maybe_gzipped;
use crate::images::ImageSet;
use crate::rng::Rng;

pub const CLASS_NAMES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];
pub const FOLDER: &str = "cifar-10-batches-bin";
const RECORD: usize = 1 + 3 * 32 * 32;

/// The official archive; its MD5 is the one the CIFAR page publishes.
pub fn remote_archive() -> RemoteFile {
    RemoteFile::new_md5(
        "cifar-10-binary.tar.gz",
        &["https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"],
        "c32a1d4ab5d03f1284b67883e8d87530",
    )
}

#[derive(Debug, Clone)]
pub struct Cifar10 {
    pub train: ImageSet,
    pub test: ImageSet,
    /// Set when the test set is not the official 10,000 images (a sample, or the first 1,000).
    pub test_note: Option<String>,
}

/// The bundled sample, or for `Full` the batches in `<data-dir>/cifar-10/` itself or in
/// `<data-dir>/cifar-10/cifar-10-batches-bin/` (where the official archive is downloaded and
/// extracted if neither holds them).
pub fn load(source: &DataSource, downloader: &Downloader) -> Result<Cifar10, DataError> {
    match source {
        DataSource::Sample => {
            let mut data = load_dir(&samples_dir().join("cifar-10").join(FOLDER))?;
            data.test_note = Some(format!(
                "bundled sample: {} of the 10,000 test images",
                data.test.len()
            ));
            Ok(data)
        }
        DataSource::Full { data_dir } => {
            let dir = data_dir.join("cifar-10");
            // The batch files may also sit directly in `cifar-10/` (copied by hand).
            if ["data_batch_1.bin", "data_batch_1.bin.gz"]
                .iter()
                .any(|name| dir.join(name).exists())
            {
                return load_dir(&dir);
            }
            let batches = dir.join(FOLDER);
            if !batches.is_dir() {
                let archive = downloader.ensure(&remote_archive(), &dir)?;
                extract_tar_gz(&archive, &batches)?;
            }
            load_dir(&batches)
        }
    }
}

/// Reads a `cifar-10-batches-bin` folder: every `data_batch_N.bin[.gz]` as training set and
/// `test_batch.bin[.gz]` (or else `test_batch_first1000.bin.gz`) as test set.
pub fn load_dir(dir: &Path) -> Result<Cifar10, DataError> {
    let find = |name: &str| -> Option<PathBuf> {
        [name.to_string(), format!("{name}.gz")]
            .iter()
            .map(|n| dir.join(n))
            .find(|p| p.exists())
    };
    let mut train: Option<ImageSet> = None;
    for n in 1..=5 {
        let Some(path) = find(&format!("data_batch_{n}.bin")) else {
            continue;
        };
        let batch = read_batch(&path)?;
        train = Some(match train {
            None => batch,
            Some(mut set) => {
                set.pixels.extend(batch.pixels);
                set.labels.extend(batch.labels);
                set
            }
        });
    }
    let train = train.ok_or_else(|| DataError::Missing {
        what: format!("no data_batch_N.bin in {}", dir.display()),
        help: "Put the official CIFAR-10 binary batches there (from cifar-10-binary.tar.gz), or use --full to download them.".into(),
    })?;
    let (test_path, test_note) = match find("test_batch.bin") {
        Some(p) => (p, None),
        None => match find("test_batch_first1000.bin") {
            Some(p) => (
                p,
                Some("the first 1,000 of the 10,000 official test images".to_string()),
            ),
            None => {
                return Err(DataError::Missing {
                    what: format!("no test_batch.bin in {}", dir.display()),
                    help: "Put the official test_batch.bin there, or use --full to download the dataset.".into(),
                });
            }
        },
    };
    Ok(Cifar10 {
        train,
        test: read_batch(&test_path)?,
        test_note,
    })
}

/// One batch file (gzipped or not) of 3,073-byte records.
pub fn read_batch(path: &Path) -> Result<ImageSet, DataError> {
    let mut bytes = Vec::new();
    open_maybe_gzipped(path)?
        .read_to_end(&mut bytes)
        .map_err(|e| {
            DataError::invalid(
                path,
                format!("cannot read the data (a gzip that ends early?): {e}"),
            )
        })?;
    parse_records(&bytes).map_err(|what| DataError::invalid(path, what))
}

/// Records → images; an error says which record (and byte offset) is bad.
pub fn parse_records(bytes: &[u8]) -> Result<ImageSet, String> {
    if bytes.is_empty() {
        return Err("the file is empty".into());
    }
    if !bytes.len().is_multiple_of(RECORD) {
        let complete = bytes.len() / RECORD;
        return Err(format!(
            "record {complete} at offset {} is truncated: {} of its {RECORD} bytes are there",
            complete * RECORD,
            bytes.len() % RECORD
        ));
    }
    let count = bytes.len() / RECORD;
    let mut labels = Vec::with_capacity(count);
    let mut pixels = Vec::with_capacity(count * (RECORD - 1));
    for (i, record) in bytes.chunks_exact(RECORD).enumerate() {
        if record[0] >= 10 {
            return Err(format!(
                "record {i} at offset {}: label byte {} is not a class 0-9",
                i * RECORD,
                record[0]
            ));
        }
        labels.push(record[0]);
        pixels.extend_from_slice(&record[1..]);
    }
    Ok(ImageSet {
        pixels,
        labels,
        channels: 3,
        height: 32,
        width: 32,
        class_names: CLASS_NAMES.iter().map(|c| c.to_string()).collect(),
    })
}

/// Per-channel mean and standard deviation of the pixels scaled to [0, 1]: compute them on
/// the training set and use them for every split.
pub fn channel_stats(set: &ImageSet) -> ([f32; 3], [f32; 3]) {
    let plane = set.height * set.width;
    let mut sum = [0f64; 3];
    let mut sum_sq = [0f64; 3];
    for image in set.pixels.chunks_exact(3 * plane) {
        for c in 0..3 {
            for &p in &image[c * plane..(c + 1) * plane] {
                let v = p as f64 / 255.0;
                sum[c] += v;
                sum_sq[c] += v * v;
            }
        }
    }
    let n = (set.len() * plane).max(1) as f64;
    let mean = sum.map(|s| s / n);
    let std: [f64; 3] =
        std::array::from_fn(|c| (sum_sq[c] / n - mean[c] * mean[c]).max(0.0).sqrt());
    (mean.map(|m| m as f32), std.map(|s| s as f32))
}

/// An image's bytes as normalised floats, `(x / 255 - mean[c]) / std[c]` per channel, in the
/// same channel-major order (what a batcher feeds the network).
pub fn normalise(image: &[u8], mean: [f32; 3], std: [f32; 3]) -> Vec<f32> {
    let plane = image.len() / 3;
    image
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            let c = (i / plane.max(1)).min(2);
            (p as f32 / 255.0 - mean[c]) / std[c]
        })
        .collect()
}

/// The standard augmentation for CIFAR training: a random horizontal flip, and a random
/// 32x32 crop of the image padded by `pad` zero pixels on each side (a shift of up to
/// `pad` pixels). `image` is channel-major; returns a new image of the same size.
pub fn augment(
    image: &[u8],
    channels: usize,
    height: usize,
    width: usize,
    pad: usize,
    rng: &mut Rng,
) -> Vec<u8> {
    let flip = rng.below(2) == 1;
    let dy = rng.below(2 * pad + 1) as isize - pad as isize;
    let dx = rng.below(2 * pad + 1) as isize - pad as isize;
    let mut out = vec![0u8; image.len()];
    for c in 0..channels {
        for y in 0..height {
            let sy = y as isize + dy;
            if sy < 0 || sy >= height as isize {
                continue;
            }
            for x in 0..width {
                let sx = x as isize + dx;
                if sx < 0 || sx >= width as isize {
                    continue;
                }
                let sx = if flip { width as isize - 1 - sx } else { sx } as usize;
                out[c * height * width + y * width + x] =
                    image[c * height * width + sy as usize * width + sx];
            }
        }
    }
    out
}
