//! The property-testing frameworks' traits (features `arbitrary`, `quickcheck`, `proptest`): each generates valid
//! tries (checked with the invariant checker) holding what the framework generates for std's collections, for
//! every pointer kind and for hashers that force collisions.
#![cfg(any(feature = "arbitrary", feature = "quickcheck", feature = "proptest"))]

mod common;

#[cfg(feature = "arbitrary")]
mod arbitrary_impls {
    use std::collections::{HashMap, HashSet};

    use arbitrary::{Arbitrary, Unstructured};
    use hamt_core::{ArcTK, HamtMap, HamtSet, RcK};

    use crate::common::Collide;

    /// Deterministic bytes of every length up to `n`.
    fn inputs(n: usize) -> impl Iterator<Item = Vec<u8>> {
        (0..n).map(|len| (0..len).map(|i| (i * 131 + len * 7) as u8).collect())
    }

    /// From the same bytes, the same entries as std's `HashMap` (which takes `arbitrary_iter` of entries too).
    #[test]
    fn maps_and_sets_take_the_entries_std_takes() {
        for bytes in inputs(300) {
            let model = HashMap::<u8, u16>::arbitrary(&mut Unstructured::new(&bytes)).unwrap();
            let map = HamtMap::<u8, u16>::arbitrary(&mut Unstructured::new(&bytes)).unwrap();
            map.check_invariants();
            assert_eq!(map.len(), model.len());
            assert!(model.iter().all(|(key, value)| map.get(key) == Some(value)));
            let atomic = HamtMap::<u8, u16, ArcTK, Collide>::arbitrary_take_rest(Unstructured::new(&bytes)).unwrap();
            atomic.check_invariants();
            let model = HashMap::<u8, u16>::arbitrary_take_rest(Unstructured::new(&bytes)).unwrap();
            assert_eq!(atomic.iter().map(|(k, v)| (*k, *v)).collect::<HashMap<_, _>>(), model);

            let model = HashSet::<u16>::arbitrary(&mut Unstructured::new(&bytes)).unwrap();
            let set = HamtSet::<u16, RcK, Collide>::arbitrary(&mut Unstructured::new(&bytes)).unwrap();
            set.check_invariants();
            assert_eq!(set.iter().copied().collect::<HashSet<_>>(), model);
        }
    }
}

#[cfg(feature = "quickcheck")]
mod quickcheck_impls {
    use hamt_core::{ArcK, HamtMap, HamtSet, RcK};
    use quickcheck::{Arbitrary, Gen, QuickCheck};

    use crate::common::Collide;

    /// Generated maps are valid and vary in size; every shrink is a valid, smaller map.
    #[test]
    fn generated_and_shrunk_maps_are_valid() {
        let mut g = Gen::new(40);
        let mut sizes = std::collections::BTreeSet::new();
        for _ in 0..crate::common::scaled(200, 10) {
            let map = HamtMap::<u16, u8, RcK, Collide>::arbitrary(&mut g);
            map.check_invariants();
            sizes.insert(map.len());
            for smaller in map.shrink().take(20) {
                smaller.check_invariants();
                assert!(smaller.len() <= map.len());
            }
            let set = HamtSet::<u16, ArcK>::arbitrary(&mut g);
            set.check_invariants();
            assert!(set.shrink().take(20).all(|smaller| smaller.len() <= set.len()));
        }
        assert!(sizes.len() > 5, "sizes vary: {sizes:?}");
    }

    /// A failing property shrinks to a minimal map.
    #[test]
    fn a_failing_property_shrinks_to_one_entry() {
        fn no_large_value(map: HamtMap<u8, u8>) -> bool {
            map.values().all(|value| *value < 200)
        }
        let result = std::panic::catch_unwind(|| {
            QuickCheck::new().tests(1000).quickcheck(no_large_value as fn(HamtMap<u8, u8>) -> bool);
        });
        let message = *result.expect_err("the property fails").downcast::<String>().unwrap();
        assert!(message.contains("({200: 200})") || message.contains(": 200})"), "not minimal: {message}");
    }
}

#[cfg(feature = "proptest")]
mod proptest_impls {
    use hamt_core::{ArcTK, HamtMap, HamtSet};
    use proptest::arbitrary::any_with;
    use proptest::prelude::*;

    use crate::common::Collide;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::common::scaled(256, 8) as u32))]

        /// `any::<HamtMap<_, _>>()` gives valid maps.
        #[test]
        fn any_map_is_valid(map in any::<HamtMap<u16, String>>()) {
            map.check_invariants();
        }

        /// The size range is honoured exactly, as for std's `HashMap`, also with colliding hashes.
        #[test]
        fn sizes_are_those_asked_for(
            map in any_with::<HamtMap<u16, u8, ArcTK, Collide>>(((3..10).into(), (), ())),
            set in any_with::<HamtSet<u8>>(((5..=5).into(), ())),
        ) {
            map.check_invariants();
            prop_assert!((3..10).contains(&map.len()));
            set.check_invariants();
            prop_assert_eq!(set.len(), 5);
        }
    }
}
