use super::*;

use maps::Implementation;
use report::{Report, Status, TimeResult};
use scenarios::{DIFF_CHANGES, KeyKind, Outcome, Scenario, Timer};

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
    assert_eq!(lookup.measured, "10k: 1.50x; 1M: 4.00x");
    let remove = targets.iter().find(|target| target.scenario.starts_with("in-place remove")).unwrap();
    assert_eq!(remove.status, Status::Met);
    let miss = targets.iter().find(|target| target.scenario.starts_with("lookup, absent")).unwrap();
    assert_eq!(miss.status, Status::NotMeasured);

    report.times.retain(|result| result.size != 1_000_000);
    let targets = report.targets();
    let lookup = targets.iter().find(|target| target.scenario.starts_with("lookup, present")).unwrap();
    assert_eq!(lookup.status, Status::MetWhereMeasured);
}

#[test]
fn the_report_files_are_well_formed() {
    let mut report = Report::default();
    for implementation in Implementation::ALL {
        report.times.push(timing(
            Scenario::LookupHit,
            100_000,
            implementation,
            1e6 * (1.0 + implementation as u8 as f64),
        ));
    }
    let markdown = report.markdown();
    assert!(markdown.contains("| u64 | 100k |"));
    let json = report.json();
    assert!(json.contains("\"ratio_to_std\": 1"));
    assert_eq!(json.matches('{').count(), json.matches('}').count());
    assert_eq!(json.matches('[').count(), json.matches(']').count());
    let svg = report.svg();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches("<rect").count(), svg.matches("</rect>").count() + 1 + Implementation::ALL.len());
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
