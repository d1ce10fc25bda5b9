#!/usr/bin/env bash
# Fuzzes every parser of the vault's on-disk data with cargo-fuzz (libFuzzer), each target for
# FUZZ_SECONDS (default 60), and prints the executions and findings of each.
#
#   scripts/fuzz.sh                 # all targets
#   FUZZ_SECONDS=600 scripts/fuzz.sh journal
#
# Needs a nightly toolchain and cargo-fuzz (`rustup toolchain install nightly`,
# `cargo install cargo-fuzz`), and the models (scripts/fetch-models.sh) to build the seed vault.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-60}"
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(frame head keys journal vault_open)

command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz is missing: cargo install cargo-fuzz" >&2; exit 1; }

# A real vault under the fuzz key (32 bytes of 0x5a), two people enrolled, one revoked.
seed=fuzz/seed-vault
if [ ! -f "$seed/HEAD" ]; then
    rm -rf "$seed"
    mkdir -p fuzz
    printf '\x5a%.0s' $(seq 32) > fuzz/seed.key
    cargo build --release -p faceguard-cli
    fg=target/release/faceguard
    faces=../shared/data/faces/deepface
    "$fg" vault init --vault "$seed" --key-file fuzz/seed.key >/dev/null
    "$fg" vault enroll --vault "$seed" --key-file fuzz/seed.key --subject badge-1 --purpose door-access "$faces/img1.jpg" >/dev/null
    "$fg" vault enroll --vault "$seed" --key-file fuzz/seed.key --subject badge-2 --purpose door-access "$faces/img3.jpg" >/dev/null
    "$fg" vault identify --vault "$seed" --key-file fuzz/seed.key --purpose door-access "$faces/img2.jpg" >/dev/null
fi
export FACEGUARD_FUZZ_SEED_VAULT="$PWD/$seed"

# Seed corpora: the real files.
for t in frame head keys journal vault_open; do mkdir -p "fuzz/corpus/$t"; done
cp "$seed/HEAD" fuzz/corpus/head/seed
cp "$seed/HEAD" fuzz/corpus/frame/head
cp "$seed/keys.0.01" fuzz/corpus/keys/seed
cp "$seed/keys.0.01" fuzz/corpus/frame/keys
cp "$seed/journal" fuzz/corpus/journal/seed
i=0
for f in HEAD journal keys.0.01; do
    { printf "\\x0$i"; cat "$seed/$f"; } > "fuzz/corpus/vault_open/$f"
    i=$((i + 1))
done

for t in "${targets[@]}"; do
    log="fuzz/$t.log"
    # Stable rustc with RUSTC_BOOTSTRAP would also do; nightly is what cargo-fuzz documents.
    if cargo +nightly fuzz run "$t" "fuzz/corpus/$t" -- -max_total_time="$seconds" -rss_limit_mb=4096 >"$log" 2>&1; then
        runs=$(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1)
        cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1)
        echo "$t: $runs(s), $cov, no crash"
    else
        echo "$t: FAILED, see $log and fuzz/artifacts/$t" >&2
        tail -30 "$log" >&2
        exit 1
    fi
done
