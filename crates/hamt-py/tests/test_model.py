"""Model tests: random operations on hamt.Map and on dict, compared after every step."""

import pickle

from hypothesis import given, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from conftest import Collider
from hamt import Map

# Small pools, so that operations hit existing keys, and colliders so that collision nodes are built and emptied.
keys = st.one_of(
    st.integers(min_value=-50, max_value=50),
    st.text(max_size=3),
    st.builds(Collider, st.sampled_from("abcdefgh"), st.integers(min_value=0, max_value=2)),
    st.none(),
    st.tuples(st.integers(0, 3), st.booleans()),
)
values = st.one_of(st.integers(), st.text(max_size=5), st.none(), st.lists(st.integers(), max_size=2))


def check_same(map_, model):
    assert len(map_) == len(model)
    assert dict(map_.items()) == model
    assert sorted(map(repr, map_)) == sorted(map(repr, model))
    assert len(map_.keys()) == len(map_.values()) == len(map_.items()) == len(model)
    for key, value in model.items():
        assert key in map_ and map_[key] == value and map_.get(key, "absent") == value


class MapAgainstDict(RuleBasedStateMachine):
    """Keeps several versions, as users do, and checks that none changes when others are derived from it."""

    def __init__(self):
        super().__init__()
        self.versions = [(Map(), {})]

    def latest(self):
        return self.versions[-1]

    @rule(key=keys, value=values)
    def set(self, key, value):
        map_, model = self.latest()
        self.versions.append((map_.set(key, value), {**model, key: value}))

    @rule(key=keys)
    def delete(self, key):
        map_, model = self.latest()
        if key in model:
            rest = dict(model)
            del rest[key]
            self.versions.append((map_.delete(key), rest))
        else:
            try:
                map_.delete(key)
            except KeyError as error:
                assert error.args[0] is key
            else:
                raise AssertionError("delete of an absent key did not raise KeyError")

    @rule(key=keys, default=values)
    def get(self, key, default):
        map_, model = self.latest()
        assert map_.get(key, default) == model.get(key, default)
        assert (key in map_) == (key in model)

    @rule(pairs=st.lists(st.tuples(keys, values), max_size=8), deletions=st.lists(keys, max_size=4))
    def mutate(self, pairs, deletions):
        map_, model = self.latest()
        model = dict(model)
        with map_.mutate() as mutation:
            for key, value in pairs:
                mutation[key] = value
                model[key] = value
            for key in deletions:
                assert mutation.pop(key, "gone") == model.pop(key, "gone")
            assert len(mutation) == len(model)
            result = mutation.finish()
        self.versions.append((result, model))

    @rule(pairs=st.lists(st.tuples(keys, values), max_size=8), as_dict=st.booleans())
    def update(self, pairs, as_dict):
        map_, model = self.latest()
        source = dict(pairs) if as_dict else pairs
        self.versions.append((map_.update(source), {**model, **dict(pairs)}))

    @rule(data=st.data())
    def compare_versions(self, data):
        first, first_model = data.draw(st.sampled_from(self.versions))
        second, second_model = data.draw(st.sampled_from(self.versions))
        assert (first == second) == (first_model == second_model)
        assert (first != second) == (first_model != second_model)
        expected = set()
        for key in first_model.keys() | second_model.keys():
            if key not in second_model:
                expected.add(("removed", repr(key), repr(first_model[key])))
            elif key not in first_model:
                expected.add(("added", repr(key), repr(second_model[key])))
            elif first_model[key] != second_model[key]:
                expected.add(("changed", repr(key), repr(first_model[key]), repr(second_model[key])))
        changes = [tuple(item[:1]) + tuple(map(repr, item[1:])) for item in first.diff(second)]
        assert len(changes) == len(expected) and set(changes) == expected

    @precondition(lambda self: len(self.versions) > 1)
    @rule(data=st.data())
    def rebuild_equals(self, data):
        map_, model = data.draw(st.sampled_from(self.versions))
        rebuilt = Map(model)
        assert rebuilt == map_ and Map(list(model.items())) == map_
        assert pickle.loads(pickle.dumps(map_)) == map_

    @invariant()
    def every_version_unchanged(self):
        for map_, model in self.versions[-3:]:
            check_same(map_, model)


TestMapAgainstDict = MapAgainstDict.TestCase


@given(st.dictionaries(st.integers() | st.text(), st.integers(), max_size=200))
def test_hash_equal_maps_hash_alike(model):
    forward = Map(model)
    backward = Map(reversed(list(model.items())))
    assert forward == backward and hash(forward) == hash(backward)


def test_large_map_against_dict():
    model = {f"key{i}": i for i in range(20_000)}
    map_ = Map(model)
    check_same(map_, model)
    smaller = map_
    for i in range(0, 20_000, 3):
        smaller = smaller.delete(f"key{i}")
        del model[f"key{i}"]
    check_same(smaller, model)
    assert len(map_) == 20_000
