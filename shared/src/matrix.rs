//! Matrix products on f32 slices through the `gemm` crate (the library flex itself uses), for
//! the layers with their own kernels on flex (`conv`, `recurrent`): views with any strides,
//! so that a transposed operand costs no copy, and one checked `unsafe` call.

/// A matrix inside a slice: element `(i, j)` at `data[i·row_stride + j·col_stride]`.
#[derive(Clone, Copy)]
pub(crate) struct Matrix<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a> Matrix<'a> {
    /// A row-major `[rows, cols]` matrix.
    pub fn new(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Matrix {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    pub fn transposed(self) -> Self {
        Matrix {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    /// Whether every element lies inside `data`.
    fn in_bounds(&self) -> bool {
        self.rows == 0
            || self.cols == 0
            || (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride
                < self.data.len()
    }
}

/// How a product's `[m, n]` result is stored.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Element `(i, j)` at `i·n + j`.
    RowMajor,
    /// Element `(i, j)` at `j·m + i`: the transpose, row-major. gemm is several times faster
    /// writing a weight gradient this way (measured: 18 against 83 GFLOP/s on one core).
    ColumnMajor,
}

/// `dst = lhs·rhs` (or `dst += lhs·rhs` with `accumulate`).
pub(crate) fn matmul(
    dst: &mut [f32],
    layout: Layout,
    lhs: Matrix,
    rhs: Matrix,
    accumulate: bool,
    threads: usize,
) {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    assert!(
        rhs.rows == k && dst.len() == m * n,
        "matmul: shapes do not match"
    );
    assert!(
        lhs.in_bounds() && rhs.in_bounds(),
        "matmul: a view reaches past its slice"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst.fill(0.0);
        }
        return;
    }
    let parallelism = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    let (dst_row_stride, dst_col_stride) = match layout {
        Layout::RowMajor => (n as isize, 1),
        Layout::ColumnMajor => (1, m as isize),
    };
    // SAFETY: the asserts above check that every element gemm reads (rows·cols of each
    // operand at the given strides) lies inside its slice and that `dst` holds `m·n` values;
    // the three slices come from distinct borrows, so `dst` does not alias an operand.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            dst_col_stride,
            dst_row_stride,
            accumulate,
            lhs.data.as_ptr(),
            lhs.col_stride as isize,
            lhs.row_stride as isize,
            rhs.data.as_ptr(),
            rhs.col_stride as isize,
            rhs.row_stride as isize,
            1.0f32,
            1.0f32,
            false,
            false,
            false,
            parallelism,
        );
    }
}
