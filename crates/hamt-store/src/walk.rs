//! Walks over stored maps: their entries in hash order, and the differences between two of them.

use std::collections::VecDeque;
use std::sync::Arc;

use cid::Cid;

use crate::format::{Node, Slot};
use crate::{Blockstore, StoreError, StoredMap, Value};

/// A node being walked: which slot comes next, and which entry of that slot's bucket.
#[derive(Debug)]
struct Frame {
    node: Arc<Node>,
    slot: usize,
    entry: usize,
}

/// Every key of a [`StoredMap`] (or of one subtree) with the id of its value block, in hash order, from
/// [`StoredMap::links`]. Holds one node per level of the trie.
///
/// After an error (a missing or damaged block), the iteration ends.
///
/// # Examples
///
/// See [`StoredMap::links`].
#[derive(Debug)]
pub struct Links<'a, B> {
    map: &'a StoredMap<B>,
    stack: Vec<Frame>,
    /// The slot indices from the root to the node on top of the stack.
    path: Vec<u8>,
    /// The root node, until the first call reads it.
    start: Option<Result<Arc<Node>, ()>>,
}

impl<'a, B: Blockstore> Links<'a, B> {
    pub(crate) fn new(map: &'a StoredMap<B>) -> Self {
        Self { map, stack: Vec::new(), path: Vec::new(), start: Some(Err(())) }
    }

    /// The walk of the subtree whose root is `node`, at `path`.
    fn subtree(map: &'a StoredMap<B>, node: Arc<Node>, path: Vec<u8>) -> Self {
        let mut links = Self { map, stack: Vec::new(), path, start: None };
        links.enter(node);
        links
    }

    fn enter(&mut self, node: Arc<Node>) {
        // Read the node's stored children in one batch, which object stores fetch concurrently. A failure here is
        // reported when the walk reaches the child that failed.
        let children: Vec<(Cid, Vec<u8>)> = node
            .slots
            .iter()
            .filter_map(|(index, slot)| match slot {
                Slot::Link(link) => {
                    let mut path = self.path.clone();
                    path.push(*index);
                    Some((link.cid, path))
                }
                _ => None,
            })
            .collect();
        let _ = self.map.prefetch(&children);
        self.stack.push(Frame { node, slot: 0, entry: 0 });
    }

    fn fail(&mut self, error: StoreError) -> Option<Result<(String, Cid), StoreError>> {
        self.stack.clear();
        Some(Err(error))
    }
}

impl<B: Blockstore> Iterator for Links<'_, B> {
    type Item = Result<(String, Cid), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.start.take().is_some() {
            match self.map.root_node() {
                Ok(root) => self.enter(root),
                Err(error) => return self.fail(error),
            }
        }
        loop {
            let frame = self.stack.last_mut()?;
            let Some((index, slot)) = frame.node.slots.get(frame.slot) else {
                self.stack.pop();
                self.path.pop();
                continue;
            };
            let index = *index;
            let child = match slot {
                Slot::Bucket(entries) => {
                    if let Some((key, cid)) = entries.get(frame.entry) {
                        frame.entry += 1;
                        return Some(Ok((key.clone(), *cid)));
                    }
                    frame.slot += 1;
                    frame.entry = 0;
                    continue;
                }
                Slot::Link(link) => {
                    let cid = link.cid;
                    frame.slot += 1;
                    self.path.push(index);
                    match self.map.load_node(&cid, &self.path) {
                        Ok(loaded) => Arc::clone(&loaded.node),
                        Err(error) => return self.fail(error),
                    }
                }
                Slot::Dirty(child) => {
                    let child = Arc::clone(child);
                    frame.slot += 1;
                    self.path.push(index);
                    child
                }
            };
            self.enter(child);
        }
    }
}

/// Every entry of a [`StoredMap`], values read as the walk reaches them, from [`StoredMap::iter`].
///
/// # Examples
///
/// See [`StoredMap::iter`].
#[derive(Debug)]
pub struct Iter<'a, B> {
    links: Links<'a, B>,
}

impl<'a, B: Blockstore> Iter<'a, B> {
    pub(crate) fn new(map: &'a StoredMap<B>) -> Self {
        Self { links: Links::new(map) }
    }
}

impl<B: Blockstore> Iterator for Iter<'_, B> {
    type Item = Result<(String, Value), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        let link = self.links.next()?;
        Some(link.and_then(|(key, cid)| Ok((key, self.links.map.value(&cid)?))))
    }
}

/// Every key of a [`StoredMap`], from [`StoredMap::keys`].
///
/// # Examples
///
/// See [`StoredMap::keys`].
#[derive(Debug)]
pub struct Keys<'a, B> {
    links: Links<'a, B>,
}

impl<'a, B: Blockstore> Keys<'a, B> {
    pub(crate) fn new(map: &'a StoredMap<B>) -> Self {
        Self { links: Links::new(map) }
    }
}

impl<B: Blockstore> Iterator for Keys<'_, B> {
    type Item = Result<String, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(self.links.next()?.map(|(key, _)| key))
    }
}

/// One difference between two stored maps, from [`StoredMap::diff`]. Values are the ids of their blocks.
///
/// # Examples
///
/// See [`StoredMap::diff`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DiffItem {
    /// The key is only in the second map.
    Added(String, Cid),
    /// The key is only in the first map.
    Removed(String, Cid),
    /// The key is in both maps, with different values.
    Changed {
        /// The key.
        key: String,
        /// Its value in the first map.
        old: Cid,
        /// Its value in the second map.
        new: Cid,
    },
}

impl DiffItem {
    /// The key this difference is about.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::{DiffItem, RAW, block_cid};
    ///
    /// assert_eq!(DiffItem::Added("k".to_owned(), block_cid(RAW, b"v")).key(), "k");
    /// ```
    #[must_use]
    pub fn key(&self) -> &str {
        match self {
            DiffItem::Added(key, _) | DiffItem::Removed(key, _) | DiffItem::Changed { key, .. } => key,
        }
    }
}

/// What remains to compare.
#[derive(Debug)]
enum Task<'a, B> {
    /// Two nodes at the same path: their slots, merged by index.
    Nodes { old: Arc<Node>, new: Arc<Node>, path: Vec<u8>, old_slot: usize, new_slot: usize },
    /// A subtree on one side against the bucket (or nothing) in the same slot on the other.
    Subtree { walk: Links<'a, B>, walk_is_new: bool, bucket: Vec<(String, Cid)>, seen: Vec<bool> },
}

/// The differences between two stored maps, computed lazily, from [`StoredMap::diff`]. Subtrees whose ids are
/// equal are never read.
///
/// After an error (a missing or damaged block), the iteration ends.
///
/// # Examples
///
/// See [`StoredMap::diff`].
#[derive(Debug)]
pub struct Diff<'a, B> {
    old: &'a StoredMap<B>,
    new: &'a StoredMap<B>,
    tasks: Vec<Task<'a, B>>,
    ready: VecDeque<DiffItem>,
    started: bool,
}

impl<'a, B: Blockstore> Diff<'a, B> {
    pub(crate) fn new(old: &'a StoredMap<B>, new: &'a StoredMap<B>) -> Self {
        Self { old, new, tasks: Vec::new(), ready: VecDeque::new(), started: false }
    }

    fn child(map: &StoredMap<B>, slot: Option<&Slot>, path: &[u8]) -> Result<Option<Arc<Node>>, StoreError> {
        Ok(match slot {
            Some(Slot::Link(link)) => Some(Arc::clone(&map.child(link, path)?.node)),
            Some(Slot::Dirty(node)) => Some(Arc::clone(node)),
            Some(Slot::Bucket(_)) | None => None,
        })
    }

    /// Compares slot `index` of the two nodes at `path`.
    fn compare(&mut self, old: Option<&Slot>, new: Option<&Slot>, path: Vec<u8>) -> Result<(), StoreError> {
        match (old, new) {
            (Some(Slot::Link(a)), Some(Slot::Link(b))) if a == b => return Ok(()),
            (Some(Slot::Dirty(a)), Some(Slot::Dirty(b))) if Arc::ptr_eq(a, b) => return Ok(()),
            _ => {}
        }
        let bucket = |slot: Option<&Slot>| match slot {
            Some(Slot::Bucket(entries)) => entries.clone(),
            _ => Vec::new(),
        };
        match (Self::child(self.old, old, &path)?, Self::child(self.new, new, &path)?) {
            (Some(old), Some(new)) => {
                self.tasks.push(Task::Nodes { old, new, path, old_slot: 0, new_slot: 0 });
            }
            (Some(node), None) => {
                let bucket = bucket(new);
                let seen = vec![false; bucket.len()];
                let walk = Links::subtree(self.old, node, path);
                self.tasks.push(Task::Subtree { walk, walk_is_new: false, bucket, seen });
            }
            (None, Some(node)) => {
                let bucket = bucket(old);
                let seen = vec![false; bucket.len()];
                let walk = Links::subtree(self.new, node, path);
                self.tasks.push(Task::Subtree { walk, walk_is_new: true, bucket, seen });
            }
            (None, None) => {
                let (old, new) = (bucket(old), bucket(new));
                for (key, old_cid) in &old {
                    match new.iter().find(|(candidate, _)| candidate == key) {
                        Some((_, new_cid)) if new_cid != old_cid => {
                            self.ready.push_back(DiffItem::Changed { key: key.clone(), old: *old_cid, new: *new_cid })
                        }
                        Some(_) => {}
                        None => self.ready.push_back(DiffItem::Removed(key.clone(), *old_cid)),
                    }
                }
                for (key, new_cid) in new {
                    if !old.iter().any(|(candidate, _)| *candidate == key) {
                        self.ready.push_back(DiffItem::Added(key, new_cid));
                    }
                }
            }
        }
        Ok(())
    }

    /// Takes the next step of the task on top; `Ok(false)` when no task is left.
    fn step(&mut self) -> Result<bool, StoreError> {
        let Some(task) = self.tasks.last_mut() else { return Ok(false) };
        match task {
            Task::Nodes { old, new, path, old_slot, new_slot } => {
                let old_next = old.slots.get(*old_slot);
                let new_next = new.slots.get(*new_slot);
                let index = match (old_next, new_next) {
                    (None, None) => {
                        self.tasks.pop();
                        return Ok(true);
                    }
                    (Some((a, _)), Some((b, _))) => (*a).min(*b),
                    (Some((index, _)), None) | (None, Some((index, _))) => *index,
                };
                // The slots are compared through handles of the two nodes, so that nothing in them is copied.
                let old_here = old_next.is_some_and(|(slot, _)| *slot == index).then_some((Arc::clone(old), *old_slot));
                let new_here = new_next.is_some_and(|(slot, _)| *slot == index).then_some((Arc::clone(new), *new_slot));
                *old_slot += usize::from(old_here.is_some());
                *new_slot += usize::from(new_here.is_some());
                let mut child_path = path.clone();
                child_path.push(index);
                let old_slot_here = old_here.as_ref().map(|(node, at)| &node.slots[*at].1);
                let new_slot_here = new_here.as_ref().map(|(node, at)| &node.slots[*at].1);
                self.compare(old_slot_here, new_slot_here, child_path)?;
            }
            Task::Subtree { walk, walk_is_new, bucket, seen } => match walk.next() {
                Some(Ok((key, cid))) => match bucket.iter().position(|(candidate, _)| *candidate == key) {
                    Some(found) => {
                        seen[found] = true;
                        let other = bucket[found].1;
                        if other != cid {
                            let (old, new) = if *walk_is_new { (other, cid) } else { (cid, other) };
                            self.ready.push_back(DiffItem::Changed { key, old, new });
                        }
                    }
                    None if *walk_is_new => self.ready.push_back(DiffItem::Added(key, cid)),
                    None => self.ready.push_back(DiffItem::Removed(key, cid)),
                },
                Some(Err(error)) => return Err(error),
                None => {
                    for ((key, cid), seen) in bucket.drain(..).zip(seen.iter()) {
                        if !seen {
                            self.ready.push_back(if *walk_is_new {
                                DiffItem::Removed(key, cid)
                            } else {
                                DiffItem::Added(key, cid)
                            });
                        }
                    }
                    self.tasks.pop();
                }
            },
        }
        Ok(true)
    }
}

impl<B: Blockstore> Iterator for Diff<'_, B> {
    type Item = Result<DiffItem, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if !self.started {
            self.started = true;
            match (self.old.root_node(), self.new.root_node()) {
                (Ok(old), Ok(new)) => {
                    if !Arc::ptr_eq(&old, &new) {
                        self.tasks.push(Task::Nodes { old, new, path: Vec::new(), old_slot: 0, new_slot: 0 });
                    }
                }
                (Err(error), _) | (_, Err(error)) => return Some(Err(error)),
            }
        }
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Some(Ok(item));
            }
            match self.step() {
                Ok(true) => {}
                Ok(false) => return None,
                Err(error) => {
                    self.tasks.clear();
                    return Some(Err(error));
                }
            }
        }
    }
}
