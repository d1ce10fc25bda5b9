//! Every pixel format gives the same faces and templates as RGB: the pipeline samples each
//! format directly, with strides, instead of converting frames.

mod common;

use common::*;
use faceguard::{ConsentLedger, Face, ImageView, PixelFormat, ProbeTemplate};

const PHOTOS: [&str; 6] = [
    "img1.jpg",
    "img5.jpg",
    "img17.jpg",
    "img30.jpg",
    "couple.jpg",
    "img47.jpg",
];

fn template(ledger: &ConsentLedger, view: &ImageView, face: &Face) -> ProbeTemplate<DoorAccess> {
    let consent = ledger.probe_consent::<DoorAccess>(NOTICE).unwrap();
    engine().probe_template(consent, view, face).unwrap()
}

fn assert_same_faces(what: &str, got: &[Face], want: &[Face]) {
    assert_eq!(got.len(), want.len(), "{what}: face count");
    for (g, w) in got.iter().zip(want) {
        let iou = g.bbox.iou(&w.bbox);
        assert!(iou >= 0.9, "{what}: IoU {iou:.3} with the RGB face");
    }
}

#[test]
fn nv12_and_i420_frames_give_the_same_faces_and_templates_as_rgb() {
    let ledger = ConsentLedger::new();
    for name in PHOTOS {
        let (rgb, w, h) = even_crop(&photo(name));
        let rgb_view = ImageView::rgb(&rgb, w as u32, h as u32).unwrap();
        let rgb_faces = engine().detect(&rgb_view).unwrap();
        assert!(!rgb_faces.is_empty(), "{name}: no face in RGB");
        let reference = template(&ledger, &rgb_view, &largest(&rgb_faces));

        // Padded strides, as ISPs deliver them.
        let pad = 24;
        let (y, u, v) = yuv420_planes(&rgb, w, h, pad);
        let (_, uv) = nv12_planes(&rgb, w, h, pad);
        let nv12 =
            ImageView::nv12(&y, w + pad, &uv, 2 * (w / 2 + pad), w as u32, h as u32).unwrap();
        let i420 = ImageView::i420(
            &y,
            w + pad,
            &u,
            w / 2 + pad,
            &v,
            w / 2 + pad,
            w as u32,
            h as u32,
        )
        .unwrap();
        for (fmt, view) in [("NV12", nv12), ("I420", i420)] {
            let what = format!("{name} {fmt}");
            let faces = engine().detect(&view).unwrap();
            assert_same_faces(&what, &faces, &rgb_faces);
            let t = template(&ledger, &view, &largest(&faces));
            let cos = cosine(
                t.expose_secret().unwrap(),
                reference.expose_secret().unwrap(),
            );
            assert!(cos >= 0.99, "{what}: cosine {cos:.4} to the RGB template");
        }
    }
}

#[test]
fn packed_formats_with_strides_give_identical_results_to_rgb() {
    let img = photo("img2.jpg");
    let (w, h) = (img.width() as usize, img.height() as usize);
    let rgb_faces = engine().detect(&img.view()).unwrap();
    let stride = |bpp: usize| w * bpp + 13;
    let repack = |bpp: usize, order: [usize; 3]| -> Vec<u8> {
        let mut out = vec![0u8; stride(bpp) * h];
        for row in 0..h {
            for col in 0..w {
                let src = &img.rgb()[(row * w + col) * 3..];
                let dst = &mut out[row * stride(bpp) + col * bpp..];
                for c in 0..3 {
                    dst[order[c]] = src[c];
                }
                if bpp == 4 {
                    dst[3] = 255;
                }
            }
        }
        out
    };
    for (format, bpp, order) in [
        (PixelFormat::Rgb8, 3, [0, 1, 2]),
        (PixelFormat::Bgr8, 3, [2, 1, 0]),
        (PixelFormat::Rgba8, 4, [0, 1, 2]),
        (PixelFormat::Bgra8, 4, [2, 1, 0]),
    ] {
        let buf = repack(bpp, order);
        let view = ImageView::packed(&buf, w as u32, h as u32, stride(bpp), format).unwrap();
        assert_eq!(engine().detect(&view).unwrap(), rgb_faces, "{format:?}");
    }
}

#[test]
fn gray_frames_still_find_the_face() {
    let img = photo("img1.jpg");
    let gray: Vec<u8> = img
        .rgb()
        .chunks_exact(3)
        .map(|p| (0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32) as u8)
        .collect();
    let view = ImageView::packed(
        &gray,
        img.width(),
        img.height(),
        img.width() as usize,
        PixelFormat::Gray8,
    )
    .unwrap();
    let faces = engine().detect(&view).unwrap();
    let rgb_faces = engine().detect(&img.view()).unwrap();
    assert!(largest(&faces).bbox.iou(&largest(&rgb_faces).bbox) > 0.8);
}
