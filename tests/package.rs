//! What crates.io users download: the library's package holds every file its sources include
//! at compile time (the built-in embedder description), and no model weights, photos, tests
//! or build output. `scripts/test.sh` packages without building the package (see there), so
//! this is what keeps a missing included file from being found only at publication.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The files `cargo package -p <package>` would publish, relative to the package's root.
fn package_list(package: &str) -> Vec<String> {
    let out = Command::new(env!("CARGO"))
        .current_dir(root())
        .args([
            "package",
            "--list",
            "--offline",
            "--allow-dirty",
            "--quiet",
            "-p",
            package,
        ])
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo package --list -p {package} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("source directory lists") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The files that `include_str!` / `include_bytes!` in the sources under `dir` read, relative
/// to the package root at `base`.
fn included_files(dir: &Path, base: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for file in rust_files(dir) {
        let text = std::fs::read_to_string(&file).expect("source reads");
        for macro_call in ["include_str!(\"", "include_bytes!(\""] {
            for (at, _) in text.match_indices(macro_call) {
                let rest = &text[at + macro_call.len()..];
                let literal = &rest[..rest.find('"').expect("closing quote")];
                let target = file.parent().expect("file has a directory").join(literal);
                let target = target
                    .canonicalize()
                    .unwrap_or_else(|e| panic!("{} includes {literal}: {e}", file.display()));
                let relative = target
                    .strip_prefix(base.canonicalize().expect("package root"))
                    .unwrap_or_else(|_| {
                        panic!(
                            "{} includes {literal}, outside its package: the package cannot hold it",
                            file.display()
                        )
                    });
                found.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    found
}

/// Asserts that nothing in `list` is data or output that must stay out of a package.
fn assert_no_data(package: &str, list: &[String]) {
    let data: Vec<&String> = list
        .iter()
        .filter(|f| {
            let lower = f.to_ascii_lowercase();
            [
                ".onnx", ".jpg", ".jpeg", ".png", ".webp", ".bmp", ".a", ".so", ".nv12",
            ]
            .iter()
            .any(|ext| lower.ends_with(ext))
                || ["target/", "shared/", "fuzz/"]
                    .iter()
                    .any(|dir| lower.starts_with(dir))
        })
        .collect();
    assert!(
        data.is_empty(),
        "the {package} package would publish {data:?}: keep them out with `include`"
    );
}

#[test]
fn the_library_package_holds_every_file_its_sources_include_and_no_models_nor_photos() {
    let list = package_list("faceguard");
    let included = included_files(&root().join("src"), root());
    assert!(
        included.iter().any(|f| f == "models/fr_feature.json"),
        "src/embed/spec.rs no longer includes models/fr_feature.json? found {included:?}"
    );
    let missing: Vec<&String> = included.iter().filter(|f| !list.contains(f)).collect();
    assert!(
        missing.is_empty(),
        "the faceguard package lacks {missing:?}, which its sources include: add them to \
         `include` in Cargo.toml"
    );
    let sources: Vec<String> = rust_files(&root().join("src"))
        .iter()
        .map(|f| {
            f.strip_prefix(root())
                .expect("under the root")
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    let unpublished: Vec<&String> = sources.iter().filter(|f| !list.contains(f)).collect();
    assert!(
        unpublished.is_empty(),
        "the faceguard package lacks the sources {unpublished:?}"
    );
    assert_no_data("faceguard", &list);
    assert!(
        !list
            .iter()
            .any(|f| f.starts_with("crates/") || f.starts_with("tests/")),
        "the faceguard package holds other crates or the tests: {list:?}"
    );
}

#[test]
fn the_command_line_tools_package_holds_its_sources_and_no_models_nor_photos() {
    let list = package_list("faceguard-cli");
    let cli = root().join("crates/faceguard-cli");
    assert!(
        included_files(&cli.join("src"), &cli).is_empty(),
        "the CLI includes files at compile time: check them here as for the library"
    );
    assert!(
        list.iter().any(|f| f == "src/main.rs"),
        "no src/main.rs in the faceguard-cli package: {list:?}"
    );
    assert_no_data("faceguard-cli", &list);
}
