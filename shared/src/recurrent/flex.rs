//! The LSTM on flex, with each step's elementwise work in one loop.
//!
//! The same forward pass and back-propagation through time as the generic code in
//! `mod.rs`, computing the same numbers (the tests compare both with plain autodiff). There
//! a step is about twenty separate tensor operations, each a pass over memory and an
//! allocation; here the gates, the cell update and their derivatives are one loop over
//! flex's f32 buffers. The sequences of a batch never interact, so the batch is split into
//! one block of sequences per thread and each thread runs the whole recurrence of its block,
//! calling gemm itself for each step's small product (`[rows, H]·[H, 4H]`). Before, the
//! batch went through each step together and only that product used the second core (through
//! flex, with an allocation and two copies per step): lab 8's training epoch ran about 1.4x
//! slower. The blocks' shares of `∂L/∂W_h` are added in block order, so a run gives the same
//! numbers every time on the same number of threads.

use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{DType, Flex, TensorMetadata};
use burn::tensor::TensorData;
use rayon::prelude::*;

use crate::matrix::{self, Layout, Matrix};

type FlexTensor = FloatTensor<Flex>;

/// What the backward pass needs, for one block of sequences (rows of the batch), as flat
/// time-major buffers.
#[derive(Debug, Clone)]
struct Block {
    /// The block's first row in the batch, and how many rows it has.
    first: usize,
    rows: usize,
    /// `i, f, c̃, o` (after their activations) of every step: `[T, rows, 4H]`.
    gates: Vec<f32>,
    /// `c_t`: `[T, rows, H]`.
    cells: Vec<f32>,
    /// `tanh(c_t)`: `[T, rows, H]`.
    tanh_cells: Vec<f32>,
    /// `h_t`: `[T, rows, H]`.
    hidden_states: Vec<f32>,
}

/// What the backward pass needs: the blocks the batch was split into.
#[derive(Debug, Clone)]
pub struct FlatLstm {
    steps: usize,
    batch: usize,
    hidden: usize,
    blocks: Vec<Block>,
}

/// The batch's rows split into one block per thread. The sequences of a batch do not
/// interact, so each thread runs the whole recurrence of its rows, with its own small matrix
/// products: a step's product (`[B, H]·[H, 4H]`, about a megaflop) is too small to share out
/// between threads, and the elementwise work of a step would otherwise run on one.
fn blocks(batch: usize) -> Vec<(usize, usize)> {
    let threads = rayon::current_num_threads().clamp(1, batch.max(1));
    let rows = batch.div_ceil(threads);
    (0..batch)
        .step_by(rows.max(1))
        .map(|first| (first, rows.min(batch - first)))
        .collect()
}

/// `dst = a·b` (or `dst += a·b`), all row-major: `a: [m, k]`, `b: [k, n]`, `dst: [m, n]`; on
/// the calling thread. Asked of gemm as `dstᵀ = bᵀ·aᵀ` stored column by column, the layout
/// gemm writes in one go (a row-major `[m, n]` is a column-major `[n, m]`).
fn matmul(dst: &mut [f32], a: &[f32], b: &[f32], [m, k, n]: [usize; 3], accumulate: bool) {
    let (a, b) = (Matrix::new(a, m, k), Matrix::new(b, k, n));
    matrix::matmul(
        dst,
        Layout::ColumnMajor,
        b.transposed(),
        a.transposed(),
        accumulate,
        1,
    );
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
    let x = values(&xw);
    let wh = values(&wh);
    // A layer without units has nothing to compute (and no blocks).
    let rows = if hidden == 0 { 0 } else { batch };
    let blocks: Vec<Block> = blocks(rows)
        .into_par_iter()
        .map(|(first, rows)| block_forward(&x, &wh, [steps, batch, hidden], first, rows))
        .collect();
    let mut output = vec![0.0f32; steps * batch * hidden];
    for block in &blocks {
        let (at, len) = (block.first * hidden, block.rows * hidden);
        for (t, h) in block.hidden_states.chunks_exact(len).enumerate() {
            let row = t * batch * hidden + at;
            output[row..row + len].copy_from_slice(h);
        }
    }
    let output = tensor(output, [steps, batch, hidden]);
    let trace = FlatLstm {
        steps,
        batch,
        hidden,
        blocks,
    };
    (output, trace)
}

/// The forward recurrence of rows `first..first + rows` of the batch.
fn block_forward(
    x: &[f32],
    wh: &[f32],
    [steps, batch, hidden]: [usize; 3],
    first: usize,
    rows: usize,
) -> Block {
    let width = 4 * hidden;
    let (bh, bw) = (rows * hidden, rows * width);
    let mut gates = vec![0.0f32; steps * bw];
    let mut cells = vec![0.0f32; steps * bh];
    let mut tanh_cells = vec![0.0f32; steps * bh];
    let mut hidden_states = vec![0.0f32; steps * bh];
    let zero = vec![0.0f32; bh];
    for t in 0..steps {
        // z = xw_t + h_{t-1}·W_h, straight into this step's gates (h_0 = 0).
        let g_t = &mut gates[t * bw..(t + 1) * bw];
        let x_t = &x[(t * batch + first) * width..(t * batch + first + rows) * width];
        g_t.copy_from_slice(x_t);
        if t > 0 {
            let h_prev = &hidden_states[(t - 1) * bh..t * bh];
            matmul(g_t, h_prev, wh, [rows, hidden, width], true);
        }
        let (done, now) = cells.split_at_mut(t * bh);
        let c_prev = if t == 0 {
            &zero[..]
        } else {
            &done[(t - 1) * bh..]
        };
        let c_now = &mut now[..bh];
        // Simple loops over contiguous rows, so that the compiler vectorises them.
        for b in 0..rows {
            let g_row = &mut g_t[b * width..(b + 1) * width];
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
    }
    Block {
        first,
        rows,
        gates,
        cells,
        tanh_cells,
        hidden_states,
    }
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
        blocks,
    } = trace;
    let width = 4 * hidden;
    let grad = values(&grad_hs);
    let wh_t = values(&Flex::float_transpose(wh)); // [4H, H]
    // Each block's ∂L/∂z (`[T, rows, 4H]`) and its share of ∂L/∂W_h.
    let parts: Vec<(Vec<f32>, Vec<f32>)> = blocks
        .par_iter()
        .map(|block| block_backward(block, &grad, &wh_t, [steps, batch, hidden]))
        .collect();
    let mut dxw = vec![0.0f32; steps * batch * width];
    let mut dwh = vec![0.0f32; hidden * width];
    // In block order, so that a run gives the same numbers every time.
    for (block, (dz, dwh_block)) in blocks.iter().zip(&parts) {
        let (at, len) = (block.first * width, block.rows * width);
        for (t, dz_t) in dz.chunks_exact(len).enumerate() {
            let row = t * batch * width + at;
            dxw[row..row + len].copy_from_slice(dz_t);
        }
        for (d, p) in dwh.iter_mut().zip(dwh_block) {
            *d += *p;
        }
    }
    (
        tensor(dxw, [steps, batch, width]),
        tensor(dwh, [hidden, width]),
    )
}

/// The backward recurrence of one block: its `∂L/∂z` (`[T, rows, 4H]`) and
/// `Σ_t h_{t-1}ᵀ·∂L/∂z_t` over its rows.
fn block_backward(
    block: &Block,
    grad: &[f32],
    wh_t: &[f32],
    [steps, batch, hidden]: [usize; 3],
) -> (Vec<f32>, Vec<f32>) {
    let Block {
        first,
        rows,
        gates,
        cells,
        tanh_cells,
        hidden_states,
    } = block;
    let (first, rows) = (*first, *rows);
    let width = 4 * hidden;
    let (bh, bw) = (rows * hidden, rows * width);
    let mut dz = vec![0.0f32; steps * bw];
    let mut dh_next = vec![0.0f32; bh];
    let mut dc_next = vec![0.0f32; bh];
    for t in (0..steps).rev() {
        let grad_t = &grad[(t * batch + first) * hidden..(t * batch + first + rows) * hidden];
        for b in 0..rows {
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
                let dh = grad_t[k] + dh_next[k];
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
        if t > 0 {
            let dz_t = &dz[t * bw..(t + 1) * bw];
            matmul(&mut dh_next, dz_t, wh_t, [rows, width, hidden], false);
        }
    }
    // ∂L/∂W_h = Σ_t h_{t-1}ᵀ·∂L/∂z_t, one product over steps 1.. (h_0 = 0).
    let mut dwh = vec![0.0f32; hidden * width];
    if steps > 1 {
        // Stored column by column, `[4H, H]` is the row-major `[H, 4H]` wanted: dzᵀ·h_prev,
        // dz read through a transposed view (no copy).
        let steps_rows = (steps - 1) * rows;
        let previous = Matrix::new(&hidden_states[..(steps - 1) * bh], steps_rows, hidden);
        let dz_after = Matrix::new(&dz[bw..], steps_rows, width);
        matrix::matmul(
            &mut dwh,
            Layout::ColumnMajor,
            dz_after.transposed(),
            previous,
            false,
            1,
        );
    }
    (dz, dwh)
}
