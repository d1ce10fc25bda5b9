//! `faceguard`: the command-line tool for trying, evaluating and timing the pipeline on image
//! files.
//!
//! Every template it computes is made under a probe consent for the purpose
//! [`shared::CliEvaluation`], through the library's public API only, and dies with the command.
//!
//! Errors are one line on stderr, `error: <message>`, with exit code 1 (2 for bad arguments);
//! the tool never panics on bad input.

mod augment;
mod bench;
mod bench_match;
mod calibrate;
mod dataset;
mod distractors;
mod eval;
mod faces;
mod liveness;
mod metrics;
mod pairs;
mod plot;
mod shared;
mod vault;

use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ColorChoice, Parser, Subcommand};

use shared::CliError;

/// On-device face recognition with consent enforced by types: detect, verify, evaluate and
/// time the pipeline on image files.
#[derive(Parser)]
#[command(name = "faceguard", version, color = ColorChoice::Never)]
struct Cli {
    /// Directory holding the models placed by `scripts/fetch-models.sh` [default: ./models if it
    /// exists, else the repository's models/]
    #[arg(long, global = true, value_name = "DIR")]
    models: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Detect faces in an image and print them as JSON.
    Detect(faces::DetectArgs),
    /// Compare the largest face of two images: similarity score and decision, as JSON.
    Verify(faces::VerifyArgs),
    /// Judge every face of an image live or spoof (presentation-attack detection), as JSON.
    Liveness(liveness::LivenessArgs),
    /// Presentation-attack detection on a labelled set: ISO/IEC 30107-3 APCER per attack
    /// type, BPCER, BPCER20 and BPCER100.
    EvalLiveness(liveness::EvalLivenessArgs),
    /// Evaluate verification on labelled photos (a pairs or an identities file): FMR and FNMR
    /// at the operating point, FNMR at FMR 1e-3/1e-4/1e-5, failures to acquire and enrol,
    /// per-group figures, several-photo enrolment, a DET plot.
    Eval(eval::EvalArgs),
    /// Measure an embedder's operating points (the threshold for each target false-match
    /// rate) on labelled photos, and write them into its JSON description.
    Calibrate(calibrate::CalibrateArgs),
    /// Time each stage of the pipeline on one image (single-threaded).
    Bench(bench::BenchArgs),
    /// Time 1:N search (stream bound, exact f32, exact i8, fast) on real templates plus
    /// distractors that score like real impostors; check fast search against exact.
    BenchMatch(bench_match::BenchMatchArgs),
    /// The encrypted template vault: init, enroll, identify, revoke, list, audit, rotate-key.
    Vault(vault::VaultArgs),
}

fn main() -> ExitCode {
    // A bug must still end as one line on stderr, not a backtrace.
    panic::set_hook(Box::new(|info| {
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        shared::report_error(&format!(
            "internal error (a bug in faceguard): {payload}{place}"
        ));
    }));

    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    match panic::catch_unwind(AssertUnwindSafe(|| run(cli))) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            shared::report_error(e.message());
            ExitCode::from(1)
        }
        // The hook has printed the message.
        Err(_) => ExitCode::from(1),
    }
}

fn run(cli: Cli) -> Result<(), CliError> {
    let models = cli.models.as_deref();
    match cli.command {
        Command::Detect(args) => faces::detect(models, &args),
        Command::Verify(args) => faces::verify(models, &args),
        Command::Liveness(args) => liveness::liveness(models, &args),
        Command::EvalLiveness(args) => liveness::eval(models, &args),
        Command::Eval(args) => eval::run(models, &args),
        Command::Calibrate(args) => calibrate::run(models, &args),
        Command::Bench(args) => bench::run(models, &args),
        Command::BenchMatch(args) => bench_match::run(models, &args),
        Command::Vault(args) => vault::run(models, &args),
    }
}

/// Help and version go to stdout with exit 0; anything else is one line and exit code 2.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            ExitCode::from(2)
        }
        _ => {
            // clap's message, without the usage block that follows it, on one line.
            let text = e.to_string();
            let message = text
                .lines()
                .take_while(|l| !l.starts_with("Usage:"))
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            let message = message.strip_prefix("error:").unwrap_or(&message).trim();
            let message = if message.is_empty() {
                "invalid arguments"
            } else {
                message
            };
            shared::report_error(&format!("{message} (see `faceguard --help`)"));
            ExitCode::from(2)
        }
    }
}
