################################################################################
#
# faceguard
#
################################################################################

# Where the sources come from: your mirror of the repository, at a commit or tag (Config.in).
FACEGUARD_VERSION = $(call qstrip,$(BR2_PACKAGE_FACEGUARD_VERSION))
FACEGUARD_SITE = $(call qstrip,$(BR2_PACKAGE_FACEGUARD_SITE))
FACEGUARD_SITE_METHOD = git
FACEGUARD_LICENSE = MIT or Apache-2.0
FACEGUARD_LICENSE_FILES = crates/faceguard-c/Cargo.toml
# The static library, its header and faceguard.pc go into staging, for the firmware's packages
# to link; nothing goes onto the target's root filesystem.
FACEGUARD_INSTALL_STAGING = YES
FACEGUARD_INSTALL_TARGET = NO

# At download time the cargo infrastructure vendors the crates of the whole workspace and
# points cargo at them (support/download/cargo-post-process), in the source tree:
#   cargo vendor --manifest-path crates/faceguard-c/Cargo.toml --locked VENDOR > .cargo/config
FACEGUARD_SUBDIR = crates/faceguard-c

ifeq ($(BR2_arm)$(BR2_ARM_CPU_HAS_NEON),yy)
# armv7 does not imply NEON: enable it, and the NEON matching kernels. The first flag is the
# one Buildroot's cargo infrastructure sets for ARM (PKG_CARGO_ENV); this assignment comes
# after it and replaces it, so it is repeated here.
FACEGUARD_CARGO_ENV = \
	CARGO_TARGET_$(call UPPERCASE,$(RUSTC_TARGET_NAME))_RUSTFLAGS="-Clink-arg=-Wl,--allow-multiple-definition -Ctarget-feature=+neon"
FACEGUARD_FEATURES = --features armv7-neon
endif

# Build and install in one cargo build, with the repository's plain-cargo installer (the same
# files, SONAME policy and faceguard.pc as cargo-c), offline and with Cargo.lock as it is:
#   scripts/c-install.sh --offline --locked --library-type staticlib [--features armv7-neon] \
#       --destdir $(@D)/dist /usr $(RUSTC_TARGET_NAME)
# which runs
#   cargo rustc --quiet -p faceguard-c --lib --profile release --offline --locked \
#       --target $(RUSTC_TARGET_NAME) [--features armv7-neon] --crate-type staticlib \
#       -- --print native-static-libs
define FACEGUARD_BUILD_CMDS
	rm -rf $(@D)/dist
	cd $(@D) && \
	$(TARGET_MAKE_ENV) \
		$(TARGET_CONFIGURE_OPTS) \
		$(PKG_CARGO_ENV) \
		$(FACEGUARD_CARGO_ENV) \
		scripts/c-install.sh --offline --locked --library-type staticlib \
			$(FACEGUARD_FEATURES) $(if $(BR2_ENABLE_DEBUG),--profile dev) \
			--destdir $(@D)/dist /usr $(RUSTC_TARGET_NAME)
endef

# usr/lib/libfaceguard.a, usr/include/faceguard.h, usr/lib/pkgconfig/faceguard.pc
define FACEGUARD_INSTALL_STAGING_CMDS
	cp -a $(@D)/dist/. $(STAGING_DIR)/
endef

$(eval $(cargo-package))
