//! Recurrent layers (SimpleRNN and LSTM) with their own backward pass.
//!
//! A recurrent layer computes the same step T times. Written with ordinary tensor operations
//! (as `burn::nn::Rnn` and `burn::nn::Lstm` are), each time step is a slice of the input and
//! a handful of small operations, and every one of them becomes a node of the autodiff graph.
//! In burn-autodiff the backward pass of a slice allocates a zero tensor the size of the
//! *whole* input, so a sequence of T steps moves O(T²) memory: on an IMDB-sized LSTM that is
//! most of the training time.
//!
//! Here the whole recurrence is **one** operation of the graph, with its backward pass written
//! out by hand: back-propagation through time (BPTT), as on the slides. The layer is split in
//! two parts:
//!
//! 1. the input projection of all time steps at once, `xw = x·W_x + b` (one ordinary,
//!    differentiable matrix product over `[batch·T, features]`);
//! 2. the recurrence over `xw` with the recurrent weights `W_h`: [`rnn_scan`] and
//!    [`lstm_scan`]. Their backward pass returns the gradients of `xw` (from which autodiff
//!    continues to `W_x`, `b` and whatever produced `x`) and of `W_h`.
//!
//! The scans work **time-major** (`[T, batch, …]`): the rows of one time step are then one
//! contiguous block, taken without a copy. The layers accept the usual batch-major
//! `[batch, T, features]` and also offer `forward_time_major`; a model that starts from
//! token ids can transpose the (tiny) id matrix instead of the embedded sequence.
//!
//! The operation is a burn *backend extension*: [`RecurrentOps`] is implemented for every
//! backend this course compiles (flex, ndarray, the CubeCL GPU backends) with the same code
//! written over burn's primitive operations, and for the autodiff decorator with the
//! hand-written backward pass. Tests check both values and gradients against plain autodiff.
//!
//! Gate order of the LSTM's `4H` columns is Keras's: input `i`, forget `f`, candidate `c̃`
//! (`g`), output `o`.

// burn's NdArray backend is deprecated upstream; the course still compiles it in (feature
// `ndarray`) to compare against, so the extension must cover it.
#![cfg_attr(feature = "ndarray", allow(deprecated))]

use burn::backend::autodiff::checkpoint::{base::Checkpointer, strategy::CheckpointStrategy};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Shape, Slice, TensorMetadata, backend_extension};
use burn::module::{Module, Param};
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::{Device, Tensor};

mod flex;

/// The recurrences as backend operations. The default bodies are the forward passes written
/// over burn's primitive operations, so every backend gets them; the autodiff decorator adds
/// the backward pass.
#[backend_extension(
    Flex,
    Autodiff,
    NdArray: cfg(feature = "ndarray"),
    Cube: cfg(any(feature = "wgpu", feature = "cuda"))
)]
pub trait RecurrentOps: Backend {
    /// `h_t = tanh(xw_t + h_{t-1}·W_h)` from `h_0 = 0`. `xw: [T, B, H]`, `wh: [H, H]`;
    /// returns every `h_t`: `[T, B, H]`.
    fn rnn_scan(xw: FloatTensor<Self>, wh: FloatTensor<Self>) -> FloatTensor<Self> {
        rnn_forward::<Self>(xw, wh, false).0
    }

    /// The LSTM recurrence from `h_0 = c_0 = 0`. `xw: [T, B, 4H]` (gates i, f, g, o),
    /// `wh: [H, 4H]`; returns every `h_t`: `[T, B, H]`.
    fn lstm_scan(xw: FloatTensor<Self>, wh: FloatTensor<Self>) -> FloatTensor<Self> {
        lstm_forward::<Self>(xw, wh, false).0
    }
}

impl RecurrentOps for burn::backend::Flex {
    fn lstm_scan(xw: FloatTensor<Self>, wh: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::lstm_forward_traced(xw, wh).0
    }
}

#[cfg(feature = "ndarray")]
impl RecurrentOps for burn::backend::NdArray {}

#[cfg(any(feature = "wgpu", feature = "cuda"))]
impl RecurrentOps for burn::backend::Cube {}

/// The LSTM's forward pass keeping what back-propagation through time needs, and BPTT
/// itself. Every backend gets the versions written with burn's primitive operations; flex
/// overrides them with one loop per step over its memory (`flex.rs`, measured faster).
pub trait LstmKernels: Backend {
    fn lstm_forward_traced(
        xw: FloatTensor<Self>,
        wh: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, LstmTrace<Self>) {
        let (hs, steps) = lstm_forward::<Self>(xw, wh, true);
        (hs, LstmTrace::Steps(steps))
    }

    fn lstm_backward_traced(
        trace: LstmTrace<Self>,
        wh: FloatTensor<Self>,
        grad_hs: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        match trace {
            LstmTrace::Steps(steps) => lstm_backward::<Self>(steps, wh, grad_hs),
            // Only flex's forward pass makes flat traces, and flex overrides this method.
            LstmTrace::Flat(_) => unreachable!("a flat LSTM trace outside the flex backend"),
        }
    }
}

impl LstmKernels for burn::backend::Flex {
    fn lstm_forward_traced(
        xw: FloatTensor<Self>,
        wh: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, LstmTrace<Self>) {
        if flex::applies(&xw, &wh) {
            let (hs, trace) = flex::lstm_forward(xw, wh);
            (hs, LstmTrace::Flat(trace))
        } else {
            let (hs, steps) = lstm_forward::<Self>(xw, wh, true);
            (hs, LstmTrace::Steps(steps))
        }
    }

    fn lstm_backward_traced(
        trace: LstmTrace<Self>,
        wh: FloatTensor<Self>,
        grad_hs: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        match trace {
            LstmTrace::Steps(steps) => lstm_backward::<Self>(steps, wh, grad_hs),
            LstmTrace::Flat(trace) => flex::lstm_backward(trace, wh, grad_hs),
        }
    }
}

#[cfg(feature = "ndarray")]
impl LstmKernels for burn::backend::NdArray {}

#[cfg(any(feature = "wgpu", feature = "cuda"))]
impl LstmKernels for burn::backend::Cube {}

/// What the LSTM's forward pass keeps for its backward pass.
#[derive(Debug, Clone)]
pub enum LstmTrace<B: Backend> {
    /// Per-step tensors (any backend).
    Steps(Vec<LstmStep<B>>),
    /// Flat f32 buffers (flex).
    Flat(flex::FlatLstm),
}

/// `h_t = tanh(xw_t + h_{t-1}·W_h)` for all t: the SimpleRNN recurrence, differentiable.
/// Time-major: `xw: [T, batch, H]`, `wh: [H, H]` → `[T, batch, H]`.
pub fn rnn_scan(xw: Tensor<3>, wh: Tensor<2>) -> Tensor<3> {
    check_shapes(&xw, &wh, 1, "rnn_scan");
    Tensor::from_dispatch(Dispatch::rnn_scan(xw.into_dispatch(), wh.into_dispatch()))
}

/// The LSTM recurrence for all t, differentiable. Time-major: `xw: [T, batch, 4H]` (gates
/// i, f, g, o), `wh: [H, 4H]` → `[T, batch, H]`.
pub fn lstm_scan(xw: Tensor<3>, wh: Tensor<2>) -> Tensor<3> {
    check_shapes(&xw, &wh, 4, "lstm_scan");
    Tensor::from_dispatch(Dispatch::lstm_scan(xw.into_dispatch(), wh.into_dispatch()))
}

fn check_shapes(xw: &Tensor<3>, wh: &Tensor<2>, gates: usize, op: &str) {
    let [steps, _, width] = xw.dims();
    assert!(steps > 0, "{op}: a sequence needs at least one time step");
    let [hidden, wh_width] = wh.dims();
    assert!(
        width == gates * hidden && wh_width == gates * hidden,
        "{op}: xw is [_, _, {width}] and wh is [{hidden}, {wh_width}]; both should end in {gates}·{hidden}"
    );
}

// ---------------------------------------------------------------------------------------
// The layers.

/// Keras's `SimpleRNN(units)`: `h_t = tanh(x_t·W_x + h_{t-1}·W_h + b)`.
#[derive(Module, Debug)]
pub struct SimpleRnn {
    /// `W_x` (`[features, units]`) and `b`.
    pub input: Linear,
    /// `W_h`: `[units, units]`.
    pub recurrent: Param<Tensor<2>>,
}

/// Keras's `LSTM(units)`, gates in Keras's order (i, f, c̃, o) along the `4·units` columns.
#[derive(Module, Debug)]
pub struct Lstm {
    /// `W_x` (`[features, 4·units]`) and `b`.
    pub input: Linear,
    /// `W_h`: `[units, 4·units]`.
    pub recurrent: Param<Tensor<2>>,
}

impl SimpleRnn {
    /// Keras's initialisation for the weights: Glorot-uniform `W_x`, orthogonal `W_h`. The
    /// bias starts Glorot-uniform too (burn's `Linear` default), where Keras starts it at
    /// zero: a known difference, kept so that the measured runs of labs 5-6 in docs/ stay
    /// reproducible; a test pins it down.
    pub fn new(features: usize, units: usize, device: &Device) -> Self {
        SimpleRnn {
            input: LinearConfig::new(features, units)
                .with_initializer(Initializer::XavierUniform { gain: 1.0 })
                .init(device),
            recurrent: Initializer::Orthogonal { gain: 1.0 }.init([units, units], device),
        }
    }

    pub fn units(&self) -> usize {
        self.recurrent.dims()[0]
    }

    /// `x: [batch, T, features]` → every hidden state `[batch, T, units]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        self.forward_time_major(x.swap_dims(0, 1)).swap_dims(0, 1)
    }

    /// `x: [T, batch, features]` → every hidden state `[T, batch, units]`.
    pub fn forward_time_major(&self, x: Tensor<3>) -> Tensor<3> {
        rnn_scan(project(&self.input, x), self.recurrent.val())
    }
}

impl Lstm {
    /// Keras's initialisation: Glorot-uniform `W_x`, orthogonal `W_h`, zero bias except the
    /// forget gate's, which starts at 1 (Keras's `unit_forget_bias`).
    pub fn new(features: usize, units: usize, device: &Device) -> Self {
        let mut input = LinearConfig::new(features, 4 * units)
            .with_initializer(Initializer::XavierUniform { gain: 1.0 })
            .init(device);
        let bias = Tensor::<1>::zeros([4 * units], device).slice_fill(units..2 * units, 1.0);
        input.bias = Some(Param::from_tensor(bias));
        Lstm {
            input,
            recurrent: Initializer::Orthogonal { gain: 1.0 }.init([units, 4 * units], device),
        }
    }

    pub fn units(&self) -> usize {
        self.recurrent.dims()[0]
    }

    /// `x: [batch, T, features]` → every hidden state `[batch, T, units]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        self.forward_time_major(x.swap_dims(0, 1)).swap_dims(0, 1)
    }

    /// `x: [T, batch, features]` → every hidden state `[T, batch, units]`.
    pub fn forward_time_major(&self, x: Tensor<3>) -> Tensor<3> {
        lstm_scan(project(&self.input, x), self.recurrent.val())
    }
}

/// `x·W_x + b` for all time steps in one matrix product (the layout of `x` is kept).
fn project(input: &Linear, x: Tensor<3>) -> Tensor<3> {
    let [d0, d1, features] = x.dims();
    let xw = input.forward(x.reshape([d0 * d1, features]));
    let width = xw.dims()[1];
    xw.reshape([d0, d1, width])
}

/// The last time step of `[batch, T, H]`: `[batch, H]`.
pub fn last_step(hs: Tensor<3>) -> Tensor<2> {
    let [batch, steps, hidden] = hs.dims();
    hs.slice([0..batch, steps - 1..steps, 0..hidden])
        .reshape([batch, hidden])
}

/// The last time step of a time-major `[T, batch, H]`: `[batch, H]`.
pub fn last_step_time_major(hs: Tensor<3>) -> Tensor<2> {
    let [steps, batch, hidden] = hs.dims();
    hs.slice([steps - 1..steps, 0..batch, 0..hidden])
        .reshape([batch, hidden])
}

// ---------------------------------------------------------------------------------------
// Forward and backward passes over primitive tensors (any backend).

/// Time step `t` of a time-major `[T, B, N]` tensor, as `[B, N]`.
fn step<B: Backend>(x: &FloatTensor<B>, t: usize) -> FloatTensor<B> {
    let [_, batch, width] = x.shape().dims::<3>();
    let t = t as isize;
    let one = B::float_slice(
        x.clone(),
        &[Slice::new(t, Some(t + 1), 1), Slice::full(), Slice::full()],
    );
    B::float_reshape(one, Shape::new([batch, width]))
}

/// Columns `[from, to)` of a `[B, N]` tensor.
fn columns<B: Backend>(x: &FloatTensor<B>, from: usize, to: usize) -> FloatTensor<B> {
    B::float_slice(
        x.clone(),
        &[
            Slice::full(),
            Slice::new(from as isize, Some(to as isize), 1),
        ],
    )
}

/// `tanh(x) = 2·σ(2x) − 1`. The same function with one exponential per element; on flex it
/// is several times faster than the backend's `tanh` (libm's `tanhf`), which the profile of
/// the LSTM benchmark showed as a fifth of the training time.
fn tanh<B: Backend>(x: FloatTensor<B>) -> FloatTensor<B> {
    let s = B::sigmoid(B::float_mul_scalar(x, 2.0f32.into()));
    B::float_add_scalar(B::float_mul_scalar(s, 2.0f32.into()), (-1.0f32).into())
}

/// `1 - x²`, the derivative of tanh given its output `x`.
fn one_minus_square<B: Backend>(x: FloatTensor<B>) -> FloatTensor<B> {
    B::float_add_scalar(B::float_neg(B::float_mul(x.clone(), x)), 1.0f32.into())
}

/// Per-step `[B, N]` tensors as one time-major `[T, B, N]` tensor.
fn stack<B: Backend>(steps: Vec<FloatTensor<B>>) -> FloatTensor<B> {
    let [batch, width] = steps[0].shape().dims::<2>();
    let count = steps.len();
    B::float_reshape(B::float_cat(steps, 0), Shape::new([count, batch, width]))
}

/// The zero state `[B, H]` on the device and in the float type of `like`.
fn zeros_like<B: Backend>(like: &FloatTensor<B>, batch: usize, hidden: usize) -> FloatTensor<B> {
    B::float_zeros(
        Shape::new([batch, hidden]),
        &like.device(),
        like.dtype().into(),
    )
}

/// What the SimpleRNN's backward pass needs: every `h_t` (time-major, `h_0` first).
#[derive(Debug, Clone)]
struct RnnTrace<B: Backend> {
    /// `h_0, h_1, …, h_T`, each `[B, H]`.
    states: Vec<FloatTensor<B>>,
}

fn rnn_forward<B: Backend>(
    xw: FloatTensor<B>,
    wh: FloatTensor<B>,
    keep: bool,
) -> (FloatTensor<B>, Option<RnnTrace<B>>) {
    let [steps, batch, hidden] = xw.shape().dims::<3>();
    let mut h = zeros_like::<B>(&xw, batch, hidden);
    let mut states = Vec::with_capacity(steps + 1);
    for t in 0..steps {
        let next = tanh::<B>(B::float_add(
            step::<B>(&xw, t),
            B::float_matmul(h.clone(), wh.clone()),
        ));
        states.push(std::mem::replace(&mut h, next));
    }
    states.push(h);
    let hs = stack::<B>(states[1..].to_vec());
    (hs, keep.then_some(RnnTrace { states }))
}

/// BPTT for the SimpleRNN: from `∂L/∂h_t` (all t) to `∂L/∂xw` and `∂L/∂W_h`.
fn rnn_backward<B: Backend>(
    trace: RnnTrace<B>,
    wh: FloatTensor<B>,
    grad_hs: FloatTensor<B>,
) -> (FloatTensor<B>, FloatTensor<B>) {
    let states = trace.states;
    let steps = states.len() - 1;
    let wh_t = B::float_transpose(wh);
    let mut dzs = Vec::with_capacity(steps);
    let mut dh_next: Option<FloatTensor<B>> = None;
    for t in (0..steps).rev() {
        // h_{t+1} = tanh(z): the gradient reaching z is ∂L/∂h · (1 - h²).
        let mut dh = step::<B>(&grad_hs, t);
        if let Some(carried) = dh_next {
            dh = B::float_add(dh, carried);
        }
        let dz = B::float_mul(dh, one_minus_square::<B>(states[t + 1].clone()));
        // ... and flows on to h_t through W_h.
        dh_next = Some(B::float_matmul(dz.clone(), wh_t.clone()));
        dzs.push(dz);
    }
    dzs.reverse();
    finish_backward::<B>(states[..steps].to_vec(), dzs)
}

/// `∂L/∂xw` is the pre-activation gradient of every step; `∂L/∂W_h = Σ_t h_{t-1}ᵀ·∂L/∂z_t`,
/// one matrix product over all steps.
fn finish_backward<B: Backend>(
    previous_states: Vec<FloatTensor<B>>,
    dzs: Vec<FloatTensor<B>>,
) -> (FloatTensor<B>, FloatTensor<B>) {
    let [batch, width] = dzs[0].shape().dims::<2>();
    let steps = dzs.len();
    let dz_all = B::float_cat(dzs, 0); // [T·B, width], time-major
    let h_all = B::float_cat(previous_states, 0); // [T·B, H]
    let dwh = B::float_matmul(B::float_transpose(h_all), dz_all.clone());
    let dxw = B::float_reshape(dz_all, Shape::new([steps, batch, width]));
    (dxw, dwh)
}

/// One LSTM step as the backward pass needs it, each `[B, H]`.
#[derive(Debug, Clone)]
pub struct LstmStep<B: Backend> {
    input_gate: FloatTensor<B>,
    forget_gate: FloatTensor<B>,
    candidate: FloatTensor<B>,
    output_gate: FloatTensor<B>,
    /// `tanh(c_t)`.
    tanh_cell: FloatTensor<B>,
    /// `c_{t-1}` and `h_{t-1}`.
    previous_cell: FloatTensor<B>,
    previous_hidden: FloatTensor<B>,
}

fn lstm_forward<B: Backend>(
    xw: FloatTensor<B>,
    wh: FloatTensor<B>,
    keep: bool,
) -> (FloatTensor<B>, Vec<LstmStep<B>>) {
    let [steps, batch, width] = xw.shape().dims::<3>();
    let hidden = width / 4;
    let mut h = zeros_like::<B>(&xw, batch, hidden);
    let mut c = h.clone();
    let mut hs = Vec::with_capacity(steps);
    let mut trace = Vec::with_capacity(if keep { steps } else { 0 });
    // One sigmoid over all four gates, with the candidate's columns doubled first:
    // tanh(z) = 2·σ(2z) − 1 then needs no second pass of exponentials.
    let scale: Vec<f32> = (0..width)
        .map(|j| {
            if (2 * hidden..3 * hidden).contains(&j) {
                2.0
            } else {
                1.0
            }
        })
        .collect();
    let scale = B::float_from_data(
        burn::tensor::TensorData::new(scale, [1, width]).convert_dtype(xw.dtype()),
        &xw.device(),
    );
    for t in 0..steps {
        let z = B::float_add(step::<B>(&xw, t), B::float_matmul(h.clone(), wh.clone()));
        let sig = B::sigmoid(B::float_mul(z, scale.clone()));
        let input_gate = columns::<B>(&sig, 0, hidden);
        let forget_gate = columns::<B>(&sig, hidden, 2 * hidden);
        let candidate = B::float_add_scalar(
            B::float_mul_scalar(columns::<B>(&sig, 2 * hidden, 3 * hidden), 2.0f32.into()),
            (-1.0f32).into(),
        );
        let output_gate = columns::<B>(&sig, 3 * hidden, 4 * hidden);
        let c_next = B::float_add(
            B::float_mul(forget_gate.clone(), c.clone()),
            B::float_mul(input_gate.clone(), candidate.clone()),
        );
        let tanh_cell = tanh::<B>(c_next.clone());
        let h_next = B::float_mul(output_gate.clone(), tanh_cell.clone());
        hs.push(h_next.clone());
        let previous_cell = std::mem::replace(&mut c, c_next);
        let previous_hidden = std::mem::replace(&mut h, h_next);
        if keep {
            trace.push(LstmStep {
                input_gate,
                forget_gate,
                candidate,
                output_gate,
                tanh_cell,
                previous_cell,
                previous_hidden,
            });
        }
    }
    (stack::<B>(hs), trace)
}

/// BPTT for the LSTM: from `∂L/∂h_t` (all t) to `∂L/∂xw` and `∂L/∂W_h`.
fn lstm_backward<B: Backend>(
    trace: Vec<LstmStep<B>>,
    wh: FloatTensor<B>,
    grad_hs: FloatTensor<B>,
) -> (FloatTensor<B>, FloatTensor<B>) {
    let wh_t = B::float_transpose(wh);
    let mut dzs = Vec::with_capacity(trace.len());
    let mut dh_next: Option<FloatTensor<B>> = None;
    let mut dc_next: Option<FloatTensor<B>> = None;
    for (t, s) in trace.iter().enumerate().rev() {
        let mut dh = step::<B>(&grad_hs, t);
        if let Some(carried) = dh_next {
            dh = B::float_add(dh, carried);
        }
        // h_t = o·tanh(c_t)
        let d_output = B::float_mul(dh.clone(), s.tanh_cell.clone());
        let mut dc = B::float_mul(
            B::float_mul(dh, s.output_gate.clone()),
            one_minus_square::<B>(s.tanh_cell.clone()),
        );
        if let Some(carried) = dc_next {
            dc = B::float_add(dc, carried);
        }
        // c_t = f·c_{t-1} + i·c̃
        let d_input = B::float_mul(dc.clone(), s.candidate.clone());
        let d_candidate = B::float_mul(dc.clone(), s.input_gate.clone());
        let d_forget = B::float_mul(dc.clone(), s.previous_cell.clone());
        dc_next = Some(B::float_mul(dc, s.forget_gate.clone()));
        // Through the activations to the pre-activations z = xw_t + h_{t-1}·W_h.
        let dz = B::float_cat(
            vec![
                B::sigmoid_backward(s.input_gate.clone(), d_input),
                B::sigmoid_backward(s.forget_gate.clone(), d_forget),
                B::float_mul(d_candidate, one_minus_square::<B>(s.candidate.clone())),
                B::sigmoid_backward(s.output_gate.clone(), d_output),
            ],
            1,
        );
        dh_next = Some(B::float_matmul(dz.clone(), wh_t.clone()));
        dzs.push(dz);
    }
    dzs.reverse();
    let previous: Vec<_> = trace.into_iter().map(|s| s.previous_hidden).collect();
    finish_backward::<B>(previous, dzs)
}

// ---------------------------------------------------------------------------------------
// The autodiff decorator: the recurrence is one node of the graph, with BPTT as its backward.

impl<B: RecurrentOps + LstmKernels, C: CheckpointStrategy> RecurrentOps for Autodiff<B, C> {
    fn rnn_scan(xw: FloatTensor<Self>, wh: FloatTensor<Self>) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct RnnBackward;

        impl<B: Backend> Backward<B, 2> for RnnBackward {
            type State = (RnnTrace<B>, FloatTensor<B>);

            fn backward(
                self,
                ops: Ops<Self::State, 2>,
                grads: &mut Gradients,
                _: &mut Checkpointer,
            ) {
                let [node_xw, node_wh] = ops.parents;
                let grad = grads.consume::<B>(&ops.node);
                let (trace, wh) = ops.state;
                let (dxw, dwh) = rnn_backward::<B>(trace, wh, grad);
                if let Some(node) = node_xw {
                    grads.register::<B>(node.id, dxw);
                }
                if let Some(node) = node_wh {
                    grads.register::<B>(node.id, dwh);
                }
            }
        }

        let (xw, xw_node) = xw.into_parts();
        let (wh, wh_node) = wh.into_parts();
        match RnnBackward
            .prepare::<C>([xw_node, wh_node])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (hs, trace) = rnn_forward::<B>(xw, wh.clone(), true);
                let trace = trace.expect("the trace is kept when asked for");
                prep.finish((trace, wh), hs)
            }
            OpsKind::UnTracked(prep) => prep.finish(rnn_forward::<B>(xw, wh, false).0),
        }
    }

    fn lstm_scan(xw: FloatTensor<Self>, wh: FloatTensor<Self>) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct LstmBackward;

        impl<B: LstmKernels> Backward<B, 2> for LstmBackward {
            type State = (LstmTrace<B>, FloatTensor<B>);

            fn backward(
                self,
                ops: Ops<Self::State, 2>,
                grads: &mut Gradients,
                _: &mut Checkpointer,
            ) {
                let [node_xw, node_wh] = ops.parents;
                let grad = grads.consume::<B>(&ops.node);
                let (trace, wh) = ops.state;
                let (dxw, dwh) = B::lstm_backward_traced(trace, wh, grad);
                if let Some(node) = node_xw {
                    grads.register::<B>(node.id, dxw);
                }
                if let Some(node) = node_wh {
                    grads.register::<B>(node.id, dwh);
                }
            }
        }

        let (xw, xw_node) = xw.into_parts();
        let (wh, wh_node) = wh.into_parts();
        match LstmBackward
            .prepare::<C>([xw_node, wh_node])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (hs, trace) = B::lstm_forward_traced(xw, wh.clone());
                prep.finish((trace, wh), hs)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::lstm_scan(xw, wh)),
        }
    }
}
