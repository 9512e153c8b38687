//! Building maps by in-place inserts, by persistent inserts (a new version each) and with `from_iter`.

use criterion::Criterion;
use hamt_benches::scenarios::Scenario;

pub(crate) fn benches(criterion: &mut Criterion) {
    super::bench_scenario(criterion, Scenario::BuildInsertMut);
    super::bench_scenario(criterion, Scenario::BuildPersistent);
    super::bench_scenario(criterion, Scenario::FromIter);
}
