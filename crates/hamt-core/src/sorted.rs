//! Serializing maps and sets in key order (feature `serde`), for output that must not change from run to run:
//! snapshot tests, diffs of saved files, content hashes.
//!
//! A map's own `Serialize` writes its entries in trie order, which follows the keys' hashes, and the default hasher
//! is seeded per process: the same map can come out in another order in the next run. The forms here sort the
//! entries by key first (`K: Ord`), so equal maps always give equal output, whatever their hasher or history. This
//! costs O(n log n) time and O(n) memory for the sort; deserializing is unaffected (any order reads back).
//!
//! - [`Sorted`] wraps a map or set for a direct call: `serde_json::to_string(&Sorted(&map))`.
//! - This module, as a whole, is a serde `with` module for a field: `#[serde(with = "hamt_core::sorted")]`
//!   (or `serialize_with = "hamt_core::sorted::serialize"`).
//!
//! # Examples
//!
//! ```
//! use hamt_core::HamtMap;
//! use hamt_core::sorted::Sorted;
//!
//! let map: HamtMap<&str, u32> = [("pear", 3), ("apple", 1), ("fig", 2)].into();
//! assert_eq!(serde_json::to_string(&Sorted(&map)).unwrap(), r#"{"apple":1,"fig":2,"pear":3}"#);
//!
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Inventory {
//!     #[serde(with = "hamt_core::sorted")]
//!     stock: HamtMap<String, u32>,
//! }
//! let inventory = Inventory { stock: [("b".to_string(), 2), ("a".to_string(), 1)].into() };
//! let json = serde_json::to_string(&inventory).unwrap();
//! assert_eq!(json, r#"{"stock":{"a":1,"b":2}}"#);
//! let back: Inventory = serde_json::from_str(&json).unwrap();
//! assert_eq!(back.stock, inventory.stock);
//! ```

use alloc::vec::Vec;

use serde::de::{Deserialize, Deserializer};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::kind::PointerKind;
use crate::map::HamtMap;
use crate::set::HamtSet;

/// A map or set that serializes in key order: a serde map of its entries sorted by key, or a sequence of its
/// elements sorted. Deserialize the output as the map or set itself.
///
/// # Examples
///
/// ```
/// use hamt_core::{HamtSet, sorted::Sorted};
///
/// let set: HamtSet<u32> = (0..5).rev().collect();
/// assert_eq!(serde_json::to_string(&Sorted(&set)).unwrap(), "[0,1,2,3,4]");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Sorted<'a, T: ?Sized>(pub &'a T);

impl<K, V, P, S> Serialize for Sorted<'_, HamtMap<K, V, P, S>>
where
    K: Ord + Serialize,
    V: Serialize,
    P: PointerKind,
{
    fn serialize<Ser: Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
        let mut entries: Vec<(&K, &V)> = self.0.iter().collect();
        // Keys are unique, so an unstable sort gives one order.
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut map = serializer.serialize_map(Some(entries.len()))?;
        for (key, value) in entries {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<T, P, S> Serialize for Sorted<'_, HamtSet<T, P, S>>
where
    T: Ord + Serialize,
    P: PointerKind,
{
    fn serialize<Ser: Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
        let mut elements: Vec<&T> = self.0.iter().collect();
        elements.sort_unstable();
        let mut seq = serializer.serialize_seq(Some(elements.len()))?;
        for element in elements {
            seq.serialize_element(element)?;
        }
        seq.end()
    }
}

/// Serializes `value`, a map or set, in key order: the `serialize_with` function of a field (see the module
/// documentation).
///
/// # Errors
/// Those of the serializer.
///
/// # Examples
///
/// ```
/// let map: hamt_core::HamtMap<u8, char> = [(2, 'b'), (1, 'a')].into();
/// let mut json = Vec::new();
/// hamt_core::sorted::serialize(&map, &mut serde_json::Serializer::new(&mut json)).unwrap();
/// assert_eq!(json, br#"{"1":"a","2":"b"}"#);
/// ```
pub fn serialize<T, Ser>(value: &T, serializer: Ser) -> Result<Ser::Ok, Ser::Error>
where
    T: ?Sized,
    for<'a> Sorted<'a, T>: Serialize,
    Ser: Serializer,
{
    Sorted(value).serialize(serializer)
}

/// Deserializes a map or set written in any order, so that this module can be a serde `with` module. The same as
/// the map's or set's own `Deserialize`.
///
/// # Errors
/// Those of the map's or set's `Deserialize`: the format's errors, and a duplicate key.
///
/// # Examples
///
/// ```
/// let mut json = serde_json::Deserializer::from_str(r#"{"b":2,"a":1}"#);
/// let map: hamt_core::HamtMap<String, u8> = hamt_core::sorted::deserialize(&mut json).unwrap();
/// assert_eq!(map["a"], 1);
/// ```
pub fn deserialize<'de, T, D>(deserializer: D) -> Result<T, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    T::deserialize(deserializer)
}
