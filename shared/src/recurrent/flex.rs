//! The LSTM on flex, with each step's elementwise work in one loop.
//!
//! The same forward pass and back-propagation through time as the generic code in
//! `mod.rs`, computing the same numbers (the tests compare both with plain autodiff). There
//! a step is about twenty separate tensor operations, each a pass over memory and an
//! allocation; here the gates, the cell update and their derivatives are one loop over
//! flex's f32 buffers. The matrix products stay flex's (gemm).

use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{DType, Flex, Shape, TensorMetadata};
use burn::tensor::TensorData;

type FlexTensor = FloatTensor<Flex>;

/// What the backward pass needs, time-major, as flat buffers.
#[derive(Debug, Clone)]
pub struct FlatLstm {
    steps: usize,
    batch: usize,
    hidden: usize,
    /// `i, f, c̃, o` (after their activations) of every step: `[T, B, 4H]`.
    gates: Vec<f32>,
    /// `c_t`: `[T, B, H]`.
    cells: Vec<f32>,
    /// `tanh(c_t)`: `[T, B, H]`.
    tanh_cells: Vec<f32>,
    /// `h_t`: `[T, B, H]`.
    hidden_states: Vec<f32>,
}

/// `e^x` in f32 without a call to libm, so that loops over it vectorise: Cephes's `expf`
/// (`e^x = 2^n·e^r` with `|r| ≤ ln2/2` and a degree-7 polynomial for `e^r`), relative error
/// about 1e-7. Inputs are clamped to [-87, 88], where f32's `e^x` is finite and normal.
#[inline(always)]
fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    // n = round(x / ln2), with the 1.5·2^23 trick: adding and subtracting it rounds to an integer.
    let n = (x * std::f32::consts::LOG2_E + 12_582_912.0) - 12_582_912.0;
    let r = x - n * 0.693_359_4 + n * 2.121_944_4e-4;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 0.5;
    let e_r = p * r * r + r + 1.0;
    e_r * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// `tanh(x) = 2·σ(2x) − 1` (one exponential; see `tanh` in `mod.rs`).
#[inline(always)]
fn tanh(x: f32) -> f32 {
    2.0 * sigmoid(2.0 * x) - 1.0
}

fn tensor<const D: usize>(values: Vec<f32>, shape: [usize; D]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// A flex tensor's values, row-major.
fn values(tensor: &FlexTensor) -> Vec<f32> {
    let tensor = tensor.to_contiguous();
    tensor
        .as_slice::<f32>()
        .expect("a contiguous f32 tensor")
        .to_vec()
}

/// Whether the fast path applies: f32 tensors (flex also runs f16/bf16 and f64).
pub(super) fn applies(xw: &FlexTensor, wh: &FlexTensor) -> bool {
    xw.dtype() == DType::F32 && wh.dtype() == DType::F32
}

/// `xw: [T, B, 4H]`, `wh: [H, 4H]` → every `h_t` (`[T, B, H]`) and the trace.
pub(super) fn lstm_forward(xw: FlexTensor, wh: FlexTensor) -> (FlexTensor, FlatLstm) {
    let [steps, batch, width] = xw.shape().dims::<3>();
    let hidden = width / 4;
    let (bh, bw) = (batch * hidden, batch * width);
    let x = values(&xw);
    let mut gates = vec![0.0f32; steps * bw];
    let mut cells = vec![0.0f32; steps * bh];
    let mut tanh_cells = vec![0.0f32; steps * bh];
    let mut hidden_states = vec![0.0f32; steps * bh];
    let mut h = tensor(vec![0.0f32; bh], [batch, hidden]);
    let zero = vec![0.0f32; bh];
    for t in 0..steps {
        let m = values(&Flex::float_matmul(h, wh.clone())); // h_{t-1}·W_h: [B, 4H]
        let (done, now) = cells.split_at_mut(t * bh);
        let c_prev = if t == 0 {
            &zero[..]
        } else {
            &done[(t - 1) * bh..]
        };
        let c_now = &mut now[..bh];
        // Simple loops over contiguous rows, so that the compiler vectorises them.
        for b in 0..batch {
            let row = t * bw + b * width;
            let g_row = &mut gates[row..row + width];
            for ((g, x), m) in g_row
                .iter_mut()
                .zip(&x[row..row + width])
                .zip(&m[b * width..])
            {
                *g = x + m; // z = xw_t + h_{t-1}·W_h
            }
            let (sig, rest) = g_row.split_at_mut(2 * hidden);
            let (candidate, output) = rest.split_at_mut(hidden);
            sig.iter_mut()
                .chain(output.iter_mut())
                .for_each(|v| *v = sigmoid(*v));
            candidate.iter_mut().for_each(|v| *v = tanh(*v));
            let (input, forget) = sig.split_at(hidden);
            let at = b * hidden;
            let cells_b = &mut c_now[at..at + hidden];
            for j in 0..hidden {
                cells_b[j] = forget[j] * c_prev[at + j] + input[j] * candidate[j];
            }
            let tanh_b = &mut tanh_cells[t * bh + at..t * bh + at + hidden];
            for (tc, c) in tanh_b.iter_mut().zip(cells_b.iter()) {
                *tc = tanh(*c);
            }
            let h_b = &mut hidden_states[t * bh + at..t * bh + at + hidden];
            for ((h, o), tc) in h_b.iter_mut().zip(output.iter()).zip(tanh_b.iter()) {
                *h = o * tc;
            }
        }
        h = tensor(
            hidden_states[t * bh..(t + 1) * bh].to_vec(),
            [batch, hidden],
        );
    }
    let output = tensor(hidden_states.clone(), [steps, batch, hidden]);
    let trace = FlatLstm {
        steps,
        batch,
        hidden,
        gates,
        cells,
        tanh_cells,
        hidden_states,
    };
    (output, trace)
}

/// BPTT: from `∂L/∂h_t` (all t, `[T, B, H]`) to `∂L/∂xw` (`[T, B, 4H]`) and `∂L/∂W_h`.
pub(super) fn lstm_backward(
    trace: FlatLstm,
    wh: FlexTensor,
    grad_hs: FlexTensor,
) -> (FlexTensor, FlexTensor) {
    let FlatLstm {
        steps,
        batch,
        hidden,
        gates,
        cells,
        tanh_cells,
        hidden_states,
    } = trace;
    let width = 4 * hidden;
    let (bh, bw) = (batch * hidden, batch * width);
    let grad = values(&grad_hs);
    let wh_t = Flex::float_transpose(wh);
    let mut dz = vec![0.0f32; steps * bw];
    let mut dh_next = vec![0.0f32; bh];
    let mut dc_next = vec![0.0f32; bh];
    for t in (0..steps).rev() {
        for b in 0..batch {
            for j in 0..hidden {
                let k = b * hidden + j;
                let at = t * bw + b * width + j;
                let (i, f, g, o) = (
                    gates[at],
                    gates[at + hidden],
                    gates[at + 2 * hidden],
                    gates[at + 3 * hidden],
                );
                let tc = tanh_cells[t * bh + k];
                let c_prev = if t == 0 { 0.0 } else { cells[(t - 1) * bh + k] };
                // h_t = o·tanh(c_t)
                let dh = grad[t * bh + k] + dh_next[k];
                let d_output = dh * tc;
                let dc = dh * o * (1.0 - tc * tc) + dc_next[k];
                // c_t = f·c_{t-1} + i·c̃, then through each activation to its pre-activation.
                dz[at] = dc * g * i * (1.0 - i);
                dz[at + hidden] = dc * c_prev * f * (1.0 - f);
                dz[at + 2 * hidden] = dc * i * (1.0 - g * g);
                dz[at + 3 * hidden] = d_output * o * (1.0 - o);
                dc_next[k] = dc * f;
            }
        }
        // The gradient flows on to h_{t-1} through W_h.
        let dz_t = tensor(dz[t * bw..(t + 1) * bw].to_vec(), [batch, width]);
        dh_next = values(&Flex::float_matmul(dz_t, wh_t.clone()));
    }
    // ∂L/∂W_h = Σ_t h_{t-1}ᵀ·∂L/∂z_t, one product over all steps (h_0 = 0).
    let mut previous = vec![0.0f32; steps * bh];
    previous[bh..].copy_from_slice(&hidden_states[..(steps - 1) * bh]);
    let previous = tensor(previous, [steps * batch, hidden]);
    let dz_all = tensor(dz, [steps * batch, width]);
    let dwh = Flex::float_matmul(Flex::float_transpose(previous), dz_all.clone());
    let dxw = Flex::float_reshape(dz_all, Shape::new([steps, batch, width]));
    (dxw, dwh)
}
