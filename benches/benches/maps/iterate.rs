//! Full iteration.

use criterion::Criterion;
use hamt_benches::scenarios::Scenario;

pub(crate) fn benches(criterion: &mut Criterion) {
    super::bench_scenario(criterion, Scenario::Iterate);
}
