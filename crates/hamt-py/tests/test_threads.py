"""Threads reading and deriving from shared maps see consistent versions."""

import threading

from hamt import Map


def test_threads_read_and_derive_from_shared_maps():
    base = Map({f"key{i}": i for i in range(5_000)})
    variants = [base.set(f"key{i}", -i) for i in range(50)]
    failures = []
    start = threading.Barrier(4)

    def reader(seed):
        start.wait()
        try:
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
        except Exception as error:  # noqa: BLE001 - reported to the main thread
            failures.append(error)

    threads = [threading.Thread(target=reader, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert base == Map({f"key{i}": i for i in range(5_000)})


def test_mutations_in_threads_are_independent():
    base = Map({i: i for i in range(1_000)})
    results = {}

    def mutate(seed):
        with base.mutate() as mutation:
            for i in range(seed, 1_000, 4):
                mutation[i] = -seed
            results[seed] = mutation.finish()

    threads = [threading.Thread(target=mutate, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for seed, result in results.items():
        assert all(result[i] == (-seed if i % 4 == seed else i) for i in range(1_000))
    assert all(base[i] == i for i in range(1_000))
