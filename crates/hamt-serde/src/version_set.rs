//! [`VersionSet`]: versions of a map or a set, each with the parent it is written against, in the binary form or
//! through any serde format.

use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::io::{Read, Write};
use std::marker::PhantomData;

use hamt_core::{HamtMap, HamtSet, PointerKind};
use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, SerializeStruct};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::envelope::{self, Parents};
use crate::error::{DecodeError, EncodeError, Kind};
use crate::record::{Delta, Replay};

mod sealed {
    pub trait Sealed {}
}

/// The collections whose versions a [`VersionSet`] holds: [`HamtMap`] and [`HamtSet`].
///
/// A set is written as the map of its elements to `()`, with the elements alone as its entries. The trait is
/// sealed; its items exist so that one implementation serves both.
///
/// # Examples
///
/// ```
/// use hamt_core::{HamtMap, HamtSet};
/// use hamt_serde::{Kind, Versioned};
///
/// assert_eq!(<HamtMap<u8, String> as Versioned>::KIND, Kind::Map);
/// assert_eq!(<HamtSet<u8> as Versioned>::KIND, Kind::Set);
/// ```
pub trait Versioned: Clone + sealed::Sealed {
    /// The key (or set element) type.
    type Key;
    /// The value type (`()` for sets).
    type Value;
    /// The pointer kind.
    type Pointer: PointerKind;
    /// The hasher.
    type Hasher;
    /// Whether these are maps or sets.
    const KIND: Kind;

    /// The collection as a map.
    #[doc(hidden)]
    fn as_map(&self) -> &HamtMap<Self::Key, Self::Value, Self::Pointer, Self::Hasher>;

    /// The collection of a map.
    #[doc(hidden)]
    fn from_map(map: HamtMap<Self::Key, Self::Value, Self::Pointer, Self::Hasher>) -> Self;

    /// The value every entry has, for sets (whose entries are written as keys alone); `None` for maps.
    #[doc(hidden)]
    fn implied_value() -> Option<Self::Value>;
}

/// A reference to a version, as [`serialize_multiple`](crate::serialize_multiple) takes them: `&HamtMap` or
/// `&HamtSet`, or a reference to one of those (so that a slice of references, `&[&v1, &v2]`, serves as well as an
/// array of references or a `&Vec` of versions).
///
/// The trait is sealed; it exists so that one function accepts all of these.
///
/// # Examples
///
/// ```
/// use hamt_core::HamtMap;
/// use hamt_serde::VersionRef;
///
/// let map: HamtMap<u8, u8> = [(1, 1)].into();
/// let by_reference: &HamtMap<u8, u8> = (&&map).into_version();
/// assert_eq!(by_reference, &map);
/// ```
pub trait VersionRef<'a>: sealed::Sealed {
    /// The collection referred to.
    type Versioned: Versioned + 'a;

    /// The version referred to.
    fn into_version(self) -> &'a Self::Versioned;
}

impl<K, V, P: PointerKind, S: Clone> sealed::Sealed for &HamtMap<K, V, P, S> {}

impl<'a, K, V, P: PointerKind, S: Clone> VersionRef<'a> for &'a HamtMap<K, V, P, S> {
    type Versioned = HamtMap<K, V, P, S>;

    fn into_version(self) -> &'a HamtMap<K, V, P, S> {
        self
    }
}

impl<K, V, P: PointerKind, S: Clone> sealed::Sealed for &&HamtMap<K, V, P, S> {}

impl<'a, K, V, P: PointerKind, S: Clone> VersionRef<'a> for &&'a HamtMap<K, V, P, S> {
    type Versioned = HamtMap<K, V, P, S>;

    fn into_version(self) -> &'a HamtMap<K, V, P, S> {
        self
    }
}

impl<T, P: PointerKind, S: Clone> sealed::Sealed for &HamtSet<T, P, S> {}

impl<'a, T, P: PointerKind, S: Clone> VersionRef<'a> for &'a HamtSet<T, P, S> {
    type Versioned = HamtSet<T, P, S>;

    fn into_version(self) -> &'a HamtSet<T, P, S> {
        self
    }
}

impl<T, P: PointerKind, S: Clone> sealed::Sealed for &&HamtSet<T, P, S> {}

impl<'a, T, P: PointerKind, S: Clone> VersionRef<'a> for &&'a HamtSet<T, P, S> {
    type Versioned = HamtSet<T, P, S>;

    fn into_version(self) -> &'a HamtSet<T, P, S> {
        self
    }
}

/// The maps behind `versions`, in order, for the encoder (which needs to reach every earlier version).
pub(crate) fn maps_of<'a, C, I>(versions: I) -> Vec<&'a MapOf<C>>
where
    I: IntoIterator,
    I::Item: VersionRef<'a, Versioned = C>,
    C: Versioned + 'a,
{
    versions.into_iter().map(|version| version.into_version().as_map()).collect()
}

/// The map behind versions of `C`: `C` itself for maps, the map of elements to `()` for sets.
pub(crate) type MapOf<C> =
    HamtMap<<C as Versioned>::Key, <C as Versioned>::Value, <C as Versioned>::Pointer, <C as Versioned>::Hasher>;

impl<K, V, P: PointerKind, S> sealed::Sealed for HamtMap<K, V, P, S> {}

impl<K, V, P: PointerKind, S: Clone> Versioned for HamtMap<K, V, P, S> {
    type Key = K;
    type Value = V;
    type Pointer = P;
    type Hasher = S;
    const KIND: Kind = Kind::Map;

    fn as_map(&self) -> &HamtMap<K, V, P, S> {
        self
    }

    fn from_map(map: HamtMap<K, V, P, S>) -> Self {
        map
    }

    fn implied_value() -> Option<V> {
        None
    }
}

impl<T, P: PointerKind, S> sealed::Sealed for HamtSet<T, P, S> {}

impl<T, P: PointerKind, S: Clone> Versioned for HamtSet<T, P, S> {
    type Key = T;
    type Value = ();
    type Pointer = P;
    type Hasher = S;
    const KIND: Kind = Kind::Set;

    fn as_map(&self) -> &HamtMap<T, (), P, S> {
        HamtSet::as_map(self)
    }

    fn from_map(map: HamtMap<T, (), P, S>) -> Self {
        Self::from(map)
    }

    fn implied_value() -> Option<()> {
        Some(())
    }
}

/// Versions of one map (or set), each written against a parent: the version before it by default, or one the
/// caller names, which makes a tree of versions (what-if variants of one base, branches of an edit history).
///
/// It encodes to the binary form of [`serialize_multiple`](crate::serialize_multiple) with
/// [`to_bytes`](Self::to_bytes), and through any serde format with its `Serialize` and `Deserialize`
/// implementations, as a sequence of records (see docs/format.md):
///
/// ```text
/// [ { "parent": null, "removed": [],  "upserted": [[1, "a"], [2, "b"]] },
///   { "parent": 0,    "removed": [2], "upserted": [[3, "c"]] } ]
/// ```
///
/// Either way, each version costs what differs from its parent, and the decoded versions share structure with
/// their parents again.
///
/// # Examples
///
/// ```
/// use hamt_core::HamtMap;
/// use hamt_serde::VersionSet;
///
/// let base: HamtMap<u32, u32> = (0..1_000).map(|i| (i, i)).collect();
/// let mut variants = VersionSet::new();
/// let root = variants.push(base.clone());
/// // Three what-if variants of the base, each written as a delta against it.
/// for i in 0..3 {
///     variants.push_with_parent(base.insert(i, 0), Some(root));
/// }
///
/// let json = serde_json::to_string(&variants).unwrap();
/// let decoded: VersionSet<HamtMap<u32, u32>> = serde_json::from_str(&json).unwrap();
/// assert_eq!(decoded.versions(), variants.versions());
/// assert_eq!(decoded.parent(3), Some(root));
///
/// let bytes = variants.to_bytes()?;
/// assert_eq!(VersionSet::<HamtMap<u32, u32>>::from_bytes(&bytes)?, variants);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct VersionSet<C> {
    versions: Vec<C>,
    parents: Vec<Option<usize>>,
}

impl<C> VersionSet<C> {
    /// An empty set of versions.
    ///
    /// # Examples
    ///
    /// ```
    /// let versions = hamt_serde::VersionSet::<hamt_core::HamtMap<u8, u8>>::new();
    /// assert!(versions.is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        VersionSet { versions: Vec::new(), parents: Vec::new() }
    }

    /// Adds a version written against the last one (the first version is written whole), and returns its index.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::HamtMap;
    ///
    /// let mut versions = hamt_serde::VersionSet::new();
    /// let v1: HamtMap<u8, u8> = [(1, 1)].into();
    /// assert_eq!(versions.push(v1.clone()), 0);
    /// assert_eq!(versions.push(v1.insert(2, 2)), 1);
    /// assert_eq!(versions.parent(1), Some(0));
    /// ```
    pub fn push(&mut self, version: C) -> usize {
        let parent = self.versions.len().checked_sub(1);
        self.push_with_parent(version, parent)
    }

    /// Adds a version written against `parent`, an earlier version's index (or `None`: written whole), and returns
    /// its index.
    ///
    /// # Panics
    ///
    /// If `parent` is not the index of a version already in the set.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::HamtMap;
    ///
    /// let base: HamtMap<u8, u8> = [(1, 1)].into();
    /// let mut versions = hamt_serde::VersionSet::new();
    /// let root = versions.push(base.clone());
    /// let left = versions.push_with_parent(base.insert(2, 2), Some(root));
    /// let right = versions.push_with_parent(base.insert(3, 3), Some(root));
    /// assert_eq!((versions.parent(left), versions.parent(right)), (Some(root), Some(root)));
    /// ```
    pub fn push_with_parent(&mut self, version: C, parent: Option<usize>) -> usize {
        let index = self.versions.len();
        if let Some(parent) = parent {
            assert!(parent < index, "VersionSet::push_with_parent: parent {parent} is not one of the {index} versions");
        }
        self.versions.push(version);
        self.parents.push(parent);
        index
    }

    /// How many versions the set holds.
    ///
    /// # Examples
    ///
    /// ```
    /// let versions: hamt_serde::VersionSet<hamt_core::HamtMap<u8, u8>> = [hamt_core::HamtMap::new()].into_iter().collect();
    /// assert_eq!(versions.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.versions.len()
    }

    /// Whether the set holds no version.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(hamt_serde::VersionSet::<hamt_core::HamtMap<u8, u8>>::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.versions.is_empty()
    }

    /// The version at `index`.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: hamt_core::HamtMap<u8, u8> = [(1, 1)].into();
    /// let versions: hamt_serde::VersionSet<_> = [map.clone()].into_iter().collect();
    /// assert_eq!(versions.get(0), Some(&map));
    /// assert_eq!(versions.get(1), None);
    /// ```
    pub fn get(&self, index: usize) -> Option<&C> {
        self.versions.get(index)
    }

    /// The parent version `index` is written against: `None` for a version written whole (or no such version).
    ///
    /// # Examples
    ///
    /// ```
    /// let map: hamt_core::HamtMap<u8, u8> = [(1, 1)].into();
    /// let versions: hamt_serde::VersionSet<_> = [map.clone(), map].into_iter().collect();
    /// assert_eq!((versions.parent(0), versions.parent(1)), (None, Some(0)));
    /// ```
    pub fn parent(&self, index: usize) -> Option<usize> {
        self.parents.get(index).copied().flatten()
    }

    /// Every version, in order.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: hamt_core::HamtMap<u8, u8> = [(1, 1)].into();
    /// let versions: hamt_serde::VersionSet<_> = [map.clone()].into_iter().collect();
    /// assert_eq!(versions.versions(), [map]);
    /// ```
    pub fn versions(&self) -> &[C] {
        &self.versions
    }

    /// The versions, without their parents.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: hamt_core::HamtMap<u8, u8> = [(1, 1)].into();
    /// let versions: hamt_serde::VersionSet<_> = [map.clone()].into_iter().collect();
    /// assert_eq!(versions.into_versions(), vec![map]);
    /// ```
    pub fn into_versions(self) -> Vec<C> {
        self.versions
    }
}

impl<C> VersionSet<C>
where
    C: Versioned,
    C::Key: Hash + Eq + Serialize + DeserializeOwned,
    C::Value: PartialEq + Serialize + DeserializeOwned,
    C::Hasher: BuildHasher,
{
    /// The binary form (docs/format.md), readable by [`from_bytes`](Self::from_bytes) and by
    /// [`deserialize_multiple`](crate::deserialize_multiple), in the compact body if every key and value fits it
    /// and in the self-describing body otherwise (see [Bodies](crate#bodies)).
    ///
    /// # Errors
    ///
    /// As [`serialize_multiple`](crate::serialize_multiple).
    ///
    /// # Examples
    ///
    /// ```
    /// let map: hamt_core::HamtMap<u8, u8> = [(1, 1)].into();
    /// let versions: hamt_serde::VersionSet<_> = [map.clone()].into_iter().collect();
    /// assert_eq!(versions.to_bytes()?, hamt_serde::serialize_multiple([&map])?);
    /// # Ok::<(), hamt_serde::EncodeError>(())
    /// ```
    pub fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        envelope::write(None, &self.maps(), Parents::Named(&self.parents), C::KIND)
    }

    /// Writes the binary form to `writer`, in chunks.
    ///
    /// # Errors
    ///
    /// As [`serialize_multiple_into`](crate::serialize_multiple_into).
    ///
    /// # Examples
    ///
    /// ```
    /// let map: hamt_core::HamtMap<u8, u8> = [(1, 1)].into();
    /// let versions: hamt_serde::VersionSet<_> = [map].into_iter().collect();
    /// let mut file = Vec::new();
    /// versions.write_to(&mut file)?;
    /// assert_eq!(file, versions.to_bytes()?);
    /// # Ok::<(), hamt_serde::EncodeError>(())
    /// ```
    pub fn write_to<W: Write>(&self, mut writer: W) -> Result<(), EncodeError> {
        envelope::write(Some(&mut writer), &self.maps(), Parents::Named(&self.parents), C::KIND).map(drop)
    }

    fn maps(&self) -> Vec<&MapOf<C>> {
        self.versions.iter().map(Versioned::as_map).collect()
    }
}

impl<C> VersionSet<C>
where
    C: Versioned,
    C::Key: Hash + Eq + Clone + DeserializeOwned,
    C::Value: Clone + DeserializeOwned,
    C::Hasher: BuildHasher + Clone + Default,
{
    /// Decodes the binary form, with each version's parent.
    ///
    /// # Errors
    ///
    /// As [`deserialize_multiple`](crate::deserialize_multiple).
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::HamtSet;
    /// use hamt_serde::VersionSet;
    ///
    /// let base: HamtSet<u8> = [1, 2, 3].into();
    /// let mut versions = VersionSet::new();
    /// versions.push(base.clone());
    /// versions.push_with_parent(base.remove(&1), Some(0));
    /// versions.push_with_parent(base.remove(&2), Some(0));
    /// let decoded = VersionSet::<HamtSet<u8>>::from_bytes(&versions.to_bytes()?)?;
    /// assert_eq!(decoded, versions);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let decoded = envelope::decode_body(envelope::open(bytes, C::KIND)?)?;
        Ok(VersionSet { versions: decoded.versions.into_iter().map(C::from_map).collect(), parents: decoded.parents })
    }

    /// Decodes the binary form from a reader, read to its end.
    ///
    /// # Errors
    ///
    /// As [`deserialize_multiple_from`](crate::deserialize_multiple_from).
    ///
    /// # Examples
    ///
    /// ```
    /// let map: hamt_core::HamtMap<u8, u8> = [(1, 1)].into();
    /// let versions: hamt_serde::VersionSet<_> = [map].into_iter().collect();
    /// let bytes = versions.to_bytes()?;
    /// assert_eq!(hamt_serde::VersionSet::read_from(&bytes[..])?, versions);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_from<R: Read>(mut reader: R) -> Result<Self, DecodeError> {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes)?;
        Self::from_bytes(&bytes)
    }
}

impl<C> Default for VersionSet<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: Clone> Clone for VersionSet<C> {
    fn clone(&self) -> Self {
        VersionSet { versions: self.versions.clone(), parents: self.parents.clone() }
    }
}

impl<C: fmt::Debug> fmt::Debug for VersionSet<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.versions.iter().zip(&self.parents).map(|(version, parent)| (parent, version)))
            .finish()
    }
}

impl<C: PartialEq> PartialEq for VersionSet<C> {
    /// Equal when the versions are equal and each is written against the same parent.
    fn eq(&self, other: &Self) -> bool {
        self.parents == other.parents && self.versions == other.versions
    }
}

impl<C: Eq> Eq for VersionSet<C> {}

impl<C> FromIterator<C> for VersionSet<C> {
    /// Versions each written against the one before.
    fn from_iter<I: IntoIterator<Item = C>>(versions: I) -> Self {
        let mut set = VersionSet::new();
        for version in versions {
            set.push(version);
        }
        set
    }
}

impl<C> From<Vec<C>> for VersionSet<C> {
    /// Versions each written against the one before.
    fn from(versions: Vec<C>) -> Self {
        versions.into_iter().collect()
    }
}

/// The record's fields, in the order the serde form writes them.
const FIELDS: &[&str] = &["parent", "removed", "upserted"];

impl<C> Serialize for VersionSet<C>
where
    C: Versioned,
    C::Key: Hash + Eq + Serialize,
    C::Value: PartialEq + Serialize,
    C::Hasher: BuildHasher,
{
    /// A sequence of records `{ parent, removed, upserted }`, one per version, each costing what differs from its
    /// parent.
    fn serialize<Ser: Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
        let mut seq = serializer.serialize_seq(Some(self.versions.len()))?;
        for (version, parent) in self.versions.iter().zip(&self.parents) {
            let record = match parent {
                Some(parent) => RecordRef::Delta {
                    parent: *parent,
                    delta: Delta::between(self.versions[*parent].as_map(), version.as_map()),
                },
                None => RecordRef::Whole(version.as_map()),
            };
            seq.serialize_element(&RecordOut::<C> { record })?;
        }
        seq.end()
    }
}

/// One version's record, as the serde form writes it.
enum RecordRef<'a, K, V, P: PointerKind, S> {
    Whole(&'a HamtMap<K, V, P, S>),
    Delta { parent: usize, delta: Delta<'a, K, V> },
}

struct RecordOut<'a, C: Versioned> {
    record: RecordRef<'a, C::Key, C::Value, C::Pointer, C::Hasher>,
}

impl<C> Serialize for RecordOut<'_, C>
where
    C: Versioned,
    C::Key: Serialize,
    C::Value: Serialize,
{
    fn serialize<Ser: Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
        let mut record = serializer.serialize_struct("Version", FIELDS.len())?;
        match &self.record {
            RecordRef::Whole(map) => {
                record.serialize_field("parent", &None::<usize>)?;
                // An empty slice, not an empty array: serde writes arrays as tuples, which binary formats
                // (postcard, bincode) write without a length, whereas the reader expects a sequence.
                record.serialize_field("removed", &[(); 0][..])?;
                record.serialize_field(
                    "upserted",
                    &EntriesOut::<_, C> { entries: map.iter(), len: map.len(), _marker: PhantomData },
                )?;
            }
            RecordRef::Delta { parent, delta } => {
                record.serialize_field("parent", &Some(*parent))?;
                record.serialize_field("removed", &delta.removed)?;
                let entries = delta.upserted.iter().map(|&(key, value)| (key, value));
                record.serialize_field(
                    "upserted",
                    &EntriesOut::<_, C> { entries, len: delta.upserted.len(), _marker: PhantomData },
                )?;
            }
        }
        record.end()
    }
}

/// Entries written as a sequence: `[key, value]` pairs for maps, keys alone for sets.
struct EntriesOut<'a, I, C> {
    entries: I,
    len: usize,
    _marker: PhantomData<&'a C>,
}

impl<'a, I, C> Serialize for EntriesOut<'a, I, C>
where
    I: Iterator<Item = (&'a C::Key, &'a C::Value)> + Clone,
    C: Versioned + 'a,
    C::Key: Serialize,
    C::Value: Serialize,
{
    fn serialize<Ser: Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len))?;
        for (key, value) in self.entries.clone() {
            match C::KIND {
                Kind::Set => seq.serialize_element(key)?,
                Kind::Map => seq.serialize_element(&(key, value))?,
            }
        }
        seq.end()
    }
}

impl<'de, C> Deserialize<'de> for VersionSet<C>
where
    C: Versioned,
    C::Key: Hash + Eq + Clone + DeserializeOwned,
    C::Value: Clone + DeserializeOwned,
    C::Hasher: BuildHasher + Clone + Default,
{
    /// Replays the records of the serde form, so that every version shares structure with its parent. A record
    /// that names a parent that is not an earlier version, removes a key its parent lacks, or holds a key twice is
    /// an error. No length the input claims is trusted for allocation.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(VersionSetVisitor::<C>(PhantomData))
    }
}

struct VersionSetVisitor<C>(PhantomData<C>);

impl<'de, C> Visitor<'de> for VersionSetVisitor<C>
where
    C: Versioned,
    C::Key: Hash + Eq + Clone + DeserializeOwned,
    C::Value: Clone + DeserializeOwned,
    C::Hasher: BuildHasher + Clone + Default,
{
    type Value = VersionSet<C>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence of version records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let replay = Replay::new();
        let mut maps: Vec<MapOf<C>> = Vec::new();
        let mut parents = Vec::new();
        while let Some(record) = seq.next_element_seed(RecordSeed::<C>(PhantomData))? {
            let index = maps.len();
            if let Some(parent) = record.parent.filter(|&parent| parent >= index) {
                let distance = (index as u64).wrapping_sub(parent as u64);
                return Err(de::Error::custom(DecodeError::BadParent { version: index, distance }));
            }
            let parent = record.parent.map(|parent| &maps[parent]);
            let map = replay.version(parent, record.removed, record.upserted, index).map_err(de::Error::custom)?;
            maps.push(map);
            parents.push(record.parent);
        }
        Ok(VersionSet { versions: maps.into_iter().map(C::from_map).collect(), parents })
    }
}

/// A record as read, before it is replayed.
struct RecordIn<K, V> {
    parent: Option<usize>,
    removed: Vec<K>,
    upserted: Vec<(K, V)>,
}

struct RecordSeed<C>(PhantomData<C>);

impl<'de, C> DeserializeSeed<'de> for RecordSeed<C>
where
    C: Versioned,
    C::Key: DeserializeOwned,
    C::Value: Clone + DeserializeOwned,
{
    type Value = RecordIn<C::Key, C::Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_struct("Version", FIELDS, self)
    }
}

impl<'de, C> Visitor<'de> for RecordSeed<C>
where
    C: Versioned,
    C::Key: DeserializeOwned,
    C::Value: Clone + DeserializeOwned,
{
    type Value = RecordIn<C::Key, C::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a version record { parent, removed, upserted }")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let missing = |index| de::Error::invalid_length(index, &"a record of three fields");
        let parent = seq.next_element()?.ok_or_else(|| missing(0))?;
        let removed = seq.next_element_seed(ListSeed::<C::Key>(PhantomData))?.ok_or_else(|| missing(1))?;
        let upserted = seq.next_element_seed(EntriesSeed::<C>(PhantomData))?.ok_or_else(|| missing(2))?;
        Ok(RecordIn { parent, removed, upserted })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut parent, mut removed, mut upserted) = (None, None, None);
        while let Some(field) = map.next_key::<Field>()? {
            match field {
                Field::Parent if parent.is_none() => parent = Some(map.next_value::<Option<usize>>()?),
                Field::Removed if removed.is_none() => {
                    removed = Some(map.next_value_seed(ListSeed::<C::Key>(PhantomData))?);
                }
                Field::Upserted if upserted.is_none() => {
                    upserted = Some(map.next_value_seed(EntriesSeed::<C>(PhantomData))?);
                }
                Field::Parent => return Err(de::Error::duplicate_field("parent")),
                Field::Removed => return Err(de::Error::duplicate_field("removed")),
                Field::Upserted => return Err(de::Error::duplicate_field("upserted")),
            }
        }
        Ok(RecordIn {
            parent: parent.ok_or_else(|| de::Error::missing_field("parent"))?,
            removed: removed.ok_or_else(|| de::Error::missing_field("removed"))?,
            upserted: upserted.ok_or_else(|| de::Error::missing_field("upserted"))?,
        })
    }
}

/// The names of a record's fields.
enum Field {
    Parent,
    Removed,
    Upserted,
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldVisitor;

        impl Visitor<'_> for FieldVisitor {
            type Value = Field;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`parent`, `removed` or `upserted`")
            }

            fn visit_u64<E: de::Error>(self, index: u64) -> Result<Field, E> {
                match index {
                    0 => Ok(Field::Parent),
                    1 => Ok(Field::Removed),
                    2 => Ok(Field::Upserted),
                    _ => Err(E::invalid_value(de::Unexpected::Unsigned(index), &self)),
                }
            }

            fn visit_str<E: de::Error>(self, name: &str) -> Result<Field, E> {
                match name {
                    "parent" => Ok(Field::Parent),
                    "removed" => Ok(Field::Removed),
                    "upserted" => Ok(Field::Upserted),
                    _ => Err(E::unknown_field(name, FIELDS)),
                }
            }

            fn visit_bytes<E: de::Error>(self, name: &[u8]) -> Result<Field, E> {
                match std::str::from_utf8(name) {
                    Ok(name) => self.visit_str(name),
                    Err(_) => Err(E::invalid_value(de::Unexpected::Bytes(name), &self)),
                }
            }
        }

        deserializer.deserialize_identifier(FieldVisitor)
    }
}

/// The most items a list reserves room for before it has read them; beyond this it grows with what it reads, so
/// that a length the input merely claims never turns into an allocation.
const RESERVE_AT_MOST: usize = 1024;

/// A sequence of keys.
struct ListSeed<T>(PhantomData<T>);

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for ListSeed<T> {
    type Value = Vec<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for ListSeed<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence of keys")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(RESERVE_AT_MOST));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(items)
    }
}

/// A sequence of entries: `[key, value]` pairs for maps, keys alone for sets.
struct EntriesSeed<C>(PhantomData<C>);

impl<'de, C> DeserializeSeed<'de> for EntriesSeed<C>
where
    C: Versioned,
    C::Key: DeserializeOwned,
    C::Value: Clone + DeserializeOwned,
{
    type Value = Vec<(C::Key, C::Value)>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, C> Visitor<'de> for EntriesSeed<C>
where
    C: Versioned,
    C::Key: DeserializeOwned,
    C::Value: Clone + DeserializeOwned,
{
    type Value = Vec<(C::Key, C::Value)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence of entries")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(RESERVE_AT_MOST));
        match C::implied_value() {
            Some(value) => {
                while let Some(key) = seq.next_element()? {
                    entries.push((key, value.clone()));
                }
            }
            None => {
                while let Some(entry) = seq.next_element()? {
                    entries.push(entry);
                }
            }
        }
        Ok(entries)
    }
}
