//! The convolution on flex: im2col and col2im around `gemm`, the images split across threads.

use burn::backend::tensor::FloatTensor;
use burn::backend::{DType, Flex, TensorMetadata};
use burn::tensor::TensorData;
use burn::tensor::ops::ConvOptions;
use rayon::prelude::*;

use super::{ConvGrads, Wanted, output_shape};
use crate::matrix::{Layout, Matrix, matmul};

type FlexTensor = FloatTensor<Flex>;

/// Whether the fast path applies: f32 tensors, no groups, no dilation, no empty dimension
/// (burn's own convolution handles those).
pub(super) fn applies(
    x: &FlexTensor,
    weight: &FlexTensor,
    bias: &FlexTensor,
    options: &ConvOptions<2>,
) -> bool {
    [x, weight, bias].iter().all(|t| t.dtype() == DType::F32)
        && options.groups == 1
        && options.dilation == [1, 1]
        && !x.shape().dims::<4>().contains(&0)
        && !weight.shape().dims::<4>().contains(&0)
}

pub(super) fn is_f32(tensor: &FlexTensor) -> bool {
    tensor.dtype() == DType::F32
}

/// Sizes of one convolution.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    batch: usize,
    channels: usize,
    height: usize,
    width: usize,
    out_channels: usize,
    kernel: [usize; 2],
    stride: [usize; 2],
    /// Padding before the first row and column (what comes after only changes the output size).
    pad: [usize; 2],
    out_height: usize,
    out_width: usize,
}

impl Geometry {
    fn new(x: &FlexTensor, weight: &FlexTensor, options: &ConvOptions<2>) -> Self {
        let [batch, channels, height, width] = x.shape().dims::<4>();
        let [out_channels, weight_channels, kh, kw] = weight.shape().dims::<4>();
        assert_eq!(
            channels, weight_channels,
            "conv2d: the input has {channels} channels, the weight expects {weight_channels}"
        );
        let [_, _, out_height, out_width] = output_shape(&x.shape(), &weight.shape(), options);
        Geometry {
            batch,
            channels,
            height,
            width,
            out_channels,
            kernel: [kh, kw],
            stride: options.stride,
            pad: [options.padding[0].0, options.padding[1].0],
            out_height,
            out_width,
        }
    }

    /// Values in one input image.
    fn image(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// Output positions of one image (`OH·OW`).
    fn positions(&self) -> usize {
        self.out_height * self.out_width
    }

    /// Rows of `cols` (`C·KH·KW`), the length of one flattened filter.
    fn patch(&self) -> usize {
        self.channels * self.kernel[0] * self.kernel[1]
    }

    /// A 1x1 kernel with stride 1 and no padding (the output the size of the input): `cols`
    /// is the image itself.
    fn pointwise(&self) -> bool {
        self.kernel == [1, 1]
            && self.stride == [1, 1]
            && [self.out_height, self.out_width] == [self.height, self.width]
    }

    /// The output columns `ow` whose input column `ow·s + k − pad` lies inside `0..len`.
    #[inline(always)]
    fn valid(len: usize, out: usize, k: usize, stride: usize, pad: usize) -> (usize, usize) {
        // ow·s + k ≥ pad  ⇔  ow ≥ ⌈(pad − k) / s⌉;   ow·s + k − pad < len  ⇔  ow < ⌈(len + pad − k) / s⌉.
        let lo = pad.saturating_sub(k).div_ceil(stride).min(out);
        let hi = if len + pad > k {
            (len + pad - k).div_ceil(stride).min(out)
        } else {
            0
        };
        (lo, hi.max(lo))
    }

    /// Lays the patches of one image out as `cols: [C·KH·KW, OH·OW]` (zeros where a patch
    /// reaches into the padding).
    #[inline(always)]
    fn im2col(&self, image: &[f32], cols: &mut [f32]) {
        let [kh, kw] = self.kernel;
        let [sh, sw] = self.stride;
        let (oh_n, ow_n) = (self.out_height, self.out_width);
        let mut rows = cols.chunks_exact_mut(self.positions());
        for channel in image.chunks_exact(self.height * self.width) {
            for ki in 0..kh {
                let (oh_lo, oh_hi) = Self::valid(self.height, oh_n, ki, sh, self.pad[0]);
                for kj in 0..kw {
                    let (ow_lo, ow_hi) = Self::valid(self.width, ow_n, kj, sw, self.pad[1]);
                    let row = rows.next().expect("one row of cols per channel and tap");
                    row[..oh_lo * ow_n].fill(0.0);
                    row[oh_hi * ow_n..].fill(0.0);
                    for oh in oh_lo..oh_hi {
                        let ih = oh * sh + ki - self.pad[0];
                        let src = &channel[ih * self.width..(ih + 1) * self.width];
                        let dst = &mut row[oh * ow_n..(oh + 1) * ow_n];
                        for d in &mut dst[..ow_lo] {
                            *d = 0.0;
                        }
                        for d in &mut dst[ow_hi..] {
                            *d = 0.0;
                        }
                        if ow_lo == ow_hi {
                            continue; // this tap never reaches the image in this row
                        }
                        let first = ow_lo * sw + kj - self.pad[1];
                        if sw == 1 {
                            copy_short(&mut dst[ow_lo..ow_hi], &src[first..first + ow_hi - ow_lo]);
                        } else {
                            for (d, s) in dst[ow_lo..ow_hi]
                                .iter_mut()
                                .zip(src[first..].iter().step_by(sw))
                            {
                                *d = *s;
                            }
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of [`Geometry::im2col`]: adds every column entry back onto the input
    /// value it was copied from. `image` must start at zero.
    #[inline(always)]
    fn col2im(&self, cols: &[f32], image: &mut [f32]) {
        let [kh, kw] = self.kernel;
        let [sh, sw] = self.stride;
        let (oh_n, ow_n) = (self.out_height, self.out_width);
        let mut rows = cols.chunks_exact(self.positions());
        for channel in image.chunks_exact_mut(self.height * self.width) {
            for ki in 0..kh {
                let (oh_lo, oh_hi) = Self::valid(self.height, oh_n, ki, sh, self.pad[0]);
                for kj in 0..kw {
                    let (ow_lo, ow_hi) = Self::valid(self.width, ow_n, kj, sw, self.pad[1]);
                    let row = rows.next().expect("one row of cols per channel and tap");
                    for oh in oh_lo..oh_hi {
                        let ih = oh * sh + ki - self.pad[0];
                        let dst = &mut channel[ih * self.width..(ih + 1) * self.width];
                        if ow_lo == ow_hi {
                            continue; // this tap never reaches the image in this row
                        }
                        let src = &row[oh * ow_n + ow_lo..oh * ow_n + ow_hi];
                        let first = ow_lo * sw + kj - self.pad[1];
                        if sw == 1 {
                            for (d, s) in dst[first..first + src.len()].iter_mut().zip(src) {
                                *d += *s;
                            }
                        } else {
                            for (d, s) in dst[first..].iter_mut().step_by(sw).zip(src) {
                                *d += *s;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Defines `fn name(…)` that runs its body compiled for AVX2 and FMA where the CPU has them
/// (asked at run time; `std` caches the answer), else as built (SSE2 on x86-64). The copies,
/// sums and comparisons of im2col, col2im and pooling then move 8 floats per instruction, not 4.
macro_rules! with_avx2 {
    ($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$doc])*
        fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn portable($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                fn avx2($($arg: $ty),*) $(-> $ret)? {
                    portable($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    // SAFETY: the CPU has AVX2 and FMA (checked just above).
                    return unsafe { avx2($($arg),*) };
                }
            }
            portable($($arg),*)
        }
    };
}

mod winograd;

with_avx2! {
    /// [`Geometry::im2col`].
    fn im2col(g: &Geometry, image: &[f32], cols: &mut [f32]) {
        g.im2col(image, cols)
    }
}

with_avx2! {
    /// [`Geometry::col2im`].
    fn col2im(g: &Geometry, cols: &[f32], image: &mut [f32]) {
        g.col2im(cols, image)
    }
}

with_avx2! {
    /// `Σ values`, in 16 running sums so that the loop vectorises (a single running sum is a
    /// chain of dependent additions the compiler may not reorder: it took a third of the
    /// backward pass's own time in LeNet's profile).
    fn sum(values: &[f32]) -> f32 {
        let mut lanes = [0.0f32; 16];
        let chunks = values.chunks_exact(16);
        let rest: f32 = chunks.remainder().iter().sum();
        for chunk in chunks {
            for (lane, v) in lanes.iter_mut().zip(chunk) {
                *lane += *v;
            }
        }
        lanes.iter().sum::<f32>() + rest
    }
}

/// `dst.copy_from_slice(src)` for the short rows of im2col (a few dozen floats): eight at a
/// time with fixed-size moves, so that it is not a call to `memcpy` per row (which was a
/// tenth of LeNet's step).
#[inline(always)]
fn copy_short(dst: &mut [f32], src: &[f32]) {
    let mut d = dst.chunks_exact_mut(8);
    let mut s = src.chunks_exact(8);
    for (d, s) in (&mut d).zip(&mut s) {
        let v: [f32; 8] = s.try_into().expect("a chunk of 8");
        d.copy_from_slice(&v);
    }
    for (d, s) in d.into_remainder().iter_mut().zip(s.remainder()) {
        *d = *s;
    }
}

/// A flex tensor's values, row-major (no copy when it is already contiguous).
fn contiguous(tensor: &FlexTensor) -> FlexTensor {
    if tensor.is_contiguous() && tensor.as_slice::<f32>().is_some() {
        tensor.clone()
    } else {
        tensor.to_contiguous()
    }
}

fn slice(tensor: &FlexTensor) -> &[f32] {
    tensor.as_slice::<f32>().expect("a contiguous f32 tensor")
}

fn tensor<const D: usize>(values: Vec<f32>, shape: [usize; D]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// How the batch is split: `(images per chunk, gemm threads inside a chunk)`. With at least
/// as many images as threads, each thread takes a contiguous share of the images and runs its
/// matrix products alone; a smaller batch (one photo) lets gemm use the threads instead.
fn split(batch: usize) -> (usize, usize) {
    let threads = rayon::current_num_threads().max(1);
    if batch >= threads {
        (batch.div_ceil(threads), 1)
    } else {
        (batch.max(1), threads)
    }
}

/// `y = W·im2col(x) + b` for every image.
pub(super) fn forward(
    x: &FlexTensor,
    weight: &FlexTensor,
    bias: &FlexTensor,
    options: &ConvOptions<2>,
) -> FlexTensor {
    let g = Geometry::new(x, weight, options);
    let (x, weight, bias) = (contiguous(x), contiguous(weight), contiguous(bias));
    let (x, weight, bias) = (slice(&x), slice(&weight), slice(&bias));
    let shape = [g.batch, g.out_channels, g.out_height, g.out_width];
    if winograd::applies(&g) {
        return tensor(winograd::forward(&g, x, weight, bias), shape);
    }
    let (positions, patch) = (g.positions(), g.patch());
    let out_image = g.out_channels * positions;
    let mut y = vec![0.0f32; g.batch * out_image];
    let (per_chunk, threads) = split(g.batch);
    let filters = Matrix::new(weight, g.out_channels, patch);
    y.par_chunks_mut(per_chunk * out_image.max(1))
        .zip(x.par_chunks(per_chunk * g.image().max(1)))
        .for_each(|(ys, xs)| {
            let mut cols = vec![0.0f32; if g.pointwise() { 0 } else { patch * positions }];
            for (y, image) in ys
                .chunks_exact_mut(out_image)
                .zip(xs.chunks_exact(g.image()))
            {
                for (row, b) in y.chunks_exact_mut(positions).zip(bias) {
                    row.fill(*b);
                }
                let patches = if g.pointwise() {
                    image
                } else {
                    im2col(&g, image, &mut cols);
                    &cols
                };
                matmul(
                    y,
                    Layout::RowMajor,
                    filters,
                    Matrix::new(patches, patch, positions),
                    true,
                    threads,
                );
            }
        });
    tensor(y, shape)
}

/// The gradients of one chunk of images: `dW` and `db` summed over its images (`dW` in
/// whatever layout the pass keeps it until the chunks are summed).
struct Partial {
    weight: Vec<f32>,
    bias: Vec<f32>,
}

/// Runs `work` on each chunk of `per_chunk` output gradients (`dy`), in parallel, with the
/// matching chunk of the input gradient (`dx`, `dx_per_chunk` values each; empty when not
/// wanted), and returns the chunks' partial gradients in chunk order.
fn partials(
    grad: &[f32],
    per_chunk: usize,
    dx: &mut [f32],
    dx_per_chunk: usize,
    work: impl Fn((usize, &[f32]), &mut [f32]) -> Partial + Sync,
) -> Vec<Partial> {
    let dy_chunks = grad.par_chunks(per_chunk.max(1)).enumerate();
    if dx.is_empty() {
        dy_chunks.map(|chunk| work(chunk, &mut [])).collect()
    } else {
        dy_chunks
            .zip(dx.par_chunks_mut(dx_per_chunk.max(1)))
            .map(|(chunk, dx)| work(chunk, dx))
            .collect()
    }
}

/// `pick` of every partial, summed in chunk order, so that a run repeats exactly on the same
/// number of threads.
fn total(partials: &[Partial], pick: fn(&Partial) -> &Vec<f32>, len: usize) -> Vec<f32> {
    let mut total = vec![0.0f32; len];
    for partial in partials {
        for (t, p) in total.iter_mut().zip(pick(partial)) {
            *t += *p;
        }
    }
    total
}

/// `dx = col2im(Wᵀ·dy)`, `dW = Σ dy·im2col(x)ᵀ`, `db = Σ dy`.
pub(super) fn backward(
    x: &FlexTensor,
    weight: &FlexTensor,
    grad: &FlexTensor,
    options: &ConvOptions<2>,
    wanted: Wanted,
) -> ConvGrads<Flex> {
    let g = Geometry::new(x, weight, options);
    let (x, weight, grad) = (contiguous(x), contiguous(weight), contiguous(grad));
    let (x, weight, grad) = (slice(&x), slice(&weight), slice(&grad));
    if winograd::applies(&g) {
        let (dx, dw, db) = winograd::backward(&g, x, weight, grad, wanted);
        return (
            dx.map(|dx| tensor(dx, [g.batch, g.channels, g.height, g.width])),
            dw.map(|dw| tensor(dw, [g.out_channels, g.channels, 3, 3])),
            db.map(|db| tensor(db, [g.out_channels])),
        );
    }
    let (positions, patch) = (g.positions(), g.patch());
    let out_image = g.out_channels * positions;
    let (per_chunk, threads) = split(g.batch);
    let filters = Matrix::new(weight, g.out_channels, patch);
    let mut dx = vec![0.0f32; if wanted.x { g.batch * g.image() } else { 0 }];
    let dx_per_chunk = if wanted.x { per_chunk * g.image() } else { 0 };

    let work = |(index, dy_chunk): (usize, &[f32]), dx_chunk: &mut [f32]| -> Partial {
        let first = index * per_chunk;
        let mut partial = Partial {
            weight: vec![
                0.0;
                if wanted.weight {
                    g.out_channels * patch
                } else {
                    0
                }
            ],
            bias: vec![0.0; if wanted.bias { g.out_channels } else { 0 }],
        };
        let mut cols = vec![0.0f32; patch * positions];
        let mut dcols = vec![0.0f32; if wanted.x { patch * positions } else { 0 }];
        for (i, dy) in dy_chunk.chunks_exact(out_image).enumerate() {
            let image = &x[(first + i) * g.image()..(first + i + 1) * g.image()];
            let dy_matrix = Matrix::new(dy, g.out_channels, positions);
            if wanted.bias {
                for (db, row) in partial.bias.iter_mut().zip(dy.chunks_exact(positions)) {
                    *db += sum(row);
                }
            }
            if wanted.weight {
                let patches = if g.pointwise() {
                    image
                } else {
                    im2col(&g, image, &mut cols);
                    &cols
                };
                let patches = Matrix::new(patches, patch, positions).transposed();
                // dW is kept transposed (`[C·KH·KW, O]`) until the chunks are summed.
                matmul(
                    &mut partial.weight,
                    Layout::ColumnMajor,
                    dy_matrix,
                    patches,
                    true,
                    threads,
                );
            }
            if wanted.x {
                let dx_image = &mut dx_chunk[i * g.image()..(i + 1) * g.image()];
                if g.pointwise() {
                    let w_t = filters.transposed();
                    matmul(dx_image, Layout::RowMajor, w_t, dy_matrix, false, threads);
                } else {
                    let w_t = filters.transposed();
                    matmul(&mut dcols, Layout::RowMajor, w_t, dy_matrix, false, threads);
                    col2im(&g, &dcols, dx_image);
                }
            }
        }
        partial
    };

    let partials = partials(grad, per_chunk * out_image, &mut dx, dx_per_chunk, work);
    let total = |pick, len| total(&partials, pick, len);
    let dw = wanted.weight.then(|| {
        let transposed = total(|p| &p.weight, g.out_channels * patch);
        let mut dw = vec![0.0f32; g.out_channels * patch];
        for (t, row) in transposed.chunks_exact(g.out_channels).enumerate() {
            for (o, v) in row.iter().enumerate() {
                dw[o * patch + t] = *v;
            }
        }
        tensor(dw, [g.out_channels, g.channels, g.kernel[0], g.kernel[1]])
    });
    let db = wanted
        .bias
        .then(|| tensor(total(|p| &p.bias, g.out_channels), [g.out_channels]));
    let dx = wanted
        .x
        .then(|| tensor(dx, [g.batch, g.channels, g.height, g.width]));
    (dx, dw, db)
}

// ---------------------------------------------------------------------------------------
// Max-pooling over non-overlapping windows.

/// Whether the pooling fast path applies: f32, every window inside the image, and a window
/// small enough that a position inside it fits in one byte.
pub(super) fn pool_applies(x: &FlexTensor, kernel: [usize; 2]) -> bool {
    let [_, _, height, width] = x.shape().dims::<4>();
    x.dtype() == DType::F32
        && kernel[0] >= 1
        && kernel[1] >= 1
        && kernel[0] * kernel[1] <= 256
        && height >= kernel[0]
        && width >= kernel[1]
}

/// Where each maximum was: its position inside its window, row-major, one byte per output.
#[derive(Debug, Clone)]
pub struct FlatPool {
    input: [usize; 4],
    kernel: [usize; 2],
    argmax: Vec<u8>,
}

/// The plane (one channel of one image) count per parallel chunk.
fn planes_per_chunk(planes: usize) -> usize {
    planes.div_ceil(rayon::current_num_threads().max(1)).max(1)
}

/// `y[n, c, i, j] = max` over the window `[i·KH, (i+1)·KH) × [j·KW, (j+1)·KW)`.
pub(super) fn max_pool(x: &FlexTensor, kernel: [usize; 2]) -> (FlexTensor, FlatPool) {
    let [batch, channels, height, width] = x.shape().dims::<4>();
    let [kh, kw] = kernel;
    let (oh_n, ow_n) = (height / kh, width / kw);
    let x = contiguous(x);
    let x = slice(&x);
    let planes = batch * channels;
    let (plane_in, plane_out) = (height * width, oh_n * ow_n);
    let mut y = vec![0.0f32; planes * plane_out];
    let mut argmax = vec![0u8; planes * plane_out];
    let chunk = planes_per_chunk(planes);
    y.par_chunks_mut(chunk * plane_out)
        .zip(argmax.par_chunks_mut(chunk * plane_out))
        .zip(x.par_chunks(chunk * plane_in))
        .for_each(|((ys, args), xs)| {
            for ((y, arg), x) in ys
                .chunks_exact_mut(plane_out)
                .zip(args.chunks_exact_mut(plane_out))
                .zip(xs.chunks_exact(plane_in))
            {
                if kernel == [2, 2] {
                    pool_2x2(x, width, y, arg, ow_n);
                } else {
                    pool_any(x, width, kernel, y, arg, ow_n);
                }
            }
        });
    let trace = FlatPool {
        input: [batch, channels, height, width],
        kernel,
        argmax,
    };
    (tensor(y, [batch, channels, oh_n, ow_n]), trace)
}

/// The larger of `(value, position)` and a candidate, without a branch (which would
/// mispredict half the time on real data). Like `f32::max` (IEEE maxNum), a NaN loses to any
/// number; burn's pooling would return it.
#[inline(always)]
fn larger(best: (f32, u8), value: f32, at: u8) -> (f32, u8) {
    // `value > best`, or `best` is NaN and `value` is not. Bitwise `&`/`|`, not `&&`/`||`:
    // no branch.
    let wins = (value > best.0) | (best.0.is_nan() & !value.is_nan());
    if wins { (value, at) } else { best }
}

with_avx2! {
    /// One plane, 2x2 windows: two input rows at a time, written with plain indices so that
    /// the compiler vectorises it.
    fn pool_2x2(x: &[f32], width: usize, y: &mut [f32], arg: &mut [u8], ow_n: usize) {
        for ((y, arg), rows) in y
            .chunks_exact_mut(ow_n)
            .zip(arg.chunks_exact_mut(ow_n))
            .zip(x.chunks_exact(2 * width))
        {
            let (top, bottom) = (&rows[..2 * ow_n], &rows[width..width + 2 * ow_n]);
            let (y, arg) = (&mut y[..ow_n], &mut arg[..ow_n]);
            for ow in 0..ow_n {
                let (a, b) = (top[2 * ow], top[2 * ow + 1]);
                let (c, d) = (bottom[2 * ow], bottom[2 * ow + 1]);
                // `f32::max` ignores a NaN unless all four are (IEEE maxNum); burn's pooling
                // would return it. The first of equal maxima wins, as in burn.
                let m = a.max(b).max(c.max(d));
                y[ow] = m;
                let at = if c == m { 2 } else { 3 };
                let at = if b == m { 1 } else { at };
                arg[ow] = if a == m { 0 } else { at };
            }
        }
    }
}

with_avx2! {
    /// One plane, any window that fits in a byte.
    fn pool_any(
        x: &[f32],
        width: usize,
        kernel: [usize; 2],
        y: &mut [f32],
        arg: &mut [u8],
        ow_n: usize,
    ) {
        let [kh, kw] = kernel;
        for (oh, (y, arg)) in y
            .chunks_exact_mut(ow_n)
            .zip(arg.chunks_exact_mut(ow_n))
            .enumerate()
        {
            for (ow, (y, arg)) in y.iter_mut().zip(arg.iter_mut()).enumerate() {
                let corner = oh * kh * width + ow * kw;
                let mut best = (x[corner], 0u8);
                for i in 0..kh {
                    let row = &x[corner + i * width..corner + i * width + kw];
                    for (j, &v) in row.iter().enumerate() {
                        best = larger(best, v, (i * kw + j) as u8);
                    }
                }
                *y = best.0;
                *arg = best.1;
            }
        }
    }
}

with_avx2! {
    /// The 2x2 backward pass over one plane: each window's four inputs are written in one go
    /// (the gradient where the maximum was, 0 elsewhere), without a branch.
    fn unpool_2x2(dx: &mut [f32], width: usize, g: &[f32], arg: &[u8], ow_n: usize) {
        for ((rows, g), arg) in dx
            .chunks_exact_mut(2 * width)
            .zip(g.chunks_exact(ow_n))
            .zip(arg.chunks_exact(ow_n))
        {
            let (top, bottom) = rows.split_at_mut(width);
            let (top, bottom) = (&mut top[..2 * ow_n], &mut bottom[..2 * ow_n]);
            for ow in 0..ow_n {
                let (g, at) = (g[ow], arg[ow]);
                let pick = |k: u8| if at == k { g } else { 0.0 };
                top[2 * ow] = pick(0);
                top[2 * ow + 1] = pick(1);
                bottom[2 * ow] = pick(2);
                bottom[2 * ow + 1] = pick(3);
            }
        }
    }
}

/// Each output's gradient goes back to where its maximum was; every other input gets 0.
pub(super) fn max_pool_backward(trace: &FlatPool, grad: &FlexTensor) -> FlexTensor {
    let [batch, channels, height, width] = trace.input;
    let [kh, kw] = trace.kernel;
    let (oh_n, ow_n) = (height / kh, width / kw);
    let grad = contiguous(grad);
    let grad = slice(&grad);
    let planes = batch * channels;
    let (plane_in, plane_out) = (height * width, oh_n * ow_n);
    assert_eq!(
        grad.len(),
        planes * plane_out,
        "max_pool2d: gradient of the wrong size"
    );
    let mut dx = vec![0.0f32; planes * plane_in];
    let chunk = planes_per_chunk(planes);
    dx.par_chunks_mut(chunk * plane_in)
        .zip(grad.par_chunks(chunk * plane_out))
        .zip(trace.argmax.par_chunks(chunk * plane_out))
        .for_each(|((dxs, gs), args)| {
            for ((dx, g), arg) in dxs
                .chunks_exact_mut(plane_in)
                .zip(gs.chunks_exact(plane_out))
                .zip(args.chunks_exact(plane_out))
            {
                if kh == 2 && kw == 2 {
                    unpool_2x2(dx, width, g, arg, ow_n);
                    continue;
                }
                for oh in 0..oh_n {
                    for ow in 0..ow_n {
                        let at = arg[oh * ow_n + ow] as usize;
                        let (i, j) = (at / kw, at % kw);
                        dx[(oh * kh + i) * width + ow * kw + j] = g[oh * ow_n + ow];
                    }
                }
            }
        });
    tensor(dx, [batch, channels, height, width])
}
