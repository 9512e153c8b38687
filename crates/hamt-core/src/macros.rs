//! `hamt_map!` and `hamt_set!`: maps and sets from literal entries, like the `vec!` macro.

/// A [`HamtMap`](crate::HamtMap) of the given entries, with the default pointer kind ([`RcK`](crate::RcK)) and
/// hasher. Later entries win over earlier ones with an equal key. hamt-sync's `hamt_map!` makes its thread-safe
/// maps with the same syntax.
///
/// # Examples
///
/// ```
/// use hamt_core::{HamtMap, hamt_map};
///
/// let map = hamt_map! { "a" => 1, "b" => 2 };
/// assert_eq!(map, HamtMap::from([("a", 1), ("b", 2)]));
///
/// let mut empty = hamt_map! {};
/// empty.insert_mut('x', 0.5);
/// assert_eq!(empty.len(), 1);
/// ```
#[macro_export]
macro_rules! hamt_map {
    () => {
        <$crate::HamtMap<_, _>>::new()
    };
    ($($key:expr => $value:expr),+ $(,)?) => {
        <$crate::HamtMap<_, _> as ::core::convert::From<_>>::from([$(($key, $value)),+])
    };
}

/// A [`HamtSet`](crate::HamtSet) of the given elements, with the default pointer kind ([`RcK`](crate::RcK)) and
/// hasher. hamt-sync's `hamt_set!` makes its thread-safe sets with the same syntax.
///
/// # Examples
///
/// ```
/// use hamt_core::{HamtSet, hamt_set};
///
/// let set = hamt_set![1, 2, 3, 2];
/// assert_eq!(set, HamtSet::from([1, 2, 3]));
///
/// let mut empty = hamt_set![];
/// empty.insert_mut("x");
/// assert!(empty.contains("x"));
/// ```
#[macro_export]
macro_rules! hamt_set {
    () => {
        <$crate::HamtSet<_>>::new()
    };
    ($($value:expr),+ $(,)?) => {
        <$crate::HamtSet<_> as ::core::convert::From<_>>::from([$($value),+])
    };
}
