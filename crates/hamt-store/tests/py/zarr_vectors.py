"""Zarr v3 arrays in py-hamt maps: the helpers the Zarr scripts share, and the committed Zarr vectors.

    python zarr_vectors.py [OUTPUT_DIR]

writes zarr-plain.cbor, zarr-encrypted.cbor and zarr-edges.cbor into OUTPUT_DIR (by default ../vectors/), each made by
zarr 3.0.9 through py-hamt 3.6.0's ZarrHAMTStore (or its SimpleEncryptedZarrHAMTStore) and read back by zarr before it
is written. Run it with the interpreter of the virtual environment made from requirements.txt.

A Zarr vector is one DAG-CBOR map, like the map vectors of hamt_vectors.py:

    {
      "format": 1,
      "generator": "py-hamt 3.6.0 + zarr 3.0.9" | "hamt-store + zarrs",
      "description": text,
      "links": "cid",                   # CIDv1 tag-42 links, as py-hamt writes through IPFS
      "root": bytes,                    # the HAMT root's CID bytes
      "blocks": [["dag-cbor" | "raw", bytes], ...],   # every block reachable from the root, by increasing id
      "encryption": null | {"key": bytes (32), "header": bytes},
      "group_attributes": {text: JSON value, ...},    # the attributes of the root group
      "array": {"path": "temp", "shape": [rows, cols], "chunks": [chunk_rows, chunk_cols], "dtype": "float32",
                "compressor": "zstd" | "none", "attributes": {text: JSON value, ...}}
    }

Every element of the array is `value(r, c) = r * 0.5 + (c % 97) * 0.25 - 64.0` in float32 (see `expected_values`),
so a reader checks the data without the vector carrying it. The map itself is py-hamt's Zarr layout: a HAMT with
values_are_bytes=True whose keys are Zarr's own (`zarr.json`, `temp/zarr.json`, `temp/c/0/1`, ...).
zarr-encrypted.cbor changes on every run, since py-hamt draws a random nonce for every value it encrypts.
"""

from __future__ import annotations

import os
import sys
import warnings
from importlib import metadata
from typing import Any

# The scripts import each other by name, so that they run from any working directory.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# numcodecs (imported by zarr) warns on import that it found crc32c rather than google_crc32c, through a filter of its
# own that an "ignore" filter cannot override. The checksum is not used here, so the warning is recorded and dropped
# rather than printed, where it would only bury the one line of output the Rust tests read.
with warnings.catch_warnings(record=True):
    import numcodecs  # noqa: F401

import asyncio  # noqa: E402

import dag_cbor  # noqa: E402
import numpy as np  # noqa: E402
import zarr  # noqa: E402
import zarr.api.asynchronous as zarr_async  # noqa: E402
from zarr.codecs import ZstdCodec  # noqa: E402

import hamt_vectors as hv  # noqa: E402
from py_hamt import HAMT, SimpleEncryptedZarrHAMTStore, ZarrHAMTStore  # noqa: E402

GENERATOR = f"py-hamt {metadata.version('py-hamt')} + zarr {zarr.__version__}"
ARRAY_PATH = "temp"
DTYPE = "float32"


def expected_values(rows: int, cols: int, row_start: int = 0, col_start: int = 0) -> np.ndarray:
    """The formula's elements for rows `row_start..rows` and columns `col_start..cols`, as a float32 array.

    Every term and sum is exact in float32 for the sizes used here (a multiple of 0.25 below 2^21), so the order in
    which a language evaluates it cannot change a bit.
    """
    row = np.arange(row_start, rows, dtype=np.float32)[:, None]
    col = (np.arange(col_start, cols, dtype=np.int64) % 97).astype(np.float32)[None, :]
    return (row * np.float32(0.5) + col * np.float32(0.25) - np.float32(64.0)).astype(np.float32)


def compressors_for(compressor: str) -> Any:
    """zarr's `compressors` argument for a vector's compressor name: zstd at zarr's default settings, or none."""
    if compressor == "zstd":
        return [ZstdCodec()]
    if compressor == "none":
        return None
    raise ValueError(f"unknown compressor {compressor!r}")


def make_store(hamt: HAMT, read_only: bool, encryption: dict[str, bytes] | None) -> ZarrHAMTStore:
    """py-hamt's Zarr store over `hamt`: the plain one, or the encrypted one with the vector's key and header."""
    if encryption is None:
        return ZarrHAMTStore(hamt, read_only=read_only)
    return SimpleEncryptedZarrHAMTStore(hamt, read_only, encryption["key"], encryption["header"])


async def write_vector_map(description: str, shape: tuple[int, int], chunks: tuple[int, int], compressor: str,
                           group_attributes: dict[str, Any], array_attributes: dict[str, Any],
                           encryption: dict[str, bytes] | None) -> dict[str, Any]:
    """Writes the formula's array with zarr through py-hamt's Zarr store into a new CID store and returns its vector.

    The group, the array and every chunk go through zarr's own API, as a user of py-hamt writes them; the map is
    then flushed with make_read_only, and the vector holds every block reachable from the new root.
    """
    data = expected_values(*shape)
    cas = hv.CidCAS()
    hamt = await HAMT.build(cas=cas, values_are_bytes=True)
    store = make_store(hamt, False, encryption)
    group = await zarr_async.open_group(store=store, mode="w", attributes=group_attributes)
    array = await group.create_array(ARRAY_PATH, shape=shape, chunks=chunks, dtype=DTYPE,
                                     compressors=compressors_for(compressor), attributes=array_attributes)
    await array.setitem(slice(None), data)
    await hamt.make_read_only()
    blocks = await hv.reachable_blocks(cas, "cid", hamt.root_node_id)
    return {
        "format": hv.FORMAT,
        "generator": GENERATOR,
        "description": description,
        "links": "cid",
        "root": hv.id_bytes("cid", hamt.root_node_id),
        "blocks": [[codec, block] for _, (codec, block) in sorted(blocks.items())],
        "encryption": None if encryption is None else {"key": encryption["key"], "header": encryption["header"]},
        "group_attributes": group_attributes,
        "array": {
            "path": ARRAY_PATH,
            "shape": list(shape),
            "chunks": list(chunks),
            "dtype": DTYPE,
            "compressor": compressor,
            "attributes": array_attributes,
        },
    }


class VectorMismatch(Exception):
    """A vector that zarr and py-hamt do not read as it claims; the message names what differs."""


def require(condition: bool, message: str) -> None:
    """Raises VectorMismatch with `message` unless `condition` holds."""
    if not condition:
        raise VectorMismatch(message)


def check_schema(vector: dict[str, Any]) -> None:
    """Checks that the vector has every field of the schema, with the types the schema gives."""
    for field, kind in [("generator", str), ("description", str), ("links", str), ("root", bytes),
                        ("blocks", list), ("group_attributes", dict), ("array", dict)]:
        require(isinstance(vector.get(field), kind), f"field {field!r} is missing or not a {kind.__name__}")
    require(vector["links"] == "cid", f"links is {vector['links']!r}, but a Zarr vector's links are 'cid'")
    encryption = vector.get("encryption")
    require(encryption is None or (isinstance(encryption, dict) and isinstance(encryption.get("key"), bytes)
                                   and len(encryption["key"]) == 32 and isinstance(encryption.get("header"), bytes)),
            "encryption is neither null nor {key: 32 bytes, header: bytes}")
    array = vector["array"]
    require(isinstance(array.get("path"), str), "array.path is missing")
    for field in ("shape", "chunks"):
        value = array.get(field)
        require(isinstance(value, list) and len(value) == 2 and all(isinstance(n, int) and n >= 0 for n in value),
                f"array.{field} is not two non-negative integers: {value!r}")
    require(array.get("dtype") == DTYPE, f"array.dtype is {array.get('dtype')!r}, not {DTYPE!r}")
    require(array.get("compressor") in ("zstd", "none"), f"array.compressor is {array.get('compressor')!r}")
    require(isinstance(array.get("attributes"), dict), "array.attributes is missing")


async def load_blocks(vector: dict[str, Any]) -> tuple[hv.CidCAS, Any]:
    """Saves the vector's blocks in a new CID store, which computes each block's CID from its codec and bytes, and
    returns the store and the root CID.

    The root must be one of the computed CIDs, and the blocks reachable from it must be exactly the vector's blocks,
    so that a block stored under a wrong id, a missing block or a stray block is reported here.
    """
    cas = hv.CidCAS()
    saved: dict[bytes, tuple[str, bytes]] = {}
    for position, entry in enumerate(vector["blocks"]):
        require(isinstance(entry, list) and len(entry) == 2 and entry[0] in ("dag-cbor", "raw")
                and isinstance(entry[1], bytes), f"block {position} is not [\"dag-cbor\" | \"raw\", bytes]")
        codec, data = entry
        saved[hv.id_bytes("cid", await cas.save(data, codec=codec))] = (codec, data)
    require(len(saved) == len(vector["blocks"]), "the vector holds the same block twice")
    root = hv.id_from_bytes("cid", vector["root"])
    require(vector["root"] in saved, f"no block has the root's CID {root}")
    try:
        reachable = await hv.reachable_blocks(cas, "cid", root)
    except KeyError as missing:
        raise VectorMismatch(f"the map links to block {missing}, which no block of the vector hashes to "
                             f"(missing, or its bytes or codec changed)") from missing
    require(set(reachable) == set(saved),
            f"{len(set(saved) - set(reachable))} blocks are not reachable from the root and "
            f"{len(set(reachable) - set(saved))} reachable blocks are missing")
    for key, (codec, _) in reachable.items():
        require(saved[key][0] == codec, f"block {hv.id_from_bytes('cid', key)} is stored as {saved[key][0]}, "
                                        f"but the map reaches it as {codec}")
    require(list(saved) == sorted(saved), "the blocks are not in increasing order of their ids")
    return cas, root


def attribute_difference(read: dict[str, Any], claimed: dict[str, Any]) -> str:
    """Names the attributes that differ between what zarr read and what the vector claims, with both values."""
    differing = [name for name in sorted(set(read) | set(claimed)) if read.get(name, ...) != claimed.get(name, ...)]
    return "; ".join(f"{name!r}: zarr reads {read.get(name, '(absent)')!r}, the vector says "
                     f"{claimed.get(name, '(absent)')!r}" for name in differing[:3])


async def open_array(cas: hv.CidCAS, root: Any, vector: dict[str, Any],
                     encryption: dict[str, bytes] | None) -> tuple[Any, Any]:
    """Opens the root group and the vector's array with zarr through a new read-only py-hamt Zarr store."""
    hamt = await HAMT.build(cas=cas, root_node_id=root, read_only=True, values_are_bytes=True)
    store = make_store(hamt, True, encryption)
    group = await zarr_async.open_group(store=store, mode="r")
    array = await group.getitem(vector["array"]["path"])
    return group, array


def compressor_name(array: Any) -> str:
    """The vector's name for the array's compressors as zarr reads them from its metadata: zstd, or none."""
    names = [type(codec).__name__ for codec in array.compressors]
    if names == ["ZstdCodec"]:
        return "zstd"
    if not names:
        return "none"
    return "+".join(names)


def sub_region(rows: int, cols: int) -> tuple[int, int, int, int]:
    """The region read on its own besides the whole array: rows 3..min(rows, 40), columns 2..min(cols, 30), clipped
    to the array so that a small array gives an empty region rather than an error."""
    return min(3, rows), min(rows, 40), min(2, cols), min(cols, 30)


async def check_vector(vector: dict[str, Any]) -> dict[str, Any]:
    """Reads a vector through zarr over py-hamt's Zarr store and checks everything it claims.

    Checks the group and array attributes, shape, chunks, dtype, compressor, every element against the formula, and
    a sub-region read on its own; for an encrypted vector, also that a wrong key and a wrong header are refused.
    Raises VectorMismatch naming the first difference; returns a small summary when all match.
    """
    check_schema(vector)
    claimed = vector["array"]
    encryption = vector.get("encryption")
    cas, root = await load_blocks(vector)
    group, array = await open_array(cas, root, vector, encryption)

    require(dict(group.attrs) == vector["group_attributes"],
            f"group attributes differ: {attribute_difference(dict(group.attrs), vector['group_attributes'])}")
    require(dict(array.attrs) == claimed["attributes"],
            f"array attributes differ: {attribute_difference(dict(array.attrs), claimed['attributes'])}")
    require(list(array.shape) == claimed["shape"], f"shape differs: zarr reads {list(array.shape)}, "
                                                   f"the vector says {claimed['shape']}")
    require(list(array.chunks) == claimed["chunks"], f"chunks differ: zarr reads {list(array.chunks)}, "
                                                     f"the vector says {claimed['chunks']}")
    require(array.dtype == np.dtype(DTYPE), f"dtype differs: zarr reads {array.dtype}, the vector says {DTYPE}")
    require(compressor_name(array) == claimed["compressor"],
            f"compressor differs: zarr reads {compressor_name(array)}, the vector says {claimed['compressor']}")

    rows, cols = claimed["shape"]
    whole = await array.getitem(slice(None))
    expected = expected_values(rows, cols)
    require(whole.dtype == np.float32, f"zarr returns elements of type {whole.dtype}, not float32")
    if not np.array_equal(whole, expected):
        wrong = np.argwhere(whole != expected)
        first = tuple(int(i) for i in wrong[0])
        raise VectorMismatch(f"{len(wrong)} elements differ from the formula; the first at (row, col) = {first}: "
                             f"read {whole[first]}, expected {expected[first]}")
    row_start, row_end, col_start, col_end = sub_region(rows, cols)
    region = await array.getitem((slice(row_start, row_end), slice(col_start, col_end)))
    require(np.array_equal(region, expected_values(row_end, col_end, row_start, col_start)),
            f"the region rows {row_start}..{row_end}, columns {col_start}..{col_end} differs from the formula")

    summary: dict[str, Any] = {"ok": True, "elements": int(whole.size), "blocks": len(vector["blocks"]),
                               "chunks_stored": await count_chunk_keys(array)}
    if encryption is not None:
        summary["wrong_key_rejected"] = await refused(cas, root, vector, {
            "key": bytes(byte ^ 0xFF for byte in encryption["key"]), "header": encryption["header"]})
        summary["wrong_header_rejected"] = await refused(cas, root, vector, {
            "key": encryption["key"], "header": encryption["header"] + b"!"})
        require(summary["wrong_key_rejected"], "the encrypted vector opened with a wrong key")
        require(summary["wrong_header_rejected"], "the encrypted vector opened with a wrong header")
    return summary


async def count_chunk_keys(array: Any) -> int:
    """How many chunk keys of the array the map holds (zarr leaves out chunks that are all fill value)."""
    prefix = f"{array.path}/c/"
    return len([key async for key in array.store_path.store.list_prefix(prefix)])


async def refused(cas: hv.CidCAS, root: Any, vector: dict[str, Any], encryption: dict[str, bytes]) -> bool:
    """Whether zarr over the encrypted store fails to open the group and array and read the array with these
    (wrong) key and header, as it must: py-hamt raises ValueError when a value's tag does not verify."""
    try:
        _, array = await open_array(cas, root, vector, encryption)
        await array.getitem(slice(None))
    except Exception:  # noqa: BLE001 - any failure to read is the refusal this checks for.
        return True
    return False


# The committed vectors' attributes: nested lists and maps, non-ASCII text in keys and values, and numbers of every
# JSON kind whose decimal form is exact, so that any JSON parser reads back the same value.
GROUP_ATTRIBUTES: dict[str, Any] = {
    "title": "hamt-store Zarr vector: température ☀ 日本語 🦀",
    "conventions": "CF-1.8",
    "history": ["written by zarr_vectors.py", {"step": 1, "tool": "py-hamt", "ok": True}],
    "nested": {"list": [1, -2, 2.5, None, False, "ß"], "map": {"ключ": {"deeper": [[], {}]}}},
    "count": 16,
}
ARRAY_ATTRIBUTES: dict[str, Any] = {
    "units": "°C",
    "long_name": "température de surface",
    "formula": "r * 0.5 + (c % 97) * 0.25 - 64.0",
    "scale": 0.25,
    "offset": -64.0,
    "valid_range": [-64.0, 600.0],
    "flags": {"missing": None, "checked": True},
}

# name, description, shape, chunks, compressor, encryption.
VECTORS: list[tuple[str, str, tuple[int, int], tuple[int, int], str, dict[str, bytes] | None]] = [
    ("zarr-plain", "a 1024 x 512 float32 array in 16 chunks of 256 x 128, zstd, through ZarrHAMTStore",
     (1024, 512), (256, 128), "zstd", None),
    ("zarr-encrypted", "the zarr-plain array through SimpleEncryptedZarrHAMTStore (XChaCha20-Poly1305)",
     (1024, 512), (256, 128), "zstd", {"key": bytes(range(32)), "header": b"hamt-store zarr vector"}),
    ("zarr-edges", "a 100 x 75 float32 array in chunks of 32 x 32, so that the last row and column of chunks are "
     "partial; no compressor, through ZarrHAMTStore", (100, 75), (32, 32), "none", None),
]


async def main(output_dir: str) -> None:
    """Writes every committed vector, each checked by reading it back before the file is written."""
    total = 0
    for name, description, shape, chunks, compressor, encryption in VECTORS:
        vector = await write_vector_map(description, shape, chunks, compressor, GROUP_ATTRIBUTES,
                                        ARRAY_ATTRIBUTES, encryption)
        summary = await check_vector(dag_cbor.decode(dag_cbor.encode(vector)))
        path = os.path.join(output_dir, f"{name}.cbor")
        hv.write_vector(path, vector)
        size = os.path.getsize(path)
        total += size
        print(f"wrote {path}: {size} bytes, {len(vector['blocks'])} blocks, {summary['chunks_stored']} chunks")
    print(f"total {total} bytes")


if __name__ == "__main__":
    default = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vectors")
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else default))
