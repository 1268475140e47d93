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

/// Longest file name most file systems take (`NAME_MAX`).
const NAME_MAX: usize = 255;

/// Creates `<name>.<random>.fetchpool-tmp` in `dir`, new (`O_EXCL`), with
/// the mode any new file gets (0666 less the umask), not a temporary file's
/// private 0600: the file becomes the download. A long `name` is cut so that
/// the temporary name stays within `NAME_MAX`. The error is the system's own
/// (`ENOTDIR`, `EROFS`, `EMFILE`, …), so that its code reaches the caller.
fn create_temp(dir: &Path, name: &std::ffi::OsStr) -> io::Result<(File, PathBuf)> {
    use std::hash::{BuildHasher, Hasher};
    const RANDOM: usize = 6;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let stem = cut_name(name, NAME_MAX - 1 - RANDOM - TEMP_SUFFIX.len());
    let mut last = None;
    for _ in 0..64 {
        let mut bits = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        let random: String = (0..RANDOM)
            .map(|_| {
                let c = ALPHABET[(bits % ALPHABET.len() as u64) as usize];
                bits /= ALPHABET.len() as u64;
                c as char
            })
            .collect();
        let mut file_name = stem.to_os_string();
        file_name.push(format!(".{random}{TEMP_SUFFIX}"));
        let path = dir.join(file_name);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o666);
        match options.open(&path) {
            Ok(file) => return Ok((file, path)),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => last = Some(err),
            Err(err) => return Err(err),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::from(io::ErrorKind::AlreadyExists)))
}

/// `name`'s first `room` bytes at most, cut between characters where the
/// name is UTF-8.
#[cfg(unix)]
fn cut_name(name: &std::ffi::OsStr, room: usize) -> &std::ffi::OsStr {
    use std::os::unix::ffi::OsStrExt;
    let bytes = name.as_bytes();
    let mut keep = bytes.len().min(room);
    if let Ok(text) = std::str::from_utf8(bytes) {
        while !text.is_char_boundary(keep) {
            keep -= 1;
        }
    }
    std::ffi::OsStr::from_bytes(&bytes[..keep])
}

/// Elsewhere the name is kept whole.
#[cfg(not(unix))]
fn cut_name(name: &std::ffi::OsStr, _room: usize) -> &std::ffi::OsStr {
    name
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
        let name = target.file_name().unwrap_or_default().to_os_string();
        let (file, temp) = blocking(move || {
            let (file, path) = create_temp(&dir, &name)?;
            Ok((file, TempPath::try_from_path(path)?))
        })
        .await?;
        Ok(SaveFile {
            file: Some(file),
            temp: Some(temp),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_long_name_is_cut_between_characters_to_fit_its_temporary_name() {
        let room = NAME_MAX - 1 - 6 - TEMP_SUFFIX.len();
        let short = std::ffi::OsStr::new("report.pdf");
        assert_eq!(cut_name(short, room), short);
        let long = "é".repeat(200);
        let cut = cut_name(std::ffi::OsStr::new(&long), room);
        assert_eq!(cut.len(), room / 2 * 2);
        assert!(cut.to_str().is_some());
        let dir = tempfile::tempdir().unwrap();
        let (_, path) = create_temp(dir.path(), std::ffi::OsStr::new(&long)).unwrap();
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(
            name.len() <= NAME_MAX && name.ends_with(TEMP_SUFFIX),
            "{name}"
        );
        // The system's own error, not a wrapper's.
        let through = dir.path().join("plain");
        std::fs::write(&through, b"x").unwrap();
        let err = create_temp(&through, std::ffi::OsStr::new("below")).unwrap_err();
        assert_eq!(errno_name(&err), "ENOTDIR");
    }
}
