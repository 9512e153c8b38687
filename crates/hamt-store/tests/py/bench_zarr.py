"""Times zarr 3.0.9 over py-hamt 3.6.0's ZarrHAMTStore on the operations hamt-store's Zarr benchmark measures, and
prints one JSON object.

    python bench_zarr.py [--rows 5120] [--cols 5120] [--chunk-rows 512] [--chunk-cols 512]
                         [--compressor none|zstd] [--links multihash|cid] [--repeat N]

The array is float32 with the elements of zarr_vectors.py's formula, `r * 0.5 + (c % 97) * 0.25 - 64.0` (by default
5120 x 5120, 100 MiB, in chunks of 512 x 512, 1 MiB each), made in memory before any timing. Everything runs against an
in-memory store (py-hamt's InMemoryCAS for bare multihash links, the default, or the CIDv1 store of hamt_vectors.py),
so that the figures are py-hamt's and zarr's own work, not a network's:

- write_seconds: open a new root group, create the array, write the whole array, make_read_only (which writes every
  node of the map);
- read_seconds: a new read-only map and ZarrHAMTStore on the root, open the array, read the whole array (compared
  with the data after the timing);
- read_chunk_cold_seconds: a new read-only map and store on the root (so that no cache holds anything), open the
  array, read exactly the region of the chunk at grid position (1, 1), or (0, 0) on a one-chunk grid;
- stored_bytes / stored_blocks: what the store holds after the write, and root: the root id's bytes in hex.

Times are wall-clock seconds from time.perf_counter. With --repeat N the whole run (a new store each time) happens N
times and every figure is a list of N values; only one copy of the data and one store are alive at a time.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import sys
import time
from importlib import metadata
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# zarr_vectors comes first: it silences numcodecs' import-time warning, which importing py-hamt would otherwise print.
import zarr_vectors as zv  # noqa: E402, I001

import numpy as np  # noqa: E402
import zarr  # noqa: E402
import zarr.api.asynchronous as zarr_async  # noqa: E402

import hamt_vectors as hv  # noqa: E402
from py_hamt import HAMT, ZarrHAMTStore  # noqa: E402


def chunk_region(arguments: argparse.Namespace) -> tuple[slice, slice]:
    """The region of the chunk at grid position (1, 1), or at 0 along an axis that has only one chunk."""
    grid_rows = -(-arguments.rows // arguments.chunk_rows)
    grid_cols = -(-arguments.cols // arguments.chunk_cols)
    row = min(1, grid_rows - 1) * arguments.chunk_rows
    col = min(1, grid_cols - 1) * arguments.chunk_cols
    return (slice(row, min(row + arguments.chunk_rows, arguments.rows)),
            slice(col, min(col + arguments.chunk_cols, arguments.cols)))


async def open_reader(cas: Any, root: Any) -> Any:
    """A new read-only map and Zarr store on `root` (with empty caches), and the array opened through them."""
    hamt = await HAMT.build(cas=cas, root_node_id=root, read_only=True, values_are_bytes=True)
    store = ZarrHAMTStore(hamt, read_only=True)
    return await zarr_async.open_array(store=store, path=zv.ARRAY_PATH, mode="r")


async def run_once(arguments: argparse.Namespace, data: np.ndarray) -> dict[str, Any]:
    """One write, full read and cold one-chunk read in a new store; returns the figures of this run."""
    cas = hv.new_cas(arguments.links)

    started = time.perf_counter()
    hamt = await HAMT.build(cas=cas, values_are_bytes=True)
    store = ZarrHAMTStore(hamt, read_only=False)
    group = await zarr_async.open_group(store=store, mode="w")
    array = await group.create_array(zv.ARRAY_PATH, shape=data.shape,
                                     chunks=(arguments.chunk_rows, arguments.chunk_cols), dtype=zv.DTYPE,
                                     compressors=zv.compressors_for(arguments.compressor))
    await array.setitem(slice(None), data)
    await hamt.make_read_only()
    write_seconds = time.perf_counter() - started
    root = hamt.root_node_id
    del hamt, store, group, array

    started = time.perf_counter()
    reader = await open_reader(cas, root)
    whole = await reader.getitem(slice(None))
    read_seconds = time.perf_counter() - started
    if not np.array_equal(whole, data):
        raise AssertionError("the array read back differs from the array written")
    del reader, whole

    region = chunk_region(arguments)
    started = time.perf_counter()
    reader = await open_reader(cas, root)
    chunk = await reader.getitem(region)
    read_chunk_cold_seconds = time.perf_counter() - started
    if not np.array_equal(chunk, data[region]):
        raise AssertionError("the chunk read back differs from the array written")

    return {
        "write_seconds": write_seconds,
        "read_seconds": read_seconds,
        "read_chunk_cold_seconds": read_chunk_cold_seconds,
        "stored_blocks": len(cas.store),
        "stored_bytes": sum(len(block) for block in cas.store.values()),
        "root": hv.id_bytes(arguments.links, root).hex(),
    }


async def run(arguments: argparse.Namespace) -> dict[str, Any]:
    """Makes the data, runs the benchmark --repeat times and gathers the figures, one list per figure when repeated."""
    data = zv.expected_values(arguments.rows, arguments.cols)
    runs = []
    for _ in range(arguments.repeat):
        runs.append(await run_once(arguments, data))
        # The store of a finished run is garbage before the next one fills a new store.
        gc.collect()
    figures = {name: [run[name] for run in runs] if arguments.repeat > 1 else runs[0][name] for name in runs[0]}
    region = chunk_region(arguments)
    return {
        "implementation": f"zarr {zarr.__version__} over py-hamt {metadata.version('py-hamt')} ZarrHAMTStore",
        "python": platform.python_version(),
        "zarr": zarr.__version__,
        "py_hamt": metadata.version("py-hamt"),
        "numpy": np.__version__,
        "rows": arguments.rows,
        "cols": arguments.cols,
        "chunk_rows": arguments.chunk_rows,
        "chunk_cols": arguments.chunk_cols,
        "dtype": zv.DTYPE,
        "compressor": arguments.compressor,
        "links": arguments.links,
        "repeat": arguments.repeat,
        "array_bytes": int(data.nbytes),
        "chunk_read": [[region[0].start, region[0].stop], [region[1].start, region[1].stop]],
        **figures,
    }


def main() -> None:
    """Parses the command line, runs the benchmark and prints its JSON object."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5120)
    parser.add_argument("--cols", type=int, default=5120)
    parser.add_argument("--chunk-rows", type=int, default=512)
    parser.add_argument("--chunk-cols", type=int, default=512)
    parser.add_argument("--compressor", choices=["none", "zstd"], default="none")
    parser.add_argument("--links", choices=["multihash", "cid"], default="multihash")
    parser.add_argument("--repeat", type=int, default=1)
    arguments = parser.parse_args()
    for name in ("rows", "cols", "chunk_rows", "chunk_cols", "repeat"):
        if getattr(arguments, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    print(json.dumps(asyncio.run(run(arguments)), indent=2))


if __name__ == "__main__":
    main()
