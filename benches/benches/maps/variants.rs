//! 500 variants of a base, one added key each, all kept alive.

use criterion::Criterion;
use hamt_benches::scenarios::Scenario;

pub(crate) fn benches(criterion: &mut Criterion) {
    super::bench_scenario(criterion, Scenario::Variants);
}
