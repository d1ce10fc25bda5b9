//! 1:N search: the exact methods return the brute-force answer, the fast one nearly always
//! does, and removals and bad input behave.

use faceguard_match::rng::SplitMix64;
use faceguard_match::{FastParams, Hit, Index, IndexError, Isa, Kernels, Method, SearchOptions};

fn normalise(mut v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= n);
    v
}

/// Vectors in clusters (people) with a shared anisotropic structure, so that scores bunch up
/// the way face templates do, near-ties included.
fn clustered(rng: &mut SplitMix64, n: usize, dim: usize, clusters: usize) -> Vec<Vec<f32>> {
    let centres: Vec<Vec<f32>> = (0..clusters).map(|_| rng.unit_vector(dim)).collect();
    (0..n)
        .map(|i| {
            let c = &centres[i % clusters];
            let noise = rng.unit_vector(dim);
            normalise(
                c.iter()
                    .zip(&noise)
                    .map(|(a, b)| 0.6 * a + 0.8 * b)
                    .collect(),
            )
        })
        .collect()
}

fn brute_force(rows: &[Vec<f32>], q: &[f32], k: usize) -> Vec<usize> {
    let mut scored: Vec<(f64, usize)> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r.iter().zip(q).map(|(a, b)| f64::from(a * b)).sum(), i))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().take(k).map(|(_, i)| i).collect()
}

fn build(rows: &[Vec<f32>], groups: impl Fn(usize) -> u32) -> Index {
    let mut index = Index::new(rows[0].len()).unwrap();
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(index.push(r, groups(i)).unwrap(), i);
    }
    index
}

fn rows_of(hits: &[Hit]) -> Vec<usize> {
    hits.iter().map(|h| h.row).collect()
}

fn families() -> Vec<Kernels> {
    Isa::ALL
        .iter()
        .filter_map(|&i| Kernels::for_isa(i))
        .collect()
}

#[test]
fn exact_f32_search_returns_the_brute_force_top_k() {
    let mut rng = SplitMix64::new(1);
    for dim in [128, 100, 512] {
        let rows = clustered(&mut rng, 3000, dim, 40);
        let index = build(&rows, |i| i as u32);
        for _ in 0..20 {
            let q = &rows[rng.below(rows.len())];
            let expected = brute_force(&rows, q, 10);
            for threads in [1, 3] {
                let got = index
                    .search(q, &SearchOptions::new(10).threads(threads))
                    .unwrap();
                // Brute force sums in f64: compare the sets of rows, which only differ on
                // rounding ties, and the best row exactly.
                assert_eq!(got.hits[0].row, expected[0]);
                let overlap = rows_of(&got.hits)
                    .iter()
                    .filter(|r| expected.contains(r))
                    .count();
                assert!(overlap >= 9, "dim {dim}: {overlap}/10 rows in common");
            }
        }
    }
}

#[test]
fn exact_i8_search_returns_exactly_what_exact_f32_returns() {
    let mut rng = SplitMix64::new(2);
    for (dim, clusters) in [(512, 20), (128, 5), (37, 3)] {
        let rows = clustered(&mut rng, 5000, dim, clusters);
        let index = build(&rows, |i| (i % 700) as u32);
        for trial in 0..30 {
            let q = if trial % 2 == 0 {
                rows[rng.below(rows.len())].clone()
            } else {
                rng.unit_vector(dim)
            };
            for (k, per_group) in [(1, false), (10, false), (50, true)] {
                let base = SearchOptions::new(k).per_group(per_group);
                let f32s = index.search(&q, &base).unwrap();
                let i8s = index.search(&q, &base.method(Method::ExactI8)).unwrap();
                assert_eq!(i8s.hits, f32s.hits, "dim {dim} k {k}");
                assert!(i8s.rescored < index.len() / 4, "re-scored {}", i8s.rescored);
            }
        }
    }
}

#[test]
fn every_kernel_family_gives_the_same_answer() {
    let mut rng = SplitMix64::new(3);
    let rows = clustered(&mut rng, 2000, 512, 30);
    let index = build(&rows, |i| i as u32);
    let q = rng.unit_vector(512);
    let fast = Method::Fast(FastParams::default());
    for method in [Method::ExactF32, Method::ExactI8, fast] {
        let reference = index
            .search(
                &q,
                &SearchOptions::new(5)
                    .method(method)
                    .kernels(Kernels::SCALAR),
            )
            .unwrap();
        for k in families() {
            let got = index
                .search(&q, &SearchOptions::new(5).method(method).kernels(k))
                .unwrap();
            assert_eq!(
                rows_of(&got.hits),
                rows_of(&reference.hits),
                "{} {method:?}",
                k.isa()
            );
        }
    }
}

#[test]
fn fast_search_finds_the_exact_best_row_for_nearly_every_query() {
    let mut rng = SplitMix64::new(4);
    let rows = clustered(&mut rng, 20_000, 512, 500);
    let index = build(&rows, |i| i as u32);
    let options = SearchOptions::new(1).method(Method::Fast(FastParams::default()));
    let mut agree = 0;
    let queries = 300;
    for _ in 0..queries {
        // A fresh member of a random cluster: its best row is a near-tie among the cluster.
        let q = {
            let base = &rows[rng.below(rows.len())];
            let noise = rng.unit_vector(512);
            normalise(
                base.iter()
                    .zip(&noise)
                    .map(|(a, b)| 0.7 * a + 0.7 * b)
                    .collect(),
            )
        };
        let exact = index.search(&q, &SearchOptions::new(1)).unwrap();
        let fast = index.search(&q, &options).unwrap();
        assert!(fast.rescored <= fast.candidates && fast.candidates < index.len());
        agree += usize::from(fast.hits == exact.hits);
    }
    assert!(agree >= queries - 1, "{agree}/{queries}");
}

#[test]
fn per_group_search_returns_one_hit_per_group() {
    let mut rng = SplitMix64::new(5);
    let rows = clustered(&mut rng, 1000, 64, 10);
    let index = build(&rows, |i| (i % 10) as u32);
    for method in [
        Method::ExactF32,
        Method::ExactI8,
        Method::Fast(FastParams::default()),
    ] {
        let got = index
            .search(
                &rows[3],
                &SearchOptions::new(20).per_group(true).method(method),
            )
            .unwrap();
        let mut groups: Vec<u32> = got.hits.iter().map(|h| h.group).collect();
        assert_eq!(groups.len(), 10, "{method:?}");
        groups.sort_unstable();
        groups.dedup();
        assert_eq!(groups.len(), 10, "{method:?}");
        assert_eq!(got.hits[0].row, 3);
    }
}

#[test]
fn removed_rows_are_never_found_and_the_last_row_takes_their_place() {
    let mut rng = SplitMix64::new(6);
    let rows = clustered(&mut rng, 500, 128, 5);
    let mut index = build(&rows, |i| i as u32);
    index.swap_remove(7).unwrap();
    assert_eq!(index.len(), 499);
    assert_eq!(index.group(7), Ok(499));
    for method in [
        Method::ExactF32,
        Method::ExactI8,
        Method::Fast(FastParams::default()),
    ] {
        let got = index
            .search(&rows[7], &SearchOptions::new(500).method(method))
            .unwrap();
        assert!(got.hits.iter().all(|h| h.group != 7), "{method:?}");
        let last = index
            .search(&rows[499], &SearchOptions::new(1).method(method))
            .unwrap();
        assert_eq!((last.hits[0].row, last.hits[0].group), (7, 499));
    }
    assert_eq!(
        index.swap_remove(499),
        Err(IndexError::NoSuchRow { row: 499, len: 499 })
    );
}

#[test]
fn best_among_scores_exactly_the_rows_asked_for() {
    let mut rng = SplitMix64::new(11);
    let rows = clustered(&mut rng, 2_000, 128, 40);
    // Group = cluster: each group's rows are spread over the whole index.
    let index = build(&rows, |i| (i % 40) as u32);
    for (probe, group) in [(5usize, 5u32), (1_234, 17), (77, 3)] {
        let q = &rows[probe];
        let mine: Vec<usize> = (0..rows.len())
            .filter(|i| i % 40 == group as usize)
            .collect();
        let got = index.best_among(q, &mine, None).unwrap().unwrap();
        // The exact search's best hit for this group, by brute force over every row.
        let all = index
            .search(
                q,
                &SearchOptions::new(40)
                    .per_group(true)
                    .method(Method::ExactF32),
            )
            .unwrap()
            .hits;
        let want = all.iter().find(|h| h.group == group).unwrap();
        assert_eq!((got.row, got.group), (want.row, want.group));
        assert!((got.score - want.score).abs() <= 1e-6, "{got:?} {want:?}");
        for kernels in families() {
            let k = index.best_among(q, &mine, Some(kernels)).unwrap().unwrap();
            assert_eq!(k.row, got.row);
            assert!((k.score - got.score).abs() <= 1e-5);
        }
    }
    assert_eq!(index.best_among(&rows[0], &[], None), Ok(None));
    assert_eq!(
        index.best_among(&rows[0], &[2_000], None),
        Err(IndexError::NoSuchRow {
            row: 2_000,
            len: 2_000
        })
    );
    // The query is checked even when no row is asked for.
    assert_eq!(
        index.best_among(&[1.0; 3], &[], None),
        Err(IndexError::DimensionMismatch {
            expected: 128,
            got: 3
        })
    );
    assert!(matches!(
        index.best_among(&[0.5; 128], &[0], None),
        Err(IndexError::NotUnit(_))
    ));
}

#[test]
fn small_and_empty_indexes_return_what_they_hold() {
    let mut index = Index::new(16).unwrap();
    let q = normalise(vec![1.0; 16]);
    for method in [
        Method::ExactF32,
        Method::ExactI8,
        Method::Fast(FastParams::default()),
    ] {
        let o = SearchOptions::new(3).method(method).threads(4);
        assert!(index.search(&q, &o).unwrap().hits.is_empty());
    }
    index.push(&q, 9).unwrap();
    for method in [
        Method::ExactF32,
        Method::ExactI8,
        Method::Fast(FastParams::default()),
    ] {
        let hits = index
            .search(&q, &SearchOptions::new(3).method(method))
            .unwrap()
            .hits;
        assert_eq!(hits.len(), 1);
        assert!((hits[0].score - 1.0).abs() < 1e-6);
        assert!(index
            .search(&q, &SearchOptions::new(0).method(method))
            .unwrap()
            .hits
            .is_empty());
    }
}

#[test]
fn bad_vectors_are_refused_with_a_reason() {
    let mut index = Index::new(4).unwrap();
    assert_eq!(
        index.push(&[1.0, 0.0, 0.0], 0),
        Err(IndexError::DimensionMismatch {
            expected: 4,
            got: 3
        })
    );
    assert_eq!(
        index.push(&[f32::NAN, 0.0, 0.0, 0.0], 0),
        Err(IndexError::NotFinite)
    );
    assert!(matches!(
        index.push(&[1.0, 1.0, 0.0, 0.0], 0),
        Err(IndexError::NotUnit(_))
    ));
    assert!(matches!(
        index.search(&[0.0; 4], &SearchOptions::new(1)),
        Err(IndexError::NotUnit(_))
    ));
    assert_eq!(Index::new(0).unwrap_err(), IndexError::BadDimension(0));
    assert!(Index::new(faceguard_match::MAX_DIM + 1).is_err());
    assert!(index.is_empty());
}

#[test]
fn the_streaming_read_touches_every_f32_byte() {
    let mut rng = SplitMix64::new(7);
    let rows = clustered(&mut rng, 40_000, 32, 3);
    let index = build(&rows, |_| 0);
    let expected = Kernels::SCALAR.stream_sum(
        &rows
            .iter()
            .flat_map(|r| {
                let mut padded = r.clone();
                padded.resize(32, 0.0);
                padded
            })
            .map(|x| x.to_bits())
            .collect::<Vec<u32>>()
            .chunks(2)
            .map(|p| u64::from(p[0]) | (u64::from(p[1]) << 32))
            .collect::<Vec<u64>>(),
    );
    assert_eq!(index.stream_f32(3, None), expected);
    assert_eq!(index.f32_bytes(), 40_000 * 32 * 4);
}

#[test]
fn fast_search_never_rescores_more_than_max_candidates() {
    let mut rng = SplitMix64::new(8);
    let mut index = Index::new(64).unwrap();
    let twin = rng.unit_vector(64);
    for i in 0..1000 {
        index.push(&twin, i).unwrap(); // a thousand ties at distance 0
    }
    for i in 0..1000 {
        index.push(&rng.unit_vector(64), 1000 + i).unwrap();
    }
    for (min, max) in [(1, 10), (2000, 100), (256, 65_536)] {
        let params = FastParams {
            min_candidates: min,
            max_candidates: max,
            ..FastParams::default()
        };
        let got = index
            .search(&twin, &SearchOptions::new(3).method(Method::Fast(params)))
            .unwrap();
        assert!(
            got.candidates <= max && got.rescored <= max,
            "{min} {max}: {got:?}"
        );
        assert_eq!(got.capped, max < 1000, "{min} {max}");
        assert!((got.hits[0].score - 1.0).abs() < 1e-5);
    }
}
