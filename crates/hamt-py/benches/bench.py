"""Benchmarks of hamt.Map against dict, immutables, pyrsistent, pypersistent and rpds-py, in one run.

Run by the Python section of `cargo xtask bench` (benches/src/extras/python.rs) in a virtual environment with a
release build of hamt and the peers of requirements-bench.txt. Prints one JSON object per line and figure:
`{"operation": ..., "size": ..., "implementation": ..., "value": ..., "unit": ...}` (a value that is not a finite
number is null). Times are the median over repeats of the time per
operation; memory is measured in a fresh interpreter per implementation, as the growth of the resident set.
"""

import gc
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time

import immutables
import pypersistent
import pyrsistent
import rpds

import hamt


class Peer:
    """How one implementation spells each operation."""

    def __init__(self, name, from_dict, set_, delete, build, equal=lambda a, b: a == b):
        self.name = name
        self.from_dict = from_dict
        self.set = set_
        self.delete = delete
        self.build = build
        self.equal = equal


def build_by_mutation(cls):
    def build(pairs):
        with cls().mutate() as mutation:
            for key, value in pairs:
                mutation[key] = value
            return mutation.finish()

    return build


def build_pyrsistent(pairs):
    evolver = pyrsistent.pmap().evolver()
    for key, value in pairs:
        evolver[key] = value
    return evolver.persistent()


def build_dict(pairs):
    result = {}
    for key, value in pairs:
        result[key] = value
    return result


PEERS = [
    Peer("hamt", hamt.Map, lambda m, k, v: m.set(k, v), lambda m, k: m.delete(k), build_by_mutation(hamt.Map)),
    Peer(
        "immutables",
        immutables.Map,
        lambda m, k, v: m.set(k, v),
        lambda m, k: m.delete(k),
        build_by_mutation(immutables.Map),
    ),
    Peer("pyrsistent", pyrsistent.pmap, lambda m, k, v: m.set(k, v), lambda m, k: m.remove(k), build_pyrsistent),
    # pypersistent and rpds-py have no transient: their batch form is construction from the pairs.
    Peer(
        "pypersistent",
        pypersistent.PersistentDict.from_dict,
        lambda m, k, v: m.set(k, v),
        lambda m, k: m.delete(k),
        lambda pairs: pypersistent.PersistentDict.from_dict(dict(pairs)),
    ),
    Peer("rpds-py", rpds.HashTrieMap, lambda m, k, v: m.insert(k, v), lambda m, k: m.remove(k), rpds.HashTrieMap),
    # dict has no persistent update: only lookup, construction, the batch build, iteration and equality apply.
    Peer("dict", dict, None, None, build_dict),
]


def emit(operation, size, name, value, unit):
    value = float(value)
    figure = {
        "operation": operation,
        "size": size,
        "implementation": name,
        "value": value if math.isfinite(value) else None,
        "unit": unit,
    }
    print(json.dumps(figure, allow_nan=False), flush=True)


def per_operation_ns(work, operations, repeats, budget_ns=2_000_000_000):
    """The median over up to `repeats` runs of `work()` (which performs `operations` operations), per operation;
    runs stop early once they have taken `budget_ns` together, so that the slowest peers at 1M finish."""
    times = []
    spent = 0
    for _ in range(repeats):
        start = time.perf_counter_ns()
        work()
        elapsed = time.perf_counter_ns() - start
        times.append(elapsed / operations)
        spent += elapsed
        if spent > budget_ns:
            break
    return statistics.median(times)


def measure_times(peer, sizes, repeats):
    rng = random.Random(7)
    for size in sizes:
        keys = [f"key{i:08d}" for i in range(size)]
        source = {key: i for i, key in enumerate(keys)}
        pairs = list(source.items())
        sample = rng.sample(keys, min(size, 10_000))
        build_repeats = max(1, repeats * 10_000 // size)
        for peer in [peer]:
            gc.collect()
            m = peer.from_dict(source)

            def lookups(m=m):
                for key in sample:
                    m[key]

            emit("lookup", size, peer.name, per_operation_ns(lookups, len(sample), repeats), "ns")
            if peer.set is not None:

                def sets(m=m, set_=peer.set):
                    for key in sample:
                        set_(m, key, -1)

                def deletes(m=m, delete=peer.delete):
                    for key in sample:
                        delete(m, key)

                emit("set", size, peer.name, per_operation_ns(sets, len(sample), repeats), "ns")
                emit("delete", size, peer.name, per_operation_ns(deletes, len(sample), repeats), "ns")
            emit("build", size, peer.name, per_operation_ns(lambda: peer.build(pairs), size, build_repeats), "ns")
            emit(
                "from dict",
                size,
                peer.name,
                per_operation_ns(lambda: peer.from_dict(source), size, build_repeats),
                "ns",
            )

            def iterate(m=m):
                for _key, _value in m.items():
                    pass

            emit("iterate items", size, peer.name, per_operation_ns(iterate, size, build_repeats), "ns")
            if peer.set is not None:
                variant = peer.set(m, keys[size // 2], -1)
            else:
                variant = dict(m)
                variant[keys[size // 2]] = -1
            emit("equal to variant", size, peer.name, per_operation_ns(lambda: m == variant, 1, repeats), "ns")
            del m


def rss_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def child_memory(name, size):
    """Bytes per entry of a map of `size` entries: the resident set's growth when it is built from a dict whose
    keys and values already exist (so that only the map's own structure is counted)."""
    peer = next(p for p in PEERS if p.name == name)
    source = {f"key{i:08d}": i for i in range(size)}
    gc.collect()
    before = rss_bytes()
    m = peer.from_dict(source)
    gc.collect()
    emit("bytes per entry", size, name, (rss_bytes() - before) / size, "bytes")
    del m


def child_seed(name, variants, size, changes):
    """The seed workload: `variants` variants of a map of `size` entries, `changes` sets each, all kept alive, with
    the garbage collector on as users run it."""
    peer = next(p for p in PEERS if p.name == name)
    rng = random.Random(11)
    keys = [f"key{i:08d}" for i in range(size)]
    base = peer.from_dict({key: i for i, key in enumerate(keys)})
    edits = [[(rng.choice(keys), [j]) for j in range(changes)] for _ in range(variants)]
    gc.collect()
    before = rss_bytes()
    start = time.perf_counter_ns()
    kept = []
    for edit in edits:
        variant = base
        for key, value in edit:
            variant = peer.set(variant, key, value)
        kept.append(variant)
    elapsed = time.perf_counter_ns() - start
    emit("seed workload time", size, name, elapsed / 1e6, "ms")
    emit("seed workload memory", size, name, (rss_bytes() - before) / 2**20, "MiB")
    del kept


def main():
    if sys.argv[1:2] == ["child-memory"]:
        child_memory(sys.argv[2], int(sys.argv[3]))
        return
    if sys.argv[1:2] == ["child-times"]:
        peer = next(p for p in PEERS if p.name == sys.argv[2])
        measure_times(peer, [int(size) for size in sys.argv[4:]], int(sys.argv[3]))
        return
    if sys.argv[1:2] == ["child-seed"]:
        child_seed(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
        return
    quick = "--quick" in sys.argv
    sizes = [10_000, 100_000] if quick else [10_000, 100_000, 1_000_000]
    repeats = "3" if quick else "7"
    memory_size = 100_000 if quick else 1_000_000
    # Timings are taken in several rounds, each peer in a fresh interpreter per round and the peers in a different
    # order each round, and each figure is the median of its rounds: the same build measured in two processes can
    # differ by more than the differences between peers (where the allocator puts the keys, values and nodes
    # changes the cache misses of a lookup; immutables' 100k lookups have measured anywhere from 40 to 89 ns), and
    # a figure from one process per peer would compare placements, not maps.
    rounds = 1 if quick else 3
    timings = {}
    crashed = set()
    for round_ in range(rounds):
        order = PEERS[round_ % len(PEERS) :] + PEERS[: round_ % len(PEERS)]
        for peer in order:
            child = ["child-times", peer.name, repeats, *map(str, sizes)]
            run = subprocess.run([sys.executable, __file__, *child], stdout=subprocess.PIPE, text=True)
            for line in run.stdout.splitlines():
                figure = json.loads(line)
                key = (figure["operation"], figure["size"], figure["implementation"], figure["unit"])
                if figure["value"] is not None:
                    timings.setdefault(key, []).append(figure["value"])
            # A peer that crashes runs again in the next round; its crash is reported once.
            if run.returncode < 0 and peer.name in crashed:
                continue
            if not report_status(peer, child, run.returncode):
                crashed.add(peer.name)
    for (operation, size, name, unit), values in timings.items():
        emit(operation, size, name, statistics.median(values), unit)
    for peer in PEERS:
        # Memory and the seed workload once, each in a fresh interpreter too, so that one's freed memory cannot be
        # reused by the next, and so that a peer that crashes (pypersistent 2.0 has been seen to) loses only the
        # figures it had not printed.
        children = [["child-memory", peer.name, str(memory_size)]]
        if peer.set is not None:
            children.append(["child-seed", peer.name, "500", "10000", "1"])
        for child in children:
            report_status(peer, child, subprocess.run([sys.executable, __file__, *child]).returncode)


def report_status(peer, child, status):
    """Records a child that a signal killed (its figures so far are kept) and stops on any other failure; whether
    the child ran to the end."""
    if status < 0:
        emit(f"crashed in {child[0].removeprefix('child-')}", 0, peer.name, -status, "signal")
        return False
    if status != 0:
        raise SystemExit(f"{child} failed with status {status}")
    return True


if __name__ == "__main__":
    main()
