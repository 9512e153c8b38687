"""Times py-hamt 3.6.0 on the operations hamt-store's benchmarks measure, and prints one JSON object.

    python bench_py_hamt.py [--keys N] [--value-bytes B] [--values bytes|cbor] [--links multihash|cid] [--seed S]
                            [--value-source random|blake3]

Every operation runs against an in-memory store (py-hamt's InMemoryCAS for bare multihash links, or the CIDv1 store
of hamt_vectors.py), so that the figures are py-hamt's own work, not a network's:

- build_and_flush_seconds: set N keys in a new map, then make_read_only (which writes every node);
- lookup_cold_seconds: get every key through a new read-only map on the root (an empty node cache);
- lookup_warm_seconds: get every key again through the same map (every node cached);
- iterate_seconds: list every key through a new read-only map;
- delete_tenth_seconds: delete a tenth of the keys from a writable map on the root, then make_read_only;
- stored_bytes / stored_blocks: what the store holds after the build (every block py-hamt saved), and
  reachable_bytes / reachable_blocks: the blocks the built map reaches from its root (fewer when values repeat
  or a save was replaced, since the store keeps what py-hamt no longer links).

Keys are `key-<i>` in a seeded random order; values are B random bytes (or the same bytes as a DAG-CBOR value), or
with `--value-source blake3` the first B bytes of BLAKE3(`value key-<i>`), as hamt-store's benchmark makes them.
`root` is the root id's bytes in hex (the multihash, or the CID).
Times are wall-clock seconds from time.perf_counter, one run each.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import time

import hamt_vectors as hv
from blake3 import blake3
from py_hamt import HAMT


async def run(arguments: argparse.Namespace) -> dict:
    rng = random.Random(arguments.seed)
    keys = [f"key-{index}" for index in range(arguments.keys)]
    rng.shuffle(keys)
    if arguments.value_source == "blake3":
        # The values hamt-store's benchmark computes for the same keys, so that both sides must store the same blocks.
        values = {key: blake3(f"value {key}".encode()).digest()[: arguments.value_bytes] for key in keys}
    else:
        values = {key: rng.randbytes(arguments.value_bytes) for key in keys}
    values_are_bytes = arguments.values == "bytes"
    cas = hv.new_cas(arguments.links)

    started = time.perf_counter()
    hamt = await HAMT.build(cas=cas, values_are_bytes=values_are_bytes)
    for key in keys:
        await hamt.set(key, values[key])
    await hamt.make_read_only()
    build_and_flush = time.perf_counter() - started
    root = hamt.root_node_id
    stored_blocks = len(cas.store)
    stored_bytes = sum(len(data) for data in cas.store.values())
    reachable = await hv.reachable_blocks(cas, arguments.links, root)

    reader = HAMT(cas=cas, root_node_id=root, read_only=True, values_are_bytes=values_are_bytes)
    started = time.perf_counter()
    for key in keys:
        await reader.get(key)
    lookup_cold = time.perf_counter() - started
    started = time.perf_counter()
    for key in keys:
        await reader.get(key)
    lookup_warm = time.perf_counter() - started

    lister = HAMT(cas=cas, root_node_id=root, read_only=True, values_are_bytes=values_are_bytes)
    started = time.perf_counter()
    listed = [key async for key in lister.keys()]
    iterate = time.perf_counter() - started
    if len(listed) != len(keys):
        raise AssertionError(f"py-hamt listed {len(listed)} keys of {len(keys)}")

    writer = HAMT(cas=cas, root_node_id=root, values_are_bytes=values_are_bytes)
    doomed = keys[: len(keys) // 10]
    started = time.perf_counter()
    for key in doomed:
        await writer.delete(key)
    await writer.make_read_only()
    delete_tenth = time.perf_counter() - started

    return {
        "implementation": "py-hamt 3.6.0",
        "python": platform.python_version(),
        "keys": arguments.keys,
        "value_bytes": arguments.value_bytes,
        "values": arguments.values,
        "links": arguments.links,
        "seed": arguments.seed,
        "build_and_flush_seconds": build_and_flush,
        "lookup_cold_seconds": lookup_cold,
        "lookup_warm_seconds": lookup_warm,
        "iterate_seconds": iterate,
        "delete_tenth_seconds": delete_tenth,
        "deleted_keys": len(doomed),
        "stored_blocks": stored_blocks,
        "stored_bytes": stored_bytes,
        "reachable_blocks": len(reachable),
        "reachable_bytes": sum(len(data) for _, data in reachable.values()),
        "root": hv.id_bytes(arguments.links, root).hex(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--value-bytes", type=int, default=32)
    parser.add_argument("--values", choices=["bytes", "cbor"], default="bytes")
    parser.add_argument("--links", choices=["multihash", "cid"], default="multihash")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--value-source", choices=["random", "blake3"], default="random")
    print(json.dumps(asyncio.run(run(parser.parse_args())), indent=2))


if __name__ == "__main__":
    main()
