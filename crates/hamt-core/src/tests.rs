//! Unit tests of the node layer and the trie algorithms (the model-based suites live in `tests/`).

use super::*;

#[test]
fn insert_get_remove_small() {
    let n = if cfg!(miri) { 120 } else { 1000 };
    let mut map: HamtMap<u32, u32> = HamtMap::new();
    for i in 0..n {
        assert_eq!(map.insert_mut(i, i * 2), None);
        map.check_invariants();
    }
    for i in 0..n {
        assert_eq!(map.get(&i), Some(&(i * 2)));
    }
    for i in (0..n).step_by(2) {
        assert_eq!(map.remove_mut(&i), Some(i * 2));
        map.check_invariants();
    }
    assert_eq!(map.len() as u32, n / 2);
}
