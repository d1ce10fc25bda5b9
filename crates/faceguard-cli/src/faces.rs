//! `detect` and `verify`: one or two images, JSON on stdout.

use std::path::{Path, PathBuf};

use faceguard::{decode_file, ConsentLedger, Face};
use serde::Serialize;

use crate::shared::{self, CliError, CliEvaluation};

#[derive(clap::Args)]
pub struct DetectArgs {
    /// Image file (JPEG, PNG, WebP or BMP, recognised by content).
    #[arg(value_name = "IMAGE")]
    pub image: PathBuf,
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// First image; its largest face is compared.
    #[arg(value_name = "IMAGE_A")]
    pub image_a: PathBuf,
    /// Second image; its largest face is compared.
    #[arg(value_name = "IMAGE_B")]
    pub image_b: PathBuf,
}

/// What `detect` prints.
#[derive(Serialize)]
struct Detections {
    image: String,
    width: u32,
    height: u32,
    faces: Vec<Face>,
}

/// What `verify` prints.
#[derive(Serialize)]
struct Verification {
    a: String,
    b: String,
    score: f32,
    threshold: f32,
    is_match: bool,
}

/// Prints `{"image", "width", "height", "faces": [...]}`, faces strongest first.
pub fn detect(models: Option<&Path>, args: &DetectArgs) -> Result<(), CliError> {
    // Decode first: a bad file is reported without waiting for the model.
    let image = decode_file(&args.image)?;
    let detector = shared::load_detector(models)?;
    let faces = detector.detect(&image.view())?;
    let doc = Detections {
        image: args.image.display().to_string(),
        width: image.width(),
        height: image.height(),
        faces,
    };
    let text = serde_json::to_string_pretty(&doc)?;
    shared::emit(&format!("{text}\n"))
}

/// Prints `{"a", "b", "score", "threshold", "is_match"}`; exit code 0 whatever the decision.
pub fn verify(models: Option<&Path>, args: &VerifyArgs) -> Result<(), CliError> {
    // Decode both before loading the models, so that a bad path fails fast.
    let image_a = decode_file(&args.image_a)?;
    let image_b = decode_file(&args.image_b)?;
    let engine = shared::load_engine(models)?;
    let ledger = ConsentLedger::new();
    let a = shared::template_of(&engine, &ledger, &image_a, &args.image_a)?;
    let b = shared::template_of(&engine, &ledger, &image_b, &args.image_b)?;
    let decision = engine.matcher::<CliEvaluation>()?.verify(&a, &b)?;
    let doc = Verification {
        a: args.image_a.display().to_string(),
        b: args.image_b.display().to_string(),
        score: decision.score,
        threshold: decision.threshold,
        is_match: decision.is_match,
    };
    let text = serde_json::to_string_pretty(&doc)?;
    shared::emit(&format!("{text}\n"))
}
