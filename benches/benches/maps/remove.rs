//! Removing half the keys, in place and persistently.

use criterion::Criterion;
use hamt_benches::scenarios::Scenario;

pub(crate) fn benches(criterion: &mut Criterion) {
    super::bench_scenario(criterion, Scenario::RemoveMutHalf);
    super::bench_scenario(criterion, Scenario::RemovePersistentHalf);
}
