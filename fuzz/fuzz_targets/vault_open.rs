//! A real vault with one of its files replaced by arbitrary bytes: opening it (recovery
//! included) and reading its audit log return errors, never panic. The first input byte picks
//! the file.
#![no_main]

use faceguard::vault::{fuzzing, read_audit, DirStorage, Vault};

const FILES: [&str; 3] = ["HEAD", "journal", "keys.0.01"];

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let seed = std::env::var("FACEGUARD_FUZZ_SEED_VAULT").expect(
        "run scripts/fuzz.sh, which builds the seed vault and sets FACEGUARD_FUZZ_SEED_VAULT",
    );
    for name in FILES {
        std::fs::copy(format!("{seed}/{name}"), dir.path().join(name)).expect("seed vault file");
    }
    std::fs::write(dir.path().join(FILES[pick as usize % FILES.len()]), bytes).expect("write");
    let _ = Vault::open(dir.path(), fuzzing::key());
    let _ = read_audit(&DirStorage::existing(dir.path()).expect("dir"), &fuzzing::key());
});
