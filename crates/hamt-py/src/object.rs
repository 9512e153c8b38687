//! Python objects as the keys and values of a [`HamtMap`], and the map type that holds them.

use std::hash::{BuildHasher, Hash, Hasher};

use hamt_core::HamtMap;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyComplex, PyFloat, PyInt, PyString};

use crate::errors;
use crate::gil::{Object, Pointers, Uncounted, cached_str_hash, with_attached};

/// The trie behind `Map` and `MapMutation`.
pub(crate) type Trie = HamtMap<Key, Value, Pointers, PythonHash>;

/// A key: a Python object and its `hash()`, computed once when the key enters the map.
///
/// Cloning (which hamt-core does to entries of a node it copies) increments the reference count in place (see
/// [`Object`]).
///
/// Storing the hash makes a lookup call `__hash__` once (for the probe) and never for stored keys, as `dict` does.
/// A key whose hash changes after insertion is simply not found again, as in `dict`; it cannot break the trie.
/// The hash is stored already in the order of the trie's levels ([`groups_reversed`]), so that hashing a key for
/// hamt-core is a copy.
#[derive(Clone)]
pub(crate) struct Key {
    /// The Python hash with its five-bit groups reversed (a bijection of the Python hash).
    trie_hash: u64,
    object: Object,
}

impl Key {
    /// The key for `object`, or the exception its `__hash__` raised.
    pub(crate) fn new(object: &Bound<'_, PyAny>) -> PyResult<Key> {
        Ok(Key { trie_hash: trie_hash(object)?, object: Object::new(object.clone().unbind()) })
    }

    /// `object` as a probe for one lookup, holding it without counting a reference (see [`Uncounted`]), or the
    /// exception its `__hash__` raised.
    pub(crate) fn probe<'a>(object: &'a Bound<'_, PyAny>) -> PyResult<Uncounted<'a, Key>> {
        Ok(Uncounted::key(trie_hash(object)?, object))
    }

    /// An exact `str` as a probe, as [`Key::probe`] makes it, if its hash is cached in it (see
    /// [`cached_str_hash`]): no call to `hash()`.
    pub(crate) fn probe_str<'a>(text: &'a Bound<'_, PyString>) -> Option<Uncounted<'a, Key>> {
        let hash = cached_str_hash(text)?;
        Some(Uncounted::key(groups_reversed(hash as u64), text.as_any()))
    }

    /// The key of `object` and its hash as [`Key::new`] stores it.
    pub(crate) fn from_parts(trie_hash: u64, object: Object) -> Key {
        Key { trie_hash, object }
    }

    /// The Python object.
    pub(crate) fn object(&self) -> &Py<PyAny> {
        &self.object
    }
}

/// The hash a [`Key`] of `object` stores: its `hash()` with the groups reversed. An exact `str` that has been
/// hashed before (almost every key: a string is hashed when it is first used as a key anywhere) gives its cached
/// hash without the call through its type.
fn trie_hash(object: &Bound<'_, PyAny>) -> PyResult<u64> {
    let cached = object.cast_exact::<PyString>().ok().and_then(cached_str_hash);
    let hash = match cached {
        Some(hash) => hash,
        None => object.hash()?,
    };
    Ok(groups_reversed(hash as u64))
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.trie_hash);
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.trie_hash == other.trie_hash && objects_equal(&self.object, &other.object)
    }
}

impl Eq for Key {}

/// A value: a Python object, compared with `__eq__` by map equality and `diff`, and cloned as [`Key`] is.
#[derive(Clone)]
pub(crate) struct Value(pub(crate) Object);

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        objects_equal(&self.0, &other.0)
    }
}

/// Python's `a == b` with the identity shortcut of `dict` (`PyObject_RichCompareBool`).
///
/// An exception is recorded for [`errors::guarded`] and answers "not equal"; once one is pending, no more Python
/// code runs until the operation ends. The identity test is inlined into the trie's search, the call to Python
/// kept out of line.
#[inline]
fn objects_equal(first: &Py<PyAny>, second: &Py<PyAny>) -> bool {
    first.is(second) || python_equal(first, second)
}

/// The `==` of two distinct objects, as [`objects_equal`] describes.
fn python_equal(first: &Py<PyAny>, second: &Py<PyAny>) -> bool {
    if errors::pending() {
        return false;
    }
    with_attached(|py| match first.bind(py).eq(second.bind(py)) {
        Ok(equal) => equal,
        Err(error) => {
            errors::record(error);
            false
        }
    })
}

/// Whether `object` is of a type whose instances hold no references to other objects (so that a map of them
/// cannot be part of a reference cycle). Exact types only: a subclass instance can carry a `__dict__`.
pub(crate) fn is_atomic(object: &Bound<'_, PyAny>) -> bool {
    object.is_none()
        || object.is_exact_instance_of::<PyString>()
        || object.is_exact_instance_of::<PyInt>()
        || object.is_exact_instance_of::<PyBool>()
        || object.is_exact_instance_of::<PyFloat>()
        || object.is_exact_instance_of::<PyBytes>()
        || object.is_exact_instance_of::<PyComplex>()
}

/// Hashes a [`Key`] by the hash it carries: its Python hash, its five-bit groups in reverse order.
///
/// hamt-core takes the hash five bits at a time from the most significant end, while Python's hashes of small
/// `int`s are the numbers themselves, with every high bit zero: used as they are, the keys `0..n` would all share
/// one path through a dozen levels. With the groups reversed, the lowest five bits choose the slot at the root,
/// the next five the slot one level down, and so on, as in CPython's own HAMT (`contextvars`, `immutables`):
/// small integers fill nodes densely and iterate in the same order as there, and `str` hashes, random in every
/// bit, are spread either way. The reordering is a bijection, so it adds no collisions: two keys collide in the
/// trie exactly when their Python hashes are equal. The type is zero-sized, which tells hamt-core that all maps
/// hash alike, so equality and `diff` of two maps walk their tries side by side.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PythonHash;

impl BuildHasher for PythonHash {
    type Hasher = GroupReversedHasher;

    fn build_hasher(&self) -> GroupReversedHasher {
        GroupReversedHasher(0)
    }
}

/// The hasher of [`PythonHash`]: the last `u64` written is the hash ([`Key`] writes its hash already reversed).
pub(crate) struct GroupReversedHasher(u64);

impl Hasher for GroupReversedHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `Key` is ever hashed, and it writes one `u64`; this fold keeps other input well defined.
        for &byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

/// `hash` with its five-bit groups in reverse order: bits `0..5` become the top five bits (the root's slot), bits
/// `5..10` the next five, and so on for twelve groups; the top four bits (`60..64`) become the bottom four, which
/// hamt-core reads last.
///
/// The twelve groups are reversed in three swaps rather than moved one by one (a third of the instructions): the
/// two halves of six groups, then within each half its two runs of three groups, then within each run its first
/// and last group. The first group (the root's slot) is left out of the swaps and moved on its own: a lookup
/// inlines this function, and hamt-core reads the root's slot before the loop that reads the rest of the hash
/// (`trie::get`), so the compiler finds the root's slot in one instruction from the Python hash, and the read of
/// the root no longer waits for the swaps (measured on one hot key of a 100k map: 1.16x -> 1.00x immutables'
/// time). Python's tests check the result against immutables' iteration order at every level.
fn groups_reversed(hash: u64) -> u64 {
    /// The low 30 bits: one half of the twelve groups.
    const HALF: u64 = (1 << 30) - 1;
    /// The low 15 bits of each half: its first run of three groups.
    const RUNS: u64 = 0x7fff | (0x7fff << 30);
    /// The first group of each run of three.
    const OUTER: u64 = 0x1f | (0x1f << 15) | (0x1f << 30) | (0x1f << 45);
    /// The middle group of each run, which stays where it is.
    const MIDDLE: u64 = OUTER << 5;
    // Groups 1 to 11: the swaps would put group 0 in the top five bits, and it is zero here.
    let groups = hash & ((1 << 60) - 1) & !0x1f;
    let groups = (groups >> 30) | ((groups & HALF) << 30);
    let groups = ((groups >> 15) & RUNS) | ((groups & RUNS) << 15);
    let groups = ((groups >> 10) & OUTER) | ((groups & OUTER) << 10) | (groups & MIDDLE);
    // Group 0 to the top, on its own; the four bits above the twelve groups to the bottom.
    (hash << 59) | (groups << 4) | (hash >> 60)
}
