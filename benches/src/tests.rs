use super::*;

use maps::Implementation;
use memory::KeyPattern;
use report::{Report, Status, TimeResult};
use scenarios::{DIFF_CHANGES, KeyKind, Outcome, Scenario, Timer};
use std::time::Duration;

/// A timer that runs each routine once and keeps the checksum of what it returned.
#[derive(Default)]
struct Recorder {
    checksums: Vec<u64>,
}

impl Timer for Recorder {
    fn iter<R: Outcome>(&mut self, mut routine: impl FnMut() -> R) {
        self.checksums.push(routine().checksum());
    }

    fn iter_batched<I, R: Outcome>(&mut self, mut setup: impl FnMut() -> I, mut routine: impl FnMut(I) -> R) {
        let input = setup();
        self.checksums.push(routine(input).checksum());
    }
}

fn checksum(scenario: Scenario, implementation: Implementation, key: KeyKind, size: usize) -> u64 {
    let mut recorder = Recorder::default();
    scenario.run_with(implementation, key, size, &mut recorder);
    assert_eq!(recorder.checksums.len(), 1, "{scenario:?} should time exactly one routine");
    recorder.checksums[0]
}

#[test]
fn every_implementation_computes_the_same_result_in_every_scenario() {
    for scenario in Scenario::ALL {
        for &key in scenario.keys() {
            let size = 700;
            let implementations: Vec<Implementation> =
                Implementation::ALL.into_iter().filter(|&implementation| scenario.applies_to(implementation)).collect();
            let expected = checksum(scenario, implementations[0], key, size);
            for &implementation in &implementations[1..] {
                assert_eq!(
                    checksum(scenario, implementation, key, size),
                    expected,
                    "{} disagrees with {} on {scenario:?} with {key:?} keys",
                    implementation.name(),
                    implementations[0].name()
                );
            }
        }
    }
}

#[test]
fn scenarios_compute_what_they_claim() {
    let size = 600;
    let sum_of_values = (0..size as u64).sum::<u64>();
    for implementation in Implementation::ALL {
        let run = |scenario| checksum(scenario, implementation, KeyKind::U64, size);
        assert_eq!(run(Scenario::LookupHit), sum_of_values, "{implementation:?}");
        assert_eq!(run(Scenario::LookupMiss), 0, "{implementation:?}");
        assert_eq!(run(Scenario::Iterate), sum_of_values, "{implementation:?}");
        assert_eq!(run(Scenario::EqOtherOrder), 1, "{implementation:?}");
        assert_eq!(run(Scenario::EqClone), 1, "{implementation:?}");
        assert_eq!(run(Scenario::EqOneKeyVariant), 0, "{implementation:?}");
        assert_eq!(run(Scenario::Diff), DIFF_CHANGES as u64, "{implementation:?}");
        let built = (size as u64).wrapping_mul(1_000_003).wrapping_add(sum_of_values);
        assert_eq!(run(Scenario::BuildInsertMut), built, "{implementation:?}");
        assert_eq!(run(Scenario::FromIter), built, "{implementation:?}");
        let union_len = size as u64 + 20;
        let union_sum = sum_of_values + 10 + 20;
        assert_eq!(
            run(Scenario::UnionShared),
            union_len.wrapping_mul(1_000_003).wrapping_add(union_sum),
            "{implementation:?}"
        );
    }
}

#[test]
fn generated_keys_are_distinct_and_absent_keys_are_absent() {
    let data = keys::Data::<u64>::generate(10_000);
    let present: std::collections::HashSet<u64> = data.present.iter().copied().collect();
    assert_eq!(present.len(), 10_000);
    assert!(data.absent.iter().all(|key| !present.contains(key)));
    let mut shuffled = data.shuffled.clone();
    shuffled.sort_unstable();
    let mut sorted = data.present.clone();
    sorted.sort_unstable();
    assert_eq!(shuffled, sorted);
    assert_ne!(data.shuffled, data.present);
}

#[test]
fn colliding_keys_take_64_hash_values() {
    use std::hash::BuildHasher;
    let hasher = maps::BenchHasher::default();
    let data = keys::Data::<keys::Colliding>::generate(5_000);
    let hashes: std::collections::HashSet<u64> = data.present.iter().map(|key| hasher.hash_one(key)).collect();
    assert_eq!(hashes.len(), 64);
}

#[test]
fn the_sampler_takes_the_samples_it_was_asked_for() {
    let mut sampler = sampler::Sampler::new(3, std::time::Duration::from_micros(100));
    sampler.iter(|| std::hint::black_box(41u64) + 1);
    sampler.iter_batched(|| vec![1u64; 100], |values| values.iter().sum::<u64>());
    assert_eq!(sampler.results().len(), 6);
    assert!(sampler.results().iter().all(|&nanoseconds| nanoseconds > 0.0 && nanoseconds.is_finite()));
    assert_eq!(sampler::median(&[3.0, 1.0, 2.0]), 2.0);
    assert_eq!(sampler::median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
}

fn timing(scenario: Scenario, size: usize, implementation: Implementation, median_ns: f64) -> TimeResult {
    TimeResult { scenario, key: KeyKind::U64, size, implementation, samples_ns: vec![median_ns], median_ns }
}

#[test]
fn targets_are_computed_from_the_measured_ratios() {
    let mut report = Report::default();
    report.times.push(timing(Scenario::LookupHit, 10_000, Implementation::StdFold, 100_000.0));
    report.times.push(timing(Scenario::LookupHit, 10_000, Implementation::HamtRc, 150_000.0));
    report.times.push(timing(Scenario::LookupHit, 1_000_000, Implementation::StdFold, 1_000_000.0));
    report.times.push(timing(Scenario::LookupHit, 1_000_000, Implementation::HamtRc, 4_000_000.0));
    report.times.push(timing(Scenario::RemoveMutHalf, 100_000, Implementation::StdFold, 1_000.0));
    report.times.push(timing(Scenario::RemoveMutHalf, 100_000, Implementation::HamtRc, 2_000.0));
    let targets = report.targets();
    let lookup = targets.iter().find(|target| target.scenario.starts_with("lookup, present")).unwrap();
    assert_eq!(lookup.status, Status::Missed);
    // imbl and the `String` keys were not measured: only the two `u64` ratios to std count.
    assert_eq!(lookup.measured, "1 of 2 within; worst u64 1M vs std: 4.00x");
    let remove = targets.iter().find(|target| target.scenario.starts_with("in-place remove")).unwrap();
    assert_eq!(remove.status, Status::MetWhereMeasured);
    assert_eq!(
        remove.measured,
        "u64 100k vs imbl: not measured; u64 100k vs std: 2.00x; string 100k vs std: not measured"
    );
    let miss = targets.iter().find(|target| target.scenario.starts_with("lookup, absent")).unwrap();
    assert_eq!(miss.status, Status::NotMeasured);

    report.times.retain(|result| result.size != 1_000_000);
    let targets = report.targets();
    let lookup = targets.iter().find(|target| target.scenario.starts_with("lookup, present")).unwrap();
    assert_eq!(lookup.status, Status::MetWhereMeasured);
}

/// A report with a figure of every kind: timings of every implementation (one of them without samples), heap
/// figures, a section with a figure that could not be measured, a failure, and the machine.
fn full_report() -> Report {
    let mut report = Report::default();
    for implementation in Implementation::ALL {
        let median_ns = 1e6 * (1.0 + implementation as u8 as f64);
        report.times.push(timing(Scenario::LookupHit, 100_000, implementation, median_ns));
        if Scenario::BuildPersistent.applies_to(implementation) {
            report.times.push(timing(Scenario::BuildPersistent, 10_000, implementation, median_ns / 2.0));
        }
        // Three seeds with random keys, whose median is the middle one (measured second), and two with sequential
        // keys, one of them less than the other.
        let mut measured = |pattern, index, per_entry| {
            let seed = memory::hash_seed(index);
            report.memory.push(report::MemoryResult { implementation, size: 10_000, pattern, seed, per_entry });
        };
        for (index, offset) in [(0, 1.0), (1, 0.0), (2, 2.5)] {
            let bytes = 40.0 + implementation as u8 as f64 + offset;
            measured(KeyPattern::Random, index, memory::HeapFigures { bytes, allocations: 0.25 });
        }
        for (index, bytes) in [(0, 18.5), (1, 20.5)] {
            measured(KeyPattern::Sequential, index, memory::HeapFigures { bytes, allocations: bytes / 100.0 });
        }
    }
    report.times.push(TimeResult {
        scenario: Scenario::Iterate,
        key: KeyKind::U64,
        size: 1_000,
        implementation: Implementation::HamtRc,
        samples_ns: Vec::new(),
        median_ns: f64::NAN,
    });
    report.variant_memory.push(report::VariantMemoryResult {
        implementation: Implementation::HamtRc,
        size: 10_000,
        variants: 1_000,
        per_variant: memory::HeapFigures { bytes: 512.0, allocations: 4.0 },
    });
    let mut section = extras::Section::new("Serialization \"quoted\"\t(hamt-serde)");
    section.line("| a | b |");
    let ratio = section.figure("encode 1M / postcard", 1.25, "ratio");
    section.figure("decode 1M / postcard", f64::NAN, "ratio");
    section.target_at_most("encode", "≤ 1.5x postcard", format!("{ratio:.2}x"), ratio, 1.5);
    section.target_at_most("decode", "≤ 2x postcard", "not measured", f64::NAN, 2.0);
    report.extras.push(section);
    report
        .failures
        .push(report::Failure { what: "section zarr".to_owned(), message: "timed out\nafter 900 s".to_owned() });
    report.meta.versions = vec![("hamt-core".to_owned(), "0.1.0".to_owned()), ("imbl".to_owned(), "6.1.0".to_owned())];
    report.meta.cpu = "a <fast> & \"quoted\" processor".to_owned();
    report.meta.date = "2026-11-29 18:00 UTC".to_owned();
    report
}

#[test]
fn the_markdown_has_a_row_per_size() {
    assert!(full_report().markdown().contains("| u64 | 100k |"));
}

#[test]
fn the_heap_tables_show_the_median_and_the_spread_over_the_seeds() {
    let report = full_report();
    let markdown = report.markdown();
    let random = markdown.split("## Heap per entry").nth(1).unwrap();
    let (random, sequential) = random.split_once("### Sequential keys").unwrap();
    assert!(random.contains("with 3 seeds"), "{random}");
    // hamt-rc: 40, 41 and 42.5 bytes against std's 43, 44 and 45.5; the ratio is of the medians.
    assert!(random.contains("| 10k | 41.0 B (0.93x), 40.0-42.5; 0.250 allocs |"), "{random}");
    assert_eq!(report.memory_ratio(Implementation::HamtRc, report::REFERENCE, 10_000), Some(41.0 / 44.0));
    assert!(sequential.contains("and 2 seeds"), "{sequential}");
    assert!(sequential.contains("| 10k | 19.5 B, 18.5-20.5; 0.185-0.205 allocs |"), "{sequential}");
    // A spread that reads as one value is written once.
    let mut report = report;
    report.memory.retain(|result| result.pattern == KeyPattern::Random);
    for result in &mut report.memory {
        result.per_entry.bytes = 27.94;
    }
    assert!(report.markdown().contains("| 10k | 27.9 B (1.00x), 27.9; 0.250 allocs |"));
}

#[test]
fn heap_seeds_and_key_patterns_are_fixed_and_distinct() {
    let seeds: std::collections::HashSet<u64> = (0..5).map(memory::hash_seed).collect();
    assert_eq!(seeds.len(), 5);
    assert!(!seeds.contains(&maps::HASH_SEED));
    assert_eq!(memory::hash_seed(3), memory::hash_seed(3));
    for pattern in KeyPattern::ALL {
        let entries = pattern.entries(2_000);
        let keys: std::collections::HashSet<u64> = entries.iter().map(|&(key, _)| key).collect();
        assert_eq!(keys.len(), 2_000, "{pattern:?}");
        assert!(entries.iter().enumerate().all(|(index, &(_, value))| value == index as u64), "{pattern:?}");
    }
    assert_eq!(KeyPattern::Random.entries(100), keys::Data::<u64>::generate(100).entries());
    assert_eq!(KeyPattern::Sequential.entries(100).last(), Some(&(99, 99)));
}

#[test]
fn the_json_reads_back_as_the_report_it_was_written_from() {
    let report = full_report();
    let json = report.json().unwrap();
    let document: records::Document = serde_json::from_str(&json).unwrap();
    // Written again, the document reads the same, so nothing was lost on the way, not even a NaN (as null).
    assert_eq!(serde_json::to_string_pretty(&document).unwrap(), json);
    assert_eq!(document.meta.meta, report.meta);
    assert_eq!(document.meta.reference, report::REFERENCE);
    assert_eq!(document.results.len(), report.times.len());
    for (record, result) in document.results.iter().zip(&report.times) {
        assert_eq!(
            (record.scenario, record.key, record.size, record.implementation),
            (result.scenario, result.key, result.size, result.implementation)
        );
        assert_eq!(record.samples_ns, result.samples_ns);
        assert_eq!(record.min_ns, result.samples_ns.first().copied());
        assert_eq!(record.median_ns.is_nan(), result.median_ns.is_nan());
        let expected_ratio =
            report.ratio(result.scenario, result.key, result.size, result.implementation, report::REFERENCE);
        assert_eq!(record.ratio_to_std, expected_ratio);
    }
    let unmeasured = document.results.iter().find(|record| record.scenario == Scenario::Iterate).unwrap();
    assert!(unmeasured.median_ns.is_nan() && unmeasured.min_ns.is_none() && unmeasured.ratio_to_std.is_none());
    let rc = document.results.iter().find(|record| record.implementation == Implementation::HamtRc).unwrap();
    assert_eq!(
        rc.ratio_to_std,
        Some(
            report
                .ratio(Scenario::LookupHit, KeyKind::U64, 100_000, Implementation::HamtRc, report::REFERENCE)
                .unwrap()
        )
    );
    assert_eq!(document.memory.len(), 2 * Implementation::ALL.len());
    assert!(document.memory.iter().all(|record| record.scenario == "heap_per_entry" && record.ratio_to_std.is_some()));
    for record in &document.memory {
        let spread = report.memory_spread(record.implementation, record.size, record.pattern).unwrap();
        assert_eq!((record.bytes_per_entry, record.allocations_per_entry), (spread.bytes, spread.allocations));
        let measured: Vec<(u64, f64)> = report
            .memory
            .iter()
            .filter(|result| (result.implementation, result.pattern) == (record.implementation, record.pattern))
            .map(|result| (result.seed, result.per_entry.bytes))
            .collect();
        let recorded: Vec<(u64, f64)> = record.seeds.iter().map(|seed| (seed.seed, seed.bytes_per_entry)).collect();
        assert_eq!(recorded, measured);
    }
    let rc_random = document
        .memory
        .iter()
        .find(|record| record.implementation == Implementation::HamtRc && record.pattern == KeyPattern::Random)
        .unwrap();
    assert_eq!(rc_random.bytes_per_entry, memory::Spread { min: 40.0, median: 41.0, max: 42.5 });
    assert_eq!(rc_random.ratio_to_std, report.memory_ratio(Implementation::HamtRc, report::REFERENCE, 10_000));
    assert_eq!(document.variant_memory[0].variants, 1_000);
    assert_eq!(document.variant_memory[0].bytes_per_variant, 512.0);
    let targets: Vec<records::TargetRecord> = report
        .targets()
        .into_iter()
        .map(|target| records::TargetRecord {
            scenario: target.scenario.to_owned(),
            target: target.target.to_owned(),
            measured: target.measured,
            status: target.status,
        })
        .collect();
    assert_eq!(document.targets, targets);
    let section = &document.sections[0];
    assert_eq!(section.title, report.extras[0].title);
    assert_eq!(section.figures[0], report.extras[0].figures[0]);
    assert!(section.figures[1].value.is_nan());
    assert_eq!(section.targets, report.extras[0].targets);
    assert_eq!(document.failures, report.failures);
    // The names other tools read: the versions as a map in the report's order, the statuses as the report words them.
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["meta"]["versions"]["imbl"], "6.1.0");
    assert_eq!(value["meta"]["reference"], report::REFERENCE.name());
    assert_eq!(value["results"][0]["scenario"], "lookup_hit");
    assert_eq!(value["memory"][0]["pattern"], "random");
    assert_eq!(value["memory"][0]["bytes_per_entry"]["median"], 41.0);
    assert_eq!(value["memory"][0]["seeds"][1]["seed"], memory::hash_seed(1));
    assert_eq!(value["results"][0]["implementation"], Implementation::ALL[0].name());
    assert_eq!(value["sections"][0]["figures"][1]["value"], serde_json::Value::Null);
    assert_eq!(value["sections"][0]["targets"][1]["met"], serde_json::Value::Null);
    assert!(value["targets"].as_array().unwrap().iter().any(|target| target["status"] == "not measured"));
}

#[test]
fn a_document_with_unknown_names_is_refused() {
    let json = full_report().json().unwrap();
    let renamed = json.replacen("\"lookup_hit\"", "\"lookup_everything\"", 1);
    let error = serde_json::from_str::<records::Document>(&renamed).unwrap_err();
    assert!(error.to_string().contains("lookup_everything"), "{error}");
    let status = json.replacen("\"status\": \"", "\"status\": \"maybe ", 1);
    assert!(serde_json::from_str::<records::Document>(&status).is_err());
}

#[test]
fn the_chart_is_an_svg_document_with_every_label() {
    let report = full_report();
    let svg = report.svg().unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "{svg}");
    assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
    for label in [
        "lookup_hit 100k",
        "heap bytes/entry 10k",
        "build_persistent 10k",
        "Ratio to std HashMap",
        "Persistent scenarios: ratio to imbl",
        "Generated 2026-11-29 18:00 UTC by hamt-bench",
    ] {
        assert!(svg.contains(label), "no {label} in the chart");
    }
    for implementation in Implementation::ALL {
        assert!(svg.contains(implementation.name()), "no {} in the legend", implementation.name());
    }
    // A bar per implementation and group, in the implementation's colour, besides the legend's swatch: the lookup
    // and heap groups for all but std, and the persistent build group (against imbl) for the persistent ones but imbl.
    let bars = |implementation| {
        let plotters::style::RGBColor(red, green, blue) = chart::color(implementation);
        svg.matches(&format!("fill=\"#{red:02X}{green:02X}{blue:02X}\"")).count()
    };
    assert_eq!(bars(Implementation::HamtRc), 1 + 3);
    assert_eq!(bars(Implementation::StdFold), 1);
    let empty = Report::default().svg().unwrap();
    assert_eq!(empty.matches("nothing measured").count(), 2);
}

#[test]
fn figures_read_as_the_issue_writes_them() {
    assert_eq!(report::civil_from_days(0), (1970, 1, 1));
    assert_eq!(report::civil_from_days(19_723), (2024, 1, 1));
    assert_eq!(report::civil_from_days(19_782), (2024, 2, 29));
    assert_eq!(report::size_label(1_000_000), "1M");
    assert_eq!(report::size_label(10_000), "10k");
    assert_eq!(report::format_ratio(0.25), "0.25x");
    assert_eq!(report::format_time(1_500.0), "1.50 µs");
}

/// Every job, with its reply.
fn exchanges() -> Vec<(child::Job, child::Reply)> {
    let mut section = extras::Section::new("Versioned store");
    section.line("text");
    section.figure("flush 10k", 1.5e6, "ns");
    section.target_at_most("flush", "≤ 2 ms", "1.50 ms", 1.5e6, 2e6);
    let figures = memory::HeapFigures { bytes: 41.5, allocations: 0.5 };
    vec![
        (
            child::Job::Time {
                scenario: Scenario::UnionShared,
                key: KeyKind::Colliding,
                size: 1_000,
                implementation: Implementation::RpdsSync,
                samples: 3,
            },
            child::Reply::Time { samples_ns: vec![1.0, 2.5, 1e12] },
        ),
        (
            child::Job::Memory {
                implementation: Implementation::HamtArcT,
                size: 10,
                pattern: KeyPattern::Sequential,
                seed: u64::MAX,
            },
            child::Reply::Memory { per_entry: figures },
        ),
        (
            child::Job::VariantMemory { implementation: Implementation::Imbl, size: 10 },
            child::Reply::VariantMemory { variants: 7, per_variant: figures },
        ),
        (child::Job::Extra { name: "store".to_owned() }, child::Reply::Extra { section }),
    ]
}

#[test]
fn child_messages_survive_the_trip_through_json() {
    for (job, reply) in exchanges() {
        let request = child::Request { job, quick: true, min_sample_time: Duration::from_micros(4_000) };
        let json = serde_json::to_string(&request).unwrap();
        assert_eq!(serde_json::from_str::<child::Request>(&json).unwrap(), request);
        let json = serde_json::to_string(&reply).unwrap();
        assert_eq!(serde_json::from_str::<child::Reply>(&json).unwrap(), reply);
        assert!(reply.answers(&request.job));
    }
    let (jobs, replies): (Vec<_>, Vec<_>) = exchanges().into_iter().unzip();
    for (index, job) in jobs.iter().enumerate() {
        for (other, reply) in replies.iter().enumerate() {
            assert_eq!(reply.answers(job), index == other, "{reply:?} to {job:?}");
        }
    }
    // A figure that could not be measured crosses as null and arrives as NaN.
    let mut section = extras::Section::new("t");
    section.figure("missing", f64::NAN, "ns");
    let json = serde_json::to_string(&child::Reply::Extra { section }).unwrap();
    let child::Reply::Extra { section } = serde_json::from_str(&json).unwrap() else { panic!("{json}") };
    assert!(section.figures[0].value.is_nan());
}

/// A shell that prints `text` on standard output, as a child would.
fn printing(text: &str) -> std::process::Command {
    let mut command = std::process::Command::new("sh");
    command.args(["-c", "printf '%s' \"$1\"", "sh", text]);
    command
}

#[test]
fn a_child_that_misbehaves_gives_an_error_not_a_panic() {
    let limit = Duration::from_secs(30);
    let (_, reply) = exchanges().remove(0);
    let json = serde_json::to_string(&reply).unwrap();
    assert_eq!(child::collect(printing(&json), limit).unwrap(), reply);
    for garbage in ["", "ok 1 2 3", "{\"reply\": \"time\"}", "{\"reply\": \"nap\"}", &format!("{json}\ntrailing words")]
    {
        let error = child::collect(printing(garbage), limit).unwrap_err();
        assert!(matches!(error, child::ChildError::Unreadable { .. }), "{garbage:?} gave {error}");
    }
    let mut failing = std::process::Command::new("sh");
    failing.args(["-c", "echo one >&2; echo two >&2; echo three >&2; echo four >&2; exit 7"]);
    let error = child::collect(failing, limit).unwrap_err();
    assert!(matches!(&error, child::ChildError::Failed { stderr_tail, .. } if stderr_tail == "two / three / four"));
    let mut sleeping = std::process::Command::new("sh");
    sleeping.args(["-c", "sleep 20"]);
    let error = child::collect(sleeping, Duration::from_millis(50)).unwrap_err();
    assert!(matches!(error, child::ChildError::TimedOut(_)));
    let missing = std::process::Command::new("/nonexistent/hamt-bench");
    assert!(matches!(child::collect(missing, limit).unwrap_err(), child::ChildError::Process(_)));
}

#[test]
fn a_request_for_an_unknown_section_is_refused() {
    let request = child::Request {
        job: child::Job::Extra { name: "nothing".to_owned() },
        quick: true,
        min_sample_time: Duration::ZERO,
    };
    assert!(matches!(child::serve(&request), Err(child::ChildError::UnknownSection(name)) if name == "nothing"));
}
