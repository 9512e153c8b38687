"""The API beyond immutables': aliases, diff, serialize_multiple/deserialize_multiple; and the protocol details."""

import collections.abc
import math
import pickle

import pytest
from hypothesis import given, strategies as st

import hamt
from hamt import Map, deserialize_multiple, serialize_multiple

plain_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63, max_value=2**200),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.binary(max_size=8),
)
hashable_data = st.recursive(plain_scalars, lambda inner: st.tuples(inner, inner), max_leaves=6)
plain_data = st.recursive(
    plain_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner, inner),
        st.dictionaries(hashable_data, inner, max_size=3),
    ),
    max_leaves=10,
)


def same_data(first, second):
    """Equality that also tells 1 from True and 1.0, and list from tuple, recursively."""
    if type(first) is not type(second):
        return False
    if isinstance(first, (list, tuple)):
        return len(first) == len(second) and all(map(same_data, first, second))
    if isinstance(first, dict):
        return list(first) == list(second) and all(same_data(first[k], second[k]) for k in first)
    if isinstance(first, float) and math.isnan(first):
        return math.isnan(second)
    return first == second


@given(st.lists(st.dictionaries(hashable_data, plain_data, max_size=12), min_size=1, max_size=5), st.data())
def test_serialize_round_trip(models, data):
    # Versions derived from one another, as the format is meant for, and independent ones.
    maps = [Map(models[0])]
    for model in models[1:]:
        maps.append(maps[-1].update(model) if data.draw(st.booleans()) else Map(model))
    decoded = deserialize_multiple(serialize_multiple(maps))
    assert len(decoded) == len(maps)
    for original, copy in zip(maps, decoded):
        assert len(original) == len(copy)
        for key, value in original.items():
            stored = [k for k in copy if same_data(k, key)]
            assert len(stored) == 1 and same_data(copy[stored[0]], value)


def test_serialize_shares_what_versions_share():
    base = Map({f"key{i}": i for i in range(2_000)})
    variants = [base.set(f"key{i}", -1) for i in range(100)]
    one = len(serialize_multiple([base]))
    all_of_them = len(serialize_multiple([base, *variants]))
    # Each variant adds a few bytes, not another copy of the base.
    assert all_of_them < one + 100 * 40
    assert deserialize_multiple(serialize_multiple([base, *variants])) == [base, *variants]


@pytest.mark.parametrize(
    ("value", "type_name"),
    [(object(), "object"), ({1, 2}, "set"), (Map(), "Map"), (1j, "complex"), (frozenset(), "frozenset")],
)
def test_serialize_refuses_other_types_naming_them(value, type_name):
    with pytest.raises(TypeError, match=f"'{type_name}'"):
        serialize_multiple([Map(a=value)])
    # Nested in a list, and as a key (when the value is hashable) nested in a tuple.
    with pytest.raises(TypeError, match=f"'{type_name}'"):
        serialize_multiple([Map(a=[1, value])])
    if type_name not in ("set", "frozenset"):
        with pytest.raises(TypeError, match=f"'{type_name}'"):
            serialize_multiple([Map({(1, value): 1})])


def test_serialize_refuses_deep_and_self_containing_values():
    loop = []
    loop.append(loop)
    with pytest.raises(RecursionError):
        serialize_multiple([Map(a=loop)])
    nan_keys = Map({float("nan"): 1, float("nan"): 2})
    with pytest.raises(ValueError, match="NaN"):
        serialize_multiple([nan_keys])


@given(st.binary(max_size=200))
def test_deserialize_garbage_raises_value_error(garbage):
    try:
        deserialize_multiple(garbage)
    except ValueError:
        pass


@given(st.data())
def test_deserialize_damaged_bytes_never_crashes(data):
    good = serialize_multiple([Map({i: (str(i), [i]) for i in range(20)}), Map(a=((),))])
    position = data.draw(st.integers(0, len(good) - 1))
    damaged = bytearray(good)
    damaged[position] ^= data.draw(st.integers(1, 255))
    for candidate in (bytes(damaged), good[:position]):
        try:
            deserialize_multiple(candidate)
        except (ValueError, TypeError):
            pass


def test_diff_kinds_and_laziness():
    base = Map({i: i for i in range(10_000)})
    changed = base.set(1, "one").delete(2).set("new", 3)
    items = sorted(base.diff(changed), key=repr)
    assert items == sorted([("changed", 1, 1, "one"), ("removed", 2, 2), ("added", "new", 3)], key=repr)
    iterator = base.diff(changed)
    assert next(iterator)[0] in {"changed", "removed", "added"}
    assert list(Map().diff(Map())) == [] and list(base.diff(base)) == []
    assert sorted(Map(a=1).diff(Map(b=2))) == [("added", "b", 2), ("removed", "a", 1)]


def test_aliases():
    map_ = Map(a=1)
    assert map_.assoc("b", 2) == map_.set("b", 2)
    assert map_.dissoc("a") == map_.delete("a") == Map()
    assert map_.merge({"c": 3}, d=4) == map_.update({"c": 3}, d=4) == Map(a=1, c=3, d=4)
    assert map_ | {"a": 5} == Map(a=5) and {"a": 5, "z": 0} | map_ == Map(a=1, z=0)
    assert map_ | Map(b=2) == Map(a=1, b=2)
    with pytest.raises(KeyError):
        map_.dissoc("zz")


def test_protocols():
    assert isinstance(Map(), collections.abc.Mapping) and issubclass(Map, collections.abc.Mapping)
    alias = Map[str, int]
    assert alias.__origin__ is Map and alias.__args__ == (str, int)
    assert hamt.__version__
    m = Map(a=1)
    assert m.update() is m and m.set("a", m["a"]) is m
    with pytest.raises(TypeError):
        Map({}, {})
    with pytest.raises(TypeError, match="MapMutation"):
        Map(m.mutate())
    with pytest.raises(ValueError, match="length 3"):
        Map([(1, 2, 3)])
    with pytest.raises(TypeError, match="element #1"):
        Map([(1, 2), 5])


class Sub(Map):
    """A subclass, as users write them."""


def test_pickle_and_subclass():
    sub = Sub({"a": [1]})
    copy = pickle.loads(pickle.dumps(sub))
    assert type(copy) is Sub and copy == sub
    assert pickle.loads(pickle.dumps(Map())) == Map()
    with pytest.raises(TypeError):
        pickle.dumps(Map().mutate())
    with pytest.raises(TypeError):
        hash(Map().mutate())


def test_repr_of_self_containing_structures():
    holder = []
    map_ = Map(a=holder)
    holder.append(map_)
    # As dict and immutables do: the map already being shown is `{...}`.
    assert repr(map_) == "hamt.Map({'a': [{...}]})"
    assert repr(Map(a=1).keys()) == "MapKeys(['a'])"
    assert repr(Map(a=1).items()) == "MapItems([('a', 1)])"


def test_views():
    map_ = Map({"a": 1, "b": [2]})
    assert "a" in map_.keys() and "z" not in map_.keys()
    assert ("a", 1) in map_.items() and ("a", 2) not in map_.items() and "a" not in map_.items()
    assert [2] in map_.values() and 3 not in map_.values()
    assert sorted(map_.keys()) == ["a", "b"] and len(map_.values()) == 2
    iterator = iter(map_.items())
    assert iterator.__length_hint__() == 2
    assert len(list(iterator)) == 2 and list(iterator) == []


def test_small_int_keys_iterate_as_in_immutables():
    # The lowest five bits of the hash pick the root slot, as in CPython's HAMT: up to 32 small ints sit side by
    # side at the root, in the order immutables iterates them.
    import immutables

    for keys in (range(32), [5, 3, 31, 0, 17]):
        model = {key: str(key) for key in keys}
        assert list(Map(model)) == list(immutables.Map(model))
    # Every level of the trie orders its slots by the next five bits of the hash (an int's own value here): 32 keys
    # that differ only in the five bits of one level share the path above it and sit side by side in one node, in
    # ascending order. Each of the twelve levels is checked, as immutables orders them where it can be compared
    # (its hash of an int below 2**32 is the int itself).
    for shift in range(0, 60, 5):
        keys = [i << shift for i in range(32)]
        model = {key: key for key in reversed(keys)}
        assert list(Map(model)) == keys
        if shift < 30:
            assert list(immutables.Map(model)) == keys
    # And each level's five bits are the next ones after its parent's: keys that differ in two neighbouring groups
    # iterate by the lower group first (the level nearer the root), then by the higher one.
    for shift in range(0, 55, 5):
        keys = [(i << shift) | (j << (shift + 5)) for i in range(4) for j in range(4)]
        model = {key: key for key in reversed(keys)}
        assert list(Map(model)) == keys
        if shift + 5 < 30:
            assert list(immutables.Map(model)) == keys
    # Keys whose hashes differ only in high bits still coexist (the hash transform loses no bit).
    high = [1 << shift for shift in range(62)] + [(1 << 61) + 1, 2**63 - 1]
    map_ = Map({key: key for key in high})
    assert len(map_) == len(high) and all(map_[key] == key for key in high)
