# faceguard's C library for Yocto / OpenEmbedded (oe-core with its Rust support and cargo-c:
# scarthgap, 5.0, or later), built and installed by cargo-c through the cargo_c class: the
# static library only, as camera firmware links it. See packaging/yocto/README.md.
#
# The commands it runs (cargo_c.bbclass, with cargo.bbclass's CARGO_BUILD_FLAGS), in ${B}:
#   do_compile: cargo-cbuild cbuild -v --frozen --target ${RUST_HOST_SYS} --release \
#                   --manifest-path=${S}/crates/faceguard-c/Cargo.toml \
#                   --destdir ${D} --prefix ${prefix} --libdir ${libdir} \
#                   --library-type staticlib [--features armv7-neon]
#   do_install: cargo-cinstall cinstall (the same arguments), then
#               sed -i 's/^Libs: .*/& -Wl,-z,noexecstack/' ${D}${libdir}/pkgconfig/faceguard.pc
# --frozen: offline, with Cargo.lock as it is. The crates come from SRC_URI (faceguard-crates.inc,
# generated from the Cargo.lock of SRCREV by `bitbake -c update_crates faceguard`) into
# ${CARGO_HOME}/bitbake, which ${CARGO_HOME}/config puts in place of crates.io.

SUMMARY = "On-device face recognition with consent, encryption and audit built in (C library)"
HOMEPAGE = "${FACEGUARD_GIT}"
LICENSE = "MIT | Apache-2.0"
# The licence is declared in the crate's manifest (packaging/test.sh checks this checksum).
LIC_FILES_CHKSUM = "file://crates/faceguard-c/Cargo.toml;beginline=6;endline=6;md5=86b31c7756a1a7962f28b62856ed4f05"

# Your mirror of the repository (host/path, without scheme) and the commit to build: set both,
# e.g. in local.conf or a .bbappend.
FACEGUARD_GIT ??= ""
SRCREV ??= ""
SRC_URI = "git://${FACEGUARD_GIT};protocol=https;branch=main"
S = "${WORKDIR}/git"

inherit cargo_c cargo-update-recipe-crates

require ${BPN}-crates.inc

# The C library's crate inside the workspace (Cargo.lock is at the root, ${S}).
CARGO_SRC_DIR = "crates/faceguard-c"

# Static only: the class's default is `--library-type cdylib`.
CARGO_C_BUILD_FLAGS = "\
    --destdir ${D} \
    --prefix ${prefix} \
    --libdir ${libdir} \
    --library-type staticlib \
    "
# armv7 with NEON: the tune's `neon` already gives rustc +neon (rust-target-config.bbclass);
# the feature builds the NEON matching kernels.
CARGO_BUILD_FLAGS:append = "${@bb.utils.contains('TUNE_FEATURES', 'neon', ' --features armv7-neon', '', d) if d.getVar('TARGET_ARCH') == 'arm' else ''}"

do_install:append() {
    # cargo-c's .pc cannot carry a linker flag; tract's assembly objects lack .note.GNU-stack,
    # and without this flag the firmware linking libfaceguard.a gets an executable stack.
    sed -i 's/^Libs: .*/& -Wl,-z,noexecstack/' ${D}${libdir}/pkgconfig/faceguard.pc
}

# libfaceguard.a goes into ${PN}-staticdev, faceguard.h and faceguard.pc into ${PN}-dev; a
# firmware recipe takes them with DEPENDS = "faceguard" and `inherit pkgconfig`.
ALLOW_EMPTY:${PN} = "1"

python () {
    if not d.getVar('FACEGUARD_GIT') or not d.getVar('SRCREV'):
        raise bb.parse.SkipRecipe("set FACEGUARD_GIT (your mirror of the faceguard repository) and SRCREV (the commit to build)")
}
