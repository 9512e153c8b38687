//! Tells the compiler which interpreter the module is built for: `Py_GIL_DISABLED` (a free-threaded CPython)
//! selects atomic reference counts for the tries (see `src/gil.rs`).

fn main() {
    pyo3_build_config::use_pyo3_cfgs();
}
