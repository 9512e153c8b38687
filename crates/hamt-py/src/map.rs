//! `hamt.Map`: the persistent map, with the API of `immutables.Map` 0.21.

use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::atomic::{AtomicIsize, Ordering};

use pyo3::exceptions::{PyKeyError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::pyclass::CompareOp;
use pyo3::types::{PyDict, PyList, PyString, PyTuple, PyType};
use pyo3::{PyTraverseError, PyVisit};

use crate::errors::guarded;
use crate::gil::{GilGuarded, Object};
use crate::iter::{DiffIterator, ItemKind, MapItems, MapIterator, MapKeys, MapValues};
use crate::mutation::MapMutation;
use crate::object::{Key, PythonHash, Trie, Value, is_atomic};

/// The hash of a map that has not been hashed yet (a Python hash is never -1).
const UNHASHED: isize = -1;

/// An immutable mapping that shares structure between versions.
///
/// The class is `frozen`: nothing changes a map after it is made, so PyO3 keeps no borrow flag for it (whose
/// atomic updates cost a lookup a quarter of its time). Like `tuple`, it has no `__clear__`: a reference cycle
/// through an immutable map must pass through a mutable object (one made before the map cannot refer to it
/// otherwise), and the collector breaks the cycle by clearing that object, which frees the map.
#[pyclass(module = "hamt", name = "Map", mapping, subclass, weakref, generic, frozen)]
pub(crate) struct Map {
    pub(crate) trie: GilGuarded<Trie>,
    /// What the entries are known to be.
    pub(crate) contents: Contents,
    /// The cached `hash()`, or [`UNHASHED`].
    hash: AtomicIsize,
}

impl Map {
    /// A map of `trie`, whose [`Contents`] the caller kept track of.
    pub(crate) fn from_trie(trie: Trie, contents: Contents) -> Map {
        Map { trie: GilGuarded::new(trie), contents, hash: AtomicIsize::new(UNHASHED) }
    }

    pub(crate) fn empty() -> Map {
        Map::from_trie(Trie::with_hasher(PythonHash), Contents::EMPTY)
    }
}

/// What the entries of a trie are known to be, kept beside it as pairs are added. A removal leaves it as it was:
/// it may then claim less than is true (a cycle that is no longer possible), never more.
#[derive(Clone, Copy)]
pub(crate) struct Contents {
    /// Whether some key or value is of a type that can refer back to the map. When it is false the garbage
    /// collector's traversal visits nothing, so maps of strings and numbers cost the collector nothing per entry
    /// (the objects it would visit are not tracked by the collector anyway).
    pub(crate) may_hold_cycle: bool,
    /// Whether every key is an exact `str`. A lookup of an exact `str` in such a map compares only strings, which
    /// runs no Python code and cannot raise, so it skips the guard against `__eq__`'s exceptions ([`with_probe`]).
    pub(crate) str_keys: bool,
}

impl Contents {
    /// The contents of an empty trie.
    pub(crate) const EMPTY: Contents = Contents { may_hold_cycle: false, str_keys: true };

    /// The contents once `key` and `value` are added.
    pub(crate) fn with_pair(self, key: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> Contents {
        Contents {
            may_hold_cycle: self.may_hold_cycle || !(is_atomic(key) && is_atomic(value)),
            str_keys: self.str_keys && key.is_exact_instance_of::<PyString>(),
        }
    }

    /// The contents of a trie that holds entries of both.
    pub(crate) fn union(self, other: Contents) -> Contents {
        Contents {
            may_hold_cycle: self.may_hold_cycle || other.may_hold_cycle,
            str_keys: self.str_keys && other.str_keys,
        }
    }
}

/// Inserts every pair of `update(col, **kwargs)` into `trie`, the shared algorithm of `Map(...)`, `Map.update`
/// and `MapMutation.update`: `col` is a mapping (anything with `items()`) or an iterable of pairs.
///
/// The pairs go to hamt-core as one batch ([`Extend`]): into an empty trie (every construction), or a batch at
/// least a quarter of the trie's size, they are built top down with every node allocated once at its exact size
/// (and merged into a non-empty trie by a union that keeps whole subtrees); a smaller batch is inserted pair by
/// pair. Measured against inserting pair by pair, `Map(d)` of a dict of `str` keys: 1.4x faster at 10k, as fast
/// at 100k (where giving the build's buffers back to the system costs what the build saves), 3.1x faster at 1M;
/// resident memory at 1M 32.5 bytes per entry instead of 40.0, with no node grown and reallocated on the way (see
/// [`crate::gil::release_batch_memory`]). The batch reads the pairs as hamt-core asks for them ([`Batch`]), so no
/// list of them is made first; hamt-core may run `__eq__` (keys of equal hash), so the batch is [`guarded`].
///
/// # Errors
///
/// The exception of a key's `__hash__` or `__eq__`, of the iteration, or `TypeError`/`ValueError` for an element
/// that is not a pair. `trie` then holds part of the update: callers work on a copy and discard it.
pub(crate) fn extend_trie(
    trie: &mut Trie,
    contents: &mut Contents,
    col: Option<&Bound<'_, PyAny>>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<()> {
    // Exact dicts, lists and tuples report their true length; any other object's `__len__` could claim more than
    // it yields, and hamt-core reserves room for the length it is told.
    let trusted_len = |col: &Bound<'_, PyAny>| {
        let exact = col.is_exact_instance_of::<PyDict>()
            || col.is_exact_instance_of::<PyList>()
            || col.is_exact_instance_of::<PyTuple>();
        if exact { col.len().unwrap_or(0) } else { 0 }
    };
    let expected = col.map_or(0, trusted_len) + kwargs.map_or(0, |kwargs| kwargs.len());
    let from_col: Box<dyn Iterator<Item = PyResult<Pair<'_>>> + '_> = match col {
        None => Box::new(std::iter::empty()),
        Some(col) => {
            if let Ok(dict) = col.cast_exact::<PyDict>() {
                Box::new(dict.iter().map(Ok))
            } else {
                let elements =
                    if col.hasattr("items")? { col.call_method0("items")?.try_iter()? } else { col.try_iter()? };
                Box::new(elements.enumerate().map(|(index, element)| pair_of(index, element?)))
            }
        }
    };
    let from_kwargs = kwargs.into_iter().flat_map(|kwargs| kwargs.iter().map(Ok));
    let mut batch = Batch { pairs: from_col.chain(from_kwargs), expected, read: 0, contents: *contents, error: None };
    let built = guarded(|| trie.extend(batch.by_ref()));
    *contents = batch.contents;
    if let Some(error) = batch.error {
        return Err(error);
    }
    built?;
    if batch.read >= crate::gil::LARGE_BATCH {
        crate::gil::release_batch_memory();
    }
    Ok(())
}

/// A key and its value, as Python objects.
type Pair<'py> = (Bound<'py, PyAny>, Bound<'py, PyAny>);

/// Element `index` of an iterable given to `update`, as a pair.
fn pair_of<'py>(index: usize, element: Bound<'py, PyAny>) -> PyResult<Pair<'py>> {
    let pair = match element.cast::<PyTuple>() {
        Ok(tuple) => tuple.clone(),
        Err(_) => PyTuple::new(
            element.py(),
            element
                .try_iter()
                .map_err(|_| {
                    PyTypeError::new_err(format!("cannot convert map update sequence element #{index} to a sequence"))
                })?
                .collect::<PyResult<Vec<_>>>()?,
        )?,
    };
    if pair.len() != 2 {
        return Err(PyValueError::new_err(format!(
            "map update sequence element #{index} has length {}; 2 is required",
            pair.len()
        )));
    }
    Ok((pair.get_item(0)?, pair.get_item(1)?))
}

/// The entries of an update, made from its pairs as hamt-core reads them: each key hashed once ([`Key::new`]),
/// and what the map holds afterwards noted in `contents`. The first exception (from the iteration, a pair's shape
/// or a key's `__hash__`) ends the batch and is kept in `error` for [`extend_trie`] to raise.
struct Batch<I> {
    pairs: I,
    /// How many pairs the source says it has, if it can be trusted to (see [`extend_trie`]): less those read,
    /// hamt-core's hint for building the batch rather than inserting it pair by pair.
    expected: usize,
    /// How many pairs were read.
    read: usize,
    contents: Contents,
    error: Option<PyErr>,
}

impl<'py, I: Iterator<Item = PyResult<Pair<'py>>>> Iterator for Batch<I> {
    type Item = (Key, Value);

    fn next(&mut self) -> Option<(Key, Value)> {
        if self.error.is_some() {
            return None;
        }
        // PyO3's dict iterator panics when the dict changes size under it (a key's `__hash__` could do that);
        // Python raises `RuntimeError` for it, and so does this.
        let pair = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.pairs.next())) {
            Ok(pair) => pair?,
            Err(_) => Err(PyRuntimeError::new_err("dictionary changed size during iteration")),
        };
        self.read += 1;
        let entry = pair.and_then(|(key, value)| {
            self.contents = self.contents.with_pair(&key, &value);
            Ok((Key::new(&key)?, Value(Object::new(value.unbind()))))
        });
        match entry {
            Ok(entry) => Some(entry),
            Err(error) => {
                self.error = Some(error);
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.error.is_some() { (0, Some(0)) } else { (self.expected.saturating_sub(self.read), None) }
    }
}

/// Runs `operation` on `trie` with `key` as a probe: the shared path of the lookups and `delete` of `Map` and
/// `MapMutation`.
///
/// When every key of the trie is an exact `str` and so is `key`, the only comparisons are of two exact strings,
/// which run no Python code and cannot raise: the operation then runs without [`guarded`]'s bookkeeping (measured:
/// 2-3 ns of a 40 ns lookup). Any other operation is guarded.
///
/// # Errors
///
/// The exception of the key's `__hash__`, or of an `__eq__` called during the operation.
pub(crate) fn with_probe<T>(
    trie: &Trie,
    contents: Contents,
    key: &Bound<'_, PyAny>,
    operation: impl FnOnce(&Trie, &Key) -> T,
) -> PyResult<T> {
    let probe = Key::probe(key)?;
    if contents.str_keys && key.is_exact_instance_of::<PyString>() {
        Ok(operation(trie, &probe))
    } else {
        guarded(|| operation(trie, &probe))
    }
}

/// The value for `key` in `trie` (a new reference).
///
/// # Errors
///
/// As [`with_probe`].
pub(crate) fn lookup<'py>(
    trie: &Trie,
    contents: Contents,
    key: &Bound<'py, PyAny>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let py = key.py();
    with_probe(trie, contents, key, |trie, probe| trie.get(probe).map(|value| value.0.bind(py).clone()))
}

/// The lookup of `key` in `map` when it runs no Python code and cannot raise: when every key of the map is an exact
/// `str` and so is `key` (as [`with_probe`] decides), and the key's hash is already cached in the string. `None`
/// for every other call, which takes the general way. Answers the fast C slots of `Map` (`crate::gil`).
#[inline(always)]
pub(crate) fn fast_lookup<'m>(map: &'m Map, key: &Bound<'_, PyAny>) -> Option<Option<&'m Value>> {
    if !map.contents.str_keys {
        return None;
    }
    let probe = Key::probe_str(key.cast_exact::<PyString>().ok()?)?;
    Some(map.trie.get(&probe))
}

/// `map.set(key, value)`: the method's body, which its C function (`crate::gil`) also calls. Owns only `Bound`s.
pub(crate) fn map_set<'py>(
    slf: &Bound<'py, Map>,
    key: &Bound<'py, PyAny>,
    value: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let this = slf.get();
    let contents = this.contents.with_pair(key, value);
    let key = Key::new(key)?;
    let mut unchanged = false;
    let update = || {
        this.trie.update_with(key, |old| match old {
            Some(old) if old.0.is(value) => {
                unchanged = true;
                Some(old.clone())
            }
            _ => Some(Value(Object::new(value.clone().unbind()))),
        })
    };
    // Exact strings compare without Python code, as in `with_probe`: nothing to guard.
    let trie = if contents.str_keys { update() } else { guarded(update)? };
    if unchanged {
        return Ok(slf.clone().into_any());
    }
    Ok(crate::gil::new_map(slf.py(), Map::from_trie(trie, contents))?.into_any())
}

/// `map.delete(key)`: the method's body, which its C function (`crate::gil`) also calls. Owns only `Bound`s.
pub(crate) fn map_delete<'py>(slf: &Bound<'py, Map>, key: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Map>> {
    let this = slf.get();
    // One walk; the removed value is not wanted, so it is not cloned (as `extract` would): an absent key leaves
    // the length as it was.
    let rest = with_probe(&this.trie, this.contents, key, |trie, probe| trie.remove(probe))?;
    if rest.len() == this.trie.len() {
        return Err(PyKeyError::new_err((key.clone().unbind(),)));
    }
    crate::gil::new_map(slf.py(), Map::from_trie(rest, this.contents))
}

/// `map.get(key, default=None)`: the method's body, which its C function (`crate::gil`) also calls. Owns only
/// `Bound`s.
pub(crate) fn map_get<'py>(
    slf: &Bound<'py, Map>,
    key: &Bound<'py, PyAny>,
    default: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let this = slf.get();
    let py = slf.py();
    let found = lookup(&this.trie, this.contents, key)?;
    Ok(found.unwrap_or_else(|| default.map_or_else(|| py.None().into_bound(py), |default| default.clone())))
}

/// The one optional positional argument of `Map(...)`, `update(...)`.
fn single_argument<'py>(args: &Bound<'py, PyTuple>, what: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
    match args.len() {
        0 => Ok(None),
        1 => Ok(Some(args.get_item(0)?)),
        count => Err(PyTypeError::new_err(format!("{what} expected at most 1 arguments, got {count}"))),
    }
}

thread_local! {
    /// The maps and mutations whose `repr` is being computed on this thread, by address: a map that contains
    /// itself (through a list) is shown as `{...}`, as `dict` does.
    static IN_REPR: RefCell<HashSet<usize>> = RefCell::new(HashSet::new());
}

/// The `repr` of a trie as `name({key: value, ...})`, with recursion shown as `{...}`.
pub(crate) fn trie_repr(owner: &Bound<'_, PyAny>, trie: &Trie, name: &str) -> PyResult<String> {
    let address = owner.as_ptr() as usize;
    if !IN_REPR.with(|active| active.borrow_mut().insert(address)) {
        return Ok("{...}".to_owned());
    }
    let py = owner.py();
    let body = (|| {
        let mut parts = Vec::with_capacity(trie.len());
        for (key, value) in trie {
            parts.push(format!("{}: {}", key.object().bind(py).repr()?, value.0.bind(py).repr()?));
        }
        Ok::<_, PyErr>(parts.join(", "))
    })();
    IN_REPR.with(|active| active.borrow_mut().remove(&address));
    Ok(format!("{name}({{{}}})", body?))
}

#[pymethods]
impl Map {
    /// `Map()`, `Map(mapping)`, `Map(iterable_of_pairs)`, `Map(**kwargs)`, or a mapping or iterable with keywords.
    #[new]
    #[pyo3(signature = (*args, **kwargs))]
    fn new(args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Map> {
        let col = single_argument(args, "hamt.Map")?;
        if let Some(col) = &col {
            if let Ok(other) = col.cast::<Map>() {
                let other = other.try_borrow()?;
                if kwargs.is_none_or(|kwargs| kwargs.is_empty()) {
                    return Ok(Map::from_trie(other.trie.clone(), other.contents));
                }
            } else if col.is_instance_of::<MapMutation>() {
                return Err(PyTypeError::new_err("cannot create Maps from MapMutations"));
            }
        }
        let mut map = Map::empty();
        extend_trie(&mut map.trie, &mut map.contents, col.as_ref(), kwargs)?;
        Ok(map)
    }

    /// The map with `key` set to `value` (the same map when `key` already holds this very object).
    ///
    /// One walk down the trie both finds the old value and makes the new map; in the rare case that the old value
    /// is `value` itself, the copied path is dropped and this map returned (a lookup first would cost every other
    /// call a second walk).
    fn set(slf: &Bound<'_, Self>, key: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        map_set(slf, key, value).map(Bound::unbind)
    }

    /// The map without `key`.
    ///
    /// Raises `KeyError` when `key` is absent.
    fn delete(slf: &Bound<'_, Self>, key: &Bound<'_, PyAny>) -> PyResult<Py<Map>> {
        map_delete(slf, key).map(Bound::unbind)
    }

    /// The value for `key`, or `default`.
    #[pyo3(signature = (key, default = None))]
    fn get(slf: &Bound<'_, Self>, key: &Bound<'_, PyAny>, default: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        map_get(slf, key, default).map(Bound::unbind)
    }

    fn __getitem__(&self, key: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        lookup(&self.trie, self.contents, key)?
            .map(Bound::unbind)
            .ok_or_else(|| PyKeyError::new_err((key.clone().unbind(),)))
    }

    fn __contains__(&self, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        with_probe(&self.trie, self.contents, key, |trie, probe| trie.contains_key(probe))
    }

    fn __len__(&self) -> usize {
        self.trie.len()
    }

    fn __iter__(slf: &Bound<'_, Self>) -> PyResult<MapIterator> {
        MapIterator::new(slf, ItemKind::Keys)
    }

    /// A view of the keys.
    fn keys(slf: &Bound<'_, Self>) -> MapKeys {
        MapKeys::new(slf)
    }

    /// A view of the values.
    fn values(slf: &Bound<'_, Self>) -> MapValues {
        MapValues::new(slf)
    }

    /// A view of the `(key, value)` pairs.
    fn items(slf: &Bound<'_, Self>) -> MapItems {
        MapItems::new(slf)
    }

    /// The map with the pairs of a mapping, an iterable of pairs and keywords added (the same map when there are
    /// none).
    #[pyo3(signature = (*args, **kwargs))]
    fn update(
        slf: &Bound<'_, Self>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        let col = single_argument(args, "update")?;
        if col.is_none() && kwargs.is_none_or(|kwargs| kwargs.is_empty()) {
            return Ok(slf.clone().into_any().unbind());
        }
        let this = slf.try_borrow()?;
        let (mut trie, mut contents) = (this.trie.clone(), this.contents);
        extend_trie(&mut trie, &mut contents, col.as_ref(), kwargs)?;
        Ok(crate::gil::new_map(slf.py(), Map::from_trie(trie, contents))?.into_any().unbind())
    }

    /// A `MapMutation`: a mutable copy whose `finish()` returns a new map, for many updates at the cost of one.
    fn mutate(&self) -> MapMutation {
        MapMutation::new(self.trie.clone(), self.contents)
    }

    /// `set`, by the name pyrsistent and the project's seeds use.
    fn assoc(slf: &Bound<'_, Self>, key: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        Map::set(slf, key, value)
    }

    /// `delete`, by the name pyrsistent and the project's seeds use.
    fn dissoc(slf: &Bound<'_, Self>, key: &Bound<'_, PyAny>) -> PyResult<Py<Map>> {
        Map::delete(slf, key)
    }

    /// `update`, by the name the project's seeds use.
    #[pyo3(signature = (*args, **kwargs))]
    fn merge(
        slf: &Bound<'_, Self>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        Map::update(slf, args, kwargs)
    }

    /// `self | other`: `self.update(other)` for a mapping `other`.
    fn __or__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        if let Ok(other) = other.cast::<Map>() {
            // Both are tries: a union reuses the subtrees they share, and keeps `other`'s values, as `|` wants.
            let (this, other) = (slf.try_borrow()?, other.try_borrow()?);
            let trie = guarded(|| other.trie.union(&this.trie))?;
            return Ok(Map::from_trie(trie, this.contents.union(other.contents))
                .into_pyobject(py)?
                .into_any()
                .unbind());
        }
        if !(other.is_instance_of::<PyDict>() || other.hasattr("items")?) {
            return Ok(py.NotImplemented());
        }
        Map::update(slf, &PyTuple::new(py, [other])?, None)
    }

    /// `other | self` for a mapping `other`: a map of `other`'s pairs updated with this map's.
    fn __ror__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        if !(other.is_instance_of::<PyDict>() || other.hasattr("items")?) {
            return Ok(py.NotImplemented());
        }
        let mut map = Map::empty();
        extend_trie(&mut map.trie, &mut map.contents, Some(other), None)?;
        let this = slf.try_borrow()?;
        // `union` keeps the receiver's value for a key in both: this map's, as `|` wants.
        *map.trie = guarded(|| this.trie.union(&map.trie))?;
        map.contents = map.contents.union(this.contents);
        Ok(map.into_pyobject(py)?.into_any().unbind())
    }

    /// The differences that turn this map into `other`, lazily: `("added", key, value)`,
    /// `("removed", key, value)` and `("changed", key, old, new)`. Subtrees the maps share are skipped.
    fn diff(slf: &Bound<'_, Self>, other: &Bound<'_, Map>) -> PyResult<DiffIterator> {
        DiffIterator::new(slf, other)
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let py = other.py();
        let (Ok(other), Some(equal)) = (other.cast::<Map>(), equality_asked(op)) else {
            return Ok(py.NotImplemented());
        };
        let other = other.try_borrow()?;
        let same = guarded(|| *self.trie == *other.trie)?;
        Ok((same == equal).into_pyobject(py)?.to_owned().into_any().unbind())
    }

    /// The hash of `immutables.Map` (so that a map hashes as it did there), cached.
    ///
    /// As there, the keys' `__hash__` is called again (not the stored hash), so that a key whose hash now raises
    /// makes the map unhashable too. Raises `TypeError` when a value is unhashable.
    fn __hash__(&self, py: Python<'_>) -> PyResult<isize> {
        let cached = self.hash.load(Ordering::Relaxed);
        if cached != UNHASHED {
            return Ok(cached);
        }
        fn mix(hash: u64) -> u64 {
            (hash ^ (hash << 16) ^ 89_869_747).wrapping_mul(3_644_798_167)
        }
        let mut hash = 1_927_868_237_u64.wrapping_mul(self.trie.len() as u64 * 2 + 1);
        for (key, value) in self.trie.iter() {
            hash ^= mix(key.object().bind(py).hash()? as u64);
            hash ^= mix(value.0.bind(py).hash()? as u64);
        }
        let hash = hash.wrapping_mul(69_069).wrapping_add(907_133_923) as isize;
        let hash = if hash == UNHASHED { 590_923_713 } else { hash };
        self.hash.store(hash, Ordering::Relaxed);
        Ok(hash)
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        trie_repr(slf.as_any(), &slf.try_borrow()?.trie, "hamt.Map")
    }

    /// Pickles as `type(self)(dict(self.items()))`.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyType>, (Bound<'py, PyDict>,))> {
        let py = slf.py();
        let dict = PyDict::new(py);
        for (key, value) in slf.try_borrow()?.trie.iter() {
            dict.set_item(key.object().bind(py), value.0.bind(py))?;
        }
        Ok((slf.get_type(), (dict,)))
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        if self.contents.may_hold_cycle {
            for (key, value) in self.trie.iter() {
                visit.call(key.object())?;
                visit.call(&*value.0)?;
            }
        }
        Ok(())
    }
}

/// What `==` (true) or `!=` (false) asks for; `None` for the orderings, which maps do not have.
pub(crate) fn equality_asked(op: CompareOp) -> Option<bool> {
    match op {
        CompareOp::Eq => Some(true),
        CompareOp::Ne => Some(false),
        _ => None,
    }
}
