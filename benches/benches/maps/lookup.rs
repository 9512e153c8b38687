//! Lookups of present keys (shuffled) and of absent keys, and of present keys under heavy collisions.

use criterion::Criterion;
use hamt_benches::scenarios::Scenario;

pub(crate) fn benches(criterion: &mut Criterion) {
    super::bench_scenario(criterion, Scenario::LookupHit);
    super::bench_scenario(criterion, Scenario::LookupMiss);
}
