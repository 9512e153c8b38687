"""Benchmarks of hamt.Map against dict, immutables, pyrsistent, pypersistent and rpds-py, in one run.

Run by the Python section of `cargo xtask bench` (benches/src/extras/python.rs) in a virtual environment with a
release build of hamt and the peers of requirements-bench.txt. Prints one JSON object per line and figure:
`{"operation": ..., "size": ..., "implementation": ..., "value": ..., "unit": ...}` (a value that is not a finite
number is null). Times are the median over repeats of the time per operation: hamt, immutables and dict timed in
turn in one interpreter, each other peer in one of its own; memory is measured in a fresh interpreter per
implementation, as the growth of the resident set.
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


def interleaved(operation, size, peers, work_of, operations, repeats, budget_ns=2_000_000_000):
    """Times `work_of(peer)()` (which performs `operations` operations) for each of `peers`, one run of each in
    turn, in an order that rotates from run to run, `repeats` times; emits each peer's median time per operation.
    A peer stops once its runs have taken `budget_ns` together, so that the slowest peers at 1M finish."""
    works = {peer.name: work_of(peer) for peer in peers}
    names = list(works)
    times = {name: [] for name in names}
    spent = dict.fromkeys(names, 0)
    for run in range(repeats):
        for name in names[run % len(names) :] + names[: run % len(names)]:
            if spent[name] > budget_ns:
                continue
            start = time.perf_counter_ns()
            works[name]()
            elapsed = time.perf_counter_ns() - start
            times[name].append(elapsed / operations)
            spent[name] += elapsed
    for name in names:
        emit(operation, size, name, statistics.median(times[name]), "ns")


# The timed operations, in the order `measure_times` runs them at each size.
TIMED_OPERATIONS = ["lookup", "set", "delete", "build", "from dict", "iterate items", "equal to variant"]


def measure_times(peers, sizes, repeats, skip=frozenset()):
    """The timings of `peers`, all in this interpreter: each size's keys, source dict and sample are made once and
    given to every peer, and each operation runs the peers in turn (`interleaved`). The `(operation, size)` pairs
    in `skip` are left out."""
    rng = random.Random(7)
    updaters = [peer for peer in peers if peer.set is not None]
    for size in sizes:
        keys = [f"key{i:08d}" for i in range(size)]
        sample = rng.sample(keys, min(size, 10_000))
        wanted = [operation for operation in TIMED_OPERATIONS if (operation, size) not in skip]
        if not wanted:
            continue
        source = {key: i for i, key in enumerate(keys)}
        pairs = list(source.items())
        build_repeats = max(1, repeats * 10_000 // size)
        gc.collect()
        maps = {peer.name: peer.from_dict(source) for peer in peers}

        def lookups(peer):
            def work(m=maps[peer.name]):
                for key in sample:
                    m[key]

            return work

        def sets(peer):
            def work(m=maps[peer.name], set_=peer.set):
                for key in sample:
                    set_(m, key, -1)

            return work

        def deletes(peer):
            def work(m=maps[peer.name], delete=peer.delete):
                for key in sample:
                    delete(m, key)

            return work

        def iterate(peer):
            def work(m=maps[peer.name]):
                for _key, _value in m.items():
                    pass

            return work

        def equal_to_variant(peer):
            m = maps[peer.name]
            if peer.set is not None:
                variant = peer.set(m, keys[size // 2], -1)
            else:
                variant = dict(m)
                variant[keys[size // 2]] = -1
            return lambda: m == variant

        runs = {
            "lookup": (peers, lookups, len(sample), repeats),
            "set": (updaters, sets, len(sample), repeats),
            "delete": (updaters, deletes, len(sample), repeats),
            "build": (peers, lambda peer: lambda: peer.build(pairs), size, build_repeats),
            "from dict": (peers, lambda peer: lambda: peer.from_dict(source), size, build_repeats),
            "iterate items": (peers, iterate, size, build_repeats),
            "equal to variant": (peers, equal_to_variant, 1, repeats),
        }
        for operation in wanted:
            timed_peers, work_of, operations, operation_repeats = runs[operation]
            if timed_peers:
                interleaved(operation, size, timed_peers, work_of, operations, operation_repeats)
        del maps


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
        names, repeats, rest = sys.argv[2].split(","), int(sys.argv[3]), sys.argv[4:]
        skip = set()
        if "--skip" in rest:
            for pair in rest[rest.index("--skip") + 1].split(";"):
                if pair:
                    operation, size = pair.rsplit("@", 1)
                    skip.add((operation, int(size)))
            rest = rest[: rest.index("--skip")]
        measure_times([p for p in PEERS if p.name in names], [int(size) for size in rest], repeats, skip)
        return
    if sys.argv[1:2] == ["child-seed"]:
        child_seed(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
        return
    quick = "--quick" in sys.argv
    sizes = [10_000, 100_000] if quick else [10_000, 100_000, 1_000_000]
    repeats = "3" if quick else "7"
    memory_size = 100_000 if quick else 1_000_000
    # hamt, immutables and dict, the implementations the targets compare, are timed together in one interpreter,
    # one run of each in turn (see `measure_times`): the same build measured in two processes can differ by more
    # than the differences between peers (where the allocator and the kernel put the keys, values and nodes changes
    # the cache and TLB misses of a lookup; immutables' 100k lookups have measured anywhere from 40 to 89 ns, one
    # process to the next), and one process per implementation would compare placements, not maps. The other peers
    # run in an interpreter each: timed in the same interpreter as the three, they moved hamt's time over
    # immutables' at 10k by 10-20% (lookups 0.95 -> 1.19 with pyrsistent, `set` and `delete` 1.00 -> 1.10 with
    # rpds-py) with the same instruction counts, as the runs of one implementation evict the others' data from the
    # caches; and pypersistent has been seen to crash, which would take the others' figures with it. Each figure is
    # the median of its rounds.
    groups = [["hamt", "immutables", "dict"], ["pyrsistent"], ["rpds-py"], ["pypersistent"]]
    rounds = 1 if quick else 3
    timings = {}
    crashed = set()
    for _round in range(rounds):
        for group in groups:
            for figure in run_times(",".join(group), repeats, sizes, crashed):
                key = (figure["operation"], figure["size"], figure["implementation"], figure["unit"])
                if figure["value"] is not None:
                    timings.setdefault(key, []).append(figure["value"])
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
            report_status(peer.name, child, subprocess.run([sys.executable, __file__, *child]).returncode)


def run_times(label, repeats, sizes, crashed):
    """The figures of a `child-times` run of the implementations `label`. A child that a signal kills (pypersistent
    2.0 has been seen to, at 1M) runs again in a new interpreter without the operations it finished and the one it
    died in, so that only that one's figures are missing; each such crash is reported once (`crashed` holds those
    reported)."""
    order = [(operation, size) for size in sizes for operation in TIMED_OPERATIONS]
    skip, figures = set(), []
    for _attempt in range(len(order) + 1):
        child = ["child-times", label, repeats, *map(str, sizes)]
        if skip:
            child += ["--skip", ";".join(f"{operation}@{size}" for operation, size in sorted(skip))]
        run = subprocess.run([sys.executable, __file__, *child], stdout=subprocess.PIPE, text=True)
        done = set()
        for line in run.stdout.splitlines():
            figure = json.loads(line)
            figures.append(figure)
            done.add((figure["operation"], figure["size"]))
        if run.returncode >= 0:
            report_status(label, child, run.returncode)  # stops on a failure
            return figures
        pending = [pair for pair in order if pair not in skip and pair not in done]
        if not pending:
            return figures
        operation, size = pending[0]
        if (label, operation, size) not in crashed:
            crashed.add((label, operation, size))
            emit(f"crashed in {operation}", size, label, -run.returncode, "signal")
        skip |= done | {pending[0]}
    return figures


def report_status(name, child, status):
    """Records a child that a signal killed (its figures so far are kept) under `name` (its implementations) and
    stops on any other failure."""
    if status < 0:
        emit(f"crashed in {child[0].removeprefix('child-')}", 0, name, -status, "signal")
    elif status != 0:
        raise SystemExit(f"{child} failed with status {status}")


if __name__ == "__main__":
    main()
