//! The vault at scale, on the real file system with real `fsync`s: opening a vault of 100,000
//! enrolled people, enrolling one more (consent and template, each flushed), revoking one
//! (its key file rewritten), and compacting after it.
//!
//! The vault is built once into `target/bench-vault-<n>` (reused while it opens) from
//! 100,000 templates computed by the engine from the sample photos, through the stand-in
//! embedder of `benches/matching.rs` (vault cost depends on the number and size of templates,
//! not their values). Building skips `fsync` (a storage wrapper), to take a minute, not hours;
//! every measured operation flushes as in production.
//!
//! `cargo bench --bench vault` (`FACEGUARD_BENCH_VAULT_SIZE=10000` for a smaller vault).

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use faceguard::vault::{DirStorage, Storage, Vault, VaultError, VaultKey};
use faceguard::{DecodedImage, Engine, Face, LivenessPolicy, Purpose, SubjectId, Template};
use support::{gallery_engine, photos};

enum Door {}
impl Purpose for Door {
    const NAME: &'static str = "door-access";
    const ENROLMENT_LIVENESS: LivenessPolicy = LivenessPolicy::Waived {
        reason: "benchmark of vault speed on stored photos",
    };
    const PROBE_LIVENESS: LivenessPolicy = LivenessPolicy::Waived {
        reason: "benchmark of vault speed on stored photos",
    };
}

const NOTICE: &str = "Benchmark: templates of sample photos in a scratch vault.";
const VALID: Duration = Duration::from_secs(300 * 86_400);

fn key() -> VaultKey {
    VaultKey::from_bytes(&[0x42; 32]).unwrap()
}

/// Real files, no flushing: only for building the vault the benches measure.
struct NoSync(DirStorage);

impl Storage for NoSync {
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>, VaultError> {
        self.0.read(name)
    }
    fn write_new(&self, name: &str, bytes: &[u8]) -> Result<(), VaultError> {
        self.0.write_new(name, bytes)
    }
    fn append(&self, name: &str, bytes: &[u8]) -> Result<(), VaultError> {
        self.0.append(name, bytes)
    }
    fn truncate(&self, name: &str, len: u64) -> Result<(), VaultError> {
        self.0.truncate(name, len)
    }
    fn sync(&self, _: &str) -> Result<(), VaultError> {
        Ok(())
    }
    fn rename(&self, from: &str, to: &str) -> Result<(), VaultError> {
        self.0.rename(from, to)
    }
    fn remove(&self, name: &str) -> Result<(), VaultError> {
        self.0.remove(name)
    }
    fn sync_dir(&self) -> Result<(), VaultError> {
        Ok(())
    }
    fn list(&self) -> Result<Vec<String>, VaultError> {
        self.0.list()
    }
}

fn size() -> usize {
    std::env::var("FACEGUARD_BENCH_VAULT_SIZE")
        .ok()
        .map(|v| v.parse().expect("FACEGUARD_BENCH_VAULT_SIZE is a number"))
        .unwrap_or(100_000)
}

static NEXT: AtomicU64 = AtomicU64::new(0);

/// Consents person `bench-<n>` and enrols photo `n` (of the sample photos, in turn).
fn enrol(vault: &Vault, engine: &Engine, photos: &[(DecodedImage, Face)], n: u64) -> SubjectId {
    let subject = SubjectId::new(format!("bench-{n}")).unwrap();
    let token = vault.grant::<Door>(subject.clone(), NOTICE, VALID).unwrap();
    let (img, face) = &photos[n as usize % photos.len()];
    let template: Template<Door> = engine
        .enrolment_template(&token, &img.view(), face)
        .unwrap();
    vault.enroll(template).unwrap();
    subject
}

/// The vault of `n` people in `dir`, built if it is not there yet.
fn build(dir: &Path, n: usize, engine: &Engine, photos: &[(DecodedImage, Face)]) {
    if let Ok((vault, _)) = Vault::open(dir, key()) {
        if vault.template_count() >= n {
            return;
        }
    }
    let _ = std::fs::remove_dir_all(dir);
    let start = Instant::now();
    let storage = NoSync(DirStorage::create(dir).unwrap());
    let vault = Vault::create_in(
        Box::new(storage),
        key(),
        faceguard::vault::VaultConfig::new(),
    )
    .unwrap();
    for i in 0..n as u64 {
        enrol(&vault, engine, photos, i);
        if (i + 1) % 10_000 == 0 {
            eprintln!(
                "vault bench: {} of {n} enrolled ({:.0?})",
                i + 1,
                start.elapsed()
            );
        }
    }
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

fn vault(c: &mut Criterion) {
    let n = size();
    let (engine, _) = gallery_engine();
    let photos = photos(&engine);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("bench-vault-{n}"));
    build(&dir, n, &engine, &photos);
    eprintln!(
        "vault bench: {n} templates, {:.1} MB on disk",
        dir_bytes(&dir) as f64 / 1e6
    );
    NEXT.store(n as u64 + 1_000_000, Ordering::Relaxed);

    let mut group = c.benchmark_group(format!("vault/{n}"));
    group.sample_size(10);
    // Baselines, same run: reading every file of the vault (from the page cache), and the
    // cheapest durable write (a 2 KB append and its fsync).
    group.bench_function("baseline_read_files", |b| {
        b.iter(|| {
            std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| std::fs::read(e.unwrap().path()).unwrap().len())
                .sum::<usize>()
        })
    });
    let scratch = dir.with_extension("fsync-probe");
    group.bench_function("baseline_append_fsync", |b| {
        use std::io::Write;
        let mut f = std::fs::File::create(&scratch).unwrap();
        b.iter(|| {
            f.write_all(&[0x5a; 2048]).unwrap();
            f.sync_all().unwrap();
        })
    });
    let _ = std::fs::remove_file(&scratch);
    group.bench_function("open", |b| {
        b.iter(|| {
            let (vault, report) = Vault::open(&dir, key()).unwrap();
            assert!(report.templates_loaded >= n);
            vault
        })
    });

    let (vault, _) = Vault::open(&dir, key()).unwrap();
    group.bench_function("enrol_new_person", |b| {
        b.iter(|| {
            enrol(
                &vault,
                &engine,
                &photos,
                NEXT.fetch_add(1, Ordering::Relaxed),
            )
        })
    });
    let token = vault
        .grant::<Door>(SubjectId::new("bench-again").unwrap(), NOTICE, VALID)
        .unwrap();
    group.bench_function("enrol_under_existing_consent", |b| {
        b.iter_batched(
            || {
                let (img, face) = &photos[0];
                engine
                    .enrolment_template(&token, &img.view(), face)
                    .unwrap()
            },
            |template| vault.enroll(template).unwrap(),
            BatchSize::PerIteration,
        )
    });
    group.bench_function("revoke", |b| {
        b.iter_batched(
            || {
                enrol(
                    &vault,
                    &engine,
                    &photos,
                    NEXT.fetch_add(1, Ordering::Relaxed),
                )
            },
            |subject| vault.revoke_subject(&subject).unwrap(),
            BatchSize::PerIteration,
        )
    });
    group.finish();

    // Compaction rewrites the journal: one timed run, after the revocations above.
    let start = Instant::now();
    let purged = vault.compact().unwrap();
    eprintln!(
        "vault bench: compact purged {purged} templates in {:.0?} ({:.1} MB left)",
        start.elapsed(),
        dir_bytes(&dir) as f64 / 1e6
    );
}

criterion_group!(benches, vault);
criterion_main!(benches);
