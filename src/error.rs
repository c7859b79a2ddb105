//! Typed errors of the library. `main` prints them once, on one line, and
//! maps them to exit codes: input errors exit 2 (found before anything is
//! written), [`Error::Output`] 3 (the outputs could not be written).

use std::path::{Path, PathBuf};

/// A problem with the album manifest or a preset, located in its file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}:{line}:{column}: {path}{sep}{message}", sep = if path.is_empty() { "" } else { ": " })]
pub struct ManifestError {
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// Key path in the document, such as `tracks[1].stems[0].gain_db`.
    pub path: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Manifest(#[from] ManifestError),

    /// Several located manifest errors at once (every missing input file), one a line.
    #[error("{} problems in the manifest:\n{}", .0.len(), .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Manifests(Vec<ManifestError>),

    /// An input audio file that cannot be used.
    #[error("{}: {message}", path.display())]
    Audio { path: PathBuf, message: String },

    /// A command-line usage problem that clap cannot see (a flag value out of range).
    #[error("{0}")]
    Usage(String),

    /// Reading an input file failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Writing the outputs failed: disk full, permissions, a name the file
    /// system refuses, a linked folder, another run on the same folder.
    #[error("{}: cannot write the outputs: {source}", path.display())]
    Output {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Rendering failed in a way that is not the input's fault.
    #[error("{0}")]
    Render(String),
}

impl Error {
    pub fn audio(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Audio { path: path.into(), message: message.into() }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    pub fn output(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Output { path: path.into(), source }
    }

    /// The process exit code this error maps to (see the CLI contract).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Manifest(_)
            | Error::Manifests(_)
            | Error::Audio { .. }
            | Error::Usage(_)
            | Error::Io { .. } => 2,
            Error::Render(_) => 2,
            Error::Output { .. } => 3,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What a path is, for an error about a file that is not a regular one.
pub(crate) fn file_kind(path: &Path) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let t = std::fs::metadata(path).ok()?.file_type();
    if t.is_file() {
        None
    } else if t.is_dir() {
        Some("a directory")
    } else if t.is_fifo() {
        Some("a FIFO (named pipe)")
    } else if t.is_socket() {
        Some("a socket")
    } else if t.is_block_device() || t.is_char_device() {
        Some("a device")
    } else {
        Some("not a regular file")
    }
}
