//! Operations on two related maps, a diff against a variant with 10 changes and the union of two maps sharing a base.

use criterion::Criterion;
use hamt_benches::scenarios::Scenario;

pub(crate) fn benches(criterion: &mut Criterion) {
    super::bench_scenario(criterion, Scenario::Diff);
    super::bench_scenario(criterion, Scenario::UnionShared);
}
