//! 3x3, stride-1 convolutions by Winograd's minimal filtering F(4x4, 3x3) (Lavin and Gray,
//! *Fast Algorithms for Convolutional Neural Networks*, 2015).
//!
//! A 4x4 block of outputs of a 3x3 filter needs a 6x6 block of inputs (a *tile*). The direct
//! way takes 16·9 = 144 multiplications per tile and input channel; Winograd's takes 36. Each
//! tile `d` and each filter `g` are moved to a 6x6 "Winograd domain", `V = Bᵀ·d·B` and
//! `U = G·g·Gᵀ`, multiplied there point by point, and the product comes back as
//! `Y = Aᵀ·(U ⊙ V)·A` (the matrices are [`BT`], [`G`] and [`AT`] below). Summed over the input
//! channels, each of the 36 points is a matrix product, `M[ξ] = U[ξ]·V[ξ]` with
//! `U[ξ]: [O, C]` and `V[ξ]: [C, tiles]`: 4 times fewer multiply-adds than im2col's one
//! product, and the transformed input is 2.25 values per input value instead of im2col's 9.
//!
//! The backward pass stays in the same domain: the input gradient is the same kind of
//! correlation, of `dy` with the filters turned by 180° and their two channel axes swapped
//! (padding `2 − pad`); the weight gradient is `dU[ξ] = Z[ξ]·V[ξ]ᵀ` with `Z = A·dY·Aᵀ` the
//! output gradient of each tile moved into the domain, and `dg = Gᵀ·dU·G`. Tiles that reach
//! past the output's last row or column compute values nobody reads, and their gradient is
//! zero, so every result is exact up to rounding, which is a little larger than im2col's
//! (the transforms multiply by up to 8 and divide by 24; tests compare values and gradients
//! with burn's `conv2d` to 1e-5 of the largest value).
//!
//! Every transform works on whole planes at once: the values a tile needs are first sorted by
//! their place in the tile (the *phase* of their row and column modulo 4), so that applying
//! a transform matrix is a few long loops over all tiles, which the compiler vectorises.

use rayon::prelude::*;

use super::{Geometry, Partial, sum};
use crate::conv::Wanted;
use crate::matrix::{Layout, Matrix, matmul};

/// Outputs per tile side (F(4x4, 3x3)).
const M: usize = 4;
/// Inputs per tile side: `M + 3 − 1`.
const N: usize = 6;
/// The points of a tile in the Winograd domain.
const POINTS: usize = N * N;

/// The input transform `Bᵀ` (6x6). The code applies it as [`bt6`], written out with the
/// shared sums (as [`at4`] and [`a6`] for [`AT`]); a test checks that they agree.
#[cfg_attr(not(test), allow(dead_code))]
const BT: [[f32; N]; N] = [
    [4.0, 0.0, -5.0, 0.0, 1.0, 0.0],
    [0.0, -4.0, -4.0, 1.0, 1.0, 0.0],
    [0.0, 4.0, -4.0, -1.0, 1.0, 0.0],
    [0.0, -2.0, -1.0, 2.0, 1.0, 0.0],
    [0.0, 2.0, -1.0, -2.0, 1.0, 0.0],
    [0.0, 4.0, 0.0, -5.0, 0.0, 1.0],
];

/// The filter transform `G` (6x3).
const G: [[f32; 3]; N] = [
    [1.0 / 4.0, 0.0, 0.0],
    [-1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0],
    [-1.0 / 6.0, 1.0 / 6.0, -1.0 / 6.0],
    [1.0 / 24.0, 1.0 / 12.0, 1.0 / 6.0],
    [1.0 / 24.0, -1.0 / 12.0, 1.0 / 6.0],
    [0.0, 0.0, 1.0],
];

/// The output transform `Aᵀ` (4x6).
#[cfg_attr(not(test), allow(dead_code))]
const AT: [[f32; N]; M] = [
    [1.0, 1.0, 1.0, 1.0, 1.0, 0.0],
    [0.0, 1.0, -1.0, 2.0, -2.0, 0.0],
    [0.0, 1.0, 1.0, 4.0, 4.0, 0.0],
    [0.0, 1.0, -1.0, 8.0, -8.0, 1.0],
];

/// The fewest input and output channels for which this path is used: the matrix products'
/// inner dimension is a channel count, and with few channels (a first layer on RGB images)
/// im2col's 9-times-longer one is faster.
const MIN_CHANNELS: usize = 16;

/// The images of a thread's share are transformed and multiplied a few at a time, at least
/// this many tiles together, so that each matrix product has enough columns.
const MIN_COLUMNS: usize = 64;

/// Whether a convolution takes this path: a 3x3 kernel, stride 1 (no dilation, no groups:
/// checked by the caller), at most 2 of padding before the first row and column (so that the
/// input gradient's padding `2 − pad` is one too), and enough channels.
pub(super) fn applies(g: &Geometry) -> bool {
    g.kernel == [3, 3]
        && g.stride == [1, 1]
        && g.pad[0] <= 2
        && g.pad[1] <= 2
        && g.channels >= MIN_CHANNELS
        && g.out_channels >= MIN_CHANNELS
}

/// One correlation of planes `[height, width]` with a 3x3 filter, `pad` rows and columns of
/// zeros before the first, giving `out` rows and columns, covered by 4x4 tiles.
#[derive(Debug, Clone, Copy)]
struct Tiling {
    height: usize,
    width: usize,
    pad: [usize; 2],
    out: [usize; 2],
    /// Tile rows and columns: the output rounded up to a multiple of 4, over 4.
    tiles: [usize; 2],
}

impl Tiling {
    fn new(size: [usize; 2], pad: [usize; 2], out: [usize; 2]) -> Self {
        Tiling {
            height: size[0],
            width: size[1],
            pad,
            out,
            tiles: [out[0].div_ceil(M), out[1].div_ceil(M)],
        }
    }

    fn count(&self) -> usize {
        self.tiles[0] * self.tiles[1]
    }

    fn plane(&self) -> usize {
        self.height * self.width
    }

    /// Images per group: enough for [`MIN_COLUMNS`] tiles, at most `images`.
    fn group(&self, images: usize) -> usize {
        MIN_COLUMNS
            .div_ceil(self.count().max(1))
            .clamp(1, images.max(1))
    }
}

/// `G·g·Gᵀ` for one 3x3 filter (row-major) → 6x6 (row-major).
fn filter_to_domain(g: [f32; 9]) -> [f32; POINTS] {
    let mut tmp = [[0.0f32; 3]; N]; // G·g
    for (k, row) in tmp.iter_mut().enumerate() {
        for (j, value) in row.iter_mut().enumerate() {
            *value = (0..3).map(|l| G[k][l] * g[3 * l + j]).sum();
        }
    }
    std::array::from_fn(|xi| {
        let (k, l) = (xi / N, xi % N);
        (0..3).map(|j| tmp[k][j] * G[l][j]).sum()
    })
}

/// `Gᵀ·u·G` for one 6x6 gradient in the domain → 3x3 (row-major): the adjoint of
/// [`filter_to_domain`].
fn filter_from_domain(u: [f32; POINTS]) -> [f32; 9] {
    let mut tmp = [[0.0f32; N]; 3]; // Gᵀ·u
    for (k, row) in tmp.iter_mut().enumerate() {
        for (j, value) in row.iter_mut().enumerate() {
            *value = (0..N).map(|l| G[l][k] * u[N * l + j]).sum();
        }
    }
    std::array::from_fn(|at| {
        let (k, l) = (at / 3, at % 3);
        (0..N).map(|j| tmp[k][j] * G[j][l]).sum()
    })
}

/// The filters in the domain as 36 matrices `[rows, cols]`: `U[ξ][r][c]` from the 3x3 filter
/// `pick(r, c)`.
fn filters_to_domain(
    rows: usize,
    cols: usize,
    pick: impl Fn(usize, usize) -> [f32; 9],
) -> Vec<f32> {
    let mut u = vec![0.0f32; POINTS * rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            for (xi, value) in filter_to_domain(pick(r, c)).into_iter().enumerate() {
                u[(xi * rows + r) * cols + c] = value;
            }
        }
    }
    u
}

/// The 36 matrices of one group in the domain, `[36][rows][columns]`, each `stride` values
/// after the one before: a little more than `rows·columns`, so that the matrices a transform
/// writes at once do not start on the same cache sets (with `rows·columns` a multiple of
/// 1,024 they would).
#[derive(Debug, Clone, Copy)]
struct Points {
    rows: usize,
    columns: usize,
    stride: usize,
}

impl Points {
    fn new(rows: usize, columns: usize) -> Self {
        Points {
            rows,
            columns,
            stride: rows * columns + 16,
        }
    }

    fn len(&self) -> usize {
        POINTS * self.stride
    }

    /// Matrix `xi` as a view (its first `used` columns).
    fn matrix<'a>(&self, data: &'a [f32], xi: usize, used: usize) -> Matrix<'a> {
        Matrix {
            cols: used,
            ..Matrix::new(&data[xi * self.stride..], self.rows, self.columns)
        }
    }

    /// Where matrix `xi`'s row `row` starts, from column `offset`.
    fn at(&self, xi: usize, row: usize, offset: usize) -> usize {
        xi * self.stride + row * self.columns + offset
    }
}

/// `Bᵀ·d` for a column `d` of 6 values, written out with the shared sums (the matrix is
/// [`BT`]).
#[inline(always)]
fn bt6([d0, d1, d2, d3, d4, d5]: [f32; N]) -> [f32; N] {
    let (a, b) = (d4 - 4.0 * d2, d3 - 4.0 * d1);
    let (c, e) = (d4 - d2, 2.0 * (d3 - d1));
    [
        4.0 * d0 - 5.0 * d2 + d4,
        a + b,
        a - b,
        c + e,
        c - e,
        4.0 * d1 - 5.0 * d3 + d5,
    ]
}

/// `Aᵀ·m` for a column `m` of 6 values (the matrix is [`AT`]).
#[inline(always)]
fn at4([m0, m1, m2, m3, m4, m5]: [f32; N]) -> [f32; M] {
    let (s12, d12, s34, d34) = (m1 + m2, m1 - m2, m3 + m4, m3 - m4);
    [
        m0 + s12 + s34,
        d12 + 2.0 * d34,
        s12 + 4.0 * s34,
        d12 + 8.0 * d34 + m5,
    ]
}

/// `A·y` for a column `y` of 4 values (`A` is [`AT`] transposed).
#[inline(always)]
fn a6([y0, y1, y2, y3]: [f32; M]) -> [f32; N] {
    let (s02, s13) = (y0 + y2, y1 + y3);
    let (t02, t13) = (y0 + 4.0 * y2, 2.0 * y1 + 8.0 * y3);
    [y0, s02 + s13, s02 - s13, t02 + t13, t02 - t13, y3]
}

/// Defines `fn $name(src, dst, n, shift, f)`: `dst[·][t] = f(src[·][t]) + shift` for every
/// `t < n`, one pass over all the arrays. Each slice is cut to length `n` and bound to its own
/// name first, so that the loop has no bounds checks and the compiler vectorises it.
macro_rules! columns {
    ($name:ident, [$($s:ident),+], [$($d:ident),+], $i:literal, $o:literal) => {
        #[inline(always)]
        fn $name(
            src: [&[f32]; $i],
            dst: [&mut [f32]; $o],
            n: usize,
            shift: f32,
            f: impl Fn([f32; $i]) -> [f32; $o],
        ) {
            let [$($s),+] = src.map(|s| &s[..n]);
            let [$($d),+] = dst.map(|d| &mut d[..n]);
            for t in 0..n {
                let values = f([$($s[t]),+]);
                let mut k = 0;
                $(
                    $d[t] = values[k] + shift;
                    k += 1;
                )+
                let _ = k;
            }
        }
    };
}

columns!(
    columns_6_6,
    [s0, s1, s2, s3, s4, s5],
    [d0, d1, d2, d3, d4, d5],
    6,
    6
);
columns!(
    columns_6_4,
    [s0, s1, s2, s3, s4, s5],
    [d0, d1, d2, d3],
    6,
    4
);
columns!(
    columns_4_6,
    [s0, s1, s2, s3],
    [d0, d1, d2, d3, d4, d5],
    4,
    6
);

/// `O` disjoint stretches of `n` values of `data`, starting at `starts` (in increasing order).
fn stretches<const O: usize>(data: &mut [f32], starts: [usize; O], n: usize) -> [&mut [f32]; O] {
    let ranges = starts.map(|s| s..s + n);
    data.get_disjoint_mut(ranges)
        .expect("disjoint stretches inside the buffer")
}

with_avx2! {
    /// `V = Bᵀ·d·B` for every 6x6 tile of one image's planes `[C, H, W]`: tile `t` of plane
    /// `c` goes to column `offset + t` of row `c` of the 36 matrices `v` (`p`). `strip` is
    /// scratch space.
    ///
    /// Tile `(a, b)` reads rows `4a + k` and columns `4b + l` (k, l < 6) of the padded plane.
    /// First `e[l][r][b]` = padded row r, column `4b + l`, with the rows stored by phase
    /// (`r mod 4`, then `r / 4`), so that "row `4a + k` of every tile row" is one stretch;
    /// then `h = e·B` along the rows and `v = Bᵀ·h` down the columns, each one pass over all
    /// tiles.
    fn input_to_domain(
        planes: &[f32],
        t: &Tiling,
        v: &mut [f32],
        p: Points,
        offset: usize,
        strip: &mut Vec<f32>,
    ) {
        let [th, tw] = t.tiles;
        let tiles = th * tw;
        let wide = M * tw + 2; // the padded columns the tiles read
        let phase_rows = th + 1; // rows of each phase (4 phases cover 4·th + 4 ≥ 4·th + 2 rows)
        let block = phase_rows * tw; // one phase of one `e` or `h` array
        let array = M * block;
        strip.clear();
        strip.resize(wide + 2 * N * array, 0.0);
        let (padded, rest) = strip.split_at_mut(wide);
        let (e, h) = rest.split_at_mut(N * array);
        let row_at = |r: usize| (r % M) * block + (r / M) * tw;
        for (c, plane) in planes.chunks_exact(t.plane()).enumerate() {
            for r in 0..M * phase_rows {
                let input = r as isize - t.pad[0] as isize;
                if input < 0 || input >= t.height as isize {
                    for l in 0..N {
                        e[l * array + row_at(r)..][..tw].fill(0.0);
                    }
                    continue;
                }
                // Column i of `padded` is input column i − pad.
                let src = &plane[input as usize * t.width..][..t.width];
                let first = t.pad[1];
                let len = t.width.min(wide - first);
                padded[..first].fill(0.0);
                padded[first..first + len].copy_from_slice(&src[..len]);
                padded[first + len..].fill(0.0);
                for l in 0..N {
                    let dst = &mut e[l * array + row_at(r)..][..tw];
                    for (b, d) in dst.iter_mut().enumerate() {
                        *d = padded[M * b + l];
                    }
                }
            }
            let e = &*e;
            let src: [&[f32]; N] = std::array::from_fn(|l| &e[l * array..]);
            let dst = stretches(h, std::array::from_fn(|j| j * array), array);
            columns_6_6(src, dst, array, 0.0, bt6);
            let base = c * p.columns + offset;
            for j in 0..N {
                let h = &h[j * array..];
                let src: [&[f32]; N] = std::array::from_fn(|k| &h[row_at(k)..]);
                let starts = std::array::from_fn(|i| (i * N + j) * p.stride + base);
                columns_6_6(src, stretches(v, starts, tiles), tiles, 0.0, bt6);
            }
        }
    }
}

with_avx2! {
    /// `Y = Aᵀ·m·A` for every tile, back to one image's output planes `out: [O, OH, OW]`
    /// (plus `bias[o]` where given); `m` (`p`) holds this image's tiles from column `offset`.
    /// `strip` is scratch space. Both products are one pass over all tiles each; only the
    /// last step, putting each tile's 16 values in their places, goes row by row.
    fn output_from_domain(
        m: &[f32],
        t: &Tiling,
        p: Points,
        offset: usize,
        bias: Option<&[f32]>,
        out: &mut [f32],
        strip: &mut Vec<f32>,
    ) {
        let [_, tw] = t.tiles;
        let [oh, ow] = t.out;
        let tiles = t.count();
        strip.clear();
        strip.resize((M * N + M * M) * tiles, 0.0);
        // s[i][j] = (Aᵀ·m)[i][j]; y[i][l] = (Aᵀ·m·A)[i][l], each over all tiles.
        let (s, y) = strip.split_at_mut(M * N * tiles);
        for (o, plane) in out.chunks_exact_mut(oh * ow).enumerate() {
            let shift = bias.map_or(0.0, |b| b[o]);
            for j in 0..N {
                let src: [&[f32]; N] = std::array::from_fn(|k| &m[p.at(k * N + j, o, offset)..]);
                let starts = std::array::from_fn(|i| (i * N + j) * tiles);
                columns_6_4(src, stretches(s, starts, tiles), tiles, 0.0, at4);
            }
            for i in 0..M {
                let s = &s[i * N * tiles..];
                let src: [&[f32]; N] = std::array::from_fn(|j| &s[j * tiles..]);
                let starts = std::array::from_fn(|l| (i * M + l) * tiles);
                columns_6_4(src, stretches(y, starts, tiles), tiles, shift, at4);
            }
            for (row, out) in plane.chunks_exact_mut(ow).enumerate() {
                let (a, i) = (row / M, row % M);
                for (col, value) in out.iter_mut().enumerate() {
                    let (b, l) = (col / M, col % M);
                    *value = y[(i * M + l) * tiles + a * tw + b];
                }
            }
        }
    }
}

with_avx2! {
    /// `Z = A·dY·Aᵀ` for every 4x4 block of one image's output gradient `dy: [O, OH, OW]`
    /// (zero past the last row or column), into `z` (`p`) from column `offset`. The blocks'
    /// values are first sorted by their place in the block, so that both products are one
    /// pass over all tiles each.
    fn gradient_to_domain(
        dy: &[f32],
        t: &Tiling,
        z: &mut [f32],
        p: Points,
        offset: usize,
        strip: &mut Vec<f32>,
    ) {
        let [_, tw] = t.tiles;
        let [oh, ow] = t.out;
        let tiles = t.count();
        strip.clear();
        strip.resize((M * M + N * M) * tiles, 0.0);
        // y[i][l]: the block's value at (i, l); q[k][l] = (A·dY)[k][l].
        let (y, q) = strip.split_at_mut(M * M * tiles);
        for (o, plane) in dy.chunks_exact(oh * ow).enumerate() {
            if oh % M != 0 || ow % M != 0 {
                y.fill(0.0); // the blocks reaching past the output read zeros there
            }
            for (row, values) in plane.chunks_exact(ow).enumerate() {
                let (a, i) = (row / M, row % M);
                for (col, value) in values.iter().enumerate() {
                    let (b, l) = (col / M, col % M);
                    y[(i * M + l) * tiles + a * tw + b] = *value;
                }
            }
            let y = &*y;
            for l in 0..M {
                let src: [&[f32]; M] = std::array::from_fn(|i| &y[(i * M + l) * tiles..]);
                let starts = std::array::from_fn(|k| (k * M + l) * tiles);
                columns_4_6(src, stretches(q, starts, tiles), tiles, 0.0, a6);
            }
            for k in 0..N {
                let src: [&[f32]; M] = std::array::from_fn(|l| &q[(k * M + l) * tiles..]);
                let starts = std::array::from_fn(|j| p.at(k * N + j, o, offset));
                columns_4_6(src, stretches(z, starts, tiles), tiles, 0.0, a6);
            }
        }
    }
}

/// The 36 point-wise products of one group: `out[ξ] = filters[ξ]·v[ξ]`, with the filters
/// `[36][m][k]` one after the other and `v`, `out` laid out as `pv`, `po`.
fn products(out: &mut [f32], po: Points, filters: &[f32], v: &[f32], pv: Points, threads: usize) {
    let (m, k) = (po.rows, pv.rows);
    for (xi, lhs) in filters.chunks_exact(m * k).enumerate() {
        let dst = &mut out[xi * po.stride..xi * po.stride + m * po.columns];
        let lhs = Matrix::new(lhs, m, k);
        matmul(
            dst,
            Layout::RowMajor,
            lhs,
            pv.matrix(v, xi, pv.columns),
            false,
            threads,
        );
    }
}

thread_local! {
    /// Each thread's transform buffers, kept from one call to the next: fresh ones of a few
    /// megabytes each would come as new pages the kernel zero-fills on every call.
    static SCRATCH: std::cell::RefCell<Vec<Vec<f32>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` with `N` of this thread's scratch buffers, of the given lengths (their values
/// are left over from earlier calls: every use writes before it reads).
fn with_scratch<const N: usize, R>(lens: [usize; N], f: impl FnOnce([&mut Vec<f32>; N]) -> R) -> R {
    let mut buffers: [Vec<f32>; N] = std::array::from_fn(|_| {
        SCRATCH
            .with(|pool| pool.borrow_mut().pop())
            .unwrap_or_default()
    });
    for (buffer, len) in buffers.iter_mut().zip(lens) {
        buffer.resize(len, 0.0);
    }
    let result = f(buffers.each_mut());
    SCRATCH.with(|pool| pool.borrow_mut().extend(buffers));
    result
}

/// The tiling of the forward pass and of the input gradient's correlation.
fn tilings(g: &Geometry) -> (Tiling, Tiling) {
    let forward = Tiling::new([g.height, g.width], g.pad, [g.out_height, g.out_width]);
    // dx = dy correlated with the turned filters, padding 2 − pad, giving the input's size.
    let backward = Tiling::new(
        [g.out_height, g.out_width],
        [2 - g.pad[0], 2 - g.pad[1]],
        [g.height, g.width],
    );
    (forward, backward)
}

/// `y = conv(x, W) + b` for the whole batch (`[N, O, OH, OW]`).
pub(super) fn forward(g: &Geometry, x: &[f32], weight: &[f32], bias: &[f32]) -> Vec<f32> {
    let (t, _) = tilings(g);
    let (c_n, o_n) = (g.channels, g.out_channels);
    let u = filters_to_domain(o_n, c_n, |o, c| {
        let at = (o * c_n + c) * 9;
        weight[at..at + 9].try_into().expect("a 3x3 filter")
    });
    let out_image = o_n * g.positions();
    let mut y = vec![0.0f32; g.batch * out_image];
    let (per_chunk, threads) = super::split(g.batch);
    let group = t.group(per_chunk);
    let (pv, pm) = (
        Points::new(c_n, group * t.count()),
        Points::new(o_n, group * t.count()),
    );
    y.par_chunks_mut(per_chunk * out_image)
        .zip(x.par_chunks(per_chunk * g.image()))
        .for_each(|(ys, xs)| {
            with_scratch([pv.len(), pm.len(), 0], |[v, m, strip]| {
                for (ys, xs) in ys
                    .chunks_mut(group * out_image)
                    .zip(xs.chunks(group * g.image()))
                {
                    // A last, smaller group keeps the full column count: its unused columns
                    // are multiplied too but never read.
                    for (i, image) in xs.chunks_exact(g.image()).enumerate() {
                        input_to_domain(image, &t, v, pv, i * t.count(), strip);
                    }
                    products(m, pm, &u, v, pv, threads);
                    for (i, y) in ys.chunks_exact_mut(out_image).enumerate() {
                        output_from_domain(m, &t, pm, i * t.count(), Some(bias), y, strip);
                    }
                }
            })
        });
    y
}

/// `dx`, `dW` and `db`, each only when wanted.
type Grads = (Option<Vec<f32>>, Option<Vec<f32>>, Option<Vec<f32>>);

/// `dx`, `dW` and `db` (each only when wanted) for the whole batch.
pub(super) fn backward(
    g: &Geometry,
    x: &[f32],
    weight: &[f32],
    grad: &[f32],
    wanted: Wanted,
) -> Grads {
    let (t, tx) = tilings(g);
    let (c_n, o_n) = (g.channels, g.out_channels);
    let positions = g.positions();
    let out_image = o_n * positions;
    // The input gradient's filters: W turned by 180°, channel axes swapped (`[C, O]`).
    let u_turned = if wanted.x {
        filters_to_domain(c_n, o_n, |c, o| {
            let at = (o * c_n + c) * 9;
            let mut turned: [f32; 9] = weight[at..at + 9].try_into().expect("a 3x3 filter");
            turned.reverse();
            turned
        })
    } else {
        Vec::new()
    };
    let (per_chunk, threads) = super::split(g.batch);
    let mut dx = vec![0.0f32; if wanted.x { g.batch * g.image() } else { 0 }];
    let dx_per_chunk = if wanted.x { per_chunk * g.image() } else { 0 };
    // dW: x and dy in the domain; dx: dy (read as the input) and dx.
    let group = t.group(per_chunk);
    let (pv, pz) = (
        Points::new(c_n, group * t.count()),
        Points::new(o_n, group * t.count()),
    );
    let group_x = tx.group(per_chunk);
    let (pdy, pdx) = (
        Points::new(o_n, group_x * tx.count()),
        Points::new(c_n, group_x * tx.count()),
    );

    let weight_part =
        |first: usize, dys: &[f32], du: &mut [f32], [v, z, strip]: [&mut Vec<f32>; 3]| {
            let images = dys.len() / out_image;
            for start in (0..images).step_by(group) {
                let end = (start + group).min(images);
                for i in start..end {
                    let image = &x[(first + i) * g.image()..(first + i + 1) * g.image()];
                    let offset = (i - start) * t.count();
                    input_to_domain(image, &t, v, pv, offset, strip);
                    let dy = &dys[i * out_image..(i + 1) * out_image];
                    gradient_to_domain(dy, &t, z, pz, offset, strip);
                }
                // The columns of a last, smaller group hold an earlier group's tiles: leave them
                // out of the sum over tiles.
                let used = (end - start) * t.count();
                for (xi, du) in du.chunks_exact_mut(c_n * o_n).enumerate() {
                    let v_t = pv.matrix(v, xi, used).transposed();
                    // dU[ξ] = Z[ξ]·V[ξ]ᵀ, kept transposed (`[C, O]`).
                    matmul(
                        du,
                        Layout::ColumnMajor,
                        pz.matrix(z, xi, used),
                        v_t,
                        true,
                        threads,
                    );
                }
            }
        };
    let input_part = |dys: &[f32], dxs: &mut [f32], [v, m, strip]: [&mut Vec<f32>; 3]| {
        for (dxs, dys) in dxs
            .chunks_mut(group_x * g.image())
            .zip(dys.chunks(group_x * out_image))
        {
            for (i, dy) in dys.chunks_exact(out_image).enumerate() {
                input_to_domain(dy, &tx, v, pdy, i * tx.count(), strip);
            }
            products(m, pdx, &u_turned, v, pdy, threads);
            for (i, dx) in dxs.chunks_exact_mut(g.image()).enumerate() {
                output_from_domain(m, &tx, pdx, i * tx.count(), None, dx, strip);
            }
        }
    };

    let work = |(index, dys): (usize, &[f32]), dxs: &mut [f32]| -> Partial {
        let mut partial = Partial {
            weight: vec![0.0; if wanted.weight { POINTS * c_n * o_n } else { 0 }],
            bias: vec![0.0; if wanted.bias { o_n } else { 0 }],
        };
        if wanted.bias {
            for dy in dys.chunks_exact(out_image) {
                for (db, row) in partial.bias.iter_mut().zip(dy.chunks_exact(positions)) {
                    *db += sum(row);
                }
            }
        }
        if wanted.weight {
            let lens = [pv.len(), pz.len(), 0];
            with_scratch(lens, |buffers| {
                weight_part(index * per_chunk, dys, &mut partial.weight, buffers)
            });
        }
        if wanted.x {
            with_scratch([pdy.len(), pdx.len(), 0], |buffers| {
                input_part(dys, dxs, buffers)
            });
        }
        partial
    };
    // Each share's dU is stored `[36][C][O]` until the shares are summed.
    let partials = super::partials(grad, per_chunk * out_image, &mut dx, dx_per_chunk, work);
    let total = |pick, len| super::total(&partials, pick, len);
    let dw = wanted.weight.then(|| {
        let du = total(|p| &p.weight, POINTS * c_n * o_n);
        let mut dw = vec![0.0f32; o_n * c_n * 9];
        for o in 0..o_n {
            for c in 0..c_n {
                let point = |xi: usize| du[(xi * c_n + c) * o_n + o];
                let filter = filter_from_domain(std::array::from_fn(point));
                dw[(o * c_n + c) * 9..(o * c_n + c + 1) * 9].copy_from_slice(&filter);
            }
        }
        dw
    });
    let db = wanted.bias.then(|| total(|p| &p.bias, o_n));
    (wanted.x.then_some(dx), dw, db)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `rows·v` for a matrix given as rows.
    fn times<const R: usize, const C: usize>(rows: &[[f32; C]; R], v: [f32; C]) -> [f32; R] {
        std::array::from_fn(|r| (0..C).map(|c| rows[r][c] * v[c]).sum())
    }

    fn column(seed: usize) -> [f32; N] {
        std::array::from_fn(|k| ((seed * 7 + k * 13) % 11) as f32 - 5.0)
    }

    #[test]
    fn the_written_out_transforms_are_the_matrices() {
        for seed in 0..20 {
            let d = column(seed);
            assert_eq!(bt6(d), times(&BT, d), "Bᵀ·d");
            assert_eq!(at4(d), times(&AT, d), "Aᵀ·m");
            let y: [f32; M] = std::array::from_fn(|i| d[i]);
            let a: [[f32; M]; N] = std::array::from_fn(|k| std::array::from_fn(|i| AT[i][k]));
            assert_eq!(a6(y), times(&a, y), "A·y");
        }
    }

    /// One 6x6 tile and one filter through the domain give the tile's 4x4 correlation, and
    /// the filter's way back is the adjoint of its way in.
    #[test]
    fn one_tile_through_the_domain_is_its_correlation() {
        let d: [[f32; N]; N] = std::array::from_fn(|r| column(r + 3));
        let g: [f32; 9] = std::array::from_fn(|i| (i as f32 - 4.0) / 3.0);
        let u = filter_to_domain(g);
        // V = Bᵀ·d·B, column by column then row by row.
        let bd: [[f32; N]; N] = {
            let cols: [[f32; N]; N] =
                std::array::from_fn(|c| bt6(std::array::from_fn(|r| d[r][c])));
            std::array::from_fn(|r| bt6(std::array::from_fn(|c| cols[c][r])))
        };
        let product: [[f32; N]; N] =
            std::array::from_fn(|r| std::array::from_fn(|c| u[r * N + c] * bd[r][c]));
        let cols: [[f32; M]; N] =
            std::array::from_fn(|c| at4(std::array::from_fn(|r| product[r][c])));
        for i in 0..M {
            let row = at4(std::array::from_fn(|c| cols[c][i]));
            for (j, value) in row.into_iter().enumerate() {
                let direct: f32 = (0..9).map(|k| d[i + k / 3][j + k % 3] * g[k]).sum();
                assert!(
                    (value - direct).abs() < 1e-4 * direct.abs().max(1.0),
                    "({i}, {j}): {value} against {direct}"
                );
            }
        }
        // ⟨G·g·Gᵀ, w⟩ = ⟨g, Gᵀ·w·G⟩ for any w.
        let w: [f32; POINTS] = std::array::from_fn(|i| ((i * 5) % 7) as f32 - 3.0);
        let lhs: f32 = u.iter().zip(&w).map(|(a, b)| a * b).sum();
        let rhs: f32 = g
            .iter()
            .zip(filter_from_domain(w))
            .map(|(a, b)| a * b)
            .sum();
        assert!(
            (lhs - rhs).abs() < 1e-4 * lhs.abs().max(1.0),
            "{lhs} against {rhs}"
        );
    }
}
