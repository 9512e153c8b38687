"""Threads reading and deriving from shared maps see consistent versions."""

import gc
import sys
import threading
import time
import weakref

from hamt import Map


def run_in_threads(work, count=4):
    """Runs `work(seed)` for seeds `0..count` on as many threads, started together, and returns the exceptions
    they raised."""
    failures = []
    start = threading.Barrier(count)

    def run(seed):
        start.wait()
        try:
            work(seed)
        except Exception as error:  # noqa: BLE001 - reported to the caller
            failures.append(error)

    threads = [threading.Thread(target=run, args=(seed,)) for seed in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def test_threads_read_and_derive_from_shared_maps():
    base = Map({f"key{i}": i for i in range(5_000)})
    variants = [base.set(f"key{i}", -i) for i in range(50)]

    def reader(seed):
        for round_ in range(200):
            i = (seed * 7919 + round_ * 31) % 5_000
            assert base[f"key{i}"] == i
            variant = variants[round_ % 50]
            assert variant[f"key{round_ % 50}"] == -(round_ % 50)
            derived = variant.set(f"thread{seed}", round_).delete(f"key{i}")
            assert len(derived) == 5_000 and f"key{i}" not in derived
            assert derived != base
            if round_ % 50 == 0:
                assert sum(1 for _ in variant.items()) == 5_000
                assert len(list(base.diff(variant))) == (0 if round_ % 50 == 0 else 1)

    assert run_in_threads(reader) == []
    assert base == Map({f"key{i}": i for i in range(5_000)})


def test_mutations_in_threads_are_independent():
    base = Map({i: i for i in range(1_000)})
    results = {}

    def mutate(seed):
        with base.mutate() as mutation:
            for i in range(seed, 1_000, 4):
                mutation[i] = -seed
            results[seed] = mutation.finish()

    assert run_in_threads(mutate) == []
    for seed, result in results.items():
        assert all(result[i] == (-seed if i % 4 == seed else i) for i in range(1_000))
    assert all(base[i] == i for i in range(1_000))


class SwitchingKey:
    """A key whose `__eq__` gives the GIL away (`time.sleep(0)`) in the middle of a trie operation, and whose
    hashes collide in groups, so that every operation on it compares keys while other threads run."""

    def __init__(self, n):
        self.n = n

    def __hash__(self):
        return self.n % 64

    def __eq__(self, other):
        time.sleep(0)
        return isinstance(other, SwitchingKey) and self.n == other.n


class Value:
    """A value that weak references can watch, to see that every copy of it is released."""

    def __init__(self, n):
        self.n = n


def test_reference_counts_stay_exact_when_the_gil_changes_hands_mid_operation():
    # The tries count node references without atomics, relying on the GIL (src/gil.rs): threads that share nodes
    # and switch in the middle of path copies must still leave every count exact. Exact counts show as every
    # version reading back what was written, and every value freed once the maps are gone.
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        keys = [SwitchingKey(n) for n in range(256)]
        values = [Value(n) for n in range(256)]
        watchers = [weakref.ref(value) for value in values]
        base = Map(zip(keys, values))

        def worker(seed):
            kept = []
            for round_ in range(60):
                key = keys[(seed * 37 + round_ * 11) % 256]
                derived = base.set(key, values[(key.n + 1) % 256]).delete(keys[(key.n + 3) % 256])
                assert derived[key] is values[(key.n + 1) % 256]
                assert keys[(key.n + 3) % 256] not in derived
                assert len(derived) == 255
                kept.append(derived)
                if len(kept) > 8:
                    kept.pop(0)

        failures = run_in_threads(worker)
    finally:
        sys.setswitchinterval(previous)
    assert failures == []
    assert all(base[key] is value for key, value in zip(keys, values))
    del base, values
    gc.collect()
    assert all(watcher() is None for watcher in watchers)
