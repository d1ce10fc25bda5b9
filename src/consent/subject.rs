use std::fmt;

use super::ConsentError;

/// Identifier of an enrolled person, chosen by the operator.
///
/// Use a pseudonymous id (a badge or employee number), never a national ID number: the
/// leaks that turned people against face recognition tied faces to ID numbers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct SubjectId(String);

impl SubjectId {
    /// Longest accepted id, in bytes.
    pub const MAX_LEN: usize = 128;

    /// Validates `id`: 1 to 128 bytes, no control characters.
    pub fn new(id: impl Into<String>) -> Result<Self, ConsentError> {
        let id = id.into();
        if id.is_empty() {
            return Err(ConsentError::InvalidSubject("it is empty"));
        }
        if id.len() > Self::MAX_LEN {
            return Err(ConsentError::InvalidSubject("it is longer than 128 bytes"));
        }
        if id.chars().any(char::is_control) {
            return Err(ConsentError::InvalidSubject("it holds control characters"));
        }
        Ok(SubjectId(id))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SubjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Identifier of one consent on a ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct ConsentId(pub(crate) u64);

impl ConsentId {
    /// The id with numeric value `id` (as printed, stored or passed through the C API). An id
    /// proves nothing: tokens for it come only from the ledger or vault that granted it.
    pub fn from_raw(id: u64) -> Self {
        ConsentId(id)
    }

    /// The numeric value.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ConsentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}
