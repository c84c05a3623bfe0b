//! 3x3, stride-1 convolutions by Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray,
//! *Fast Algorithms for Convolutional Neural Networks*, 2015).
//!
//! A 2x2 block of outputs of a 3x3 filter needs a 4x4 block of inputs (a *tile*). Written
//! out, the 36 multiplications of the direct way become 16: each tile `d` and each filter `g`
//! are first moved to a 4x4 "Winograd domain", `V = Bᵀ·d·B` and `U = G·g·Gᵀ`, where they are
//! multiplied point by point, and the product comes back as `Y = Aᵀ·(U ⊙ V)·A`:
//!
//! ```text
//!        ⎡1  0 −1  0⎤          ⎡ 1    0    0 ⎤
//!   Bᵀ = ⎢0  1  1  0⎥      G = ⎢1/2  1/2  1/2⎥      Aᵀ = ⎡1  1  1  0⎤
//!        ⎢0 −1  1  0⎥          ⎢1/2 −1/2  1/2⎥           ⎣0  1 −1 −1⎦
//!        ⎣0  1  0 −1⎦          ⎣ 0    0    1 ⎦
//! ```
//!
//! Summed over the input channels, each of the 16 points is a matrix product,
//! `M[ξ] = U[ξ]·V[ξ]` with `U[ξ]: [O, C]` and `V[ξ]: [C, tiles]`: 16 products of `O·C·tiles`
//! multiply-adds instead of im2col's one of `O·9C·4·tiles`, 2.25 times fewer, and the
//! transformed input is 4 values per input value instead of im2col's 9.
//!
//! The backward pass stays in the same domain: the input gradient is the same kind of
//! correlation, of `dy` with the filters turned by 180° and their two channel axes swapped
//! (padding `2 − pad`); the weight gradient is `dU[ξ] = Z[ξ]·V[ξ]ᵀ` with `Z = A·dY·Aᵀ` the
//! output gradient of each tile moved into the domain, and `dg = Gᵀ·dU·G`. Tiles that reach
//! past the output's last row or column compute values nobody reads, and their gradient is
//! zero, so every result is exact up to rounding (tests compare values and gradients with
//! burn's `conv2d`).

use rayon::prelude::*;

use super::{Geometry, sum};
use crate::conv::Wanted;
use crate::matrix::{Layout, Matrix, matmul};

/// The points of a 4x4 tile in the Winograd domain.
const POINTS: usize = 16;

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
    std::env::var_os("NO_WINOGRAD").is_none()
        && g.kernel == [3, 3]
        && g.stride == [1, 1]
        && g.pad[0] <= 2
        && g.pad[1] <= 2
        && g.channels >= MIN_CHANNELS
        && g.out_channels >= MIN_CHANNELS
}

/// One correlation of planes `[height, width]` with a 3x3 filter, `pad` rows and
/// columns of zeros before the first, giving `out` rows and columns, covered by 2x2 tiles.
#[derive(Debug, Clone, Copy)]
struct Tiling {
    height: usize,
    width: usize,
    pad: [usize; 2],
    out: [usize; 2],
    /// Tile rows and columns: the output rounded up to even.
    tiles: [usize; 2],
}

impl Tiling {
    fn new(size: [usize; 2], pad: [usize; 2], out: [usize; 2]) -> Self {
        Tiling {
            height: size[0],
            width: size[1],
            pad,
            out,
            tiles: [out[0].div_ceil(2), out[1].div_ceil(2)],
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

/// `G·g·Gᵀ` for one 3x3 filter (row-major) → 4x4 (row-major).
fn filter_to_domain(g: [f32; 9]) -> [f32; POINTS] {
    let col = |a: f32, b: f32, c: f32| [a, 0.5 * (a + b + c), 0.5 * (a - b + c), c];
    let mut tmp = [[0.0f32; 3]; 4]; // G·g: 4 rows of 3
    for j in 0..3 {
        let v = col(g[j], g[3 + j], g[6 + j]);
        for (k, row) in tmp.iter_mut().enumerate() {
            row[j] = v[k];
        }
    }
    let mut u = [0.0f32; POINTS];
    for (k, row) in tmp.iter().enumerate() {
        u[4 * k..4 * k + 4].copy_from_slice(&col(row[0], row[1], row[2]));
    }
    u
}

/// `Gᵀ·u·G` for one 4x4 gradient in the domain → 3x3 (row-major): the adjoint of
/// [`filter_to_domain`].
fn filter_from_domain(u: [f32; POINTS]) -> [f32; 9] {
    let col =
        |a: f32, b: f32, c: f32, d: f32| [a + 0.5 * (b + c), 0.5 * (b - c), 0.5 * (b + c) + d];
    let mut tmp = [[0.0f32; 4]; 3]; // Gᵀ·u: 3 rows of 4
    for j in 0..4 {
        let v = col(u[j], u[4 + j], u[8 + j], u[12 + j]);
        for (k, row) in tmp.iter_mut().enumerate() {
            row[j] = v[k];
        }
    }
    let mut g = [0.0f32; 9];
    for (k, row) in tmp.iter().enumerate() {
        g[3 * k..3 * k + 3].copy_from_slice(&col(row[0], row[1], row[2], row[3]));
    }
    g
}

/// The filters in the domain as 16 matrices `[rows, cols]`: `U[ξ][r][c]` from the 3x3 filter
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

/// The 16 matrices of one group in the domain, `[16][rows][columns]`, each `stride` values
/// after the one before: a little more than `rows·columns`, so that the 16 matrices a
/// transform writes at once do not start on the same cache sets (with `rows·columns` a
/// multiple of 1,024 they would, and the transforms ran at a fraction of their speed).
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
}

/// Splits `row` into its even and its odd entries.
#[inline(always)]
fn deinterleave(row: &[f32], even: &mut [f32], odd: &mut [f32]) {
    for ((pair, e), o) in row.chunks_exact(2).zip(even).zip(odd) {
        *e = pair[0];
        *o = pair[1];
    }
}

with_avx2! {
    /// `V = Bᵀ·d·B` for every 4x4 tile of one image's planes `[C, H, W]`: tile `t` of plane
    /// `c` goes to column `offset + t` of row `c` of the 16 matrices `v` (`p`). `strip` is
    /// scratch space.
    ///
    /// `·B` first, once per input row (each row belongs to two tile rows): a row's tiles read
    /// its columns 2b … 2b + 3, i.e. even[b], odd[b], even[b + 1], odd[b + 1]. The results are
    /// kept apart by the row's parity, so that `Bᵀ·` down the rows 2a … 2a + 3 of every tile
    /// row at once is four long loops over the whole plane, straight into `v`.
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
        let wide = 2 * tw + 2; // the columns the tiles of one row read
        let half = tw + 1;
        // h[j][parity][a][b]: input row 2a + parity (minus the padding) times B, point j.
        let rows = 2 * th + 2;
        let block = (th + 1) * tw;
        strip.clear();
        strip.resize(wide + 2 * rows * half + 8 * block, 0.0);
        let (padded, rest) = strip.split_at_mut(wide);
        let (split, h) = rest.split_at_mut(2 * rows * half);
        for (c, plane) in planes.chunks_exact(t.plane()).enumerate() {
            // Every row's even and odd columns first, then B along the rows: a vector load
            // right after the scalar stores it overlaps would wait for them (store-to-load
            // forwarding fails), which made this function twice as slow.
            for (r, split) in split.chunks_exact_mut(2 * half).enumerate() {
                let (even, odd) = split.split_at_mut(half);
                let input = r as isize - t.pad[0] as isize;
                if input < 0 || input >= t.height as isize {
                    even.fill(0.0);
                    odd.fill(0.0);
                    continue;
                }
                // Column i of `padded` is input column i − pad.
                let src = &plane[input as usize * t.width..(input as usize + 1) * t.width];
                let first = t.pad[1];
                let len = t.width.min(wide - first);
                padded[..first].fill(0.0);
                padded[first..first + len].copy_from_slice(&src[..len]);
                padded[first + len..].fill(0.0);
                deinterleave(padded, even, odd);
            }
            for (r, split) in split.chunks_exact(2 * half).enumerate() {
                let (even, odd) = split.split_at(half);
                let at = |j: usize| (2 * j + r % 2) * block + r / 2 * tw;
                combine(&mut h[at(0)..at(0) + tw], &even[..tw], &even[1..], |x, y| x - y);
                combine(&mut h[at(1)..at(1) + tw], &odd[..tw], &even[1..], |x, y| x + y);
                combine(&mut h[at(2)..at(2) + tw], &even[1..], &odd[..tw], |x, y| x - y);
                combine(&mut h[at(3)..at(3) + tw], &odd[..tw], &odd[1..], |x, y| x - y);
            }
            // Bᵀ· down rows 2a, 2a + 1, 2a + 2, 2a + 3: (even, odd) rows a, then a + 1.
            let base = c * p.columns + offset;
            for j in 0..4 {
                let (e, o) = h[2 * j * block..(2 * j + 2) * block].split_at(block);
                let (d0, d1, d2, d3) = (&e[..tiles], &o[..tiles], &e[tw..], &o[tw..]);
                let at = |i: usize| (4 * i + j) * p.stride + base;
                combine(&mut v[at(0)..at(0) + tiles], d0, d2, |x, y| x - y);
                combine(&mut v[at(1)..at(1) + tiles], d1, d2, |x, y| x + y);
                combine(&mut v[at(2)..at(2) + tiles], d2, d1, |x, y| x - y);
                combine(&mut v[at(3)..at(3) + tiles], d1, d3, |x, y| x - y);
            }
        }
    }
}

/// `dst[i] = f(a[i], b[i])`, in a loop the compiler vectorises.
#[inline(always)]
fn combine(dst: &mut [f32], a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) {
    for ((d, a), b) in dst.iter_mut().zip(a).zip(b) {
        *d = f(*a, *b);
    }
}

/// `dst[i] = f(a[i], b[i], c[i])`, in a loop the compiler vectorises.
#[inline(always)]
fn combine3(dst: &mut [f32], a: &[f32], b: &[f32], c: &[f32], f: impl Fn(f32, f32, f32) -> f32) {
    for (((d, a), b), c) in dst.iter_mut().zip(a).zip(b).zip(c) {
        *d = f(*a, *b, *c);
    }
}

with_avx2! {
    /// `Y = Aᵀ·m·A` for every tile, back to one image's output planes `out: [O, OH, OW]`
    /// (plus `bias[o]` where given); `m` (`p`) holds this image's tiles from column `offset`.
    /// `strip` is scratch space. Both steps run over all tiles at once; only the last one,
    /// putting the four values of each tile in their places, goes row by row.
    fn output_from_domain(
        m: &[f32],
        t: &Tiling,
        p: Points,
        offset: usize,
        bias: Option<&[f32]>,
        out: &mut [f32],
        strip: &mut Vec<f32>,
    ) {
        let [th, tw] = t.tiles;
        let [oh, ow] = t.out;
        let tiles = th * tw;
        strip.clear();
        strip.resize(12 * tiles, 0.0);
        let (s, y) = strip.split_at_mut(8 * tiles);
        for (o, plane) in out.chunks_exact_mut(oh * ow).enumerate() {
            let shift = bias.map_or(0.0, |b| b[o]);
            let base = o * p.columns + offset;
            let point = |xi: usize| &m[xi * p.stride + base..xi * p.stride + base + tiles];
            // Aᵀ·m down the columns: s[i][j], output row i of the tile, its column j.
            let (s_top, s_bottom) = s.split_at_mut(4 * tiles);
            for j in 0..4 {
                let (m0, m1, m2, m3) = (point(j), point(4 + j), point(8 + j), point(12 + j));
                let top = &mut s_top[j * tiles..(j + 1) * tiles];
                combine3(top, m0, m1, m2, |a, b, c| a + b + c);
                let bottom = &mut s_bottom[j * tiles..(j + 1) * tiles];
                combine3(bottom, m1, m2, m3, |a, b, c| a - b - c);
            }
            // ·A along the rows: y[i][parity], the tile's output (i, parity).
            for (i, s) in s.chunks_exact(4 * tiles).enumerate() {
                let (s0, s) = s.split_at(tiles);
                let (s1, s) = s.split_at(tiles);
                let (s2, s3) = s.split_at(tiles);
                let (y0, y1) = y[2 * i * tiles..(2 * i + 2) * tiles].split_at_mut(tiles);
                combine3(y0, s0, s1, s2, |a, b, c| a + b + c + shift);
                combine3(y1, s1, s2, s3, |a, b, c| a - b - c + shift);
            }
            // Each tile's four values to their places.
            for (row, out) in plane.chunks_exact_mut(ow).enumerate() {
                let (a, i) = (row / 2, row % 2);
                let at = |parity: usize| (2 * i + parity) * tiles + a * tw;
                let (even, odd) = (&y[at(0)..at(0) + tw], &y[at(1)..at(1) + tw]);
                let (pairs, last) = out.split_at_mut(ow / 2 * 2);
                for ((pair, e), o) in pairs.chunks_exact_mut(2).zip(even).zip(odd) {
                    pair[0] = *e;
                    pair[1] = *o;
                }
                if let Some(y) = last.first_mut() {
                    *y = even[tw - 1];
                }
            }
        }
    }
}

with_avx2! {
    /// `Z = A·dY·Aᵀ` for every 2x2 block of one image's output gradient `dy: [O, OH, OW]`
    /// (zero past the last row or column), into `z` (`p`) from column `offset`. The blocks'
    /// four values are first sorted by their place in the block, so that both steps are long
    /// loops over all tiles.
    fn gradient_to_domain(
        dy: &[f32],
        t: &Tiling,
        z: &mut [f32],
        p: Points,
        offset: usize,
        strip: &mut Vec<f32>,
    ) {
        let [th, tw] = t.tiles;
        let [oh, ow] = t.out;
        let tiles = th * tw;
        strip.clear();
        strip.resize(12 * tiles, 0.0);
        // y[i][parity]: the block's value at (i, parity); then q[k][parity] = (A·dY)[k].
        let (y, q) = strip.split_at_mut(4 * tiles);
        for (o, plane) in dy.chunks_exact(oh * ow).enumerate() {
            for (row, values) in plane.chunks_exact(ow).enumerate() {
                let (a, i) = (row / 2, row % 2);
                let (even, odd) = y[2 * i * tiles..(2 * i + 2) * tiles].split_at_mut(tiles);
                let (even, odd) = (&mut even[a * tw..(a + 1) * tw], &mut odd[a * tw..(a + 1) * tw]);
                let (pairs, last) = values.split_at(ow / 2 * 2);
                deinterleave(pairs, even, odd);
                if let Some(v) = last.first() {
                    even[tw - 1] = *v;
                    odd[tw - 1] = 0.0;
                }
            }
            if oh % 2 == 1 {
                // The last tile row's second row lies past the output.
                y[2 * tiles + (th - 1) * tw..3 * tiles].fill(0.0);
                y[3 * tiles + (th - 1) * tw..].fill(0.0);
            }
            // A·dY: rows (y0, y0 + y1, y0 − y1, −y1), both columns of the block.
            let (y0, y1) = y.split_at(2 * tiles);
            let (q0, r) = q.split_at_mut(2 * tiles);
            let (q1, r) = r.split_at_mut(2 * tiles);
            let (q2, q3) = r.split_at_mut(2 * tiles);
            q0.copy_from_slice(y0);
            combine(q1, y0, y1, |a, b| a + b);
            combine(q2, y0, y1, |a, b| a - b);
            combine(q3, y1, y1, |_, b| -b);
            // ·Aᵀ along each row: (c0, c0 + c1, c0 − c1, −c1).
            let base = o * p.columns + offset;
            for (i, row) in [&*q0, &*q1, &*q2, &*q3].into_iter().enumerate() {
                let (c0, c1) = row.split_at(tiles);
                let at = |j: usize| (4 * i + j) * p.stride + base;
                z[at(0)..at(0) + tiles].copy_from_slice(c0);
                combine(&mut z[at(1)..at(1) + tiles], c0, c1, |a, b| a + b);
                combine(&mut z[at(2)..at(2) + tiles], c0, c1, |a, b| a - b);
                combine(&mut z[at(3)..at(3) + tiles], c1, c1, |_, b| -b);
            }
        }
    }
}

/// The 16 point-wise products of one group: `out[ξ] = filters[ξ]·v[ξ]`, with the filters
/// `[16][m][k]` one after the other and `v`, `out` laid out as `pv`, `po`.
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

/// The gradients of one thread's share of the batch: `dU` (weights, in the domain, stored
/// `[16][C][O]`) and `db`, summed over its images.
struct Partial {
    weight: Vec<f32>,
    bias: Vec<f32>,
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
    let dy_chunks = grad.par_chunks(per_chunk * out_image).enumerate();
    let partials: Vec<Partial> = if wanted.x {
        dy_chunks
            .zip(dx.par_chunks_mut(dx_per_chunk))
            .map(|(chunk, dx)| work(chunk, dx))
            .collect()
    } else {
        dy_chunks.map(|chunk| work(chunk, &mut [])).collect()
    };

    // Sum the shares in order (a run repeats exactly on the same number of threads).
    let total = |pick: fn(&Partial) -> &Vec<f32>, len: usize| {
        let mut total = vec![0.0f32; len];
        for partial in &partials {
            for (t, p) in total.iter_mut().zip(pick(partial)) {
                *t += *p;
            }
        }
        total
    };
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
