use super::*;

type Map = HamtMap<u32, u32, ArcTK>;

/// Checks what every state must satisfy: the history is the contiguous range of at most `depth` numbers ending
/// just before the current one.
fn check_state(state: &Published<u32, u32, ArcTK, DefaultHashBuilder>, depth: usize) {
    assert!(state.history.len() <= depth);
    assert_eq!(state.oldest() + state.history.len() as u64, state.number);
    for number in state.oldest()..state.number {
        assert!(state.history.contains_key(&number), "version {number} missing from {:?}", state.history.keys());
    }
}

#[test]
fn next_keeps_a_bounded_contiguous_history() {
    for depth in [0, 1, 2, 5] {
        let mut state = Published::first(Map::default());
        check_state(&state, depth);
        for i in 1..=12 {
            let next = state.next(state.map.insert(i, i), depth);
            assert_eq!(next.number, u64::from(i));
            check_state(&next, depth);
            // The previous state is untouched: states are immutable once built.
            assert_eq!(state.number, u64::from(i - 1));
            check_state(&state, depth);
            state = next;
        }
        assert_eq!(state.history.len(), depth);
        for number in state.oldest()..=state.number {
            assert_eq!(state.get(number).map(|map| map.len()), Some(number as usize));
        }
        assert_eq!(state.get(state.number + 1), None);
    }
}

#[test]
fn writes_install_a_new_state_each_time() {
    let store = VersionedStore::with_history(Map::default(), 3);
    let before = store.state.load_full();
    store.store(store.load());
    let after = store.state.load_full();
    // Even a write of the same map is a new state, so a compare-and-swap on the state never confuses the two.
    assert!(!Arc::ptr_eq(&before, &after));
    assert!(before.map.ptr_eq(&after.map));
    assert_eq!(after.number, 1);
    check_state(&after, 3);
}

#[test]
fn failed_updates_publish_nothing() {
    let store = VersionedStore::with_history(Map::default(), 3);
    let before = store.state.load_full();
    assert_eq!(store.try_update(|_| Err::<Map, _>("no")).map(|version| version.number), Err("no"));
    assert_eq!(store.rollback(9), Err(VersionNotFound { number: 9, oldest: 0, current: 0 }));
    assert_eq!(store.compare_and_swap(&Map::default().insert(1, 1), Map::default()).map_err(|v| v.number), Err(0));
    assert!(Arc::ptr_eq(&before, &store.state.load_full()));
}

#[test]
fn update_retries_on_a_concurrent_publish() {
    let store = VersionedStore::new(Map::default());
    let mut calls = 0;
    let version = store.update(|current| {
        calls += 1;
        if calls == 1 {
            // Another writer publishes between this attempt's read and its compare-and-swap.
            store.update(|current| current.insert(1, 1));
        }
        current.insert(2, 2)
    });
    assert_eq!(calls, 2);
    assert_eq!(version.number, 2);
    assert_eq!(version.map, Map::from([(1, 1), (2, 2)]));
    assert!(version.map.ptr_eq(&store.load()));
}
