//! Allocation counts, measured by a counting global allocator: decoding restores sharing (a hundred one-key
//! variants of a large map cost a fraction of one copy, not a hundred copies), and lengths claimed by hostile input
//! allocate nothing in proportion to the claim.
//!
//! The counter is per thread, so tests running in parallel do not disturb each other's counts.

#[path = "../../hamt-core/tests/common/mod.rs"]
mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use hamt_core::{DefaultHashBuilder, HamtMap, HamtSet, RcK};
use hamt_serde::VersionSet;

struct Counting;

thread_local! {
    /// Bytes allocated by this thread and not freed yet (by this thread).
    static ALLOCATED: Cell<isize> = const { Cell::new(0) };
    /// The highest `ALLOCATED` has been since `PEAK` was last reset.
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so `System`'s guarantees are
// ours; the bookkeeping only adds to a thread-local counter, which neither allocates nor unwinds.
#[allow(unsafe_code, reason = "a global allocator is an unsafe trait; this one only counts")]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        // SAFETY: the caller upholds `alloc`'s contract, which we pass on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        // SAFETY: `ptr` was allocated by `System` with `layout`, as the caller promises.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize);
        // SAFETY: the caller upholds `realloc`'s contract, which we pass on unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

fn count(bytes: isize) {
    // `try_with` fails only while the thread is being torn down; those allocations are not ours to count.
    let _ = ALLOCATED.try_with(|allocated| {
        allocated.set(allocated.get() + bytes);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(allocated.get())));
    });
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The bytes that `f` allocates on this thread and that are still live when it returns (those its result holds),
/// and its result. Temporary buffers do not count, so that the figure is what the result costs.
fn allocated_by<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let before = ALLOCATED.with(Cell::get);
    let result = f();
    let live = ALLOCATED.with(Cell::get) - before;
    (usize::try_from(live).unwrap_or(0), result)
}

/// The most bytes live at once on this thread while `f` ran, above what was live before, and its result: what a
/// call needed at its worst, temporary buffers included.
fn peak_of<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let before = ALLOCATED.with(Cell::get);
    PEAK.with(|peak| peak.set(before));
    let result = f();
    (usize::try_from(PEAK.with(Cell::get) - before).unwrap_or(0), result)
}

type Map = HamtMap<u64, u64>;

/// A base map and `variants` versions of it that each change one key, all written against the base.
fn variants(size: u64, variants: u64) -> VersionSet<Map> {
    let base: Map = (0..size).map(|key| (key, key)).collect();
    let mut versions = VersionSet::new();
    let root = versions.push(base.clone());
    for variant in 0..variants {
        versions.push_with_parent(base.insert(variant * 7 % size, u64::MAX - variant), Some(root));
    }
    versions
}

#[test]
fn decoded_variants_share_their_base() {
    let size = common::scaled(10_000, 300) as u64;
    let count = common::scaled(100, 4) as u64;
    let base_only = variants(size, 0).to_bytes().expect("encodes");
    let all = variants(size, count).to_bytes().expect("encodes");

    let (one_copy, _) = allocated_by(|| VersionSet::<Map>::from_bytes(&base_only).expect("decodes"));
    let (with_variants, decoded) = allocated_by(|| VersionSet::<Map>::from_bytes(&all).expect("decodes"));
    let per_variant = (with_variants - one_copy) / count as usize;
    println!("one copy: {one_copy} bytes, {count} variants on top: {} bytes", with_variants - one_copy);
    // A variant copies the path to its changed key (a few nodes) and shares the rest with the base. Lost sharing
    // would cost a whole copy per variant.
    // At 10k entries a variant costs about a thousandth of a copy; Miri's 300-entry map still leaves a factor of
    // ten. A lost sharing would cost a whole copy.
    assert!(per_variant * 5 < one_copy, "a variant allocates {per_variant} bytes, one copy {one_copy}");
    assert_eq!(decoded.len(), count as usize + 1);
}

#[test]
fn decoded_chain_of_small_changes_shares() {
    let size = common::scaled(10_000, 300) as u64;
    let count = common::scaled(100, 4) as u64;
    let base: Map = (0..size).map(|key| (key, key)).collect();
    let mut chain = vec![base.clone()];
    for step in 0..count {
        let last = chain.last().expect("the base");
        chain.push(last.insert(step * 13 % size, step).remove(&(step * 17 % size)));
    }
    let refs: Vec<&Map> = chain.iter().collect();
    let base_only = hamt_serde::serialize_multiple(&[&base]).expect("encodes");
    let (one_copy, _) = allocated_by(|| {
        hamt_serde::deserialize_multiple::<hamt_core::HamtMap<u64, u64, RcK, DefaultHashBuilder>>(&base_only)
    });
    let bytes = hamt_serde::serialize_multiple(&refs).expect("encodes");
    let (all, decoded) = allocated_by(|| {
        hamt_serde::deserialize_multiple::<hamt_core::HamtMap<u64, u64, RcK, DefaultHashBuilder>>(&bytes)
            .expect("decodes")
    });
    assert_eq!(decoded.len(), chain.len());
    let per_version = (all - one_copy) / count as usize;
    assert!(per_version * 4 < one_copy, "a version allocates {per_version} bytes, one copy {one_copy}");
}

/// Lengths that the input claims but cannot hold are refused before anything is allocated for them.
#[test]
fn absurd_lengths_allocate_nothing_for_the_claim() {
    const LIMIT: usize = 64 * 1024;
    let mut body = vec![0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f];
    body.extend([1, 1]);
    let mut bytes = b"HAMT\x01\x00\x01\x00\x00\x00".to_vec();
    bytes.extend(&body);
    bytes.extend((body.len() as u64).to_le_bytes());
    let checksum = crc32fast::hash(&bytes);
    bytes.extend(checksum.to_le_bytes());

    let (allocated, result) =
        peak_of(|| hamt_serde::deserialize_multiple::<hamt_core::HamtMap<u64, u64, RcK, DefaultHashBuilder>>(&bytes));
    assert!(matches!(result, Err(hamt_serde::DecodeError::LengthTooLarge { .. })), "{result:?}");
    assert!(allocated < LIMIT, "{allocated} bytes");

    // The serde form: sequences claiming 2^60 records, keys or entries, and a string claiming 2^60 bytes.
    let claims: &[&[u8]] = &[
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 0],
        &[1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 1],
        &[1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 1],
    ];
    for claim in claims {
        let (allocated, result) = peak_of(|| postcard::from_bytes::<VersionSet<Map>>(claim));
        assert!(result.is_err());
        assert!(allocated < LIMIT, "{allocated} bytes for {claim:?}");
        let (allocated, result) = peak_of(|| postcard::from_bytes::<VersionSet<HamtSet<String>>>(claim));
        assert!(result.is_err());
        assert!(allocated < LIMIT, "{allocated} bytes for {claim:?}");
    }
    let string_claim = [1, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, b'a'];
    let (allocated, result) = peak_of(|| postcard::from_bytes::<VersionSet<HamtSet<String>>>(&string_claim));
    assert!(result.is_err());
    assert!(allocated < LIMIT, "{allocated} bytes");
    let (allocated, result) =
        peak_of(|| serde_json::from_str::<VersionSet<Map>>(r#"[{"parent":null,"removed":[],"upserted":[[1,2],"#));
    assert!(result.is_err());
    assert!(allocated < LIMIT, "{allocated} bytes");
}

/// The self-describing body: CBOR strings, arrays and maps that claim more than the body holds are refused before
/// ciborium sees them. Without that check, serde's collections would reserve up to a mebibyte for each claim
/// (`Vec`'s and `serde_json::Value`'s visitors trust a size hint that far).
#[test]
fn absurd_cbor_claims_allocate_nothing_for_the_claim() {
    const LIMIT: usize = 64 * 1024;
    /// An envelope around one self-describing record of one entry: the key "k" and `value`.
    fn one_entry(value: &[u8]) -> Vec<u8> {
        let mut body = vec![1, 0x61, b'k'];
        body.extend(value);
        let mut bytes = b"HAMT\x01\x02\x01\x00\x00\x00".to_vec();
        bytes.extend(&body);
        bytes.extend((body.len() as u64).to_le_bytes());
        let checksum = crc32fast::hash(&bytes);
        bytes.extend(checksum.to_le_bytes());
        bytes
    }
    // Arrays claiming 2^32 items, a map claiming 2^32 pairs, and a text string claiming 2^60 bytes.
    let claims: &[&[u8]] = &[
        &[0x9b, 0, 0, 0, 1, 0, 0, 0, 0, 0x01],
        &[0xbb, 0, 0, 0, 1, 0, 0, 0, 0, 0x01, 0x01],
        &[0x7b, 0x10, 0, 0, 0, 0, 0, 0, 0, b'a'],
    ];
    for claim in claims {
        let bytes = one_entry(claim);
        let (allocated, result) = peak_of(|| hamt_serde::deserialize_multiple::<HamtMap<String, Vec<u64>>>(&bytes));
        assert!(allocated < LIMIT, "{allocated} bytes for {claim:?} as a Vec<u64>");
        assert!(result.is_err());
        let (allocated, result) =
            peak_of(|| hamt_serde::deserialize_multiple::<HamtMap<String, serde_json::Value>>(&bytes));
        assert!(allocated < LIMIT, "{allocated} bytes for {claim:?}");
        assert!(matches!(result, Err(hamt_serde::DecodeError::LengthTooLarge { .. })), "{result:?}");
    }
}
