// Code ported from std or imbl, where `insert` changes the map in place.
#![deny(unused_must_use)]

fn main() {
    let mut map = hamt_sync::HamtMap::<u32, &str>::default();
    map.insert(1, "one");
    map.remove(&1);
    let set = hamt_core::HamtSet::<u32>::new();
    set.union(&set);
    map.insert_mut(2, "two");
}
