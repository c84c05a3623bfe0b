//! # `shared`: everything the labs have in common
//!
//! Every lab of the course is a small binary that only holds what its lesson is about: the
//! model, how a batch is built, and what to show at the end. The rest lives here, once:
//!
//! | module | what it gives a lab |
//! |---|---|
//! | [`lab`] | the lab runner: defaults per mode, run configs, start/resume, the summary |
//! | [`train`] | the training loop: tasks and metrics, history, callbacks, checkpoints |
//! | [`data`] | the data layer: loaders of every dataset (also at the top: [`mnist`], [`cifar10`], [`imdb`], [`auto_mpg`], [`alice`], [`imagenet`]), downloads, images and photos, text preprocessing |
//! | [`batchers`] | from items to tensors: the batchers more than one lab uses |
//! | [`chars`] | character models (labs 5 and 6): windows, batches, text generation |
//! | [`recurrent`] | SimpleRNN and LSTM layers whose recurrence has its own backward pass (BPTT) |
//! | [`conv`] | a 2-D convolution with its own forward and backward pass on flex (im2col + gemm) |
//! | [`layers`] | dense layers initialised as Keras does, for comparisons with a Keras reference; a faster dropout |
//! | [`cli`] | the flags every lab takes (`--epochs`, `--device`, `--full`, `--quick`, …) |
//! | [`device`] | turning `--device` into a burn [`Device`](burn::tensor::Device) |
//! | [`plot`] | PNG plots: curves, confusion matrices, image grids, filters |
//! | [`run`] | the run folder (`runs/<lab>/<time>/`) and atomic writes |
//! | [`report`] | tables for the terminal: model summaries, the final summary |
//! | [`rng`] | a tiny seeded random generator for shuffling |

pub mod batchers;
pub mod chars;
pub mod cli;
pub mod conv;
pub mod data;
pub mod device;
pub mod error;
pub mod lab;
pub mod layers;
mod matrix;
pub mod plot;
pub mod recurrent;
pub mod report;
pub mod rng;
pub mod run;
pub mod train;

pub use error::DataError;

// The data layer keeps its own folder; its modules are also here, at the top, so that a lab
// writes `shared::mnist`, not `shared::data::mnist`.
pub use data::{
    alice, archive, auto_mpg, cifar10, datasets, download, files, image_io, imagenet, images, imdb,
    mnist, text,
};

/// Every lab links this crate, so every lab gets this allocator. burn allocates and frees
/// large temporary tensors at each step; with glibc's malloc the same binary was seen to run
/// at very different speeds from one run to the next (memory handed back to the system and
/// mapped again). mimalloc keeps that memory around.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay`, which its Rust bindings do not name: in `mimalloc.h`
/// it is the option just before `mi_option_use_numa_nodes` (a test checks that it reads back).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = libmimalloc_sys::mi_option_use_numa_nodes - 1;

/// Keeps the memory the program frees mapped until it exits, instead of handing it back to
/// the system a second later (mimalloc's default). A training step frees and allocates the
/// same large buffers again and again; handed back, each comes back as fresh pages the kernel
/// must fault in and zero (8,619 page faults in a short lab 2 benchmark, 331 with this call;
/// lab 2's steps were a few per cent faster with it, informal, docs/benchmarks.md). Every lab
/// calls this when it picks its device ([`device::select`]), and so do the benchmark examples.
pub fn keep_freed_memory() {
    // SAFETY: sets one integer option of the allocator (mimalloc stores it atomically); no
    // memory is passed.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1) }
}

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

#[cfg(test)]
mod tests {
    #[test]
    fn keep_freed_memory_sets_mimallocs_purge_delay() {
        // SAFETY: reads one integer option.
        let read = || unsafe { libmimalloc_sys::mi_option_get(super::PURGE_DELAY) };
        // mimalloc's default delay is 1,000 ms (unless MIMALLOC_PURGE_DELAY says otherwise, or
        // another test of this process asked already): a wrong option number reads another
        // option's value.
        let before = read();
        let from_env = std::env::var("MIMALLOC_PURGE_DELAY").ok();
        assert!(
            before == 1000 || before == -1 || from_env.is_some(),
            "option {} reads {before}: not the purge delay",
            super::PURGE_DELAY
        );
        super::keep_freed_memory();
        assert_eq!(read(), -1);
    }
}
