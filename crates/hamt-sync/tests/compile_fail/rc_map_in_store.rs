// hamt-core's default map counts references without atomics: a store of it must not compile.
fn main() {
    let map: hamt_core::HamtMap<u32, u32> = hamt_core::HamtMap::new();
    let _store = hamt_sync::VersionedStore::new(map);
}
