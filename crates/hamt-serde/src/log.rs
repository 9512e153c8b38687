//! [`VersionLog`]: an append-only file of versions, one checksummed record per version, that survives a crash in
//! the middle of an append.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::hash::{BuildHasher, Hash};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::envelope::{self, FORMAT, KNOWN_FLAGS, flags_of, parse_flags, self_describing_may_help};
use crate::error::{DecodeError, EncodeError, Kind};
use crate::record::{Body, Delta, Replay, Sink, Source, write_entries};
use crate::version_set::{MapOf, Versioned};

/// The first four bytes of a version log.
const LOG_MAGIC: [u8; 4] = *b"HAML";
/// Magic, format version, flags, and two bytes that are zero.
const LOG_HEADER_LEN: usize = 8;
/// Before every record: its length as a little-endian `u64`, then the CRC-32 of that length and the record, as a
/// little-endian `u32`.
const FRAME_HEADER_LEN: usize = 12;

/// Why a [`VersionLog`] could not be opened or written.
///
/// # Examples
///
/// ```
/// use hamt_serde::{DecodeError, LogError, VersionLog};
///
/// # let dir = std::env::temp_dir().join(format!("hamt-log-error-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let path = dir.join("notes.txt");
/// std::fs::write(&path, "not a version log")?;
/// let opened = VersionLog::<hamt_core::HamtSet<u8>>::open(&path);
/// assert!(matches!(opened, Err(LogError::Decode(DecodeError::BadMagic))));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum LogError {
    /// The file system failed.
    Io(io::Error),
    /// The file is not a version log of this kind, or a complete, checksummed record in it does not decode (which a
    /// crash cannot cause: the file was damaged or written by something else).
    Decode(DecodeError),
    /// A version could not be encoded.
    Encode(EncodeError),
    /// An earlier append failed and the partial record it left could not be cut off; the log takes no more
    /// appends. Reopening it cuts the partial record off.
    Poisoned,
    /// A frame that is not the last one is damaged (its length, its checksum or its record): a complete frame
    /// whose checksum holds follows it. A crash tears only the last frame, so the file was damaged by something
    /// else, and opening it fails rather than cut off the good frames after the damage. The file is left as it is.
    Damaged {
        /// The byte offset in the file of the damaged frame.
        offset: u64,
        /// The byte offset of a complete frame after it whose checksum holds (`None`: the bytes after the damaged
        /// frame are too many to search for one in bounded time, and the log does not guess).
        good_frame: Option<u64>,
    },
}

impl fmt::Display for LogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogError::Io(_) => f.write_str("version log: the file system failed"),
            LogError::Decode(_) => f.write_str("version log: the file does not decode"),
            LogError::Encode(_) => f.write_str("version log: a version could not be encoded"),
            LogError::Poisoned => f.write_str("version log: a failed append left a partial record; reopen the log"),
            LogError::Damaged { offset, good_frame: Some(good) } => write!(
                f,
                "version log: the frame at byte {offset} is damaged and a good frame follows at byte {good}; a crash \
                 cannot cause this, so nothing was cut"
            ),
            LogError::Damaged { offset, good_frame: None } => write!(
                f,
                "version log: the frame at byte {offset} is damaged and too much follows it to tell a torn end from \
                 damage; nothing was cut"
            ),
        }
    }
}

impl std::error::Error for LogError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LogError::Io(error) => Some(error),
            LogError::Decode(error) => Some(error),
            LogError::Encode(error) => Some(error),
            LogError::Poisoned | LogError::Damaged { .. } => None,
        }
    }
}

impl From<io::Error> for LogError {
    fn from(error: io::Error) -> Self {
        LogError::Io(error)
    }
}

impl From<DecodeError> for LogError {
    fn from(error: DecodeError) -> Self {
        LogError::Decode(error)
    }
}

impl From<EncodeError> for LogError {
    fn from(error: EncodeError) -> Self {
        LogError::Encode(error)
    }
}

/// An append-only file of versions, for audit trails and event sourcing.
///
/// [`append`](Self::append) writes only the delta between the new version and the last one, as one checksummed
/// record. [`open`](Self::open) reads every record back into versions that share structure, as the originals
/// did. A record torn by a crash (a partial write, power lost before the data reached the disk) fails its length
/// or checksum check: `open` cuts it off and keeps every record that was completely written before it. Appended
/// records are durable once [`sync`](Self::sync) returns.
///
/// The log keeps every version in memory; they share their unchanged nodes, so that costs what differs between
/// them. The format is specified in docs/format.md.
///
/// # Examples
///
/// ```
/// use hamt_core::HamtMap;
/// use hamt_serde::VersionLog;
///
/// # let dir = std::env::temp_dir().join(format!("hamt-log-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let path = dir.join("accounts.log");
/// # let _ = std::fs::remove_file(&path);
/// let mut log = VersionLog::open(&path)?;
/// let v1: HamtMap<String, i64> = [("alice".to_owned(), 100)].into();
/// log.append(&v1)?;
/// log.append(&v1.insert("bob".to_owned(), 50))?;
/// log.sync()?;
/// drop(log);
///
/// let log = VersionLog::<HamtMap<String, i64>>::open(&path)?;
/// assert_eq!(log.len(), 2);
/// assert_eq!(log.latest().unwrap().get("bob"), Some(&50));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct VersionLog<C> {
    file: File,
    path: PathBuf,
    versions: Vec<C>,
    /// The length of the valid part of the file: the header and every complete record.
    end: u64,
    /// How many bytes of a torn record `open` cut off.
    cut: u64,
    /// The body of every record, as the header's flags say.
    body: Body,
    poisoned: bool,
}

impl<C> VersionLog<C>
where
    C: Versioned,
    C::Key: Hash + Eq + Clone + Serialize + DeserializeOwned,
    C::Value: PartialEq + Clone + Serialize + DeserializeOwned,
    C::Hasher: BuildHasher + Clone + Default,
{
    /// Opens the log at `path`, creating an empty one if there is no file, and reads every complete record.
    ///
    /// A torn last record (the file ends inside it, or its checksum fails) is cut off the file, so that appends
    /// continue after the last complete record; [`cut_bytes`](Self::cut_bytes) says how much was cut. A record
    /// that fails its checksum (or whose length field is wrong) but is followed by a valid one, at any later
    /// offset, is not something a crash can leave behind: the file was damaged, and opening it fails rather than
    /// drop the good records after the damage.
    ///
    /// # Errors
    ///
    /// [`LogError::Io`] if the file cannot be opened, read or cut; [`LogError::Decode`] if it is not a version
    /// log of this kind (magic bytes, format version, maps or sets) or if a complete record does not decode;
    /// [`LogError::Damaged`] if a record in the middle of the file is damaged.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("hamt-log-open-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("empty.log");
    /// # let _ = std::fs::remove_file(&path);
    /// let log = hamt_serde::VersionLog::<hamt_core::HamtSet<u32>>::open(&path)?;
    /// assert!(log.is_empty());
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Self, LogError> {
        let path = path.as_ref().to_owned();
        let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let header = log_header(C::KIND, Body::Compact);
        if bytes.len() < LOG_HEADER_LEN {
            // A new file, or a crash while the header was written: anything else is not ours to overwrite.
            if !header.starts_with(&bytes) && !log_header(C::KIND, Body::SelfDescribing).starts_with(&bytes) {
                return Err(check_header(&bytes, C::KIND).err().unwrap_or(DecodeError::BadMagic).into());
            }
            file.set_len(0)?;
            file.seek(SeekFrom::Start(0))?;
            file.write_all(&header)?;
            file.sync_data()?;
            sync_directory(&path);
            return Ok(VersionLog {
                file,
                path,
                versions: Vec::new(),
                end: LOG_HEADER_LEN as u64,
                cut: bytes.len() as u64,
                body: Body::Compact,
                poisoned: false,
            });
        }
        let body = check_header(&bytes, C::KIND)?;
        let (versions, end) = read_records::<C>(&bytes, body)?;
        let cut = (bytes.len() - end) as u64;
        if cut > 0 {
            file.set_len(end as u64)?;
            file.sync_data()?;
        }
        file.seek(SeekFrom::Start(end as u64))?;
        Ok(VersionLog { file, path, versions, end: end as u64, cut, body, poisoned: false })
    }

    /// Appends `version` as one record: its delta against the last version in the log (or all its entries, for
    /// the first), and returns its index.
    ///
    /// The record reaches the file with one write; it is durable once [`sync`](Self::sync) returns. If the write
    /// fails, the partial record is cut off again, so that the log stays valid.
    ///
    /// # Errors
    ///
    /// [`LogError::Io`] if writing fails; [`LogError::Encode`] if a key or value cannot be serialized or does not
    /// read back as itself in the log's body (the first record chooses the body: the compact one if its keys and
    /// values fit it, else the self-describing one, as for [`serialize_multiple`](crate::serialize_multiple));
    /// [`LogError::Poisoned`] after a failed append whose partial record could not be cut off.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::HamtMap;
    ///
    /// # let dir = std::env::temp_dir().join(format!("hamt-log-append-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let path = dir.join("audit.log");
    /// # let _ = std::fs::remove_file(&path);
    /// let mut log = hamt_serde::VersionLog::open(&path)?;
    /// let config: HamtMap<String, String> = HamtMap::new();
    /// assert_eq!(log.append(&config.insert("mode".into(), "fast".into()))?, 0);
    /// assert_eq!(log.append(&config.insert("mode".into(), "safe".into()))?, 1);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn append(&mut self, version: &C) -> Result<usize, LogError> {
        if self.poisoned {
            return Err(LogError::Poisoned);
        }
        let mut frame = match self.frame(version, self.body) {
            // The body is chosen by the first record: until then, a log whose versions do not fit the compact body
            // switches to the self-describing one (the header's flags byte is rewritten first). Afterwards every
            // record is in the log's body, and a version that does not fit it is refused.
            Err(error)
                if self.versions.is_empty() && self.body == Body::Compact && self_describing_may_help(&error) =>
            {
                let frame = self.frame(version, Body::SelfDescribing)?;
                self.set_body(Body::SelfDescribing)?;
                frame
            }
            other => other?,
        };
        let length = (frame.len() - FRAME_HEADER_LEN) as u64;
        frame[..8].copy_from_slice(&length.to_le_bytes());
        let checksum = frame_checksum(&frame[..8], &frame[FRAME_HEADER_LEN..]);
        frame[8..FRAME_HEADER_LEN].copy_from_slice(&checksum.to_le_bytes());
        if let Err(error) = self.file.write_all(&frame) {
            // Cut the partial record off, so that a later append does not follow garbage.
            let restored = self.file.set_len(self.end).and_then(|()| self.file.seek(SeekFrom::Start(self.end)));
            if restored.is_err() {
                self.poisoned = true;
            }
            return Err(error.into());
        }
        self.end += frame.len() as u64;
        self.versions.push(version.clone());
        Ok(self.versions.len() - 1)
    }

    /// The frame of `version` in `body`, its length and checksum not yet filled in; every key and value is checked
    /// to read back as itself.
    fn frame(&self, version: &C, body: Body) -> Result<Vec<u8>, EncodeError> {
        let mut sink = Sink::buffer(body);
        sink.bytes(&[0; FRAME_HEADER_LEN]);
        match self.versions.last() {
            None => write_entries(&mut sink, version.as_map())?,
            Some(last) => {
                sink.varint(1);
                Delta::between(last.as_map(), version.as_map()).write(&mut sink)?;
            }
        }
        sink.finish()
    }

    /// Rewrites the header's flags for records in `body` (the log holds none yet).
    fn set_body(&mut self, body: Body) -> Result<(), LogError> {
        let flags = flags_of(C::KIND, body);
        let written = self
            .file
            .seek(SeekFrom::Start(5))
            .and_then(|_| self.file.write_all(&[flags]))
            .and_then(|()| self.file.seek(SeekFrom::Start(self.end)));
        if let Err(error) = written {
            self.poisoned = true;
            return Err(error.into());
        }
        self.body = body;
        Ok(())
    }
}

impl<C> VersionLog<C> {
    /// Makes every appended record durable: when this returns, the records survive a crash or a power loss (as
    /// far as the device honours `fsync`).
    ///
    /// # Errors
    ///
    /// [`LogError::Io`] if the file system reports a failure.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("hamt-log-sync-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let path = dir.join("synced.log");
    /// # let _ = std::fs::remove_file(&path);
    /// let mut log = hamt_serde::VersionLog::open(&path)?;
    /// log.append(&hamt_core::HamtSet::<u8>::from([1, 2]))?;
    /// log.sync()?;
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sync(&mut self) -> Result<(), LogError> {
        self.file.sync_data()?;
        Ok(())
    }

    /// Every version in the log, oldest first.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("hamt-log-versions-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let path = dir.join("v.log");
    /// # let _ = std::fs::remove_file(&path);
    /// let mut log = hamt_serde::VersionLog::open(&path)?;
    /// let v1 = hamt_core::HamtSet::<u8>::from([1]);
    /// log.append(&v1)?;
    /// assert_eq!(log.versions(), [v1]);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn versions(&self) -> &[C] {
        &self.versions
    }

    /// The last version appended, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("hamt-log-latest-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let path = dir.join("l.log");
    /// # let _ = std::fs::remove_file(&path);
    /// let mut log = hamt_serde::VersionLog::<hamt_core::HamtSet<u8>>::open(&path)?;
    /// assert!(log.latest().is_none());
    /// log.append(&[7].into())?;
    /// assert!(log.latest().unwrap().contains(&7));
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn latest(&self) -> Option<&C> {
        self.versions.last()
    }

    /// How many versions the log holds.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("hamt-log-len-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let path = dir.join("n.log");
    /// # let _ = std::fs::remove_file(&path);
    /// let log = hamt_serde::VersionLog::<hamt_core::HamtSet<u8>>::open(&path)?;
    /// assert_eq!(log.len(), 0);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn len(&self) -> usize {
        self.versions.len()
    }

    /// Whether the log holds no version.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("hamt-log-empty-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let path = dir.join("e.log");
    /// # let _ = std::fs::remove_file(&path);
    /// assert!(hamt_serde::VersionLog::<hamt_core::HamtSet<u8>>::open(&path)?.is_empty());
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.versions.is_empty()
    }

    /// How many bytes of a torn record [`open`](Self::open) cut off the end of the file (0 if it ended cleanly).
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("hamt-log-cut-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let path = dir.join("c.log");
    /// # let _ = std::fs::remove_file(&path);
    /// let mut log = hamt_serde::VersionLog::open(&path)?;
    /// log.append(&hamt_core::HamtSet::<u8>::from([1, 2, 3]))?;
    /// drop(log);
    /// // A crash tore the end of the file off.
    /// let file = std::fs::OpenOptions::new().write(true).open(&path)?;
    /// file.set_len(file.metadata()?.len() - 1)?;
    ///
    /// let log = hamt_serde::VersionLog::<hamt_core::HamtSet<u8>>::open(&path)?;
    /// assert!(log.is_empty());
    /// assert!(log.cut_bytes() > 0);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cut_bytes(&self) -> u64 {
        self.cut
    }

    /// The file's path.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("hamt-log-path-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("p.log");
    /// let log = hamt_serde::VersionLog::<hamt_core::HamtSet<u8>>::open(&path)?;
    /// assert_eq!(log.path(), path);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl<C> fmt::Debug for VersionLog<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VersionLog")
            .field("path", &self.path)
            .field("versions", &self.versions.len())
            .field("bytes", &self.end)
            .finish_non_exhaustive()
    }
}

/// The header of a log of versions of this kind, with records in this body.
fn log_header(kind: Kind, body: Body) -> [u8; LOG_HEADER_LEN] {
    let mut header = [0; LOG_HEADER_LEN];
    header[..4].copy_from_slice(&LOG_MAGIC);
    header[4] = FORMAT;
    header[5] = flags_of(kind, body);
    header
}

/// Checks a log's header (of at least 4 bytes, or what there is), and returns the body of its records.
fn check_header(bytes: &[u8], kind: Kind) -> Result<Body, DecodeError> {
    if !bytes.starts_with(&LOG_MAGIC) {
        return Err(DecodeError::BadMagic);
    }
    if bytes.len() < LOG_HEADER_LEN {
        return Err(DecodeError::Truncated);
    }
    if bytes[4] != FORMAT {
        return Err(DecodeError::UnsupportedFormat { version: bytes[4] });
    }
    let flags = bytes[5];
    if flags & !KNOWN_FLAGS != 0 || bytes[6..8] != [0, 0] {
        return Err(DecodeError::UnknownFlags { flags });
    }
    let (found, body) = parse_flags(flags);
    if found != kind {
        return Err(DecodeError::WrongKind { expected: kind, found });
    }
    Ok(body)
}

/// The CRC-32 of a record's length field and its bytes.
fn frame_checksum(length: &[u8], record: &[u8]) -> u32 {
    let mut checksum = crc32fast::Hasher::new();
    checksum.update(length);
    checksum.update(record);
    checksum.finalize()
}

/// Reads the complete records of a log (whose header was checked) and returns their versions, and where the last
/// complete record ends.
fn read_records<C>(bytes: &[u8], body: Body) -> Result<(Vec<C>, usize), LogError>
where
    C: Versioned,
    C::Key: Hash + Eq + Clone + DeserializeOwned,
    C::Value: Clone + DeserializeOwned,
    C::Hasher: BuildHasher + Clone + Default,
{
    let replay = Replay::new();
    let mut maps: Vec<MapOf<C>> = Vec::new();
    let mut position = LOG_HEADER_LEN;
    while let Some(record) = complete_record(&bytes[position..]) {
        let mut source = Source::new(record, body);
        source.version = maps.len();
        let (map, _) = envelope::read_record(&mut source, &replay, &maps)?;
        if source.remaining() != 0 {
            return Err(DecodeError::TrailingBytes { count: source.remaining() }.into());
        }
        maps.push(map);
        position += FRAME_HEADER_LEN + record.len();
    }
    if position < bytes.len() {
        if let Some(good_frame) = good_frame_after(&bytes[position..]) {
            let offset = position as u64;
            return Err(LogError::Damaged { offset, good_frame: good_frame.map(|at| offset + at as u64) });
        }
    }
    Ok((maps.into_iter().map(C::from_map).collect(), position))
}

/// How many bytes of checksum work [`good_frame_after`] may do for each byte it searches, beyond a fixed
/// allowance: a torn end is one frame, and its bytes rarely look like the head of a long frame, so the search is
/// linear in practice; the budget keeps a file made to look like many long frames from making it quadratic.
const SEARCH_WORK_PER_BYTE: usize = 64;
const SEARCH_WORK_ALLOWANCE: usize = 16 << 20;

/// Searches `bytes`, which start with a frame that is torn or damaged, for a later complete frame whose checksum
/// holds, at every offset: the damaged frame's own length field may be what was damaged, so where it says it ends
/// cannot be trusted. A crash tears only the last frame, so such a frame means that the file was damaged in the
/// middle. Returns `Some(Some(offset))` for the first one found, `Some(None)` if the search ran out of budget (which
/// is reported as damage, since good frames must never be dropped on a guess), and `None` if there is none: the
/// bytes are a torn end.
fn good_frame_after(bytes: &[u8]) -> Option<Option<usize>> {
    let mut budget = bytes.len().saturating_mul(SEARCH_WORK_PER_BYTE).saturating_add(SEARCH_WORK_ALLOWANCE);
    for offset in 1..bytes.len() {
        let rest = &bytes[offset..];
        let Some(header) = rest.get(..FRAME_HEADER_LEN) else { break };
        let length = u64::from_le_bytes(header[..8].try_into().expect("eight bytes"));
        // A record takes at least one byte (its first count), and a complete frame fits in what is left.
        match usize::try_from(length) {
            Ok(length) if length >= 1 && length <= rest.len() - FRAME_HEADER_LEN => {
                let work = length + FRAME_HEADER_LEN;
                if work > budget {
                    return Some(None);
                }
                budget -= work;
                if complete_record(rest).is_some() {
                    return Some(Some(offset));
                }
            }
            _ => {}
        }
    }
    None
}

/// The record at the start of `bytes` if it is complete and its checksum holds; `None` if it is torn (or there is
/// none).
fn complete_record(bytes: &[u8]) -> Option<&[u8]> {
    let (header, rest) = bytes.split_at_checked(FRAME_HEADER_LEN)?;
    let length = u64::from_le_bytes(header[..8].try_into().expect("eight bytes"));
    let record = rest.get(..usize::try_from(length).ok()?)?;
    let checksum = u32::from_le_bytes(header[8..].try_into().expect("four bytes"));
    (frame_checksum(&header[..8], record) == checksum).then_some(record)
}

/// Makes a new file's directory entry durable, where the platform allows opening a directory (best effort: the
/// file's own data is synced regardless).
fn sync_directory(path: &Path) {
    if let Some(directory) = path.parent().filter(|directory| !directory.as_os_str().is_empty()) {
        if let Ok(directory) = File::open(directory) {
            let _ = directory.sync_all();
        }
    }
}
