"""The shortcuts of the lookup path keep dict's semantics, and maps made and freed without PyO3 are whole.

A comparison first tests identity, and calls `__eq__` only when that fails; a lookup of an exact `str` in a map
whose keys are all exact `str` skips the guard against exceptions from `__eq__`, which any other key still has.
"""

import gc
import sys
import weakref

import pytest

from conftest import Boom
from hamt import Map


class Named:
    """A key equal to every other `Named` of the same name, counting the calls of its `__eq__`."""

    eq_calls = 0

    def __init__(self, name):
        self.name = name

    def __hash__(self):
        return hash(self.name)

    def __eq__(self, other):
        Named.eq_calls += 1
        return isinstance(other, Named) and self.name == other.name


class RaisingStr(str):
    """A `str` subclass whose `__eq__` raises: not an exact `str`, so a lookup with it is guarded."""

    def __eq__(self, other):
        raise Boom("eq")

    __hash__ = str.__hash__


class HashesLike:
    """A key that hashes like the string `text` and whose `__eq__` raises."""

    def __init__(self, text):
        self.text = text

    def __hash__(self):
        return hash(self.text)

    def __eq__(self, other):
        raise Boom("eq")


def fresh(text):
    """A `str` equal to `text` but not the same object (built at run time, so never interned with it)."""
    copy = "".join(list(text))
    assert copy == text and copy is not text
    return copy


LOOKUPS = [
    lambda m, k: m[k],
    lambda m, k: m.get(k, "absent"),
    lambda m, k: k in m,
    lambda m, k: m.delete(k),
]


def test_identity_shortcut_still_calls_eq_for_distinct_equal_keys():
    map_ = Map({Named("a"): 1, Named("b"): 2})
    Named.eq_calls = 0
    assert map_[Named("a")] == 1 and Named("b") in map_ and map_.get(Named("c")) is None
    assert Named.eq_calls >= 2
    same = next(key for key in map_ if key.name == "a")
    Named.eq_calls = 0
    assert map_[same] == 1 and same in map_ and len(map_.delete(same)) == 1
    # The stored object itself is found by identity, as dict finds it, without calling __eq__.
    assert Named.eq_calls == 0


def test_str_keys_are_found_by_equal_strings_that_are_other_objects():
    keys = [f"key{i:05d}" for i in range(2000)]
    map_ = Map({key: i for i, key in enumerate(keys)})
    mutation = map_.mutate()
    for i, key in enumerate(keys):
        probe = fresh(key)
        assert map_[probe] == i and probe in map_ and map_.get(probe) == i
        assert probe not in map_.delete(probe) and len(map_.delete(probe)) == len(keys) - 1
        assert mutation[probe] == i and probe in mutation
    missing = fresh("key99999")
    assert missing not in map_ and map_.get(missing) is None
    with pytest.raises(KeyError):
        map_[missing]
    with pytest.raises(KeyError):
        map_.delete(missing)


@pytest.mark.parametrize("operation", LOOKUPS)
def test_str_subclass_probe_in_a_map_of_str_is_guarded(operation):
    map_ = Map({"a": 1, "b": 2})
    with pytest.raises(Boom):
        operation(map_, RaisingStr("a"))
    # Nothing of the exception is left behind for the next operation.
    assert map_["a"] == 1 and map_.delete("b") == Map({"a": 1})


@pytest.mark.parametrize("operation", LOOKUPS)
def test_str_probe_in_a_map_with_a_key_of_another_type_is_guarded(operation):
    map_ = Map({"b": 2}).set(HashesLike("a"), 1)
    with pytest.raises(Boom):
        operation(map_, "a")
    # Removing the other key keeps the map guarded (its summary of its keys only ever widens), and correct.
    only_str = map_.delete("b").set("c", 3)
    with pytest.raises(Boom):
        operation(only_str, "a")
    assert Map({"a": 1})["a"] == 1 and "a" in Map({"a": 1})


def test_mutation_tracks_its_keys_as_they_change():
    mutation = Map({"a": 1}).mutate()
    mutation[HashesLike("x")] = 0
    with pytest.raises(Boom):
        mutation["x"]
    map_ = mutation.finish()
    with pytest.raises(Boom):
        map_["x"]
    assert map_["a"] == 1


def test_overwriting_a_str_key_keeps_the_stored_key_object():
    # As in dict and immutables: setting an equal key replaces the value and keeps the key already stored, on
    # every path that inserts (the unguarded ones of exact str keys included).
    stored = fresh("key")
    builders = [
        lambda m, k: m.set(k, 2),
        lambda m, k: m.update({k: 2}),
        lambda m, k: m.update([(k, 2)]),
        lambda m, k: Map(m, **{k: 2}),
    ]
    for build in builders:
        result = build(Map({stored: 1, "other": 0}), fresh("key"))
        assert result["key"] == 2 and len(result) == 2
        assert next(key for key in result if key == "key") is stored
    with Map({stored: 1}).mutate() as mutation:
        mutation[fresh("key")] = 2
        mutation.set(fresh("key"), 3)
        result = mutation.finish()
    assert result == Map({"key": 3}) and next(iter(result)) is stored
    with Map().mutate() as mutation:
        mutation[stored] = 1
        mutation[fresh("key")] = 2
        assert next(iter(mutation.finish())) is stored


def test_c_slots_answer_as_the_methods_do():
    # `m[k]` and `k in m` have C slots of their own that answer exact `str` keys whose hash the string has cached,
    # and hand everything else (absent keys, other types, unhashed strings) to the methods.
    keys = [f"slot{i}" for i in range(3000)]
    values = [object() for _ in keys]
    map_ = Map(zip(keys, values))
    for key, value in zip(keys, values):
        hash(key)
        assert map_[key] is value and Map.__getitem__(map_, key) is value
        assert key in map_ and Map.__contains__(map_, key)
    unhashed = fresh("slot7")
    assert map_[unhashed] is values[7] and unhashed in map_
    for missing in ["slot-missing", fresh("slot-missing"), 7, None]:
        with pytest.raises(KeyError) as raised:
            map_[missing]
        assert raised.value.args == (missing,)
        assert missing not in map_
    assert map_.get("slot-missing") is None


def test_c_slots_count_references_exactly():
    key, value = fresh("counted"), object()
    map_ = Map({key: value, "other": 1})
    probe = fresh("counted")
    hash(probe)
    before = sys.getrefcount(key), sys.getrefcount(value), sys.getrefcount(probe)
    for _ in range(1000):
        assert map_[probe] is value and probe in map_ and map_[key] is value and key in map_
    assert (sys.getrefcount(key), sys.getrefcount(value), sys.getrefcount(probe)) == before


def test_subclasses_inherit_the_c_slots_or_override_them():
    class Plain(Map):
        pass

    class Overriding(Map):
        def __getitem__(self, key):
            return ("overridden", super().__getitem__(key))

        def __contains__(self, key):
            return key == "everything"

    plain, overriding = Plain({"a": 1}), Overriding({"a": 1})
    assert plain["a"] == 1 and "a" in plain and "b" not in plain
    assert overriding["a"] == ("overridden", 1) and "everything" in overriding and "a" not in overriding
    with pytest.raises(KeyError):
        plain["b"]


def test_maps_made_and_freed_by_the_shortcuts_release_everything():
    """`set`, `delete` and `update` make their maps with `tp_alloc` and `Map` frees them in its own `tp_dealloc`
    (crate::gil, `install_fast_lifecycle`): each map, of `Map` or of a subclass, is freed when its last reference
    goes, its weak references are cleared first (their callbacks run), and the references it held are released."""

    class Sub(Map):
        pass

    value, key = object(), fresh("freed")
    before = sys.getrefcount(value), sys.getrefcount(key)
    cleared = []
    for make in (
        lambda: Map({"a": 1}).set(key, value),
        lambda: Map({key: value, "a": 1}).delete("a"),
        lambda: Map({"a": 1}).update({key: value}),
        lambda: Sub({key: value}),
        lambda: Sub({"a": 1}).set(key, value),
    ):
        made = make()
        assert made[key] is value
        ref = weakref.ref(made, cleared.append)
        if isinstance(made, Sub):
            made.attribute = [made]  # a cycle through the subclass's __dict__, which only the collector frees
        del made
        gc.collect()
        assert ref() is None
    assert len(cleared) == 5
    assert (sys.getrefcount(value), sys.getrefcount(key)) == before


def test_batches_keep_the_stored_key_object_and_the_last_value():
    # Construction and large updates are built in one batch (hamt-core's bulk build, and a union for an update of a
    # non-empty map); of equal keys they keep the first key object with the last value, as dict does.
    firsts = [fresh(f"k{i}") for i in range(300)]
    lasts = [fresh(f"k{i}") for i in range(300)]
    pairs = [(key, 1) for key in firsts] + [(key, 2) for key in lasts]
    model = dict(pairs)
    for built in [Map(pairs), Map(dict(zip(firsts, [0] * 300)), **{key: 2 for key in lasts})]:
        assert dict(built.items()) == model
        assert all(stored is first for stored, first in zip(sorted(built, key=lambda k: int(k[1:])), firsts))
    base = Map({key: 0 for key in firsts[:200]})
    for updated in [base.update({key: 2 for key in lasts}), base.update([(key, 2) for key in lasts])]:
        assert dict(updated.items()) == {key: 2 for key in firsts}
        kept = {key: key for key in updated}
        assert all(kept[key] is key for key in firsts[:200])
    mutation = base.mutate()
    mutation.update({key: 3 for key in lasts})
    stored = sorted(mutation.finish(), key=lambda key: int(key[1:]))
    assert all(key is expected for key, expected in zip(stored, firsts[:200] + lasts[200:]))
