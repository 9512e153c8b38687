//! [`ObjectStore`]: blocks as objects in S3, GCS, Azure, local files or memory, through the `object_store` crate.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::io;
use std::sync::Arc;

use bytes::Bytes;
use cid::Cid;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{GetOptions, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use tokio::runtime::{Handle, Runtime};

use crate::{Blockstore, StoreError};

/// How many requests a batch ([`get_many`](Blockstore::get_many), [`put_many`](Blockstore::put_many),
/// [`delete`](Blockstore::delete)) keeps in flight unless [`with_concurrency`](ObjectStore::with_concurrency) says
/// otherwise.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// Blocks as objects in any store the [`object_store`](https://docs.rs/object_store) crate reaches: Amazon S3 and
/// S3-compatible servers, Google Cloud Storage, Azure Blob Storage, local files, memory (feature `object-store`).
///
/// Block `cid` is the object `PREFIX/CID`, with the id in its canonical text form (base32, `bafy…` for nodes and
/// `bafk…` for values). Puts are create-only (`PutMode::Create`): a block that is already there is left alone and
/// the put succeeds, so two writers that store the same block never conflict. A store without conditional puts
/// (`NotImplemented`) is written with an ordinary put instead, which is as harmless, since the bytes under an id
/// never change.
///
/// # Driving the asynchronous store
///
/// [`Blockstore`] is synchronous and `object_store` is asynchronous: each `ObjectStore` owns a small Tokio runtime
/// (two worker threads), shared by its clones, and each call waits for its requests to finish on it. The batch forms
/// keep up to [`DEFAULT_CONCURRENCY`] requests in flight, send one request per distinct block, and return the blocks
/// in the order asked.
///
/// Calling from inside an asynchronous runtime (a `#[tokio::main]` program) does not panic: the requests then run
/// on the store's own runtime while the calling thread waits. The wait blocks that thread, and with it the other
/// tasks of a single-threaded runtime, so asynchronous code should call the store from
/// `tokio::task::spawn_blocking`. Dropping the last clone inside a runtime does not panic either.
///
/// # Crashes
///
/// Object stores write each object whole (a reader never sees half an object), but a batch has no transaction:
/// its blocks land in any order, and a batch cut short (a crash, a network failure) leaves some of them. That is
/// harmless because nothing points at them yet: a map's root id is returned by
/// [`flush`](crate::StoredMap::flush) only after every block has been written, so a root published only then (in a
/// database, a file, an object written after the flush) always has all its blocks. Retrying the flush writes the
/// missing blocks and skips the others.
///
/// # Sharing a bucket
///
/// [`with_prefix`](ObjectStore::with_prefix) puts the blocks under a prefix, so that several stores (several
/// datasets, or a test per prefix) share one bucket without seeing each other's blocks: [`list`](Blockstore::list)
/// returns only the objects directly under the prefix whose names are block ids.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
///
/// use hamt_store::{Blockstore, ObjectStore, StoredMap, block_cid, RAW};
/// use hamt_store::object_store::memory::InMemory;
///
/// let store = ObjectStore::new(Arc::new(InMemory::new()));
/// let mut map = StoredMap::new(&store);
/// map.insert("answer".to_owned(), b"42".to_vec().into())?;
/// let root = map.flush()?;
/// let reopened = StoredMap::load(&store, root)?;
/// assert_eq!(reopened.get("answer")?, Some(b"42".to_vec().into()));
/// # Ok::<(), hamt_store::StoreError>(())
/// ```
///
/// An S3 bucket (or any S3-compatible server):
///
/// ```no_run
/// use std::sync::Arc;
///
/// use hamt_store::ObjectStore;
/// use hamt_store::object_store::aws::AmazonS3Builder;
///
/// let s3 = AmazonS3Builder::from_env().with_bucket_name("my-bucket").build()?;
/// let store = ObjectStore::with_prefix(Arc::new(s3), "datasets/temperatures");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ObjectStore {
    objects: Arc<dyn object_store::ObjectStore>,
    prefix: Path,
    /// The runtime, or why it could not start (reported by every call rather than by the constructor).
    runtime: Result<Arc<OwnedRuntime>, Arc<io::Error>>,
    concurrency: usize,
}

/// A runtime that shuts down without blocking when dropped, so that dropping a store inside another runtime (where
/// blocking is forbidden and Tokio would panic) is allowed.
#[derive(Debug)]
struct OwnedRuntime(Option<Runtime>);

impl Drop for OwnedRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            // Every call waits for its own requests, so nothing of value is still running here.
            runtime.shutdown_background();
        }
    }
}

impl ObjectStore {
    /// A store of blocks at the top of `objects` (no prefix).
    ///
    /// The constructor does not fail: if the store's runtime cannot start (the system refuses threads), every call
    /// reports it as [`StoreError::Backend`] with operation `"start the runtime"`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// use hamt_store::{Blockstore, ObjectStore, block_cid, RAW};
    /// use hamt_store::object_store::memory::InMemory;
    ///
    /// let store = ObjectStore::new(Arc::new(InMemory::new()));
    /// let cid = block_cid(RAW, b"hello");
    /// store.put(&cid, b"hello")?;
    /// store.put(&cid, b"hello")?; // a second put of the same block is harmless
    /// assert_eq!(store.get(&cid)?.as_deref(), Some(&b"hello"[..]));
    /// assert_eq!(store.list()?, vec![cid]);
    /// # Ok::<(), hamt_store::StoreError>(())
    /// ```
    #[must_use]
    pub fn new(objects: Arc<dyn object_store::ObjectStore>) -> Self {
        Self::with_prefix(objects, Path::default())
    }

    /// A store of blocks under `prefix` in `objects` (objects `PREFIX/CID`), so that several stores can share a
    /// bucket. The prefix is split at `/` into path segments; an empty prefix is the top of the bucket.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// use hamt_store::{Blockstore, ObjectStore, block_cid, RAW};
    /// use hamt_store::object_store::memory::InMemory;
    ///
    /// let bucket = Arc::new(InMemory::new());
    /// let first = ObjectStore::with_prefix(bucket.clone(), "first");
    /// let second = ObjectStore::with_prefix(bucket, "second");
    /// let cid = block_cid(RAW, b"hello");
    /// first.put(&cid, b"hello")?;
    /// assert!(first.has(&cid)?);
    /// assert!(!second.has(&cid)?);
    /// assert!(second.list()?.is_empty());
    /// # Ok::<(), hamt_store::StoreError>(())
    /// ```
    #[must_use]
    pub fn with_prefix(objects: Arc<dyn object_store::ObjectStore>, prefix: impl Into<Path>) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("hamt-store-objects")
            .enable_all()
            .build()
            .map(|runtime| Arc::new(OwnedRuntime(Some(runtime))))
            .map_err(Arc::new);
        ObjectStore { objects, prefix: prefix.into(), runtime, concurrency: DEFAULT_CONCURRENCY }
    }

    /// The same store with at most `requests` requests in flight per batch (at least one).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// use hamt_store::ObjectStore;
    /// use hamt_store::object_store::memory::InMemory;
    ///
    /// let store = ObjectStore::new(Arc::new(InMemory::new())).with_concurrency(4);
    /// assert_eq!(store.concurrency(), 4);
    /// ```
    #[must_use]
    pub fn with_concurrency(mut self, requests: usize) -> Self {
        self.concurrency = requests.max(1);
        self
    }

    /// How many requests a batch keeps in flight at most.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// use hamt_store::{DEFAULT_CONCURRENCY, ObjectStore};
    /// use hamt_store::object_store::memory::InMemory;
    ///
    /// assert_eq!(ObjectStore::new(Arc::new(InMemory::new())).concurrency(), DEFAULT_CONCURRENCY);
    /// ```
    #[must_use]
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// The prefix the blocks are stored under.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// use hamt_store::ObjectStore;
    /// use hamt_store::object_store::memory::InMemory;
    ///
    /// let store = ObjectStore::with_prefix(Arc::new(InMemory::new()), "datasets/a");
    /// assert_eq!(store.prefix().as_ref(), "datasets/a");
    /// ```
    #[must_use]
    pub fn prefix(&self) -> &Path {
        &self.prefix
    }

    /// The object store the blocks are in.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// use hamt_store::ObjectStore;
    /// use hamt_store::object_store::memory::InMemory;
    ///
    /// let store = ObjectStore::new(Arc::new(InMemory::new()));
    /// assert_eq!(store.objects().to_string(), "InMemory");
    /// ```
    #[must_use]
    pub fn objects(&self) -> &Arc<dyn object_store::ObjectStore> {
        &self.objects
    }

    /// The object that holds block `cid`.
    fn location(&self, cid: &Cid) -> Path {
        self.prefix.clone().join(cid.to_string())
    }

    /// Runs `work` on the store's runtime and waits for it.
    fn run<T: Send + 'static>(
        &self,
        operation: &'static str,
        work: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        let runtime = match &self.runtime {
            Ok(runtime) => runtime,
            Err(error) => return Err(StoreError::backend("start the runtime", Arc::clone(error))),
        };
        // The runtime is taken out only when the last clone drops, after which nobody can call; an error all the same.
        let Some(runtime) = &runtime.0 else {
            return Err(StoreError::backend("start the runtime", io::Error::other("the runtime has shut down")));
        };
        if Handle::try_current().is_err() {
            return runtime.block_on(work);
        }
        // Inside a runtime, `block_on` would panic: the work runs on the store's worker threads, and this thread
        // waits for it with an executor that does not need a runtime. A panic in the work (a bug in a backend)
        // comes back as a join error rather than tearing down the caller.
        let task = runtime.spawn(work);
        futures::executor::block_on(task).map_err(|error| StoreError::backend(operation, error))?
    }
}

fn backend(operation: &'static str) -> impl Fn(object_store::Error) -> StoreError {
    move |error| StoreError::backend(operation, error)
}

/// The largest object [`ObjectStore`] reads as a block: 32 MiB (the largest frame a CAR file may hold), far above any
/// node or value a stored map is meant for. An object store that names a larger object, or sends more bytes than it
/// named, gets [`StoreError::BlockTooLarge`] before more than this is held in memory.
pub const MAX_BLOCK_BYTES: u64 = crate::car::MAX_FRAME_BYTES;

async fn get_object(
    objects: Arc<dyn object_store::ObjectStore>,
    cid: Cid,
    location: Path,
) -> Result<Option<Bytes>, StoreError> {
    let found = match objects.get_opts(&location, GetOptions::default()).await {
        Ok(found) => found,
        Err(object_store::Error::NotFound { .. }) => return Ok(None),
        Err(error) => return Err(backend("get")(error)),
    };
    let too_large = |size| StoreError::BlockTooLarge { cid: Box::new(cid), size };
    let claimed = found.meta.size;
    if claimed > MAX_BLOCK_BYTES {
        return Err(too_large(claimed));
    }
    // The size the store named is only a claim: the body is read piece by piece and cut off past the limit. A body
    // that comes in one piece (an in-memory store's, a small object's) is handed on without a copy.
    let mut pieces = Vec::new();
    let mut size = 0;
    let mut body = found.into_stream();
    while let Some(piece) = body.try_next().await.map_err(backend("get"))? {
        size += piece.len() as u64;
        if size > MAX_BLOCK_BYTES {
            return Err(too_large(size));
        }
        pieces.push(piece);
    }
    Ok(Some(match pieces.len() {
        0 => Bytes::new(),
        1 => pieces.swap_remove(0),
        _ => Bytes::from(pieces.concat()),
    }))
}

async fn put_object(
    objects: Arc<dyn object_store::ObjectStore>,
    location: Path,
    payload: PutPayload,
) -> Result<(), StoreError> {
    let create = PutOptions { mode: PutMode::Create, ..PutOptions::default() };
    match objects.put_opts(&location, payload.clone(), create).await {
        // The block is there already, with the same bytes since they hash to its id.
        Ok(_) | Err(object_store::Error::AlreadyExists { .. }) => Ok(()),
        Err(object_store::Error::NotImplemented { .. }) => {
            objects.put_opts(&location, payload, PutOptions::default()).await.map(drop).map_err(backend("put"))
        }
        // A server may refuse a create-only put of an existing object before it has read the body, and close the
        // connection while the client is still sending it (s3s-fs does): the client then sees a broken connection
        // rather than `AlreadyExists`. An object that exists is complete (object stores publish whole objects) and
        // holds the block's bytes, so the put has done its work.
        Err(error) => match objects.head(&location).await {
            Ok(_) => Ok(()),
            Err(_) => Err(backend("put")(error)),
        },
    }
}

async fn delete_object(objects: Arc<dyn object_store::ObjectStore>, location: Path) -> Result<(), StoreError> {
    match objects.delete(&location).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
        Err(error) => Err(backend("delete")(error)),
    }
}

impl Blockstore for ObjectStore {
    fn get(&self, cid: &Cid) -> Result<Option<Bytes>, StoreError> {
        self.run("get", get_object(Arc::clone(&self.objects), *cid, self.location(cid)))
    }

    fn put(&self, cid: &Cid, bytes: &[u8]) -> Result<(), StoreError> {
        let payload = PutPayload::from(Bytes::copy_from_slice(bytes));
        self.run("put", put_object(Arc::clone(&self.objects), self.location(cid), payload))
    }

    fn has(&self, cid: &Cid) -> Result<bool, StoreError> {
        let objects = Arc::clone(&self.objects);
        let location = self.location(cid);
        self.run("has", async move {
            match objects.head(&location).await {
                Ok(_) => Ok(true),
                Err(object_store::Error::NotFound { .. }) => Ok(false),
                Err(error) => Err(backend("has")(error)),
            }
        })
    }

    fn get_many(&self, cids: &[Cid]) -> Result<Vec<Option<Bytes>>, StoreError> {
        // Each distinct block is fetched once, however often it is asked for.
        let fetches: Vec<_> = distinct(cids.iter())
            .into_iter()
            .map(|cid| {
                let fetch = get_object(Arc::clone(&self.objects), cid, self.location(&cid));
                async move { fetch.await.map(|bytes| (cid, bytes)) }
            })
            .collect();
        let concurrency = self.concurrency;
        let found: HashMap<Cid, Option<Bytes>> =
            self.run("get", futures::stream::iter(fetches).buffer_unordered(concurrency).try_collect())?;
        Ok(cids.iter().map(|cid| found.get(cid).cloned().flatten()).collect())
    }

    fn put_many(&self, blocks: &[(Cid, Bytes)]) -> Result<(), StoreError> {
        // A block that appears twice is written once: two concurrent writes of one object gain nothing.
        let mut seen = HashSet::new();
        let writes: Vec<_> = blocks
            .iter()
            .filter(|(cid, _)| seen.insert(*cid))
            .map(|(cid, bytes)| {
                put_object(Arc::clone(&self.objects), self.location(cid), PutPayload::from(bytes.clone()))
            })
            .collect();
        let concurrency = self.concurrency;
        self.run("put", futures::stream::iter(writes).buffer_unordered(concurrency).try_collect())
    }

    fn list(&self) -> Result<Vec<Cid>, StoreError> {
        let objects = Arc::clone(&self.objects);
        let prefix = self.prefix.clone();
        self.run("list", async move {
            let mut listing = objects.list(Some(&prefix));
            let mut cids = Vec::new();
            while let Some(object) = listing.try_next().await.map_err(backend("list"))? {
                if let Some(cid) = block_name(&object.location, &prefix) {
                    cids.push(cid);
                }
            }
            Ok(cids)
        })
    }

    fn delete(&self, cids: &[Cid]) -> Result<(), StoreError> {
        // Each block is deleted once: some servers (s3s-fs) fail one of two concurrent deletes of an object.
        let deletions: Vec<_> = distinct(cids.iter())
            .iter()
            .map(|cid| delete_object(Arc::clone(&self.objects), self.location(cid)))
            .collect();
        let concurrency = self.concurrency;
        self.run("delete", futures::stream::iter(deletions).buffer_unordered(concurrency).try_collect())
    }
}

/// The ids of `cids` without repetitions, in their first order.
fn distinct<'a>(cids: impl Iterator<Item = &'a Cid>) -> Vec<Cid> {
    let mut seen = HashSet::new();
    cids.filter(|cid| seen.insert(**cid)).copied().collect()
}

/// The block id that object `location` holds, if it lies directly under `prefix` and its name is a block id in
/// canonical form (the form [`ObjectStore`] writes): other objects in a shared bucket are not this store's blocks.
fn block_name(location: &Path, prefix: &Path) -> Option<Cid> {
    let mut rest = location.prefix_match(prefix)?;
    let name = rest.next()?;
    if rest.next().is_some() {
        return None;
    }
    let cid = Cid::try_from(name.as_ref()).ok()?;
    (cid.to_string() == name.as_ref()).then_some(cid)
}
