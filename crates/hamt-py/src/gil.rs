//! The pointer kind of the tries, and the one claim of this crate that the compiler cannot check: the only module
//! of hamt-py with `unsafe` code.
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
//! Miri cannot run this crate (its code runs only inside a Python interpreter), so the claim rests on the argument
//! above; the trie code it relies on is hamt-core's, which Miri checks with both pointer kinds.
#![allow(unsafe_code)]

use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};

use pyo3::prelude::*;

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
        // SAFETY: the thread is attached to the interpreter (the module documentation's second claim), which is
        // what `assume_attached` requires; the token does not outlive this call.
        let py = unsafe { Python::assume_attached() };
        Object::new(self.0.clone_ref(py))
    }
}

impl Drop for Object {
    fn drop(&mut self) {
        // SAFETY: this is the drop, so `self.0` is never used again after it is taken out.
        let object = unsafe { ManuallyDrop::take(&mut self.0) };
        // SAFETY: as in `clone`: the thread is attached, so the count can change in place.
        let py = unsafe { Python::assume_attached() };
        drop(object.into_bound(py));
    }
}
