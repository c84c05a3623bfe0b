//! Vanishing and exploding gradients, measured.
//!
//! Back-propagation through time multiplies the gradient, once per step back, by
//! `diag(1 - h_t²)·W_hᵀ`. After k steps it has been multiplied k times: if those factors
//! shrink it (small recurrent weights, or tanh saturated at ±1), the gradient reaching early
//! steps vanishes and the network cannot learn long-range dependencies; if they stretch it
//! (large weights while tanh is not saturated), it explodes.
//!
//! The experiment: a SimpleRNN reads T random inputs; the loss depends only on the last
//! hidden state. The curve is the size of the gradient reaching each earlier step,
//! `‖∂L/∂z_t‖` (z_t: the pre-activation at step t), for several recurrent weight matrices.

use burn::prelude::*;
use burn::tensor::Distribution;
use shared::recurrent::{last_step_time_major, rnn_scan};

/// One curve: the mean gradient norm at steps `1..=T`.
pub struct GradientFlow {
    pub label: String,
    pub norms: Vec<f64>,
}

/// The recurrent weights compared.
pub fn settings(units: usize) -> Vec<(String, f64)> {
    let xavier = (2.0 / (units + units) as f64).sqrt();
    vec![
        (format!("small W_h (std {:.3})", 0.5 * xavier), 0.5 * xavier),
        (format!("Xavier W_h (std {xavier:.3})"), xavier),
        (format!("large W_h (std {:.3})", 3.0 * xavier), 3.0 * xavier),
    ]
}

/// Gradient norms per step for each of [`settings`]: `steps` time steps, `units` hidden
/// units, a batch of 32 sequences.
pub fn gradient_flow(device: &Device, steps: usize, units: usize, seed: u64) -> Vec<GradientFlow> {
    let train_device = device.clone().autodiff();
    let batch = 32;
    settings(units)
        .into_iter()
        .map(|(label, std)| {
            train_device.seed(seed);
            let wh = Tensor::<2>::random(
                [units, units],
                Distribution::Normal(0.0, std),
                &train_device,
            );
            // Inputs already multiplied by W_x: small, so that tanh starts in its linear part.
            let xw = Tensor::<3>::random(
                [steps, batch, units],
                Distribution::Normal(0.0, 0.1),
                &train_device,
            )
            .require_grad();
            let readout = Tensor::<2>::random(
                [batch, units],
                Distribution::Normal(0.0, 1.0),
                &train_device,
            );
            let loss = (last_step_time_major(rnn_scan(xw.clone(), wh)) * readout).sum();
            let grads = loss.backward();
            let grad = xw.grad(&grads).expect("the inputs require a gradient"); // [T, B, H]
            let norms = grad.powf_scalar(2.0).sum_dim(2).sqrt().mean_dim(1); // [T, 1, 1]
            GradientFlow {
                label,
                norms: shared::floats(norms).into_iter().map(f64::from).collect(),
            }
        })
        .collect()
}
