"""The Python half of hamt-store's live Zarr cross-check, run by the Rust tests as a child process with py-hamt 3.6.0
and zarr 3.0.9 installed.

    python zarr_live.py write OUTPUT --seed S [--encrypted]
        Draws an array from random.Random(S) (rows and columns 1..300, chunk sizes 1..rows and 1..cols, compressor
        zstd or none, group and array attributes; with --encrypted also a 32-byte key and a header of 0..40 bytes),
        writes it with zarr through py-hamt's ZarrHAMTStore (or SimpleEncryptedZarrHAMTStore), reads it back, and
        writes it as a Zarr vector (see zarr_vectors.py) for Rust to read.

    python zarr_live.py read VECTOR
        Reads a Zarr vector (written by Rust, or by this script) with zarr through py-hamt: every block against its
        CID, the group and array attributes, shape, chunks, dtype, compressor, every element against the formula and
        a sub-region on its own; for an encrypted vector, also that a wrong key and a wrong header are refused.

Either command prints one line of JSON at the end, {"ok": true, ...} on success. On a mismatch it prints
{"ok": false, "error": ...}, says what differed on standard error and exits with status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# zarr_vectors comes first: it silences numcodecs' import-time warning, which importing py-hamt would otherwise print.
import zarr_vectors as zv  # noqa: E402, I001

import dag_cbor  # noqa: E402

import hamt_vectors as hv  # noqa: E402

# Above this many chunks a drawn chunk shape is drawn again: py-hamt writes a few hundred chunks a second, and the
# cross-check must stay a matter of seconds. Shapes of one row or one column still come up, only not both at once
# in a large array.
MAX_CHUNKS = 1024

# Text with non-ASCII characters of every UTF-8 length, which zarr's JSON writes as \u escapes (with surrogate pairs
# beyond the first plane), so that a reader's JSON decoding of them is checked.
TEXT_ALPHABET = "abcxyz019 _-.é°ßжΩ日本語🙂🦀\"\\/"


def random_text(rng: random.Random) -> str:
    """A short random text drawn from TEXT_ALPHABET."""
    return "".join(rng.choice(TEXT_ALPHABET) for _ in range(rng.randrange(0, 16)))


def random_json(rng: random.Random, depth: int = 0) -> Any:
    """A random JSON value that survives a round trip through any JSON parser unchanged.

    Numbers are integers within ±2^53 and floats that are multiples of 1/16 (exact in binary and in short decimal
    form), so that no parser's rounding can change them; there are no NaNs or infinities, which JSON cannot hold.
    """
    kind = rng.randrange(7 if depth < 3 else 5)
    if kind == 0:
        return rng.randrange(-(2**53), 2**53)
    if kind == 1:
        return rng.randrange(-(2**20), 2**20) / 16
    if kind == 2:
        return random_text(rng)
    if kind == 3:
        return rng.choice([True, False, None])
    if kind == 4:
        return rng.randrange(100)
    if kind == 5:
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    return {random_text(rng): random_json(rng, depth + 1) for _ in range(rng.randrange(0, 4))}


def random_attributes(rng: random.Random) -> dict[str, Any]:
    """Zero to five attributes with random names and random JSON values."""
    return {random_text(rng): random_json(rng) for _ in range(rng.randrange(0, 6))}


def chunk_count(shape: tuple[int, int], chunks: tuple[int, int]) -> int:
    """How many chunks the regular grid of `chunks` over `shape` has."""
    return -(-shape[0] // chunks[0]) * -(-shape[1] // chunks[1])


def random_array(rng: random.Random, seed: int, encrypted: bool) -> dict[str, Any]:
    """Draws everything the written vector depends on from `rng`, in a fixed order so that a seed names it."""
    shape = (rng.randint(1, 300), rng.randint(1, 300))
    while True:
        chunks = (rng.randint(1, shape[0]), rng.randint(1, shape[1]))
        if chunk_count(shape, chunks) <= MAX_CHUNKS:
            break
    compressor = rng.choice(["zstd", "none"])
    group_attributes = random_attributes(rng)
    array_attributes = random_attributes(rng)
    encryption = None
    if encrypted:
        encryption = {"key": rng.randbytes(32), "header": rng.randbytes(rng.randint(0, 40))}
    description = (f"live: seed {seed}, shape {shape[0]} x {shape[1]}, chunks {chunks[0]} x {chunks[1]}, "
                   f"{compressor}, {'encrypted' if encrypted else 'plain'}")
    return {"description": description, "shape": shape, "chunks": chunks, "compressor": compressor,
            "group_attributes": group_attributes, "array_attributes": array_attributes, "encryption": encryption}


async def write(arguments: argparse.Namespace) -> dict[str, Any]:
    """The `write` command: draws an array, writes it through py-hamt, checks it by reading and saves the vector."""
    drawn = random_array(random.Random(arguments.seed), arguments.seed, arguments.encrypted)
    vector = await zv.write_vector_map(drawn["description"], drawn["shape"], drawn["chunks"], drawn["compressor"],
                                       drawn["group_attributes"], drawn["array_attributes"], drawn["encryption"])
    # The vector is checked as a reader will see it, after a round trip through DAG-CBOR.
    summary = await zv.check_vector(dag_cbor.decode(dag_cbor.encode(vector)))
    hv.write_vector(arguments.output, vector)
    return {**summary, "written": arguments.output, "shape": list(drawn["shape"]), "chunks": list(drawn["chunks"]),
            "compressor": drawn["compressor"], "encrypted": arguments.encrypted}


async def read(arguments: argparse.Namespace) -> dict[str, Any]:
    """The `read` command: checks a vector with zarr through py-hamt."""
    try:
        vector = hv.read_vector(arguments.vector)
    except (OSError, ValueError) as error:
        raise zv.VectorMismatch(f"cannot read the vector: {error}") from error
    summary = await zv.check_vector(vector)
    return {**summary, "read": arguments.vector, "generator": vector["generator"]}


def main() -> None:
    """Parses the command line, runs the command, prints its one line of JSON and sets the exit status."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    write_command = commands.add_parser("write", help="write a random array as a Zarr vector")
    write_command.add_argument("output")
    write_command.add_argument("--seed", type=int, required=True)
    write_command.add_argument("--encrypted", action="store_true")
    read_command = commands.add_parser("read", help="check a Zarr vector with zarr through py-hamt")
    read_command.add_argument("vector")
    arguments = parser.parse_args()
    command = write if arguments.command == "write" else read
    try:
        result = asyncio.run(command(arguments))
    except zv.VectorMismatch as mismatch:
        print(f"zarr_live {arguments.command}: {mismatch}", file=sys.stderr)
        print(json.dumps({"ok": False, "error": str(mismatch)}))
        sys.exit(1)
    except Exception as error:  # noqa: BLE001 - zarr or py-hamt refusing the data is a failed check, named here.
        message = f"zarr or py-hamt failed: {type(error).__name__}: {error}"
        print(f"zarr_live {arguments.command}: {message}", file=sys.stderr)
        print(json.dumps({"ok": False, "error": message}))
        sys.exit(1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
