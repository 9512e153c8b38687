"""immutables 0.21's own test suite, run against hamt.Map.

The suite's modules come from the immutables 0.21 sdist, which `cargo xtask test` downloads (pip download) and
names in the HAMT_IMMUTABLES_SDIST environment variable; its tests/ directory is unpacked here. Each module has a base class with a `Map` attribute (the
suite runs it for the C and the pure-Python maps); here the same base classes run with `Map = hamt.Map`.

Every test we skip is listed in SKIPPED with the reason: they inspect immutables' node layout, which only its own
implementation has. One adaptation: our `repr` names the module the class lives in (`hamt.Map({...})`), so the
suite's expected reprs are compared with `immutables.` read as `hamt.` (see `assertEqual` below); everything else
in those tests, the recursion marker `{...}` included, is checked as written.
"""

import importlib.util
import os
import pathlib
import sys
import tarfile
import tempfile
import unittest

import hamt

SDIST = os.environ.get("HAMT_IMMUTABLES_SDIST")
if not SDIST:
    raise RuntimeError(
        "set HAMT_IMMUTABLES_SDIST to the immutables-0.21.tar.gz sdist (cargo xtask test does), "
        "or pass --ignore for this directory"
    )
_UNPACKED = tempfile.TemporaryDirectory(prefix="immutables-suite-")
with tarfile.open(SDIST) as archive:
    members = [m for m in archive.getmembers() if m.name.startswith("immutables-0.21/tests/")]
    assert members, f"{SDIST} has no immutables-0.21/tests/"
    archive.extractall(_UNPACKED.name, members=members, filter="data")
SUITE = pathlib.Path(_UNPACKED.name) / "immutables-0.21" / "tests"

# (module, test) -> why hamt.Map cannot pass it.
SKIPPED = {}
# Tests that inspect immutables' node layout with Map.__dump__ (node kinds, bitmaps, sizes): hamt's trie is
# hamt-core's, with no such dump.
for name in [
    "test_bitmap_node_update_in_place_count",
    "test_bitmap_node_delete_in_place_count",
    "test_collision_node_update_in_place_count",
    "test_collision_node_delete_in_place_count",
]:
    SKIPPED[("test_issue24", name)] = "inspects immutables' node layout through Map.__dump__"

# The suite's modules and the base class each defines.
MODULES = {
    "test_map": "BaseMapTest",
    "test_none_keys": "BaseNoneTest",
    "test_issue24": "Issue24Base",
    "test_pattern_matching": "BaseMapTest",
}
# test_mypy.py is not run: it type-checks immutables' own stubs with mypy's test-data plugin, not a map class.


def _load(name):
    path = pathlib.Path(SUITE) / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"immutables_suite_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _assert_equal_with_our_module_name(self, first, second, msg=None):
    """unittest's assertEqual, reading an expected repr's `immutables.Map` as `hamt.Map`."""
    if isinstance(first, str) and isinstance(second, str):
        for name in ("Map(", "MapMutation("):
            second = second.replace(f"immutables.{name}", f"hamt.{name}")
    unittest.TestCase.assertEqual(self, first, second, msg)


def _hamt_case(module_name, base_name):
    base = getattr(_load(module_name), base_name)
    attributes = {"Map": hamt.Map, "__module__": __name__, "assertEqual": _assert_equal_with_our_module_name}
    for (skipped_module, test), reason in SKIPPED.items():
        if skipped_module == module_name:
            if not hasattr(base, test):
                raise AssertionError(f"{module_name}.{test} is listed as skipped but the suite has no such test")
            attributes[test] = unittest.skip(reason)(getattr(base, test))
    return type(f"Hamt_{module_name}", (base, unittest.TestCase), attributes)


for _module_name, _base_name in MODULES.items():
    _case = _hamt_case(_module_name, _base_name)
    globals()[_case.__name__] = _case
