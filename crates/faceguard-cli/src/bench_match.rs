//! `bench-match`: 1:N search speed and fast-search agreement on a gallery of real templates
//! plus synthetic distractors that score like real impostors.
//!
//! The people in `identities.csv` are split in two by identity (sorted, alternately):
//! * probe people: every other photo of each is enrolled (its template is a gallery row); all
//!   their photos give probes, each through the 41 augmentations of [`augment::probe_set`]
//!   (crops, mirror, brightness), so about half the probes have their own source photo
//!   enrolled and half only other photos of the same person;
//! * basis people: never probed nor enrolled; their templates (photo and mirror image) shape
//!   the distractors ([`distractors::Generator`]), calibrated against the real impostor scores
//!   of probes versus basis people.
//!
//! The gallery is the enrolled templates plus distractors up to `--n` rows. Times are per
//! probe, averaged over all probes, with `--threads` threads: exact `f32`, exact `i8` (same
//! answer, a quarter of the bytes) and fast search, whose top-1 is compared with exact `f32`'s
//! on every probe; and the bound, a streaming read of the `f32` column by the same threads,
//! interleaved with the exact `f32` searches (one read per eight probes).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use faceguard::{decode_file, ConsentLedger, Engine, ImageView};
use faceguard_match::rng::SplitMix64;
use faceguard_match::{FastParams, Index, Method, Outcome, SearchOptions};
use zeroize::Zeroizing;

use crate::augment::{self, Augmentation};
use crate::distractors::{self, Generator};
use crate::shared::{self, report_warning, CliError, CliEvaluation, NOTICE};

#[derive(clap::Args)]
pub struct BenchMatchArgs {
    /// Gallery rows: enrolled real templates plus synthetic distractors.
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub n: usize,
    /// Template dimension; real templates are randomly projected to it when it differs from
    /// the embedder's (512 for fr_feature).
    #[arg(long, value_name = "D", default_value_t = 512)]
    pub dim: usize,
    /// Search threads [default: the CPU count].
    #[arg(long, value_name = "T", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// `identities.csv` (`file,identity,source`, paths relative to its directory)
    /// [default: ../shared/data/faces/identities.csv beside the repository].
    #[arg(long, value_name = "CSV")]
    pub identities: Option<PathBuf>,
    /// Use only the first N probes (all by default): a quicker, less precise run.
    #[arg(long, value_name = "N")]
    pub probes: Option<usize>,
    /// Write the real and synthetic impostor score histograms here (CSV).
    #[arg(long, value_name = "OUT.csv")]
    pub histogram: Option<PathBuf>,
    /// Seed of the distractors.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

type Vector = Zeroizing<Vec<f32>>;

struct Photo {
    path: PathBuf,
    identity: String,
}

pub fn run(models: Option<&Path>, args: &BenchMatchArgs) -> Result<(), CliError> {
    let threads = args.threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        usize::from,
    );
    if args.dim == 0 || args.dim > faceguard_match::MAX_DIM {
        return Err(CliError::new(format!(
            "--dim {} is not supported: it must be 1..={}",
            args.dim,
            faceguard_match::MAX_DIM
        )));
    }
    let photos = read_identities(args.identities.as_deref())?;
    let mut people: Vec<&str> = photos.iter().map(|p| p.identity.as_str()).collect();
    people.sort_unstable();
    people.dedup();
    let probe_side = |id: &str| people.iter().position(|p| *p == id).unwrap_or(0) % 2 == 0;

    let engine = shared::load_engine(models)?;
    let ledger = ConsentLedger::new();
    let probe_set = augment::probe_set();
    let plain = Augmentation {
        flip: false,
        window: [0.0, 0.0, 1.0, 1.0],
        brightness: 1.0,
    };
    let mirror = Augmentation {
        flip: true,
        ..plain
    };

    // What to embed: (photo, augmentation, role).
    #[derive(Clone, Copy, PartialEq)]
    enum Role {
        Enrolled,
        Probe,
        Basis,
    }
    let mut jobs: Vec<(usize, Augmentation, Role)> = Vec::new();
    let mut seen_per_person: std::collections::HashMap<&str, usize> = Default::default();
    for (i, photo) in photos.iter().enumerate() {
        if probe_side(&photo.identity) {
            let nth = seen_per_person.entry(&photo.identity).or_insert(0);
            if nth.is_multiple_of(2) {
                jobs.push((i, plain, Role::Enrolled));
            }
            *nth += 1;
            jobs.extend(probe_set.iter().map(|a| (i, *a, Role::Probe)));
        } else {
            jobs.push((i, plain, Role::Basis));
            jobs.push((i, mirror, Role::Basis));
        }
    }
    if let Some(limit) = args.probes {
        let mut kept = 0;
        jobs.retain(|(_, _, role)| {
            kept += usize::from(*role == Role::Probe);
            *role != Role::Probe || kept <= limit.max(1)
        });
    }
    // Checked before the long part: the gallery holds at least the enrolled photos.
    let to_enrol = jobs.iter().filter(|(_, _, r)| *r == Role::Enrolled).count();
    if args.n < to_enrol {
        return Err(CliError::new(format!(
            "--n {} is below the {to_enrol} enrolled real templates",
            args.n
        )));
    }
    eprintln!(
        "embedding {} images ({} photos of {} people) on {threads} threads",
        jobs.len(),
        photos.len(),
        people.len()
    );
    let started = Instant::now();
    let embedded = embed_all(&engine, &ledger, &photos, &jobs, threads)?;
    eprintln!("embedded in {:.1} s", started.elapsed().as_secs_f64());
    let skipped = embedded.iter().filter(|e| e.is_none()).count();
    if skipped > 0 {
        report_warning(&format!(
            "{skipped} augmented images had no detectable face; skipped"
        ));
    }
    let model_dim = embedded
        .iter()
        .flatten()
        .next()
        .map_or(args.dim, |v| v.len());
    let project = Projection::new(model_dim, args.dim, args.seed);
    let mut enrolled: Vec<(Vector, usize)> = Vec::new();
    let mut probes: Vec<(Vector, usize)> = Vec::new();
    let mut basis: Vec<Vec<f32>> = Vec::new();
    for ((photo, _, role), v) in jobs.iter().zip(embedded) {
        let Some(v) = v else { continue };
        let v = project.apply(&v);
        match role {
            Role::Enrolled => enrolled.push((v, *photo)),
            Role::Probe => probes.push((v, *photo)),
            Role::Basis => basis.push(v.to_vec()),
        }
    }
    if enrolled.is_empty() || probes.is_empty() || basis.len() < 2 {
        return Err(CliError::new("too few faces found to build the benchmark"));
    }

    // Real impostor scores: probes against the basis people (different people by construction).
    let probe_vecs: Vec<Vec<f32>> = probes.iter().map(|(v, _)| v.to_vec()).collect();
    let impostor: Vec<f32> = probe_vecs
        .iter()
        .flat_map(|p| basis.iter().map(move |b| distractors::dot(p, b)))
        .collect();
    let mut generator = Generator::fit(&basis);
    let sample: Vec<Vec<f32>> = probe_vecs.iter().step_by(4).cloned().collect();
    generator.calibrate(&sample, &impostor, args.seed ^ 0x5eed);
    let synthetic = generator.scores(&sample, 2000, &mut SplitMix64::new(args.seed ^ 0xd15));
    let (rm, rs) = distractors::mean_sd(&impostor);
    let (sm, ss) = distractors::mean_sd(&synthetic);
    let ks = distractors::ks_distance(impostor.clone(), synthetic.clone());
    eprintln!(
        "impostor scores: real mean {rm:.4} sd {rs:.4} (n={}), synthetic mean {sm:.4} sd {ss:.4} (n={}); \
         alpha {} beta {} tau {} lookalikes {}; KS distance {ks:.4}",
        impostor.len(),
        synthetic.len(),
        generator.alpha,
        generator.beta,
        generator.tau,
        generator.lookalikes,
    );
    eprintln!(
        "quantiles {:?}: real {:.3?} synthetic {:.3?}",
        distractors::QUANTILES,
        distractors::quantiles(impostor.clone()),
        distractors::quantiles(synthetic.clone())
    );
    print_histograms(&impostor, &synthetic, args.histogram.as_deref())?;

    // The gallery.
    let started = Instant::now();
    let mut index = Index::new(args.dim)?;
    for (v, photo) in &enrolled {
        index.push(v, *photo as u32)?;
    }
    fill_with_distractors(&mut index, &generator, args.n, args.seed, threads)?;
    eprintln!(
        "gallery: {} rows ({} enrolled photos, {} distractors) built in {:.1} s",
        index.len(),
        enrolled.len(),
        index.len() - enrolled.len(),
        started.elapsed().as_secs_f64()
    );

    let options = |method| SearchOptions::new(1).method(method).threads(threads);
    let fast_method = Method::Fast(FastParams::default());
    let (f32_ms, stream_ms, exact) =
        time_exact_and_bound(&index, &probes, &options(Method::ExactF32), threads)?;
    let (i8_ms, exact_i8) = time_all(&index, &probes, &options(Method::ExactI8))?;
    let (fast_ms, fast) = time_all(&index, &probes, &options(fast_method))?;

    let top1 = |o: &Outcome| o.hits.first().map(|h| h.row);
    let agree = exact
        .iter()
        .zip(&fast)
        .filter(|(e, f)| top1(e) == top1(f))
        .count();
    let i8_agree = exact
        .iter()
        .zip(&exact_i8)
        .filter(|(e, f)| e.hits == f.hits)
        .count();
    let agreement = agree as f64 / probes.len() as f64;
    let genuine = exact
        .iter()
        .zip(&probes)
        .filter(|(o, (_, photo))| {
            o.hits.first().is_some_and(|h| {
                (h.row < enrolled.len())
                    && photos[enrolled[h.row].1].identity == photos[*photo].identity
            })
        })
        .count();
    let mut cands: Vec<usize> = fast.iter().map(|o| o.candidates).collect();
    cands.sort_unstable();
    let capped = fast.iter().filter(|o| o.capped).count();
    eprintln!(
        "probes: {}; exact top-1 is a photo of the same person for {genuine}; exact i8 == exact f32 on {i8_agree}; \
         fast candidates median {} p99 {} max {} (capped {capped})",
        probes.len(),
        cands[cands.len() / 2],
        cands[(cands.len() * 99 / 100).min(cands.len() - 1)],
        cands[cands.len() - 1],
    );
    let ratio = stream_ms / f32_ms;
    shared::emit(&format!(
        "n={} dim={} threads={threads} stream_bound_ms={stream_ms:.3} exact_f32_ms={f32_ms:.3} exact_i8_ms={i8_ms:.3} fast_ms={fast_ms:.3} f32_bound_ratio={ratio:.3} top1_agreement={agreement:.4}",
        index.len(),
        args.dim,
    ))
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

/// Exact `f32` search of every probe, and the streaming-read bound: the `f32` column read by
/// the same threads, once after every eighth probe, so that both means cover the same stretch
/// of time on a shared machine. Returns (search ms, read ms, outcomes).
fn time_exact_and_bound(
    index: &Index,
    probes: &[(Vector, usize)],
    options: &SearchOptions,
    threads: usize,
) -> Result<(f64, f64, Vec<Outcome>), CliError> {
    let _ = index.search(&probes[0].0, options)?; // warm-up
    let _ = index.stream_f32(threads, None);
    let (mut search_ms, mut read_ms, mut reads) = (0.0, 0.0, 0);
    let mut outcomes = Vec::with_capacity(probes.len());
    for (i, (v, _)) in probes.iter().enumerate() {
        let started = Instant::now();
        outcomes.push(index.search(v, options)?);
        search_ms += ms(started);
        if i % 8 == 0 {
            let started = Instant::now();
            std::hint::black_box(index.stream_f32(threads, None));
            read_ms += ms(started);
            reads += 1;
        }
    }
    Ok((
        search_ms / probes.len() as f64,
        read_ms / reads as f64,
        outcomes,
    ))
}

/// Mean milliseconds per probe, and every outcome.
fn time_all(
    index: &Index,
    probes: &[(Vector, usize)],
    options: &SearchOptions,
) -> Result<(f64, Vec<Outcome>), CliError> {
    let _ = index.search(&probes[0].0, options)?; // warm-up
    let started = Instant::now();
    let outcomes = probes
        .iter()
        .map(|(v, _)| index.search(v, options))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((ms(started) / probes.len() as f64, outcomes))
}

fn read_identities(path: Option<&Path>) -> Result<Vec<Photo>, CliError> {
    let path = path
        .map(Path::to_path_buf)
        .unwrap_or_else(|| crate::shared::repository().join("../shared/data/faces/identities.csv"));
    let text = std::fs::read_to_string(&path).map_err(|e| {
        CliError::new(format!(
            "cannot read identities file {}: {e} (pass --identities CSV)",
            path.display()
        ))
    })?;
    let root = path.parent().unwrap_or(Path::new("."));
    let mut photos = Vec::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let mut fields = line.split(',').map(str::trim);
        match (fields.next(), fields.next()) {
            (Some(file), Some(identity)) if !file.is_empty() && !identity.is_empty() => photos
                .push(Photo {
                    path: root.join(file),
                    identity: identity.to_string(),
                }),
            _ => {
                return Err(CliError::new(format!(
                    "{}:{}: expected `file,identity,...`",
                    path.display(),
                    n + 1
                )))
            }
        }
    }
    if photos.is_empty() {
        return Err(CliError::new(format!("{} lists no photos", path.display())));
    }
    Ok(photos)
}

/// Embeds every job's augmented photo (`None` where no face is found), on `threads` threads.
fn embed_all(
    engine: &Engine,
    ledger: &ConsentLedger,
    photos: &[Photo],
    jobs: &[(usize, Augmentation, impl Sync)],
    threads: usize,
) -> Result<Vec<Option<Vector>>, CliError> {
    let images = photos
        .iter()
        .map(|p| decode_file(&p.path).map_err(CliError::from))
        .collect::<Result<Vec<_>, _>>()?;
    let per = jobs.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .chunks(per.max(1))
            .map(|chunk| {
                let images = &images;
                s.spawn(move || -> Result<Vec<Option<Vector>>, CliError> {
                    chunk
                        .iter()
                        .map(|(photo, aug, _)| {
                            let img = &images[*photo];
                            let (rgb, w, h) =
                                augment::apply(img.rgb(), img.width(), img.height(), aug);
                            let view = ImageView::rgb(&rgb, w, h)?;
                            let faces = engine.detect(&view)?;
                            let Some(face) = shared::largest_face(&faces) else {
                                return Ok(None);
                            };
                            let consent = ledger.probe_consent::<CliEvaluation>(NOTICE)?;
                            let template = engine.probe_template(consent, &view, face)?;
                            Ok(Some(Zeroizing::new(template.expose_secret()?.to_vec())))
                        })
                        .collect()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(jobs.len());
        for h in handles {
            out.extend(
                h.join()
                    .map_err(|_| CliError::new("an embedding thread failed"))??,
            );
        }
        Ok(out)
    })
}

/// Generates distractors in parallel batches and appends them until the index holds `n` rows.
fn fill_with_distractors(
    index: &mut Index,
    generator: &Generator,
    n: usize,
    seed: u64,
    threads: usize,
) -> Result<(), CliError> {
    const BATCH: usize = 8192;
    let dim = index.dim();
    let mut batch_no = 0u64;
    while index.len() < n {
        let want = (n - index.len()).min(BATCH * threads);
        let per = want.div_ceil(threads);
        let batches: Vec<Vec<f32>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let count = per.min(want.saturating_sub(t * per));
                    let seed = seed ^ (batch_no * 1000 + t as u64 + 1).wrapping_mul(0x9E37_79B9);
                    s.spawn(move || {
                        let mut rng = SplitMix64::new(seed);
                        let mut out = vec![0.0f32; count * dim];
                        for row in out.chunks_exact_mut(dim) {
                            generator.sample(&mut rng, row);
                        }
                        out
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .map_err(|_| CliError::new("a distractor thread failed"))
                })
                .collect::<Result<_, _>>()
        })?;
        for batch in &batches {
            for row in batch.chunks_exact(dim) {
                index.push(row, u32::MAX)?;
            }
        }
        batch_no += 1;
    }
    Ok(())
}

/// A fixed random projection from the embedder's dimension to `--dim` (identity when equal).
struct Projection {
    rows: Option<Vec<Vec<f32>>>,
}

impl Projection {
    fn new(from: usize, to: usize, seed: u64) -> Self {
        if from == to {
            return Projection { rows: None };
        }
        let mut rng = SplitMix64::new(seed ^ 0x0b1e);
        Projection {
            rows: Some((0..to).map(|_| rng.unit_vector(from)).collect()),
        }
    }

    fn apply(&self, v: &[f32]) -> Vector {
        let Some(rows) = &self.rows else {
            return Zeroizing::new(v.to_vec());
        };
        let mut out: Vec<f32> = rows.iter().map(|r| distractors::dot(r, v)).collect();
        distractors::normalise(&mut out);
        Zeroizing::new(out)
    }
}

fn print_histograms(real: &[f32], synthetic: &[f32], csv: Option<&Path>) -> Result<(), CliError> {
    let (lo, width, bins) = (-0.5f32, 0.05f32, 26);
    let hr = distractors::histogram(real, lo, width, bins);
    let hs = distractors::histogram(synthetic, lo, width, bins);
    let mut text = String::from("bin_low,real_impostor_share,synthetic_share\n");
    for (b, (r, s)) in hr.iter().zip(&hs).enumerate() {
        let _ = writeln!(text, "{:.2},{r:.6},{s:.6}", lo + b as f32 * width);
    }
    eprint!("{text}");
    if let Some(path) = csv {
        std::fs::write(path, &text)
            .map_err(|e| CliError::new(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(())
}
