//! The memory of trie nodes: the only module of this crate with `unsafe` code.
//!
//! A node is one allocation:
//!
//! ```text
//! bitmap node:    [ count | spare | datamap | nodemap ][ child × popcount(nodemap) ][ (K, V) × popcount(datamap) ]
//! collision node: [ count | spare |    0    |    0    ][ len: usize               ][ (K, V) × len               ]
//! ```
//!
//! The block is exactly what the shape needs plus `spare` bytes, which only in-place removals leave (see
//! [`NodeMut::reshape_in_place`]); every free uses the block's layout, shape and spare bytes together.
//!
//! A bitmap node is never empty (the empty map has no root), so `datamap == 0 && nodemap == 0` marks a collision
//! node without a type tag. Every length this module reads is derived from the header of the node it reads, so no
//! mistake in the safe trie algorithms can make it read or write out of bounds: the worst such a mistake can do is
//! build a trie of the wrong shape, which the invariant checker reports, or panic. What makes this hold:
//! - A [`Shape`] can only be made by [`Shape::bitmap`] (entries = `popcount(datamap)`) or [`Shape::collision`],
//!   so the layout a node is allocated with is the one its header describes when read back.
//! - Positions given by the caller are checked before they are used: a `bit` argument must have exactly one bit
//!   set (checked where it selects a slot to read or move: `entry_at_bit`, `child_at_bit` and the `into_` forms
//!   by masking it to its lowest set bit, `push_down` and `pull_up` by an assertion), edits are checked against
//!   the node's shape (`edit` asserts, `copy_edited` indexes slices), and a `Builder` counts what it is given.
//! - The private helpers that take raw positions (`move_edited`, `resize_entries`) are called only after those
//!   checks, and say so in their contracts.
//!
//! The safe interface is small:
//! - [`Node`] is a counted handle. Cloning it adds a reference; dropping the last one drops the entries and children
//!   and frees the memory.
//! - [`Builder`] writes a new node slot by slot and cleans up if a `Clone` panics half way.
//! - [`NodeMut`] is proof that a handle is the only one, and gives mutable access and in-place reshaping.
//! - [`Drain`] moves the entries and children out of a node that is no longer shared.
#![allow(unsafe_code)]

use alloc::alloc::{Layout, alloc, dealloc, handle_alloc_error};
use core::marker::PhantomData;
use core::mem::{align_of, size_of};
use core::ptr::{self, NonNull};
use core::slice;

use crate::kind::PointerKind;
use crate::kind::sealed::RefCount;
use crate::map::HamtMap;

/// The fixed part of every node: 16 bytes with the 32-bit counts of every kind. Aligned like a `u64` so that the
/// prefix after it (child pointers, or a collision node's length) is aligned on every target.
#[repr(C, align(8))]
struct Header<C> {
    count: C,
    /// Bytes allocated beyond what the shape needs: room a removal left, which later growth uses before it
    /// allocates (see [`NodeMut::reshape_in_place`]). Zero for every node that no in-place removal has shrunk.
    spare: u32,
    datamap: u32,
    nodemap: u32,
}

/// What a node holds, from which its layout follows.
///
/// The fields are private so that every shape comes from [`Shape::bitmap`] or [`Shape::collision`]: a bitmap
/// shape's entry count is always `popcount(datamap)`, which is what a node's header gives back when it is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    datamap: u32,
    nodemap: u32,
    /// The number of entries: `popcount(datamap)` for a bitmap node, the stored length for a collision node.
    entries: usize,
    /// The number of children: `popcount(nodemap)`, zero for a collision node.
    children: usize,
}

impl Shape {
    /// The shape of a bitmap node with these bitmaps.
    #[inline]
    pub(crate) fn bitmap(datamap: u32, nodemap: u32) -> Shape {
        Shape::counted(datamap, nodemap, BitCounter::NATIVE)
    }

    /// [`bitmap`](Self::bitmap), counting with `counter`: for the code that does not run in a copy compiled with
    /// POPCNT (see [`with_popcnt`]), such as the path copies of persistent updates and the freeing of nodes.
    #[inline(always)]
    pub(crate) fn counted(datamap: u32, nodemap: u32, counter: BitCounter) -> Shape {
        Shape { datamap, nodemap, entries: counter.count(datamap) as usize, children: counter.count(nodemap) as usize }
    }

    /// The shape of a collision node with `entries` entries.
    #[inline]
    pub(crate) fn collision(entries: usize) -> Shape {
        Shape { datamap: 0, nodemap: 0, entries, children: 0 }
    }

    #[inline]
    pub(crate) fn is_collision(self) -> bool {
        self.datamap == 0 && self.nodemap == 0
    }

    #[inline]
    pub(crate) fn children(self) -> usize {
        self.children
    }

    /// The number of pointer-sized words between the header and the entries.
    #[inline]
    fn prefix_words(self) -> usize {
        if self.is_collision() { 1 } else { self.children() }
    }
}

/// Byte offsets and the allocation layout of a node of entry type `E` and header `H`.
struct NodeLayout {
    layout: Layout,
    entries_offset: usize,
}

#[inline]
fn node_layout<H, E>(shape: Shape) -> NodeLayout {
    // The prefix holds child pointers (each the size of a `usize`) or a collision node's length.
    let header = Layout::new::<H>();
    let prefix = Layout::array::<usize>(shape.prefix_words()).expect("hamt: node too large");
    let entries = Layout::array::<E>(shape.entries).expect("hamt: node too large");
    let (with_prefix, _) = header.extend(prefix).expect("hamt: node too large");
    let (layout, entries_offset) = with_prefix.extend(entries).expect("hamt: node too large");
    NodeLayout { layout: layout.pad_to_align(), entries_offset }
}

/// Where the entries start: `node_layout(shape).entries_offset`, computed with plain arithmetic for the lookup
/// path (a debug assertion checks the two agree).
#[inline]
fn entries_offset<H, E>(shape: Shape) -> usize {
    let align = align_of::<E>();
    let offset = (size_of::<H>() + shape.prefix_words() * size_of::<usize>() + align - 1) & !(align - 1);
    debug_assert_eq!(offset, node_layout::<H, E>(shape).entries_offset);
    offset
}

/// The offset of the prefix (children or collision length) from the start of a node: right after the header, whose
/// size depends on the count type (16 bytes for `Cell<u32>` and `AtomicU32`, more for loom's model atomics).
const fn prefix_offset<C>() -> usize {
    size_of::<Header<C>>()
}

/// A counted handle to a trie node.
#[repr(transparent)]
pub(crate) struct Node<K, V, P: PointerKind> {
    ptr: NonNull<Header<P::Count>>,
    marker: PhantomData<(K, V)>,
}

impl<K, V, P: PointerKind> Node<K, V, P> {
    #[inline]
    fn header(&self) -> &Header<P::Count> {
        // SAFETY: a `Node` always points to a live, initialized header: the allocation is freed only when the last
        // handle drops, and this handle is alive for the duration of the borrow.
        unsafe { self.ptr.as_ref() }
    }

    #[inline]
    pub(crate) fn datamap(&self) -> u32 {
        self.header().datamap
    }

    /// The layout this node's block was allocated with (or last resized to): the layout of its shape, which must
    /// be `shape`, plus the spare bytes its header records.
    #[inline]
    fn block_layout(&self, shape: Shape) -> Layout {
        self.block_layout_of(node_layout::<Header<P::Count>, (K, V)>(shape).layout)
    }

    /// [`block_layout`](Self::block_layout), from the layout of this node's shape.
    #[inline]
    fn block_layout_of(&self, exact: Layout) -> Layout {
        // SAFETY: the alignment is a valid layout's, and the size is that of a block the allocator gave this node
        // (its shape's size plus the spare bytes recorded when the block was kept larger), so it does not overflow
        // `isize` when rounded up to the alignment.
        unsafe { Layout::from_size_align_unchecked(exact.size() + self.header().spare as usize, exact.align()) }
    }

    #[inline]
    pub(crate) fn nodemap(&self) -> u32 {
        self.header().nodemap
    }

    #[inline]
    pub(crate) fn is_collision(&self) -> bool {
        self.shape().is_collision()
    }

    /// The shape of this node, read from its header.
    #[inline]
    pub(crate) fn shape(&self) -> Shape {
        self.shape_counted(BitCounter::NATIVE)
    }

    /// [`shape`](Self::shape), counting with `counter` (see [`Shape::counted`]).
    #[inline]
    pub(crate) fn shape_counted(&self, counter: BitCounter) -> Shape {
        let header = self.header();
        if header.datamap == 0 && header.nodemap == 0 {
            Shape::collision(self.collision_len())
        } else {
            Shape::counted(header.datamap, header.nodemap, counter)
        }
    }

    /// The length of a collision node (one whose bitmaps are both zero).
    #[inline]
    fn collision_len(&self) -> usize {
        debug_assert!(self.header().datamap == 0 && self.header().nodemap == 0);
        // SAFETY: a collision node stores its length as an initialized `usize` right after the header, which is
        // `usize`-aligned because the header's alignment is at least that of `usize`; the caller checked that this
        // is a collision node (and a bitmap node's prefix is its children, at least one `usize`-sized word, since
        // a bitmap node is never empty: the read stays inside the allocation either way).
        unsafe { self.ptr.cast::<u8>().add(prefix_offset::<P::Count>()).cast::<usize>().read() }
    }

    #[inline]
    fn children_ptr(&self) -> *mut Node<K, V, P> {
        // SAFETY: the prefix starts inside the allocation, right after the header.
        unsafe { self.ptr.cast::<u8>().add(prefix_offset::<P::Count>()).cast::<Node<K, V, P>>().as_ptr() }
    }

    #[inline]
    fn entries_ptr(&self, shape: Shape) -> *mut (K, V) {
        let offset = entries_offset::<Header<P::Count>, (K, V)>(shape);
        // SAFETY: `shape` is this node's shape, so `offset` is where its entries start, inside the allocation (or
        // one past its end when there are no entries, which is still in bounds for `add`).
        unsafe { self.ptr.cast::<u8>().add(offset).cast::<(K, V)>().as_ptr() }
    }

    /// The entries stored inline in this node, in bit order (collision nodes: in insertion order).
    #[inline]
    pub(crate) fn entries(&self) -> &[(K, V)] {
        let shape = self.shape();
        // SAFETY: the node holds `shape.entries` initialized entries at `entries_ptr`, properly aligned, and they
        // are not mutated while shared borrows of this handle exist (mutation needs `NodeMut`, which borrows the
        // handle mutably).
        unsafe { slice::from_raw_parts(self.entries_ptr(shape), shape.entries) }
    }

    /// The child nodes, in bit order. Empty for a collision node.
    #[inline]
    pub(crate) fn children(&self) -> &[Node<K, V, P>] {
        let len = if self.is_collision() { 0 } else { self.nodemap().count_ones() as usize };
        // SAFETY: a bitmap node holds `popcount(nodemap)` initialized child handles right after the header,
        // aligned for pointers; a collision node has none.
        unsafe { slice::from_raw_parts(self.children_ptr(), len) }
    }

    /// The entries and the children of this node, read from one look at its header with every count made by
    /// `counter`: the walk's view of a node ([`entries`](Self::entries) and [`children`](Self::children) each read
    /// the header and count with `u32::count_ones`, which the default x86-64 target compiles to a dozen
    /// instructions).
    #[inline(always)]
    pub(crate) fn contents(&self, counter: BitCounter) -> Contents<'_, K, V, P> {
        // SAFETY: the counts are exact whichever way `counter` counts, so this is the node's shape.
        unsafe { self.contents_in(self.shape_counted(counter)) }
    }

    /// The shape of this node, read from its header, and its [`contents`](Self::contents): one read of the
    /// header and one count of each bitmap for both.
    #[inline]
    pub(crate) fn shaped_contents(&self, counter: BitCounter) -> (Shape, Contents<'_, K, V, P>) {
        let shape = self.shape_counted(counter);
        // SAFETY: the counts are exact whichever way `counter` counts, so this is the node's shape.
        (shape, unsafe { self.contents_in(shape) })
    }

    /// [`contents`](Self::contents), given the node's shape.
    ///
    /// # Safety
    /// `shape` is this node's shape.
    #[inline]
    unsafe fn contents_in(&self, shape: Shape) -> Contents<'_, K, V, P> {
        // SAFETY: as the caller promises, the node holds `shape.entries` initialized entries at `entries_ptr(shape)`
        // and `shape.children` initialized child handles after the header. Neither is mutated while shared borrows
        // of this handle exist (mutation needs `NodeMut`).
        unsafe {
            (
                slice::from_raw_parts(self.entries_ptr(shape), shape.entries),
                slice::from_raw_parts(self.children_ptr(), shape.children),
            )
        }
    }

    /// The entry stored at `bit` of a bitmap node, if `datamap` has that bit.
    #[inline]
    pub(crate) fn entry_at_bit(&self, bit: u32) -> Option<&(K, V)> {
        let bit = lowest_bit(bit);
        let header = self.header();
        if header.datamap & bit == 0 {
            return None;
        }
        let index = index_of(header.datamap, bit);
        let shape = Shape::bitmap(header.datamap, header.nodemap);
        // SAFETY: `datamap` is non-zero, so this is a bitmap node of exactly this shape, and `index` counts the set
        // bits below a set bit, so it is less than `popcount(datamap)`, the number of initialized entries.
        unsafe { Some(&*self.entries_ptr(shape).add(index)) }
    }

    /// Where the slot at `bit` of a bitmap node is, and what it holds, with every count (the slot's position and
    /// the length of the children array that the entries follow) made by `counter`: the one reading of a slot's
    /// address, which [`slot_at_bit`](Self::slot_at_bit) and [`NodeMut::into_slot_at_bit`] turn into references.
    /// A pointer it returns is to an initialized entry or child of this node.
    #[inline(always)]
    fn slot_ptr(&self, bit: u32, counter: BitCounter) -> SlotPtr<K, V, P> {
        let bit = lowest_bit(bit);
        let header = self.header();
        if header.datamap & bit != 0 {
            let index = counter.index_of(header.datamap, bit);
            let children = counter.count(header.nodemap) as usize;
            let align = align_of::<(K, V)>();
            let offset = (size_of::<Header<P::Count>>() + children * size_of::<usize>() + align - 1) & !(align - 1);
            // SAFETY: `datamap` has `bit`, so this is a bitmap node: its entries start after the header and its
            // `popcount(nodemap)` children, at `offset` (the arithmetic of `entries_offset`), and `index` counts the
            // set bits of `datamap` below a set bit, so it is below `popcount(datamap)`, the number of initialized
            // entries. Both counts are exact whichever way `counter` counts, so the address is inside the block.
            return SlotPtr::Entry(unsafe { self.ptr.cast::<u8>().add(offset).cast::<(K, V)>().as_ptr().add(index) });
        }
        if header.nodemap & bit != 0 {
            let index = counter.index_of(header.nodemap, bit);
            // SAFETY: `nodemap` has `bit`, so this is a bitmap node with `popcount(nodemap)` initialized children
            // and `index` is below that.
            return SlotPtr::Child(unsafe { self.children_ptr().add(index) });
        }
        SlotPtr::Empty
    }

    /// The child in slot `digit` (`0..32`) of a full node, one whose 32 slots all hold children (`nodemap` all
    /// ones), or `None` for any other node.
    ///
    /// In a full node a slot's position is its digit, so the lookup can read the child without counting bits: the
    /// address depends only on the node's, and once the processor predicts the test of `nodemap` (the levels near
    /// the root of a large map are full, level after level) it loads the child while the header is still on its
    /// way. That takes one of the two dependent loads per level (header, then slot) off the lookup's critical path,
    /// where an array-mapped trie such as CPython's HAMT, which stores its large nodes uncompressed, has only one.
    #[inline(always)]
    pub(crate) fn full_child(&self, digit: u32) -> Option<&Node<K, V, P>> {
        if self.header().nodemap != u32::MAX {
            return None;
        }
        // SAFETY: `nodemap` has all 32 bits, so this is a bitmap node with 32 initialized children (a collision
        // node's `nodemap` is zero), and `digit % 32` is below 32. They live, unchanged, as long as the shared
        // borrow of the handle.
        unsafe { Some(&*self.children_ptr().add((digit % 32) as usize)) }
    }

    /// What the slot at `bit` of a bitmap node holds: the lookup's read of one level, with every count made by
    /// `counter` (see [`slot_ptr`](Self::slot_ptr)).
    #[inline(always)]
    pub(crate) fn slot_at_bit(&self, bit: u32, counter: BitCounter) -> Slot<'_, K, V, P> {
        // SAFETY: `slot_ptr` points at an initialized entry or child of this node, which lives, unchanged, as long
        // as the shared borrow of the handle.
        unsafe {
            match self.slot_ptr(bit, counter) {
                SlotPtr::Entry(entry) => Slot::Entry(&*entry),
                SlotPtr::Child(child) => Slot::Child(&*child),
                SlotPtr::Empty => Slot::Empty,
            }
        }
    }

    /// What the slot at `bit` of a bitmap node holds (see [`slot_at_bit`](Self::slot_at_bit)).
    #[inline]
    pub(crate) fn slot(&self, bit: u32) -> Slot<'_, K, V, P> {
        self.slot_at_bit(bit, BitCounter::new())
    }

    /// The child stored at `bit` of a bitmap node, if `nodemap` has that bit.
    #[inline]
    pub(crate) fn child_at_bit(&self, bit: u32) -> Option<&Node<K, V, P>> {
        let bit = lowest_bit(bit);
        let nodemap = self.header().nodemap;
        if nodemap & bit == 0 {
            return None;
        }
        let index = index_of(nodemap, bit);
        // SAFETY: `nodemap` has `bit`, so this is a bitmap node with `popcount(nodemap)` children and `index` is
        // less than that.
        unsafe { Some(&*self.children_ptr().add(index)) }
    }

    /// Asks the processor to start loading the node's header into the cache, so that a walk that will visit it
    /// soon overlaps the memory latency with other work. A hint only: it has no effect on the program's meaning.
    #[inline(always)]
    pub(crate) fn prefetch(&self) {
        #[cfg(all(target_arch = "x86_64", not(miri)))]
        // SAFETY: `_mm_prefetch` needs SSE, which every x86-64 processor has; a prefetch never faults, whatever
        // the address, and this one is of a live node.
        unsafe {
            core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(self.ptr.as_ptr().cast());
        }
    }

    /// Asks the processor to start loading cache line `line` of the node: the 64 bytes from `64 * line` bytes after
    /// the node's start. A hint only, as [`prefetch`](Self::prefetch).
    ///
    /// A lookup reads a node's header, then one slot whose position the header gives. In the nodes a lookup ends
    /// in (a few entries) and those just above them (a few dozen slots), that slot is mostly within the node's
    /// first 128 bytes; asking for the second line (`line == 1`) as soon as the walk knows the node's address makes
    /// the two reads overlap, where the slot's read would otherwise start only once the header has arrived. In a
    /// trie that fits the cache, the second line would only evict a line a later lookup needs: there the walk asks
    /// for the first (`line == 0`), which it reads next anyway, at the cost of one instruction, and without a test
    /// at every level.
    #[inline(always)]
    pub(crate) fn prefetch_line(&self, line: usize) {
        #[cfg(all(target_arch = "x86_64", not(miri)))]
        // SAFETY: as in `prefetch`: SSE is always there and a prefetch never faults. The address may lie past the
        // end of a small node's block; `wrapping_add` makes it without claiming it is inside the allocation.
        unsafe {
            core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(
                self.ptr.as_ptr().cast::<u8>().wrapping_add(64 * line).cast(),
            );
        }
        #[cfg(not(all(target_arch = "x86_64", not(miri))))]
        let _ = line;
    }

    /// The last node of the chain this node starts, if the chain holds only entries at its end: following the
    /// only child of nodes that hold one child and nothing else, the first node with no children. `None` if a node
    /// on the way holds anything else. A subtree holds exactly two entries if and only if its chain ends in a node
    /// of two entries (canonical form).
    #[inline]
    pub(crate) fn chain_end(&self) -> Option<&Self> {
        self.chain_end_if(|_| true)
    }

    /// [`chain_end`](Self::chain_end), if every node of the chain is unshared (this handle's node included).
    pub(crate) fn unshared_chain_end(&self) -> Option<&Self> {
        self.chain_end_if(Self::is_unique)
    }

    /// [`chain_end`](Self::chain_end), if every node of the chain passes `node_qualifies`.
    #[inline]
    fn chain_end_if(&self, node_qualifies: impl Fn(&Self) -> bool) -> Option<&Self> {
        let mut node = self;
        loop {
            if !node_qualifies(node) {
                return None;
            }
            let header = node.header();
            if header.nodemap == 0 {
                return Some(node);
            }
            if header.datamap != 0 || !header.nodemap.is_power_of_two() {
                return None;
            }
            node = &node.children()[0];
        }
    }

    /// Whether this handle is the only one to its node.
    #[inline]
    pub(crate) fn is_unique(&self) -> bool {
        self.header().count.is_unique()
    }

    /// Whether two handles point to the same node.
    #[inline]
    pub(crate) fn ptr_eq(&self, other: &Self) -> bool {
        self.ptr == other.ptr
    }

    /// Mutable access to the node, if this handle is the only one.
    #[inline]
    pub(crate) fn unique_mut(&mut self) -> Option<NodeMut<'_, K, V, P>> {
        if self.is_unique() { Some(NodeMut { node: self }) } else { None }
    }

    /// Takes the node apart if this handle is the only one, so that its entries and children can be moved out.
    pub(crate) fn into_drain(self) -> Result<Drain<K, V, P>, Self> {
        if !self.is_unique() {
            return Err(self);
        }
        let shape = self.shape();
        let ptr = self.ptr;
        core::mem::forget(self);
        Ok(Drain { ptr, shape, next_entry: 0, next_child: 0, marker: PhantomData })
    }

    /// A new node with this node's contents edited, cloning what it keeps (the path copy of a persistent update).
    ///
    /// `shape` is the shape after the edits; each edit index is a position in the old arrays for `Remove` and
    /// `Replace`, and in the new arrays for `Insert`.
    pub(crate) fn copy_edited(&self, shape: Shape, entries: Edit<(K, V)>, children: Edit<Self>) -> Self
    where
        K: Clone,
        V: Clone,
    {
        let (old_entries, old_children) = self.contents(BitCounter::new());
        let mut builder = Builder::new(shape);
        let (before, new, after) = split_edit(old_children, children);
        builder.clone_children(before);
        if let Some(child) = new {
            builder.push_child(child);
        }
        builder.clone_children(after);
        let (before, new, after) = split_edit(old_entries, entries);
        builder.clone_entries(before);
        if let Some(entry) = new {
            builder.push_entry(entry);
        }
        builder.clone_entries(after);
        builder.finish()
    }

    /// A copy of this node (of shape `shape`) with `child` in place of the child at `index`: the path copy of every
    /// level above a persistent update, where nothing else changes. `copy_edited` with `Edit::Keep` and
    /// `Edit::Replace`, without its general bookkeeping: the children are copied in one block and their counts
    /// incremented in a second pass.
    ///
    /// # Panics
    /// If `shape` is not this node's, or `index` is not one of its children; if cloning an entry panics (the copy
    /// is then dropped, and `child` with it).
    #[inline]
    pub(crate) fn copy_replacing_child(&self, shape: Shape, index: usize, child: Self) -> Self
    where
        K: Clone,
        V: Clone,
    {
        assert!(
            !shape.is_collision() && self.datamap() == shape.datamap && self.nodemap() == shape.nodemap,
            "hamt: the copy's shape is not the node's"
        );
        // SAFETY: `shape` is a bitmap shape with this node's bitmaps (checked above), and a bitmap shape's counts
        // are always its bitmaps' popcounts (`Shape`'s fields are private to its constructors), so it is this
        // node's shape.
        let (entries, children) = unsafe { self.contents_in(shape) };
        let mut builder = Builder::new(shape);
        builder.copy_children_replacing(children, index, child);
        builder.clone_entries(entries);
        builder.finish()
    }
}

/// Adds a reference to each node of `nodes`: the counting half of cloning them, for handles copied bitwise.
///
/// Four at a time: the loop's own test and step are then paid once per four nodes, of about seven instructions
/// per node (a path copy counts thirty-two at each level of a full trie).
#[inline]
fn count_handles<K, V, P: PointerKind>(nodes: &[Node<K, V, P>]) {
    let mut fours = nodes.chunks_exact(4);
    for four in &mut fours {
        for node in four {
            node.header().count.increment();
        }
    }
    for node in fours.remainder() {
        node.header().count.increment();
    }
}

/// The elements of `old` kept before an edit, the new element, and those kept after it.
fn split_edit<T>(old: &[T], edit: Edit<T>) -> (&[T], Option<T>, &[T]) {
    match edit {
        Edit::Keep => (old, None, &[]),
        Edit::Insert(index, value) => (&old[..index], Some(value), &old[index..]),
        Edit::Remove(index) => (&old[..index], None, &old[index + 1..]),
        Edit::Replace(index, value) => (&old[..index], Some(value), &old[index + 1..]),
    }
}

/// What a node that shrinks does with the bytes it no longer needs (see [`NodeMut::reshape_in_place`]).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Spare {
    /// Keep them while at least half the block stays in use: a removal, which more removals or inserts may follow.
    Keep,
    /// Give them back: every other reshape, so that maps built by inserts stay exact.
    Release,
}

/// One change to the entry or child array of a node.
pub(crate) enum Edit<T> {
    Keep,
    /// Put a new element at this index of the new array.
    Insert(usize, T),
    /// Leave out the element at this index of the old array.
    Remove(usize),
    /// Put a new element in place of the one at this index.
    Replace(usize, T),
}

impl<K, V, P: PointerKind> Clone for Node<K, V, P> {
    #[inline]
    fn clone(&self) -> Self {
        self.header().count.increment();
        Node { ptr: self.ptr, marker: PhantomData }
    }
}

#[cfg(not(hamt_may_dangle))]
impl<K, V, P: PointerKind> Drop for Node<K, V, P> {
    #[inline]
    fn drop(&mut self) {
        drop_handle(self);
    }
}

// With `--cfg hamt_may_dangle` (nightly): keys and values may hold borrows that end before the map is dropped, as
// with std's and hashbrown's maps.
// SAFETY: dropping a handle never reads a key or a value: it decrements the count and, for the last handle, drops
// the entries and children (`free_node`), which is all `#[may_dangle]` permits. `PhantomData<(K, V)>` in `Node`
// tells the drop checker that the entries are owned, so their own drops are still checked.
#[cfg(hamt_may_dangle)]
unsafe impl<#[may_dangle] K, #[may_dangle] V, P: PointerKind> Drop for Node<K, V, P> {
    #[inline]
    fn drop(&mut self) {
        drop_handle(self);
    }
}

/// The body of `Node`'s `Drop`: one reference fewer; the last one frees the node.
#[inline]
fn drop_handle<K, V, P: PointerKind>(node: &mut Node<K, V, P>) {
    if node.header().count.decrement() {
        // SAFETY: the count reached zero, so this was the last handle and nothing else can reach the node.
        unsafe { free_node::<K, V, P>(node.ptr) }
    }
}

/// Drops a node's contents and frees it.
///
/// # Safety
/// `ptr` is a fully initialized node that no handle refers to any more.
unsafe fn free_node<K, V, P: PointerKind>(ptr: NonNull<Header<P::Count>>) {
    // The node is taken apart by a `Drain`, whose `Drop` drops what is left and frees the memory even when a
    // key's or value's `Drop` panics.
    let node = Node::<K, V, P> { ptr, marker: PhantomData };
    let shape = node.shape_counted(BitCounter::new());
    core::mem::forget(node);
    drop(Drain::<K, V, P> { ptr, shape, next_entry: 0, next_child: 0, marker: PhantomData });
}

// A `Node` of a kind whose count is `Sync` (atomic) is an `Arc`-like handle, and is `Send` and `Sync` under the
// same conditions as `Arc<(K, V)>`:
// - Handles to one node may live on several threads at once, and each of them reads the node's keys and values
//   through shared references: this needs `K, V: Sync`.
// - Whichever thread drops the last handle drops the keys and values (`free_node`), and a thread whose handle is
//   unique changes them in place or moves them out (`NodeMut`, `Drain`): this needs `K, V: Send`. Exclusive access
//   in those cases is established by the count (the Acquire of `is_unique` and of the fence after the last
//   decrement pair with the Release decrements of the other handles; tests/loom.rs model-checks this).
// - Threads clone and drop handles concurrently, so the count itself must be shared safely: `P::Count: Sync`,
//   which holds for `AtomicUsize` (`ArcK`, `ArcTK`) and not for the `Cell<usize>` of `RcK`, keeping those nodes on
//   one thread. Every other header field is written only while the node is unique.
// `&Node` gives no more than a `Node` does (a clone of it is a new handle), so the bounds of `Sync` are the same.
// SAFETY: the bounds are those listed above, and each access they permit is argued there.
unsafe impl<K: Send + Sync, V: Send + Sync, P: PointerKind> Send for Node<K, V, P> where P::Count: Sync + Send {}
// SAFETY: as for `Send` above: shared handles only read through `&`, clone through the atomic count, and a clone
// may become the last handle on its thread, which the `Send` bounds on `K` and `V` cover.
unsafe impl<K: Send + Sync, V: Send + Sync, P: PointerKind> Sync for Node<K, V, P> where P::Count: Sync + Send {}

/// A unique node's entries and children, borrowed mutably.
pub(crate) type Parts<'a, K, V, P> = (&'a mut [(K, V)], &'a mut [Node<K, V, P>]);

/// A node's entries and children, borrowed.
pub(crate) type Contents<'a, K, V, P> = (&'a [(K, V)], &'a [Node<K, V, P>]);

/// What an in-place edit took out of a node: the removed or replaced entry and child.
pub(crate) type Taken<K, V, P> = (Option<(K, V)>, Option<Node<K, V, P>>);

/// Proof that a node handle is the only one: its contents may be changed in place.
pub(crate) struct NodeMut<'a, K, V, P: PointerKind> {
    node: &'a mut Node<K, V, P>,
}

impl<'a, K, V, P: PointerKind> NodeMut<'a, K, V, P> {
    /// The node's entries and children, mutably.
    #[inline]
    pub(crate) fn into_parts(self) -> Parts<'a, K, V, P> {
        let shape = self.node.shape();
        let entries = self.node.entries_ptr(shape);
        let children = self.node.children_ptr();
        let child_count = if shape.is_collision() { 0 } else { shape.children() };
        // SAFETY: the handle is unique and borrowed mutably for 'a, so nobody else can read or write the node; the
        // two arrays are initialized, aligned and do not overlap (children come before the entries).
        unsafe { (slice::from_raw_parts_mut(entries, shape.entries), slice::from_raw_parts_mut(children, child_count)) }
    }

    /// The entry stored at `bit` of a bitmap node, mutably.
    #[inline]
    pub(crate) fn into_entry_at_bit(self, bit: u32) -> Option<&'a mut (K, V)> {
        let bit = lowest_bit(bit);
        let datamap = self.node.datamap();
        if datamap & bit == 0 {
            return None;
        }
        let index = index_of(datamap, bit);
        self.into_parts().0.get_mut(index)
    }

    /// What the slot at `bit` of a bitmap node holds, mutably: [`Node::slot_at_bit`]'s read, with every count
    /// made by `counter`, of a node this handle alone holds.
    #[inline(always)]
    pub(crate) fn into_slot_at_bit(self, bit: u32, counter: BitCounter) -> SlotMut<'a, K, V, P> {
        // SAFETY: `slot_ptr` points at an initialized entry or child of this node; the handle is the only one and
        // is borrowed mutably for `'a`, so nothing else reads or writes the slot meanwhile.
        unsafe {
            match self.node.slot_ptr(bit, counter) {
                SlotPtr::Entry(entry) => SlotMut::Entry(&mut *entry),
                SlotPtr::Child(child) => SlotMut::Child(&mut *child),
                SlotPtr::Empty => SlotMut::Empty,
            }
        }
    }

    /// The child stored at `bit` of a bitmap node, mutably.
    #[inline]
    pub(crate) fn into_child_at_bit(self, bit: u32) -> Option<&'a mut Node<K, V, P>> {
        let bit = lowest_bit(bit);
        let nodemap = self.node.nodemap();
        if nodemap & bit == 0 || self.node.is_collision() {
            return None;
        }
        let index = index_of(nodemap, bit);
        self.into_parts().1.get_mut(index)
    }

    /// Reshapes the node in place, moving what it keeps into a node of the new shape; returns what the edits took
    /// out (the removed or replaced entry and child).
    ///
    /// # Panics
    /// If the edits do not turn the old shape into `shape` (a bug in the caller); the node is then left unchanged.
    #[inline]
    pub(crate) fn edit(self, shape: Shape, entries: Edit<(K, V)>, children: Edit<Node<K, V, P>>) -> Taken<K, V, P> {
        with_popcnt(
            #[inline(always)]
            move || self.edit_body(shape, entries, children),
        )
    }

    /// The body of [`edit`](Self::edit), inlined into its two copies (with and without POPCNT).
    #[inline(always)]
    fn edit_body(self, shape: Shape, entries: Edit<(K, V)>, children: Edit<Node<K, V, P>>) -> Taken<K, V, P> {
        let old_shape = self.node.shape();
        let old_children = if old_shape.is_collision() { 0 } else { old_shape.children() };
        let new_children = if shape.is_collision() { 0 } else { shape.children() };
        assert!(
            edited_len(old_shape.entries, &entries) == Some(shape.entries)
                && edited_len(old_children, &children) == Some(new_children),
            "hamt: an in-place edit does not match the node's shape"
        );
        if let (Edit::Keep, true) = (&children, old_shape.prefix_words() == shape.prefix_words()) {
            // Only the entries change and the children stay where they are: resize the allocation in place.
            return (self.resize_entries(old_shape, shape, entries), None);
        }
        let mut builder = Builder::new(shape);
        let old_entries = self.node.entries_ptr(old_shape);
        let old_child_ptr = self.node.children_ptr();
        // SAFETY: the handle is unique, so we may move the elements out; the lengths were checked against the old
        // node and the edits above, so every read is of an initialized element inside the old arrays and each
        // element is read at most once. Nothing below can panic (pushes only move values into space the builder
        // has, and the lengths match), so the old node is never observed half moved.
        let taken = unsafe {
            (
                move_edited(old_child_ptr, old_children, children, |child| builder.push_child(child)),
                move_edited(old_entries, old_shape.entries, entries, |entry| builder.push_entry(entry)),
            )
        };
        // Every element of the old node was moved out above, into the new node or the return value.
        self.replace_moved(old_shape, builder.finish());
        (taken.1, taken.0)
    }
}

impl<'a, K, V, P: PointerKind> NodeMut<'a, K, V, P> {
    /// Turns the entry at `bit` of a bitmap node into a child: `make_child` receives the entry (moved out, not
    /// cloned) and returns the subtree that takes its place, or, when it cannot allocate that subtree, the entry
    /// back (with the entry it was to be paired with) and the layout that failed.
    ///
    /// Every allocation happens before the node is changed: the new node (when the entries cannot slide in
    /// place) is allocated first, and a `make_child` that fails gets the entry put back, so that an allocation
    /// failure that unwinds (a panicking alloc-error hook) leaves the node as it was. `make_child` must not call
    /// code that can panic otherwise (it runs while the entry is out of the node); a panic there aborts the
    /// process rather than risk a double drop, and so does a failure to shrink the allocation after sliding.
    ///
    /// # Panics
    /// If `bit` is not an entry of this node.
    #[inline]
    pub(crate) fn push_down(
        self,
        bit: u32,
        make_child: impl FnOnce((K, V)) -> Result<Node<K, V, P>, Unallocated<K, V>>,
    ) {
        with_popcnt(
            #[inline(always)]
            move || self.push_down_body(bit, make_child),
        );
    }

    /// The body of [`push_down`](Self::push_down), inlined into its two copies (with and without POPCNT).
    #[inline(always)]
    fn push_down_body(mut self, bit: u32, make_child: impl FnOnce((K, V)) -> Result<Node<K, V, P>, Unallocated<K, V>>) {
        let old = self.node.shape();
        assert!(
            bit.is_power_of_two() && !old.is_collision() && old.datamap & bit != 0,
            "hamt: push_down of a missing entry"
        );
        let entry_index = index_of(old.datamap, bit);
        let child_index = index_of(old.nodemap, bit);
        let shape = Shape::bitmap(old.datamap ^ bit, old.nodemap | bit);
        let slides = slides_in_place::<K, V>();
        // Allocated before anything moves, so that a failure leaves the node untouched.
        let builder = if slides { None } else { Some(Builder::new(shape)) };
        let old_entries = self.node.entries_ptr(old);
        // SAFETY: `entry_index` is below `popcount(datamap)`, so the entry is initialized. It is read once here;
        // either it is written back below (when the child cannot be allocated) or the moves below skip it
        // (`Edit::Remove`, or the slide over its slot), so it is never dropped or moved twice.
        let entry = unsafe { old_entries.add(entry_index).read() };
        let child = match abort_on_unwind(|| make_child(entry)) {
            Ok(child) => child,
            Err(Unallocated { first, second, layout }) => {
                // SAFETY: the slot is the one the entry was read from, and nothing was written over it since;
                // writing the entry back makes the node whole again, as it was before this call.
                unsafe { old_entries.add(entry_index).write(first) };
                drop((builder, second));
                handle_alloc_error(layout)
            }
        };
        let Some(mut builder) = builder else {
            let entry_size = size_of::<(K, V)>();
            let base = self.node.ptr.cast::<u8>().as_ptr();
            let old_offset = entries_offset::<Header<P::Count>, (K, V)>(old);
            let new_offset = old_offset + size_of::<usize>();
            let children = self.node.children_ptr();
            // SAFETY: the node is unique. With entries at least as large as a child pointer, the node does not
            // grow, so every move below stays inside the old allocation: the entries after the moved-out one slide
            // left to their new place, then those before it slide right by one pointer (their destination ends
            // where the tail now starts), which frees the pointer-sized gap the children grow into. Each element
            // ends up initialized exactly once; the new child fills the opened slot.
            unsafe {
                ptr::copy(
                    base.add(old_offset + entry_size * (entry_index + 1)),
                    base.add(new_offset + entry_size * entry_index),
                    entry_size * (old.entries - entry_index - 1),
                );
                ptr::copy(base.add(old_offset), base.add(new_offset), entry_size * entry_index);
                ptr::copy(children.add(child_index), children.add(child_index + 1), old.children() - child_index);
                children.add(child_index).write(child);
            }
            // The contents now have the new shape and only the allocation is left to shrink. Should that fail, the
            // entry is inside the new child and cannot be put back without allocating: abort (shrinking a block
            // fails in no allocator std ships).
            abort_on_unwind(|| {
                if let Err(layout) = self.reshape_in_place(old, shape, Spare::Release) {
                    handle_alloc_error(layout)
                }
            });
            return;
        };
        // SAFETY: the node is unique; the old arrays hold `old.children()` and `old.entries` initialized
        // elements and the edit indices fit them; the entry at `entry_index` was moved out above and is skipped,
        // and the forgotten `removed` below is that same already-moved entry's bitwise copy.
        unsafe {
            move_edited(self.node.children_ptr(), old.children(), Edit::Insert(child_index, child), |c| {
                builder.push_child(c)
            });
            let removed = move_edited(old_entries, old.entries, Edit::Remove(entry_index), |e| builder.push_entry(e));
            core::mem::forget(removed);
        }
        self.replace_moved(old, builder.finish());
    }

    /// Replaces the child at `bit` of a bitmap node by the one entry that child holds, moving the entry up and
    /// freeing the child: the step that keeps the trie canonical after a removal.
    ///
    /// # Panics
    /// If `bit` is not a child of this node, or that child is not an unshared chain ending in one entry.
    pub(crate) fn pull_up(self, bit: u32) {
        let child = self.child_for_entry(bit);
        assert!(
            child.unshared_chain_end().is_some_and(|end| end.shape().entries == 1),
            "hamt: pull_up of a child that is not a single unshared entry"
        );
        self.swap_child_for_entry(bit, |child| {
            // SAFETY: checked above: the child is a chain of unshared nodes ending in a node with one entry.
            let (entry, _) = unsafe { take_chain(child, None) };
            entry
        });
    }

    /// Removes entry `removed` (0 or 1) of the subtree at `bit` of a bitmap node, a chain of unshared nodes that
    /// ends in a node with two entries and no children, and takes the other entry up in place of the subtree, which
    /// is freed. Returns the removed entry.
    ///
    /// The node's new memory is allocated first, so an allocation failure that unwinds leaves both the node and
    /// the subtree as they were.
    ///
    /// # Panics
    /// If `bit` is not a child of this node, or the child is not such a chain, or `removed` is not 0 or 1.
    #[inline]
    pub(crate) fn take_pair(self, bit: u32, removed: usize) -> (K, V) {
        with_popcnt(
            #[inline(always)]
            move || self.take_pair_body(bit, removed),
        )
    }

    /// The body of [`take_pair`](Self::take_pair), inlined into its two copies (with and without POPCNT).
    #[inline(always)]
    fn take_pair_body(self, bit: u32, removed: usize) -> (K, V) {
        let child = self.child_for_entry(bit);
        assert!(
            removed < 2 && child.unshared_chain_end().is_some_and(|end| end.shape().entries == 2),
            "hamt: take_pair of a child that is not an unshared pair"
        );
        let mut taken = None;
        self.swap_child_for_entry(bit, |child| {
            // SAFETY: checked above: the child is a chain of unshared nodes ending in a node with two entries.
            let (kept, removed) = unsafe { take_chain(child, Some(removed)) };
            taken = removed;
            kept
        });
        taken.expect("hamt: take_chain returns the removed entry it was asked for")
    }

    /// Puts `entry` in place of the child at `bit` of a bitmap node, and returns that child (for the caller to
    /// drop once the map is whole). The node's new memory is allocated first: on failure nothing changes and
    /// `entry` is dropped.
    ///
    /// # Panics
    /// If `bit` is not a child of this node.
    pub(crate) fn replace_child_by_entry(self, bit: u32, entry: (K, V)) -> Node<K, V, P> {
        self.child_for_entry(bit);
        let mut old_child = None;
        self.swap_child_for_entry(bit, |child| {
            old_child = Some(child);
            entry
        });
        old_child.expect("hamt: swap_child_for_entry hands over the child")
    }

    /// The child at `bit` of a bitmap node, checked to be there.
    fn child_for_entry(&self, bit: u32) -> &Node<K, V, P> {
        let old = self.node.shape();
        assert!(
            bit.is_power_of_two() && !old.is_collision() && old.nodemap & bit != 0,
            "hamt: a child to replace by an entry is missing"
        );
        &self.node.children()[index_of(old.nodemap, bit)]
    }

    /// Replaces the child at `bit` (checked by the caller) by the entry that `make_entry` returns when handed the
    /// child (moved out of the node). The node's new memory (grown in place, or a new node) is allocated before
    /// `make_entry` runs, so an allocation failure that unwinds changes nothing. `make_entry` must not panic (the
    /// node is half moved while it runs); a panic there aborts.
    #[inline(always)]
    fn swap_child_for_entry(mut self, bit: u32, make_entry: impl FnOnce(Node<K, V, P>) -> (K, V)) {
        let old = self.node.shape();
        let entry_index = index_of(old.datamap | bit, bit);
        let child_index = index_of(old.nodemap, bit);
        let shape = Shape::bitmap(old.datamap | bit, old.nodemap ^ bit);
        let builder = if slides_in_place::<K, V>() {
            // Grow first: on failure nothing has moved yet. On success the header already describes the new shape
            // while the contents keep the old one, until the moves below, which cannot fail.
            if let Err(layout) = self.reshape_in_place(old, shape, Spare::Release) {
                handle_alloc_error(layout)
            }
            None
        } else {
            Some(Builder::new(shape))
        };
        // SAFETY: the node is unique and `child_index` is below its number of children (the caller checked that
        // `nodemap` has `bit`); the handle is read out once, and every path below skips its slot, so it has one
        // owner again: `make_entry`.
        let child = unsafe { self.node.children_ptr().add(child_index).read() };
        let entry = abort_on_unwind(|| make_entry(child));
        let Some(mut builder) = builder else {
            let entry_size = size_of::<(K, V)>();
            let base = self.node.ptr.cast::<u8>().as_ptr();
            let old_offset = entries_offset::<Header<P::Count>, (K, V)>(old);
            let new_offset = old_offset - size_of::<usize>();
            let children = self.node.children_ptr();
            // SAFETY: the node is unique and was grown to its new size above (the old contents kept their
            // offsets). The children after the moved-out one slide left over it; the entries before the new one
            // slide left by one pointer into the space the children gave up (ending before the old tail starts);
            // the entries after it slide right to make room for it (`ptr::copy` allows the overlaps). Each element
            // ends up initialized exactly once and the new entry fills the opened slot.
            unsafe {
                ptr::copy(children.add(child_index + 1), children.add(child_index), old.children() - child_index - 1);
                ptr::copy(base.add(old_offset), base.add(new_offset), entry_size * entry_index);
                ptr::copy(
                    base.add(old_offset + entry_size * entry_index),
                    base.add(new_offset + entry_size * (entry_index + 1)),
                    entry_size * (old.entries - entry_index),
                );
                base.add(new_offset + entry_size * entry_index).cast::<(K, V)>().write(entry);
            }
            return;
        };
        // SAFETY: as in `push_down`: the node is unique and the edit indices fit its arrays. The removed child
        // handle is a bitwise copy of the one moved out above, so it is forgotten.
        unsafe {
            let removed = move_edited(self.node.children_ptr(), old.children(), Edit::Remove(child_index), |c| {
                builder.push_child(c)
            });
            core::mem::forget(removed);
            move_edited(self.node.entries_ptr(old), old.entries, Edit::Insert(entry_index, entry), |e| {
                builder.push_entry(e)
            });
        }
        self.replace_moved(old, builder.finish());
    }

    /// Inserts, removes or replaces one entry by resizing the node's allocation (see `reshape_in_place`) instead
    /// of building a new node. The caller has checked that the edit turns
    /// `old` into `new` and that the children region keeps its size.
    #[inline(always)]
    fn resize_entries(mut self, old: Shape, new: Shape, edit: Edit<(K, V)>) -> Option<(K, V)> {
        let entries = self.node.entries_ptr(old);
        let len = old.entries;
        match edit {
            Edit::Keep => None,
            Edit::Replace(index, entry) => {
                let (entries, _) = NodeMut { node: &mut *self.node }.into_parts();
                Some(core::mem::replace(&mut entries[index], entry))
            }
            Edit::Remove(index) => {
                // SAFETY: `index < len` (checked by the caller through `edited_len`); the entry is read out once
                // and the tail moves down over it, so every remaining entry is initialized exactly once, within
                // the smaller size the node shrinks to next.
                let removed = unsafe {
                    let removed = entries.add(index).read();
                    ptr::copy(entries.add(index + 1), entries.add(index), len - index - 1);
                    removed
                };
                if let Err(layout) = self.reshape_in_place(old, new, Spare::Keep) {
                    // The allocation and the header are as they were: undo the move, then report the failure.
                    // SAFETY: the tail moves back up by one (`ptr::copy` allows the overlap) and the removed entry
                    // goes back into the slot it was read from, which restores the old contents exactly.
                    unsafe {
                        ptr::copy(entries.add(index), entries.add(index + 1), len - index - 1);
                        entries.add(index).write(removed);
                    }
                    handle_alloc_error(layout)
                }
                Some(removed)
            }
            Edit::Insert(index, entry) => {
                // Grow before moving anything: a failure leaves the node as it was (and drops `entry`).
                if let Err(layout) = self.reshape_in_place(old, new, Spare::Release) {
                    handle_alloc_error(layout)
                }
                let entries = self.node.entries_ptr(new);
                // SAFETY: `index <= len` (checked by the caller); the allocation now holds `len + 1` entry slots,
                // the tail moves up by one (`ptr::copy` allows the overlap) and the free slot is written once.
                unsafe {
                    ptr::copy(entries.add(index), entries.add(index + 1), len - index);
                    entries.add(index).write(entry);
                }
                None
            }
        }
    }

    /// Writes a new shape into the header (the bitmaps, or a collision node's length).
    fn write_shape(&mut self, shape: Shape) {
        // SAFETY: the node is unique, so nobody else reads the header while we write it; a collision node keeps
        // its length right after the header.
        unsafe {
            let header = self.node.ptr.as_ptr();
            (*header).datamap = shape.datamap;
            (*header).nodemap = shape.nodemap;
            if shape.is_collision() {
                self.node.ptr.cast::<u8>().add(prefix_offset::<P::Count>()).cast::<usize>().write(shape.entries);
            }
        }
    }

    /// Resizes the node's block from the old shape to the new one (keeping the contents up to the smaller size),
    /// then writes the new shape into the header. If the allocator fails, nothing changes (the header and the
    /// memory are as they were) and the layout that failed comes back.
    ///
    /// - Growing uses the block's spare bytes when they suffice; otherwise the node moves to a fresh block of the
    ///   exact size: an allocation, a copy and a free rather than `realloc`. A node grows by one entry or pointer,
    ///   which `realloc` can rarely do in place (the next chunk is in use), and glibc's `realloc` then takes its
    ///   general path, bypassing the per-thread cache of free chunks that `alloc` and `dealloc` use. Measured
    ///   (callgrind, 10k in-place inserts of `u64` keys): 794 -> 681 instructions per insert.
    /// - Shrinking with [`Spare::Keep`] (a removal) keeps the block while at least half of it stays in use, and
    ///   records the difference as spare: removing half a map's keys then reallocates few nodes, and a later insert
    ///   into the node reuses the room. Otherwise (and always with [`Spare::Release`]) the block shrinks to the exact
    ///   size in place (`realloc`; glibc shrinks without moving). Maps built by inserts therefore hold no spare
    ///   bytes at all: their memory is exactly what their shapes need.
    #[inline(always)]
    fn reshape_in_place(&mut self, old: Shape, new: Shape, spare: Spare) -> Result<(), Layout> {
        let old_layout = node_layout::<Header<P::Count>, (K, V)>(old).layout;
        let old_block = self.node.block_layout_of(old_layout);
        let old_size = old_layout.size();
        let new_layout = node_layout::<Header<P::Count>, (K, V)>(new).layout;
        let new_size = new_layout.size();
        let block = old_block.size();
        // The spare bytes the node keeps if it stays in its block; `None` if it leaves it.
        let kept = if new_size > old_size {
            (new_size <= block).then(|| block - new_size)
        } else if spare == Spare::Keep || new_size == block {
            (block - new_size <= new_size).then(|| block - new_size)
        } else {
            None
        };
        let kept = kept.and_then(|bytes| u32::try_from(bytes).ok());
        match kept {
            Some(_) => {}
            None if new_size > old_size => {
                // SAFETY: the layout's size is non-zero (it contains the header).
                let raw = NonNull::new(unsafe { alloc(new_layout) }.cast::<Header<P::Count>>()).ok_or(new_layout)?;
                // SAFETY: the node is unique and its block was allocated with `old_block`, which holds the old
                // shape's `old_size` bytes; the two blocks are distinct. Its bytes move to the new block as
                // `realloc` would move them (the caller has arranged the contents so that what matters lies within
                // the old size), and the old block is freed with its layout; nothing refers to it any more (this is
                // the only handle, and it is pointed at the new block next).
                unsafe {
                    ptr::copy_nonoverlapping(self.node.ptr.as_ptr().cast::<u8>(), raw.as_ptr().cast::<u8>(), old_size);
                    dealloc(self.node.ptr.as_ptr().cast(), old_block);
                }
                self.node.ptr = raw;
            }
            None => {
                // SAFETY: the node is unique and its block was allocated with `old_block`; the new size is
                // non-zero and keeps the alignment. The caller has arranged the contents so that what matters lies
                // within both sizes.
                let raw = unsafe { alloc::alloc::realloc(self.node.ptr.as_ptr().cast(), old_block, new_size) };
                // A failed `realloc` leaves the old block allocated and unchanged.
                self.node.ptr = NonNull::new(raw.cast::<Header<P::Count>>()).ok_or(new_layout)?;
            }
        }
        // SAFETY: the node is unique, so nobody else reads the header while we write it.
        unsafe { (*self.node.ptr.as_ptr()).spare = kept.unwrap_or(0) };
        self.write_shape(new);
        Ok(())
    }

    /// Puts `new_node` in place of this node, whose elements have all been moved out, and frees the old memory.
    fn replace_moved(self, old_shape: Shape, new_node: Node<K, V, P>) {
        let old = core::mem::replace(self.node, new_node);
        let block = old.block_layout(old_shape);
        // SAFETY: every element of the old node was moved out by the caller, so only its memory remains to free,
        // and no handle refers to it any more (this was the unique one).
        unsafe { dealloc(old.ptr.as_ptr().cast(), block) };
        core::mem::forget(old);
    }
}

/// Takes apart a chain of nodes (see [`Node::unshared_chain_end`]) and frees it: returns the entry of its last
/// node that is kept, and with `removed: Some(i)` the entry `i` that is removed (the last node then holds two
/// entries; with `None`, one).
///
/// # Safety
/// `top` starts a chain of unshared nodes whose last node holds one entry (`removed: None`) or two (`Some(0)` or
/// `Some(1)`). Nothing here can panic.
unsafe fn take_chain<K, V, P: PointerKind>(top: Node<K, V, P>, removed: Option<usize>) -> ((K, V), Option<(K, V)>) {
    let mut node = core::mem::ManuallyDrop::new(top);
    loop {
        let shape = node.shape();
        let layout = node.block_layout(shape);
        let ptr = node.ptr.as_ptr().cast::<u8>();
        if shape.is_collision() || shape.nodemap == 0 {
            let entries = node.entries_ptr(shape);
            // SAFETY: the caller guarantees the last node holds one entry, or two when `removed` is given; each is
            // read once and then only the memory is freed, so each has exactly one owner again.
            return unsafe {
                let taken = match removed {
                    None => (entries.read(), None),
                    Some(index) => (entries.add(1 - index).read(), Some(entries.add(index).read())),
                };
                dealloc(ptr, layout);
                taken
            };
        }
        // SAFETY: a node inside the chain holds exactly one child and nothing else (the caller's guarantee); its
        // child handle is read out once and the node's memory freed without dropping anything.
        node = core::mem::ManuallyDrop::new(unsafe {
            let child = node.children_ptr().read();
            dealloc(ptr, layout);
            child
        });
    }
}

/// A value borrowed mutably for `'a` together with one place inside it that a walk found: what the entry API's
/// occupied entry holds, so that reading and changing the entry go straight to it instead of walking again.
///
/// The place is kept as a pointer derived from a borrow of the owner, and the owner's borrow as a raw pointer too:
/// a `&'a mut M` field would be reborrowed whenever the struct moves into a function, which Rust's aliasing rules
/// count as a write through the owner, ending every pointer derived from it. Nothing here reaches the owner while
/// a place is held: the owner is handed out only by the methods that first forget the place.
pub(crate) struct Found<'a, M, T> {
    owner: NonNull<M>,
    place: Option<NonNull<T>>,
    marker: PhantomData<&'a mut M>,
}

// SAFETY: a `Found` is a mutable borrow of the owner and of a place inside it, used as one: it can move to another
// thread when those mutable borrows could (`&mut M: Send` needs `M: Send`), and be shared when shared borrows of
// both could (it hands out only shared references through `&self`).
unsafe impl<M: Send, T: Send> Send for Found<'_, M, T> {}
// SAFETY: see `Send` above.
unsafe impl<M: Sync, T: Sync> Sync for Found<'_, M, T> {}

impl<'a, M, T> Found<'a, M, T> {
    /// Borrows `owner` for `'a` and keeps the place `find` returns in it (if any).
    pub(crate) fn new(owner: &'a mut M, find: impl FnOnce(&mut M) -> Option<&mut T>) -> Self {
        let mut found = Found { owner: NonNull::from(owner), place: None, marker: PhantomData };
        found.refind(find);
        found
    }

    /// Borrows `owner` for `'a` and keeps the place `find` returns in it: a place of this type (or none), or a
    /// place of another type, which the `Found` of that type in `Err` keeps.
    pub(crate) fn new_or_other<U>(
        owner: &'a mut M,
        find: impl FnOnce(&mut M) -> Result<Option<&mut T>, &mut U>,
    ) -> Result<Self, Found<'a, M, U>> {
        let mut owner = NonNull::from(owner);
        // SAFETY: `owner` comes from a mutable borrow for `'a`, which the result keeps; this is the only reference
        // made from it, and it ends when `find` returns, leaving only the place derived from it.
        match find(unsafe { owner.as_mut() }) {
            Ok(place) => Ok(Found { owner, place: place.map(NonNull::from), marker: PhantomData }),
            Err(other) => Err(Found { owner, place: Some(NonNull::from(other)), marker: PhantomData }),
        }
    }

    /// Forgets the place held, and keeps the one `find` returns instead (if any).
    pub(crate) fn refind(&mut self, find: impl FnOnce(&mut M) -> Option<&mut T>) {
        let place = find(self.owner_mut());
        self.place = place.map(NonNull::from);
    }

    /// Whether a place is held.
    pub(crate) fn has_place(&self) -> bool {
        self.place.is_some()
    }

    /// The place held.
    pub(crate) fn place(&self) -> Option<&T> {
        // SAFETY: the place was derived from a mutable borrow of the owner, which `self` holds exclusively for `'a`,
        // and nothing has reached the owner since (the methods that hand it out forget the place first), so the
        // place is still where the walk found it and nothing else refers to it; the shared borrow of `self` keeps
        // it from being changed while this reference lives.
        self.place.map(|place| unsafe { place.as_ref() })
    }

    /// The place held, mutably.
    pub(crate) fn place_mut(&mut self) -> Option<&mut T> {
        // SAFETY: as in `place`; the mutable borrow of `self` makes this the only reference to the place.
        self.place.map(|mut place| unsafe { place.as_mut() })
    }

    /// The place held, for the rest of `'a`; or the owner if there is no place.
    pub(crate) fn into_place(self) -> Result<&'a mut T, &'a mut M> {
        match self.place {
            // SAFETY: as in `place`; `self` is consumed, so nothing can reach the owner or the place for the rest of
            // `'a` but the reference returned.
            Some(mut place) => Ok(unsafe { place.as_mut() }),
            None => Err(self.into_owner()),
        }
    }

    /// The owner, if no place is held (reading it would otherwise end the place's exclusive access).
    pub(crate) fn owner(&self) -> Option<&M> {
        if self.place.is_some() {
            return None;
        }
        // SAFETY: `self` holds the owner's borrow for `'a` and no place derived from it, so a shared borrow of it,
        // kept from outliving the borrow of `self`, aliases nothing that is written.
        Some(unsafe { self.owner.as_ref() })
    }

    /// The owner, mutably; forgets the place held.
    pub(crate) fn owner_mut(&mut self) -> &mut M {
        self.place = None;
        // SAFETY: `self` holds the owner's borrow for `'a`, and with the place forgotten nothing else derived from
        // it remains; the mutable borrow of `self` makes this the only reference.
        unsafe { self.owner.as_mut() }
    }

    /// The owner, for the rest of `'a`; forgets the place held.
    pub(crate) fn into_owner(mut self) -> &'a mut M {
        // SAFETY: as in `owner_mut`; `self` is consumed, so the reference returned is the only one for `'a`.
        unsafe { self.owner.as_mut() }
    }
}

/// A place of type `T` in a map, found by a walk (see [`Found`]).
pub(crate) type FoundInMap<'a, K, V, P, S, T> = Found<'a, HamtMap<K, V, P, S>, T>;

/// A node of a map's trie, found by a walk: where the entry API's vacant entry inserts.
pub(crate) type NodeInMap<'a, K, V, P, S> = FoundInMap<'a, K, V, P, S, Node<K, V, P>>;

impl<'a, K, V, P: PointerKind, S> NodeInMap<'a, K, V, P, S> {
    /// Changes the node held, with the map's length and hasher at hand (an insertion below the node counts itself
    /// and may hash an entry it pushes down), and holds the place that `change` returns instead.
    ///
    /// The length and the hasher are fields of the map outside its trie, so neither overlaps the node held, which
    /// is either the map's `root` field or a child slot in the block of a node: reaching them leaves the node's
    /// borrow valid, as a borrow of one field leaves another field's.
    ///
    /// # Panics
    /// If no node is held.
    pub(crate) fn change_node<U, R>(
        self,
        change: impl for<'x> FnOnce(&'x mut Node<K, V, P>, &'x mut usize, &'x S) -> (&'x mut U, R),
    ) -> (FoundInMap<'a, K, V, P, S, U>, R) {
        let mut node = self.place.expect("hamt: change_node needs a node");
        let owner = self.owner.as_ptr();
        // SAFETY: `owner` is the map's mutable borrow for `'a`, which `self` holds; the two fields are reached by
        // raw place projections (no reference to the whole map is made), and they are disjoint from the node held
        // (see above), so the node's borrow stays valid and nothing else refers to the fields.
        let (len, hasher) = unsafe { (&mut *ptr::addr_of_mut!((*owner).len), &*ptr::addr_of!((*owner).hasher)) };
        // SAFETY: as in `place_mut`: the node was derived from the owner's borrow, and nothing has reached the
        // owner since but the two fields above, which it does not overlap; `self` is consumed.
        let (place, result) = change(unsafe { node.as_mut() }, len, hasher);
        (Found { owner: self.owner, place: Some(NonNull::from(place)), marker: PhantomData }, result)
    }
}

/// The lowest set bit of `bit` (zero for zero). The slot readers take a one-bit mask; reducing any other value to
/// one bit keeps the index they compute below the number of set bits of the bitmap they test, so a wrong argument
/// reads the wrong slot at worst, never outside the node. For the masks the trie computes (`1 << n`) the compiler
/// knows the value has one bit and drops the two instructions.
#[inline(always)]
fn lowest_bit(bit: u32) -> u32 {
    bit & bit.wrapping_neg()
}

/// What one slot of a bitmap node holds: the read view of a slot ([`Node::slot`], [`Node::slot_at_bit`]).
pub(crate) enum Slot<'a, K, V, P: PointerKind> {
    Entry(&'a (K, V)),
    Child(&'a Node<K, V, P>),
    Empty,
}

/// Where one slot of a bitmap node is ([`Node::slot_ptr`]): the address behind [`Slot`] and [`SlotMut`].
enum SlotPtr<K, V, P: PointerKind> {
    Entry(*mut (K, V)),
    Child(*mut Node<K, V, P>),
    Empty,
}

/// What one slot of a node this handle alone holds contains, mutably ([`NodeMut::into_slot_at_bit`]).
pub(crate) enum SlotMut<'a, K, V, P: PointerKind> {
    Entry(&'a mut (K, V)),
    Child(&'a mut Node<K, V, P>),
    Empty,
}

/// The set bits of a bitmap, lowest first, each as a one-bit mask: how the walks over two nodes visit the slots
/// either of them uses, and how a node's entries or children are paired with their bits (`zip` with
/// [`Node::entries`] or [`Node::children`], which hold them in bit order).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bits(pub(crate) u32);

impl Iterator for Bits {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        let bit = lowest_bit(self.0);
        self.0 ^= bit;
        (bit != 0).then_some(bit)
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let len = self.0.count_ones() as usize;
        (len, Some(len))
    }
}

impl ExactSizeIterator for Bits {}

/// How a lookup counts bits, chosen once per lookup: with the POPCNT instruction where the processor has it,
/// else with `u32::count_ones`.
///
/// The default x86-64 target does not assume POPCNT, so `u32::count_ones` compiles there to a dozen dependent
/// instructions: on a lookup, most of the work of a trie level. A lookup is too short to pay for a call into a copy
/// compiled with POPCNT (what [`with_popcnt`] does for the in-place updates; measured: a lookup of a `u64` key in
/// a 10k map took 5.7 ns that way against 4.3 ns in a POPCNT build), so it reads the cached answer once and counts
/// with inline assembly; the compiler then splits the walk into a loop for each answer and the POPCNT loop is the
/// one a POPCNT build compiles. Where POPCNT is enabled at compile time, on other architectures, without CPUID and
/// under Miri, this is `u32::count_ones`.
#[derive(Clone, Copy)]
pub(crate) struct BitCounter {
    /// True only if the processor reported POPCNT: the field is private and only `new` sets it to true.
    hardware: bool,
}

impl BitCounter {
    /// Counts with `u32::count_ones`: the POPCNT instruction in a copy compiled with it (see [`with_popcnt`]), a
    /// dozen instructions elsewhere on the default x86-64 target.
    pub(crate) const NATIVE: BitCounter = BitCounter { hardware: false };

    /// The way this processor counts bits best.
    #[inline(always)]
    pub(crate) fn new() -> Self {
        #[cfg(all(target_arch = "x86_64", not(target_feature = "popcnt"), not(target_env = "sgx"), not(miri)))]
        return BitCounter { hardware: popcnt::available() };
        #[cfg(not(all(target_arch = "x86_64", not(target_feature = "popcnt"), not(target_env = "sgx"), not(miri))))]
        BitCounter { hardware: false }
    }

    /// The number of set bits of `bits`.
    #[inline(always)]
    pub(crate) fn count(self, bits: u32) -> u32 {
        #[cfg(all(target_arch = "x86_64", not(target_feature = "popcnt"), not(target_env = "sgx"), not(miri)))]
        if self.hardware {
            let ones: u32;
            // SAFETY: `hardware` is true only if `popcnt::available` returned true, that is if CPUID reported
            // POPCNT, so the processor executes the instruction. It reads one register and writes one register and
            // the flags (which `asm!` treats as clobbered unless told otherwise); it touches no memory and no
            // stack, as the options say, and its result depends only on its input (`pure`).
            unsafe {
                core::arch::asm!(
                    "popcnt {ones:e}, {bits:e}",
                    bits = in(reg) bits,
                    ones = lateout(reg) ones,
                    options(pure, nomem, nostack),
                );
            }
            return ones;
        }
        bits.count_ones()
    }

    /// The position of the one-bit mask `bit` among the set bits of `bitmap`: the index of its slot's entry (in
    /// `datamap`) or child (in `nodemap`).
    #[inline(always)]
    pub(crate) fn index_of(self, bitmap: u32, bit: u32) -> usize {
        self.count(bitmap & bit.wrapping_sub(1)) as usize
    }
}

/// [`BitCounter::index_of`] with [`BitCounter::NATIVE`].
#[inline]
pub(crate) fn index_of(bitmap: u32, bit: u32) -> usize {
    BitCounter::NATIVE.index_of(bitmap, bit)
}

/// Runs `f`, compiled with the POPCNT instruction enabled where the processor has it: the in-place updates.
///
/// The default x86-64 target does not assume POPCNT, so `u32::count_ones` compiles there to a dozen dependent
/// instructions; an in-place insert or remove counts bits at every level and several times in every reshape (the
/// layouts of the old and new node, the positions of the slots). Every x86-64 processor made since 2008 has the
/// instruction, so this asks the processor once (CPUID, cached in [`popcnt::STATE`]) and then calls a copy of `f`
/// compiled with POPCNT enabled: whatever `f` inlines counts with the instruction, so the callers pass closures
/// marked `#[inline(always)]` around `#[inline(always)]` bodies. The price is a load of the cached answer, a
/// predictable branch and a call per use, small beside an update. Where POPCNT is enabled at compile time (`-C
/// target-cpu=native`), on other architectures (aarch64 counts bits with a cheap vector instruction), without
/// CPUID (SGX enclaves) and under Miri (which runs neither CPUID nor inline assembly), this is `f()`.
#[inline(always)]
pub(crate) fn with_popcnt<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(all(target_arch = "x86_64", not(target_feature = "popcnt"), not(target_env = "sgx"), not(miri)))]
    if popcnt::available() {
        // SAFETY: `available` returned true, so the processor executes POPCNT, the only feature `run_with_popcnt`
        // enables.
        return unsafe { popcnt::run_with_popcnt(f) };
    }
    f()
}

/// Detection of POPCNT for builds that do not enable it at compile time.
#[cfg(all(target_arch = "x86_64", not(target_feature = "popcnt"), not(target_env = "sgx"), not(miri)))]
pub(crate) mod popcnt {
    use core::sync::atomic::{AtomicU8, Ordering};

    /// Whether the processor has POPCNT: [`UNKNOWN`] until first asked, then [`PRESENT`] or [`ABSENT`]. Every
    /// thread that finds it unknown asks and stores the same answer, so a race costs one extra CPUID, no more.
    pub(crate) static STATE: AtomicU8 = AtomicU8::new(UNKNOWN);
    pub(crate) const UNKNOWN: u8 = 0;
    pub(crate) const PRESENT: u8 = 1;
    pub(crate) const ABSENT: u8 = 2;

    /// Whether the processor has POPCNT; asks it the first time.
    #[inline(always)]
    pub(crate) fn available() -> bool {
        match STATE.load(Ordering::Relaxed) {
            PRESENT => true,
            ABSENT => false,
            _ => detect(),
        }
    }

    /// Asks the processor whether it has POPCNT (CPUID leaf 1, bit 23 of ECX) and caches the answer.
    #[cold]
    #[inline(never)]
    pub(crate) fn detect() -> bool {
        #[allow(
            unused_unsafe,
            reason = "`__cpuid` is an `unsafe fn` in Rust 1.85 (the MSRV) and safe in later versions"
        )]
        // SAFETY: CPUID exists on every x86-64 processor and leaf 1 on every one that runs 64-bit code; it only
        // reads identification registers. This module is not compiled for SGX enclaves, where CPUID traps.
        let ecx = unsafe { core::arch::x86_64::__cpuid(1) }.ecx;
        let present = ecx & (1 << 23) != 0;
        STATE.store(if present { PRESENT } else { ABSENT }, Ordering::Relaxed);
        present
    }

    /// Runs `f` in a function compiled with POPCNT enabled, so that the code `f` inlines counts bits with it.
    ///
    /// # Safety
    ///
    /// The processor must have POPCNT ([`available`] returned true).
    #[target_feature(enable = "popcnt")]
    #[inline]
    pub(crate) unsafe fn run_with_popcnt<R>(f: impl FnOnce() -> R) -> R {
        f()
    }
}

/// Whether nodes of these entries can change between "one more child, one fewer entry" and back by sliding their
/// contents inside one allocation: entries at least as large as a child pointer, and no more aligned (so the
/// entries start right after the children).
const fn slides_in_place<K, V>() -> bool {
    size_of::<(K, V)>() >= size_of::<usize>() && align_of::<(K, V)>() <= align_of::<usize>()
}

/// Runs `f`, aborting the process if it panics (used where a panic would leave memory half moved).
fn abort_on_unwind<T>(f: impl FnOnce() -> T) -> T {
    struct AbortOnDrop;
    impl Drop for AbortOnDrop {
        fn drop(&mut self) {
            // A panic while already panicking aborts.
            panic!("hamt: panic while a node was half moved");
        }
    }
    let guard = AbortOnDrop;
    let value = f();
    core::mem::forget(guard);
    value
}

/// The length of an array of `len` elements after `edit`, if the edit fits it.
fn edited_len<T>(len: usize, edit: &Edit<T>) -> Option<usize> {
    match *edit {
        Edit::Keep => Some(len),
        Edit::Insert(index, _) => (index <= len).then_some(len + 1),
        Edit::Remove(index) => (index < len).then(|| len - 1),
        Edit::Replace(index, _) => (index < len).then_some(len),
    }
}

/// Moves the `len` elements at `old`, with `edit` applied, into `push`; returns the element the edit took out.
///
/// # Safety
/// `old` points to `len` initialized elements that the caller gives up (each is read once), and the edit's index
/// fits `len` (see [`edited_len`]).
unsafe fn move_edited<T>(old: *mut T, len: usize, edit: Edit<T>, mut push: impl FnMut(T)) -> Option<T> {
    // The elements before `split` move first, then the new one (if any), then those after the `skipped` one.
    let (split, new, skipped) = match edit {
        Edit::Keep => (len, None, 0),
        Edit::Insert(index, value) => (index, Some(value), 0),
        Edit::Remove(index) => (index, None, 1),
        Edit::Replace(index, value) => (index, Some(value), 1),
    };
    // SAFETY: the caller guarantees `len` initialized elements and an edit index that fits them (`split <= len`,
    // and `split < len` when an element is skipped); the three reads below cover `0..len` once each.
    unsafe {
        for index in 0..split {
            push(old.add(index).read());
        }
        let taken = (skipped == 1).then(|| old.add(split).read());
        if let Some(value) = new {
            push(value);
        }
        for index in split + skipped..len {
            push(old.add(index).read());
        }
        taken
    }
}

/// A subtree of two entries that could not be allocated: the two entries, given back, and the layout the
/// allocator failed to give (for [`handle_alloc_error`]).
pub(crate) struct Unallocated<K, V> {
    pub(crate) first: (K, V),
    pub(crate) second: (K, V),
    pub(crate) layout: Layout,
}

/// Writes a new node: children and entries are pushed in order; `finish` returns the handle.
///
/// If the builder is dropped before `finish` (a `Clone` panicked, or the caller returned early), it drops what
/// was written and frees the memory, so nothing leaks and nothing is dropped twice.
pub(crate) struct Builder<K, V, P: PointerKind> {
    ptr: NonNull<Header<P::Count>>,
    shape: Shape,
    children: usize,
    entries: usize,
    marker: PhantomData<(K, V)>,
}

impl<K, V, P: PointerKind> Builder<K, V, P> {
    /// Allocates a node of this shape, with nothing in it yet.
    ///
    /// # Panics
    /// Calls [`handle_alloc_error`] if the allocator fails (which aborts, unless an alloc-error hook panics).
    #[inline]
    pub(crate) fn new(shape: Shape) -> Self {
        Self::try_new(shape).unwrap_or_else(|layout| handle_alloc_error(layout))
    }

    /// Allocates a node of this shape, with nothing in it yet, or returns the layout the allocator failed to give.
    #[inline]
    pub(crate) fn try_new(shape: Shape) -> Result<Self, Layout> {
        let layout = node_layout::<Header<P::Count>, (K, V)>(shape).layout;
        debug_assert!(align_of::<Header<P::Count>>() >= align_of::<usize>());
        // SAFETY: the layout's size is non-zero (it contains the header).
        let raw = unsafe { alloc(layout) };
        let ptr = NonNull::new(raw.cast::<Header<P::Count>>()).ok_or(layout)?;
        let header = Header { count: P::Count::one(), spare: 0, datamap: shape.datamap, nodemap: shape.nodemap };
        // SAFETY: `ptr` is a fresh allocation large and aligned enough for the header and its prefix.
        unsafe { ptr.write(header) };
        if shape.is_collision() {
            // SAFETY: a collision node's layout reserves one `usize` right after the header.
            unsafe { ptr.cast::<u8>().add(prefix_offset::<P::Count>()).cast::<usize>().write(shape.entries) };
        }
        Ok(Builder { ptr, shape, children: 0, entries: 0, marker: PhantomData })
    }

    fn expected_children(&self) -> usize {
        if self.shape.is_collision() { 0 } else { self.shape.children() }
    }

    /// Writes the next child.
    ///
    /// # Panics
    /// If the node already has all its children.
    #[inline]
    pub(crate) fn push_child(&mut self, child: Node<K, V, P>) {
        assert!(self.children < self.expected_children(), "hamt: too many children for the node's shape");
        // SAFETY: the slot is inside the children array (checked above) and not yet written.
        unsafe { self.node().children_ptr().add(self.children).write(child) };
        self.children += 1;
    }

    /// Writes the next entry.
    ///
    /// # Panics
    /// If the node already has all its entries.
    #[inline]
    pub(crate) fn push_entry(&mut self, entry: (K, V)) {
        assert!(self.entries < self.shape.entries, "hamt: too many entries for the node's shape");
        // SAFETY: the slot is inside the entries array (checked above) and not yet written.
        unsafe { self.node().entries_ptr(self.shape).add(self.entries).write(entry) };
        self.entries += 1;
    }

    /// Writes clones of `children` as the next children.
    ///
    /// # Panics
    /// If they do not fit the node's shape.
    #[inline]
    pub(crate) fn clone_children(&mut self, children: &[Node<K, V, P>]) {
        assert!(self.children + children.len() <= self.expected_children(), "hamt: too many children for the shape");
        let (base, start) = (self.node().children_ptr(), self.children);
        for (offset, child) in children.iter().enumerate() {
            // SAFETY: the slot is inside the children array (checked above) and not yet written. Cloning a handle
            // cannot unwind (overflow aborts), so counting the slots once at the end is exact.
            unsafe { base.add(start + offset).write(child.clone()) };
        }
        self.children = start + children.len();
    }

    /// Writes `children` as the node's children, with `child` in place of the one at `index`.
    ///
    /// # Panics
    /// If children were already written, if `children` is not as many as the shape has, or if `index` is not
    /// one of them; `child` is then dropped.
    #[inline]
    pub(crate) fn copy_children_replacing(&mut self, children: &[Node<K, V, P>], index: usize, child: Node<K, V, P>) {
        let count = children.len();
        assert!(
            self.children == 0 && count == self.expected_children() && index < count,
            "hamt: the children do not fit the shape"
        );
        let base = self.node().children_ptr();
        // SAFETY: the children array has room for `count` handles (checked above), none written yet, and does not
        // overlap `children`, which lives in another node. The copies are bitwise: each one becomes a counted
        // handle when its node's count is incremented below, except the one at `index`, which `child` overwrites
        // without being dropped (it was never counted). Nothing between the copy and `self.children = count` can
        // unwind (an overflowing count aborts), so the builder never sees an uncounted copy.
        unsafe { ptr::copy_nonoverlapping(children.as_ptr(), base, count) };
        count_handles(&children[..index]);
        count_handles(&children[index + 1..]);
        // SAFETY: `index` is inside the array (checked above); the bitwise copy there is not a handle (see above).
        unsafe { base.add(index).write(child) };
        self.children = count;
    }

    /// Writes clones of `entries` as the next entries. A panicking `Clone` leaves the builder consistent: the
    /// entries written so far are counted, and dropping the builder drops them.
    ///
    /// # Panics
    /// If they do not fit the node's shape, or if cloning panics.
    #[inline]
    pub(crate) fn clone_entries(&mut self, entries: &[(K, V)])
    where
        K: Clone,
        V: Clone,
    {
        assert!(self.entries + entries.len() <= self.shape.entries, "hamt: too many entries for the shape");
        let base = self.node().entries_ptr(self.shape);
        for entry in entries {
            let entry = entry.clone();
            // SAFETY: the slot is inside the entries array (checked above) and not yet written.
            unsafe { base.add(self.entries).write(entry) };
            self.entries += 1;
        }
    }

    /// A view of the node under construction, used only to compute addresses (its header is initialized, and for
    /// a collision node the length too, which is all `children_ptr` and `entries_ptr` read).
    #[inline]
    fn node(&self) -> core::mem::ManuallyDrop<Node<K, V, P>> {
        core::mem::ManuallyDrop::new(Node { ptr: self.ptr, marker: PhantomData })
    }

    /// The finished node.
    ///
    /// # Panics
    /// If fewer children or entries were written than the shape has.
    #[inline]
    pub(crate) fn finish(self) -> Node<K, V, P> {
        assert!(
            self.children == self.expected_children() && self.entries == self.shape.entries,
            "hamt: node finished before all its slots were written"
        );
        let node = Node { ptr: self.ptr, marker: PhantomData };
        core::mem::forget(self);
        node
    }
}

impl<K, V, P: PointerKind> Drop for Builder<K, V, P> {
    fn drop(&mut self) {
        // Hand the initialized prefix of each array to a drain, which drops them and frees the memory.
        let shape = self.shape;
        let drain = Drain::<K, V, P> {
            ptr: self.ptr,
            shape,
            next_entry: shape.entries - self.entries,
            next_child: self.expected_children() - self.children,
            marker: PhantomData,
        };
        // The drain drops elements from `next_*` to the end, so shift the written elements to the end of their
        // arrays first. Writing in order and draining the tail keeps this simple: move them.
        // SAFETY: both ranges are inside their arrays; `ptr::copy` allows overlap; the vacated head is then
        // treated as moved-out by the drain.
        unsafe {
            let node = self.node();
            let children = node.children_ptr();
            ptr::copy(children, children.add(drain.next_child), self.children);
            let entries = node.entries_ptr(shape);
            ptr::copy(entries, entries.add(drain.next_entry), self.entries);
        }
        drop(drain);
    }
}

/// Moves the entries and children out of a node nobody else refers to; drops what is left and frees the node
/// when dropped.
pub(crate) struct Drain<K, V, P: PointerKind> {
    ptr: NonNull<Header<P::Count>>,
    shape: Shape,
    next_entry: usize,
    next_child: usize,
    marker: PhantomData<(K, V)>,
}

// SAFETY: a `Drain` owns a node nobody else refers to, like a `Box` of its entries and children: sending it moves
// them to the other thread, which then moves them out or drops them (needing `K, V: Send`), and drops the child
// handles, which is sound to do on any thread under the bounds of `Node`'s `Send`. No other thread can reach the
// node meanwhile, since no other handle exists. The bounds are those of `Node`, a little stricter than a `Box`
// needs, to keep the two types under one rule.
unsafe impl<K: Send + Sync, V: Send + Sync, P: PointerKind> Send for Drain<K, V, P> where P::Count: Sync + Send {}
// SAFETY: `&Drain` gives no access to the entries or children: the methods that read or move them take `&mut self`
// (the private `node` helper, which takes `&self`, is only called from those and from `drop`), so sharing a drain
// shares nothing beyond its shape and indices.
unsafe impl<K: Send + Sync, V: Send + Sync, P: PointerKind> Sync for Drain<K, V, P> where P::Count: Sync + Send {}

impl<K, V, P: PointerKind> Drain<K, V, P> {
    #[inline]
    fn node(&self) -> core::mem::ManuallyDrop<Node<K, V, P>> {
        core::mem::ManuallyDrop::new(Node { ptr: self.ptr, marker: PhantomData })
    }

    fn child_count(&self) -> usize {
        if self.shape.is_collision() { 0 } else { self.shape.children() }
    }

    /// Moves out the next entry.
    #[inline]
    pub(crate) fn next_entry(&mut self) -> Option<(K, V)> {
        if self.next_entry == self.shape.entries {
            return None;
        }
        // SAFETY: entries from `next_entry` on are initialized and not yet moved out; advancing the index first
        // means the drop below never drops this one again.
        let entry = unsafe { self.node().entries_ptr(self.shape).add(self.next_entry).read() };
        self.next_entry += 1;
        Some(entry)
    }

    /// Moves out the next child.
    #[inline]
    pub(crate) fn next_child(&mut self) -> Option<Node<K, V, P>> {
        if self.next_child == self.child_count() {
            return None;
        }
        // SAFETY: children from `next_child` on are initialized and not yet moved out.
        let child = unsafe { self.node().children_ptr().add(self.next_child).read() };
        self.next_child += 1;
        Some(child)
    }
}

impl<K, V, P: PointerKind> Drop for Drain<K, V, P> {
    fn drop(&mut self) {
        /// Frees the memory even if dropping an element panics.
        struct Free(*mut u8, Layout);
        impl Drop for Free {
            fn drop(&mut self) {
                // SAFETY: the pointer was allocated with this layout and all its contents are dropped or moved.
                unsafe { dealloc(self.0, self.1) }
            }
        }
        /// Drops the elements of a slice, also when dropping something before them panicked.
        struct DropSlice<T>(*mut [T]);
        impl<T> Drop for DropSlice<T> {
            fn drop(&mut self) {
                // SAFETY: the slice holds the elements not yet moved out of the node, which only this guard drops.
                unsafe { ptr::drop_in_place(self.0) }
            }
        }
        let node = self.node();
        let _free = Free(self.ptr.as_ptr().cast(), node.block_layout(self.shape));
        let children = ptr::slice_from_raw_parts_mut(
            // SAFETY: `next_child` is at most the number of children.
            unsafe { node.children_ptr().add(self.next_child) },
            self.child_count() - self.next_child,
        );
        let entries = ptr::slice_from_raw_parts_mut(
            // SAFETY: `next_entry` is at most the number of entries.
            unsafe { node.entries_ptr(self.shape).add(self.next_entry) },
            self.shape.entries - self.next_entry,
        );
        // These are exactly the elements not yet moved out, and each is dropped once. A panic in one element's drop
        // still drops the rest of its slice (`drop_in_place` of a slice goes on), the entries' guard then drops the
        // entries (as std's `Vec` goes on after a panicking element), and `_free` frees the memory. A second panic
        // while unwinding aborts, as it does in std's collections.
        let _entries = DropSlice(entries);
        // SAFETY: the children not yet moved out are initialized and dropped only here.
        unsafe { ptr::drop_in_place(children) };
    }
}
