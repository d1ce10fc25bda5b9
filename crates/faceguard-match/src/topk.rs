//! The best `k` hits of a scan, with threshold-gated insertion: a score that does not beat the
//! current k-th costs one comparison, which is nearly every score of a large scan.

/// One search result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Row index in the index (valid until the next removal).
    pub row: usize,
    /// The row's group (e.g. the enrolled subject it belongs to).
    pub group: u32,
    /// Dot product with the query: cosine similarity for unit vectors.
    pub score: f32,
}

/// Best-first list of at most `k` hits; with `per_group`, at most one (the best) per group.
/// Ties go to the lower row, so every search order gives the same answer.
#[derive(Debug, Clone)]
pub(crate) struct TopK {
    k: usize,
    per_group: bool,
    best: Vec<Hit>,
}

fn better(a: &Hit, b: &Hit) -> bool {
    a.score > b.score || (a.score == b.score && a.row < b.row)
}

impl TopK {
    pub(crate) fn new(k: usize, per_group: bool) -> Self {
        TopK {
            k,
            per_group,
            best: Vec::with_capacity(k.min(1024) + 1),
        }
    }

    /// The score to beat: the k-th best so far, -∞ while fewer than `k` are held (+∞ for
    /// `k = 0`, when nothing can enter).
    #[inline]
    pub(crate) fn threshold(&self) -> f32 {
        match self.k.checked_sub(1) {
            None => f32::INFINITY,
            Some(last) => self.best.get(last).map_or(f32::NEG_INFINITY, |h| h.score),
        }
    }

    pub(crate) fn is_full(&self) -> bool {
        self.best.len() >= self.k
    }

    #[inline]
    pub(crate) fn offer(&mut self, hit: Hit) {
        if self.k == 0 || (self.is_full() && !better(&hit, &self.best[self.k - 1])) {
            return;
        }
        self.insert(hit);
    }

    #[cold]
    fn insert(&mut self, hit: Hit) {
        if self.per_group {
            if let Some(i) = self.best.iter().position(|h| h.group == hit.group) {
                if !better(&hit, &self.best[i]) {
                    return;
                }
                self.best.remove(i);
            }
        }
        let at = self.best.partition_point(|h| better(h, &hit));
        self.best.insert(at, hit);
        self.best.truncate(self.k);
    }

    pub(crate) fn merge(&mut self, other: TopK) {
        for hit in other.best {
            self.offer(hit);
        }
    }

    #[cfg(test)]
    pub(crate) fn hits(&self) -> &[Hit] {
        &self.best
    }

    pub(crate) fn into_hits(self) -> Vec<Hit> {
        self.best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(row: usize, group: u32, score: f32) -> Hit {
        Hit { row, group, score }
    }

    #[test]
    fn keeps_the_k_best_best_first() {
        let mut top = TopK::new(3, false);
        for (row, s) in [0.1, 0.9, 0.3, 0.5, 0.7, 0.2].into_iter().enumerate() {
            top.offer(hit(row, row as u32, s));
        }
        let scores: Vec<f32> = top.hits().iter().map(|h| h.score).collect();
        assert_eq!(scores, [0.9, 0.7, 0.5]);
        assert_eq!(top.threshold(), 0.5);
    }

    #[test]
    fn per_group_keeps_one_hit_per_group() {
        let mut top = TopK::new(2, true);
        top.offer(hit(0, 7, 0.5));
        top.offer(hit(1, 7, 0.8));
        top.offer(hit(2, 7, 0.6));
        top.offer(hit(3, 1, 0.4));
        assert_eq!(top.hits(), [hit(1, 7, 0.8), hit(3, 1, 0.4)]);
    }

    #[test]
    fn ties_go_to_the_lower_row_whatever_the_order() {
        let mut a = TopK::new(1, false);
        a.offer(hit(5, 0, 0.5));
        a.offer(hit(2, 0, 0.5));
        let mut b = TopK::new(1, false);
        b.offer(hit(2, 0, 0.5));
        b.offer(hit(5, 0, 0.5));
        assert_eq!(a.hits(), b.hits());
        assert_eq!(a.hits()[0].row, 2);
    }

    #[test]
    fn zero_k_holds_nothing() {
        let mut top = TopK::new(0, false);
        top.offer(hit(0, 0, 1.0));
        assert!(top.hits().is_empty());
    }
}
