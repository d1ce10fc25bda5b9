//! Scan-friendly storage of the index's rows.
//!
//! Each row is kept three ways, in three column arrays: the `f32` vector (exact search and
//! re-ranking), its `i8` quantisation (the `i8` scan) and its sign code (the fast search's
//! first stage). Rows live in chunks; within a chunk every column is one contiguous,
//! 64-byte-aligned block with rows padded to whole cache lines, so a scan is a sequential read
//! that the prefetchers follow and SIMD loads never straddle a line needlessly.
//!
//! Chunks never move or grow: adding a row fills the last chunk or allocates a new one (64
//! rows, then twice as many up to 4096), and removing a row moves the last row into its place.
//! No operation copies the gallery, and no byte is let go without being wiped first: removed
//! rows are zeroized on the spot, chunks on drop.

use std::ops::Range;

use bytemuck::{Pod, Zeroable};
use zeroize::Zeroize;

use crate::quant::Quantised;

/// One cache line: the unit of allocation, so that every column block is 64-byte aligned.
#[derive(Clone, Copy, Pod, Zeroable)]
#[repr(C, align(64))]
struct Line([u8; 64]);

const FIRST_CHUNK_ROWS: usize = 64;
const MAX_CHUNK_ROWS: usize = 4096;

/// Row widths of the three columns, each padded to whole cache lines (the padding is zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    /// Logical dimension.
    pub(crate) dim: usize,
    /// `f32` elements per row (multiple of 16).
    pub(crate) f32_stride: usize,
    /// `i8` elements per row (multiple of 64).
    pub(crate) i8_stride: usize,
    /// `u64` code words per row (codes are whole multiples of 512 bits: see `SignCoder`).
    pub(crate) code_words: usize,
}

impl Layout {
    pub(crate) fn new(dim: usize, code_words: usize) -> Self {
        Layout {
            dim,
            f32_stride: dim.next_multiple_of(16),
            i8_stride: dim.next_multiple_of(64),
            code_words,
        }
    }

    fn lines(&self, rows: usize) -> [usize; 3] {
        [
            (rows * self.f32_stride * 4).div_ceil(64),
            (rows * self.i8_stride).div_ceil(64),
            (rows * self.code_words * 8).div_ceil(64),
        ]
    }
}

/// Everything stored about one row besides its vectors.
#[derive(Clone, Copy, Default, Pod, Zeroable)]
#[repr(C)]
pub(crate) struct Meta {
    pub(crate) quant: Quantised,
    pub(crate) group: u32,
}

struct Chunk {
    cap: usize,
    f32s: Vec<Line>,
    i8s: Vec<Line>,
    codes: Vec<Line>,
    meta: Vec<Meta>,
}

impl Chunk {
    fn new(layout: &Layout, cap: usize) -> Self {
        let [f, i, c] = layout.lines(cap);
        Chunk {
            cap,
            f32s: vec![Line::zeroed(); f],
            i8s: vec![Line::zeroed(); i],
            codes: vec![Line::zeroed(); c],
            meta: Vec::with_capacity(cap),
        }
    }

    fn len(&self) -> usize {
        self.meta.len()
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        for col in [&mut self.f32s, &mut self.i8s, &mut self.codes] {
            bytemuck::cast_slice_mut::<Line, u8>(col).zeroize();
        }
        bytemuck::cast_slice_mut::<Meta, u8>(&mut self.meta).zeroize();
    }
}

/// A contiguous run of rows inside one chunk, as seen by a scan.
pub(crate) struct Span<'a> {
    /// Index of the first row in the whole store.
    pub(crate) start: usize,
    pub(crate) f32s: &'a [f32],
    pub(crate) i8s: &'a [i8],
    pub(crate) codes: &'a [u64],
    pub(crate) meta: &'a [Meta],
}

impl<'a> Span<'a> {
    /// This run cut into runs of at most `n` rows, for kernel calls of a bounded size.
    pub(crate) fn blocks(self, n: usize) -> impl Iterator<Item = Span<'a>> {
        let rows = self.meta.len().max(1);
        let (fs, is, cs) = (
            self.f32s.len() / rows,
            self.i8s.len() / rows,
            self.codes.len() / rows,
        );
        self.meta
            .chunks(n.max(1))
            .enumerate()
            .map(move |(b, meta)| {
                let (lo, hi) = (b * n, b * n + meta.len());
                Span {
                    start: self.start + lo,
                    f32s: &self.f32s[lo * fs..hi * fs],
                    i8s: &self.i8s[lo * is..hi * is],
                    codes: &self.codes[lo * cs..hi * cs],
                    meta,
                }
            })
    }
}

/// One row's data, borrowed from the caller for [`Store::push`].
pub(crate) struct NewRow<'a> {
    pub(crate) f32s: &'a [f32],
    pub(crate) i8s: &'a [i8],
    pub(crate) code: &'a [u64],
    pub(crate) meta: Meta,
}

/// The rows of an index.
pub(crate) struct Store {
    layout: Layout,
    chunks: Vec<Chunk>,
    /// `starts[c]` is the index of chunk `c`'s first row.
    starts: Vec<usize>,
    len: usize,
}

impl Store {
    pub(crate) fn new(layout: Layout) -> Self {
        Store {
            layout,
            chunks: Vec::new(),
            starts: Vec::new(),
            len: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Bytes of the `f32` column (what an exact scan reads).
    pub(crate) fn f32_bytes(&self) -> usize {
        self.len * self.layout.f32_stride * 4
    }

    /// Appends a row (its slices are exactly one padded row each); returns its index.
    pub(crate) fn push(&mut self, row: NewRow<'_>) -> usize {
        if self.chunks.last().is_none_or(|c| c.len() == c.cap) {
            let cap = self
                .chunks
                .last()
                .map_or(FIRST_CHUNK_ROWS, |c| (c.cap * 2).min(MAX_CHUNK_ROWS));
            self.starts.push(self.len);
            self.chunks.push(Chunk::new(&self.layout, cap));
        }
        let layout = self.layout;
        let chunk = self
            .chunks
            .last_mut()
            .expect("a chunk with room was just ensured");
        let r = chunk.len();
        f32_rows_mut(&mut chunk.f32s, layout.f32_stride, r).copy_from_slice(row.f32s);
        i8_rows_mut(&mut chunk.i8s, layout.i8_stride, r).copy_from_slice(row.i8s);
        code_rows_mut(&mut chunk.codes, layout.code_words, r).copy_from_slice(row.code);
        chunk.meta.push(row.meta);
        self.len += 1;
        self.len - 1
    }

    /// Removes row `i` (< len) by moving the last row into its place; the last row's old place
    /// is zeroized, and a chunk left empty is freed (zeroized too).
    pub(crate) fn swap_remove(&mut self, i: usize) {
        let last = self.len - 1;
        let layout = self.layout;
        let (ci, ri) = self.locate(i);
        let (cl, rl) = self.locate(last);
        if i != last {
            let (dst, src) = if ci == cl {
                let chunk = &mut self.chunks[ci];
                copy_within_lines(&mut chunk.f32s, layout.f32_stride * 4, rl, ri);
                copy_within_lines(&mut chunk.i8s, layout.i8_stride, rl, ri);
                copy_within_lines(&mut chunk.codes, layout.code_words * 8, rl, ri);
                chunk.meta[ri] = chunk.meta[rl];
                (None, None)
            } else {
                let (head, tail) = self.chunks.split_at_mut(cl);
                (Some(&mut head[ci]), Some(&tail[0]))
            };
            if let (Some(dst), Some(src)) = (dst, src) {
                copy_lines(&mut dst.f32s, &src.f32s, layout.f32_stride * 4, rl, ri);
                copy_lines(&mut dst.i8s, &src.i8s, layout.i8_stride, rl, ri);
                copy_lines(&mut dst.codes, &src.codes, layout.code_words * 8, rl, ri);
                dst.meta[ri] = src.meta[rl];
            }
        }
        let chunk = &mut self.chunks[cl];
        f32_rows_mut(&mut chunk.f32s, layout.f32_stride, rl).zeroize();
        i8_rows_mut(&mut chunk.i8s, layout.i8_stride, rl).zeroize();
        code_rows_mut(&mut chunk.codes, layout.code_words, rl).zeroize();
        // Wiped in place: the vector's spare capacity must not keep the row's scale and group.
        bytemuck::bytes_of_mut(&mut chunk.meta[rl]).zeroize();
        chunk.meta.pop();
        if chunk.len() == 0 {
            self.chunks.pop();
            self.starts.pop();
        }
        self.len -= 1;
    }

    /// Chunk and row-within-chunk of row `i`.
    fn locate(&self, i: usize) -> (usize, usize) {
        let c = self.starts.partition_point(|&s| s <= i) - 1;
        (c, i - self.starts[c])
    }

    pub(crate) fn meta(&self, i: usize) -> &Meta {
        let (c, r) = self.locate(i);
        &self.chunks[c].meta[r]
    }

    pub(crate) fn f32_row(&self, i: usize) -> &[f32] {
        let (c, r) = self.locate(i);
        let s = self.layout.f32_stride;
        &bytemuck::cast_slice::<Line, f32>(&self.chunks[c].f32s)[r * s..(r + 1) * s]
    }

    pub(crate) fn i8_row(&self, i: usize) -> &[i8] {
        let (c, r) = self.locate(i);
        let s = self.layout.i8_stride;
        &bytemuck::cast_slice::<Line, i8>(&self.chunks[c].i8s)[r * s..(r + 1) * s]
    }

    /// The rows in `range`, as runs of contiguous rows (one per chunk touched).
    pub(crate) fn spans(&self, range: Range<usize>) -> impl Iterator<Item = Span<'_>> {
        let layout = self.layout;
        let first = if range.is_empty() {
            self.chunks.len()
        } else {
            self.locate(range.start).0
        };
        self.chunks[first..]
            .iter()
            .zip(&self.starts[first..])
            .map_while(move |(chunk, &start)| {
                if start >= range.end {
                    return None;
                }
                let lo = range.start.max(start) - start;
                let hi = range.end.min(start + chunk.len()) - start;
                let f = bytemuck::cast_slice::<Line, f32>(&chunk.f32s);
                let i = bytemuck::cast_slice::<Line, i8>(&chunk.i8s);
                let c = bytemuck::cast_slice::<Line, u64>(&chunk.codes);
                Some(Span {
                    start: start + lo,
                    f32s: &f[lo * layout.f32_stride..hi * layout.f32_stride],
                    i8s: &i[lo * layout.i8_stride..hi * layout.i8_stride],
                    codes: &c[lo * layout.code_words..hi * layout.code_words],
                    meta: &chunk.meta[lo..hi],
                })
            })
    }
}

fn f32_rows_mut(lines: &mut [Line], stride: usize, r: usize) -> &mut [f32] {
    &mut bytemuck::cast_slice_mut::<Line, f32>(lines)[r * stride..(r + 1) * stride]
}

fn i8_rows_mut(lines: &mut [Line], stride: usize, r: usize) -> &mut [i8] {
    &mut bytemuck::cast_slice_mut::<Line, i8>(lines)[r * stride..(r + 1) * stride]
}

fn code_rows_mut(lines: &mut [Line], words: usize, r: usize) -> &mut [u64] {
    &mut bytemuck::cast_slice_mut::<Line, u64>(lines)[r * words..(r + 1) * words]
}

fn copy_within_lines(lines: &mut [Line], row_bytes: usize, from: usize, to: usize) {
    let bytes = bytemuck::cast_slice_mut::<Line, u8>(lines);
    bytes.copy_within(from * row_bytes..(from + 1) * row_bytes, to * row_bytes);
}

fn copy_lines(dst: &mut [Line], src: &[Line], row_bytes: usize, from: usize, to: usize) {
    let d = bytemuck::cast_slice_mut::<Line, u8>(dst);
    let s = bytemuck::cast_slice::<Line, u8>(src);
    d[to * row_bytes..(to + 1) * row_bytes]
        .copy_from_slice(&s[from * row_bytes..(from + 1) * row_bytes]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> Layout {
        Layout::new(5, 1)
    }

    fn push(store: &mut Store, v: f32) {
        let l = store.layout;
        let mut f = vec![0.0; l.f32_stride];
        f[..l.dim].fill(v);
        let i = vec![v as i8; l.i8_stride];
        store.push(NewRow {
            f32s: &f,
            i8s: &i,
            code: &[v as u64],
            meta: Meta {
                group: v as u32,
                ..Meta::default()
            },
        });
    }

    fn all_rows(store: &Store) -> Vec<f32> {
        store
            .spans(0..store.len())
            .flat_map(|s| s.meta.iter().map(|m| m.group as f32).collect::<Vec<_>>())
            .collect()
    }

    #[test]
    fn rows_span_chunks_in_order() {
        let mut store = Store::new(layout());
        for v in 0..300 {
            push(&mut store, v as f32);
        }
        assert_eq!(store.chunks.len(), 3); // 64 + 128 + 256
        let expected: Vec<f32> = (0..300).map(|v| v as f32).collect();
        assert_eq!(all_rows(&store), expected);
        for s in store.spans(10..200) {
            assert_eq!(s.f32s.len(), s.meta.len() * 16);
            assert_eq!(s.f32s[0], s.start as f32);
        }
        assert_eq!(
            store.spans(10..200).map(|s| s.meta.len()).sum::<usize>(),
            190
        );
        assert_eq!(store.spans(5..5).count(), 0);
    }

    #[test]
    fn swap_remove_moves_the_last_row_across_chunks_and_wipes_its_old_place() {
        let mut store = Store::new(layout());
        for v in 0..65 {
            push(&mut store, v as f32 + 1.0);
        }
        store.swap_remove(3);
        assert_eq!(store.len(), 64);
        assert_eq!(store.chunks.len(), 1, "the emptied chunk is freed");
        assert_eq!(store.f32_row(3)[0], 65.0);
        assert_eq!(store.i8_row(3)[0], 65);
        assert_eq!(store.meta(3).group, 65);
        store.swap_remove(10);
        assert_eq!(store.f32_row(10)[0], 64.0);
        // The vacated slot (row 63) is zero in every column.
        let chunk = &store.chunks[0];
        let f = bytemuck::cast_slice::<Line, f32>(&chunk.f32s);
        assert!(f[63 * 16..64 * 16].iter().all(|&x| x == 0.0));
        let i = bytemuck::cast_slice::<Line, i8>(&chunk.i8s);
        assert!(i[63 * 64..64 * 64].iter().all(|&x| x == 0));
        let c = bytemuck::cast_slice::<Line, u64>(&chunk.codes);
        assert_eq!(c[63], 0);
        while store.len() > 0 {
            store.swap_remove(0);
        }
        assert!(store.chunks.is_empty());
    }
}
