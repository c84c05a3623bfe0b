//! MNIST: 70,000 handwritten digits, 28x28 grey levels, in Yann LeCun's IDX format.
//!
//! An IDX file is a tiny header followed by raw bytes:
//!
//! ```text
//! magic: 0x00 0x00 <type: 0x08 = u8> <number of dimensions>
//! one big-endian u32 per dimension   (images: count, rows, cols; labels: count)
//! the data, row-major
//! ```
//!
//! The official files are gzipped; both forms are read. A header is never trusted blindly:
//! a file that claims more images than it holds, a wrong magic number or a label outside
//! 0-9 is an error naming the file, never a panic or a huge allocation.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::DataError;
use crate::datasets::{DataChoice, DataSource, samples_dir};
use crate::download::{Downloader, RemoteFile};
use crate::files::{is_gzip, open_maybe_gzipped};
use crate::images::{ImageSet, Splits};

pub const TRAIN_IMAGES: &str = "train-images-idx3-ubyte.gz";
pub const TRAIN_LABELS: &str = "train-labels-idx1-ubyte.gz";
pub const TEST_IMAGES: &str = "t10k-images-idx3-ubyte.gz";
pub const TEST_LABELS: &str = "t10k-labels-idx1-ubyte.gz";

/// Mean and standard deviation of the training pixels scaled to [0, 1] (the usual constants,
/// as in PyTorch's and burn's MNIST examples).
pub const MEAN: f32 = 0.1307;
pub const STD: f32 = 0.3081;

/// How many training and test digits a `--quick` run keeps.
pub const QUICK: [usize; 2] = [1000, 300];

/// The digits of a run: the training digits less the held-out validation share (drawn with
/// `seed`), and the test digits; only the first few of each in a `--quick` run.
pub fn load_splits(data: &DataChoice, seed: u64) -> Result<Splits, DataError> {
    let mnist = load(&data.source(), &Downloader::default())?;
    let quick = data.is_quick().then_some(QUICK);
    let split = data.validation_split;
    Ok(Splits::new(mnist.train, mnist.test, quick, split, seed))
}

/// No dataset of this course has images larger than this; a header claiming more is lying.
const MAX_IDX_BYTES: u64 = 1 << 31;

/// The four official files, their SHA-256 and where to get them.
///
/// Yann LeCun's original host is often down or refuses downloads, so the well-known mirrors
/// (the ones torchvision and TensorFlow use) come first. All serve the same bytes.
pub fn remote_files() -> Vec<RemoteFile> {
    const MIRRORS: [&str; 3] = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ];
    let file = |name: &str, sha256: &str| {
        let urls: Vec<String> = MIRRORS.iter().map(|m| format!("{m}{name}")).collect();
        let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
        RemoteFile::new(name, &urls, sha256)
    };
    vec![
        file(
            TRAIN_IMAGES,
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        ),
        file(
            TRAIN_LABELS,
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        ),
        file(
            TEST_IMAGES,
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        ),
        file(
            TEST_LABELS,
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        ),
    ]
}

#[derive(Debug, Clone)]
pub struct Mnist {
    pub train: ImageSet,
    pub test: ImageSet,
}

/// Loads MNIST from the bundled sample or, for [`DataSource::Full`], from
/// `<data-dir>/mnist/`, downloading whatever official file is missing there.
pub fn load(source: &DataSource, downloader: &Downloader) -> Result<Mnist, DataError> {
    let dir = match source {
        DataSource::Sample => {
            let dir = samples_dir().join("mnist");
            if !dir.join(TRAIN_IMAGES).exists() {
                return Err(DataError::Missing {
                    what: format!("the bundled MNIST sample is not in {}", dir.display()),
                    help: "Run the lab from a checkout of the course (the sample ships in datasets/mnist), \
                           set BURN_LABS_SAMPLES to the datasets folder, or use --full."
                        .into(),
                });
            }
            dir
        }
        DataSource::Full { data_dir } => {
            let dir = data_dir.join("mnist");
            for file in remote_files() {
                // A file the user gunzipped by hand is fine too: the loader checks its structure.
                if !dir.join(&file.name).exists() && dir.join(ungzipped_name(&file.name)).exists() {
                    continue;
                }
                downloader.ensure(&file, &dir)?;
            }
            dir
        }
    };
    load_dir(&dir)
}

/// Reads the four files from one folder (each gzipped or not).
pub fn load_dir(dir: &Path) -> Result<Mnist, DataError> {
    let find = |name: &str| -> PathBuf {
        let gz = dir.join(name);
        if gz.exists() {
            gz
        } else {
            dir.join(ungzipped_name(name))
        }
    };
    Ok(Mnist {
        train: read_image_set(&find(TRAIN_IMAGES), &find(TRAIN_LABELS))?,
        test: read_image_set(&find(TEST_IMAGES), &find(TEST_LABELS))?,
    })
}

fn ungzipped_name(name: &str) -> &str {
    name.strip_suffix(".gz").unwrap_or(name)
}

/// Reads an images file and its labels file into an [`ImageSet`] of the 10 digit classes.
pub fn read_image_set(images: &Path, labels: &Path) -> Result<ImageSet, DataError> {
    let (count, rows, cols, pixels) = read_images(images)?;
    let label_bytes = read_labels(labels)?;
    if label_bytes.len() != count {
        return Err(DataError::invalid(
            labels,
            format!(
                "holds {} labels but {} holds {count} images",
                label_bytes.len(),
                images.display()
            ),
        ));
    }
    Ok(ImageSet {
        pixels,
        labels: label_bytes,
        channels: 1,
        height: rows,
        width: cols,
        class_names: (0..10).map(|d| d.to_string()).collect(),
    })
}

/// An IDX images file: `(count, rows, cols, pixels)`.
pub fn read_images(path: &Path) -> Result<(usize, usize, usize, Vec<u8>), DataError> {
    let idx = read_idx(path, 0x0803)?;
    let [count, rows, cols] = idx.dims[..] else {
        unreachable!("read_idx checked the number of dimensions")
    };
    Ok((count, rows, cols, idx.data))
}

/// An IDX labels file; every label must be a digit 0-9.
pub fn read_labels(path: &Path) -> Result<Vec<u8>, DataError> {
    let idx = read_idx(path, 0x0801)?;
    if let Some((i, &label)) = idx.data.iter().enumerate().find(|(_, l)| **l > 9) {
        return Err(DataError::invalid(
            path,
            format!("label {i} is {label}, but MNIST labels are the digits 0-9"),
        ));
    }
    Ok(idx.data)
}

struct Idx {
    dims: Vec<usize>,
    data: Vec<u8>,
}

/// Reads an IDX file of unsigned bytes whose magic number must be `expected_magic`
/// (0x0801: a vector such as labels, 0x0803: a stack of images).
fn read_idx(path: &Path, expected_magic: u32) -> Result<Idx, DataError> {
    let mut reader = open_maybe_gzipped(path)?;
    let read_error = |e: std::io::Error| {
        if is_gzip(path) {
            DataError::invalid(
                path,
                format!("the gzip data is corrupt or ends early (an interrupted download?): {e}"),
            )
        } else {
            DataError::io(path, e)
        }
    };

    let mut header = [0u8; 4];
    read_full(&mut reader, &mut header).map_err(read_error)?;
    let magic = u32::from_be_bytes(header);
    if magic != expected_magic {
        let kind = if expected_magic == 0x0803 {
            "images"
        } else {
            "labels"
        };
        return Err(DataError::invalid(
            path,
            format!(
                "not an IDX {kind} file (magic number 0x{magic:08x}, expected 0x{expected_magic:08x})"
            ),
        ));
    }
    let ndims = (magic & 0xff) as usize;
    let mut dims = Vec::with_capacity(ndims);
    for _ in 0..ndims {
        let mut dim = [0u8; 4];
        read_full(&mut reader, &mut dim).map_err(read_error)?;
        dims.push(u32::from_be_bytes(dim) as usize);
    }
    let claimed = dims
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
        .filter(|&n| n <= MAX_IDX_BYTES)
        .ok_or_else(|| {
            DataError::invalid(path, format!("header claims an implausible size {dims:?}"))
        })?;

    // Read at most what the header claims, growing the buffer as bytes arrive: a lying
    // header cannot make us allocate gigabytes up front.
    let mut data = Vec::with_capacity(claimed.min(1 << 24) as usize);
    (&mut reader)
        .take(claimed)
        .read_to_end(&mut data)
        .map_err(read_error)?;
    if (data.len() as u64) < claimed {
        return Err(DataError::invalid(
            path,
            format!(
                "header claims {} items {:?} = {claimed} bytes of data, but the file holds only {} (truncated?)",
                dims[0],
                &dims[1..],
                data.len()
            ),
        ));
    }
    let mut extra = [0u8; 1];
    if reader.read(&mut extra).map_err(read_error)? != 0 {
        return Err(DataError::invalid(
            path,
            format!(
                "there is data after the {} items the header announces",
                dims[0]
            ),
        ));
    }
    Ok(Idx { dims, data })
}

fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<()> {
    reader.read_exact(buf).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            std::io::Error::new(e.kind(), "the file ends inside its header")
        } else {
            e
        }
    })
}
