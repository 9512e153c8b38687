"""Shared settings and key classes for the hamt tests."""

import os

from hypothesis import HealthCheck, settings

# The whole Python step of `cargo xtask test` must stay within minutes on two cores: the default profile runs a
# moderate number of examples; HAMT_HYPOTHESIS_PROFILE=soak runs many more.
settings.register_profile(
    "default", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("soak", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HAMT_HYPOTHESIS_PROFILE", "default"))


class Collider:
    """A key whose hash is the same for every instance with the same `bucket`: equal hashes, distinct keys."""

    def __init__(self, name, bucket=0):
        self.name = name
        self.bucket = bucket

    def __hash__(self):
        return self.bucket

    def __eq__(self, other):
        # NotImplemented for other types lets Python ask the other key, as dict does.
        if not isinstance(other, Collider):
            return NotImplemented
        return self.name == other.name

    def __repr__(self):
        return f"Collider({self.name!r}, {self.bucket})"


class Boom(Exception):
    """Raised by the keys below, so that tests can tell it from any other error."""


class RaisingKey:
    """A key whose `__eq__` (and, when asked, `__hash__`) raises; it collides with every `Collider` of bucket 0."""

    def __init__(self, raise_on_hash=False):
        self.raise_on_hash = raise_on_hash
        self.eq_calls = 0

    def __hash__(self):
        if self.raise_on_hash:
            raise Boom("hash")
        return 0

    def __eq__(self, other):
        self.eq_calls += 1
        raise Boom("eq")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """With HAMT_LIBTEST_SUMMARY set (as `cargo xtask test` sets it), ends the run with a summary in libtest's
    `test result:` form, the line xtask adds up into its `xtask test: N passed, M failed` total."""
    if not os.environ.get("HAMT_LIBTEST_SUMMARY"):
        return
    stats = terminalreporter.stats
    passed = len(stats.get("passed", []))
    failed = len(stats.get("failed", [])) + len(stats.get("error", []))
    skipped = len(stats.get("skipped", []))
    status = "ok" if failed == 0 else "FAILED"
    terminalreporter.write_line(
        f"test result: {status}. {passed} passed; {failed} failed; {skipped} ignored; 0 measured; 0 filtered out"
    )
