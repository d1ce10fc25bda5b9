//! Turns photos into the raw NV12 frames a camera ISP hands to firmware, for the C example:
//! one `NNN.nv12` file per photo (Y plane then interleaved UV plane, each row padded to a
//! stride that is a multiple of 64 bytes) and `frames.txt`, one line per frame:
//! `file width height y_stride uv_stride identity` (the UV rows carry both chroma planes' padding).
//!
//! ```text
//! cargo run --release --example nv12_frames -- OUT_DIR [FACES_DIR]   # default ../shared/data/faces
//! ```
//! The frames are the photos of the people in FACES_DIR/identities.csv with two photos or more,
//! then the spoof samples of `../shared/data/antispoof` (a print and two screens, upright),
//! whose identity is `spoof`: presented at the door, they must be refused as attacks.

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(
        args.next()
            .ok_or("usage: nv12_frames OUT_DIR [FACES_DIR]")?,
    );
    let faces = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(common::faces_dir);
    let csv = std::fs::read_to_string(faces.join("identities.csv"))?;
    let mut people: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in csv.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let mut cols = line.split(',');
        let (file, id) = (cols.next().unwrap_or(""), cols.next().unwrap_or(""));
        people.entry(id.into()).or_default().push(file.into());
    }
    std::fs::create_dir_all(&out)?;
    let mut index = String::new();
    let mut n = 0;
    for (id, files) in people.iter().filter(|(_, f)| f.len() >= 2) {
        for file in files {
            let img = faceguard::decode_file(faces.join(file))?;
            let (rgb, w, h) = common::even_crop(&img);
            write_frame(&out, n, &rgb, w, h, id, &mut index)?;
            n += 1;
        }
    }
    for (sample, _) in common::SPOOF_SAMPLES {
        let (rgb, w, h) = common::antispoof_sample(sample);
        let (rgb, w, h) = even(&rgb, w, h);
        write_frame(&out, n, &rgb, w, h, "spoof", &mut index)?;
        n += 1;
    }
    std::fs::write(out.join("frames.txt"), index)?;
    println!("{n} NV12 frames in {}", out.display());
    Ok(())
}

/// Writes frame `n` (even-sized RGB) as NV12 and its line of `frames.txt` into `index`.
fn write_frame(
    out: &std::path::Path,
    n: usize,
    rgb: &[u8],
    w: usize,
    h: usize,
    id: &str,
    index: &mut String,
) -> std::io::Result<()> {
    // Pad rows to a multiple of 64 bytes, as ISPs do.
    let pad = (64 - w % 64) % 64;
    let (y, uv) = common::nv12_planes(rgb, w, h, pad);
    let name = format!("{n:03}.nv12");
    let mut bytes = y;
    bytes.extend_from_slice(&uv);
    std::fs::write(out.join(&name), bytes)?;
    index.push_str(&format!(
        "{name} {w} {h} {} {} {id}\n",
        w + pad,
        w + 2 * pad
    ));
    Ok(())
}

/// `rgb` cropped to even width and height (4:2:0 needs them).
fn even(rgb: &[u8], w: usize, h: usize) -> (Vec<u8>, usize, usize) {
    let (ew, eh) = (w & !1, h & !1);
    let mut out = Vec::with_capacity(ew * eh * 3);
    for row in rgb.chunks_exact(w * 3).take(eh) {
        out.extend_from_slice(&row[..ew * 3]);
    }
    (out, ew, eh)
}
