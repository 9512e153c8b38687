//! The views (`keys()`, `values()`, `items()`), the iterator over a map, and the lazy `diff` iterator.

use hamt_core::DiffItem;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use pyo3::{PyTraverseError, PyVisit};

use crate::errors::guarded;
use crate::gil::{GilGuarded, Pointers};
use crate::map::Map;
use crate::object::{Key, Trie, Value};

/// What an iterator over a map yields.
#[derive(Clone, Copy)]
pub(crate) enum ItemKind {
    Keys,
    Values,
    Items,
}

/// The iterator of a trie, in the cell that owns the trie it borrows.
type TrieIter<'a> = hamt_core::Iter<'a, Key, Value, Pointers>;

self_cell::self_cell!(
    /// A copy of a map's root (nodes are shared, not copied) and an iterator borrowing it.
    struct IterCell {
        owner: Trie,
        #[covariant]
        dependent: TrieIter,
    }
);

/// An iterator over a map's keys, values or items.
///
/// It walks a copy of the map's root by reference, so that it increments the count of only what it yields, and
/// keeps the map itself, as a list iterator keeps its list, so that the garbage collector sees the objects it can
/// still yield through the map.
#[pyclass(module = "hamt", name = "MapIterator")]
pub(crate) struct MapIterator {
    map: Py<Map>,
    entries: GilGuarded<IterCell>,
    kind: ItemKind,
}

impl MapIterator {
    pub(crate) fn new(map: &Bound<'_, Map>, kind: ItemKind) -> PyResult<MapIterator> {
        let entries = GilGuarded::new(IterCell::new(map.try_borrow()?.trie.clone(), |trie| trie.iter()));
        Ok(MapIterator { map: map.clone().unbind(), entries, kind })
    }
}

#[pymethods]
impl MapIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let kind = self.kind;
        self.entries.with_dependent_mut(|_, entries| {
            let Some((key, value)) = entries.next() else {
                return Ok(None);
            };
            Ok(Some(match kind {
                ItemKind::Keys => key.object().clone_ref(py),
                ItemKind::Values => value.0.clone_ref(py),
                // A pair converts to a tuple by filling a new 2-tuple directly.
                ItemKind::Items => {
                    (key.object().clone_ref(py), value.0.clone_ref(py)).into_pyobject(py)?.into_any().unbind()
                }
            }))
        })
    }

    fn __length_hint__(&self) -> usize {
        self.entries.borrow_dependent().len()
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.map)
    }
}

/// Defines a view class: its length, its iterator, and a `repr` that lists what it yields.
macro_rules! view {
    ($(#[$doc:meta])* $name:ident, $python_name:literal, $kind:expr) => {
        $(#[$doc])*
        #[pyclass(module = "hamt", name = $python_name, sequence)]
        pub(crate) struct $name {
            map: Py<Map>,
        }

        impl $name {
            pub(crate) fn new(map: &Bound<'_, Map>) -> $name {
                $name { map: map.clone().unbind() }
            }
        }

        #[pymethods]
        impl $name {
            fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
                Ok(self.map.bind(py).try_borrow()?.trie.len())
            }

            fn __iter__(&self, py: Python<'_>) -> PyResult<MapIterator> {
                MapIterator::new(self.map.bind(py), $kind)
            }

            fn __contains__(&self, item: &Bound<'_, PyAny>) -> PyResult<bool> {
                contains(self.map.bind(item.py()), $kind, item)
            }

            fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
                let items = pyo3::types::PyList::new(py, MapIterator::new(self.map.bind(py), $kind)?.entries_of(py)?)?;
                Ok(format!("{}({})", $python_name, items.repr()?))
            }

            fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
                visit.call(&self.map)
            }
        }
    };
}

impl MapIterator {
    /// Everything the iterator yields, for a `repr`.
    fn entries_of(mut self, py: Python<'_>) -> PyResult<Vec<Py<PyAny>>> {
        let mut all = Vec::with_capacity(self.__length_hint__());
        while let Some(item) = self.__next__(py)? {
            all.push(item);
        }
        Ok(all)
    }
}

/// `item in view`: a lookup for keys and items, a scan (as in `dict`'s values view) for values.
fn contains(map: &Bound<'_, Map>, kind: ItemKind, item: &Bound<'_, PyAny>) -> PyResult<bool> {
    let map = map.try_borrow()?;
    match kind {
        ItemKind::Keys => {
            let key = Key::probe(item)?;
            guarded(|| map.trie.contains_key(&key))
        }
        ItemKind::Items => {
            let Ok(pair) = item.cast::<PyTuple>() else { return Ok(false) };
            if pair.len() != 2 {
                return Ok(false);
            }
            let key = pair.get_item(0)?;
            let key = Key::probe(&key)?;
            let Some(value) = guarded(|| map.trie.get(&key).map(|value| value.0.clone_ref(item.py())))? else {
                return Ok(false);
            };
            value.bind(item.py()).eq(pair.get_item(1)?)
        }
        ItemKind::Values => {
            for value in map.trie.values() {
                if value.0.bind(item.py()).eq(item)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
    }
}

view!(
    /// `Map.keys()`: iterable, sized, and `key in view` is a lookup.
    MapKeys,
    "MapKeys",
    ItemKind::Keys
);
view!(
    /// `Map.values()`: iterable and sized.
    MapValues,
    "MapValues",
    ItemKind::Values
);
view!(
    /// `Map.items()`: iterable over `(key, value)` tuples, and sized.
    MapItems,
    "MapItems",
    ItemKind::Items
);

/// The diff of two tries, in the cell that owns the tries it borrows.
type TrieDiff<'a> = hamt_core::Diff<'a, Key, Value, Pointers, crate::object::PythonHash>;

self_cell::self_cell!(
    /// Two tries and the diff iterator that walks them.
    struct DiffCell {
        owner: (Trie, Trie),
        #[covariant]
        dependent: TrieDiff,
    }
);

/// The lazy iterator of `Map.diff(other)`.
#[pyclass(module = "hamt", name = "DiffIterator")]
pub(crate) struct DiffIterator {
    maps: (Py<Map>, Py<Map>),
    cell: GilGuarded<DiffCell>,
}

impl DiffIterator {
    pub(crate) fn new(first: &Bound<'_, Map>, second: &Bound<'_, Map>) -> PyResult<DiffIterator> {
        let tries = (first.try_borrow()?.trie.clone(), second.try_borrow()?.trie.clone());
        let cell = GilGuarded::new(DiffCell::new(tries, |(first, second)| first.diff(second)));
        Ok(DiffIterator { maps: (first.clone().unbind(), second.clone().unbind()), cell })
    }
}

#[pymethods]
impl DiffIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// The next difference. When a value's `__eq__` raises, the exception propagates and the pair is skipped.
    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<Py<PyTuple>>> {
        let item = guarded(|| {
            self.cell.with_dependent_mut(|_, diff| {
                diff.next().map(|item| match item {
                    DiffItem::Added(key, value) => ("added", key.object().clone_ref(py), value.0.clone_ref(py), None),
                    DiffItem::Removed(key, value) => {
                        ("removed", key.object().clone_ref(py), value.0.clone_ref(py), None)
                    }
                    DiffItem::Changed { key, old, new } => {
                        ("changed", key.object().clone_ref(py), old.0.clone_ref(py), Some(new.0.clone_ref(py)))
                    }
                })
            })
        })?;
        let Some((kind, key, value, new)) = item else {
            return Ok(None);
        };
        let kind = kind.into_pyobject(py)?.into_any().unbind();
        let tuple = match new {
            Some(new) => PyTuple::new(py, [kind, key, value, new])?,
            None => PyTuple::new(py, [kind, key, value])?,
        };
        Ok(Some(tuple.unbind()))
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.maps.0)?;
        visit.call(&self.maps.1)
    }
}
