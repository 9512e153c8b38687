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

mod raw_nodes {
    use alloc::rc::Rc;
    use alloc::string::{String, ToString};

    use archery::{ArcTK, RcK};

    use crate::raw::{BitCounter, Builder, Edit, Node, Shape, Slot, SlotMut};

    type Entry = (Rc<String>, Rc<u32>);

    fn entry(i: u32) -> Entry {
        (Rc::new(i.to_string()), Rc::new(i))
    }

    /// A node with entries at bits 1, 4 and 16 and no children.
    fn three() -> Node<Rc<String>, Rc<u32>, RcK> {
        let mut builder = Builder::new(Shape::bitmap(1 | 4 | 16, 0));
        for i in 0..3 {
            builder.push_entry(entry(i));
        }
        builder.finish()
    }

    #[test]
    fn an_unfinished_builder_drops_what_it_wrote() {
        let kept = entry(7);
        let mut builder: Builder<Rc<String>, Rc<u32>, RcK> = Builder::new(Shape::bitmap(0b111, 0));
        builder.push_entry(kept.clone());
        drop(builder);
        assert_eq!((Rc::strong_count(&kept.0), Rc::strong_count(&kept.1)), (1, 1));
    }

    #[test]
    fn in_place_edits_resize_and_keep_every_entry_once() {
        let mut node = three();
        let probe = node.entries()[1].clone();
        let unique = node.unique_mut().expect("a fresh node is unique");
        let (removed, _) = unique.edit(Shape::bitmap(1 | 16, 0), Edit::Remove(1), Edit::Keep);
        assert_eq!(removed.map(|(key, _)| key), Some(probe.0.clone()));
        assert_eq!(node.entries().len(), 2);
        let unique = node.unique_mut().expect("still unique");
        unique.edit(Shape::bitmap(1 | 2 | 16, 0), Edit::Insert(1, entry(9)), Edit::Keep);
        let values: alloc::vec::Vec<u32> = node.entries().iter().map(|(_, value)| **value).collect();
        assert_eq!(values, [0, 9, 2]);
        drop(node);
        assert_eq!(Rc::strong_count(&probe.0), 1, "the removed entry was dropped exactly once");
    }

    #[test]
    fn push_down_and_pull_up_move_entries_without_copies() {
        let mut node = three();
        let moved = node.entries()[2].clone();
        node.unique_mut().expect("unique").push_down(16, |existing| {
            let mut child = Builder::new(Shape::bitmap(1, 0));
            child.push_entry(existing);
            Ok(child.finish())
        });
        assert_eq!((node.datamap(), node.nodemap(), node.children().len()), (1 | 4, 16, 1));
        assert_eq!(Rc::strong_count(&moved.0), 2, "moved, not cloned");
        node.unique_mut().expect("unique").pull_up(16);
        assert_eq!((node.datamap(), node.nodemap()), (1 | 4 | 16, 0));
        assert!(Rc::ptr_eq(&node.entries()[2].0, &moved.0));
    }

    /// A mask with more than one bit set reads the slot of its lowest bit, never past the entries: with the
    /// entries at bits 1, 4 and 16, the mask `2 | 4 | 16` once passed the test (it shares bits with the datamap)
    /// and counted three entries below it, reading a fourth past the end of the node.
    #[test]
    fn a_slot_reader_given_several_bits_stays_inside_the_node() {
        let mut node = three();
        assert!(node.entry_at_bit(2 | 4 | 16).is_none());
        assert_eq!(node.entry_at_bit(16 | 32).map(|(_, value)| **value), Some(2));
        assert!(node.child_at_bit(2 | 4 | 16).is_none());
        assert!(matches!(node.slot_at_bit(2 | 4 | 16, BitCounter::NATIVE), Slot::Empty));
        assert!(node.unique_mut().expect("unique").into_entry_at_bit(2 | 4 | 16).is_none());
        let unique = node.unique_mut().expect("unique");
        assert!(matches!(unique.into_slot_at_bit(2 | 4 | 16, BitCounter::NATIVE), SlotMut::Empty));
    }

    /// The reshapes check their bit before moving anything.
    #[test]
    #[should_panic(expected = "push_down of a missing entry")]
    fn push_down_rejects_a_mask_of_several_bits() {
        let mut node = three();
        node.unique_mut().expect("unique").push_down(16 | 32, |existing| {
            let mut child = Builder::new(Shape::bitmap(1, 0));
            child.push_entry(existing);
            Ok(child.finish())
        });
    }

    #[test]
    fn a_shared_node_is_not_unique_and_a_drain_takes_only_unshared_nodes() {
        let node: Node<u8, u8, ArcTK> = {
            let mut builder = Builder::new(Shape::collision(2));
            builder.push_entry((1, 1));
            builder.push_entry((2, 2));
            builder.finish()
        };
        let mut shared = node.clone();
        assert!(shared.unique_mut().is_none());
        let Err(node) = node.into_drain() else { panic!("a shared node must not drain") };
        drop(shared);
        let mut drain = node.into_drain().ok().expect("unique once the other handle is gone");
        assert_eq!(drain.next_entry(), Some((1, 1)));
        // The second entry is dropped with the drain.
    }
}

/// Lookups and in-place updates count bits two ways, chosen by the cached answer of CPUID (`raw::popcnt::STATE`):
/// lookups with POPCNT or `u32::count_ones` (`raw::BitCounter`), in-place updates in a copy compiled with POPCNT or
/// in the plain one (`raw::with_popcnt`). This test forces each way in turn on the same maps and compares both
/// with a model, so that a difference between the two paths cannot go unseen.
#[cfg(all(target_arch = "x86_64", not(target_feature = "popcnt"), not(target_env = "sgx"), not(miri)))]
mod popcount_paths {
    use alloc::collections::BTreeMap;
    use alloc::vec::Vec;
    use core::hash::{BuildHasher, BuildHasherDefault, Hasher};
    use core::sync::atomic::Ordering;

    use crate::HamtMap;
    use crate::raw::popcnt::{self, ABSENT, PRESENT, STATE};

    /// Keeps 4 bits of a `u64` key and spreads them over the hash's top and bottom, so that keys collide in
    /// whole (collision nodes) as well as share long prefixes (deep chains).
    #[derive(Default)]
    struct FourBits(u64);

    impl Hasher for FourBits {
        fn finish(&self) -> u64 {
            let low = self.0 & 0xF;
            (low << 60) | (low << 2)
        }
        fn write(&mut self, bytes: &[u8]) {
            for &byte in bytes {
                self.0 = self.0.rotate_left(8) ^ u64::from(byte);
            }
        }
        fn write_u64(&mut self, value: u64) {
            self.0 = value;
        }
    }

    /// Runs `run` the way asked for: `hardware == false` forces the paths without POPCNT.
    fn with_path<R>(hardware: bool, run: impl FnOnce() -> R) -> R {
        let wanted = if hardware { PRESENT } else { ABSENT };
        STATE.store(wanted, Ordering::Relaxed);
        let result = run();
        // Only `detect` stores otherwise, and only a thread that found the state unknown, which `check_paths`
        // rules out before the first run by asking first: the state held, so the path was the one asked.
        assert_eq!(STATE.load(Ordering::Relaxed), wanted, "the POPCNT state changed during a run");
        popcnt::detect();
        result
    }

    /// A sequence of in-place inserts and removes (and lookups after each), from a fixed seed.
    fn operations(count: usize, key_space: u64) -> Vec<(bool, u64)> {
        let mut state = 0x2545_F491_4F6C_DD1D_u64;
        (0..count)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state % 3 != 0, (state >> 8) % key_space)
            })
            .collect()
    }

    fn check_paths<S: BuildHasher + Default + Clone>(count: usize, key_space: u64) {
        // The processor of every x86-64 test machine has POPCNT: both paths must be reachable here.
        #[cfg(feature = "std")]
        assert_eq!(popcnt::detect(), std::is_x86_feature_detected!("popcnt"));
        assert!(popcnt::detect(), "this test needs a processor with POPCNT to reach both paths");
        let mut model = BTreeMap::new();
        let mut maps: [HamtMap<u64, u64, archery::RcK, S>; 2] = [HamtMap::default(), HamtMap::default()];
        for (step, (insert, key)) in operations(count, key_space).into_iter().enumerate() {
            let value = step as u64;
            let expected = if insert { model.insert(key, value) } else { model.remove(&key) };
            for (map, hardware) in maps.iter_mut().zip([false, true]) {
                let got = with_path(hardware, || {
                    // Every other step edits the map while a clone shares its nodes (path copying), the others
                    // edit it in place.
                    let shared = (step % 2 == 0).then(|| map.clone());
                    let got = if insert { map.insert_mut(key, value) } else { map.remove_mut(&key) };
                    drop(shared);
                    got
                });
                assert_eq!(got, expected, "step {step}, POPCNT: {hardware}");
                map.check_invariants();
            }
            // Every map is read both ways: the present keys and some absent ones.
            for hardware in [false, true] {
                with_path(hardware, || {
                    for map in &maps {
                        assert_eq!(map.len(), model.len());
                        for probe in [key, key + 1, key.wrapping_mul(31)] {
                            assert_eq!(map.get(&probe), model.get(&probe), "step {step}, POPCNT: {hardware}");
                        }
                    }
                });
            }
        }
        for hardware in [false, true] {
            with_path(hardware, || {
                for map in &maps {
                    assert!(model.iter().all(|(key, value)| map.get(key) == Some(value)));
                }
            });
        }
        assert!(maps[0] == maps[1]);
    }

    /// One test, not two: the path is chosen by a global state, which two tests running at once would both set.
    #[test]
    fn both_paths_agree_with_the_model() {
        check_paths::<crate::DefaultHashBuilder>(3000, 600);
        // Deep chains and collision nodes.
        check_paths::<BuildHasherDefault<FourBits>>(1500, 200);
    }
}

/// Lookups through full nodes (every slot a child), which read the child in the slot of the digit without
/// counting bits (`Node::full_child`), and through the same nodes once they are one child short, which count:
/// against a model, in maps built every way a root can come to be full.
mod full_nodes {
    use alloc::collections::BTreeMap;
    use alloc::vec::Vec;
    use core::hash::{BuildHasherDefault, Hasher};

    use archery::RcK;

    use crate::HamtMap;
    use crate::raw::Node;

    /// Hashes a `u64` to itself, so that a key chooses its own path: its top five bits the root's slot, the next
    /// five the slot below, and so on.
    #[derive(Default)]
    struct Itself(u64);

    impl Hasher for Itself {
        fn finish(&self) -> u64 {
            self.0
        }
        fn write(&mut self, _: &[u8]) {
            unreachable!("only u64 keys are hashed");
        }
        fn write_u64(&mut self, value: u64) {
            self.0 = value;
        }
    }

    type Map = HamtMap<u64, u64, RcK, BuildHasherDefault<Itself>>;

    /// How many levels are full: two natively, one under Miri (the 2,048 keys of two take minutes there).
    const FULL_LEVELS: u32 = if cfg!(miri) { 1 } else { 2 };

    /// How far left a key's counter is shifted: it fills the top `5 * FULL_LEVELS + 1` bits of the hash.
    const SHIFT: u32 = 63 - 5 * FULL_LEVELS;

    /// How many keys: two below every slot of the full levels (2,048 for two full levels, 64 for one).
    const COUNT: u64 = 1 << (5 * FULL_LEVELS + 1);

    /// The keys: a counter in the hash's top bits, so that every slot of the full levels has two keys below it,
    /// and the level below holds pairs of entries.
    fn keys() -> Vec<u64> {
        (0..COUNT).map(|i| i << SHIFT).collect()
    }

    fn is_full(node: &Node<u64, u64, RcK>) -> bool {
        node.full_child(0).is_some()
    }

    /// Every key of `model` is found with its value, and probes that lead to an empty slot, to a slot holding
    /// another key, and past the keys' range are not.
    fn check(map: &Map, model: &BTreeMap<u64, u64>) {
        map.check_invariants();
        assert_eq!(map.len(), model.len());
        for (key, value) in model {
            assert_eq!(map.get(key), Some(value));
            assert_eq!(map.get_key_value(key), Some((key, value)));
        }
        for i in 0..COUNT {
            for probe in [(i << SHIFT) | (5 << (SHIFT - 9)), (i << SHIFT) | 1, (i << SHIFT) ^ (1 << (SHIFT - 1))] {
                assert_eq!(map.get(&probe), model.get(&probe), "probe {probe:#x}");
            }
        }
    }

    #[test]
    fn lookups_through_full_and_almost_full_nodes_agree_with_the_model() {
        let mut model: BTreeMap<u64, u64> = keys().into_iter().map(|key| (key, key >> (SHIFT - 3))).collect();
        let built: Map = model.iter().map(|(&key, &value)| (key, value)).collect();
        let mut inserted = Map::default();
        let mut persistent = Map::default();
        for (&key, &value) in &model {
            inserted.insert_mut(key, value);
            persistent = persistent.insert(key, value);
        }
        for map in [&built, &inserted, &persistent] {
            let root = map.root().expect("the map is not empty");
            assert!(is_full(root), "the test needs a full root");
            if FULL_LEVELS == 2 {
                assert!((0..32).all(|digit| root.full_child(digit).is_some_and(is_full)), "and full nodes below");
            }
            check(map, &model);
        }
        let mut map = built.clone();
        if FULL_LEVELS == 2 {
            // One key fewer below the root's first slot: the node there holds 31 children and an entry, and is
            // read by counting bits.
            map.remove_mut(&0);
            model.remove(&0);
            let root = map.root().expect("the map is not empty");
            assert!(is_full(root) && !is_full(root.full_child(0).expect("the root is full")));
            check(&map, &model);
        }
        // The keys below the root's last slot removed: the root is one child short.
        for i in COUNT - COUNT / 32..COUNT {
            map.remove_mut(&(i << SHIFT));
            model.remove(&(i << SHIFT));
        }
        assert!(!is_full(map.root().expect("the map is not empty")));
        check(&map, &model);
        // The maps that still share the full nodes are unchanged.
        assert!(built == inserted && inserted == persistent && built.len() as u64 == COUNT);
    }

    /// Path copies of nodes of every width, replacing each of their children in turn (`copy_replacing_child`,
    /// which counts the kept children four at a time): every version agrees with its model, and once the copies
    /// are dropped the values are held by the original map alone (no handle was counted too often or too rarely).
    #[test]
    fn path_copies_of_every_width_keep_every_version_and_their_counts() {
        use alloc::rc::Rc;

        type Counted = HamtMap<u64, Rc<u64>, RcK, BuildHasherDefault<Itself>>;
        let below = 1 << 53; // the second key of a root slot: the same root digit, another digit below.
        // Under Miri, a sample of the widths (the chunks of four and each remainder).
        let widths: Vec<u64> = if cfg!(miri) { alloc::vec![1, 3, 4, 7, 32] } else { (1..=32).collect() };
        for width in widths {
            // `width` root slots with two keys each (children), and up to three slots with one key (entries).
            let mut keys: Vec<u64> = (0..width).flat_map(|slot| [slot << 59, (slot << 59) | below]).collect();
            keys.extend((width..32.min(width + 3)).map(|slot| slot << 59));
            let original: Counted = keys.iter().map(|&key| (key, Rc::new(key))).collect();
            assert_eq!(original.root().map(|root| root.children().len()), Some(width as usize));
            for slot in 0..width {
                let (replaced, added) = (slot << 59, (slot << 59) | (below >> 1));
                let changed = original.insert(replaced, Rc::new(0)).insert(added, Rc::new(1));
                let removed = original.remove(&((slot << 59) | below));
                changed.check_invariants();
                removed.check_invariants();
                for &key in &keys {
                    assert_eq!(*original[&key], key, "width {width}, slot {slot}: the original changed");
                    let expected = if key == replaced { 0 } else { key };
                    assert_eq!(changed.get(&key).map(|value| **value), Some(expected));
                    let kept = key != ((slot << 59) | below);
                    assert_eq!(removed.get(&key).map(|value| **value), kept.then_some(key));
                }
                assert_eq!(changed.get(&added).map(|value| **value), Some(1));
                assert_eq!((changed.len(), removed.len()), (keys.len() + 1, keys.len() - 1));
            }
            assert!(
                original.values().all(|value| Rc::strong_count(value) == 1),
                "width {width}: a value is still held after the copies were dropped"
            );
        }
    }
}

/// Lookups in a map large enough that the walk asks for each node's second line (`trie::PREFETCH_FROM`), and in
/// the same map once it is below that size again: against a model.
#[test]
fn lookups_on_both_sides_of_the_prefetch_size() {
    use alloc::collections::BTreeMap;

    // Under Miri the prefetch is compiled out, so the large map would only repeat the small one, slowly.
    let count: u64 = if cfg!(miri) { 200 } else { 2 * crate::trie::PREFETCH_FROM as u64 };
    let mut map: HamtMap<u64, u64> = (0..count).map(|key| (key, key ^ 0x5555)).collect();
    let mut model: BTreeMap<u64, u64> = (0..count).map(|key| (key, key ^ 0x5555)).collect();
    for round in 0..2 {
        assert_eq!(map.len(), model.len());
        for probe in 0..count + count / 4 {
            assert_eq!(map.get(&probe), model.get(&probe), "round {round}, probe {probe}");
        }
        // Down to a quarter: below the size on the second round.
        for key in 0..count * 3 / 4 {
            map.remove_mut(&key);
            model.remove(&key);
        }
    }
}
