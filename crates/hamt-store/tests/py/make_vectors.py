"""Writes the committed vectors in ../vectors/ with the real py-hamt 3.6.0, which tests/interop.rs checks hamt-store
against on any machine, with or without Python.

    python make_vectors.py [OUTPUT_DIR]

Run it with the interpreter of a virtual environment made from requirements.txt (`cargo xtask test` makes one in
target/py-hamt-venv). The contents come from fixed seeds, so running it again writes the same files; tests/interop.rs
says which vectors it expects, so a vector added here must be named there too.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
from typing import Any

import hamt_vectors as hv

# name, link form, value form, seed, keys set, keys deleted, values overwritten, deleted keys set again, what it
# shows.
VECTORS: list[tuple[str, str, str, int, int, int, int, int, str]] = [
    ("multihash-cbor", "multihash", "cbor", 1, 300, 0, 0, 0,
     "InMemoryCAS (bare multihash links), DAG-CBOR values of every IPLD kind"),
    ("multihash-bytes", "multihash", "bytes", 2, 300, 0, 0, 0,
     "InMemoryCAS (bare multihash links), values_are_bytes=True"),
    ("cid-cbor", "cid", "cbor", 3, 300, 0, 0, 0,
     "CIDv1 links as through Kubo, DAG-CBOR values of every IPLD kind"),
    ("cid-bytes", "cid", "bytes", 4, 300, 0, 0, 0,
     "CIDv1 links as through Kubo, values_are_bytes=True"),
    ("cid-cbor-history", "cid", "cbor", 5, 300, 120, 40, 30,
     "CIDv1 links, DAG-CBOR values; 300 keys set, then deletes, overwrites and deleted keys set again"),
    ("multihash-bytes-history", "multihash", "bytes", 6, 300, 297, 10, 0,
     "bare multihash links, bytes; 300 keys set, then deleted down to 3, which collapses the tree to its root"),
    ("cid-empty", "cid", "cbor", 7, 0, 0, 0, 0, "an empty map: the root alone"),
]


def model(history: list[list[Any]]) -> dict[str, Any]:
    """What the map must hold after `history`, by a Python dict."""
    entries: dict[str, Any] = {}
    for operation in history:
        if operation[0] == "set":
            entries[operation[1]] = operation[2]
        else:
            del entries[operation[1]]
    return entries


async def make(name: str, links: str, values: str, seed: int, count: int, deletes: int, overwrites: int,
               reinserts: int, description: str) -> dict[str, Any]:
    rng = random.Random(seed)
    history = hv.random_history(rng, values, count, deletes, overwrites, reinserts) if count else []
    hamt, cas = await hv.build(links, values, history)
    vector = await hv.export(hamt, cas, links, values, description, history)
    # py-hamt's own reading of its map must agree with the model before the vector is worth committing.
    if vector["entries"] != model(history):
        raise AssertionError(f"{name}: py-hamt's entries differ from the model")
    if count and deletes == 0:
        # A vector without deletes needs no history to rebuild it: the entries say everything.
        vector["history"] = []
    return vector


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    output = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "vectors")
    os.makedirs(output, exist_ok=True)
    for name, *parameters in VECTORS:
        vector = asyncio.run(make(name, *parameters))
        path = os.path.join(output, f"{name}.cbor")
        hv.write_vector(path, vector)
        print(f"{path}: {len(vector['entries'])} entries, {len(vector['blocks'])} blocks, "
              f"{os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
