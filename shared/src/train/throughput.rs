//! Training throughput, for the bench examples that put a lab's network beside Keras
//! (`docs/benchmarks.md`): steady-state steps of batch building, forward pass and loss,
//! backward pass and Adam, each timed.

use std::time::Instant;

use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::Device;

use super::{Batcher, Supervised};

/// A bench example's command line: up to `N` whole numbers > 0, named and defaulted by
/// `spec` (`[("repeats", 5), ("steps", 20)]` reads `[repeats] [steps]`); an error names the
/// bad word and shows the usage.
pub fn counts<const N: usize>(
    args: &[String],
    spec: [(&str, usize); N],
) -> anyhow::Result<[usize; N]> {
    let usage = spec
        .iter()
        .map(|(name, _)| format!("[{name}]"))
        .collect::<Vec<_>>()
        .join(" ");
    anyhow::ensure!(
        args.len() <= N,
        "expected at most {N} {}, {usage}; got {} arguments",
        if N == 1 { "number" } else { "numbers" },
        args.len()
    );
    let mut counts = spec.map(|(_, default)| default);
    for (count, arg) in counts.iter_mut().zip(args) {
        *count =
            arg.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                anyhow::anyhow!("'{arg}' is not a whole number > 0; usage: {usage}")
            })?;
    }
    Ok(counts)
}

/// Samples per second of each timed repeat, and where a step's time went.
#[derive(Debug, Clone)]
pub struct Throughput {
    pub batch: usize,
    pub samples_per_s: Vec<f64>,
    /// Milliseconds per step: building the batch, forward (with the loss read back),
    /// backward, optimiser.
    pub ms_per_step: [f64; 4],
}

impl Throughput {
    /// The median of the repeats.
    pub fn median(&self) -> f64 {
        let mut rates = self.samples_per_s.clone();
        rates.sort_by(f64::total_cmp);
        rates[rates.len() / 2]
    }

    /// The JSON fields the bench scripts log: `"<unit>_per_s_median"`, `"all"` and
    /// `"ms_per_step"` (without the enclosing braces).
    pub fn json_fields(&self, unit: &str) -> String {
        let [building, forward, backward, optimizer] = self.ms_per_step;
        format!(
            "\"batch\": {}, \"{unit}_per_s_median\": {:.0}, \"all\": {:?}, \"ms_per_step\": \
             {{\"batch\": {building:.2}, \"forward\": {forward:.2}, \"backward\": {backward:.2}, \
             \"optimizer\": {optimizer:.2}}}",
            self.batch,
            self.median(),
            self.samples_per_s
                .iter()
                .map(|r| r.round() as i64)
                .collect::<Vec<_>>(),
        )
    }
}

/// Trains `model` with Adam (lr 1e-3) on batches of `batch` items taken in order from
/// `batcher` (wrapping around): `warmup` steps untimed, then `repeats` timed runs of `steps`.
pub fn measure<M: Supervised, B: Batcher<M::Batch>>(
    mut model: M,
    batcher: &B,
    device: &Device,
    batch: usize,
    [warmup, repeats, steps]: [usize; 3],
) -> Throughput {
    let mut optimizer = AdamConfig::new().init();
    let n = batcher.len();
    let mut parts = [0.0f64; 4];
    let mut step = |s: usize, timed: bool| {
        let indices: Vec<usize> = (0..batch).map(|i| (s * batch + i) % n).collect();
        let t0 = Instant::now();
        let b = batcher.batch(&indices, device);
        let t1 = Instant::now();
        let loss = model.forward_step(b).loss;
        let _ = loss.clone().into_scalar::<f32>();
        let t2 = Instant::now();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let t3 = Instant::now();
        model = optimizer.step(1e-3, model.clone(), grads);
        let t4 = Instant::now();
        if timed {
            for (part, (a, b)) in parts
                .iter_mut()
                .zip([(t0, t1), (t1, t2), (t2, t3), (t3, t4)])
            {
                *part += (b - a).as_secs_f64();
            }
        }
    };
    for s in 0..warmup {
        step(s, false);
    }
    let mut samples_per_s = Vec::with_capacity(repeats);
    for r in 0..repeats {
        let start = Instant::now();
        for s in 0..steps {
            step(warmup + r * steps + s, true);
        }
        samples_per_s.push((steps * batch) as f64 / start.elapsed().as_secs_f64());
    }
    let total = (repeats * steps).max(1) as f64;
    Throughput {
        batch,
        samples_per_s,
        ms_per_step: parts.map(|p| 1e3 * p / total),
    }
}
