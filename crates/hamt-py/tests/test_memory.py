"""No leaks (tracemalloc), cycles through maps are collected (gc), and maps of atomic values cost the collector
nothing per entry."""

import gc
import sys
import tracemalloc
import weakref

from hamt import Map


class Node:
    """An object with a __dict__, to close reference cycles through maps."""


def allocated_after(work, rounds=5):
    """The bytes still allocated after `work` ran `rounds` times, measured after a warm-up run."""
    work()
    gc.collect()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        for _ in range(rounds):
            work()
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - baseline
    finally:
        tracemalloc.stop()


def test_no_leak_in_the_seed_workload():
    base = Map({f"key{i}": i for i in range(2_000)})

    def work():
        variants = [base.set(f"key{i}", -i).delete(f"key{i + 1}") for i in range(200)]
        with base.mutate() as mutation:
            for i in range(100):
                mutation[f"new{i}"] = [i]
                del mutation[f"key{i}"]
            built = mutation.finish()
        for variant in variants[:20]:
            list(base.diff(variant))
            assert variant != base
        list(built.items())
        hash(base)
        del variants, built

    # A leak of one object per operation would be tens of kilobytes per round.
    assert allocated_after(work) < 10_000


def test_no_leak_on_exceptions():
    class Raising:
        def __hash__(self):
            return 0

        def __eq__(self, other):
            raise ValueError

    base = Map({Raising(): 1, "x": [2]})

    def work():
        for _ in range(200):
            probe = Raising()
            for operation in (base.set, lambda k, v: base.get(k), lambda k, v: base.delete(k)):
                try:
                    operation(probe, [1])
                except ValueError:
                    pass
            try:
                base.delete("absent")
            except KeyError:
                pass

    assert allocated_after(work) < 10_000


def test_no_leak_in_serialization():
    from hamt import deserialize_multiple, serialize_multiple

    versions = [Map({i: (str(i), [i, None]) for i in range(300)})]
    versions.append(versions[0].set("k", {"a": b"b"}))

    def work():
        assert deserialize_multiple(serialize_multiple(versions)) == versions

    assert allocated_after(work) < 10_000


def collected(make_cycle):
    """Whether the object make_cycle returns (part of a cycle it built) is freed by the collector."""
    gc.collect()
    ref = weakref.ref(make_cycle())
    gc.collect()
    return ref() is None


def test_cycle_through_a_map_value_is_collected():
    def make():
        node = Node()
        node.map = Map(a=node)
        return node

    assert collected(make)


def test_cycle_through_a_map_key_is_collected():
    def make():
        node = Node()
        node.map = Map({node: 1})
        return node

    assert collected(make)


def test_cycle_through_a_mutation_is_collected():
    def make():
        node = Node()
        node.mutation = Map().mutate()
        node.mutation["self"] = node
        return node

    assert collected(make)


def test_cycle_through_views_and_iterators_is_collected():
    def make():
        node = Node()
        map_ = Map(a=node)
        node.keys, node.values, node.items = map_.keys(), map_.values(), map_.items()
        node.iterator = iter(map_)
        node.diff = map_.diff(Map())
        return node

    assert collected(make)


def test_map_of_atomic_values_is_not_traversed():
    atomic = Map({i: (f"{i}", float(i), b"x", None, True)[i % 5] for i in range(1000)})
    # gc.get_referents calls the type's traversal: only the (heap) type is visited, however large the map.
    assert gc.get_referents(atomic) == [Map]
    assert gc.get_referents(atomic.set("x", "y").delete(3)) == [Map]
    # One value that can hold a reference makes the map report its contents.
    holder = []
    mixed = atomic.set("list", holder)
    referents = gc.get_referents(mixed)
    assert any(ref is holder for ref in referents) and len(referents) == 1 + 2 * len(mixed)
    with atomic.mutate() as mutation:
        assert gc.get_referents(mutation) == [type(mutation)]
        mutation["list"] = holder
        assert any(ref is holder for ref in gc.get_referents(mutation))


def test_reference_counts_are_restored():
    # tracemalloc sees Python's allocations only; the trie's nodes are Rust allocations, so a node that leaked
    # would show as references that are never given back. Every operation below must give back every reference.
    import sys

    key, value, other = "key-under-test", ["value"], ["other"]
    base = Map({f"k{i}": i for i in range(500)})

    def counts():
        return sys.getrefcount(key), sys.getrefcount(value), sys.getrefcount(other)

    before = counts()
    for _ in range(50):
        with_key = base.set(key, value)
        changed = with_key.set(key, other)
        list(with_key.diff(changed))
        list(with_key.items())
        list(iter(with_key.values()))
        assert with_key != changed and with_key.delete(key) == base
        with with_key.mutate() as mutation:
            mutation[key] = other
            mutation.pop(key)
            mutation.set(key, value)
            mutation.finish()
        hash(Map({key: "x"}))
        del with_key, changed, mutation
    assert counts() == before


def test_cycle_through_slots_and_lists_is_collected():
    # Map has no __clear__ (like tuple): the collector breaks a cycle at its mutable link, which must be enough
    # whatever that link is.
    class Slotted:
        __slots__ = ("map", "__weakref__")

    def through_slots():
        node = Slotted()
        node.map = Map(a=node)
        return node

    def through_a_list():
        holder = [1]
        holder.append(Map({"self": holder}).set("x", [holder]))
        return node_holding(holder)

    def node_holding(holder):
        node = Node()
        node.holder = holder
        holder.append(node)
        return node

    assert collected(through_slots)
    assert collected(through_a_list)


def test_items_iterator_refills_only_a_tuple_nobody_holds():
    # The items iterator refills its first tuple when the consumer has let it go (as dict's does); a tuple still
    # held elsewhere is never changed.
    source = {f"key{i}": i for i in range(1_000)}
    map_ = Map(source)
    assert sorted(map_.items()) == sorted(source.items())
    kept = []
    for index, pair in enumerate(map_.items()):
        if index % 3 == 0:
            kept.append((pair, tuple(list(pair))))
    assert all(pair == copy for pair, copy in kept) and len(kept) == 334
    seen = {key: value for key, value in map_.items()}
    assert seen == source


def test_refilled_tuple_is_tracked_when_it_holds_a_container():
    # The collector stops tracking a tuple of atomic objects; a refill that puts a container in must track it again.
    map_ = Map({f"key{i}": (i if i % 2 else [i]) for i in range(40)})
    checked = 0
    for pair in map_.items():
        if isinstance(pair[1], list):
            assert gc.is_tracked(pair)
            checked += 1
        del pair
        gc.collect()
    assert checked == 20


def test_cycle_through_the_items_iterator_tuple_is_collected():
    value = Node()
    iterator = iter(Map({"k": value, "other": 0}).items())
    while next(iterator)[1] is not value:
        pass
    value.iterator = iterator  # iterator -> its kept tuple -> value -> iterator
    alive = weakref.ref(value)
    del value, iterator
    gc.collect()
    assert alive() is None


def test_items_iteration_releases_every_reference():
    values = [object() for _ in range(100)]
    map_ = Map({f"key{i}": value for i, value in enumerate(values)})
    before = [sys.getrefcount(value) for value in values]
    for _ in range(3):
        for _key, _value in map_.items():
            pass
        list(map_.items())
    del _key, _value
    assert [sys.getrefcount(value) for value in values] == before


def test_no_leak_through_the_c_functions():
    # `m[k]`, `k in m`, `next()` over items and `set`/`delete`/`get` run without PyO3's call wrapper, which is
    # where PyO3 releases references it had to queue: anything they released through PyO3's queue would pile up.
    base = Map({f"key{i}": [i] for i in range(100)}).set(7, "int key")

    def work():
        for i in range(100):
            key = f"key{i}"
            base[key], key in base, base.get(key), base.get("absent", 0), base.set(key, i).delete(key)
            for probe in ("absent", 8):
                try:
                    base.delete(probe)
                except KeyError:
                    pass
                try:
                    base[probe]
                except KeyError:
                    pass
            base.set(7, "other").delete(7)
        for _pair in base.items():
            pass
        list(base.items())

    assert allocated_after(work) < 10_000
