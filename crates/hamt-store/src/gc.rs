//! Garbage collection: deleting every block that no live version reaches, and the walk over a version's blocks
//! that it shares with CAR export and import.

use std::borrow::Borrow;
use std::collections::HashSet;

use cid::Cid;

use crate::format::{Node, SlotRef, checked_block};
use crate::{Blockstore, StoreError};

/// How many blocks one `get_many` call asks for, so that a wide level of a large trie is read in bounded batches
/// rather than all at once.
const BATCH: usize = 1024;

/// What [`gc`] did: how many blocks it kept and how many it deleted.
///
/// # Examples
///
/// ```
/// use hamt_store::{GcStats, MemoryStore, gc};
///
/// let stats = gc(&MemoryStore::new(), Vec::<hamt_store::Cid>::new())?;
/// assert_eq!(stats, GcStats { kept: 0, deleted: 0 });
/// # Ok::<(), hamt_store::StoreError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GcStats {
    /// The blocks that a live root reaches, which stay.
    pub kept: usize,
    /// The blocks that no live root reaches, which were deleted.
    pub deleted: usize,
}

/// Deletes every block of `store` that none of `live_roots` reaches, and returns how many blocks it kept and deleted.
///
/// A root id is a version of a map: the versions to keep are named by their roots, and every other version's
/// blocks that they do not share go. The walk reads every node of every live version, checks it against its id
/// and decodes it; value blocks are not read, only looked up in the store's [`list`](Blockstore::list).
/// A block reached several times (a subtree or a value shared between versions) is counted once. Nothing is
/// deleted unless the whole walk succeeds, in one [`delete`](Blockstore::delete) call.
///
/// Do not run `gc` while a map is flushing to the same store without naming that map's root as live: a flush
/// that finds a block already there does not write it again, so gc could delete a block that the new version
/// relies on.
///
/// # Errors
///
/// [`StoreError::MissingBlock`] if a live root reaches a block the store does not hold, [`StoreError::HashMismatch`]
/// or [`StoreError::UnsupportedHash`] if a node's bytes do not hash to its id, [`StoreError::BadNode`] if a node
/// does not decode (which covers keys in the wrong slot and absurd depths), and [`StoreError::Backend`] if the store
/// fails. In every case nothing has been deleted.
///
/// # Examples
///
/// ```
/// use hamt_store::{MemoryStore, StoredMap, gc};
///
/// let store = MemoryStore::new();
/// let mut map = StoredMap::new(&store);
/// map.insert("a".to_owned(), b"1".to_vec().into())?;
/// let first = map.flush()?;
/// map.insert("a".to_owned(), b"2".to_vec().into())?;
/// let second = map.flush()?;
///
/// // Keeping only the second version deletes the first one's root and value.
/// let stats = gc(&store, [second])?;
/// assert_eq!((stats.kept, stats.deleted), (2, 2));
/// assert!(StoredMap::load(&store, first).and_then(|old| old.get("a")).is_err());
/// assert_eq!(StoredMap::load(&store, second)?.get("a")?, Some(b"2".to_vec().into()));
/// # Ok::<(), hamt_store::StoreError>(())
/// ```
pub fn gc<B: Blockstore + ?Sized>(
    store: &B,
    live_roots: impl IntoIterator<Item = impl Borrow<Cid>>,
) -> Result<GcStats, StoreError> {
    let roots: Vec<Cid> = live_roots.into_iter().map(|root| *root.borrow()).collect();
    // Listing first means that a block written while the walk runs is never a candidate for deletion.
    let stored: HashSet<Cid> = store.list()?.into_iter().collect();
    let mut live: HashSet<Cid> = HashSet::new();
    walk(store, &roots, Values::Name, |cid, _| {
        // Nodes were read, so they are there; a value is only named, so its presence is checked here.
        if !stored.contains(cid) {
            return Err(StoreError::MissingBlock { cid: Box::new(*cid) });
        }
        live.insert(*cid);
        Ok(())
    })?;
    let dead: Vec<Cid> = stored.iter().filter(|cid| !live.contains(cid)).copied().collect();
    if !dead.is_empty() {
        store.delete(&dead)?;
    }
    Ok(GcStats { kept: stored.len() - dead.len(), deleted: dead.len() })
}

/// Whether [`walk`] reads value blocks or only names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Values {
    /// Value blocks are passed to the visitor by id alone, without being read.
    Name,
    /// Value blocks are read, checked against their ids, and passed with their bytes.
    Read,
}

/// Visits every block that `roots` reach, level by level from the roots down: at each level the nodes in the order
/// they were found (each with its bytes), then the values those nodes name, in slot and bucket order.
///
/// Every node is read, checked against its id and decoded at its path, so that a key in the wrong slot or a trie
/// deeper than 32 levels is found. A node reached twice is visited once, and so is a value; a block that serves as
/// both (the same id named as a value and linked as a node) is visited once as each.
///
/// Reads go through `get_many` in batches of at most [`BATCH`] blocks, so that stores with latency fetch each level
/// concurrently.
pub(crate) fn walk<B, E>(
    store: &B,
    roots: &[Cid],
    values: Values,
    mut visit: impl FnMut(&Cid, Option<&[u8]>) -> Result<(), E>,
) -> Result<(), E>
where
    B: Blockstore + ?Sized,
    E: From<StoreError>,
{
    let mut nodes_seen: HashSet<Cid> = HashSet::new();
    let mut values_seen: HashSet<Cid> = HashSet::new();
    let mut level: Vec<(Cid, Vec<u8>)> =
        roots.iter().filter(|root| nodes_seen.insert(**root)).map(|root| (*root, Vec::new())).collect();
    while !level.is_empty() {
        let mut next = Vec::new();
        for chunk in level.chunks(BATCH) {
            let cids: Vec<Cid> = chunk.iter().map(|(cid, _)| *cid).collect();
            let blocks = store.get_many(&cids)?;
            let mut found_values = Vec::new();
            for ((cid, path), bytes) in chunk.iter().zip(blocks) {
                let bytes = checked_block(cid, bytes)?;
                let node = Node::decode(&bytes, path).map_err(|error| StoreError::bad_node(Some(*cid), error))?;
                visit(cid, Some(&bytes))?;
                for (index, slot) in node.slots() {
                    match slot {
                        SlotRef::Bucket(entries) => found_values
                            .extend(entries.iter().map(|(_, value)| *value).filter(|value| values_seen.insert(*value))),
                        SlotRef::Link(child) => {
                            if nodes_seen.insert(*child) {
                                let mut child_path = Vec::with_capacity(path.len() + 1);
                                child_path.extend_from_slice(path);
                                child_path.push(index);
                                next.push((*child, child_path));
                            }
                        }
                        // A node decoded from bytes holds no unflushed children.
                        SlotRef::Unflushed(_) => {}
                    }
                }
            }
            match values {
                Values::Name => found_values.iter().try_for_each(|value| visit(value, None))?,
                Values::Read => {
                    for batch in found_values.chunks(BATCH) {
                        for (cid, bytes) in batch.iter().zip(store.get_many(batch)?) {
                            visit(cid, Some(&checked_block(cid, bytes)?))?;
                        }
                    }
                }
            }
        }
        level = next;
    }
    Ok(())
}
