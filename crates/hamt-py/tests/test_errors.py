"""Exceptions from keys' `__hash__` and `__eq__` propagate as in dict, and leave every map unchanged."""

import pytest

from conftest import Boom, Collider, RaisingKey
from hamt import Map


def colliding_map(count=5):
    """A map whose keys all hash to 0, so that a RaisingKey (hash 0) is compared with each of them."""
    return Map({Collider(str(i)): i for i in range(count)}).set("other", 1)


def snapshot(map_):
    return sorted((repr(key), value) for key, value in map_.items())


@pytest.mark.parametrize(
    "operation",
    [
        lambda m, k: m.set(k, 1),
        lambda m, k: m.delete(k),
        lambda m, k: m.get(k),
        lambda m, k: m[k],
        lambda m, k: k in m,
        lambda m, k: k in m.keys(),
        lambda m, k: m.update({k: 1}),
        lambda m, k: m.update([(k, 1)], x=2),
        lambda m, k: Map(m, **{"x": 1}).set(k, 2),
        lambda m, k: m | {k: 1},
    ],
)
def test_raising_eq_propagates_and_changes_nothing(operation):
    map_ = colliding_map()
    before = snapshot(map_)
    key = RaisingKey()
    with pytest.raises(Boom, match="eq"):
        operation(map_, key)
    # The first exception stops all further comparisons of the operation.
    assert key.eq_calls == 1
    assert snapshot(map_) == before


def test_raising_hash_propagates():
    map_ = colliding_map()
    key = RaisingKey(raise_on_hash=True)
    for operation in (map_.set, lambda k, v=None: map_.get(k), lambda k, v=None: map_.delete(k)):
        with pytest.raises(Boom, match="hash"):
            operation(key, 1)
    with pytest.raises(Boom, match="hash"):
        Map([(1, 2), (key, 3)])
    with pytest.raises(TypeError):
        Map().set([], 1)


@pytest.mark.parametrize(
    "operation",
    [
        lambda mutation, k: mutation.set(k, 1),
        lambda mutation, k: mutation.__setitem__(k, 1),
        lambda mutation, k: mutation.__delitem__(k),
        lambda mutation, k: mutation.pop(k),
        lambda mutation, k: mutation.pop(k, None),
        lambda mutation, k: mutation.update({"new": 1, k: 2}),
        lambda mutation, k: mutation.get(k),
        lambda mutation, k: k in mutation,
    ],
)
def test_raising_eq_leaves_a_mutation_unchanged(operation):
    map_ = colliding_map()
    mutation = map_.mutate()
    mutation["added"] = 1
    before = snapshot(mutation.finish())
    mutation = map_.mutate()
    mutation["added"] = 1
    with pytest.raises(Boom):
        operation(mutation, RaisingKey())
    assert snapshot(mutation.finish()) == before
    assert snapshot(map_) == snapshot(colliding_map())


class RaisingValue:
    def __eq__(self, other):
        raise Boom("value eq")

    __hash__ = None


def test_raising_value_eq_in_equality_and_diff():
    first = Map(a=RaisingValue(), b=1)
    second = Map(a=RaisingValue(), b=1)
    with pytest.raises(Boom):
        first == second
    with pytest.raises(Boom):
        list(first.diff(second))
    # Identical value objects are equal without a comparison, as in dict.
    assert first == Map(first)
    with pytest.raises(TypeError):
        hash(first)


def test_key_whose_hash_changes_is_lost_but_nothing_breaks():
    class Mutable:
        def __init__(self):
            self.hash = 1

        def __hash__(self):
            return self.hash

    key = Mutable()
    map_ = Map({key: "value", 2: "two"})
    key.hash = 12345
    assert key not in map_ and map_.get(key) is None
    grown = map_.set(key, "again")
    assert len(grown) == 3 and grown[key] == "again"
    assert sorted(map(repr, grown.values())) == sorted(map(repr, ["value", "two", "again"]))


def test_reentrant_map_use_inside_eq():
    inner = Map({1: "one"})

    class Reentrant:
        def __hash__(self):
            return 0

        def __eq__(self, other):
            # A nested operation with its own failure does not leak its exception into the outer one.
            try:
                inner.delete(99)
            except KeyError:
                pass
            return isinstance(other, Reentrant)

    first, second = Reentrant(), Reentrant()
    map_ = Map({first: 1, Collider("x"): 2})
    assert map_[second] == 1
    assert map_.set(second, 3)[first] == 3


def test_mutation_reentered_from_eq_raises_instead_of_corrupting():
    mutation = Map({Collider("x"): 1}).mutate()

    class Meddler:
        def __hash__(self):
            return 0

        def __eq__(self, other):
            mutation["meddle"] = 1
            return False

    with pytest.raises(RuntimeError):
        mutation[Meddler()] = 2
    assert len(mutation) == 1


def test_finished_mutation_refuses_changes():
    mutation = Map(a=1).mutate()
    result = mutation.finish()
    with pytest.raises(ValueError, match="has been finished"):
        mutation["b"] = 2
    with pytest.raises(ValueError):
        mutation.update(b=2)
    assert result == Map(a=1) and mutation["a"] == 1


class Whimsical:
    """A key whose `__eq__` answers at random and whose hash is one of two, chosen at each call: the caller's
    problem, never a crash. The map may lose or repeat such keys, as `dict` may, but stays whole: no exception but
    the KeyError of a key it did not find, and its length counts what it holds."""

    def __init__(self, rng):
        self.rng = rng

    def __hash__(self):
        return self.rng.choice((0, 1))

    def __eq__(self, other):
        return self.rng.random() < 0.5


def test_inconsistent_keys_never_crash():
    # Persistent operations and in-place ones (MapMutation's, on hamt-core's in-place updates).
    import random

    from hypothesis import given, strategies as st

    @given(st.integers(0, 2**32), st.lists(st.sampled_from(["set", "delete", "get", "mutate", "eq", "diff"]), max_size=40))
    def run(seed, operations):
        rng = random.Random(seed)
        keys = [Whimsical(rng) for _ in range(6)]
        map_ = Map()
        for operation in operations:
            key = rng.choice(keys)
            try:
                if operation == "set":
                    map_ = map_.set(key, rng.random())
                elif operation == "delete":
                    map_ = map_.delete(key)
                elif operation == "get":
                    map_.get(key)
                elif operation == "mutate":
                    with map_.mutate() as mutation:
                        mutation[key] = 1
                        mutation.pop(rng.choice(keys), None)
                        map_ = mutation.finish()
                elif operation == "eq":
                    map_ == map_.set(rng.choice(keys), 0)
                else:
                    list(map_.diff(map_.set(rng.choice(keys), 0)))
            except KeyError:
                pass
            assert len(list(map_)) == len(map_)

    run()


def test_batches_propagate_the_first_exception_and_change_nothing():
    # Construction and large updates go to hamt-core as one batch, read as it is built: an exception from a key's
    # `__eq__` or `__hash__`, from the iteration, or from a malformed pair stops it and reaches the caller.
    colliders = [(Collider(str(i)), i) for i in range(100)]
    key = RaisingKey()
    with pytest.raises(Boom, match="eq"):
        Map(colliders + [(key, 1)])
    assert key.eq_calls == 1
    map_ = Map(colliders[:10])
    before = snapshot(map_)
    updates = [
        lambda m: m.update(colliders + [(RaisingKey(), 1)]),
        lambda m: m | dict(colliders[50:] + [(RaisingKey(), 1)]),
    ]
    for update in updates:
        with pytest.raises(Boom, match="eq"):
            update(map_)
        assert snapshot(map_) == before
    with pytest.raises(Boom, match="hash"):
        Map([(str(i), i) for i in range(1000)] + [(RaisingKey(raise_on_hash=True), 1)])

    def pairs():
        yield from ((str(i), i) for i in range(1000))
        raise Boom("iteration")

    with pytest.raises(Boom, match="iteration"):
        Map(pairs())
    with pytest.raises(ValueError, match="element #1000 has length 3"):
        map_.update([(str(i), i) for i in range(1000)] + [(1, 2, 3)])
    assert snapshot(map_) == before


def test_a_source_dict_changed_while_it_is_read_raises_runtime_error():
    source = {str(i): i for i in range(100)}

    class Grower:
        armed = False

        def __hash__(self):
            if self.armed:
                source["grown"] = 0
            return 1

        def __eq__(self, other):
            return self is other

    grower = Grower()
    source[grower] = 1
    grower.armed = True
    with pytest.raises(RuntimeError, match="changed size during iteration"):
        Map(source)
