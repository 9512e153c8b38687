//! The figures of one run, the targets of the benchmark issue evaluated on them, and the three files written from
//! them: `docs/benchmarks.md`, `docs/benchmarks.json` and `docs/benchmarks.svg`.
//!
//! Every ratio is computed here from medians measured in the same run; nothing in the output is typed in by hand.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::chart::{ChartGroup, ChartPanel};
use crate::records::{
    Document, MemoryRecord, MetaRecord, SectionRecord, SeedMemoryRecord, TargetRecord, TimeRecord, VariantMemoryRecord,
};

use crate::maps::Implementation;
use crate::memory::{HeapFigures, KeyPattern, Spread};
use crate::scenarios::{KeyKind, Scenario, VARIANTS};

/// Appends a formatted line to a `String`.
macro_rules! line {
    ($out:expr) => {
        $out.push('\n')
    };
    ($out:expr, $($arg:tt)*) => {{
        writeln!($out, $($arg)*).expect("writing to a String cannot fail");
    }};
}

/// The implementation every ratio to std is taken against: std's map with the shared fast hasher.
pub const REFERENCE: Implementation = Implementation::StdFold;

/// Our map in the flavour the targets are set for.
pub const OURS: Implementation = Implementation::HamtRc;

/// Where and how the run was made.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// When the run ended, in UTC.
    pub date: String,
    /// The processor's model name.
    pub cpu: String,
    /// Logical cores available.
    pub cores: usize,
    /// Total memory, as `/proc/meminfo` puts it.
    pub memory: String,
    /// The compiler's `--version`.
    pub rustc: String,
    /// The versions of the crates compared, from `Cargo.lock`; in the JSON, a map from name to version.
    #[serde(with = "crate::records::versions_as_map")]
    pub versions: Vec<(String, String)>,
    /// Whether the code was compiled with the `popcnt` target feature.
    pub popcnt: bool,
    /// Whether this was a `--quick` run.
    pub quick: bool,
    /// How the run was started.
    pub command: String,
    /// How the samples were taken, in words.
    pub sampling: String,
    /// How long the whole run took, in seconds.
    pub duration_seconds: f64,
    /// The load averages over 1, 5 and 15 minutes when the run started, from `/proc/loadavg`: other work on the
    /// machine makes every figure noisier.
    pub load_before: String,
    /// The same when the run ended.
    pub load_after: String,
}

impl Meta {
    /// The load averages over 1, 5 and 15 minutes, from `/proc/loadavg`.
    pub fn load_average() -> String {
        let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        let fields: Vec<&str> = loadavg.split_whitespace().take(3).collect();
        if fields.len() == 3 { fields.join(" / ") } else { "unknown".to_owned() }
    }

    /// Reads the machine, compiler and crate versions of this run.
    pub fn collect() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|line| line.strip_prefix("model name").and_then(|rest| rest.split_once(':')))
            .map_or_else(|| "unknown".to_owned(), |(_, name)| name.trim().to_owned());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory = meminfo
            .lines()
            .find_map(|line| line.strip_prefix("MemTotal:"))
            .and_then(|kilobytes| kilobytes.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or_else(|| "unknown".to_owned(), |kilobytes| format!("{:.1} GiB", kilobytes / 1024.0 / 1024.0));
        let lock_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock");
        let lock = std::fs::read_to_string(lock_path).unwrap_or_default();
        let versions = ["hamt-core", "imbl", "rpds", "archery", "triomphe", "foldhash", "criterion"]
            .into_iter()
            .map(|name| (name.to_owned(), locked_version(&lock, name).unwrap_or_else(|| "unknown".to_owned())))
            .collect();
        Self {
            date: utc_now(),
            cpu,
            cores: std::thread::available_parallelism().map_or(0, usize::from),
            memory,
            rustc: env!("HAMT_BENCH_RUSTC").to_owned(),
            versions,
            popcnt: cfg!(target_feature = "popcnt"),
            load_after: Self::load_average(),
            ..Self::default()
        }
    }
}

/// The version of package `name` in the text of a `Cargo.lock`.
fn locked_version(lock: &str, name: &str) -> Option<String> {
    let wanted = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == wanted {
            let version = lines.next()?.trim().strip_prefix("version = \"")?.strip_suffix('"')?;
            return Some(version.to_owned());
        }
    }
    None
}

/// The current date and time in UTC, as `YYYY-MM-DD HH:MM UTC`.
pub fn utc_now() -> String {
    let seconds =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs());
    let days = i64::try_from(seconds / 86_400).unwrap_or(0);
    let (year, month, day) = civil_from_days(days);
    let minutes_today = (seconds % 86_400) / 60;
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", minutes_today / 60, minutes_today % 60)
}

/// Converts days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `civil_from_days`).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, u32::try_from(month).unwrap_or(1), u32::try_from(day).unwrap_or(1))
}

/// One timed measurement: a scenario, a key kind, a size and an implementation.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeResult {
    /// The workload.
    pub scenario: Scenario,
    /// The key type.
    pub key: KeyKind,
    /// The number of entries.
    pub size: usize,
    /// The map measured.
    pub implementation: Implementation,
    /// Nanoseconds per run of the scenario's routine, one value per sample.
    pub samples_ns: Vec<f64>,
    /// Their median.
    pub median_ns: f64,
}

impl TimeResult {
    /// The median divided by the scenario's number of elements.
    pub fn ns_per_element(&self) -> f64 {
        self.median_ns / self.scenario.elements(self.implementation, self.size).max(1) as f64
    }
}

/// The heap of one map of `size` `u64 -> u64` entries, with one key pattern and one hash seed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryResult {
    /// The map measured.
    pub implementation: Implementation,
    /// The number of entries.
    pub size: usize,
    /// The keys.
    pub pattern: KeyPattern,
    /// The seed of the map's hasher.
    pub seed: u64,
    /// Live requested bytes and allocations, per entry.
    pub per_entry: HeapFigures,
}

/// The heap per entry of one map over the hash seeds it was measured with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemorySpread {
    /// Live requested bytes per entry.
    pub bytes: Spread,
    /// Live allocations per entry.
    pub allocations: Spread,
    /// How many seeds were measured.
    pub seeds: usize,
}

/// The extra heap of each variant in the variants workload.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VariantMemoryResult {
    /// The map measured.
    pub implementation: Implementation,
    /// The size of the base.
    pub size: usize,
    /// How many variants were made.
    pub variants: usize,
    /// Extra live requested bytes and allocations, per variant.
    pub per_variant: HeapFigures,
}

/// A measurement that did not produce a figure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// What was being measured.
    pub what: String,
    /// Why it failed (the end of the child's error output).
    pub message: String,
}

/// Everything a run measured.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Where and how.
    pub meta: Meta,
    /// The timings.
    pub times: Vec<TimeResult>,
    /// Bytes per entry, one result per implementation, size, key pattern and hash seed.
    pub memory: Vec<MemoryResult>,
    /// Bytes per variant.
    pub variant_memory: Vec<VariantMemoryResult>,
    /// The sections of [`crate::extras`], in the order they ran.
    pub extras: Vec<crate::extras::Section>,
    /// What failed.
    pub failures: Vec<Failure>,
}

/// Whether a target is reached. Its serde form is its [label](Self::label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// Every part measured, every part reached.
    #[serde(rename = "met")]
    Met,
    /// Every part measured was reached, but some parts were not measured in this run.
    #[serde(rename = "met where measured")]
    MetWhereMeasured,
    /// At least one part was missed.
    #[serde(rename = "missed")]
    Missed,
    /// Nothing was measured.
    #[serde(rename = "not measured")]
    NotMeasured,
}

impl Status {
    /// The word used in the report.
    pub fn label(self) -> &'static str {
        match self {
            Self::Met => "met",
            Self::MetWhereMeasured => "met where measured",
            Self::Missed => "missed",
            Self::NotMeasured => "not measured",
        }
    }
}

/// A target of the issue, evaluated on a run.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetResult {
    /// The scenario, as the issue names it.
    pub scenario: &'static str,
    /// The target, as the issue states it.
    pub target: &'static str,
    /// What this run measured for it.
    pub measured: String,
    /// Whether it is reached.
    pub status: Status,
}

/// How a measured value reads.
#[derive(Debug, Clone, Copy)]
enum Unit {
    Ratio,
    Nanoseconds,
    Bytes,
}

/// One comparison of a target: a value that must not exceed a limit.
#[derive(Debug, Clone)]
struct Check {
    label: String,
    value: Option<f64>,
    limit: f64,
    unit: Unit,
}

impl Check {
    fn new(label: impl Into<String>, value: Option<f64>, limit: f64, unit: Unit) -> Self {
        Self { label: label.into(), value, limit, unit }
    }

    fn met(&self) -> Option<bool> {
        self.value.map(|value| value <= self.limit)
    }

    fn describe(&self) -> String {
        let value = match (self.value, self.unit) {
            (None, _) => "not measured".to_owned(),
            (Some(value), Unit::Ratio) => format_ratio(value),
            (Some(value), Unit::Nanoseconds) => format_time(value),
            (Some(value), Unit::Bytes) => format!("{value:.0} B"),
        };
        if self.label.is_empty() { value } else { format!("{}: {value}", self.label) }
    }
}

/// Reads a size as the issue does: `1k`, `10k`, `1M`.
pub fn size_label(size: usize) -> String {
    if size >= 1_000_000 && size % 1_000_000 == 0 {
        format!("{}M", size / 1_000_000)
    } else if size >= 1_000 && size % 1_000 == 0 {
        format!("{}k", size / 1_000)
    } else {
        size.to_string()
    }
}

/// Reads a duration in nanoseconds with a unit that keeps three or four digits.
pub fn format_time(nanoseconds: f64) -> String {
    if nanoseconds < 1_000.0 {
        format!("{nanoseconds:.1} ns")
    } else if nanoseconds < 1_000_000.0 {
        format!("{:.2} µs", nanoseconds / 1_000.0)
    } else if nanoseconds < 1_000_000_000.0 {
        format!("{:.2} ms", nanoseconds / 1_000_000.0)
    } else {
        format!("{:.2} s", nanoseconds / 1_000_000_000.0)
    }
}

/// Reads a ratio with enough digits to tell small ones apart.
pub fn format_ratio(ratio: f64) -> String {
    if !ratio.is_finite() {
        "-".to_owned()
    } else if ratio < 0.001 {
        format!("{ratio:.1e}x")
    } else if ratio < 0.01 {
        format!("{ratio:.4}x")
    } else if ratio < 0.1 {
        format!("{ratio:.3}x")
    } else if ratio < 10.0 {
        format!("{ratio:.2}x")
    } else {
        format!("{ratio:.1}x")
    }
}

impl Report {
    /// The measurement of `implementation` in one scenario, key kind and size.
    pub fn time(
        &self,
        scenario: Scenario,
        key: KeyKind,
        size: usize,
        implementation: Implementation,
    ) -> Option<&TimeResult> {
        self.times.iter().find(|result| {
            result.scenario == scenario
                && result.key == key
                && result.size == size
                && result.implementation == implementation
        })
    }

    /// The time per element of `implementation` divided by that of `peer`, both measured in this run. Per element,
    /// so that the variants workload compares fairly when std made fewer variants.
    pub fn ratio(
        &self,
        scenario: Scenario,
        key: KeyKind,
        size: usize,
        implementation: Implementation,
        peer: Implementation,
    ) -> Option<f64> {
        let mine = self.time(scenario, key, size, implementation)?.ns_per_element();
        let theirs = self.time(scenario, key, size, peer)?.ns_per_element();
        (theirs > 0.0).then(|| mine / theirs)
    }

    /// The heap per entry of `implementation` at `size` with the random keys: the medians over the hash seeds of
    /// the bytes and of the allocations.
    pub fn memory(&self, implementation: Implementation, size: usize) -> Option<HeapFigures> {
        self.memory_spread(implementation, size, KeyPattern::Random)
            .map(|spread| HeapFigures { bytes: spread.bytes.median, allocations: spread.allocations.median })
    }

    /// The heap per entry of `implementation` at `size` with the keys of `pattern`, over the hash seeds measured.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_benches::maps::Implementation;
    /// use hamt_benches::memory::{HeapFigures, KeyPattern};
    /// use hamt_benches::report::{MemoryResult, Report};
    ///
    /// let mut report = Report::default();
    /// for (seed, bytes) in [(1, 20.0), (2, 18.0), (3, 21.0)] {
    ///     let (implementation, size, pattern) = (Implementation::HamtRc, 10_000, KeyPattern::Sequential);
    ///     let per_entry = HeapFigures { bytes, allocations: bytes / 100.0 };
    ///     report.memory.push(MemoryResult { implementation, size, pattern, seed, per_entry });
    /// }
    /// let spread = report.memory_spread(Implementation::HamtRc, 10_000, KeyPattern::Sequential).unwrap();
    /// assert_eq!((spread.bytes.min, spread.bytes.median, spread.bytes.max, spread.seeds), (18.0, 20.0, 21.0, 3));
    /// assert_eq!(report.memory(Implementation::HamtRc, 10_000), None, "no random keys were measured");
    /// ```
    pub fn memory_spread(
        &self,
        implementation: Implementation,
        size: usize,
        pattern: KeyPattern,
    ) -> Option<MemorySpread> {
        let figures: Vec<HeapFigures> = self
            .memory
            .iter()
            .filter(|result| {
                result.implementation == implementation && result.size == size && result.pattern == pattern
            })
            .map(|result| result.per_entry)
            .collect();
        let bytes: Vec<f64> = figures.iter().map(|figures| figures.bytes).collect();
        let allocations: Vec<f64> = figures.iter().map(|figures| figures.allocations).collect();
        Some(MemorySpread { bytes: Spread::of(&bytes)?, allocations: Spread::of(&allocations)?, seeds: figures.len() })
    }

    /// The extra heap per variant of `implementation` with a base of `size`.
    pub fn variant_memory(&self, implementation: Implementation, size: usize) -> Option<&VariantMemoryResult> {
        self.variant_memory.iter().find(|result| result.implementation == implementation && result.size == size)
    }

    /// The ratio of two heaps per entry with the random keys, each the median over the hash seeds.
    pub fn memory_ratio(&self, implementation: Implementation, peer: Implementation, size: usize) -> Option<f64> {
        let mine = self.memory(implementation, size)?.bytes;
        let theirs = self.memory(peer, size)?.bytes;
        (theirs > 0.0).then(|| mine / theirs)
    }

    /// The sizes measured for a scenario and key kind, smallest first.
    pub fn sizes(&self, scenario: Scenario, key: KeyKind) -> Vec<usize> {
        let sizes: BTreeSet<usize> = self
            .times
            .iter()
            .filter(|result| result.scenario == scenario && result.key == key)
            .map(|result| result.size)
            .collect();
        sizes.into_iter().collect()
    }

    /// The key kinds measured for a scenario.
    fn keys(&self, scenario: Scenario) -> Vec<KeyKind> {
        let keys: BTreeSet<KeyKind> =
            self.times.iter().filter(|result| result.scenario == scenario).map(|result| result.key).collect();
        keys.into_iter().collect()
    }

    /// The implementations measured.
    fn implementations(&self) -> Vec<Implementation> {
        let measured: BTreeSet<Implementation> = self
            .times
            .iter()
            .map(|result| result.implementation)
            .chain(self.memory.iter().map(|result| result.implementation))
            .collect();
        measured.into_iter().collect()
    }

    /// The ratio to std of our map, one check per size.
    fn ratio_checks(&self, scenario: Scenario, key: KeyKind, sizes: &[usize], limit: f64) -> Vec<Check> {
        sizes
            .iter()
            .map(|&size| {
                let ratio = self.ratio(scenario, key, size, OURS, REFERENCE);
                Check::new(size_label(size), ratio, limit, Unit::Ratio)
            })
            .collect()
    }

    /// One check per key kind and size of `scenario`: the ratio of `ours` to `peer`, labelled with the key, the
    /// size and the peer. `sizes` of `None` means every size this run measured.
    fn versus(
        &self,
        scenario: Scenario,
        sizes: Option<&[usize]>,
        ours: Implementation,
        peer: Implementation,
        limit: f64,
    ) -> Vec<Check> {
        let mut checks = Vec::new();
        for key in [KeyKind::U64, KeyKind::String] {
            let measured = self.sizes(scenario, key);
            for &size in sizes.unwrap_or(&measured) {
                let label = format!("{} {} vs {}", key.name(), size_label(size), peer.name());
                checks.push(Check::new(label, self.ratio(scenario, key, size, ours, peer), limit, Unit::Ratio));
            }
        }
        checks
    }

    /// Every target of the issue (issue 11: the default build against imbl and std; and issue 3's targets for
    /// what was already ahead, which must stay there), evaluated on this run. `u64` and `String` keys, `hamt-rc`
    /// unless named.
    pub fn targets(&self) -> Vec<TargetResult> {
        use Implementation::{HamtArcT, Imbl, Rpds, RpdsSync};
        let mut targets = Vec::new();
        let mut add = |scenario: &'static str, target: &'static str, checks: Vec<Check>| {
            targets.push(evaluate(scenario, target, &checks));
        };
        let every_scenario = |ours: Implementation, peer: Implementation| -> Vec<Check> {
            Scenario::ALL
                .into_iter()
                .filter(|scenario| scenario.applies_to(peer))
                .flat_map(|scenario| {
                    self.versus(scenario, None, ours, peer, 1.0).into_iter().map(move |mut check| {
                        check.label = format!("{} {}", scenario.name(), check.label);
                        check
                    })
                })
                .collect()
        };
        add("every scenario, every size and key type", "no worse than imbl", every_scenario(OURS, Imbl));
        let mut arc = every_scenario(HamtArcT, Imbl);
        arc.extend(every_scenario(HamtArcT, RpdsSync));
        add("every scenario, `hamt-arct`", "no worse than imbl's and rpds's `Arc` maps", arc);
        let with_std = |scenario: Scenario, limits: &[(usize, f64)]| -> Vec<Check> {
            limits
                .iter()
                .flat_map(|&(size, limit)| self.versus(scenario, Some(&[size]), OURS, REFERENCE, limit))
                .collect()
        };
        // Against imbl at every size, and against std at the sizes given.
        let imbl_and_std = |scenario: Scenario, imbl_limit: f64, std_limits: &[(usize, f64)]| -> Vec<Check> {
            let mut checks = self.versus(scenario, None, OURS, Imbl, imbl_limit);
            checks.extend(with_std(scenario, std_limits));
            checks
        };
        add(
            "lookup, present keys",
            "<= 0.9x imbl; <= 2.5x std at 10k, <= 3x std at 1M",
            imbl_and_std(Scenario::LookupHit, 0.9, &[(10_000, 2.5), (1_000_000, 3.0)]),
        );
        add(
            "lookup, absent keys",
            "<= 0.9x imbl; <= 3.5x std at 1M",
            imbl_and_std(Scenario::LookupMiss, 0.9, &[(1_000_000, 3.5)]),
        );
        add(
            "build by in-place insert",
            "<= 0.8x imbl; <= 2.5x std at 10k, <= 3x std at 1M",
            imbl_and_std(Scenario::BuildInsertMut, 0.8, &[(10_000, 2.5), (1_000_000, 3.0)]),
        );
        add(
            "in-place remove",
            "<= 0.5x imbl; <= 5x std at 100k",
            imbl_and_std(Scenario::RemoveMutHalf, 0.5, &[(100_000, 5.0)]),
        );
        add(
            "`from_iter`",
            "<= 2x std's `collect` at every size",
            self.versus(Scenario::FromIter, None, OURS, REFERENCE, 2.0),
        );
        let mut iteration = with_std(Scenario::Iterate, &[(100_000, 2.5), (1_000_000, 2.5)]);
        iteration.extend(with_std(Scenario::IterateCollected, &[(100_000, 1.5), (1_000_000, 1.5)]));
        add(
            "iteration, map built by in-place inserts / by `from_iter`",
            "<= 2.5x / <= 1.5x std at 100k and 1M",
            iteration,
        );
        let mut persistent = Vec::new();
        for scenario in [Scenario::BuildPersistent, Scenario::RemovePersistentHalf] {
            persistent.extend(self.versus(scenario, None, OURS, Imbl, 0.3));
            persistent.extend(self.versus(scenario, None, OURS, Rpds, 0.45));
        }
        add("persistent insert and remove", "<= 0.3x imbl and <= 0.45x rpds at every size", persistent);
        add(
            "equality of equal maps built in different orders",
            "<= 1x std at every size",
            self.versus(Scenario::EqOtherOrder, None, OURS, REFERENCE, 1.0),
        );
        add(
            "bytes per entry, 1M `u64 -> u64`",
            "<= 0.7x std",
            vec![Check::new("", self.memory_ratio(OURS, REFERENCE, 1_000_000), 0.7, Unit::Ratio)],
        );
        add(
            "500 variants of 10k: time; bytes per variant (issue 3)",
            "<= 0.6x rpds; <= 700 bytes",
            vec![
                Check::new(
                    "time vs rpds",
                    self.ratio(Scenario::Variants, KeyKind::U64, 10_000, OURS, Rpds),
                    0.6,
                    Unit::Ratio,
                ),
                Check::new(
                    "bytes per variant",
                    self.variant_memory(OURS, 10_000).map(|result| result.per_variant.bytes),
                    700.0,
                    Unit::Bytes,
                ),
            ],
        );
        add(
            "equality with a one-key variant, 100k (issue 3)",
            "O(depth): under 1 us",
            vec![Check::new(
                "",
                self.time(Scenario::EqOneKeyVariant, KeyKind::U64, 100_000, OURS).map(|result| result.median_ns),
                1_000.0,
                Unit::Nanoseconds,
            )],
        );
        add(
            "diff against a variant with 10 changes, 1M (issue 3)",
            "under 20 us",
            vec![Check::new(
                "",
                self.time(Scenario::Diff, KeyKind::U64, 1_000_000, OURS).map(|result| result.median_ns),
                20_000.0,
                Unit::Nanoseconds,
            )],
        );
        let colliding_sizes = self.sizes(Scenario::LookupHit, KeyKind::Colliding);
        add(
            "lookups under heavy collisions (64 distinct hashes; issue 3)",
            "<= 1.5x std",
            self.ratio_checks(Scenario::LookupHit, KeyKind::Colliding, &colliding_sizes, 1.5),
        );
        targets
    }

    /// `docs/benchmarks.md`.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let meta = &self.meta;
        line!(out, "# Benchmarks");
        line!(out);
        line!(
            out,
            "Generated by `{}` on {}{}. Do not edit by hand: run it again.",
            meta.command,
            meta.date,
            if meta.quick { " (a `--quick` run: fewer sizes and samples)" } else { "" }
        );
        line!(out);
        line!(out, "![Ratio to std HashMap per scenario](benchmarks.svg)");
        line!(out);
        line!(out, "## Machine and versions");
        line!(out);
        line!(out, "| | |");
        line!(out, "|---|---|");
        line!(out, "| processor | {} |", meta.cpu);
        line!(out, "| cores | {} |", meta.cores);
        line!(out, "| memory | {} |", meta.memory);
        line!(out, "| compiler | {} |", meta.rustc);
        line!(
            out,
            "| profile | `bench` (thin LTO, one codegen unit), {} |",
            if meta.popcnt {
                "built with the `popcnt` target feature (not what a user's default build gets)"
            } else {
                "default target features, as a user builds it (POPCNT chosen at run time)"
            }
        );
        for (name, version) in &meta.versions {
            line!(out, "| {name} | {version} |");
        }
        line!(out, "| run time | {:.0} s |", meta.duration_seconds);
        line!(
            out,
            "| load average (1 / 5 / 15 min) | {} at the start, {} at the end (a load above 1 means other work \
             shared the cores, and the figures are noisier) |",
            meta.load_before,
            meta.load_after
        );
        line!(out);
        line!(out, "## Method");
        line!(out);
        line!(
            out,
            "Every figure is a median of samples taken in processes of their own: the binary starts itself for \
             every scenario, key type, size, implementation and round, so that no map freed by one measurement \
             leaves the allocator in a state that another pays for. {} All maps except `std-sip` hash with the same \
             foldhash hasher and seed, so that ratios compare structures, not hash functions. Ratios are of medians \
             measured in this run; lower is better.",
            meta.sampling
        );
        line!(out);
        line!(
            out,
            "Heap figures are requested bytes and live allocations counted by a global allocator that wraps the system one, in a process of their own; they do not include the allocator's own overhead."
        );
        line!(out);
        line!(out, "| name | map |");
        line!(out, "|---|---|");
        for implementation in Implementation::ALL {
            line!(out, "| `{}` | {} |", implementation.name(), implementation.description());
        }
        line!(out);
        self.write_targets(&mut out);
        self.write_scenarios(&mut out);
        self.write_pointer_kinds(&mut out);
        self.write_memory(&mut out);
        for section in &self.extras {
            line!(out, "## {}", section.title);
            line!(out);
            out.push_str(&section.markdown);
            if !section.markdown.ends_with("\n\n") {
                line!(out);
            }
        }
        if !self.failures.is_empty() {
            line!(out, "## Failures");
            line!(out);
            line!(out, "These measurements produced no figure:");
            line!(out);
            for failure in &self.failures {
                line!(out, "- {}: `{}`", failure.what, failure.message.replace('`', "'").replace('\n', " "));
            }
            line!(out);
        }
        out
    }

    fn write_targets(&self, out: &mut String) {
        line!(out, "## Targets");
        line!(out);
        line!(
            out,
            "The numbers the core must reach in the build a user gets, with default compiler flags (issue 11; POPCNT \
             is detected at run time), for `{}` against the named peer with `u64` and `String` keys unless the row \
             says otherwise; then issue 3's targets for what was already ahead, which must stay there; then those of \
             the crates built on it (their sections below say how they were measured). Every ratio is taken from \
             this run. A row of many checks gives how many are within and the worst; a target whose sizes this run \
             did not measure says so.",
            OURS.name()
        );
        line!(out);
        line!(out, "| scenario | target | measured | status |");
        line!(out, "|---|---|---|---|");
        for target in self.targets() {
            let status = match target.status {
                Status::Missed => format!("**{}**", target.status.label()),
                _ => target.status.label().to_owned(),
            };
            line!(out, "| {} | {} | {} | {status} |", target.scenario, target.target, target.measured);
        }
        for section in &self.extras {
            for target in &section.targets {
                let status = match target.met {
                    Some(true) => Status::Met.label().to_owned(),
                    Some(false) => format!("**{}**", Status::Missed.label()),
                    None => Status::NotMeasured.label().to_owned(),
                };
                line!(out, "| {} | {} | {} | {status} |", target.scenario, target.target, target.measured);
            }
        }
        line!(out);
    }

    fn write_scenarios(&self, out: &mut String) {
        let implementations = self.implementations();
        let peers: Vec<Implementation> =
            implementations.iter().copied().filter(|implementation| !implementation.is_ours()).collect();
        let flavours: Vec<Implementation> = implementations
            .iter()
            .copied()
            .filter(|&implementation| implementation.is_ours() && implementation != OURS)
            .collect();
        line!(out, "## Timings");
        line!(out);
        for scenario in Scenario::ALL {
            let keys = self.keys(scenario);
            if keys.is_empty() {
                continue;
            }
            let baseline = if scenario.is_persistent_only() { Implementation::Imbl } else { REFERENCE };
            let columns: Vec<Implementation> =
                implementations.iter().copied().filter(|&implementation| scenario.applies_to(implementation)).collect();
            line!(out, "### {} (`{}`)", scenario.title(), scenario.name());
            line!(out);
            let what = match scenario.unit() {
                Some(unit) => format!("Median time per {unit}"),
                None => "Median time of one operation".to_owned(),
            };
            let mut paragraph = format!("{what}, and in parentheses its ratio to `{}`.", baseline.name());
            if scenario == Scenario::Variants {
                paragraph.push_str(&format!(
                    " All {VARIANTS} variants are kept alive; the total is {VARIANTS} times the time per variant. \
                     std clones the base then inserts; with a base of 1M it makes only {} variants, which would \
                     otherwise need about 18 GB.",
                    crate::scenarios::STD_FEW_VARIANTS
                ));
            }
            if scenario.is_persistent_only() {
                paragraph.push_str(" std's map shares nothing between versions and is left out.");
            }
            line!(out, "{paragraph}");
            line!(out);
            line!(
                out,
                "| key | size | {} |",
                columns
                    .iter()
                    .map(|implementation| format!("`{}`", implementation.name()))
                    .collect::<Vec<_>>()
                    .join(" | ")
            );
            line!(out, "|---|---|{}", "---|".repeat(columns.len()));
            for &key in &keys {
                for size in self.sizes(scenario, key) {
                    let cells: Vec<String> = columns
                        .iter()
                        .map(|&implementation| match self.time(scenario, key, size, implementation) {
                            None => "-".to_owned(),
                            Some(result) => {
                                let time = if scenario.unit().is_some() {
                                    format_time(result.ns_per_element())
                                } else {
                                    format_time(result.median_ns)
                                };
                                match self.ratio(scenario, key, size, implementation, baseline) {
                                    Some(ratio) if implementation != baseline => {
                                        format!("{time} ({})", format_ratio(ratio))
                                    }
                                    _ => time,
                                }
                            }
                        })
                        .collect();
                    line!(out, "| {} | {} | {} |", key.name(), size_label(size), cells.join(" | "));
                }
            }
            line!(out);
            let versus: Vec<Implementation> = peers.iter().copied().filter(|&peer| scenario.applies_to(peer)).collect();
            line!(out, "`{}` against each peer, and the other flavours against `{}`:", OURS.name(), OURS.name());
            line!(out);
            let mut header: Vec<String> = versus.iter().map(|peer| format!("vs `{}`", peer.name())).collect();
            header.extend(flavours.iter().map(|flavour| format!("`{}` / `{}`", flavour.name(), OURS.name())));
            line!(out, "| key | size | {} |", header.join(" | "));
            line!(out, "|---|---|{}", "---|".repeat(header.len()));
            for &key in &keys {
                for size in self.sizes(scenario, key) {
                    let cells: Vec<String> = versus
                        .iter()
                        .map(|&peer| self.ratio(scenario, key, size, OURS, peer))
                        .chain(flavours.iter().map(|&flavour| self.ratio(scenario, key, size, flavour, OURS)))
                        .map(|ratio| ratio.map_or_else(|| "-".to_owned(), format_ratio))
                        .collect();
                    line!(out, "| {} | {} | {} |", key.name(), size_label(size), cells.join(" | "));
                }
            }
            line!(out);
        }
    }

    /// The pointer kinds compared on every scenario: per scenario and key type, the ratios of the `ArcK` and
    /// `ArcTK` flavours' medians to the `RcK` flavour's at the largest size all three were measured at, then the
    /// geometric mean of each column. Computed from the timings above; nothing is measured for it.
    fn write_pointer_kinds(&self, out: &mut String) {
        let (rc, arc, arc_t) = (Implementation::HamtRc, Implementation::HamtArc, Implementation::HamtArcT);
        let mut rows = Vec::new();
        for scenario in Scenario::ALL {
            for key in self.keys(scenario) {
                let largest = self.sizes(scenario, key).into_iter().rev().find(|&size| {
                    [rc, arc, arc_t]
                        .iter()
                        .all(|&implementation| self.time(scenario, key, size, implementation).is_some())
                });
                let Some(size) = largest else { continue };
                let (Some(arc_ratio), Some(arc_t_ratio)) =
                    (self.ratio(scenario, key, size, arc, rc), self.ratio(scenario, key, size, arc_t, rc))
                else {
                    continue;
                };
                rows.push((scenario, key, size, arc_ratio, arc_t_ratio));
            }
        }
        if rows.is_empty() {
            return;
        }
        line!(out, "## Pointer kinds");
        line!(out);
        line!(
            out,
            "The thread-safe flavours (hamt-sync's maps) against the single-threaded one, from the timings above: \
             the median of `{}` (std's `Arc`, `ArcK`) and of `{}` (triomphe's `Arc`, `ArcTK`, hamt-sync's default) \
             divided by that of `{}` (`RcK`), at the largest size all three were measured at. Above 1 the atomic \
             reference count costs time; the geometric mean summarizes the scenarios.",
            arc.name(),
            arc_t.name(),
            rc.name()
        );
        line!(out);
        line!(
            out,
            "| scenario | key | size | `{}` / `{}` | `{}` / `{}` |",
            arc.name(),
            rc.name(),
            arc_t.name(),
            rc.name()
        );
        line!(out, "|---|---|---|---|---|");
        for &(scenario, key, size, arc_ratio, arc_t_ratio) in &rows {
            line!(
                out,
                "| {} | {} | {} | {} | {} |",
                scenario.name(),
                key.name(),
                size_label(size),
                format_ratio(arc_ratio),
                format_ratio(arc_t_ratio)
            );
        }
        let geometric_mean = |ratios: Vec<f64>| {
            let count = ratios.len() as f64;
            (ratios.into_iter().map(f64::ln).sum::<f64>() / count).exp()
        };
        line!(
            out,
            "| **geometric mean** | | | **{}** | **{}** |",
            format_ratio(geometric_mean(rows.iter().map(|row| row.3).collect())),
            format_ratio(geometric_mean(rows.iter().map(|row| row.4).collect()))
        );
        line!(out);
    }

    /// One cell of a heap per entry table; see `write_memory`.
    fn memory_cell(
        &self,
        implementation: Implementation,
        size: usize,
        pattern: KeyPattern,
        spread: MemorySpread,
    ) -> String {
        let bytes = |value: f64| format!("{value:.1}");
        let least_to_greatest = format_range(spread.bytes, bytes);
        match pattern {
            KeyPattern::Random => {
                let ratio = self
                    .memory_ratio(implementation, REFERENCE, size)
                    .filter(|_| implementation != REFERENCE)
                    .map(|ratio| format!(" ({})", format_ratio(ratio)))
                    .unwrap_or_default();
                let allocations = format_count(spread.allocations.median);
                format!("{} B{ratio}, {least_to_greatest}; {allocations} allocs", bytes(spread.bytes.median))
            }
            KeyPattern::Sequential => {
                let allocations = format_range(spread.allocations, format_count);
                format!("{} B, {least_to_greatest}; {allocations} allocs", bytes(spread.bytes.median))
            }
        }
    }

    fn write_memory(&self, out: &mut String) {
        let implementations = self.implementations();
        let header = implementations
            .iter()
            .map(|implementation| format!("`{}`", implementation.name()))
            .collect::<Vec<_>>()
            .join(" | ");
        if !self.memory.is_empty() {
            line!(out, "## Heap per entry");
            line!(out);
        }
        for pattern in KeyPattern::ALL {
            let sizes: BTreeSet<usize> =
                self.memory.iter().filter(|result| result.pattern == pattern).map(|result| result.size).collect();
            if sizes.is_empty() {
                continue;
            }
            let seeds: BTreeSet<u64> =
                self.memory.iter().filter(|result| result.pattern == pattern).map(|result| result.seed).collect();
            match pattern {
                KeyPattern::Random => {
                    line!(
                        out,
                        "Live requested bytes per entry of one `u64 -> u64` map built by in-place inserts, measured \
                         with {} seeds of the maps' foldhash hasher, each in a process of its own (`std-sip` draws \
                         its own SipHash keys in every process). The keys are the benches' random keys. Each cell: \
                         the median over the seeds, in parentheses its ratio to `{}`'s median, then the least and \
                         the greatest over the seeds; then the median live allocations per entry (for our maps, \
                         one allocation is one node).",
                        seeds.len(),
                        REFERENCE.name()
                    );
                }
                KeyPattern::Sequential => {
                    line!(out, "### Sequential keys");
                    line!(out);
                    line!(
                        out,
                        "The same maps with the keys `0..n` and {} seeds, where the seed changes the shape of \
                         the tries (see \"Nodes\" in `docs/architecture.md`): the median bytes per entry, the least \
                         and the greatest over the seeds, then the least and the greatest live allocations per entry.",
                        seeds.len()
                    );
                }
            }
            line!(out);
            line!(out, "| size | {header} |");
            line!(out, "|---|{}", "---|".repeat(implementations.len()));
            for &size in &sizes {
                let cells: Vec<String> = implementations
                    .iter()
                    .map(|&implementation| match self.memory_spread(implementation, size, pattern) {
                        None => "-".to_owned(),
                        Some(spread) => self.memory_cell(implementation, size, pattern, spread),
                    })
                    .collect();
                line!(out, "| {} | {} |", size_label(size), cells.join(" | "));
            }
            line!(out);
        }
        let sizes: BTreeSet<usize> = self.variant_memory.iter().map(|result| result.size).collect();
        if !sizes.is_empty() {
            line!(out, "## Heap per variant");
            line!(out);
            line!(
                out,
                "Extra live requested bytes per variant when {VARIANTS} variants of a `u64 -> u64` base each add one \
                 key and all stay alive, then extra live allocations per variant. Against std: `clone()` then \
                 insert."
            );
            line!(out);
            line!(
                out,
                "| base | {} |",
                implementations
                    .iter()
                    .map(|implementation| format!("`{}`", implementation.name()))
                    .collect::<Vec<_>>()
                    .join(" | ")
            );
            line!(out, "|---|{}", "---|".repeat(implementations.len()));
            for &size in &sizes {
                let cells: Vec<String> = implementations
                    .iter()
                    .map(|&implementation| match self.variant_memory(implementation, size) {
                        None => "-".to_owned(),
                        Some(result) => {
                            let few = if result.variants == VARIANTS {
                                String::new()
                            } else {
                                format!(" ({} variants)", result.variants)
                            };
                            format!(
                                "{}, {} allocs{few}",
                                format_bytes(result.per_variant.bytes),
                                format_count(result.per_variant.allocations)
                            )
                        }
                    })
                    .collect();
                line!(out, "| {} | {} |", size_label(size), cells.join(" | "));
            }
            line!(out);
        }
    }

    /// The typed records of `docs/benchmarks.json`: every figure of the run, with the ratios and targets
    /// computed from them.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_benches::report::Report;
    ///
    /// let document = Report::default().document();
    /// assert!(document.results.is_empty() && document.failures.is_empty());
    /// ```
    pub fn document(&self) -> Document {
        let results = self
            .times
            .iter()
            .map(|result| {
                let ratio_to = |peer| {
                    self.ratio(result.scenario, result.key, result.size, result.implementation, peer)
                        .filter(|ratio| ratio.is_finite())
                };
                TimeRecord {
                    scenario: result.scenario,
                    key: result.key,
                    size: result.size,
                    implementation: result.implementation,
                    median_ns: result.median_ns,
                    min_ns: result.samples_ns.iter().copied().reduce(f64::min),
                    elements: result.scenario.elements(result.implementation, result.size),
                    ns_per_element: result.ns_per_element(),
                    ratio_to_std: ratio_to(REFERENCE),
                    ratio_to_imbl: ratio_to(Implementation::Imbl),
                    ratio_to_rpds: ratio_to(Implementation::Rpds),
                    samples_ns: result.samples_ns.clone(),
                }
            })
            .collect();
        let mut cells: Vec<(Implementation, usize, KeyPattern)> =
            self.memory.iter().map(|result| (result.implementation, result.size, result.pattern)).collect();
        cells.sort();
        cells.dedup();
        let memory = cells
            .into_iter()
            .filter_map(|(implementation, size, pattern)| {
                let spread = self.memory_spread(implementation, size, pattern)?;
                let peer = self.memory_spread(REFERENCE, size, pattern).map(|peer| peer.bytes.median);
                let seeds = self
                    .memory
                    .iter()
                    .filter(|result| {
                        (result.implementation, result.size, result.pattern) == (implementation, size, pattern)
                    })
                    .map(|result| SeedMemoryRecord {
                        seed: result.seed,
                        bytes_per_entry: result.per_entry.bytes,
                        allocations_per_entry: result.per_entry.allocations,
                    })
                    .collect();
                Some(MemoryRecord {
                    scenario: "heap_per_entry".to_owned(),
                    key: KeyKind::U64,
                    pattern,
                    size,
                    implementation,
                    bytes_per_entry: spread.bytes,
                    allocations_per_entry: spread.allocations,
                    ratio_to_std: peer
                        .filter(|&peer| peer > 0.0)
                        .map(|peer| spread.bytes.median / peer)
                        .filter(|ratio| ratio.is_finite()),
                    seeds,
                })
            })
            .collect();
        let variant_memory = self
            .variant_memory
            .iter()
            .map(|result| VariantMemoryRecord {
                scenario: "heap_per_variant".to_owned(),
                key: KeyKind::U64,
                size: result.size,
                implementation: result.implementation,
                variants: result.variants,
                bytes_per_variant: result.per_variant.bytes,
                allocations_per_variant: result.per_variant.allocations,
            })
            .collect();
        let targets = self
            .targets()
            .into_iter()
            .map(|target| TargetRecord {
                scenario: target.scenario.to_owned(),
                target: target.target.to_owned(),
                measured: target.measured,
                status: target.status,
            })
            .collect();
        let sections = self
            .extras
            .iter()
            .map(|section| SectionRecord {
                title: section.title.clone(),
                figures: section.figures.clone(),
                targets: section.targets.clone(),
            })
            .collect();
        Document {
            meta: MetaRecord { meta: self.meta.clone(), reference: REFERENCE },
            results,
            memory,
            variant_memory,
            targets,
            sections,
            failures: self.failures.clone(),
        }
    }

    /// `docs/benchmarks.json`: the [`document`](Self::document), written by serde_json.
    ///
    /// # Errors
    ///
    /// Returns serde_json's error if the document cannot be written; every map in it has string keys, so this does
    /// not happen in practice, but it is reported rather than assumed.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_benches::report::Report;
    ///
    /// let json = Report::default().json()?;
    /// assert!(json.starts_with('{') && json.contains("\"results\": []"));
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn json(&self) -> serde_json::Result<String> {
        serde_json::to_string_pretty(&self.document())
    }

    /// `docs/benchmarks.svg`: for each scenario, the ratio of every implementation to std's map, on a log scale,
    /// drawn with plotters; the persistent scenarios, which std's map cannot run, in a second panel
    /// as ratios to imbl.
    ///
    /// # Errors
    ///
    /// Returns plotters' error if drawing fails; the SVG backend draws into a `String`, so this does not happen in
    /// practice, but it is reported rather than assumed.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_benches::report::Report;
    ///
    /// let svg = Report::default().svg()?;
    /// assert!(svg.starts_with("<svg") && svg.contains("nothing measured"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn svg(&self) -> Result<String, plotters::drawing::DrawingAreaErrorKind<std::io::Error>> {
        let chart_size = |sizes: Vec<usize>| -> Option<usize> {
            if sizes.contains(&100_000) { Some(100_000) } else { sizes.last().copied() }
        };
        let mut groups: Vec<ChartGroup> = Vec::new();
        let mut persistent_groups: Vec<ChartGroup> = Vec::new();
        for scenario in Scenario::ALL {
            let key = if scenario.keys().contains(&KeyKind::U64) { KeyKind::U64 } else { continue };
            let size = if scenario == Scenario::Variants {
                self.sizes(scenario, key).first().copied()
            } else {
                chart_size(self.sizes(scenario, key))
            };
            let Some(size) = size else { continue };
            let baseline = if scenario.is_persistent_only() { Implementation::Imbl } else { REFERENCE };
            let bars = Implementation::ALL
                .into_iter()
                .filter(|&implementation| implementation != baseline && scenario.applies_to(implementation))
                .filter_map(|implementation| {
                    self.ratio(scenario, key, size, implementation, baseline).map(|ratio| (implementation, ratio))
                })
                .collect();
            let group = ChartGroup { label: format!("{} {}", scenario.name(), size_label(size)), bars };
            if scenario.is_persistent_only() { persistent_groups.push(group) } else { groups.push(group) }
        }
        if let Some(size) = chart_size(self.sizes(Scenario::LookupHit, KeyKind::Colliding)) {
            let bars = Implementation::ALL
                .into_iter()
                .filter(|&implementation| implementation != REFERENCE)
                .filter_map(|implementation| {
                    self.ratio(Scenario::LookupHit, KeyKind::Colliding, size, implementation, REFERENCE)
                        .map(|ratio| (implementation, ratio))
                })
                .collect();
            groups.push(ChartGroup { label: format!("lookup_hit colliding {}", size_label(size)), bars });
        }
        let memory_sizes: Vec<usize> =
            self.memory.iter().map(|result| result.size).collect::<BTreeSet<_>>().into_iter().collect();
        if let Some(size) = memory_sizes.last().copied() {
            let bars = Implementation::ALL
                .into_iter()
                .filter(|&implementation| implementation != REFERENCE)
                .filter_map(|implementation| {
                    self.memory_ratio(implementation, REFERENCE, size).map(|ratio| (implementation, ratio))
                })
                .collect();
            groups.push(ChartGroup { label: format!("heap bytes/entry {}", size_label(size)), bars });
        }
        groups.retain(|group| !group.bars.is_empty());
        persistent_groups.retain(|group| !group.bars.is_empty());
        crate::chart::render(
            &[
                ChartPanel {
                    title: format!(
                        "Ratio to std HashMap (same foldhash hasher), u64 keys; log scale, lower is better{}",
                        if self.meta.quick { " (quick run)" } else { "" }
                    ),
                    groups,
                },
                ChartPanel {
                    title: "Persistent scenarios: ratio to imbl (std shares nothing between versions)".to_owned(),
                    groups: persistent_groups,
                },
            ],
            &self.meta.date,
        )
    }
}

/// Evaluates the checks of one target.
fn evaluate(scenario: &'static str, target: &'static str, checks: &[Check]) -> TargetResult {
    let outcomes: Vec<Option<bool>> = checks.iter().map(Check::met).collect();
    let status = if outcomes.contains(&Some(false)) {
        Status::Missed
    } else if outcomes.iter().all(Option::is_none) {
        Status::NotMeasured
    } else if outcomes.contains(&None) {
        Status::MetWhereMeasured
    } else {
        Status::Met
    };
    let measured = if checks.len() > 4 {
        let measured: Vec<&Check> = checks.iter().filter(|check| check.value.is_some()).collect();
        let within = measured.iter().filter(|check| check.met() == Some(true)).count();
        let worst = measured
            .iter()
            .max_by(|a, b| (a.value.unwrap_or(0.0) / a.limit).total_cmp(&(b.value.unwrap_or(0.0) / b.limit)));
        match worst {
            None => "not measured".to_owned(),
            Some(worst) => format!("{within} of {} within; worst {}", measured.len(), worst.describe()),
        }
    } else if checks.is_empty() {
        "not measured".to_owned()
    } else {
        checks.iter().map(Check::describe).collect::<Vec<_>>().join("; ")
    };
    TargetResult { scenario, target, measured, status }
}

/// Reads the least and the greatest of a spread as `least-greatest`, or as one value when they read the same.
fn format_range(spread: Spread, format: impl Fn(f64) -> String) -> String {
    let (least, greatest) = (format(spread.min), format(spread.max));
    if least == greatest { least } else { format!("{least}-{greatest}") }
}

/// Reads a byte count.
fn format_bytes(bytes: f64) -> String {
    if bytes >= 10_240.0 { format!("{:.0} KiB", bytes / 1024.0) } else { format!("{bytes:.0} B") }
}

/// Reads a count with three significant digits.
fn format_count(count: f64) -> String {
    if count == 0.0 {
        "0".to_owned()
    } else if count.abs() < 0.01 {
        format!("{count:.2e}")
    } else {
        let decimals = (2 - count.abs().log10().floor() as i32).clamp(0, 3) as usize;
        format!("{count:.decimals$}")
    }
}
