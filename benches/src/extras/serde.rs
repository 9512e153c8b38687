//! The `serde` section: issue 4's measurements of hamt-serde, each against the peer the issue names, measured in
//! the same run.
//!
//! - Sizes: one version against postcard's encoding of a std `HashMap` with the same entries (hamt-serde writes
//!   its entries in postcard too, so the two differ by the envelope alone), and 500 variants of a base against the
//!   base alone, written both as a list (each version against the one before or an ancestor of it) and as a [`VersionSet`] (each
//!   variant against the base).
//! - Times: encoding and decoding one large map against postcard and a std `HashMap`, and encoding 500 variants
//!   against encoding the base alone.
//! - Memory: the live heap of 500 decoded variants against that of the 500 originals.
//!
//! Every variant is derived from the base by one persistent insert, following [`variant_entry`]: an even-numbered
//! variant changes the value of an existing key, an odd-numbered one adds a key the base lacks.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use hamt_core::{ArcTK, DefaultHashBuilder, HamtMap, PointerKind, RcK};
use hamt_serde::{VersionSet, deserialize_multiple, serialize_multiple};

use super::{Section, time_batched_ns, time_ns};
use crate::alloc;
use crate::keys::Data;
use crate::maps::BenchHasher;
use crate::report::{format_ratio, format_time, size_label};
use crate::sampler::median;
use crate::scenarios::VARIANTS;

/// Our map as the issue measures it: `u64 -> u64`, `Rc` counts, the default hasher.
type Ours = HamtMap<u64, u64, RcK, DefaultHashBuilder>;
/// The same map with `triomphe::Arc` counts, for the thread-safe decoding figure.
type OursSync = HamtMap<u64, u64, ArcTK, DefaultHashBuilder>;
/// Our map with either pointer kind.
type Flavour<P> = HamtMap<u64, u64, P, DefaultHashBuilder>;
/// The peer: std's map with the fixed-seed foldhash hasher every benchmark shares.
type Peer = HashMap<u64, u64, BenchHasher>;

/// What one run measures, and how long it samples.
#[derive(Debug, Clone)]
pub struct Config {
    /// Entries of the base whose variants are sized and whose decoded variants' heap is measured (10k).
    pub small: usize,
    /// Entries of the map that is timed (1M).
    pub large: usize,
    /// Variants of each base.
    pub variants: usize,
    /// Rounds of timing; in each, every routine of a comparison is sampled in turn, so that a burst of load on
    /// the machine spoils a round of each instead of all of one.
    pub rounds: usize,
    /// Samples per routine and round.
    pub samples: usize,
    /// The least time of calls in a sample.
    pub min_sample_time: Duration,
}

impl Config {
    /// The configuration of a `--quick` run or of a full one; both measure the sizes the issue names.
    pub fn new(quick: bool) -> Self {
        if quick {
            Self {
                small: 10_000,
                large: 1_000_000,
                variants: VARIANTS,
                rounds: 3,
                samples: 2,
                min_sample_time: Duration::from_millis(10),
            }
        } else {
            Self {
                small: 10_000,
                large: 1_000_000,
                variants: VARIANTS,
                rounds: 7,
                samples: 3,
                min_sample_time: Duration::from_millis(40),
            }
        }
    }
}

/// Measures the section with the configuration of a quick or a full run.
pub fn run(quick: bool) -> Section {
    run_with(&Config::new(quick))
}

/// Measures the section with `config`. The heap is measured last, because counting allocations slows down every
/// allocation that follows it in this process.
///
/// # Panics
///
/// If a decoded version differs from the version encoded (which would make every figure meaningless).
pub fn run_with(config: &Config) -> Section {
    let started = Instant::now();
    let sizes = measure_sizes(config.small, config.variants);
    let times = measure_times(config);
    alloc::start_counting();
    let heap = measure_heap(config.small, config.variants);
    write_section(config, &sizes, &times, &heap, started.elapsed())
}

/// The entry variant `index` (counted from 1) puts into the base: even-numbered variants change the value of an
/// existing key (the `index`-th of the shuffled present keys) to one no entry has, odd-numbered ones add an absent
/// key.
pub fn variant_entry(data: &Data<u64>, index: usize) -> (u64, u64) {
    let unused_value = (data.len() + index) as u64;
    if index % 2 == 0 { (data.shuffled[index % data.len()], unused_value) } else { (data.absent[index], unused_value) }
}

/// A base built from `data`'s entries, and `count` variants of it, each one persistent insert.
fn base_and_variants<P: PointerKind>(data: &Data<u64>, count: usize) -> (Flavour<P>, Vec<Flavour<P>>) {
    let base: Flavour<P> = data.entries().into_iter().collect();
    let variants = (1..=count)
        .map(|index| {
            let (key, value) = variant_entry(data, index);
            base.insert(key, value)
        })
        .collect();
    (base, variants)
}

/// The base followed by its variants, as `serialize_multiple` takes them.
fn chain<'m>(base: &'m Ours, variants: &'m [Ours]) -> Vec<&'m Ours> {
    std::iter::once(base).chain(variants).collect()
}

/// The base and its variants as a [`VersionSet`] in which every variant's parent is the base.
fn star(base: &Ours, variants: &[Ours]) -> VersionSet<Ours> {
    let mut set = VersionSet::new();
    let root = set.push(base.clone());
    for variant in variants {
        set.push_with_parent(variant.clone(), Some(root));
    }
    set
}

/// Encoded lengths, in bytes.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// `serialize_multiple(&[&base])`.
    pub one: usize,
    /// `postcard::to_allocvec` of a std `HashMap` with the same entries.
    pub postcard: usize,
    /// The envelope: the encoding of one empty version, less the one byte of its zero entry count.
    pub envelope: usize,
    /// The base and its variants as a list, each written against the nearest ancestor with the smallest delta.
    pub chain: usize,
    /// The base and its variants as a `VersionSet`, each variant written against the base.
    pub star: usize,
}

/// Measures the encoded sizes for a base of `size` entries and `count` variants, and checks that each encoding
/// decodes to what was encoded.
///
/// # Panics
///
/// If an encoding does not decode to the versions encoded.
pub fn measure_sizes(size: usize, count: usize) -> Sizes {
    let data = Data::<u64>::generate(size);
    let (base, variants) = base_and_variants::<RcK>(&data, count);
    let peer: Peer = data.entries().into_iter().collect();
    let one = serialize_multiple(&[&base]).expect("encodes");
    let postcard = postcard::to_allocvec(&peer).expect("postcard encodes a HashMap<u64, u64>");
    let envelope = serialize_multiple(&[&Ours::default()]).expect("encodes").len() - 1;
    let chain_bytes = serialize_multiple(&chain(&base, &variants)).expect("encodes");
    let star_set = star(&base, &variants);
    let star_bytes = star_set.to_bytes().expect("encodes");

    let decoded: Vec<Ours> = deserialize_multiple(&chain_bytes).expect("the list decodes");
    assert!(decoded.len() == count + 1 && decoded[0] == base && decoded[1..] == variants[..], "the list round-trips");
    let decoded = VersionSet::<Ours>::from_bytes(&star_bytes).expect("the version set decodes");
    assert!(decoded == star_set, "the version set round-trips");
    let decoded: Peer = postcard::from_bytes(&postcard).expect("postcard decodes its HashMap");
    assert!(decoded == peer, "postcard round-trips");

    Sizes { one: one.len(), postcard: postcard.len(), envelope, chain: chain_bytes.len(), star: star_bytes.len() }
}

/// Median times, in nanoseconds, over every sample of every round.
#[derive(Debug, Clone, Copy)]
pub struct Times {
    /// `serialize_multiple(&[&map])` of the large map.
    pub encode: f64,
    /// `postcard::to_allocvec` of the std `HashMap`.
    pub postcard_encode: f64,
    /// `deserialize_multiple` into `Rc` maps.
    pub decode: f64,
    /// `deserialize_multiple` into `triomphe::Arc` maps.
    pub decode_sync: f64,
    /// `postcard::from_bytes` into a std `HashMap`.
    pub postcard_decode: f64,
    /// `serialize_multiple(&[&base])` again, timed in the same rounds as the variants, as their reference.
    pub encode_alone: f64,
    /// `serialize_multiple` of the large base and its variants (each against the nearest, smallest-delta ancestor).
    pub encode_chain: f64,
    /// `VersionSet::to_bytes` of the large base and its variants, each against the base.
    pub encode_star: f64,
}

/// One round's samples of a routine.
type Routine<'r> = dyn FnMut(&Config) -> Vec<f64> + 'r;

/// Samples every routine of one comparison, taking turns, for `config.rounds` rounds, and returns the median of
/// each routine's samples.
fn compare<const N: usize>(config: &Config, mut routines: [&mut Routine<'_>; N]) -> [f64; N] {
    let mut samples: [Vec<f64>; N] = std::array::from_fn(|_| Vec::new());
    for _ in 0..config.rounds.max(1) {
        for (routine, samples) in routines.iter_mut().zip(&mut samples) {
            samples.extend(routine(config));
        }
    }
    samples.map(|samples| median(&samples))
}

/// One round's samples of `routine`, timed with [`time_ns`] one sample at a time.
fn sampled<R>(config: &Config, mut routine: impl FnMut() -> R) -> Vec<f64> {
    (0..config.samples.max(1)).map(|_| time_ns(1, config.min_sample_time, &mut routine)).collect()
}

/// One round's samples of decoding `bytes` with `decode`. The decoded map is dropped outside the timed section,
/// for ours and for the peer alike: freeing a million entries is not part of decoding them.
fn sampled_decode<R>(config: &Config, bytes: &[u8], decode: impl Fn(&[u8]) -> R) -> Vec<f64> {
    (0..config.samples.max(1)).map(|_| time_batched_ns(1, config.min_sample_time, || bytes, &decode)).collect()
}

/// Times encoding and decoding the large map, and encoding its variants.
///
/// # Panics
///
/// If an encoding fails to decode.
pub fn measure_times(config: &Config) -> Times {
    let data = Data::<u64>::generate(config.large);
    let (base, variants) = base_and_variants::<RcK>(&data, config.variants);
    let peer: Peer = data.entries().into_iter().collect();
    let ours_bytes = serialize_multiple(&[&base]).expect("encodes");
    let peer_bytes = postcard::to_allocvec(&peer).expect("postcard encodes a HashMap<u64, u64>");

    let [encode, postcard_encode] = compare(
        config,
        [&mut |config| sampled(config, || serialize_multiple(&[&base]).expect("encodes")), &mut |config| {
            sampled(config, || postcard::to_allocvec(&peer).expect("postcard encodes"))
        }],
    );

    let decode_rc = |bytes: &[u8]| {
        deserialize_multiple::<hamt_core::HamtMap<u64, u64, RcK, DefaultHashBuilder>>(bytes).expect("decodes")
    };
    let decode_arc = |bytes: &[u8]| -> Vec<OursSync> { deserialize_multiple(bytes).expect("decodes") };
    let decode_peer = |bytes: &[u8]| postcard::from_bytes::<Peer>(bytes).expect("postcard decodes");
    assert!(decode_rc(&ours_bytes)[0] == base, "the large map round-trips");
    assert!(decode_arc(&ours_bytes)[0].len() == base.len(), "the large map round-trips into ArcTK maps");
    let [decode, decode_sync, postcard_decode] = compare(
        config,
        [
            &mut |config| sampled_decode(config, &ours_bytes, decode_rc),
            &mut |config| sampled_decode(config, &ours_bytes, decode_arc),
            &mut |config| sampled_decode(config, &peer_bytes, decode_peer),
        ],
    );
    drop((ours_bytes, peer_bytes, peer));

    let versions = chain(&base, &variants);
    let star_set = star(&base, &variants);
    let [encode_alone, encode_chain, encode_star] = compare(
        config,
        [
            &mut |config| sampled(config, || serialize_multiple(&[&base]).expect("encodes")),
            &mut |config| sampled(config, || serialize_multiple(&versions).expect("encodes")),
            &mut |config| sampled(config, || star_set.to_bytes().expect("encodes")),
        ],
    );
    Times { encode, postcard_encode, decode, decode_sync, postcard_decode, encode_alone, encode_chain, encode_star }
}

/// Live heap, in requested bytes.
#[derive(Debug, Clone, Copy)]
pub struct Heap {
    /// The base alone, built from its entries.
    pub base: f64,
    /// The base alone, decoded from its encoding.
    pub decoded_base: f64,
    /// The base and its variants, built by persistent inserts, all alive.
    pub originals: f64,
    /// The same versions decoded together from their list encoding.
    pub decoded_chain: f64,
    /// The same versions decoded together from their `VersionSet` encoding (each variant against the base).
    pub decoded_star: f64,
}

/// The live heap of a base of `size` entries and `count` variants, as built and as decoded (the input bytes are
/// allocated before the first snapshot, so they are not counted).
///
/// # Panics
///
/// If counting was not started, or a decoded version differs from the original.
pub fn measure_heap(size: usize, count: usize) -> Heap {
    assert!(alloc::is_counting(), "call alloc::start_counting() first");
    let data = Data::<u64>::generate(size);
    let live = |before: alloc::Snapshot| (alloc::snapshot().live_bytes - before.live_bytes) as f64;

    let before = alloc::snapshot();
    let (base, variants) = base_and_variants::<RcK>(&data, count);
    let originals = live(before);
    black_box((&base, &variants));
    let before = alloc::snapshot();
    let base_alone: Ours = data.entries().into_iter().collect();
    let base_heap = live(before);
    drop(base_alone);

    let base_bytes = serialize_multiple(&[&base]).expect("encodes");
    let before = alloc::snapshot();
    let decoded: Vec<Ours> = deserialize_multiple(&base_bytes).expect("the base decodes");
    let decoded_base = live(before);
    drop(decoded);

    let chain_bytes = serialize_multiple(&chain(&base, &variants)).expect("encodes");
    let star_bytes = star(&base, &variants).to_bytes().expect("encodes");

    let before = alloc::snapshot();
    let decoded: Vec<Ours> = deserialize_multiple(&chain_bytes).expect("the list decodes");
    let decoded_chain = live(before);
    assert!(decoded[0] == base && decoded[1..] == variants[..], "the list round-trips");
    drop(decoded);

    let before = alloc::snapshot();
    let decoded = VersionSet::<Ours>::from_bytes(&star_bytes).expect("the version set decodes").into_versions();
    let decoded_star = live(before);
    assert!(decoded[0] == base && decoded[1..] == variants[..], "the version set round-trips");
    drop(decoded);

    Heap { base: base_heap, decoded_base, originals, decoded_chain, decoded_star }
}

/// Bytes with thousands separators.
fn bytes(count: f64) -> String {
    let digits = format!("{:.0}", count.round());
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 && digit.is_ascii_digit() {
            out.push(',');
        }
        out.push(digit);
    }
    out + " B"
}

/// Writes the tables, the figures and the targets.
fn write_section(config: &Config, sizes: &Sizes, times: &Times, heap: &Heap, elapsed: Duration) -> Section {
    let mut section = Section::new("Serialization (hamt-serde)");
    let (small, large, count) = (size_label(config.small), size_label(config.large), config.variants);
    section.line(format!(
        "Issue 4's measurements, all from this run. Our maps are `HamtMap<u64, u64, RcK, DefaultHashBuilder>` with \
         seeded random keys; the peer is postcard 1.x on a `std::collections::HashMap` with the same entries (and \
         the fixed-seed foldhash hasher of every benchmark). Variant *i* (1 to {count}) of a base is one persistent \
         insert into the base: an even *i* changes the value of an existing key, an odd *i* adds a key the base \
         lacks. *List* means `serialize_multiple(&[&base, &v1, ..., &v{count}])`, which writes every version \
         against the one before or an ancestor of it, whichever delta is smaller (here: the base); *version set* \
         means a `VersionSet` in which the caller named the base as every variant's parent."
    ));
    section.line("");

    // Sizes.
    let one = section.figure(format!("encoded bytes: one {small} version"), sizes.one as f64, "bytes");
    let postcard = section.figure(format!("encoded bytes: postcard HashMap {small}"), sizes.postcard as f64, "bytes");
    let envelope = section.figure("encoded bytes: envelope", sizes.envelope as f64, "bytes");
    let chain = section.figure(format!("encoded bytes: {small} + {count} variants, list"), sizes.chain as f64, "bytes");
    let star =
        section.figure(format!("encoded bytes: {small} + {count} variants, version set"), sizes.star as f64, "bytes");
    let one_limit = postcard + envelope;
    let variants_limit = 1.05 * one + 40.0 * count as f64;
    let one_ratio =
        section.figure(format!("one {small} version / (postcard HashMap + envelope)"), one / one_limit, "ratio");
    let chain_ratio =
        section.figure(format!("{small} + {count} variants, list / limit"), chain / variants_limit, "ratio");
    let star_ratio =
        section.figure(format!("{small} + {count} variants, version set / limit"), star / variants_limit, "ratio");
    section.line(format!("### Encoded size ({small} entries)"));
    section.line("");
    section.line("| encoding | hamt-serde | peer or limit | ratio | target |");
    section.line("|---|---|---|---|---|");
    section.line(format!(
        "| one version | {} | postcard `HashMap` {} + envelope {} = {} | {} | ≤ postcard + envelope |",
        bytes(one),
        bytes(postcard),
        bytes(envelope),
        bytes(one_limit),
        format_ratio(one_ratio)
    ));
    for (label, encoded, ratio) in [("list", chain, chain_ratio), ("version set", star, star_ratio)] {
        section.line(format!(
            "| base + {count} variants, {label} ({:.1} B a variant) | {} | 1.05 × base {} + 40 B × {count} = {} | {} \
             | ≤ the limit |",
            (encoded - one) / count as f64,
            bytes(encoded),
            bytes(one),
            bytes(variants_limit),
            format_ratio(ratio)
        ));
    }
    section.line("");
    section.line(
        "The envelope is measured as the encoding of one empty version less the byte of its entry count. Every \
         encoding was decoded and compared with what was encoded.",
    );
    section.line("");

    // Times.
    let encode = section.figure(format!("encode {large}"), times.encode, "ns");
    let postcard_encode = section.figure(format!("postcard encode HashMap {large}"), times.postcard_encode, "ns");
    let decode = section.figure(format!("decode {large} RcK"), times.decode, "ns");
    let decode_sync = section.figure(format!("decode {large} ArcTK"), times.decode_sync, "ns");
    let postcard_decode = section.figure(format!("postcard decode HashMap {large}"), times.postcard_decode, "ns");
    let encode_alone = section.figure(format!("encode {large} (beside its variants)"), times.encode_alone, "ns");
    let encode_chain = section.figure(format!("encode {large} + {count} variants, list"), times.encode_chain, "ns");
    let encode_star =
        section.figure(format!("encode {large} + {count} variants, version set"), times.encode_star, "ns");
    let encode_ratio = section.figure(format!("encode {large} / postcard HashMap"), encode / postcard_encode, "ratio");
    let decode_ratio =
        section.figure(format!("decode {large} RcK / postcard HashMap"), decode / postcard_decode, "ratio");
    let decode_sync_ratio =
        section.figure(format!("decode {large} ArcTK / postcard HashMap"), decode_sync / postcard_decode, "ratio");
    let chain_time_ratio = section.figure(
        format!("encode {large} + {count} variants, list / base alone"),
        encode_chain / encode_alone,
        "ratio",
    );
    let star_time_ratio = section.figure(
        format!("encode {large} + {count} variants, version set / base alone"),
        encode_star / encode_alone,
        "ratio",
    );
    section.line(format!("### Time ({large} entries)"));
    section.line("");
    section.line("| operation | hamt-serde | peer | ratio | target |");
    section.line("|---|---|---|---|---|");
    section.line(format!(
        "| encode one map | {} | postcard `HashMap` {} | {} | ≤ 1.5x |",
        format_time(encode),
        format_time(postcard_encode),
        format_ratio(encode_ratio)
    ));
    section.line(format!(
        "| decode one map (`RcK`) | {} | postcard `HashMap` {} | {} | ≤ 2x |",
        format_time(decode),
        format_time(postcard_decode),
        format_ratio(decode_ratio)
    ));
    section.line(format!(
        "| decode one map (`ArcTK`) | {} | postcard `HashMap` {} | {} | ≤ 2x |",
        format_time(decode_sync),
        format_time(postcard_decode),
        format_ratio(decode_sync_ratio)
    ));
    for (label, time, ratio) in
        [("list", encode_chain, chain_time_ratio), ("version set", encode_star, star_time_ratio)]
    {
        section.line(format!(
            "| encode base + {count} variants, {label} | {} | base alone {} | {} | < 3x |",
            format_time(time),
            format_time(encode_alone),
            format_ratio(ratio)
        ));
    }
    section.line("");
    section.line(format!(
        "Each comparison takes turns between its routines for {} rounds of {} samples, each sample at least {} ms \
         of calls (or one call) after an untimed warm-up call; the figure is the median of all samples. Decoding \
         drops the decoded map outside the timed section, for both sides. The base alone is timed twice: against \
         postcard, and again in the same rounds as its variants, as their reference.",
        config.rounds,
        config.samples,
        config.min_sample_time.as_millis()
    ));
    section.line("");

    // Memory.
    let originals = section.figure(format!("live heap {small} + {count} variants, originals"), heap.originals, "bytes");
    let decoded_chain =
        section.figure(format!("live heap {small} + {count} variants, decoded list"), heap.decoded_chain, "bytes");
    let decoded_star = section.figure(
        format!("live heap {small} + {count} variants, decoded version set"),
        heap.decoded_star,
        "bytes",
    );
    let chain_heap_ratio = section.figure(
        format!("live heap {small} + {count} variants, decoded list / originals"),
        decoded_chain / originals,
        "ratio",
    );
    let star_heap_ratio = section.figure(
        format!("live heap {small} + {count} variants, decoded version set / originals"),
        decoded_star / originals,
        "ratio",
    );
    section.line(format!("### Live heap ({small} entries, {count} variants)"));
    section.line("");
    let base = section.figure(format!("live heap {small} base, built"), heap.base, "bytes");
    let decoded_base = section.figure(format!("live heap {small} base, decoded"), heap.decoded_base, "bytes");
    section.line("| decoded from | decoded (a variant) | originals (a variant) | ratio | target |");
    section.line("|---|---|---|---|---|");
    let per_variant = |total: f64, base: f64| bytes((total - base) / count as f64);
    for (label, decoded, ratio) in
        [("version set", decoded_star, star_heap_ratio), ("list", decoded_chain, chain_heap_ratio)]
    {
        section.line(format!(
            "| {label} | {} ({}) | {} ({}) | {} | ≤ 1.1x |",
            bytes(decoded),
            per_variant(decoded, decoded_base),
            bytes(originals),
            per_variant(originals, base),
            format_ratio(ratio)
        ));
    }
    section.line("");
    section.line(format!(
        "Requested bytes live, by the counting allocator: for the originals, after building the base and its \
         variants less before; for the decoded versions, after decoding all {} together from one encoding (kept \
         alive) less before, the input bytes being allocated before. A variant's share is the total less the \
         base alone ({} built, {} decoded), over {count}. The section took {:.0} s.",
        count + 1,
        bytes(base),
        bytes(decoded_base),
        elapsed.as_secs_f64()
    ));
    section.line("");

    // Targets.
    section.target_at_most(
        format!("serde: one {small} version, encoded size"),
        "≤ postcard `HashMap` + envelope",
        format!("{} vs {}", bytes(one), bytes(one_limit)),
        one,
        one_limit,
    );
    for (label, encoded) in [("list", chain), ("version set", star)] {
        section.target_at_most(
            format!("serde: {small} + {count} variants ({label}), encoded size"),
            "≤ 1.05x base + 40 B a variant",
            format!("{} vs {}", bytes(encoded), bytes(variants_limit)),
            encoded,
            variants_limit,
        );
    }
    section.target_at_most(
        format!("serde: encode {large}"),
        "≤ 1.5x postcard `HashMap`",
        format_ratio(encode_ratio),
        encode_ratio,
        1.5,
    );
    for (label, ratio) in [("RcK", decode_ratio), ("ArcTK", decode_sync_ratio)] {
        section.target_at_most(
            format!("serde: decode {large} ({label})"),
            "≤ 2x postcard `HashMap`",
            format_ratio(ratio),
            ratio,
            2.0,
        );
    }
    for (label, ratio) in [("list", chain_time_ratio), ("version set", star_time_ratio)] {
        section.target_at_most(
            format!("serde: encode {large} + {count} variants ({label})"),
            "< 3x the base alone",
            format_ratio(ratio),
            ratio,
            3.0,
        );
    }
    for (label, ratio) in [("version set", star_heap_ratio), ("list", chain_heap_ratio)] {
        section.target_at_most(
            format!("serde: live heap of {count} decoded variants of {small} ({label})"),
            "≤ 1.1x the originals",
            format_ratio(ratio),
            ratio,
            1.1,
        );
    }
    section
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_run_round_trips_and_fills_every_row() {
        let config =
            Config { small: 700, large: 2_000, variants: 40, rounds: 1, samples: 1, min_sample_time: Duration::ZERO };
        let section = run_with(&config);
        assert_eq!(section.targets.len(), 10);
        assert!(section.figures.iter().all(|figure| figure.value.is_finite() && figure.value > 0.0));
        // Sizes and heap bytes are deterministic; times are never asserted.
        let sizes = measure_sizes(config.small, config.variants);
        assert_eq!(sizes.one, sizes.postcard + sizes.envelope);
        assert_eq!(sizes.envelope, 22);
        // The list is written against the nearest ancestor, which for variants of one base is the base itself.
        assert_eq!(sizes.star, sizes.chain);
    }

    #[test]
    fn variants_alternate_between_changing_and_adding_a_key() {
        let data = Data::<u64>::generate(100);
        let (base, variants) = base_and_variants::<RcK>(&data, 4);
        assert_eq!(variants.iter().map(HamtMap::len).collect::<Vec<_>>(), [101, 100, 101, 100]);
        for (index, variant) in (1..).zip(&variants) {
            let (key, value) = variant_entry(&data, index);
            assert_eq!(variant.get(&key), Some(&value));
            assert_ne!(base.get(&key), Some(&value));
        }
    }
}
