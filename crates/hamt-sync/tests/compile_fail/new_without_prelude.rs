// `new()` on a thread-safe map needs the `New` trait in scope; the compiler says which to import.
use hamt_sync::HamtMap;

fn main() {
    let mut map = HamtMap::new();
    map.insert_mut(1, "one");
}
