//! Pipeline stages on real camera-sized frames of a real photo, single-threaded:
//!
//! * `detect/*`: [`Engine::detect`] on the VGA (640×480) and 1080p (1920×1080) frames, given as
//!   RGB and as NV12 (what a camera ISP hands out): resize from the frame's own format, YuNet,
//!   decoding and NMS.
//! * `resize/*`: the resize path alone, RGB vs NV12. The resize is crate-private, so it is
//!   measured through a detector whose input is only 32×24 pixels: reading, converting and
//!   area-averaging every pixel of the frame then dominates. `resize/model_floor` is the same
//!   detector on a frame that is already 32×24 (no resize worth the name): subtract it.
//! * `align/*`: the similarity warp of the largest face onto the 112×112 template.
//! * `template/*`: align + embed (`fr_feature`), for a probe (with a fresh probe consent each
//!   time, as at the door) and for an enrolment.
//!
//! Frames come from `target/bench-frames/` (made by `tools/make_frames.py`, or
//! `$FACEGUARD_BENCH_FRAMES`); when they are missing they are made here, the same way, from
//! `couple.jpg` with the `image` crate. Decoding is never timed.
//!
//! `cargo bench --bench pipeline` (add `-- --quick` for a short run).

#[path = "../tests/common/mod.rs"]
mod common;
use common::{largest, models_dir, nv12_planes, root};

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode};
use faceguard::{
    ConsentLedger, DecodedImage, Detector, DetectorConfig, Engine, ImageView, Purpose, SubjectId,
};

/// The purpose these benches compute templates for.
enum Benchmark {}
impl Purpose for Benchmark {
    const NAME: &'static str = "benchmark";
}

const NOTICE: &str = "Benchmark: templates of a sample photo, dropped when the bench ends.";

fn data_dir() -> PathBuf {
    std::env::var_os("FACEGUARD_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/data"))
}

fn frames_dir() -> PathBuf {
    std::env::var_os("FACEGUARD_BENCH_FRAMES")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/bench-frames"))
}

/// One frame, as RGB and as NV12 (BT.601 limited range, faceguard's default matrix).
struct Frame {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
    y: Vec<u8>,
    uv: Vec<u8>,
}

impl Frame {
    fn new(width: u32, height: u32, rgb: Vec<u8>) -> Self {
        let (y, uv) = nv12_planes(&rgb, width as usize, height as usize, 0);
        Frame {
            width,
            height,
            rgb,
            y,
            uv,
        }
    }

    /// The frame of `width × height` from `frames_dir()`, or made in-process from the photo.
    fn load(width: u32, height: u32) -> Self {
        let path = frames_dir().join(format!("frame-{width}x{height}.jpg"));
        if path.is_file() {
            let img = faceguard::decode_file(&path)
                .unwrap_or_else(|e| panic!("cannot decode {}: {e}", path.display()));
            assert_eq!(
                (img.width(), img.height()),
                (width, height),
                "{} has the wrong size: remake it with tools/make_frames.py",
                path.display()
            );
            return Frame::new(width, height, img.rgb().to_vec());
        }
        let photo = data_dir().join("faces/deepface/couple.jpg");
        let img = faceguard::decode_file(&photo).unwrap_or_else(|e| {
            panic!(
                "cannot decode {}: {e} (the repository expects ../shared/data beside it, \
                 or set FACEGUARD_DATA)",
                photo.display()
            )
        });
        Frame::new(width, height, cover_crop(&img, width, height))
    }

    fn label(&self) -> String {
        format!("{}x{}", self.width, self.height)
    }

    fn rgb_view(&self) -> ImageView<'_> {
        ImageView::rgb(&self.rgb, self.width, self.height).expect("valid RGB frame")
    }

    fn nv12_view(&self) -> ImageView<'_> {
        let w = self.width as usize;
        ImageView::nv12(&self.y, w, &self.uv, w, self.width, self.height).expect("valid NV12 frame")
    }

    /// (format name, view) for both formats.
    fn views(&self) -> [(&'static str, ImageView<'_>); 2] {
        [("rgb", self.rgb_view()), ("nv12", self.nv12_view())]
    }
}

/// Scales `img` (down, by area averaging) so that it covers `w × h`, then crops the centre: the
/// same frame as tools/make_frames.py, up to JPEG and filter differences.
fn cover_crop(img: &DecodedImage, w: u32, h: u32) -> Vec<u8> {
    let src = image::RgbImage::from_raw(img.width(), img.height(), img.rgb().to_vec())
        .expect("decoded image has width × height × 3 bytes");
    let s = f64::max(
        f64::from(w) / f64::from(img.width()),
        f64::from(h) / f64::from(img.height()),
    );
    let sw = ((f64::from(img.width()) * s).round() as u32).max(w);
    let sh = ((f64::from(img.height()) * s).round() as u32).max(h);
    let scaled = image::imageops::resize(&src, sw, sh, image::imageops::FilterType::Triangle);
    image::imageops::crop_imm(&scaled, (sw - w) / 2, (sh - h) / 2, w, h)
        .to_image()
        .into_raw()
}

struct Setup {
    engine: Engine,
    vga: Frame,
    full_hd: Frame,
}

fn setup() -> Setup {
    let engine = Engine::from_dir(models_dir()).expect("models load");
    Setup {
        engine,
        vga: Frame::load(640, 480),
        full_hd: Frame::load(1920, 1080),
    }
}

fn bench_detect(c: &mut Criterion, s: &Setup) {
    let mut group = c.benchmark_group("detect");
    group.sampling_mode(SamplingMode::Flat);
    for frame in [&s.vga, &s.full_hd] {
        for (format, view) in frame.views() {
            s.engine
                .detector()
                .prepare(frame.width, frame.height)
                .unwrap();
            let mut faces = Vec::new();
            group.bench_function(BenchmarkId::new(frame.label(), format), |b| {
                b.iter(|| {
                    s.engine
                        .detector()
                        .detect_into(black_box(&view), &mut faces)
                        .unwrap();
                    black_box(faces.len())
                })
            });
        }
    }
    group.finish();
}

fn bench_resize(c: &mut Criterion, s: &Setup) {
    let config = DetectorConfig {
        max_side: 32,
        ..DetectorConfig::default()
    };
    let tiny = Detector::from_path(models_dir().join(faceguard::DETECTOR_FILE), config)
        .expect("detector loads");
    let mut group = c.benchmark_group("resize");
    let mut faces = Vec::new();
    for frame in [&s.vga, &s.full_hd] {
        tiny.prepare(frame.width, frame.height).unwrap();
        for (format, view) in frame.views() {
            group.bench_function(BenchmarkId::new(frame.label(), format), |b| {
                b.iter(|| tiny.detect_into(black_box(&view), &mut faces).unwrap())
            });
        }
    }
    let floor = Frame::new(32, 24, vec![128; 32 * 24 * 3]);
    let view = floor.rgb_view();
    group.bench_function("model_floor", |b| {
        b.iter(|| tiny.detect_into(black_box(&view), &mut faces).unwrap())
    });
    group.finish();
}

fn bench_align_and_template(c: &mut Criterion, s: &Setup) {
    let frame = &s.vga;
    let face = largest(&s.engine.detect(&frame.rgb_view()).unwrap());

    let mut group = c.benchmark_group("align");
    for (format, view) in frame.views() {
        group.bench_function(BenchmarkId::new(frame.label(), format), |b| {
            b.iter(|| s.engine.align(black_box(&view), black_box(&face)).unwrap())
        });
    }
    group.finish();

    let ledger = ConsentLedger::new();
    let mut group = c.benchmark_group("template");
    group.sampling_mode(SamplingMode::Flat);
    for (format, view) in frame.views() {
        group.bench_function(BenchmarkId::new("probe", format), |b| {
            b.iter(|| {
                let consent = ledger.probe_consent::<Benchmark>(NOTICE).unwrap();
                s.engine
                    .probe_template(consent, black_box(&view), black_box(&face))
                    .unwrap()
            })
        });
    }
    let subject = SubjectId::new("bench-subject").unwrap();
    let token = ledger
        .grant::<Benchmark>(subject, NOTICE, Duration::from_secs(86_400))
        .unwrap();
    let view = frame.rgb_view();
    group.bench_function(BenchmarkId::new("enrolment", "rgb"), |b| {
        b.iter(|| {
            s.engine
                .enrolment_template(&token, black_box(&view), black_box(&face))
                .unwrap()
        })
    });
    group.finish();
}

fn pipeline(c: &mut Criterion) {
    let s = setup();
    bench_detect(c, &s);
    bench_resize(c, &s);
    bench_align_and_template(c, &s);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = pipeline
}
criterion_main!(benches);
