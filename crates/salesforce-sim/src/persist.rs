//! Saving the simulator's records to a JSON file and loading them back, so a rehearsal can
//! stop and resume.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::state::SfState;
use super::store::StoreSnapshot;

#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    #[error("cannot read or write state file {path}")]
    Io { path: String, source: std::io::Error },
    #[error("state file {path} is not valid simulator state")]
    Format { path: String, source: serde_json::Error },
}

#[derive(Serialize, Deserialize)]
struct SavedState {
    format: u32,
    store: StoreSnapshot,
}

/// Writes every record to `path` (atomically: a temporary file, then a rename).
pub fn save(state: &SfState, path: &Path) -> Result<(), PersistError> {
    let io = |source| PersistError::Io { path: path.display().to_string(), source };
    let saved = SavedState { format: 1, store: state.store().snapshot() };
    let bytes = serde_json::to_vec(&saved)
        .map_err(|source| PersistError::Format { path: path.display().to_string(), source })?;
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, bytes).map_err(io)?;
    std::fs::rename(&temporary, path).map_err(io)
}

/// The records saved at `path`, or `None` if there is no such file yet.
pub fn load(path: &Path) -> Result<Option<StoreSnapshot>, PersistError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(PersistError::Io { path: path.display().to_string(), source }),
    };
    let saved: SavedState = serde_json::from_slice(&bytes)
        .map_err(|source| PersistError::Format { path: path.display().to_string(), source })?;
    Ok(Some(saved.store))
}
