//! # `shared`: everything the labs have in common
//!
//! Every lab of the course is a small binary that only holds what its lesson is about: the
//! model, how a batch is built, and what to show at the end. The rest lives here, once:
//!
//! | module | what it gives a lab |
//! |---|---|
//! | [`cli`] | the flags every lab takes (`--epochs`, `--device`, `--full`, `--quick`, …) |
//! | [`device`] | turning `--device` into a burn [`Device`](burn::tensor::Device) |
//! | [`datasets`] | where bundled samples and full datasets live |
//! | [`download`] | checksum-verified, resumable downloads of the official files |
//! | [`mnist`] | the MNIST loader (official IDX files) |
//! | [`auto_mpg`], [`alice`], [`imdb`], [`imagenet`] | Auto MPG, the Alice text, IMDB reviews, ImageNet labels |
//! | [`images`] | an in-memory image set used by the vision labs |
//! | [`image_io`] | photos (JPEG, PNG) to a pretrained network's input, as Keras or torchvision prepare them |
//! | [`cifar10`] | the CIFAR-10 loader (official binary batches), normalisation, augmentation |
//! | [`archive`], [`files`] | safe `.tar.gz` extraction; gzip or plain files alike |
//! | [`batchers`] | from items to tensors: the batchers more than one lab uses |
//! | [`chars`] | character models (labs 5 and 6): windows, batches, text generation |
//! | [`train`] | the training loop: tasks and metrics, history, callbacks, checkpoints |
//! | [`lab`] | the lab runner: defaults per mode, run configs, start/resume, the summary |
//! | [`plot`] | PNG plots: curves, confusion matrices, image grids, filters |
//! | [`recurrent`] | SimpleRNN and LSTM layers whose recurrence has its own backward pass (BPTT) |
//! | [`run`] | the run folder (`runs/<lab>/<time>/`) and the summary at the end |
//! | [`report`] | tables for the terminal: model summaries, the final summary |
//! | [`rng`] | a tiny seeded random generator for shuffling |
//! | [`text`] | Keras's text preprocessing: words, vocabulary by frequency, padding, multi-hot |

pub mod alice;
pub mod archive;
pub mod auto_mpg;
pub mod batchers;
pub mod chars;
pub mod cifar10;
pub mod cli;
pub mod datasets;
pub mod device;
pub mod download;
pub mod error;
pub mod files;
pub mod image_io;
pub mod imagenet;
pub mod images;
pub mod imdb;
pub mod lab;
pub mod mnist;
pub mod plot;
pub mod recurrent;
pub mod report;
pub mod rng;
pub mod run;
pub mod text;
pub mod train;

pub use error::DataError;

/// Every lab links this crate, so every lab gets this allocator. burn allocates and frees
/// large temporary tensors at each step; with glibc's malloc the same binary was seen to run
/// at very different speeds from one run to the next (memory handed back to the system and
/// mapped again). mimalloc keeps that memory around.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A tensor's values as `f32`s, row-major: for plots, reports and tests.
pub fn floats<const D: usize>(tensor: burn::tensor::Tensor<D>) -> Vec<f32> {
    tensor
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap_or_default()
}

/// An integer tensor's values as `i64`s: class indices for reports and tests.
pub fn ints<const D: usize>(tensor: burn::tensor::Tensor<D, burn::tensor::Int>) -> Vec<i64> {
    tensor
        .into_data()
        .convert::<i64>()
        .try_to_vec::<i64>()
        .unwrap_or_default()
}
