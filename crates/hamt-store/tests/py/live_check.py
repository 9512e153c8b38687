"""The Python half of hamt-store's live cross-check (tests/py_hamt_live.rs), run with py-hamt 3.6.0 installed.

    python live_check.py export --seed S --keys N [--deletes D] [--overwrites O] [--reinserts R]
                                --links cid|multihash --values cbor|bytes OUTPUT
        Builds a random map with py-hamt (N keys set, then D deleted, O overwritten and R deleted keys set again,
        in a random order drawn from seed S) and writes it as a vector (see hamt_vectors.py) for Rust to read.

    python live_check.py check INPUT...
        Reads vectors that hamt-store wrote and checks each with py-hamt: every entry and the count, read through
        py-hamt from the vector's blocks; then the same contents built from scratch by py-hamt must give the same
        root and the same blocks, byte for byte.

Exits with status 0 when every check passes, 1 (with what differed on standard error) when one fails.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
from typing import Any

import hamt_vectors as hv
from py_hamt import HAMT


def fail(message: str) -> None:
    print(f"live_check: {message}", file=sys.stderr)
    sys.exit(1)


async def export(arguments: argparse.Namespace) -> None:
    rng = random.Random(arguments.seed)
    history = hv.random_history(rng, arguments.values, arguments.keys, arguments.deletes, arguments.overwrites,
                                arguments.reinserts)
    hamt, cas = await hv.build(arguments.links, arguments.values, history)
    description = f"live: seed {arguments.seed}, {arguments.keys} keys, {arguments.deletes} deletes"
    vector = await hv.export(hamt, cas, arguments.links, arguments.values, description, history)
    model: dict[str, Any] = {}
    for operation in history:
        if operation[0] == "set":
            model[operation[1]] = operation[2]
        else:
            del model[operation[1]]
    if vector["entries"] != model:
        fail(f"seed {arguments.seed}: py-hamt's own entries differ from the model")
    hv.write_vector(arguments.output, vector)
    print(f"exported {arguments.output}: {len(model)} entries, {len(vector['blocks'])} blocks")


async def check(path: str) -> None:
    vector = hv.read_vector(path)
    links, values = vector["links"], vector["values"]
    entries: dict[str, Any] = vector["entries"]

    # Rust's blocks go into a py-hamt store under the ids py-hamt computes, which checks Rust's ids as a side effect:
    # a root Rust named wrongly is not found.
    cas = hv.new_cas(links)
    saved = {hv.id_bytes(links, await cas.save(data, codec=codec)) for codec, data in vector["blocks"]}
    root = hv.id_from_bytes(links, vector["root"])
    if vector["root"] not in saved:
        fail(f"{path}: no block has the root's id {root!r}")
    hamt = HAMT(cas=cas, root_node_id=root, read_only=True, values_are_bytes=(values == "bytes"))
    if await hamt.len() != len(entries):
        fail(f"{path}: py-hamt counts {await hamt.len()} entries, Rust wrote {len(entries)}")
    found = {key async for key in hamt.keys()}
    if found != set(entries):
        fail(f"{path}: py-hamt finds keys {sorted(found ^ set(entries))[:5]} that differ from Rust's")
    for key, expected in entries.items():
        actual = await hamt.get(key)
        if actual != expected or type(actual) is not type(expected):
            fail(f"{path}: key {key!r}: py-hamt reads {actual!r}, Rust wrote {expected!r}")

    # The same contents from scratch in py-hamt, in an order of its own, must name the same root.
    history = vector["history"]
    if not history:
        keys = list(entries)
        random.Random(len(keys)).shuffle(keys)
        history = [["set", key, entries[key]] for key in keys]
    rebuilt, rebuilt_cas = await hv.build(links, values, history)
    if hv.id_bytes(links, rebuilt.root_node_id) != vector["root"]:
        fail(f"{path}: py-hamt builds root {rebuilt.root_node_id!r} from the same contents, Rust wrote "
             f"{root!r}")
    blocks = await hv.reachable_blocks(rebuilt_cas, links, rebuilt.root_node_id)
    if sorted(blocks.values()) != sorted((codec, data) for codec, data in vector["blocks"]):
        fail(f"{path}: the roots agree but the blocks differ")
    print(f"checked {path}: {len(entries)} entries, {len(blocks)} blocks, same root")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    exporter = commands.add_parser("export")
    exporter.add_argument("--seed", type=int, required=True)
    exporter.add_argument("--keys", type=int, required=True)
    exporter.add_argument("--deletes", type=int, default=0)
    exporter.add_argument("--overwrites", type=int, default=0)
    exporter.add_argument("--reinserts", type=int, default=0)
    exporter.add_argument("--links", choices=["cid", "multihash"], required=True)
    exporter.add_argument("--values", choices=["cbor", "bytes"], required=True)
    exporter.add_argument("output")
    checker = commands.add_parser("check")
    checker.add_argument("inputs", nargs="+")
    arguments = parser.parse_args()
    if arguments.command == "export":
        asyncio.run(export(arguments))
    else:
        for path in arguments.inputs:
            asyncio.run(check(path))


if __name__ == "__main__":
    main()
