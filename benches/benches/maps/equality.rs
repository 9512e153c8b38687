//! Equality of a map with the same content built in another order, with a one-value variant and with a clone.

use criterion::Criterion;
use hamt_benches::scenarios::Scenario;

pub(crate) fn benches(criterion: &mut Criterion) {
    super::bench_scenario(criterion, Scenario::EqOtherOrder);
    super::bench_scenario(criterion, Scenario::EqOneKeyVariant);
    super::bench_scenario(criterion, Scenario::EqClone);
}
