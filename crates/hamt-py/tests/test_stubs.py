"""The type stubs (hamt.pyi, installed as hamt/__init__.pyi) and py.typed match the built module."""

import importlib.resources
import pathlib
import subprocess
import sys


def test_stubs_match_the_module():
    allowlist = pathlib.Path(__file__).with_name("stubtest-allowlist.txt")
    # --ignore-disjoint-bases: every PyO3 class is a disjoint base (PEP 800), which the stubs do not spell out;
    # whether a class can be subclassed is checked all the same (every class but Map is @final).
    result = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "hamt", "--ignore-disjoint-bases", "--allowlist", str(allowlist)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_package_is_typed():
    package = importlib.resources.files("hamt")
    assert (package / "py.typed").is_file()
    assert (package / "__init__.pyi").is_file()


def test_stubs_type_check_a_user_program(tmp_path):
    program = tmp_path / "user.py"
    program.write_text(
        "from hamt import Map\n"
        "m: Map[str, int] = Map({'a': 1})\n"
        "n = m.set('b', 2)\n"
        "value: int = n['b']\n"
        "with n.mutate() as mutation:\n"
        "    mutation['c'] = 3\n"
        "    o = mutation.finish()\n"
        "for change in m.diff(o):\n"
        "    print(change[0])\n"
        "bad: str = n['a']\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--cache-dir", str(tmp_path / "cache"), str(program)],
        capture_output=True,
        text=True,
    )
    # Exactly the one mistake in the last line is reported.
    assert result.returncode == 1, result.stdout + result.stderr
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1 and "user.py:10:" in errors[0], result.stdout
