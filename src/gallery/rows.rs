use zeroize::Zeroize;

/// Templates stored row after row in one contiguous buffer, for scanning. Every byte it lets go
/// of is wiped first: removed rows, the old buffer when it grows, everything on drop.
pub(super) struct Rows {
    data: Vec<f32>,
    dim: usize,
}

impl Rows {
    pub(super) fn new() -> Self {
        Rows {
            data: Vec::new(),
            dim: 0,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.data.len().checked_div(self.dim).unwrap_or(0)
    }

    pub(super) fn dim(&self) -> usize {
        self.dim
    }

    #[cfg(test)]
    fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &[f32]> {
        self.data.chunks_exact(self.dim.max(1))
    }

    /// Appends a row; the first row fixes the dimension (callers check it for later rows).
    pub(super) fn push(&mut self, row: &[f32]) {
        if self.dim == 0 {
            self.dim = row.len();
        }
        debug_assert_eq!(row.len(), self.dim);
        if self.data.len() + row.len() > self.data.capacity() {
            // Grow by hand: `Vec` would free the old buffer without wiping it.
            let wanted = (self.data.capacity() * 2)
                .max(self.data.len() + row.len())
                .max(64 * self.dim);
            let mut bigger = Vec::with_capacity(wanted);
            bigger.extend_from_slice(&self.data);
            self.data.zeroize();
            self.data = bigger;
        }
        self.data.extend_from_slice(row);
    }

    /// Removes row `i` by moving the last row into its place; the vacated row is wiped.
    pub(super) fn swap_remove(&mut self, i: usize) {
        let (dim, last) = (self.dim, self.len() - 1);
        if i != last {
            self.data.copy_within(last * dim..(last + 1) * dim, i * dim);
        }
        self.data[last * dim..].zeroize();
        self.data.truncate(last * dim);
    }
}

impl Drop for Rows {
    fn drop(&mut self) {
        self.data.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swap_remove_moves_the_last_row_and_wipes_its_old_place() {
        let mut rows = Rows::new();
        for r in 0..3 {
            rows.push(&[r as f32; 4]);
        }
        rows.swap_remove(0);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows.row(0), &[2.0; 4]);
        assert_eq!(rows.row(1), &[1.0; 4]);
        rows.swap_remove(1);
        rows.swap_remove(0);
        assert_eq!(rows.len(), 0);
    }

    #[test]
    fn growing_keeps_every_row() {
        let mut rows = Rows::new();
        for r in 0..1000 {
            rows.push(&[r as f32, -(r as f32)]);
        }
        assert_eq!(rows.len(), 1000);
        assert!(rows
            .iter()
            .enumerate()
            .all(|(r, row)| row == [r as f32, -(r as f32)]));
    }
}
