//! Matching, single-threaded:
//!
//! * `verify/*`: [`Matcher::verify`], 1:1, on real `fr_feature` templates of two photos
//!   (consent checks, model check, 512-d dot product).
//! * `identify/*`: [`Gallery::identify`], 1:N, at 1,000 and 10,000 enrolled templates
//!   (one subject and one consent each), top 1 and top 5.
//!
//! Templates cannot be copied (they are secrets), so a gallery of 10,000 needs 10,000 embedder
//! runs: tens of milliseconds each with `fr_feature` under tract (27 ms on the 2-core dev
//! machine: about 30 s per 1,000, four to five minutes in all). By default the
//! galleries are therefore filled through a stand-in embedder: a 4.7k-weight ONNX model
//! (one strided convolution, built here) with `fr_feature`'s input, alignment and 512-d output,
//! loaded through the public [`Embedder::from_bytes`]. Matching cost does not depend on the
//! values in the templates, only on their number and dimension. Set
//! `FACEGUARD_BENCH_GALLERY=fr_feature` to fill them with real `fr_feature` templates instead.
//! Either way each template is computed by the engine from a real photo (the 60-odd photos
//! of `shared/data/faces/deepface`, in turn) under its own enrolment consent.
//!
//! `cargo bench --bench matching` (add `-- --quick` for a short run).

#[path = "../tests/common/mod.rs"]
mod common;
mod support;
use common::models_dir;
use support::{gallery_engine, photos};

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use faceguard::{
    ConsentLedger, DecodedImage, Engine, Face, Gallery, LivenessPolicy, Matcher, Purpose, SubjectId,
};

/// The purpose these benches enrol for. Probes stay valid for an hour so that a long
/// measurement (`--measurement-time`) does not outlive them.
enum Benchmark {}
impl Purpose for Benchmark {
    const NAME: &'static str = "benchmark";
    const PROBE_VALIDITY: Duration = Duration::from_secs(3600);
    const ENROLMENT_LIVENESS: LivenessPolicy = LivenessPolicy::Waived { reason: REASON };
    const PROBE_LIVENESS: LivenessPolicy = LivenessPolicy::Waived { reason: REASON };
}

/// Why the benchmark purposes waive liveness: they time matching on stored photos.
const REASON: &str = "benchmark of matching speed on stored photos";

const NOTICE: &str = "Benchmark: templates of sample photos, dropped when the bench ends.";
const GRANT: Duration = Duration::from_secs(30 * 86_400);
const GALLERY_SIZES: [usize; 2] = [1_000, 10_000];

fn bench_verify(c: &mut Criterion, engine: &Engine, photos: &[(DecodedImage, Face)]) {
    let ledger = ConsentLedger::new();
    let enrol = |i: usize| {
        let token = ledger
            .grant::<Benchmark>(SubjectId::new(format!("v{i}")).unwrap(), NOTICE, GRANT)
            .unwrap();
        let (img, face) = &photos[i];
        engine
            .enrolment_template(&token, &img.view(), face)
            .unwrap()
    };
    let (a, b) = (enrol(0), enrol(1));
    let (img, face) = &photos[1];
    let consent = ledger.probe_consent::<Benchmark>(NOTICE).unwrap();
    let probe = engine.probe_template(consent, &img.view(), face).unwrap();
    let matcher = Matcher::default();

    let mut group = c.benchmark_group("verify");
    group.bench_function("enrolment_vs_enrolment", |bch| {
        bch.iter(|| matcher.verify(black_box(&a), black_box(&b)).unwrap())
    });
    group.bench_function("enrolment_vs_probe", |bch| {
        bch.iter(|| matcher.verify(black_box(&a), black_box(&probe)).unwrap())
    });
    group.finish();
}

fn bench_identify(c: &mut Criterion, photos: &[(DecodedImage, Face)]) {
    let (engine, embedder) = gallery_engine();
    eprintln!(
        "matching: filling galleries of up to {} templates with the {embedder} embedder \
         from {} photos",
        GALLERY_SIZES[GALLERY_SIZES.len() - 1],
        photos.len()
    );
    let ledger = ConsentLedger::new();
    let gallery: Gallery<Benchmark> = ledger.gallery();
    // The stand-in embedder has no calibration: a threshold of our choosing, bound to no model
    // (the bundled default would refuse its templates).
    gallery.set_matcher(Matcher::new(faceguard::DEFAULT_THRESHOLD).unwrap());
    let mut group = c.benchmark_group("identify");
    for size in GALLERY_SIZES {
        // One gallery, grown to each size in turn: templates cannot be copied.
        for i in gallery.len()..size {
            let subject = SubjectId::new(format!("s{i}")).unwrap();
            let token = ledger.grant::<Benchmark>(subject, NOTICE, GRANT).unwrap();
            let (img, face) = &photos[i % photos.len()];
            gallery
                .enroll(
                    engine
                        .enrolment_template(&token, &img.view(), face)
                        .unwrap(),
                )
                .unwrap();
        }
        assert_eq!(gallery.len(), size);
        // A probe of a photo that is also enrolled, so the top candidates really match.
        let (img, face) = &photos[size % photos.len()];
        let consent = ledger.probe_consent::<Benchmark>(NOTICE).unwrap();
        let probe = engine.probe_template(consent, &img.view(), face).unwrap();
        group.throughput(Throughput::Elements(size as u64));
        for k in [1, 5] {
            group.bench_function(BenchmarkId::new(format!("top{k}"), size), |b| {
                b.iter(|| gallery.identify(black_box(&probe), k).unwrap())
            });
        }
    }
    group.finish();
}

fn matching(c: &mut Criterion) {
    let engine = Engine::from_dir(models_dir()).expect("models load");
    let photos = photos(&engine);
    bench_verify(c, &engine, &photos);
    bench_identify(c, &photos);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = matching
}
criterion_main!(benches);
