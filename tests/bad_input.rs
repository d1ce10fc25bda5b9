//! The bad-input table: every malformed frame, file or model gets its typed error, never a
//! panic.

mod common;

use common::*;
use faceguard::{
    decode_bytes, decode_file, Detector, DetectorConfig, Embedder, EmbedderSpec, Face, ImageError,
    ImageView, ModelError, PixelFormat, Point,
};

/// A row of the table: what is wrong, what the constructor said, which error it must be.
type Case<'a> = (
    &'a str,
    Result<ImageView<'a>, ImageError>,
    fn(&ImageError) -> bool,
);

#[test]
fn malformed_frame_descriptions_get_typed_errors() {
    let buf = vec![0u8; 64 * 48 * 4];
    let cases: Vec<Case> = vec![
        (
            "zero width",
            ImageView::packed(&buf, 0, 48, 0, PixelFormat::Rgb8),
            |e| matches!(e, ImageError::ZeroSize { .. }),
        ),
        (
            "zero height",
            ImageView::nv12(&buf, 64, &buf, 64, 64, 0),
            |e| matches!(e, ImageError::ZeroSize { .. }),
        ),
        (
            "odd NV12 width",
            ImageView::nv12(&buf, 64, &buf, 64, 63, 48),
            |e| matches!(e, ImageError::OddSize { .. }),
        ),
        (
            "odd I420 height",
            ImageView::i420(&buf, 64, &buf, 32, &buf, 32, 64, 47),
            |e| matches!(e, ImageError::OddSize { .. }),
        ),
        (
            "RGB stride shorter than a row",
            ImageView::packed(&buf, 64, 48, 64 * 3 - 1, PixelFormat::Rgb8),
            |e| {
                matches!(
                    e,
                    ImageError::StrideTooShort {
                        plane: 0,
                        min: 192,
                        ..
                    }
                )
            },
        ),
        (
            "NV12 UV stride shorter than a row",
            ImageView::nv12(&buf, 64, &buf, 32, 64, 48),
            |e| matches!(e, ImageError::StrideTooShort { plane: 1, .. }),
        ),
        (
            "RGBA buffer one byte short",
            ImageView::packed(&buf[..64 * 48 * 4 - 1], 64, 48, 256, PixelFormat::Rgba8),
            |e| matches!(e, ImageError::BufferTooShort { plane: 0, .. }),
        ),
        (
            "I420 V plane short",
            ImageView::i420(&buf, 64, &buf, 32, &buf[..10], 32, 64, 48),
            |e| matches!(e, ImageError::BufferTooShort { plane: 2, .. }),
        ),
        (
            "stride so large the size overflows",
            ImageView::packed(&buf, 64, 48, usize::MAX / 2, PixelFormat::Gray8),
            |e| matches!(e, ImageError::BufferTooShort { .. }),
        ),
        (
            "planar format through the packed constructor",
            ImageView::packed(&buf, 64, 48, 64, PixelFormat::Nv12),
            |e| matches!(e, ImageError::WrongLayout { .. }),
        ),
        (
            "absurd size",
            ImageView::packed(&buf, 100_000, 1, 300_000, PixelFormat::Rgb8),
            |e| matches!(e, ImageError::TooLarge { .. }),
        ),
    ];
    for (what, result, expected) in cases {
        match result {
            Err(e) => {
                assert!(expected(&e), "{what}: wrong error {e:?}");
                assert!(!e.to_string().is_empty());
            }
            Ok(v) => panic!("{what}: accepted as {v:?}"),
        }
    }
}

#[test]
fn the_last_row_needs_no_stride_padding() {
    // 2 rows of 3 RGB pixels with a 16-byte stride: 16 + 9 bytes suffice.
    let buf = [0u8; 25];
    assert!(ImageView::packed(&buf, 3, 2, 16, PixelFormat::Rgb8).is_ok());
}

#[test]
fn non_image_files_fail_to_decode_with_the_path_in_the_message() {
    let csv = faces_dir().join("pairs_dev.csv");
    let err = decode_file(&csv).unwrap_err();
    assert!(matches!(err, ImageError::Decode { .. }), "{err:?}");
    assert!(err.to_string().contains("pairs_dev.csv"));
    assert!(matches!(
        decode_file(faces_dir().join("no-such-photo.jpg")),
        Err(ImageError::Io { .. })
    ));
    assert!(matches!(
        decode_bytes(b"\xff\xd8\xff truncated jpeg"),
        Err(ImageError::Decode { .. })
    ));
}

#[test]
fn a_webp_named_jpg_is_decoded_by_content() {
    let img = decode_file(faces_dir().join("deepface/img47.jpg")).unwrap();
    assert!(img.width() > 0 && img.height() > 0);
}

#[test]
fn a_missing_model_fails_loudly_with_the_command_that_fixes_it() {
    let err = Detector::from_path("models/absent.onnx", DetectorConfig::default())
        .err()
        .expect("missing model must fail");
    assert!(matches!(err, ModelError::NotFound { .. }), "{err:?}");
    assert!(err.to_string().contains("scripts/fetch-models.sh"), "{err}");
    let err = faceguard::Engine::from_dir("/nonexistent/models")
        .err()
        .unwrap();
    assert!(err.to_string().contains("fetch-models.sh"), "{err}");
}

#[test]
fn the_embedder_given_as_detector_is_refused() {
    let err = Detector::from_path(
        models_dir().join(faceguard::EMBEDDER_FILE),
        DetectorConfig::default(),
    )
    .err()
    .expect("embedder is not a detector");
    assert!(matches!(err, ModelError::WrongKind { .. }), "{err:?}");
    assert!(err.to_string().contains("12 outputs"), "{err}");
}

#[test]
fn the_detector_given_as_embedder_is_refused() {
    let err = Embedder::from_path(
        models_dir().join(faceguard::DETECTOR_FILE),
        EmbedderSpec::fr_feature(),
    )
    .err()
    .expect("detector is not an embedder");
    assert!(matches!(err, ModelError::WrongKind { .. }), "{err:?}");
}

#[test]
fn garbage_bytes_are_not_a_model() {
    let err = Detector::from_bytes(b"definitely not onnx", DetectorConfig::default())
        .err()
        .unwrap();
    assert!(matches!(err, ModelError::Parse { .. }), "{err:?}");
}

#[test]
fn a_description_that_does_not_fit_the_model_is_refused() {
    let mut spec = EmbedderSpec::fr_feature();
    spec.output_dim = 128;
    let err = Embedder::from_path(models_dir().join(faceguard::EMBEDDER_FILE), spec)
        .err()
        .unwrap();
    assert!(matches!(err, ModelError::Spec(_)), "{err:?}");
    assert!(err.to_string().contains("512"), "{err}");
    assert!(matches!(
        EmbedderSpec::from_json(r#"{"name": "x"}"#),
        Err(ModelError::Spec(_))
    ));
}

#[test]
fn invalid_detector_settings_are_refused() {
    let bytes = std::fs::read(models_dir().join(faceguard::DETECTOR_FILE)).unwrap();
    let config = DetectorConfig {
        score_threshold: 1.5,
        ..DetectorConfig::default()
    };
    assert!(matches!(
        Detector::from_bytes(&bytes, config),
        Err(ModelError::Config(_))
    ));
}

#[test]
fn tiny_and_blank_frames_detect_nothing_without_error() {
    for (w, h) in [(1, 1), (2, 2), (31, 7), (640, 480)] {
        let buf = vec![0u8; w * h * 3];
        let view = ImageView::rgb(&buf, w as u32, h as u32).unwrap();
        assert!(engine().detect(&view).unwrap().is_empty(), "{w}x{h}");
    }
}

#[test]
fn nonsense_landmarks_are_an_align_error_not_a_panic() {
    let buf = vec![0u8; 64 * 64 * 3];
    let view = ImageView::rgb(&buf, 64, 64).unwrap();
    let ledger = faceguard::ConsentLedger::new();
    let face = Face {
        bbox: Default::default(),
        score: 1.0,
        landmarks: [Point::new(f32::NAN, 0.0); 5],
    };
    let probe = ledger.probe_consent::<DoorAccess>(NOTICE).unwrap();
    let err = engine().probe_template(probe, &view, &face).unwrap_err();
    assert!(matches!(err, faceguard::Error::Align(_)), "{err:?}");
    // Landmarks far outside the frame, huge or orthogonal to the template: the crop is black
    // (the quality gate refuses it as unsharp, or the embedder finds no usable face) or
    // alignment refuses; never a panic.
    for landmarks in [
        [
            (1e6, 1e6),
            (1e6 + 40.0, 1e6),
            (1e6 + 20.0, 1e6 + 20.0),
            (1e6, 1e6 + 40.0),
            (1e6 + 40.0, 1e6 + 40.0),
        ],
        [
            (0.0, 0.0),
            (1e20, 0.0),
            (5e19, 5e19),
            (0.0, 1e20),
            (1e20, 1e20),
        ],
        [(0.0, 0.0), (0.0, 0.0), (0.0, 0.0), (0.0, 0.0), (1e-30, 0.0)],
    ] {
        let far = Face {
            landmarks: landmarks.map(|(x, y)| Point::new(x, y)),
            ..face.clone()
        };
        let probe = ledger.probe_consent::<DoorAccess>(NOTICE).unwrap();
        match engine().probe_template(probe, &view, &far) {
            Ok(_)
            | Err(faceguard::Error::Align(_))
            | Err(faceguard::Error::Quality(_))
            | Err(faceguard::Error::Embed(_)) => {}
            Err(e) => panic!("unexpected error for {landmarks:?}: {e}"),
        }
    }
}
