//! The Python package `hamt`: persistent hash maps for Python on hamt-core, with the API of `immutables.Map`.
//!
//! The crate is a thin PyO3 layer over hamt-core:
//! - `object` wraps Python objects as keys and values of a [`hamt_core::HamtMap`], hashing with Python's
//!   `__hash__` and comparing with `__eq__`;
//! - `errors` is the one place where failures become Python exceptions, including the exceptions that a key's
//!   `__eq__` raises in the middle of a trie operation;
//! - `map`, `mutation` and `iter` are the `#[pyclass]` wrappers (`Map`, `MapMutation`, the views,
//!   iterators and the diff iterator);
//! - `serialize` converts plain Python data for `serialize_multiple` and `deserialize_multiple`.
//!
//! # Pointers, threads and the GIL
//! On an interpreter with a GIL the tries count references with plain integers ([`hamt_core::RcK`]), as
//! `immutables` and CPython's own HAMT do: a persistent `set` counts a reference to every child of every node it
//! copies, and atomic counts made it take twice as long. The classes must still be `Send + Sync` for PyO3 (Python
//! calls their methods from any of its threads); `gil` is the one module with `unsafe` code, and argues why the
//! GIL makes that claim true. On a free-threaded interpreter the same source builds with atomic counts
//! ([`hamt_core::ArcTK`]) and claims nothing. `Map` is `frozen` (no borrow flag: nothing changes a map once made);
//! `MapMutation` is not, because its methods change it in place and the garbage collector's `__clear__` must empty
//! it to break a cycle. PyO3's borrow flag then guards every call on a mutation, and a re-entrant change from
//! inside a key's `__eq__` raises `RuntimeError` instead of corrupting anything. The module is built for one
//! interpreter (CPython 3.11 or later; not the stable ABI, whose reference counting goes through function calls)
//! and declares that it needs the GIL: a free-threaded CPython re-enables the GIL when it imports the module
//! (unless `PYTHON_GIL=0` says otherwise, which the atomic build of such an interpreter tolerates).

mod errors;
mod gil;
mod iter;
mod map;
mod mutation;
mod object;
mod serialize;

use pyo3::prelude::*;

/// The module `hamt`: `Map`, `MapMutation`, the view and iterator types, `serialize_multiple` and
/// `deserialize_multiple`. `collections.abc.Mapping.register(Map)` runs here, as in `immutables`. `gil_used`
/// says that the module needs the GIL (PyO3 assumes otherwise since 0.28), because the package is tested only
/// with it.
#[pymodule(gil_used = true)]
fn hamt(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    module.add_class::<map::Map>()?;
    module.add_class::<mutation::MapMutation>()?;
    module.add_class::<iter::MapKeys>()?;
    module.add_class::<iter::MapValues>()?;
    module.add_class::<iter::MapItems>()?;
    module.add_class::<iter::MapIterator>()?;
    gil::install_fast_slots(&py.get_type::<map::Map>(), &py.get_type::<iter::MapIterator>());
    gil::install_fast_methods(&py.get_type::<map::Map>());
    gil::install_fast_lifecycle(&py.get_type::<map::Map>());
    module.add_class::<iter::DiffIterator>()?;
    module.add_function(wrap_pyfunction!(serialize::serialize_multiple, module)?)?;
    module.add_function(wrap_pyfunction!(serialize::deserialize_multiple, module)?)?;
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    let mapping = py.import("collections.abc")?.getattr("Mapping")?;
    mapping.call_method1("register", (py.get_type::<map::Map>(),))?;
    Ok(())
}

/// The extension's allocator, which holds every trie node: mimalloc rather than the C library's `malloc`.
///
/// - A persistent `set` or `delete` allocates a node per level and frees as many when the old version goes:
///   mimalloc's paths are shorter (callgrind, a `set` of an existing key in a 10k map: 284 instructions fewer
///   than with `malloc`, of 3,854; `delete` 268 fewer, of 3,603). [`gil::Allocator`] calls it.
/// - mimalloc asks the kernel for transparent huge pages for its segments (`madvise`), so the nodes of a large
///   map sit on 2 MiB pages and a lookup stops missing the TLB at every level: lookups in a 1M map, in one
///   process with `immutables`, went from 0.90-1.00x to 0.79-0.87x its time.
///
/// What it costs: about 4 MiB more resident memory from the import on (the first huge pages), and at 1M entries
/// 40 bytes per entry where `malloc` took 38 (mimalloc's size classes). `MIMALLOC_ALLOW_THP=0` in the environment
/// turns the huge pages off (the import then costs 0.4 MiB more than with `malloc`). Only the extension's own
/// allocations go through it; Python's objects stay with Python's allocator.
#[global_allocator]
static ALLOCATOR: gil::Allocator = gil::Allocator;
