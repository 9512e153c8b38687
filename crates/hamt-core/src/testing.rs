//! Random maps and sets for the property-testing frameworks (features `arbitrary`, `quickcheck`, `proptest`).
//!
//! The orphan rule lets only this crate, or the framework's, implement a framework's trait for our types, so users
//! could not write these impls themselves. Each generates what the framework generates for std's `HashMap` and
//! `HashSet`, and collects it into a map or set with any pointer kind and any hasher that has a `Default`.

/// `arbitrary::Arbitrary` (feature `arbitrary`), for fuzzers such as cargo-fuzz: the entries std's `HashMap` would
/// take from the same bytes.
#[cfg(feature = "arbitrary")]
mod arbitrary_impls {
    use core::hash::{BuildHasher, Hash};

    use arbitrary::{Arbitrary, Result, Unstructured, size_hint};

    use crate::kind::PointerKind;
    use crate::map::HamtMap;
    use crate::set::HamtSet;

    impl<'a, K, V, P, S> Arbitrary<'a> for HamtMap<K, V, P, S>
    where
        K: Arbitrary<'a> + Hash + Eq,
        V: Arbitrary<'a>,
        P: PointerKind,
        S: BuildHasher + Default,
    {
        fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
            u.arbitrary_iter()?.collect()
        }

        fn arbitrary_take_rest(u: Unstructured<'a>) -> Result<Self> {
            u.arbitrary_take_rest_iter()?.collect()
        }

        fn size_hint(depth: usize) -> (usize, Option<usize>) {
            size_hint::and(<usize as Arbitrary>::size_hint(depth), (0, None))
        }
    }

    impl<'a, T, P, S> Arbitrary<'a> for HamtSet<T, P, S>
    where
        T: Arbitrary<'a> + Hash + Eq,
        P: PointerKind,
        S: BuildHasher + Default,
    {
        fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
            u.arbitrary_iter()?.collect()
        }

        fn arbitrary_take_rest(u: Unstructured<'a>) -> Result<Self> {
            u.arbitrary_take_rest_iter()?.collect()
        }

        fn size_hint(depth: usize) -> (usize, Option<usize>) {
            size_hint::and(<usize as Arbitrary>::size_hint(depth), (0, None))
        }
    }
}

/// `quickcheck::Arbitrary` (feature `quickcheck`): the entries of a random `Vec`, shrunk as that `Vec` shrinks
/// (fewer entries, then smaller keys and values).
#[cfg(feature = "quickcheck")]
mod quickcheck_impls {
    use alloc::boxed::Box;
    use alloc::vec::Vec;
    use core::hash::{BuildHasher, Hash};

    use quickcheck::{Arbitrary, Gen};

    use crate::kind::PointerKind;
    use crate::map::HamtMap;
    use crate::set::HamtSet;

    impl<K, V, P, S> Arbitrary for HamtMap<K, V, P, S>
    where
        K: Arbitrary + Hash + Eq,
        V: Arbitrary,
        P: PointerKind,
        S: BuildHasher + Default + Clone + 'static,
    {
        fn arbitrary(g: &mut Gen) -> Self {
            Vec::<(K, V)>::arbitrary(g).into_iter().collect()
        }

        fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
            let entries: Vec<(K, V)> = self.iter().map(|(key, value)| (key.clone(), value.clone())).collect();
            Box::new(entries.shrink().map(|entries| entries.into_iter().collect()))
        }
    }

    impl<T, P, S> Arbitrary for HamtSet<T, P, S>
    where
        T: Arbitrary + Hash + Eq,
        P: PointerKind,
        S: BuildHasher + Default + Clone + 'static,
    {
        fn arbitrary(g: &mut Gen) -> Self {
            Vec::<T>::arbitrary(g).into_iter().collect()
        }

        fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
            let elements: Vec<T> = self.iter().cloned().collect();
            Box::new(elements.shrink().map(|elements| elements.into_iter().collect()))
        }
    }
}

/// `proptest::arbitrary::Arbitrary` (feature `proptest`): proptest's strategy for std's `HashMap` / `HashSet`,
/// with the same parameters (a size range and the keys' and values' parameters), so `any::<HamtMap<K, V>>()` and
/// `any_with::<HamtMap<K, V>>((size, key_parameters, value_parameters))` work as they do for std's maps.
#[cfg(feature = "proptest")]
mod proptest_impls {
    use core::hash::{BuildHasher, Hash};
    use std::collections::{HashMap, HashSet};

    use proptest::arbitrary::{Arbitrary, any_with};
    use proptest::collection::{HashMapStrategy, HashSetStrategy, SizeRange, hash_map, hash_set};
    use proptest::strategy::{Map, Strategy};

    use crate::kind::PointerKind;
    use crate::map::HamtMap;
    use crate::set::HamtSet;

    impl<K, V, P, S> Arbitrary for HamtMap<K, V, P, S>
    where
        K: Arbitrary + Hash + Eq,
        V: Arbitrary,
        P: PointerKind,
        S: BuildHasher + Default,
    {
        type Parameters = (SizeRange, K::Parameters, V::Parameters);
        type Strategy = Map<HashMapStrategy<K::Strategy, V::Strategy>, fn(HashMap<K, V>) -> Self>;

        fn arbitrary_with((size, keys, values): Self::Parameters) -> Self::Strategy {
            hash_map(any_with::<K>(keys), any_with::<V>(values), size).prop_map(|map| map.into_iter().collect())
        }
    }

    impl<T, P, S> Arbitrary for HamtSet<T, P, S>
    where
        T: Arbitrary + Hash + Eq,
        P: PointerKind,
        S: BuildHasher + Default,
    {
        type Parameters = (SizeRange, T::Parameters);
        type Strategy = Map<HashSetStrategy<T::Strategy>, fn(HashSet<T>) -> Self>;

        fn arbitrary_with((size, elements): Self::Parameters) -> Self::Strategy {
            hash_set(any_with::<T>(elements), size).prop_map(|set| set.into_iter().collect())
        }
    }
}
