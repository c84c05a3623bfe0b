//! What every lab's test file shares: starting the lab's program, finding its run folder,
//! comparing weights, a few training steps. (Each test file uses only some of it.)
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use shared::train::{Batcher, Supervised};

/// The lab program at `exe`, blind to the user's own data folder.
pub fn lab(exe: &str) -> Command {
    let mut command = Command::new(exe);
    command.env_remove("BURN_LABS_DATA");
    command
}

/// The one run folder that `<out>/<lab>/` holds after a test's run.
pub fn only_run_folder(out: &Path, lab: &str) -> PathBuf {
    let runs: Vec<PathBuf> = std::fs::read_dir(out.join(lab))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs[0].clone()
}

/// Runs a lab to the end and returns what it printed; a failure shows its stdout and stderr.
pub fn succeed(command: &mut Command) -> String {
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The tensor data of a burnpack file: what follows the header (`NRUB`, version, metadata
/// size) and the metadata, from the next 256-byte boundary on. The metadata also holds
/// parameter ids, which a model loaded from a file gets anew; the data are the weights.
fn burnpack_tensors(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(
        &bytes[..4],
        b"NRUB",
        "{} is no burnpack file",
        path.display()
    );
    let metadata = u32::from_le_bytes(bytes[6..10].try_into().unwrap()) as usize;
    let start = (10 + metadata).div_ceil(256) * 256;
    bytes[start..].to_vec()
}

/// The burnpack files `a` and `b` hold the same weights, bit for bit.
pub fn assert_same_weights(a: &Path, b: &Path) {
    let (x, y) = (burnpack_tensors(a), burnpack_tensors(b));
    assert!(
        x.len() > 1000 && x == y,
        "{} and {} hold different weights",
        a.display(),
        b.display()
    );
}

/// Resuming `run` (of the lab at `exe`) takes up the weights of its checkpoint: resumed with
/// no epoch left to train, it saves exactly the checkpoint's model as its `model.bpk`.
pub fn assert_resume_keeps_the_weights(exe: &str, run: &Path, epochs_done: usize) {
    let saved = run.join("checkpoint/model.bpk");
    let before = std::fs::read(&saved).unwrap();
    let stdout = succeed(
        lab(exe)
            .arg("--resume")
            .arg(run)
            .args(["--epochs", &epochs_done.to_string()]),
    );
    assert!(stdout.contains("resuming after epoch"), "{stdout}");
    assert_eq!(
        std::fs::read(&saved).unwrap(),
        before,
        "the checkpoint changed"
    );
    assert_same_weights(&saved, &run.join("model.bpk"));
}

/// The mean loss of `model` on the items `indices` of `data` (evaluation mode, no
/// gradients) before and after `passes` passes over them in batches of `batch`, with
/// `optimizer` at learning rate `lr` on the autodiff `device` the model lives on.
pub fn loss_before_and_after<M: Supervised, D: Batcher<M::Batch>>(
    mut model: M,
    data: &D,
    indices: &[usize],
    (passes, batch, lr): (usize, usize, f64),
    mut optimizer: ModuleOptimizer,
    device: &Device,
) -> (f32, f32) {
    let loss_of = |model: &M| {
        let batch = data.batch(indices, &device.clone().without_autodiff());
        model.valid().forward_step(batch).loss.into_scalar::<f32>()
    };
    let before = loss_of(&model);
    for _ in 0..passes {
        for chunk in indices.chunks(batch) {
            let output = model.forward_step(data.batch(chunk, device));
            let grads = GradientsParams::from_grads(output.loss.backward(), &model);
            model = optimizer.step(lr, model, grads);
        }
    }
    (before, loss_of(&model))
}
