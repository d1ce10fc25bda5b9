use faceguard_match::*;
use std::time::Instant;
fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(300_000, |s| s.parse().unwrap());
    let mut rng = rng::SplitMix64::new(1);
    let mut index = Index::new(512).unwrap();
    for i in 0..n {
        index.push(&rng.unit_vector(512), i as u32).unwrap();
    }
    let q = rng.unit_vector(512);
    for threads in [1, 2] {
        for _ in 0..3 {
            let t = Instant::now();
            std::hint::black_box(index.stream_f32(threads, None));
            let s = t.elapsed().as_secs_f64() * 1e3;
            let t = Instant::now();
            std::hint::black_box(
                index
                    .search(&q, &SearchOptions::new(1).threads(threads))
                    .unwrap(),
            );
            let f = t.elapsed().as_secs_f64() * 1e3;
            let t = Instant::now();
            std::hint::black_box(
                index
                    .search(
                        &q,
                        &SearchOptions::new(1)
                            .threads(threads)
                            .method(Method::ExactI8),
                    )
                    .unwrap(),
            );
            let i = t.elapsed().as_secs_f64() * 1e3;
            println!(
                "threads {threads}: stream {s:.1} ms f32 {f:.1} ms ratio {:.3} i8 {i:.1} ms",
                s / f
            );
        }
    }
}
