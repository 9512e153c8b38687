//! `hamt_map!` and `hamt_set!` for the thread-safe maps: hamt-core's macros with this crate's pointer kind.

/// A thread-safe [`HamtMap`](crate::HamtMap) of the given entries: hamt-core's `hamt_map!` with the `ArcTK`
/// pointer kind. Later entries win over earlier ones with an equal key.
///
/// # Examples
///
/// ```
/// use hamt_sync::hamt_map;
///
/// let map = hamt_map! { "a" => 1, "b" => 2 };
/// let reader = map.clone();
/// assert_eq!(std::thread::spawn(move || reader["b"]).join().unwrap(), 2);
///
/// let mut empty = hamt_map! {};
/// empty.insert_mut('x', 0.5);
/// assert_eq!(empty.len(), 1);
/// ```
#[macro_export]
macro_rules! hamt_map {
    () => {
        <$crate::HamtMap<_, _> as ::core::default::Default>::default()
    };
    ($($key:expr => $value:expr),+ $(,)?) => {
        <$crate::HamtMap<_, _> as ::core::convert::From<_>>::from([$(($key, $value)),+])
    };
}

/// A thread-safe [`HamtSet`](crate::HamtSet) of the given elements: hamt-core's `hamt_set!` with the `ArcTK`
/// pointer kind.
///
/// # Examples
///
/// ```
/// use hamt_sync::hamt_set;
///
/// let set = hamt_set![1, 2, 3, 2];
/// assert!(std::thread::spawn(move || set.len()).join().unwrap() == 3);
///
/// let mut empty = hamt_set![];
/// empty.insert_mut("x");
/// assert!(empty.contains("x"));
/// ```
#[macro_export]
macro_rules! hamt_set {
    () => {
        <$crate::HamtSet<_> as ::core::default::Default>::default()
    };
    ($($value:expr),+ $(,)?) => {
        <$crate::HamtSet<_> as ::core::convert::From<_>>::from([$($value),+])
    };
}
