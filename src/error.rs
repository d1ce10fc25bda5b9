//! The crate-wide error: one variant per layer, each wrapping that layer's own enum.

use crate::quality::QualityError;
use crate::vault::VaultError;
use crate::{
    AlignError, ConsentError, DetectError, EmbedError, ImageError, LivenessError, MatchError,
    ModelError,
};

/// Any faceguard error, by layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Detect(#[from] DetectError),
    #[error(transparent)]
    Align(#[from] AlignError),
    #[error(transparent)]
    Quality(#[from] QualityError),
    #[error(transparent)]
    Liveness(#[from] LivenessError),
    #[error(transparent)]
    Embed(#[from] EmbedError),
    #[error(transparent)]
    Consent(#[from] ConsentError),
    #[error(transparent)]
    Match(#[from] MatchError),
    #[error(transparent)]
    Vault(#[from] VaultError),
}
