//! A global allocator that counts what the maps ask of the heap.
//!
//! Every binary that links this crate (the report binary, the criterion harness and the unit tests) allocates through
//! [`CountingAllocator`], which forwards to the system allocator. Counting is off by default, so that timed sections
//! pay one relaxed load per allocation and nothing more. A process that measures memory calls [`start_counting`]
//! first; from then on the counters move with every allocation, and a figure is the difference of two
//! [`Snapshot`]s taken around the code measured.
//!
//! The counts are of *requested* bytes (the sizes in the [`Layout`]s), not of what the allocator rounds them up to
//! or keeps for itself: they compare data structures, not allocators.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicU64, Ordering};

/// The allocator of every binary that links this crate; see the [module documentation](self).
#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);
static PEAK_BYTES: AtomicIsize = AtomicIsize::new(0);
static LIVE_ALLOCATIONS: AtomicIsize = AtomicIsize::new(0);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

/// Forwards to [`System`] and, once [`start_counting`] was called, counts requested bytes and allocations.
#[derive(Debug, Clone, Copy, Default)]
pub struct CountingAllocator;

/// The counters at one moment. Only differences between two snapshots mean something, because frees of blocks
/// allocated before counting started are subtracted too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    /// Requested bytes allocated and not yet freed.
    pub live_bytes: isize,
    /// The highest `live_bytes` seen since counting started or since the last [`reset_peak`].
    pub peak_bytes: isize,
    /// Blocks allocated and not yet freed.
    pub live_allocations: isize,
    /// Calls to `alloc`, `alloc_zeroed` and `realloc` since counting started.
    pub allocations: u64,
}

thread_local! {
    /// Whether this thread's allocations are counted. Only the thread that called [`start_counting`] is: a test
    /// harness or runtime thread that allocates at the same moment must not change the figures.
    static COUNTED_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Turns counting on, for the rest of the process, for the allocations and frees of the calling thread. Call it
/// before the code to measure (on the thread that runs it), and before taking the first [`Snapshot`].
pub fn start_counting() {
    COUNTED_THREAD.with(|counted| counted.set(true));
    COUNTING.store(true, Ordering::SeqCst);
}

/// Whether this call to the allocator is one to count.
fn counts_here() -> bool {
    is_counting() && COUNTED_THREAD.try_with(std::cell::Cell::get).unwrap_or(false)
}

/// Whether [`start_counting`] was called in this process.
pub fn is_counting() -> bool {
    COUNTING.load(Ordering::Relaxed)
}

/// Reads the counters.
pub fn snapshot() -> Snapshot {
    Snapshot {
        live_bytes: LIVE_BYTES.load(Ordering::SeqCst),
        peak_bytes: PEAK_BYTES.load(Ordering::SeqCst),
        live_allocations: LIVE_ALLOCATIONS.load(Ordering::SeqCst),
        allocations: ALLOCATIONS.load(Ordering::SeqCst),
    }
}

/// Makes the peak start again from the bytes live now.
pub fn reset_peak() {
    PEAK_BYTES.store(LIVE_BYTES.load(Ordering::SeqCst), Ordering::SeqCst);
}

fn record_growth(bytes: isize) {
    let live = LIVE_BYTES.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK_BYTES.fetch_max(live, Ordering::Relaxed);
}

fn record_allocation(size: usize) {
    ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    LIVE_ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    record_growth(signed(size));
}

fn record_free(size: usize) {
    LIVE_ALLOCATIONS.fetch_sub(1, Ordering::Relaxed);
    LIVE_BYTES.fetch_sub(signed(size), Ordering::Relaxed);
}

fn signed(size: usize) -> isize {
    // A `Layout` never exceeds `isize::MAX` bytes, so this conversion cannot fail.
    isize::try_from(size).unwrap_or(isize::MAX)
}

// The allocator must implement an unsafe trait; every method forwards to `System` under the same contract it was
// called with, and the counting around it touches only atomics.
#[expect(unsafe_code, reason = "a global allocator is an `unsafe impl GlobalAlloc`; it only forwards to `System`")]
// SAFETY: every method forwards to `System`, which upholds the `GlobalAlloc` contract, with exactly the arguments it
// received; the bookkeeping never touches the memory returned, so the contract holds for this type too.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller guarantees that `layout` has a non-zero size, as `GlobalAlloc::alloc` requires, and
        // passes it on unchanged.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() && counts_here() {
            record_allocation(layout.size());
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`, the caller's non-zero `layout` is passed on unchanged.
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() && counts_here() {
            record_allocation(layout.size());
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: the caller guarantees that `pointer` came from this allocator, which means from `System`, with
        // this same `layout`, and that it is not used again.
        unsafe { System.dealloc(pointer, layout) };
        if counts_here() {
            record_free(layout.size());
        }
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees that `pointer` was allocated by this allocator (so by `System`) with
        // `layout`, and that `new_size` is non-zero and does not overflow `isize` once rounded to the alignment.
        let new_pointer = unsafe { System.realloc(pointer, layout, new_size) };
        if !new_pointer.is_null() && counts_here() {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
            record_growth(signed(new_size) - signed(layout.size()));
        }
        new_pointer
    }
}
