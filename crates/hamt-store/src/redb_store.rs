//! [`RedbStore`]: blocks in one redb file, the embedded default, with named roots published after their blocks.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use cid::Cid;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use crate::{Blockstore, StoreError};

/// The blocks: a block's binary id to its bytes.
const BLOCKS: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("hamt-store blocks");
/// The published roots: a name to the binary id of a root block.
const ROOTS: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("hamt-store roots");

/// Blocks in one [redb](https://docs.rs/redb) file: the embedded, crash-safe default (feature `redb`, on by default).
///
/// Every write is one redb write transaction, committed durably (fsynced) before the call returns:
/// [`put_many`](Blockstore::put_many) writes all its blocks in one transaction, so a flush of a stored map lands
/// whole or not at all. Readers see only committed transactions and never block writers; writers wait for each other.
///
/// # Crash safety
///
/// Besides blocks, the file holds *named roots* ([`set_root`](RedbStore::set_root), [`root`](RedbStore::root)):
/// the id of the root node of a map, under a name, which is how a program finds its map again after a restart.
/// [`set_root`](RedbStore::set_root) commits in a transaction of its own after the blocks' transaction has
/// committed, and refuses a root block the store does not hold. So a process killed at any moment (during a flush,
/// during a publication, between the two) leaves on disk either the old root with all its blocks or the new root
/// with all its blocks, never a root that points at a missing block; blocks written by an interrupted flush that was
/// never published are unreachable and can be collected. Publishing a root after flushing a stored map is the whole
/// protocol:
///
/// ```
/// use hamt_store::{RedbStore, StoredMap};
///
/// let dir = std::env::temp_dir().join(format!("hamt-redb-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("blocks.redb");
/// {
///     let store = RedbStore::open(&path)?;
///     let mut map = StoredMap::new(&store);
///     map.insert("answer".to_owned(), b"42".to_vec().into())?;
///     let root = map.flush()?; // every block, in one transaction
///     store.set_root("main", &root)?; // then the root, in another
/// }
/// let store = RedbStore::open(&path)?;
/// let root = store.root("main")?.expect("published above");
/// let map = StoredMap::load(&store, root)?;
/// assert_eq!(map.get("answer")?, Some(b"42".to_vec().into()));
/// # drop(map);
/// # drop(store);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// This rests on redb's guarantees (copy-on-write pages and a checksummed commit slot, fsynced on commit), and is
/// tested by killing a writer process with `SIGKILL` at random moments (`tests/crash.rs`).
///
/// A file can be open in one `RedbStore` at a time (a second [`open`](RedbStore::open) of the same file fails
/// while the first is alive, in this process or another); clones share the open database.
#[derive(Debug, Clone)]
pub struct RedbStore {
    database: Arc<Database>,
}

impl RedbStore {
    /// Opens the store in file `path`, creating the file if it does not exist.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] (operation `"open"`) if the file cannot be created or opened, is not a redb database,
    /// or is already open (redb locks the file).
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::{Blockstore, RedbStore, block_cid, RAW};
    ///
    /// let dir = std::env::temp_dir().join(format!("hamt-redb-open-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let store = RedbStore::open(dir.join("blocks.redb"))?;
    /// let cid = block_cid(RAW, b"hello");
    /// store.put(&cid, b"hello")?;
    /// assert_eq!(store.get(&cid)?.as_deref(), Some(&b"hello"[..]));
    /// # drop(store);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let database = Database::create(path).map_err(|error| StoreError::backend("open", error))?;
        Self::from_database(database)
    }

    /// A store over a database opened by the caller (for instance with redb's `Builder` and a larger cache). The
    /// store's two tables are created if missing; other tables in the database are left alone.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] (operation `"open"`) if the tables cannot be created, or exist with other types.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::RedbStore;
    ///
    /// let dir = std::env::temp_dir().join(format!("hamt-redb-from-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let database = redb::Builder::new().set_cache_size(64 << 20).create(dir.join("blocks.redb"))?;
    /// let store = RedbStore::from_database(database)?;
    /// assert_eq!(store.root("main")?, None);
    /// # drop(store);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_database(database: Database) -> Result<Self, StoreError> {
        let transaction = database.begin_write().map_err(failed("open"))?;
        transaction.open_table(BLOCKS).map_err(failed("open"))?;
        transaction.open_table(ROOTS).map_err(failed("open"))?;
        transaction.commit().map_err(failed("open"))?;
        Ok(RedbStore { database: Arc::new(database) })
    }

    /// Publishes `root` under `name`, replacing what was published there, in a transaction of its own. Call it after
    /// the blocks under `root` are stored (after [`StoredMap::flush`](crate::StoredMap::flush)): see
    /// [crash safety](RedbStore#crash-safety).
    ///
    /// # Errors
    ///
    /// [`StoreError::MissingBlock`] if the store does not hold block `root` (nothing is published);
    /// [`StoreError::Backend`] (operation `"set_root"`) if the database fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::{Blockstore, RedbStore, StoreError, block_cid, RAW};
    ///
    /// let dir = std::env::temp_dir().join(format!("hamt-redb-set-root-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let store = RedbStore::open(dir.join("blocks.redb"))?;
    /// let cid = block_cid(RAW, b"root");
    /// assert!(matches!(store.set_root("main", &cid), Err(StoreError::MissingBlock { .. })));
    /// store.put(&cid, b"root")?;
    /// store.set_root("main", &cid)?;
    /// assert_eq!(store.root("main")?, Some(cid));
    /// # drop(store);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_root(&self, name: &str, root: &Cid) -> Result<(), StoreError> {
        let transaction = self.database.begin_write().map_err(failed("set_root"))?;
        {
            let blocks = transaction.open_table(BLOCKS).map_err(failed("set_root"))?;
            // The check and the publication are in one transaction, so the block cannot be deleted in between.
            if blocks.get(root.to_bytes().as_slice()).map_err(failed("set_root"))?.is_none() {
                return Err(StoreError::MissingBlock { cid: Box::new(*root) });
            }
            let mut roots = transaction.open_table(ROOTS).map_err(failed("set_root"))?;
            roots.insert(name, root.to_bytes().as_slice()).map_err(failed("set_root"))?;
        }
        transaction.commit().map_err(failed("set_root"))
    }

    /// The root published under `name`, if any.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] (operation `"root"`) if the database fails or the stored id does not parse.
    ///
    /// # Examples
    ///
    /// See [`set_root`](RedbStore::set_root).
    pub fn root(&self, name: &str) -> Result<Option<Cid>, StoreError> {
        let transaction = self.database.begin_read().map_err(failed("root"))?;
        let roots = transaction.open_table(ROOTS).map_err(failed("root"))?;
        let Some(bytes) = roots.get(name).map_err(failed("root"))? else { return Ok(None) };
        Cid::try_from(bytes.value()).map(Some).map_err(|error| StoreError::backend("root", error))
    }

    /// Every published root, by name in byte order.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] (operation `"roots"`) if the database fails or a stored id does not parse.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::{Blockstore, RedbStore, block_cid, RAW};
    ///
    /// let dir = std::env::temp_dir().join(format!("hamt-redb-roots-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let store = RedbStore::open(dir.join("blocks.redb"))?;
    /// let cid = block_cid(RAW, b"root");
    /// store.put(&cid, b"root")?;
    /// store.set_root("b", &cid)?;
    /// store.set_root("a", &cid)?;
    /// assert_eq!(store.roots()?, vec![("a".to_owned(), cid), ("b".to_owned(), cid)]);
    /// # drop(store);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn roots(&self) -> Result<Vec<(String, Cid)>, StoreError> {
        let transaction = self.database.begin_read().map_err(failed("roots"))?;
        let roots = transaction.open_table(ROOTS).map_err(failed("roots"))?;
        let mut found = Vec::new();
        for entry in roots.iter().map_err(failed("roots"))? {
            let (name, bytes) = entry.map_err(failed("roots"))?;
            let cid = Cid::try_from(bytes.value()).map_err(|error| StoreError::backend("roots", error))?;
            found.push((name.value().to_owned(), cid));
        }
        Ok(found)
    }

    /// Withdraws the root published under `name`; returns whether there was one. The blocks stay.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] (operation `"remove_root"`) if the database fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::{Blockstore, RedbStore, block_cid, RAW};
    ///
    /// let dir = std::env::temp_dir().join(format!("hamt-redb-remove-root-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let store = RedbStore::open(dir.join("blocks.redb"))?;
    /// let cid = block_cid(RAW, b"root");
    /// store.put(&cid, b"root")?;
    /// store.set_root("main", &cid)?;
    /// assert!(store.remove_root("main")?);
    /// assert!(!store.remove_root("main")?);
    /// assert_eq!(store.root("main")?, None);
    /// assert!(store.has(&cid)?);
    /// # drop(store);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn remove_root(&self, name: &str) -> Result<bool, StoreError> {
        let transaction = self.database.begin_write().map_err(failed("remove_root"))?;
        let removed = {
            let mut roots = transaction.open_table(ROOTS).map_err(failed("remove_root"))?;
            roots.remove(name).map_err(failed("remove_root"))?.is_some()
        };
        transaction.commit().map_err(failed("remove_root"))?;
        Ok(removed)
    }

    /// Writes `blocks` in one transaction (the shared body of `put` and `put_many`).
    fn write_blocks<'a>(&self, blocks: impl Iterator<Item = (&'a Cid, &'a [u8])>) -> Result<(), StoreError> {
        let transaction = self.database.begin_write().map_err(failed("put"))?;
        {
            let mut table = transaction.open_table(BLOCKS).map_err(failed("put"))?;
            for (cid, bytes) in blocks {
                let key = cid.to_bytes();
                // A block that is there already holds the same bytes (its id is their hash): skip the rewrite.
                if table.get(key.as_slice()).map_err(failed("put"))?.is_none() {
                    table.insert(key.as_slice(), bytes).map_err(failed("put"))?;
                }
            }
        }
        transaction.commit().map_err(failed("put"))
    }
}

/// Turns a redb error into [`StoreError::Backend`] for `operation`.
fn failed<E: Into<redb::Error>>(operation: &'static str) -> impl Fn(E) -> StoreError {
    move |error| StoreError::backend(operation, error.into())
}

impl Blockstore for RedbStore {
    fn get(&self, cid: &Cid) -> Result<Option<Bytes>, StoreError> {
        let transaction = self.database.begin_read().map_err(failed("get"))?;
        let table = transaction.open_table(BLOCKS).map_err(failed("get"))?;
        let found = table.get(cid.to_bytes().as_slice()).map_err(failed("get"))?;
        Ok(found.map(|bytes| Bytes::copy_from_slice(bytes.value())))
    }

    fn put(&self, cid: &Cid, bytes: &[u8]) -> Result<(), StoreError> {
        self.write_blocks(std::iter::once((cid, bytes)))
    }

    fn has(&self, cid: &Cid) -> Result<bool, StoreError> {
        let transaction = self.database.begin_read().map_err(failed("has"))?;
        let table = transaction.open_table(BLOCKS).map_err(failed("has"))?;
        Ok(table.get(cid.to_bytes().as_slice()).map_err(failed("has"))?.is_some())
    }

    fn get_many(&self, cids: &[Cid]) -> Result<Vec<Option<Bytes>>, StoreError> {
        // One read transaction for the batch: one snapshot, and one transaction set-up instead of many.
        let transaction = self.database.begin_read().map_err(failed("get"))?;
        let table = transaction.open_table(BLOCKS).map_err(failed("get"))?;
        cids.iter()
            .map(|cid| {
                let found = table.get(cid.to_bytes().as_slice()).map_err(failed("get"))?;
                Ok(found.map(|bytes| Bytes::copy_from_slice(bytes.value())))
            })
            .collect()
    }

    fn put_many(&self, blocks: &[(Cid, Bytes)]) -> Result<(), StoreError> {
        if blocks.is_empty() {
            return Ok(());
        }
        self.write_blocks(blocks.iter().map(|(cid, bytes)| (cid, &bytes[..])))
    }

    fn list(&self) -> Result<Vec<Cid>, StoreError> {
        let transaction = self.database.begin_read().map_err(failed("list"))?;
        let table = transaction.open_table(BLOCKS).map_err(failed("list"))?;
        let mut cids = Vec::new();
        for entry in table.iter().map_err(failed("list"))? {
            let (key, _) = entry.map_err(failed("list"))?;
            cids.push(Cid::try_from(key.value()).map_err(|error| StoreError::backend("list", error))?);
        }
        Ok(cids)
    }

    fn delete(&self, cids: &[Cid]) -> Result<(), StoreError> {
        let transaction = self.database.begin_write().map_err(failed("delete"))?;
        {
            let mut table = transaction.open_table(BLOCKS).map_err(failed("delete"))?;
            for cid in cids {
                table.remove(cid.to_bytes().as_slice()).map_err(failed("delete"))?;
            }
        }
        transaction.commit().map_err(failed("delete"))
    }
}
