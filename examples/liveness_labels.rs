//! Builds the labels file for `faceguard eval-liveness` from the photos of `../shared/data`
//! that are not the development set: the spoof samples of `antispoof/` (a print and two
//! screens) and its live sample, and every live face of `faces/deepface` and
//! `faces-eastasia` (the subject is each photo's largest face).
//!
//! ```text
//! cargo run --release --example liveness_labels -- OUT_DIR [DATA_DIR]   # default ../shared/data
//! faceguard eval-liveness --labels OUT_DIR/labels.csv
//! ```
//! Writes `OUT_DIR/labels.csv` (`file,label,attack,source`, absolute paths). (The Silent-Face
//! samples are stored on their side, with an EXIF orientation that `decode_file` applies.)

#[path = "../tests/common/mod.rs"]
mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

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
            .ok_or("usage: liveness_labels OUT_DIR [DATA_DIR]")?,
    );
    let data = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(common::data_dir);
    let data = data.canonicalize()?;
    std::fs::create_dir_all(&out)?;
    let out = out.canonicalize()?;
    let mut csv = String::from("file,label,attack,source\n");
    let mut row = |file: &Path, label: &str, attack: &str, source: &str| {
        let _ = writeln!(csv, "{},{label},{attack},{source}", file.display());
    };
    let samples = common::SPOOF_SAMPLES
        .iter()
        .map(|(f, a)| (*f, "spoof", *a))
        .chain([("image_T1.jpg", "live", "none")]);
    for (file, label, attack) in samples {
        row(
            &data.join("antispoof").join(file),
            label,
            attack,
            "antispoof",
        );
    }
    for (dir, source) in [
        ("faces/deepface", "deepface"),
        ("faces-eastasia", "eastasia"),
    ] {
        let mut files = Vec::new();
        collect_images(&data.join(dir), &mut files)?;
        files.sort();
        for f in files {
            row(&f, "live", "none", source);
        }
    }
    std::fs::write(out.join("labels.csv"), &csv)?;
    println!(
        "{} images in {}",
        csv.lines().count() - 1,
        out.join("labels.csv").display()
    );
    Ok(())
}

/// Every JPEG and PNG under `dir`, recursively.
fn collect_images(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_images(&path, out)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("jpg" | "jpeg" | "png")
        ) {
            out.push(path);
        }
    }
    Ok(())
}
