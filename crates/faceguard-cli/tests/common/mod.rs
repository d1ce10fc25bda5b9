//! What the CLI's tests share: the repository (the binary runs there, so that `./models` is
//! found as a user finds it) and the real labelled photos beside it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The repository root (this crate is `crates/faceguard-cli` in it).
pub fn root() -> &'static Path {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .and_then(Path::parent)
        .expect("crates/faceguard-cli lies two levels below the repository root")
}

/// `../shared/data`, the real labelled photos; missing data fails loudly.
pub fn data_dir() -> PathBuf {
    let dir = root().join("../shared/data");
    assert!(
        dir.join("faces/pairs_dev.csv").is_file(),
        "test data missing at {}: the repository expects shared/ (photos and models) beside it",
        dir.display()
    );
    dir
}

pub fn faces_dir() -> PathBuf {
    data_dir().join("faces")
}
