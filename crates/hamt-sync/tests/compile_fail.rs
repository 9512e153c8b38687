//! The compile errors a user meets in the first hour, with the compiler output they get checked word for word
//! (trybuild; `TRYBUILD=overwrite` rewrites the expected `.stderr` files after a deliberate change):
//!
//! - a store of hamt-core's `RcK` maps is refused where it is made, with a message that names hamt-sync's maps;
//! - a persistent update whose result is dropped is an error under `deny(unused_must_use)`, with a message that
//!   names the in-place method;
//! - `HamtMap::new()` on a thread-safe map without the prelude points to the `New` trait.
//!
//! The expected output is that of the stable toolchain the tests run on; another compiler version may word it
//! differently.

#[test]
#[cfg_attr(miri, ignore = "runs the compiler")]
fn first_hour_compile_errors() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/compile_fail/*.rs");
}
