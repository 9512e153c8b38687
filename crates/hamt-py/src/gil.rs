//! The pointer kind of the tries, and the claims of this crate that the compiler cannot check: the only module of
//! hamt-py with `unsafe` code.
//!
//! # Why plain reference counts
//! A persistent `set` copies the path to the changed entry and counts one more reference to every child of every
//! copied node; dropping a version counts them down again. With atomic counts ([`hamt_core::ArcTK`]) those
//! increments were about half the time of a `set` (measured: `set` on a 10k map, 871 ns with atomic counts against
//! 435 ns with plain ones). `immutables` and CPython's own HAMT count with plain integers, because the GIL makes
//! one thread at a time touch any object. On an interpreter with a GIL the tries here do the same: their nodes
//! use [`hamt_core::RcK`].
//!
//! # The claims
//! A trie of `RcK` nodes is neither `Send` nor `Sync`, and PyO3 requires both of every class, because Python may
//! call a method of one object from any of its threads. [`GilGuarded`] asserts them for what it holds, which is
//! sound because of how this crate touches it:
//! - Every access (read, clone, update, drop) happens inside a method, slot or garbage collector callback that
//!   CPython calls on a thread attached to the interpreter, or in PyO3's deallocation of an object, which also
//!   runs attached. This crate starts no threads and never detaches from the interpreter
//!   (`Python::detach`), and hands no trie or node to code outside the crate.
//! - On an interpreter with a GIL, a thread is attached exactly while it holds the GIL, so at most one thread
//!   at a time runs any code that touches a trie. A trie operation may run Python code (a key's `__eq__`), during
//!   which CPython can hand the GIL to another thread; that thread may then count references to shared nodes,
//!   but the GIL's release and acquisition order those writes before the first thread's next read (a
//!   happens-before edge, as for every Python object), and no node can be freed under the first thread: the
//!   map it works on holds its own counted reference to its root for the whole call.
//! - On a free-threaded interpreter (`Py_GIL_DISABLED`, which the build configuration reports for the
//!   interpreter the module is built for), attached threads run at the same time (the module asks for the GIL,
//!   but `PYTHON_GIL=0` overrides that), so there the tries use atomic counts ([`hamt_core::ArcTK`]), and
//!   [`GilGuarded`] claims nothing: it is `Send` and `Sync` exactly when what it holds is.
//! - A module built for one interpreter is loaded only by that interpreter (the version-specific build's file
//!   name carries its ABI tag, `cpython-313` or `cpython-313t`), so the build-time choice matches the run time.
//!   PyO3 refuses to load the module in a subinterpreter, whose GIL would not be the main interpreter's.
//!
//! The second claim is [`Object`]'s: the keys and values in a trie are cloned and dropped only by trie operations
//! and deallocations, which run on attached threads as the first point says, so their reference counts change
//! without PyO3's question whether the thread is attached (a thread-local read before every change).
//!
//! The same fact, a thread attached to the interpreter for every access, carries the rest of the module:
//! - [`Uncounted`] holds a lookup's probe key without counting a reference, for as long as the borrow of its object.
//! - [`Exclusive`] is an iterator's position, changed through a shared reference behind a plain busy flag (atomic
//!   borrow flags are PyO3's price for a class that is not `frozen`).
//! - [`cached_str_hash`] reads the hash a string caches in itself, and [`refill_pair`] refills a 2-tuple that only
//!   its owner holds, as `dict`'s items iterator does.
//! - The C functions of [`install_fast_slots`] and [`install_fast_methods`] take `map[key]`, `key in map`,
//!   `next()` over a map and positional calls of `set`, `delete` and `get` without PyO3's call wrapper, and hand
//!   every call they do not take to the PyO3 function they replaced. CPython calls them attached; what they run owns
//!   only `Bound`s, and an exception is restored inside `Python::attach`, so nothing waits in PyO3's queue of
//!   reference counts to release (which only its wrapper empties).
//! - [`new_map`] and [`dealloc_map`] make and free `Map` objects without PyO3's creation path and deallocation
//!   trampoline, on a layout that [`install_fast_lifecycle`] checks on an object PyO3 made.
//!
//! Miri cannot run this crate (its code runs only inside a Python interpreter), so the claims rest on the argument
//! above; the trie code they rely on is hamt-core's, which Miri checks with both pointer kinds.
#![allow(unsafe_code)]

use std::ffi::c_int;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple, PyType};
use pyo3::{Borrowed, ffi};

use crate::iter::MapIterator;
use crate::map::Map;
use crate::object::Key;

/// The pointer kind of every trie: plain counts under the GIL, atomic counts on a free-threaded interpreter.
#[cfg(not(Py_GIL_DISABLED))]
pub(crate) type Pointers = hamt_core::RcK;

/// The pointer kind of every trie: plain counts under the GIL, atomic counts on a free-threaded interpreter.
#[cfg(Py_GIL_DISABLED)]
pub(crate) type Pointers = hamt_core::ArcTK;

/// A value of a Python object's state (a trie, or an iterator over one) that only threads holding the GIL touch:
/// `Send` and `Sync` on that ground, as the module documentation argues. Read and changed through `Deref` and
/// `DerefMut`, like the value itself.
pub(crate) struct GilGuarded<T>(T);

impl<T> GilGuarded<T> {
    /// Guards `value`, which from now on only threads holding the GIL touch.
    pub(crate) fn new(value: T) -> GilGuarded<T> {
        GilGuarded(value)
    }
}

impl<T> Deref for GilGuarded<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for GilGuarded<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

// SAFETY: as the module documentation argues: with the GIL enabled, every thread that touches the value holds the
// GIL while it does, so moving the value to another thread never lets two threads touch it at once, and the GIL's
// handover orders one thread's writes before the next thread's reads.
#[cfg(not(Py_GIL_DISABLED))]
unsafe impl<T> Send for GilGuarded<T> {}

// SAFETY: as for `Send`: a shared reference is used only by the thread holding the GIL, one thread at a time, so
// the non-atomic reference counts behind it are never changed by two threads at once.
#[cfg(not(Py_GIL_DISABLED))]
unsafe impl<T> Sync for GilGuarded<T> {}

/// State that the methods of a `frozen` class change through a shared reference: an iterator's position. One
/// change at a time: a change attempted while another is in progress (from inside it, or from another thread while
/// the first has handed the GIL away) finds the state busy and is refused.
///
/// It replaces PyO3's borrow flag for a class that is not `frozen`, whose atomic updates, with PyO3's call
/// wrapper, were a third of the time of a step of iteration over a map.
#[cfg(not(Py_GIL_DISABLED))]
pub(crate) struct Exclusive<T> {
    busy: std::cell::Cell<bool>,
    value: std::cell::UnsafeCell<T>,
}

#[cfg(not(Py_GIL_DISABLED))]
impl<T> Exclusive<T> {
    pub(crate) fn new(value: T) -> Exclusive<T> {
        Exclusive { busy: std::cell::Cell::new(false), value: std::cell::UnsafeCell::new(value) }
    }

    /// Runs `change` on the state, or returns `None` without running it if a change is in progress.
    pub(crate) fn with_mut<R>(&self, change: impl FnOnce(&mut T) -> R) -> Option<R> {
        /// Marks the state free again when the change ends, by return or by panic.
        struct Release<'a>(&'a std::cell::Cell<bool>);
        impl Drop for Release<'_> {
            fn drop(&mut self) {
                self.0.set(false);
            }
        }
        if self.busy.replace(true) {
            return None;
        }
        let _release = Release(&self.busy);
        // SAFETY: `busy` was false and is now true until `_release` drops after `change` returns, so no other
        // reference to the value exists while `change` holds this one: every access goes through `with_mut`,
        // which refuses while `busy` is set. `busy` itself is only touched by threads holding the GIL (see
        // `Send`/`Sync` below), so its test and set are not interleaved with another thread's.
        Some(change(unsafe { &mut *self.value.get() }))
    }
}

// SAFETY: as for `GilGuarded`: with the GIL enabled every thread that touches the flag or the state holds the GIL
// while it does, and the GIL's handover orders one thread's writes before the next thread's reads.
#[cfg(not(Py_GIL_DISABLED))]
unsafe impl<T> Send for Exclusive<T> {}

// SAFETY: as for `Send`.
#[cfg(not(Py_GIL_DISABLED))]
unsafe impl<T> Sync for Exclusive<T> {}

/// State that the methods of a `frozen` class change through a shared reference (see the GIL build's
/// `Exclusive`): on a free-threaded interpreter, a mutex that refuses a change while another is in progress.
#[cfg(Py_GIL_DISABLED)]
pub(crate) struct Exclusive<T>(std::sync::Mutex<T>);

#[cfg(Py_GIL_DISABLED)]
impl<T> Exclusive<T> {
    pub(crate) fn new(value: T) -> Exclusive<T> {
        Exclusive(std::sync::Mutex::new(value))
    }

    /// Runs `change` on the state, or returns `None` without running it if a change is in progress.
    pub(crate) fn with_mut<R>(&self, change: impl FnOnce(&mut T) -> R) -> Option<R> {
        match self.0.try_lock() {
            Ok(mut value) => Some(change(&mut value)),
            Err(std::sync::TryLockError::Poisoned(poisoned)) => Some(change(&mut poisoned.into_inner())),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }
}

/// A counted reference to a Python object, as the keys and values of a trie hold it: cloning and dropping it
/// change the object's reference count in place.
///
/// PyO3's `Py` asks a thread-local whether the thread is attached to the interpreter before each change (and
/// defers the change otherwise); copying a node clones every entry in it, and those questions were a tenth of a
/// persistent `set`. The answer here is always yes (the module documentation's second claim).
pub(crate) struct Object(ManuallyDrop<Py<PyAny>>);

impl Object {
    /// Holds `object`, whose reference it takes over.
    pub(crate) fn new(object: Py<PyAny>) -> Object {
        Object(ManuallyDrop::new(object))
    }

    /// The reference, handed back to PyO3.
    pub(crate) fn into_inner(self) -> Py<PyAny> {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again, so the reference is taken out exactly once.
        unsafe { ManuallyDrop::take(&mut this.0) }
    }
}

impl Deref for Object {
    type Target = Py<PyAny>;

    fn deref(&self) -> &Py<PyAny> {
        &self.0
    }
}

impl Clone for Object {
    fn clone(&self) -> Object {
        // The thread is attached (the module documentation's second claim), so the count changes in place.
        Object::new(with_attached(|py| self.0.clone_ref(py)))
    }
}

impl Drop for Object {
    fn drop(&mut self) {
        // SAFETY: this is the drop, so `self.0` is never used again after it is taken out.
        let object = unsafe { ManuallyDrop::take(&mut self.0) };
        // As in `clone`: the thread is attached, so the count changes in place.
        with_attached(|py| drop(object.into_bound(py)));
    }
}

/// Runs `f` with the token of the attached thread, without asking whether the thread is attached (PyO3's
/// `Python::attach` reads a thread-local count first): for what trie operations do to keys and values (clone,
/// drop, compare), which runs attached (the module documentation's first and second points).
pub(crate) fn with_attached<R>(f: impl for<'py> FnOnce(Python<'py>) -> R) -> R {
    // SAFETY: trie operations, and the drops of the objects they hold, run on a thread attached to the interpreter
    // (the module documentation's claims), and the token does not outlive `f`.
    f(unsafe { Python::assume_attached() })
}

/// A value that holds a Python object without counting a reference to it, for as long as the borrow `'a` of that
/// object: a lookup's probe key, which the trie only compares. It is never dropped (so it never gives back the
/// reference it did not take); a clone of what it holds counts its own reference as usual.
pub(crate) struct Uncounted<'a, T> {
    value: ManuallyDrop<T>,
    borrow: PhantomData<&'a Py<PyAny>>,
}

impl<'a> Uncounted<'a, Key> {
    /// The key of `object` with the stored hash `trie_hash`, for as long as `object` is borrowed. Saves the
    /// increment and decrement of a probe's count, which also write to the probe's memory.
    pub(crate) fn key(trie_hash: u64, object: &'a Bound<'_, PyAny>) -> Uncounted<'a, Key> {
        // SAFETY: `from_owned_ptr` takes over a reference without counting it; the reference taken over is the
        // borrow of `object`, which outlives `'a`, and the `Py` made here is never dropped: it moves into the key
        // inside `ManuallyDrop`, which `Uncounted` never takes out or drops (it hands out only `&Key`).
        let object = Object::new(unsafe { Bound::from_owned_ptr(object.py(), object.as_ptr()) }.unbind());
        Uncounted { value: ManuallyDrop::new(Key::from_parts(trie_hash, object)), borrow: PhantomData }
    }
}

impl<T> Deref for Uncounted<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

/// PyO3's implementations of the slots that [`install_fast_slots`] replaced: the fast slots hand them every call
/// they do not answer themselves.
static GENERAL_SUBSCRIPT: OnceLock<ffi::binaryfunc> = OnceLock::new();
static GENERAL_CONTAINS: OnceLock<ffi::objobjproc> = OnceLock::new();
static GENERAL_ITERNEXT: OnceLock<ffi::iternextfunc> = OnceLock::new();

/// Puts C slots for `map[key]` and `key in map` on the type `Map` that answer the common case directly (see
/// [`map::fast_lookup`](crate::map::fast_lookup)) and hand every other call to PyO3's implementation, which
/// they replace.
///
/// PyO3's slot wrappers mark the thread attached in a thread-local count, set up a panic trap and extract the
/// arguments: about 90 of a lookup's 500 instructions. CPython calls a slot only on an attached thread, so a
/// lookup that runs no Python code, drops no `Py` and raises nothing needs none of that. Subclasses made later
/// inherit the fast slots; `Map.__getitem__` called by name still reaches PyO3's (a slot wrapper keeps the
/// function it was made for). Runs once, when the module is initialised (PyO3 refuses to initialise it twice).
pub(crate) fn install_fast_slots(map_type: &Bound<'_, PyType>, iterator_type: &Bound<'_, PyType>) {
    let ty = map_type.as_type_ptr();
    // SAFETY: `ty` is the heap type PyO3 made for `Map`, whose mapping and sequence method tables live in the
    // type object itself; nothing reads them while this runs (module initialisation, attached, before any instance
    // or subclass exists), and `PyType_Modified` drops what CPython cached of the type afterwards. A slot is
    // replaced only when its general function was saved, so the saved one is never one of these.
    unsafe {
        if let Some(mapping) = (*ty).tp_as_mapping.as_mut() {
            replace_slot(&mut mapping.mp_subscript, &GENERAL_SUBSCRIPT, subscript);
        }
        if let Some(sequence) = (*ty).tp_as_sequence.as_mut() {
            replace_slot(&mut sequence.sq_contains, &GENERAL_CONTAINS, contains);
        }
        ffi::PyType_Modified(ty);
        let ty = iterator_type.as_type_ptr();
        replace_slot(&mut (*ty).tp_iternext, &GENERAL_ITERNEXT, iternext);
        ffi::PyType_Modified(ty);
    }
}

/// Puts `fast` in `slot` after saving the function it held in `general`; leaves an empty slot, or one whose
/// function was saved before, as it is (so the saved function is never a fast one).
fn replace_slot<F: Copy>(slot: &mut Option<F>, general: &OnceLock<F>, fast: F) {
    if let Some(current) = *slot {
        if general.set(current).is_ok() {
            *slot = Some(fast);
        }
    }
}

/// `next(iterator)` over a map: [`iter::fast_next`](crate::iter::fast_next)'s answer, else PyO3's slot (which
/// raises for an iterator that is already busy).
unsafe extern "C" fn iternext(iterator: *mut ffi::PyObject) -> *mut ffi::PyObject {
    // SAFETY: CPython calls `tp_iternext` attached, with a borrowed instance of `MapIterator` (a final class),
    // alive for the call. The fast path owns only `Bound`s, whose drops change counts directly; an exception it
    // returns is raised by `raise`, and a null result without one means the iterator is exhausted, as the slot's
    // protocol says. A panic is caught and the call handed to PyO3's slot.
    unsafe {
        let py = Python::assume_attached();
        let next = catch_unwind(AssertUnwindSafe(|| {
            let this = Borrowed::from_ptr(py, iterator).cast_unchecked::<MapIterator>();
            crate::iter::fast_next(this.get(), py)
        }));
        match next {
            Ok(Some(Ok(Some(item)))) => item.into_ptr(),
            Ok(Some(Ok(None))) => std::ptr::null_mut(),
            Ok(Some(Err(error))) => {
                raise(error);
                std::ptr::null_mut()
            }
            _ => match GENERAL_ITERNEXT.get() {
                Some(general) => general(iterator),
                None => std::ptr::null_mut(),
            },
        }
    }
}

/// `map[key]`: the value [`map::fast_lookup`](crate::map::fast_lookup) finds (a new reference), else PyO3's slot
/// (which also raises `KeyError` for an absent key).
unsafe extern "C" fn subscript(map: *mut ffi::PyObject, key: *mut ffi::PyObject) -> *mut ffi::PyObject {
    // SAFETY: CPython calls a type's `mp_subscript` on an attached thread with a borrowed instance of the type
    // (or of a subclass, which has the same layout up to `Map`) and a borrowed key, both alive for the call.
    // A panic is caught here (unwinding out of a C slot would abort) and the call handed to PyO3's slot, which
    // reports panics its own way. The fast path drops no `Py` (whose drop would consult PyO3's thread-local
    // count, which this slot does not set) and leaves no exception set.
    unsafe {
        let py = Python::assume_attached();
        let found = catch_unwind(AssertUnwindSafe(|| {
            let map = Borrowed::from_ptr(py, map).cast_unchecked::<Map>();
            crate::map::fast_lookup(map.get(), &Borrowed::from_ptr(py, key))
        }));
        match found {
            Ok(Some(Some(value))) => value.0.clone_ref(py).into_ptr(),
            _ => match GENERAL_SUBSCRIPT.get() {
                Some(general) => general(map, key),
                None => std::ptr::null_mut(),
            },
        }
    }
}

/// `key in map`: [`map::fast_lookup`](crate::map::fast_lookup)'s answer when it has one, else PyO3's slot.
unsafe extern "C" fn contains(map: *mut ffi::PyObject, key: *mut ffi::PyObject) -> c_int {
    // SAFETY: as in `subscript`: CPython calls `sq_contains` attached, with a borrowed instance and key.
    unsafe {
        let py = Python::assume_attached();
        let found = catch_unwind(AssertUnwindSafe(|| {
            let map = Borrowed::from_ptr(py, map).cast_unchecked::<Map>();
            crate::map::fast_lookup(map.get(), &Borrowed::from_ptr(py, key)).map(|value| value.is_some())
        }));
        match found {
            Ok(Some(present)) => c_int::from(present),
            _ => match GENERAL_CONTAINS.get() {
                Some(general) => general(map, key),
                None => -1,
            },
        }
    }
}

/// The hash CPython cached in the string `text` when it was first hashed, or `None` if it has not been (`-1`).
///
/// Reading it directly saves a lookup the call of `hash()` through the type's `tp_hash` (a tenth of the lookup's
/// instructions). For an exact `str` it is the string's `hash()`; on a free-threaded interpreter, where another
/// thread may be writing the field at the same time, and on PyPy, it is left to `hash()`.
pub(crate) fn cached_str_hash(text: &Bound<'_, PyString>) -> Option<isize> {
    #[cfg(not(any(Py_GIL_DISABLED, PyPy)))]
    {
        // SAFETY: every `str` object, exact or a subclass, starts with a `PyASCIIObject`, whose `hash` field
        // CPython writes once, when the string is first hashed, by a thread holding the GIL; this thread holds
        // the GIL too, so the read is not concurrent with that write.
        let hash = unsafe { (*text.as_ptr().cast::<ffi::PyASCIIObject>()).hash };
        (hash != -1).then_some(hash)
    }
    #[cfg(any(Py_GIL_DISABLED, PyPy))]
    {
        let _ = text;
        None
    }
}

/// The 2-tuple `(key, value)` made by refilling `cached`, when nothing but its owner holds it; else the two objects
/// back, for a new tuple.
///
/// An iterator over a map's items keeps the first tuple it yields and refills it at the next step if the consumer
/// has let it go, as `dict`'s items iterator does: `for key, value in map.items()` unpacks each tuple and drops it
/// at once, so the iteration allocates and frees one tuple in all instead of one per item. On a free-threaded
/// interpreter (whose counts are split between threads) it always makes a new tuple.
pub(crate) fn refill_pair<'py>(
    cached: &Py<PyTuple>,
    key: Bound<'py, PyAny>,
    value: Bound<'py, PyAny>,
) -> Result<Bound<'py, PyTuple>, (Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    #[cfg(not(Py_GIL_DISABLED))]
    {
        let py = key.py();
        let tuple = cached.as_ptr();
        // SAFETY: `cached` is a live 2-tuple (the owner keeps it), and this thread holds the GIL, so reading its
        // count is not concurrent with a change.
        if unsafe { ffi::Py_REFCNT(tuple) } != 1 {
            return Err((key, value));
        }
        let pair = cached.bind(py).clone();
        // SAFETY: the owner's reference was the only one, so no other code can see the tuple while its items are
        // replaced (the clone above is ours): it was made with two items, so indices 0 and 1 are in range, and
        // each item slot holds an owned reference, taken out here and handed to `Bound`s that release it below,
        // after the new items (owned references, moved in by `into_ptr`) are in place, since releasing an old item
        // may run a finalizer. The collector may have stopped tracking the tuple (it does that to tuples of
        // atomic objects), so it tracks it again, as the tuple may now hold anything.
        unsafe {
            let old_key = Bound::from_owned_ptr(py, ffi::PyTuple_GET_ITEM(tuple, 0));
            let old_value = Bound::from_owned_ptr(py, ffi::PyTuple_GET_ITEM(tuple, 1));
            ffi::PyTuple_SET_ITEM(tuple, 0, key.into_ptr());
            ffi::PyTuple_SET_ITEM(tuple, 1, value.into_ptr());
            if ffi::PyObject_GC_IsTracked(tuple) == 0 {
                ffi::PyObject_GC_Track(tuple.cast());
            }
            drop((old_key, old_value));
        }
        Ok(pair)
    }
    #[cfg(Py_GIL_DISABLED)]
    {
        let _ = cached;
        Err((key, value))
    }
}

/// PyO3's functions behind the methods that [`install_fast_methods`] replaced (all `METH_FASTCALL |
/// METH_KEYWORDS`): the fast functions hand them every call they do not take.
static GENERAL_SET: OnceLock<ffi::PyCFunctionFastWithKeywords> = OnceLock::new();
static GENERAL_DELETE: OnceLock<ffi::PyCFunctionFastWithKeywords> = OnceLock::new();
static GENERAL_GET: OnceLock<ffi::PyCFunctionFastWithKeywords> = OnceLock::new();

/// Replaces `Map.set`, `Map.delete` and `Map.get` with method descriptors of C functions that take the usual
/// positional call directly and hand any other (keywords, a wrong number of arguments) to PyO3's function.
///
/// PyO3's method wrappers mark the thread attached in a thread-local count, set up a panic trap and extract the
/// arguments by a general description of the signature: about 180 of the 3,850 instructions of a persistent
/// `delete` on a 10k map (measured with callgrind; the C function that replaces them costs about 40). The new
/// descriptors keep the name, flags and documentation (with its text signature) of PyO3's. A method not found as
/// expected is left as it is.
pub(crate) fn install_fast_methods(map_type: &Bound<'_, PyType>) {
    replace_method(map_type, c"set", set, &GENERAL_SET);
    replace_method(map_type, c"delete", delete, &GENERAL_DELETE);
    replace_method(map_type, c"get", get, &GENERAL_GET);
}

fn replace_method(
    map_type: &Bound<'_, PyType>,
    name: &std::ffi::CStr,
    fast: ffi::PyCFunctionFastWithKeywords,
    general: &OnceLock<ffi::PyCFunctionFastWithKeywords>,
) {
    let ty = map_type.as_type_ptr();
    // SAFETY: runs once, at module initialisation, attached, before any instance or subclass of `Map` exists.
    // `tp_dict` of a ready heap type is its attribute dictionary; the entry read is a borrowed reference that the
    // dictionary keeps alive while it is used here. It is used as a method descriptor only after its type is
    // checked to be exactly that, whose `d_method` points at PyO3's static `PyMethodDef`. The replacement
    // definition is leaked, as a method definition must outlive its descriptors. Setting the dictionary entry
    // directly is how CPython itself fills a type's dictionary (the type is immutable to Python code, not to
    // this module), and `PyType_Modified` drops the method caches afterwards. An error while doing so is cleared
    // and the method left as it is.
    unsafe {
        let dict = (*ty).tp_dict;
        if dict.is_null() {
            return;
        }
        let descriptor = ffi::PyDict_GetItemString(dict, name.as_ptr());
        if descriptor.is_null() || ffi::Py_TYPE(descriptor) != std::ptr::addr_of_mut!(ffi::PyMethodDescr_Type) {
            return;
        }
        let definition = (*descriptor.cast::<ffi::PyMethodDescrObject>()).d_method;
        if (*definition).ml_flags != ffi::METH_FASTCALL | ffi::METH_KEYWORDS
            || general.set((*definition).ml_meth.PyCFunctionFastWithKeywords).is_err()
        {
            return;
        }
        let replacement = Box::leak(Box::new(ffi::PyMethodDef {
            ml_name: (*definition).ml_name,
            ml_meth: ffi::PyMethodDefPointer { PyCFunctionFastWithKeywords: fast },
            ml_flags: (*definition).ml_flags,
            ml_doc: (*definition).ml_doc,
        }));
        let method = ffi::PyDescr_NewMethod(ty, replacement);
        if method.is_null() || ffi::PyDict_SetItemString(dict, name.as_ptr(), method) != 0 {
            ffi::PyErr_Clear();
        }
        if !method.is_null() {
            ffi::Py_DECREF(method);
        }
        ffi::PyType_Modified(ty);
    }
}

/// The body of a `Map` method called positionally: the map and the first and, if given, the second argument.
type MethodBody = for<'a, 'py> fn(
    &Bound<'py, Map>,
    Borrowed<'a, 'py, PyAny>,
    Option<Borrowed<'a, 'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>>;

/// Sets `error` as the exception of a C function called without PyO3's call wrapper.
///
/// Restoring an error may release references (a lazily made exception's type and arguments), which PyO3 releases
/// at once only when its thread-local count says the thread is attached, and otherwise queues until the next call
/// through its wrapper. The fast functions leave that count as CPython called them (zero), so the error is restored
/// inside `Python::attach`, which sets the count for its duration: errors are rare, and only they pay for it.
fn raise(error: PyErr) {
    Python::attach(|py| error.restore(py));
}

/// Runs `body` on a positional call of a `Map` method with `arity` arguments (`arity.contains(nargs)`, one or
/// two: `body` gets the first and, if given, the second), or hands the call to `general`.
///
/// # Safety
/// The arguments must be those CPython passes to a `METH_FASTCALL | METH_KEYWORDS` method of `Map`: `map` an
/// instance of `Map` (the method descriptor checks the type before the call), `args` `nargs` borrowed objects
/// (plus the keyword values, when `kwnames` is not null), all alive for the call, on an attached thread.
#[inline(always)]
unsafe fn call_method(
    map: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
    arity: std::ops::RangeInclusive<ffi::Py_ssize_t>,
    general: &OnceLock<ffi::PyCFunctionFastWithKeywords>,
    body: MethodBody,
) -> *mut ffi::PyObject {
    // SAFETY: as the function's contract says; the body owns only `Bound`s (whose drops change counts directly,
    // without PyO3's thread-local count, which this call does not set), an exception it returns is raised by
    // `raise`,
    // and a panic is caught (unwinding out of a C function would abort) and the call handed to PyO3's function.
    unsafe {
        let py = Python::assume_attached();
        if kwnames.is_null() && arity.contains(&nargs) {
            let result = catch_unwind(AssertUnwindSafe(|| {
                let map = Borrowed::from_ptr(py, map).cast_unchecked::<Map>();
                let first = Borrowed::from_ptr(py, *args);
                let second = (nargs > 1).then(|| Borrowed::from_ptr(py, *args.add(1)));
                body(&map, first, second)
            }));
            match result {
                Ok(Ok(object)) => return object.into_ptr(),
                Ok(Err(error)) => {
                    raise(error);
                    return std::ptr::null_mut();
                }
                Err(_) => {}
            }
        }
        match general.get() {
            Some(general) => general(map, args, nargs, kwnames),
            None => std::ptr::null_mut(),
        }
    }
}

/// Defines a `METH_FASTCALL | METH_KEYWORDS` C function of `Map` that runs `body` through [`call_method`] on
/// positional calls of `arity` arguments and hands every other call to the PyO3 function saved in `general`.
macro_rules! fast_method {
    ($(#[$doc:meta])* $name:ident, $arity:expr, $general:ident, $body:expr) => {
        $(#[$doc])*
        unsafe extern "C" fn $name(
            map: *mut ffi::PyObject,
            args: *const *mut ffi::PyObject,
            nargs: ffi::Py_ssize_t,
            kwnames: *mut ffi::PyObject,
        ) -> *mut ffi::PyObject {
            // SAFETY: CPython calls this as the `METH_FASTCALL | METH_KEYWORDS` method of `Map` it was installed
            // as (`install_fast_methods`), with the arguments `call_method` requires.
            unsafe { call_method(map, args, nargs, kwnames, $arity, &$general, $body) }
        }
    };
}

fast_method!(
    /// `Map.set(key, value)`.
    set,
    2..=2,
    GENERAL_SET,
    |map, key, value| crate::map::map_set(map, &key, &value.expect("two arguments"))
);

fast_method!(
    /// `Map.delete(key)`.
    delete,
    1..=1,
    GENERAL_DELETE,
    |map, key, _| crate::map::map_delete(map, &key).map(Bound::into_any)
);

fast_method!(
    /// `Map.get(key, default=None)`.
    get,
    1..=2,
    GENERAL_GET,
    |map, key, default| crate::map::map_get(map, &key, default.as_deref())
);

/// Where a `Map` object keeps its `Map` and its list of weak references, as [`install_fast_lifecycle`] found them
/// in an object made by PyO3, and the type. Unset when the layout was not as expected: PyO3 then makes and frees
/// every `Map` object.
struct MapLayout {
    /// The `Map` type object (kept alive by PyO3's type object, for the life of the process).
    map_type: *mut ffi::PyTypeObject,
    /// Its `tp_alloc`.
    alloc: ffi::allocfunc,
    /// The offset of the `Map` value from the start of the object.
    contents: usize,
    /// The offset of the weak reference list (`tp_weaklistoffset`).
    weaklist: usize,
}

// SAFETY: the type pointer is only read, on attached threads, and the type object lives as long as the process.
unsafe impl Send for MapLayout {}
// SAFETY: as for `Send`.
unsafe impl Sync for MapLayout {}

static MAP_LAYOUT: OnceLock<MapLayout> = OnceLock::new();

/// Makes `Map` objects without PyO3's creation path and frees them without its deallocation trampoline, once the
/// layout of a `Map` object made by PyO3 is found to be what these shortcuts write.
///
/// PyO3 makes an object of a `#[pyclass]` by calling `object.__new__` with an empty tuple (which checks its
/// arguments and calls the type's `tp_alloc`), then writes the value and its bookkeeping; it frees one through a
/// trampoline that sets up its thread-local count and a panic trap. Together about 200 of the 3,650 instructions
/// of a persistent `set` on a 10k map, where `immutables` spends about 80 on its map object. The shortcuts:
/// [`new_map`] calls `tp_alloc` (which zeroes the object, sets its type and reference count and tracks it for the
/// collector) and writes the value; [`dealloc_map`] untracks the object, clears its weak references, drops the
/// value, calls `tp_free` and releases the type, the protocol of a heap type's `tp_dealloc`.
///
/// They are installed only if an object made by PyO3 is exactly the object header, the value and the weak
/// reference list, the list empty: PyO3's other bookkeeping takes no bytes for a `frozen` class shared between
/// threads, so `tp_alloc`'s zeroes and the value are the whole object, as PyO3 would have made it. Otherwise, or
/// on any surprise, PyO3 keeps both jobs.
pub(crate) fn install_fast_lifecycle(map_type: &Bound<'_, PyType>) {
    let py = map_type.py();
    let Ok(sample) = Bound::new(py, Map::empty()) else {
        return;
    };
    let ty = map_type.as_type_ptr();
    let header = std::mem::size_of::<ffi::PyObject>();
    // SAFETY: runs once, at module initialisation, attached, before any other `Map` object exists; `sample` is a
    // live `Map` object of exactly that type, `get` points at its value inside it, and the only bytes read are
    // the type's fields and the weak reference list, which the layout check finds inside the object (after the
    // value, within `tp_basicsize`) before reading it, and which PyO3 initialises (to null).
    unsafe {
        if ffi::Py_TYPE(sample.as_ptr()) != ty {
            return;
        }
        let object = sample.as_ptr().cast::<u8>();
        let Ok(contents) = usize::try_from((sample.get() as *const Map).cast::<u8>().offset_from(object)) else {
            return;
        };
        let end = contents + std::mem::size_of::<Map>();
        let (Ok(size), Ok(weaklist)) = (usize::try_from((*ty).tp_basicsize), usize::try_from((*ty).tp_weaklistoffset))
        else {
            return;
        };
        let pointer = std::mem::size_of::<*mut ffi::PyObject>();
        // Exactly the object header, the value, and the weak reference list: nothing else for `tp_alloc`'s zeroes
        // to stand in for, and the list, which PyO3 writes, still empty.
        let fits = (*ty).tp_itemsize == 0
            && contents == header
            && weaklist == end
            && size == weaklist + pointer
            && object.add(weaklist).cast::<*mut ffi::PyObject>().read().is_null()
            && (*ty).tp_free.is_some()
            && ffi::PyType_HasFeature(ty, ffi::Py_TPFLAGS_HEAPTYPE) != 0;
        let (true, Some(alloc)) = (fits, (*ty).tp_alloc) else {
            return;
        };
        if MAP_LAYOUT.set(MapLayout { map_type: ty, alloc, contents, weaklist }).is_ok() {
            (*ty).tp_dealloc = Some(dealloc_map);
            ffi::PyType_Modified(ty);
        }
    }
}

/// A new `Map` object holding `map` (see [`install_fast_lifecycle`]).
///
/// # Errors
/// `MemoryError` if the object cannot be allocated.
#[inline]
pub(crate) fn new_map(py: Python<'_>, map: Map) -> PyResult<Bound<'_, Map>> {
    let Some(layout) = MAP_LAYOUT.get() else {
        return Bound::new(py, map);
    };
    // SAFETY: the layout was checked on an object of this type (`install_fast_lifecycle`): `tp_alloc` returns a
    // zeroed object of `tp_basicsize` bytes with its header set, tracked by the collector, in which every byte but
    // the value's is as PyO3 leaves it; the value is written before anything else can see the object (no Python
    // code runs in between, so no collection). The new reference is owned by the returned `Bound`.
    unsafe {
        let object = (layout.alloc)(layout.map_type, 0);
        if object.is_null() {
            return Err(PyErr::fetch(py));
        }
        object.cast::<u8>().add(layout.contents).cast::<Map>().write(map);
        Ok(Bound::from_owned_ptr(py, object).cast_into_unchecked())
    }
}

/// The `tp_dealloc` of `Map` once [`install_fast_lifecycle`] has checked the layout: also called, through
/// `subtype_dealloc`, for instances of Python subclasses, which share the layout up to the end of `Map`'s.
///
/// # Safety
/// Called by CPython, attached, with an object of `Map` or a subclass whose count reached zero.
unsafe extern "C" fn dealloc_map(object: *mut ffi::PyObject) {
    // SAFETY: as the function's contract says; `MAP_LAYOUT` is set before this function is installed. The object
    // is untracked before its value is dropped (the collector must not traverse a half-dropped object), its weak
    // references are cleared while it is still whole, the value is dropped once (it was written by `new_map` or
    // PyO3 at the same offset), and `tp_free` of its own type frees it; a heap type's instances own a reference
    // to their type, released last. A panic cannot unwind out of this C function: dropping a trie only changes
    // counts and releases Python references (`Object`'s drop), which never panic; were one to, it aborts.
    unsafe {
        let Some(layout) = MAP_LAYOUT.get() else {
            std::process::abort();
        };
        let ty = ffi::Py_TYPE(object);
        ffi::PyObject_GC_UnTrack(object.cast());
        if !object.cast::<u8>().add(layout.weaklist).cast::<*mut ffi::PyObject>().read().is_null() {
            ffi::PyObject_ClearWeakRefs(object);
        }
        std::ptr::drop_in_place(object.cast::<u8>().add(layout.contents).cast::<Map>());
        match (*ty).tp_free {
            Some(free) => free(object.cast()),
            None => ffi::PyObject_GC_Del(object.cast()),
        }
        ffi::Py_DECREF(ty.cast());
    }
}

/// mimalloc as the extension's global allocator (`ALLOCATOR` in lib.rs), called through its unaligned functions
/// wherever they give enough alignment.
///
/// The `mimalloc` crate's allocator calls `mi_malloc_aligned` for every allocation, whose checks and occasional
/// detours cost a persistent `set` or `delete` about 40 instructions more than `mi_malloc` (three allocations and
/// three frees per operation on a 10k map). Every block `mi_malloc` returns is aligned to 8 bytes at least (its
/// blocks are whole machine words), which is all a node (and nearly anything else here) asks for; larger
/// alignments go to the aligned functions.
pub(crate) struct Allocator;

/// The alignment every block of `mi_malloc` has.
const MI_MALLOC_ALIGN: usize = std::mem::size_of::<usize>();

// SAFETY: each method forwards to the mimalloc function for the request: the unaligned ones only when the layout's
// alignment is at most `MI_MALLOC_ALIGN`, which every block they return has, and the aligned ones otherwise;
// blocks are freed and resized only by mimalloc, which allocated them. mimalloc returns null on failure, as the
// trait requires, and its functions may be called from any thread.
unsafe impl std::alloc::GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: see the implementation's comment.
        unsafe {
            if layout.align() <= MI_MALLOC_ALIGN {
                libmimalloc_sys::mi_malloc(layout.size()).cast()
            } else {
                libmimalloc_sys::mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: see the implementation's comment.
        unsafe {
            if layout.align() <= MI_MALLOC_ALIGN {
                libmimalloc_sys::mi_zalloc(layout.size()).cast()
            } else {
                libmimalloc_sys::mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, block: *mut u8, _layout: std::alloc::Layout) {
        // SAFETY: see the implementation's comment.
        unsafe { libmimalloc_sys::mi_free(block.cast()) }
    }

    #[inline]
    unsafe fn realloc(&self, block: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        // SAFETY: see the implementation's comment.
        unsafe {
            if layout.align() <= MI_MALLOC_ALIGN {
                libmimalloc_sys::mi_realloc(block.cast(), new_size).cast()
            } else {
                libmimalloc_sys::mi_realloc_aligned(block.cast(), new_size, layout.align()).cast()
            }
        }
    }
}

/// The number of pairs from which an update gives the memory of its build back to the system at once (see
/// [`release_batch_memory`]): below it, the build's buffers are a few megabytes at most.
pub(crate) const LARGE_BATCH: usize = 1 << 16;

/// Returns the free memory of the extension's heap to the system now rather than after mimalloc's delay: called
/// once a large update has been built ([`crate::map::extend_trie`]).
///
/// hamt-core builds a batch in buffers of its own (the entries as read, with their hashes, and a hash and a position
/// per entry) that it frees once the trie is built. mimalloc gives freed memory back to the system only a second
/// later, so until then the process holds the map and, beside it, as much again in memory it no longer uses: a
/// 1M-entry map measured 71 bytes per entry of resident memory just after `Map(d)`, and 32.5 with this call. It
/// costs about 3 ms at 100k entries (where the build itself takes 7 ms) and 27 ms at 1M (65 ms), measured as the
/// difference of `Map(d)` with and without it.
pub(crate) fn release_batch_memory() {
    // SAFETY: `mi_collect` takes no pointers and may be called on any thread at any time: it frees only memory
    // that no allocation uses (mimalloc's free pages and the buffers of freed blocks).
    unsafe { libmimalloc_sys::mi_collect(true) }
}
