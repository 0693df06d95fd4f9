//! The incremental compilation cache: Cranelift's output per function, on
//! disk, shared by every compile worker of the node. Two JavaScript (or
//! Python) components share almost all their code — the interpreter; only
//! the data segments holding the script differ — so a second deploy, or a
//! one-line change, finds nearly every function here and compiles only
//! what changed (docs/performance.md).
//!
//! Entries are keyed by Cranelift's own key (a SHA-256 of the function and
//! the compiler settings). A compile keeps the entries it makes in memory
//! and writes them at the end as one pack file, `<dir>/<unique>.pack`:
//! a header, a sorted index (key, offset, length) and the values; written
//! to a temporary file and renamed, so a reader never sees half a pack and
//! concurrent workers never collide. (One file per function made the first
//! compile of a JavaScript component ~6 s of system time slower: 13,500
//! files.) A compile maps every pack read-only and looks keys up in their
//! indexes: a hit is a slice of the mapping, no copy. Cranelift checks what
//! it reads (format version, the function's parameters) and recompiles on
//! any mismatch; a malformed pack is skipped. Bounded: after a compile, the
//! least recently used packs (mtime, refreshed when a compile took anything
//! from them) are deleted until the directory is under its budget.
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::SystemTime;
use wasmtime::CacheStore;

const MAGIC: &[u8; 8] = b"fn0cc\x001\n";
const KEY: usize = 32;
const INDEX_ENTRY: usize = KEY + 16;
const HEADER: usize = 16;

type Key = [u8; KEY];

/// A pack file mapped read-only for the life of the compile.
struct Pack {
    path: PathBuf,
    ptr: *const u8,
    len: usize,
    used: AtomicBool,
}

// SAFETY: the mapping is read-only and private, never written or remapped
// while the Pack lives; unmapped only on drop.
unsafe impl Send for Pack {}
unsafe impl Sync for Pack {}

impl Pack {
    fn open(path: &Path) -> Option<Pack> {
        use std::os::fd::AsRawFd;
        let f = std::fs::File::open(path).ok()?;
        let len = f.metadata().ok()?.len() as usize;
        if len < HEADER {
            return None;
        }
        // SAFETY: a fresh read-only private mapping of an open file.
        let ptr = unsafe {
            libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ, libc::MAP_PRIVATE, f.as_raw_fd(), 0)
        };
        if ptr == libc::MAP_FAILED {
            return None;
        }
        Some(Pack { path: path.to_path_buf(), ptr: ptr as *const u8, len, used: AtomicBool::new(false) })
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` maps `len` readable bytes until drop.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    /// The (key, offset, length) entries, or None if the pack is malformed.
    fn entries(&self) -> Option<Vec<(Key, usize, usize)>> {
        let b = self.bytes();
        if &b[..8] != MAGIC {
            return None;
        }
        let count = u64::from_le_bytes(b[8..16].try_into().ok()?) as usize;
        let data_start = HEADER.checked_add(count.checked_mul(INDEX_ENTRY)?)?;
        if data_start > b.len() {
            return None;
        }
        let mut out = Vec::with_capacity(count);
        for e in b[HEADER..data_start].chunks_exact(INDEX_ENTRY) {
            let key: Key = e[..KEY].try_into().ok()?;
            let off = u64::from_le_bytes(e[KEY..KEY + 8].try_into().ok()?) as usize;
            let len = u64::from_le_bytes(e[KEY + 8..].try_into().ok()?) as usize;
            if off < data_start || off.checked_add(len)? > b.len() {
                return None;
            }
            out.push((key, off, len));
        }
        Some(out)
    }
}

impl Drop for Pack {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `open`.
        unsafe { libc::munmap(self.ptr as *mut libc::c_void, self.len) };
    }
}

pub(crate) struct DiskCache {
    dir: PathBuf,
    max_bytes: u64,
    packs: Vec<Pack>,
    /// key -> (pack, offset, length), over every pack found at start.
    index: HashMap<Key, (usize, usize, usize)>,
    /// Entries this compile made, written as one pack by `flush`.
    pending: Mutex<HashMap<Key, Vec<u8>>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for DiskCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DiskCache({}, {} packs)", self.dir.display(), self.packs.len())
    }
}

fn pack_files(dir: &Path) -> Vec<(PathBuf, SystemTime, u64)> {
    let Ok(rd) = std::fs::read_dir(dir) else { return vec![] };
    rd.flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".pack"))
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            m.is_file().then(|| (e.path(), m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()))
        })
        .collect()
}

impl DiskCache {
    pub(crate) fn new(dir: PathBuf, max_bytes: u64) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        let mut files = pack_files(&dir);
        // Newest first: a key in several packs is read from the newest.
        files.sort_by(|a, b| b.1.cmp(&a.1));
        let mut packs = Vec::new();
        let mut index = HashMap::new();
        for (path, _, _) in files {
            let Some(pack) = Pack::open(&path) else { continue };
            let Some(entries) = pack.entries() else { continue };
            let i = packs.len();
            for (key, off, len) in entries {
                index.entry(key).or_insert((i, off, len));
            }
            packs.push(pack);
        }
        Ok(DiskCache {
            dir,
            max_bytes,
            packs,
            index,
            pending: Mutex::new(HashMap::new()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        })
    }

    /// (hits, misses) so far.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }

    fn write_pack(&self, entries: &HashMap<Key, Vec<u8>>) -> std::io::Result<()> {
        let mut keys: Vec<&Key> = entries.keys().collect();
        keys.sort_unstable();
        let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let name = format!("{nanos:x}-{}", std::process::id());
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let write = || -> std::io::Result<()> {
            let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
            w.write_all(MAGIC)?;
            w.write_all(&(keys.len() as u64).to_le_bytes())?;
            let mut off = (HEADER + keys.len() * INDEX_ENTRY) as u64;
            for k in &keys {
                let len = entries[*k].len() as u64;
                w.write_all(*k)?;
                w.write_all(&off.to_le_bytes())?;
                w.write_all(&len.to_le_bytes())?;
                off += len;
            }
            for k in &keys {
                w.write_all(&entries[*k])?;
            }
            // Stamped like the touches (file systems stamp writes with a
            // coarser clock): the new pack is the most recently used.
            w.into_inner().map_err(|e| e.into_error())?.set_modified(SystemTime::now())?;
            std::fs::rename(&tmp, self.dir.join(format!("{name}.pack")))
        };
        let r = write();
        if r.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        r
    }

    /// The end of a compile: writes the entries it made as one pack, marks
    /// the packs it used as recently used, and deletes the least recently
    /// used packs while the directory holds more than its budget (down to
    /// 90% of it). Failures only lose cache entries.
    pub(crate) fn flush(&self) {
        for p in self.packs.iter().filter(|p| p.used.load(Ordering::Relaxed)) {
            if let Ok(f) = std::fs::File::open(&p.path) {
                let _ = f.set_modified(SystemTime::now());
            }
        }
        // After the touches: the new pack is the most recently used.
        let pending = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        if !pending.is_empty() {
            let _ = self.write_pack(&pending);
        }
        let mut files = pack_files(&self.dir);
        let mut total: u64 = files.iter().map(|f| f.2).sum();
        if total <= self.max_bytes {
            return;
        }
        files.sort_by_key(|f| f.1);
        let target = self.max_bytes / 10 * 9;
        for (path, _, len) in files {
            if total <= target {
                break;
            }
            if std::fs::remove_file(&path).is_ok() {
                total -= len;
            }
        }
    }
}

impl CacheStore for DiskCache {
    fn get(&self, key: &[u8]) -> Option<Cow<'_, [u8]>> {
        let found = <&Key>::try_from(key).ok().and_then(|k| {
            if let Some(&(i, off, len)) = self.index.get(k) {
                let pack = &self.packs[i];
                pack.used.store(true, Ordering::Relaxed);
                return Some(Cow::Borrowed(&pack.bytes()[off..off + len]));
            }
            let pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            pending.get(k).map(|v| Cow::Owned(v.clone()))
        });
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    fn insert(&self, key: &[u8], value: Vec<u8>) -> bool {
        let Ok(k) = Key::try_from(key) else { return false };
        // An entry larger than the whole budget would only be evicted again.
        if value.len() as u64 > self.max_bytes {
            return false;
        }
        self.pending.lock().unwrap_or_else(|p| p.into_inner()).insert(k, value);
        true
    }
}
