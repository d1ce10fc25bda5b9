//! Gives `libfaceguard.so` the SONAME cargo-c gives it, so that a plain `cargo build` (and
//! `scripts/c-install.sh`, which installs its output) and `cargo cinstall` produce the same
//! shared library. The policy (README, "Install"), as cargo-c's: the SONAME carries the
//! version components that may break the ABI under semver, `libfaceguard.so.0.<minor>` for
//! 0.x (`0.0.<patch>` for 0.0.x), `libfaceguard.so.<major>` from 1.0 on.

use std::env;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // cargo-c (which builds with its `capi` feature) passes the same -soname itself, and for
    // `--library-type staticlib` builds no cdylib, for which cargo warns about this directive.
    if env::var_os("CARGO_FEATURE_CAPI").is_some() {
        return;
    }
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let soname = match os.as_str() {
        // cargo-c's list of ELF systems that version the SONAME.
        "linux" | "freebsd" | "dragonfly" | "netbsd" | "haiku" | "illumos" | "openbsd" | "hurd" => {
            format!("libfaceguard.so.{}", sover())
        }
        // Android's loader ignores versions: cargo-c gives the bare name.
        "android" => "libfaceguard.so".to_owned(),
        // Mach-O and PE name their libraries otherwise; nothing to do here.
        _ => return,
    };
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
}

/// cargo-c's `LibraryCApiConfig::sover` for the default `version_suffix_components`.
fn sover() -> String {
    let part = |name: &str| -> u64 {
        env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("cargo sets {name} to a number"))
    };
    match (
        part("CARGO_PKG_VERSION_MAJOR"),
        part("CARGO_PKG_VERSION_MINOR"),
        part("CARGO_PKG_VERSION_PATCH"),
    ) {
        (0, 0, patch) => format!("0.0.{patch}"),
        (0, minor, _) => format!("0.{minor}"),
        (major, _, _) => format!("{major}"),
    }
}
