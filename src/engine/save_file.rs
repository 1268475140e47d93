//! The file a saved body is written to before it takes the target's name: a
//! temporary file beside the target, or, with `resume`, a partial file that
//! outlives a failed download. Either is renamed over the target only once
//! the body is whole and checked, so the target never holds part of a body.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use bytes::Bytes;
use tempfile::TempPath;

use super::error::{errno_name, ErrorKind, FetchError};
use super::integrity::{Checker, Integrity};

/// Suffix of temporary files: `<target>.<random>.fetchpool-tmp`.
pub const TEMP_SUFFIX: &str = ".fetchpool-tmp";

pub fn file_error(err: io::Error) -> FetchError {
    FetchError::new(ErrorKind::Socket(errno_name(&err)), err.to_string()).with_cause(err)
}

/// Runs blocking file work on tokio's blocking pool. Work that has started
/// runs to its end even if the request is dropped meanwhile.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> Result<T, FetchError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(done) => done.map_err(file_error),
        Err(err) => Err(FetchError::new(
            ErrorKind::Internal,
            format!("File task failed: {err}"),
        )),
    }
}

fn interrupted() -> FetchError {
    FetchError::new(ErrorKind::Internal, "A write to the file was interrupted")
}

pub struct SaveFile {
    /// Out on the blocking pool while a write runs there; None after a
    /// write that failed, when the save can only fail.
    file: Option<File>,
    /// A temporary file, removed when the save fails or is dropped midway.
    temp: Option<TempPath>,
    /// A resumable partial file, kept when the save fails.
    partial: Option<PathBuf>,
    checker: Option<Checker>,
    len: u64,
}

impl SaveFile {
    /// A new, uniquely named file in the target's directory, so that the
    /// final rename stays on one file system and is atomic.
    pub async fn temp_beside(target: &Path, checker: Option<Checker>) -> Result<Self, FetchError> {
        let dir = match target.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut prefix = target.file_name().unwrap_or_default().to_os_string();
        prefix.push(".");
        let created = blocking(move || {
            let mut builder = tempfile::Builder::new();
            builder.prefix(&prefix).suffix(TEMP_SUFFIX);
            // The file becomes the download: the mode any new file gets
            // (0666 less the umask), not a temporary file's private 0600.
            #[cfg(unix)]
            builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
            builder.tempfile_in(dir)
        })
        .await?;
        let (file, path) = created.into_parts();
        Ok(SaveFile {
            file: Some(file),
            temp: Some(path),
            partial: None,
            checker,
            len: 0,
        })
    }

    /// The partial file, emptied, for a body that starts from its first byte.
    pub async fn fresh_partial(
        path: PathBuf,
        checker: Option<Checker>,
    ) -> Result<Self, FetchError> {
        let at = path.clone();
        let file = blocking(move || File::create(at)).await?;
        Ok(SaveFile {
            file: Some(file),
            temp: None,
            partial: Some(path),
            checker,
            len: 0,
        })
    }

    /// The partial file, to append to. Its bytes so far go through the
    /// checker first. None when it is no longer `expected` bytes long.
    pub async fn append_partial(
        path: PathBuf,
        expected: u64,
        checker: Option<Checker>,
    ) -> Result<Option<Self>, FetchError> {
        let at = path.clone();
        let (file, len, checker) = blocking(move || {
            let mut checker = checker;
            let mut file = File::options().read(true).write(true).open(at)?;
            let mut buf = vec![0u8; 64 * 1024];
            let mut len = 0u64;
            loop {
                let n = file.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                len += n as u64;
                if let Some(checker) = checker.as_mut() {
                    checker.update(&buf[..n]);
                }
            }
            Ok((file, len, checker))
        })
        .await?;
        if len != expected {
            return Ok(None);
        }
        Ok(Some(SaveFile {
            file: Some(file),
            temp: None,
            partial: Some(path),
            checker,
            len,
        }))
    }

    /// Appends `data`. The bytes go to the blocking pool as they are, with
    /// no copy into a buffer of the file's own.
    pub async fn write(&mut self, data: Bytes) -> Result<(), FetchError> {
        if let Some(checker) = self.checker.as_mut() {
            checker.update(&data);
        }
        let mut file = self.file.take().ok_or_else(interrupted)?;
        let n = data.len() as u64;
        let file = blocking(move || {
            file.write_all(&data)?;
            Ok(file)
        })
        .await?;
        self.file = Some(file);
        self.len += n;
        Ok(())
    }

    /// The file's length: the resumed bytes and those written since.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_partial(&self) -> bool {
        self.partial.is_some()
    }

    /// Whether the bytes written match `integrity`.
    pub fn verify(&mut self, integrity: &Integrity) -> Result<(), FetchError> {
        match self.checker.take() {
            Some(checker) => checker.finish(integrity),
            None => Ok(()),
        }
    }

    /// Removes the file, partial or not: its bytes are known to be wrong.
    pub async fn discard(self) {
        if let Some(path) = &self.partial {
            let _ = tokio::fs::remove_file(path).await;
        }
        // A temporary file goes when its `TempPath` drops.
    }

    /// Makes the bytes durable, then renames the file over `target`. Runs
    /// to its end even if the request is dropped meanwhile, so the target
    /// is either the old file or the whole new one.
    pub async fn commit(self, target: &Path, mtime: Option<SystemTime>) -> Result<(), FetchError> {
        let file = self.file.ok_or_else(interrupted)?;
        let target = target.to_path_buf();
        let (temp, partial) = (self.temp, self.partial);
        blocking(move || {
            file.sync_data()?;
            if let Some(mtime) = mtime {
                file.set_modified(mtime)?;
            }
            drop(file);
            match (temp, partial) {
                (Some(temp), _) => temp.persist(&target).map_err(|e| e.error)?,
                (None, Some(partial)) => std::fs::rename(partial, &target)?,
                (None, None) => {}
            }
            sync_dir(&target);
            Ok(())
        })
        .await
    }
}

/// Makes a rename durable (POSIX); best effort, as not every file system
/// lets a directory be opened for it.
fn sync_dir(target: &Path) {
    #[cfg(unix)]
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(dir) = File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = target;
}
