//! Unique temporary files and directories, removed on drop.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A path in the temporary directory no other test (or test process) uses:
/// named after the process id, a counter and `tag`.
fn unique(kind: &str, tag: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    std::env::temp_dir().join(format!(
        "perfstress-testkit-{kind}{}-{}-{tag}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

/// A unique path in the temporary directory (for a results file), removed
/// on drop.
#[derive(Debug)]
pub struct TempPath(PathBuf);

impl TempPath {
    /// A fresh path (no file yet) named after `tag`.
    pub fn new(tag: &str) -> Self {
        let path = unique("", &format!("{tag}.json"));
        let _ = std::fs::remove_file(&path);
        Self(path)
    }

    /// A fresh path holding a stale results file, which a run must remove
    /// (a failed run never leaves a stale number).
    pub fn stale(tag: &str) -> Self {
        let path = Self::new(tag);
        std::fs::write(&path.0, "{\"operations_per_second\": 12345.0}\n").expect("write stale");
        path
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The path as a command-line argument.
    pub fn arg(&self) -> &str {
        self.0.to_str().expect("temporary paths are UTF-8")
    }

    /// Whether a file is there.
    pub fn exists(&self) -> bool {
        self.0.exists()
    }

    /// The JSON in the file; panics if it is missing or not JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(&self.0)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", self.0.display()));
        serde_json::from_str(&text).unwrap_or_else(|error| panic!("bad JSON ({error}): {text}"))
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A fresh, empty directory in the temporary directory, removed (with what
/// it holds) on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates the directory, named after `tag`.
    pub fn new(tag: &str) -> Self {
        let path = unique("dir-", tag);
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create a temporary directory");
        Self(path)
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The path as a command-line argument.
    pub fn arg(&self) -> &str {
        self.0.to_str().expect("temporary paths are UTF-8")
    }

    /// The names of the files in the directory, sorted.
    pub fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .expect("read the temporary directory")
            .map(|entry| entry.expect("directory entry").file_name())
            .map(|name| name.to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
