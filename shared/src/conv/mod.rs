//! A 2-D convolution and max-pooling with their own forward and backward passes on the CPU
//! backend.
//!
//! burn's `Conv2d` layer is backend-independent: on flex (the course's CPU backend) it runs a
//! 2-D convolution as a 3-D one, computes the weight gradient as a second convolution, and
//! spends a good share of a LeNet step copying and zero-filling buffers (the profile is in
//! `docs/benchmarks.md`). Here the convolution is one operation of the autodiff graph, written
//! for flex as the textbook does it:
//!
//! * **forward**, per image: *im2col* lays every `C×KH×KW` input patch out as one column of a
//!   matrix `cols: [C·KH·KW, OH·OW]`, and one matrix product gives every output channel at
//!   every position, `y = W·cols + b` with `W: [O, C·KH·KW]`;
//! * **backward**, per image, from the output gradient `dy: [O, OH·OW]`:
//!   `dW += dy·colsᵀ`, `db += Σ dy` over positions, and, only when the input needs a gradient
//!   (a network's first layer does not), `dcols = Wᵀ·dy` scattered back onto the input
//!   (*col2im*).
//!
//! 3x3 convolutions with stride 1 and at least 16 channels in and out (lab 2's, VGG-16's)
//! take a faster road on flex: Winograd's F(4x4, 3x3), which computes each 4x4 block of
//! outputs with 4 times fewer multiplications, forward and backward (`flex/winograd.rs`).
//!
//! The images of a batch are split across the threads (each with its own `cols` buffer and
//! its own `dW`, summed in a fixed order, so a run gives the same numbers every time on the
//! same number of threads); the matrix products are the `gemm` crate's, the library flex
//! itself uses.
//!
//! Max-pooling gets the same treatment ([`max_pool2d`]): flex pools in 2-D as a 3-D pooling
//! with 64-bit indices, which took about a third of a LeNet step once the convolution was
//! fast; here, for the usual non-overlapping windows (kernel = stride, no padding), one pass
//! keeps the maximum and where it was (one byte per output), and the backward pass puts each
//! output's gradient back at that place.
//!
//! Both operations are burn *backend extensions*, like the recurrent layers: every other backend
//! (and flex for what the fast path does not cover: groups, dilation, overlapping or padded
//! pooling windows, float types other than f32) runs burn's own operations and their
//! backward passes, so a model written with [`conv2d`] and [`max_pool2d`] runs anywhere.
//! Tests compare values and gradients with burn's.

// burn's NdArray backend is deprecated upstream; the course still compiles it in (feature
// `ndarray`) to compare against, so the extension must cover it.
#![cfg_attr(feature = "ndarray", allow(deprecated))]

use burn::backend::autodiff::checkpoint::{base::Checkpointer, strategy::CheckpointStrategy};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::ops::ModuleOps;
use burn::backend::tensor::{FloatTensor, IntTensor};
use burn::backend::{Autodiff, Backend, Dispatch, Shape, backend_extension};
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::nn::pool::MaxPool2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{IntDType, Tensor};

mod flex;

/// The convolution as a backend operation. The default body is burn's own convolution, so
/// every backend gets it; flex overrides it, and the autodiff decorator adds the backward pass.
#[backend_extension(
    Flex,
    Autodiff,
    NdArray: cfg(feature = "ndarray"),
    Cube: cfg(any(feature = "wgpu", feature = "cuda"))
)]
pub trait ConvOps: Backend {
    /// `x: [N, C, H, W]`, `weight: [O, C, KH, KW]`, `bias: [O]` → `[N, O, OH, OW]`.
    fn conv2d_biased(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        Self::conv2d(x, weight, Some(bias), options)
    }
}

impl ConvOps for burn::backend::Flex {
    fn conv2d_biased(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        if flex::applies(&x, &weight, &bias, &options) {
            flex::forward(&x, &weight, &bias, &options)
        } else {
            Self::conv2d(x, weight, Some(bias), options)
        }
    }
}

#[cfg(feature = "ndarray")]
impl ConvOps for burn::backend::NdArray {}

#[cfg(any(feature = "wgpu", feature = "cuda"))]
impl ConvOps for burn::backend::Cube {}

/// The gradients the backward pass is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wanted {
    pub x: bool,
    pub weight: bool,
    pub bias: bool,
}

/// The gradients of `x`, the weight and the bias (each only when it was wanted).
pub type ConvGrads<B> = (
    Option<FloatTensor<B>>,
    Option<FloatTensor<B>>,
    Option<FloatTensor<B>>,
);

/// The convolution's backward pass. Every backend gets burn's (three separate operations);
/// flex overrides it with one pass over the batch (`flex.rs`).
pub trait ConvKernels: Backend {
    fn conv2d_biased_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvOptions<2>,
        wanted: Wanted,
    ) -> ConvGrads<Self> {
        burn_conv_backward::<Self>(x, weight, bias, grad, options, wanted)
    }
}

/// burn's own backward pass of a convolution: three separate operations.
fn burn_conv_backward<B: Backend>(
    x: FloatTensor<B>,
    weight: FloatTensor<B>,
    bias: FloatTensor<B>,
    grad: FloatTensor<B>,
    options: ConvOptions<2>,
    wanted: Wanted,
) -> ConvGrads<B> {
    let dx = wanted
        .x
        .then(|| B::conv2d_x_backward(x.clone(), weight.clone(), grad.clone(), options.clone()));
    let dw = wanted.weight.then(|| {
        B::conv2d_weight_backward(x.clone(), weight.clone(), grad.clone(), options.clone())
    });
    let db = wanted.bias.then(|| B::conv2d_bias_backward(x, bias, grad));
    (dx, dw, db)
}

impl ConvKernels for burn::backend::Flex {
    fn conv2d_biased_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvOptions<2>,
        wanted: Wanted,
    ) -> ConvGrads<Self> {
        if flex::applies(&x, &weight, &bias, &options) && flex::is_f32(&grad) {
            flex::backward(&x, &weight, &grad, &options, wanted)
        } else {
            burn_conv_backward::<Self>(x, weight, bias, grad, options, wanted)
        }
    }
}

#[cfg(feature = "ndarray")]
impl ConvKernels for burn::backend::NdArray {}

#[cfg(any(feature = "wgpu", feature = "cuda"))]
impl ConvKernels for burn::backend::Cube {}

impl<B: ConvOps + ConvKernels, C: CheckpointStrategy> ConvOps for Autodiff<B, C> {
    fn conv2d_biased(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct ConvBackward;

        impl<B: ConvKernels> Backward<B, 3> for ConvBackward {
            type State = (
                FloatTensor<B>,
                FloatTensor<B>,
                FloatTensor<B>,
                ConvOptions<2>,
            );

            fn backward(
                self,
                ops: Ops<Self::State, 3>,
                grads: &mut Gradients,
                _: &mut Checkpointer,
            ) {
                let [node_x, node_weight, node_bias] = ops.parents;
                let grad = grads.consume::<B>(&ops.node);
                let (x, weight, bias, options) = ops.state;
                let wanted = Wanted {
                    x: node_x.is_some(),
                    weight: node_weight.is_some(),
                    bias: node_bias.is_some(),
                };
                let (dx, dw, db) =
                    B::conv2d_biased_backward(x, weight, bias, grad, options, wanted);
                for (node, gradient) in [(node_x, dx), (node_weight, dw), (node_bias, db)] {
                    if let (Some(node), Some(gradient)) = (node, gradient) {
                        grads.register::<B>(node.id, gradient);
                    }
                }
            }
        }

        let (x, x_node) = x.into_parts();
        let (weight, weight_node) = weight.into_parts();
        let (bias, bias_node) = bias.into_parts();
        match ConvBackward
            .prepare::<C>([x_node, weight_node, bias_node])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let y = B::conv2d_biased(x.clone(), weight.clone(), bias.clone(), options.clone());
                prep.finish((x, weight, bias, options), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::conv2d_biased(x, weight, bias, options)),
        }
    }
}

/// `conv.forward(x)`, computed by the course's convolution where it applies: the same
/// function (same weights, padding, stride; tested against burn's) with its own backward
/// pass on flex. Grouped (depthwise) and dilated convolutions run burn's `Conv2d::forward`.
pub fn conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    if conv.groups != 1 || conv.dilation != [1, 1] {
        return conv.forward(x);
    }
    let weight = conv.weight.val();
    // A layer without a bias gets a zero one, a constant: no gradient is asked for it.
    let bias = match &conv.bias {
        Some(bias) => bias.val(),
        None => Tensor::<1>::zeros([weight.dims()[0]], &weight.device()).cast(weight.dtype()),
    };
    let [_, _, height, width] = x.dims();
    let [kh, kw] = conv.kernel_size;
    let [sh, sw] = conv.stride;
    let padding = match conv.padding {
        PaddingConfig2d::Valid => [(0, 0), (0, 0)],
        PaddingConfig2d::Same => [same_padding(height, kh, sh), same_padding(width, kw, sw)],
        PaddingConfig2d::Explicit(top, left, bottom, right) => [(top, bottom), (left, right)],
    };
    let options = ConvOptions::new_with_padding(conv.stride, padding, conv.dilation, conv.groups);
    Tensor::from_dispatch(Dispatch::conv2d_biased(
        x.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        options,
    ))
}

/// `Same` padding as burn's `Conv2d` (and Keras) computes it: the output has
/// `⌈input / stride⌉` positions, and an odd total puts the extra zero at the end.
fn same_padding(input: usize, kernel: usize, stride: usize) -> (usize, usize) {
    let output = input.div_ceil(stride);
    let total = if output > 0 {
        ((output - 1) * stride + kernel).saturating_sub(input)
    } else {
        0
    };
    (total / 2, total - total / 2)
}

/// The output size of one spatial dimension.
fn output_size(input: usize, kernel: usize, stride: usize, padding: (usize, usize)) -> usize {
    (input + padding.0 + padding.1 - kernel) / stride + 1
}

/// The shape of `[N, O, OH, OW]` for `x: [N, C, H, W]` and `weight: [O, C, KH, KW]`.
fn output_shape(x: &Shape, weight: &Shape, options: &ConvOptions<2>) -> [usize; 4] {
    let [batch, _, height, width] = x.dims::<4>();
    let [out_channels, _, kh, kw] = weight.dims::<4>();
    [
        batch,
        out_channels,
        output_size(height, kh, options.stride[0], options.padding[0]),
        output_size(width, kw, options.stride[1], options.padding[1]),
    ]
}

// ---------------------------------------------------------------------------------------
// Max-pooling over non-overlapping windows.

/// Max-pooling with `stride = kernel`, no padding, as a backend operation.
#[backend_extension(
    Flex,
    Autodiff,
    NdArray: cfg(feature = "ndarray"),
    Cube: cfg(any(feature = "wgpu", feature = "cuda"))
)]
pub trait PoolOps: Backend {
    /// `x: [N, C, H, W]` → `[N, C, H / KH, W / KW]` (rows and columns that do not fill a
    /// window are dropped, as burn and Keras do).
    fn max_pool2d_windows(x: FloatTensor<Self>, kernel: [usize; 2]) -> FloatTensor<Self> {
        Self::max_pool2d(x, kernel, kernel, [0, 0], [1, 1], false)
    }
}

impl PoolOps for burn::backend::Flex {
    fn max_pool2d_windows(x: FloatTensor<Self>, kernel: [usize; 2]) -> FloatTensor<Self> {
        if flex::pool_applies(&x, kernel) {
            flex::max_pool(&x, kernel).0
        } else {
            Self::max_pool2d(x, kernel, kernel, [0, 0], [1, 1], false)
        }
    }
}

#[cfg(feature = "ndarray")]
impl PoolOps for burn::backend::NdArray {}

#[cfg(any(feature = "wgpu", feature = "cuda"))]
impl PoolOps for burn::backend::Cube {}

/// What max-pooling's backward pass needs.
#[derive(Debug, Clone)]
pub enum PoolTrace<B: Backend> {
    /// The input and burn's indices of the maxima (any backend).
    Indices(FloatTensor<B>, IntTensor<B>),
    /// Where in its window each maximum was (flex).
    Flat(flex::FlatPool),
}

/// Max-pooling's forward pass keeping its trace, and its backward pass. Every backend gets
/// burn's (pooling with indices); flex overrides both (`flex.rs`).
pub trait PoolKernels: Backend {
    fn max_pool_traced(
        x: FloatTensor<Self>,
        kernel: [usize; 2],
    ) -> (FloatTensor<Self>, PoolTrace<Self>) {
        burn_pool_traced::<Self>(x, kernel)
    }

    fn max_pool_backward(
        trace: PoolTrace<Self>,
        kernel: [usize; 2],
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        match trace {
            PoolTrace::Indices(x, indices) => burn_pool_backward::<Self>(x, indices, kernel, grad),
            // Only flex's forward pass makes flat traces, and flex overrides this method.
            PoolTrace::Flat(_) => unreachable!("a flat pooling trace outside the flex backend"),
        }
    }
}

/// burn's own pooling, keeping the indices of the maxima for the backward pass.
fn burn_pool_traced<B: Backend>(
    x: FloatTensor<B>,
    kernel: [usize; 2],
) -> (FloatTensor<B>, PoolTrace<B>) {
    let pooled = B::max_pool2d_with_indices(
        x.clone(),
        kernel,
        kernel,
        [0, 0],
        [1, 1],
        false,
        IntDType::I64,
    );
    (pooled.output, PoolTrace::Indices(x, pooled.indices))
}

/// burn's own backward pass of pooling, from the indices of the maxima.
fn burn_pool_backward<B: Backend>(
    x: FloatTensor<B>,
    indices: IntTensor<B>,
    kernel: [usize; 2],
    grad: FloatTensor<B>,
) -> FloatTensor<B> {
    B::max_pool2d_with_indices_backward(x, kernel, kernel, [0, 0], [1, 1], false, grad, indices)
        .x_grad
}

impl PoolKernels for burn::backend::Flex {
    fn max_pool_traced(
        x: FloatTensor<Self>,
        kernel: [usize; 2],
    ) -> (FloatTensor<Self>, PoolTrace<Self>) {
        if flex::pool_applies(&x, kernel) {
            let (y, trace) = flex::max_pool(&x, kernel);
            (y, PoolTrace::Flat(trace))
        } else {
            burn_pool_traced::<Self>(x, kernel)
        }
    }

    fn max_pool_backward(
        trace: PoolTrace<Self>,
        kernel: [usize; 2],
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        match trace {
            PoolTrace::Flat(trace) => flex::max_pool_backward(&trace, &grad),
            PoolTrace::Indices(x, indices) => burn_pool_backward::<Self>(x, indices, kernel, grad),
        }
    }
}

#[cfg(feature = "ndarray")]
impl PoolKernels for burn::backend::NdArray {}

#[cfg(any(feature = "wgpu", feature = "cuda"))]
impl PoolKernels for burn::backend::Cube {}

impl<B: PoolOps + PoolKernels, C: CheckpointStrategy> PoolOps for Autodiff<B, C> {
    fn max_pool2d_windows(x: FloatTensor<Self>, kernel: [usize; 2]) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct PoolBackward;

        impl<B: PoolKernels> Backward<B, 1> for PoolBackward {
            type State = (PoolTrace<B>, [usize; 2]);

            fn backward(
                self,
                ops: Ops<Self::State, 1>,
                grads: &mut Gradients,
                _: &mut Checkpointer,
            ) {
                let [node_x] = ops.parents;
                let grad = grads.consume::<B>(&ops.node);
                let (trace, kernel) = ops.state;
                if let Some(node) = node_x {
                    grads.register::<B>(node.id, B::max_pool_backward(trace, kernel, grad));
                }
            }
        }

        let (x, x_node) = x.into_parts();
        match PoolBackward
            .prepare::<C>([x_node])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (y, trace) = B::max_pool_traced(x, kernel);
                prep.finish((trace, kernel), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::max_pool2d_windows(x, kernel)),
        }
    }
}

/// `pool.forward(x)`, computed by the course's max-pooling where it applies (windows that do
/// not overlap: stride = kernel, no padding, no dilation, floor mode, the usual 2x2); any other
/// pooling runs burn's `MaxPool2d::forward`. One difference: a NaN in a window loses to any
/// number here (the maximum as `f32::max` takes it; all-NaN gives NaN), where burn's pooling
/// returns the NaN. A network whose values have become NaN shows it in its loss either way.
pub fn max_pool2d(pool: &MaxPool2d, x: Tensor<4>) -> Tensor<4> {
    let unpadded = match pool.padding {
        PaddingConfig2d::Valid => true,
        PaddingConfig2d::Explicit(top, left, bottom, right) => top + left + bottom + right == 0,
        // `Same` pads whenever the size is not a multiple of the stride.
        PaddingConfig2d::Same => false,
    };
    if !(unpadded && pool.stride == pool.kernel_size && pool.dilation == [1, 1] && !pool.ceil_mode)
    {
        return pool.forward(x);
    }
    Tensor::from_dispatch(Dispatch::max_pool2d_windows(
        x.into_dispatch(),
        pool.kernel_size,
    ))
}
