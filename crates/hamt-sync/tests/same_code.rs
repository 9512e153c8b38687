//! hamt-sync is hamt-core with another crate name: one user program (`same_code/user.rs`), written the way the
//! README and the std docs teach, is compiled and run twice, once against each crate. The two modules differ only
//! in the line that names the crate, so anything the program uses that one crate lacks, or spells differently,
//! fails to compile here.

mod with_hamt_core {
    use hamt_core as hamt;
    include!("same_code/user.rs");
}

mod with_hamt_sync {
    use hamt_sync as hamt;
    include!("same_code/user.rs");
}

#[test]
fn the_same_program_runs_against_hamt_core() {
    with_hamt_core::run();
}

#[test]
fn the_same_program_runs_against_hamt_sync() {
    with_hamt_sync::run();
}

/// The two programs really use different maps: the hamt-sync one crosses threads.
#[test]
fn only_the_hamt_sync_maps_are_send() {
    fn send<T: Send + Sync>(_: &T) {}
    let map = with_hamt_sync::counts("a b a");
    send(&map);
    static_assertions::assert_not_impl_any!(hamt_core::HamtMap<String, usize>: Send, Sync);
}
