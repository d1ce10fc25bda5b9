//! The committed header is exactly what the pinned cbindgen generates from this crate.

use std::path::Path;

#[test]
fn the_committed_header_is_regenerated_byte_for_byte() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let header = crate_dir.join("../../include/faceguard.h");
    let config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut generated);
    if std::env::var_os("FACEGUARD_BLESS_HEADER").is_some() {
        std::fs::write(&header, &generated).expect("write include/faceguard.h");
        return;
    }
    let committed = std::fs::read(&header).unwrap_or_default();
    assert!(
        committed == generated,
        "include/faceguard.h differs from what cbindgen generates: run \
         `FACEGUARD_BLESS_HEADER=1 cargo test -p faceguard-c --test header` and commit it"
    );
}
