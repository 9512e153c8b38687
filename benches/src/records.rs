//! The typed records of `docs/benchmarks.json`, written and read with serde.
//!
//! [`Document`] is the whole file. [`Report::document`](crate::report::Report::document) builds it from the
//! figures of a run, and `serde_json` writes it; a tool that reads the file can deserialize the same types. The
//! scenarios, key kinds and implementations travel by the names the report shows (`lookup_hit`, `u64`,
//! `hamt-rc`), and a figure that could not be computed (a ratio without its peer, a median without samples) is
//! `null`.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Unexpected, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

use crate::extras::{Figure, Target};
use crate::maps::Implementation;
use crate::memory::{KeyPattern, Spread};
use crate::report::{Failure, Meta, Status};
use crate::scenarios::{KeyKind, Scenario};

/// Gives a type whose values have a name (`name` and `from_name`) a serde form: that name, as a string.
macro_rules! serde_by_name {
    ($type:ty, $expected:literal) => {
        impl Serialize for $type {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.name())
            }
        }

        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let name = String::deserialize(deserializer)?;
                Self::from_name(&name).ok_or_else(|| de::Error::invalid_value(Unexpected::Str(&name), &$expected))
            }
        }
    };
}

serde_by_name!(Scenario, "the name of a scenario");
serde_by_name!(KeyKind, "the name of a key kind");
serde_by_name!(Implementation, "the name of an implementation");

/// The whole of `docs/benchmarks.json`.
///
/// # Examples
///
/// ```
/// use hamt_benches::records::Document;
/// use hamt_benches::report::Report;
///
/// let json = serde_json::to_string_pretty(&Report::default().document())?;
/// let read_back: Document = serde_json::from_str(&json)?;
/// assert_eq!(read_back.meta.reference, hamt_benches::report::REFERENCE);
/// assert!(read_back.results.is_empty());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Document {
    /// Where and how the run was made.
    pub meta: MetaRecord,
    /// One record per timed scenario, key kind, size and implementation.
    pub results: Vec<TimeRecord>,
    /// The heap per entry of one map, per implementation, size and key pattern.
    pub memory: Vec<MemoryRecord>,
    /// The extra heap per variant in the variants workload.
    pub variant_memory: Vec<VariantMemoryRecord>,
    /// The targets of the benchmark issue, evaluated on this run.
    pub targets: Vec<TargetRecord>,
    /// The figures and targets of the sections measured outside the scenario grid.
    pub sections: Vec<SectionRecord>,
    /// The measurements that produced no figure, and why.
    pub failures: Vec<Failure>,
}

/// [`Meta`], with the implementation that the ratios to std are taken against.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetaRecord {
    /// The machine, compiler, versions and sampling of the run.
    #[serde(flatten)]
    pub meta: Meta,
    /// The implementation called `std` in the ratio columns.
    pub reference: Implementation,
}

/// One timed measurement with the ratios computed from it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TimeRecord {
    /// The workload.
    pub scenario: Scenario,
    /// The key type.
    pub key: KeyKind,
    /// The number of entries.
    pub size: usize,
    /// The map measured.
    pub implementation: Implementation,
    /// The median of the samples, in nanoseconds per run of the scenario's routine.
    #[serde(with = "finite_or_null")]
    pub median_ns: f64,
    /// The fastest sample; `None` without samples.
    pub min_ns: Option<f64>,
    /// How many elements one run of the routine handles (what "per element" divides by).
    pub elements: usize,
    /// The median divided by the elements.
    #[serde(with = "finite_or_null")]
    pub ns_per_element: f64,
    /// The time per element over std's (the [reference](crate::report::REFERENCE)), if both were measured.
    pub ratio_to_std: Option<f64>,
    /// The time per element over imbl's, if both were measured.
    pub ratio_to_imbl: Option<f64>,
    /// The time per element over rpds', if both were measured.
    pub ratio_to_rpds: Option<f64>,
    /// Every sample, in nanoseconds per run of the routine.
    pub samples_ns: Vec<f64>,
}

/// The heap of one map of `size` `u64 -> u64` entries with one key pattern, per entry, over the hash seeds it was
/// measured with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MemoryRecord {
    /// Always `heap_per_entry`, so that every record of the file names what it measured.
    pub scenario: String,
    /// Always `u64`.
    pub key: KeyKind,
    /// Which `u64` keys: `random` (the benches' keys) or `sequential` (`0..n`).
    pub pattern: KeyPattern,
    /// The number of entries.
    pub size: usize,
    /// The map measured.
    pub implementation: Implementation,
    /// Live requested bytes per entry: the least, the median and the greatest over the seeds.
    pub bytes_per_entry: Spread,
    /// Live allocations per entry, the same way.
    pub allocations_per_entry: Spread,
    /// The median bytes per entry over std's median with the same keys, if both were measured.
    pub ratio_to_std: Option<f64>,
    /// The figures of every seed, in the order they were measured.
    pub seeds: Vec<SeedMemoryRecord>,
}

/// The heap per entry of one map with one hash seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedMemoryRecord {
    /// The seed of the map's [`BenchHasher`](crate::maps::BenchHasher).
    pub seed: u64,
    /// Live requested bytes per entry.
    #[serde(with = "finite_or_null")]
    pub bytes_per_entry: f64,
    /// Live allocations per entry.
    #[serde(with = "finite_or_null")]
    pub allocations_per_entry: f64,
}

/// The extra heap of each variant in the variants workload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VariantMemoryRecord {
    /// Always `heap_per_variant`.
    pub scenario: String,
    /// Always `u64`.
    pub key: KeyKind,
    /// The size of the base map.
    pub size: usize,
    /// The map measured.
    pub implementation: Implementation,
    /// How many variants were made.
    pub variants: usize,
    /// Extra live requested bytes per variant.
    #[serde(with = "finite_or_null")]
    pub bytes_per_variant: f64,
    /// Extra live allocations per variant.
    #[serde(with = "finite_or_null")]
    pub allocations_per_variant: f64,
}

/// A target of the benchmark issue, evaluated on the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetRecord {
    /// The scenario, as the issue names it.
    pub scenario: String,
    /// The target, as the issue states it.
    pub target: String,
    /// What the run measured for it.
    pub measured: String,
    /// Whether it is reached: `met`, `met where measured`, `missed` or `not measured`.
    pub status: Status,
}

/// The numbers of one section of [`crate::extras`]; its Markdown body is in `docs/benchmarks.md` only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionRecord {
    /// The section's heading.
    pub title: String,
    /// Every number the section shows.
    pub figures: Vec<Figure>,
    /// The rows it adds to the targets table.
    pub targets: Vec<Target>,
}

/// A serde form for an `f64` that may be NaN or infinite: such a value is written as `null` (JSON has no NaN) and
/// `null` reads back as NaN, so that "not measured" survives the trip instead of failing it.
pub(crate) mod finite_or_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        if value.is_finite() { serializer.serialize_f64(*value) } else { serializer.serialize_none() }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::NAN))
    }
}

/// A serde form for a list of (name, version) pairs: a map from name to version, read back in the file's order.
pub(crate) mod versions_as_map {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(versions: &[(String, String)], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(versions.iter().map(|(name, version)| (name, version)))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<(String, String)>, D::Error> {
        deserializer.deserialize_map(PairsVisitor)
    }

    /// Collects the entries of a map in the order they come.
    struct PairsVisitor;

    impl<'de> Visitor<'de> for PairsVisitor {
        type Value = Vec<(String, String)>;

        fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
            formatter.write_str("a map from crate names to versions")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            // The size hint is what the input claims; cap it, so that a hostile file cannot make this allocate.
            let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
            while let Some(pair) = map.next_entry::<String, String>()? {
                pairs.push(pair);
            }
            Ok(pairs)
        }
    }
}
