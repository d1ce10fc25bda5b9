//! What a firmware build compiles: a plain build of the library (`faceguard`, default features)
//! and of the C library (`faceguard-c`) pulls in none of the command-line tool's crates
//! (arguments, progress bars, plots, image-file decoding), and turns on neither the `research`
//! feature nor file decoding. Read from `cargo tree`, as a camera maker's build resolves it.

use std::process::Command;

/// The command-line tool's crates and the crates only they bring: argument parsing (clap),
/// progress bars (indicatif), plots (plotters, its fonts), image files (image and its codecs).
const CLI_CRATES: &[&str] = &[
    "clap",
    "clap_builder",
    "clap_derive",
    "clap_lex",
    "anstream",
    "anstyle",
    "indicatif",
    "console",
    "number_prefix",
    "plotters",
    "plotters-backend",
    "plotters-bitmap",
    "plotters-svg",
    "ab_glyph",
    "ab_glyph_rasterizer",
    "owned_ttf_parser",
    "ttf-parser",
    "image",
    "image-webp",
    "zune-jpeg",
    "zune-core",
    "png",
    "gif",
    "moxcms",
];

/// Features of the library that a plain build must not turn on.
const OPT_IN_FEATURES: &[&str] = &["research", "image-files", "fuzzing"];

/// One line of `cargo tree`: a package and the features it is built with.
struct Node {
    name: String,
    features: Vec<String>,
}

/// The packages a plain `cargo build -p <package>` compiles for this machine: normal and build
/// dependencies, default features, as `cargo tree` resolves them (offline: the lock file and
/// the crates the test build already fetched).
fn plain_build(package: &str) -> Vec<Node> {
    let out = Command::new(env!("CARGO"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "tree",
            "--offline",
            "--locked",
            "-e",
            "normal,build",
            "--prefix",
            "none",
            "--format",
            "{p} features=[{f}]",
            "-p",
            package,
        ])
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "cargo tree -p {package} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let name = line
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
            let features = line
                .split_once("features=[")
                .and_then(|(_, rest)| rest.split_once(']'))
                .map(|(list, _)| {
                    list.split(',')
                        .filter(|f| !f.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            Node { name, features }
        })
        .collect()
}

/// Asserts that the plain build of `package` is the real pipeline (it compiles `tract-onnx`
/// and the library), without any of the CLI's crates nor an opt-in feature of the library.
fn assert_firmware_build(package: &str) {
    let nodes = plain_build(package);
    let has = |name: &str| nodes.iter().any(|n| n.name == name);
    // So that an empty or unparsed output cannot pass.
    assert!(
        has(package) && has("faceguard") && has("tract-onnx"),
        "cargo tree -p {package} does not list {package}, faceguard and tract-onnx: {:?}",
        nodes.iter().map(|n| &n.name).collect::<Vec<_>>()
    );
    let found: Vec<&str> = CLI_CRATES.iter().copied().filter(|c| has(c)).collect();
    assert!(
        found.is_empty(),
        "a plain build of {package} compiles the command-line tool's crates {found:?}: see \
         which dependency brings them with `cargo tree -p {package} -e normal,build -i {}`",
        found[0]
    );
    for node in nodes.iter().filter(|n| n.name == "faceguard") {
        let on: Vec<&String> = node
            .features
            .iter()
            .filter(|f| OPT_IN_FEATURES.contains(&f.as_str()))
            .collect();
        assert!(
            on.is_empty(),
            "a plain build of {package} turns on faceguard's opt-in features {on:?}"
        );
    }
}

#[test]
fn a_plain_build_of_the_library_compiles_none_of_the_command_line_tools_crates() {
    assert_firmware_build("faceguard");
}

#[test]
fn a_plain_build_of_the_c_library_compiles_none_of_the_command_line_tools_crates() {
    assert_firmware_build("faceguard-c");
}
