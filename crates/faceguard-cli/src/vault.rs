//! `vault`: the encrypted template vault from the command line, for integrators and for
//! testing from outside. Every command takes `--vault DIR --key-file FILE`, prints JSON on
//! stdout, and fails with one line and exit code 1 (wrong key, tampered file, unknown subject,
//! expired consent...).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use faceguard::vault::{Vault, VaultKey, KEY_LEN};
use faceguard::{decode_file, ConsentStatus, NamedPurpose, SubjectId};
use serde::Serialize;

use crate::shared::{self, CliError};

#[derive(clap::Args)]
pub struct VaultArgs {
    /// The vault's directory.
    #[arg(long = "vault", value_name = "DIR", global = true)]
    dir: Option<PathBuf>,
    /// File holding the 32-byte vault key (raw, or 64 hex digits). `init` creates it if it
    /// does not exist.
    #[arg(long, value_name = "FILE", global = true)]
    key_file: Option<PathBuf>,
    #[command(subcommand)]
    command: VaultCommand,
}

#[derive(clap::Subcommand)]
enum VaultCommand {
    /// Create an empty vault (and a new random key file if FILE does not exist).
    Init,
    /// Record consent for SUBJECT and PURPOSE and enrol the largest face in IMAGE.
    Enroll(EnrollArgs),
    /// Identify the largest face in IMAGE among the templates enrolled for PURPOSE.
    Identify(IdentifyArgs),
    /// Revoke every consent of SUBJECT: keys destroyed, templates purged from the files.
    Revoke(RevokeArgs),
    /// List consents (subject, purpose, status, expiry, template count); never templates.
    List,
    /// Verify or export the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Re-seal the vault under a new key (created in NEW_FILE if it does not exist); retire
    /// the old key file afterwards.
    RotateKey(RotateArgs),
}

#[derive(clap::Subcommand)]
enum AuditCommand {
    /// Check the hash chain and every entry; exit 1 naming the first problem.
    Verify,
    /// Print the audit log as JSON lines (the intact part, then exit 1, if it is damaged).
    Export,
}

#[derive(clap::Args)]
struct EnrollArgs {
    /// The person's pseudonymous id (a badge number, never a national ID number).
    #[arg(long)]
    subject: String,
    /// The purpose consented to, e.g. door-access.
    #[arg(long)]
    purpose: String,
    /// When the consent ends (RFC 3339, e.g. 2027-05-01T00:00:00Z) [default: one year].
    #[arg(long, value_name = "RFC3339")]
    expires: Option<String>,
    /// The notice the person was shown and agreed to (its SHA-256 is recorded).
    #[arg(long, default_value = DEFAULT_NOTICE)]
    notice: String,
    /// The enrolment photo.
    #[arg(value_name = "IMAGE")]
    image: PathBuf,
}

const DEFAULT_NOTICE: &str = "Your face template is stored encrypted on this device for the \
purpose named here, until the date given, and is deleted on request.";

#[derive(clap::Args)]
struct IdentifyArgs {
    /// The purpose of the search.
    #[arg(long)]
    purpose: String,
    /// How many candidates to print.
    #[arg(long, default_value_t = 1)]
    k: usize,
    /// The probe photo.
    #[arg(value_name = "IMAGE")]
    image: PathBuf,
}

#[derive(clap::Args)]
struct RevokeArgs {
    /// The person whose consents are revoked.
    #[arg(long)]
    subject: String,
}

#[derive(clap::Args)]
struct RotateArgs {
    /// File for the new key (created with a random key if it does not exist).
    #[arg(long, value_name = "NEW_FILE")]
    new_key_file: PathBuf,
}

/// Runs a `vault` subcommand.
pub fn run(models: Option<&Path>, args: &VaultArgs) -> Result<(), CliError> {
    let dir = args
        .dir
        .as_deref()
        .ok_or_else(|| CliError::new("--vault DIR is required"))?;
    let key_file = args
        .key_file
        .as_deref()
        .ok_or_else(|| CliError::new("--key-file FILE is required"))?;
    match &args.command {
        VaultCommand::Init => init(dir, key_file),
        VaultCommand::Enroll(a) => enroll(models, dir, key_file, a),
        VaultCommand::Identify(a) => identify(models, dir, key_file, a),
        VaultCommand::Revoke(a) => revoke(dir, key_file, a),
        VaultCommand::List => list(dir, key_file),
        VaultCommand::Audit { command } => audit(dir, key_file, command),
        VaultCommand::RotateKey(a) => rotate(dir, key_file, a),
    }
}

/// Reads a key file: 32 raw bytes, or 64 hex digits (with optional trailing newline).
fn read_key(path: &Path) -> Result<VaultKey, CliError> {
    let bytes = zeroize::Zeroizing::new(
        std::fs::read(path)
            .map_err(|e| CliError::new(format!("cannot read key file {}: {e}", path.display())))?,
    );
    let text = std::str::from_utf8(&bytes).map(str::trim).unwrap_or("");
    if text.len() == 2 * KEY_LEN && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        let raw: zeroize::Zeroizing<Vec<u8>> = zeroize::Zeroizing::new(
            (0..KEY_LEN)
                .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("hex digits"))
                .collect(),
        );
        return Ok(VaultKey::from_bytes(&raw)?);
    }
    VaultKey::from_bytes(&bytes).map_err(|_| {
        CliError::new(format!(
            "key file {} must hold 32 bytes or 64 hex digits, it holds {} bytes",
            path.display(),
            bytes.len()
        ))
    })
}

/// Creates a key file holding a new random key as hex, readable by its owner only; refuses
/// to overwrite.
fn create_key_file(path: &Path) -> Result<VaultKey, CliError> {
    let key = VaultKey::generate()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .map_err(|e| CliError::new(format!("cannot create key file {}: {e}", path.display())))?;
    let hex = zeroize::Zeroizing::new(
        key.expose_secret()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
    );
    file.write_all(hex.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(|e| CliError::new(format!("cannot write key file {}: {e}", path.display())))?;
    shared::report_warning(&format!(
        "created key file {}: keep it apart from the vault (a secure element on a device)",
        path.display()
    ));
    Ok(key)
}

fn open(dir: &Path, key_file: &Path) -> Result<Vault, CliError> {
    Ok(Vault::open(dir, read_key(key_file)?)?.0)
}

fn print_json(value: &impl Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)?;
    shared::emit(&format!("{text}\n"))
}

fn fingerprint(vault: &Vault) -> String {
    vault
        .key_fingerprint()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn init(dir: &Path, key_file: &Path) -> Result<(), CliError> {
    let key = if key_file.exists() {
        read_key(key_file)?
    } else {
        create_key_file(key_file)?
    };
    let vault = Vault::create(dir, key)?;
    #[derive(Serialize)]
    struct Created {
        vault: String,
        key_fingerprint: String,
    }
    print_json(&Created {
        vault: dir.display().to_string(),
        key_fingerprint: fingerprint(&vault),
    })
}

fn enroll(
    models: Option<&Path>,
    dir: &Path,
    key_file: &Path,
    args: &EnrollArgs,
) -> Result<(), CliError> {
    let subject = SubjectId::new(args.subject.clone())?;
    let image = decode_file(&args.image)?;
    let vault = open(dir, key_file)?;
    let valid_for = match &args.expires {
        Some(text) => {
            let end = parse_rfc3339(text).map_err(|why| {
                CliError::new(format!("--expires {text:?} is not an RFC 3339 time: {why}"))
            })?;
            let now = vault.now().0;
            if end <= now {
                return Err(CliError::new(format!(
                    "--expires {text} is in the past: that consent would already have expired"
                )));
            }
            Duration::from_secs(end - now)
        }
        None => <NamedPurpose as faceguard::Purpose>::MAX_VALIDITY,
    };
    let engine = shared::load_engine(models)?;
    let face = shared::subject(&engine, &image, &args.image)?;
    let token = vault.grant_named(&args.purpose, subject, &args.notice, valid_for)?;
    // The liveness check and the quality gate run inside; a spoof is recorded in the journal.
    // A consent that enrolled nothing is revoked at once rather than left behind.
    if let Err(e) = vault.enroll_face(&engine, &token, &image.view(), &face) {
        vault.revoke(token.id())?;
        return Err(e.into());
    }
    #[derive(Serialize)]
    struct Enrolled<'a> {
        subject: &'a str,
        purpose: &'a str,
        consent: u64,
        expires_at: u64,
        subjects_enrolled: usize,
    }
    print_json(&Enrolled {
        subject: token.subject().as_str(),
        purpose: token.purpose(),
        consent: token.id().get(),
        expires_at: token.expires_at().0,
        subjects_enrolled: vault.subject_count(),
    })
}

fn identify(
    models: Option<&Path>,
    dir: &Path,
    key_file: &Path,
    args: &IdentifyArgs,
) -> Result<(), CliError> {
    let image = decode_file(&args.image)?;
    let vault = open(dir, key_file)?;
    let engine = shared::load_engine(models)?;
    let face = shared::subject(&engine, &image, &args.image)?;
    let consent = vault.probe_consent_named(&args.purpose, shared::NOTICE)?;
    // The embedder's own threshold at the default false-match rate.
    vault.set_matcher(engine.matcher_at(faceguard::DEFAULT_TARGET_FMR)?);
    // A spoof is refused (and recorded in the journal) before any template is made.
    let candidates = vault.identify_face(&engine, consent, &image.view(), &face, args.k.max(1))?;
    #[derive(Serialize)]
    struct Identified<'a> {
        purpose: &'a str,
        candidates: Vec<faceguard::Candidate>,
    }
    print_json(&Identified {
        purpose: &args.purpose,
        candidates,
    })
}

fn revoke(dir: &Path, key_file: &Path, args: &RevokeArgs) -> Result<(), CliError> {
    let subject = SubjectId::new(args.subject.clone())?;
    let vault = open(dir, key_file)?;
    let revoked = vault.revoke_subject(&subject)?;
    let purged = vault.compact()?;
    #[derive(Serialize)]
    struct Revoked {
        subject: String,
        consents: Vec<u64>,
        templates_purged: u64,
    }
    print_json(&Revoked {
        subject: subject.to_string(),
        consents: revoked.iter().map(|r| r.id.get()).collect(),
        templates_purged: purged,
    })
}

fn list(dir: &Path, key_file: &Path) -> Result<(), CliError> {
    let vault = open(dir, key_file)?;
    let now = vault.now();
    let per_consent = vault.templates_per_consent();
    #[derive(Serialize)]
    struct Consent {
        consent: u64,
        /// `null` once the consent has ended: the person's id was erased with it.
        subject: Option<String>,
        purpose: String,
        status: ConsentStatus,
        granted_at: u64,
        expires_at: u64,
        templates: usize,
    }
    #[derive(Serialize)]
    struct Listing {
        subjects_enrolled: usize,
        templates: usize,
        consents: Vec<Consent>,
    }
    let consents = vault
        .consents()
        .into_iter()
        .map(|r| Consent {
            consent: r.id.get(),
            templates: match r.status_at(now) {
                ConsentStatus::Active => per_consent.get(&r.id).copied().unwrap_or(0),
                _ => 0,
            },
            subject: r.subject.as_ref().map(|s| s.to_string()),
            status: r.status_at(now),
            granted_at: r.granted_at.0,
            expires_at: r.expires_at.0,
            purpose: r.purpose,
        })
        .collect();
    print_json(&Listing {
        subjects_enrolled: vault.subject_count(),
        templates: vault.template_count(),
        consents,
    })
}

fn audit(dir: &Path, key_file: &Path, command: &AuditCommand) -> Result<(), CliError> {
    let log = Vault::read_audit(dir, &read_key(key_file)?)?;
    match command {
        AuditCommand::Verify => {
            let entries = log.verify().map_err(|problem| {
                CliError::new(format!(
                    "audit log broken after {} intact entries: {problem}",
                    log.entries.len()
                ))
            })?;
            shared::emit(&format!("{{\"verified\": true, \"entries\": {entries}}}\n"))
        }
        AuditCommand::Export => {
            let mut text = Vec::new();
            log.write_json_lines(&mut text)?;
            shared::emit(&String::from_utf8_lossy(&text))?;
            match &log.problem {
                None => Ok(()),
                Some(problem) => Err(CliError::new(format!(
                    "exported the {} intact entries; the rest is unreadable: {problem}",
                    log.entries.len()
                ))),
            }
        }
    }
}

fn rotate(dir: &Path, key_file: &Path, args: &RotateArgs) -> Result<(), CliError> {
    let vault = open(dir, key_file)?;
    let new_key = if args.new_key_file.exists() {
        read_key(&args.new_key_file)?
    } else {
        create_key_file(&args.new_key_file)?
    };
    vault.rotate_key(new_key)?;
    #[derive(Serialize)]
    struct Rotated {
        key_fingerprint: String,
        retire: String,
    }
    print_json(&Rotated {
        key_fingerprint: fingerprint(&vault),
        retire: key_file.display().to_string(),
    })
}

/// Seconds since the Unix epoch of an RFC 3339 time: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
pub fn parse_rfc3339(text: &str) -> Result<u64, &'static str> {
    let b = text.as_bytes();
    if b.len() < 20 {
        return Err("too short");
    }
    let num = |range: std::ops::Range<usize>| -> Result<i64, &'static str> {
        let s = text.get(range).ok_or("misplaced field")?;
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            return Err("a field is not a number");
        }
        s.parse().map_err(|_| "a field is not a number")
    };
    if b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err("expected YYYY-MM-DDTHH:MM:SS");
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => return Err("month out of range"),
    };
    if day < 1 || day > days_in_month || hour > 23 || minute > 59 || second > 60 {
        return Err("a field is out of range");
    }
    let mut rest = &text[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err("empty fraction of a second");
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6
            && matches!(rest.as_bytes()[0], b'+' | b'-')
            && rest.as_bytes()[3] == b':' =>
        {
            let h: i64 = rest[1..3].parse().map_err(|_| "bad offset")?;
            let m: i64 = rest[4..6].parse().map_err(|_| "bad offset")?;
            if h > 23 || m > 59 {
                return Err("bad offset");
            }
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (h * 3600 + m * 60)
        }
        _ => return Err("expected Z or a ±HH:MM offset"),
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    u64::try_from(secs).map_err(|_| "before 1970")
}

#[cfg(test)]
mod tests {
    use super::parse_rfc3339;

    #[test]
    fn rfc3339_times_become_unix_seconds() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_rfc3339("2000-03-01T00:00:00Z"), Ok(951_868_800));
        assert_eq!(parse_rfc3339("2026-11-22T20:46:46Z"), Ok(1_795_380_406));
        assert_eq!(
            parse_rfc3339("2026-11-22T21:46:46.25+01:00"),
            Ok(1_795_380_406)
        );
        assert_eq!(
            parse_rfc3339("2024-02-29T12:00:00-05:30"),
            Ok(1_709_227_800)
        );
    }

    #[test]
    fn malformed_times_are_refused() {
        for bad in [
            "",
            "2026-11-22",
            "2026-11-22T20:46:46",
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-11-22T24:00:00Z",
            "2026-11-22T20:46:46+1:00",
            "1969-12-31T23:59:59Z",
            "2026-11-22T20:46:46.Z",
            "２０26-11-22T20:46:46Z",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad:?}");
        }
    }
}
