"""Shared by the scripts in this folder: py-hamt's stores, random map contents, and the vector file format.

A vector is one DAG-CBOR map, written by py-hamt (make_vectors.py, live_check.py) or by hamt-store's tests, that
carries everything a reader needs to check a map without the writer:

    {
      "format": 1,
      "generator": "py-hamt 3.6.0" | "hamt-store",
      "description": text,
      "links": "cid" | "multihash",     # how nodes link: tag-42 CIDs (py-hamt through IPFS) or bare multihashes
      "values": "cbor" | "bytes",       # py-hamt's default DAG-CBOR values, or values_are_bytes=True
      "max_bucket_size": 4,
      "root": bytes,                    # the root's id: CID bytes, or the bare multihash
      "blocks": [["dag-cbor" | "raw", bytes], ...],   # every block reachable from the root, by increasing id
      "entries": {key: value, ...},     # what the map holds (values as py-hamt returns them)
      "history": [["set", key, value] | ["delete", key], ...],  # the writes that made it, in order
    }

Block ids are not stored: a reader computes them from the codec and the bytes, which also checks them.
"""

from __future__ import annotations

import random
from typing import Any

import dag_cbor
from blake3 import blake3
from multiformats import CID, multihash
from py_hamt import HAMT, ContentAddressedStore, InMemoryCAS

FORMAT = 1
PY_HAMT = "py-hamt 3.6.0"


class CidCAS(ContentAddressedStore):
    """An in-memory store that names blocks as IPFS (Kubo) does: CIDv1, BLAKE3-256, dag-cbor or raw.

    py-hamt's own InMemoryCAS returns bare multihashes; through Kubo it gets CIDs, which it writes as tag-42 links.
    This store gives the second form without a Kubo daemon, so that both link forms are exercised offline.
    """

    def __init__(self) -> None:
        self.store: dict[CID, bytes] = {}

    async def save(self, data: bytes, codec: ContentAddressedStore.CodecInput) -> CID:
        cid = block_id("cid", codec, data)
        self.store[cid] = bytes(data)
        return cid

    async def load(self, id: Any, offset=None, length=None, suffix=None) -> bytes:
        data = self.store[id]
        if offset is not None:
            end = None if length is None else offset + length
            return data[offset:end]
        if suffix is not None:
            return data[-suffix:] if suffix else b""
        return data


def block_id(links: str, codec: str, data: bytes) -> Any:
    """The id a store of the given link form gives a block: a CID object, or the bare multihash bytes."""
    digest = multihash.digest(data, "blake3", size=32)
    if links == "cid":
        return CID("base32", 1, codec, digest)
    return digest


def new_cas(links: str) -> ContentAddressedStore:
    if links == "cid":
        return CidCAS()
    if links == "multihash":
        return InMemoryCAS()
    raise ValueError(f"unknown link form {links!r}")


def id_bytes(links: str, node_id: Any) -> bytes:
    return bytes(node_id) if links == "cid" else bytes(node_id)


def id_from_bytes(links: str, raw: bytes) -> Any:
    return CID.decode(raw) if links == "cid" else bytes(raw)


async def reachable_blocks(cas: ContentAddressedStore, links: str, root: Any) -> dict[bytes, tuple[str, bytes]]:
    """Every block reachable from `root`, by id bytes: the nodes (dag-cbor) and the value blocks (raw)."""
    found: dict[bytes, tuple[str, bytes]] = {}
    stack = [root]
    while stack:
        node_id = stack.pop()
        key = id_bytes(links, node_id)
        if key in found:
            continue
        data = await cas.load(node_id)
        found[key] = ("dag-cbor", data)
        for slot in dag_cbor.decode(data):
            if isinstance(slot, list):
                stack.append(slot[0])
            else:
                for pointer in slot.values():
                    found[id_bytes(links, pointer)] = ("raw", await cas.load(pointer))
    return found


async def build(links: str, values: str, history: list[list[Any]]) -> tuple[HAMT, ContentAddressedStore]:
    """Applies `history` to a new py-hamt map in a new store, flushes it, and returns it read-only."""
    cas = new_cas(links)
    hamt = await HAMT.build(cas=cas, values_are_bytes=(values == "bytes"))
    for operation in history:
        if operation[0] == "set":
            await hamt.set(operation[1], operation[2])
        else:
            await hamt.delete(operation[1])
    await hamt.make_read_only()
    return hamt, cas


async def export(hamt: HAMT, cas: ContentAddressedStore, links: str, values: str, description: str,
                 history: list[list[Any]]) -> dict[str, Any]:
    """The vector of a read-only map: its root, its reachable blocks, its entries read back through py-hamt."""
    entries = {}
    async for key in hamt.keys():
        entries[key] = await hamt.get(key)
    blocks = await reachable_blocks(cas, links, hamt.root_node_id)
    return {
        "format": FORMAT,
        "generator": PY_HAMT,
        "description": description,
        "links": links,
        "values": values,
        "max_bucket_size": hamt.max_bucket_size,
        "root": id_bytes(links, hamt.root_node_id),
        "blocks": [[codec, data] for _, (codec, data) in sorted(blocks.items())],
        "entries": entries,
        "history": history,
    }


def write_vector(path: str, vector: dict[str, Any]) -> None:
    with open(path, "wb") as file:
        file.write(dag_cbor.encode(vector))


def read_vector(path: str) -> dict[str, Any]:
    with open(path, "rb") as file:
        vector = dag_cbor.decode(file.read())
    if not isinstance(vector, dict) or vector.get("format") != FORMAT:
        raise ValueError(f"{path}: not a format-{FORMAT} vector")
    return vector


# Random contents. Everything is drawn from one seeded `random.Random`, so a seed names a map exactly.

# Characters of several scripts and UTF-8 lengths (1 to 4 bytes), and a NUL, which is an ordinary key character.
KEY_ALPHABET = "abcxyzABC019_-/.é ßжΩ日本語🙂🦀\u0000"


def random_key(rng: random.Random) -> str:
    shape = rng.random()
    if shape < 0.4:
        return f"k{rng.randrange(1_000_000)}"
    if shape < 0.8:
        return "".join(rng.choice(KEY_ALPHABET) for _ in range(rng.randrange(1, 12)))
    # Long keys, some past the 23 and 255 bytes where CBOR's text length grows a byte.
    return "".join(rng.choice(KEY_ALPHABET) for _ in range(rng.randrange(20, 300)))


def random_keys(rng: random.Random, count: int) -> list[str]:
    keys: dict[str, None] = {"": None}  # The empty key: py-hamt accepts it, so a reader must too.
    while len(keys) < count:
        keys[random_key(rng)] = None
    return list(keys)


def colliding_keys(prefix_bytes: int, count: int) -> list[str]:
    """`count` keys whose BLAKE3 hashes share their first `prefix_bytes` bytes, so that they force nodes that
    many levels down (the first such group found by counting up, so always the same keys)."""
    groups: dict[bytes, list[str]] = {}
    index = 0
    while True:
        key = f"deep-{index}"
        index += 1
        group = groups.setdefault(blake3(key.encode()).digest()[:prefix_bytes], [])
        group.append(key)
        if len(group) == count:
            return group


def random_cbor_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(11 if depth < 2 else 8)
    if kind == 0:
        return rng.randrange(-(2**63), 2**63)
    if kind == 1:
        # The edges of CBOR's integer heads (1, 2, 4 and 8 bytes) and its full range, -2^64 to 2^64 - 1.
        return rng.choice([0, 23, 24, 255, 256, 65535, 65536, 2**32, 2**64 - 1, -1, -24, -25, -(2**64)])
    if kind == 2:
        return "".join(rng.choice(KEY_ALPHABET) for _ in range(rng.randrange(0, 30)))
    if kind == 3:
        return rng.randbytes(rng.randrange(0, 40))
    if kind == 4:
        return rng.choice([True, False, None])
    if kind == 5:
        return rng.choice([0.0, -0.5, 1.5, 3.141592653589793, 1e300, -2.5e-300])
    if kind == 6:
        return CID("base32", 1, "raw", multihash.digest(rng.randbytes(8), "blake3", size=32))
    if kind == 7:
        return rng.randrange(1000)
    if kind in (8, 9):
        return [random_cbor_value(rng, depth + 1) for _ in range(rng.randrange(0, 5))]
    return {random_key(rng): random_cbor_value(rng, depth + 1) for _ in range(rng.randrange(0, 5))}


def random_value(rng: random.Random, values: str) -> Any:
    if values == "bytes":
        return rng.randbytes(rng.choice([0, 1, rng.randrange(2, 64), rng.randrange(64, 400)]))
    return random_cbor_value(rng)


def random_history(rng: random.Random, values: str, count: int, deletes: int, overwrites: int,
                   reinserts: int) -> list[list[Any]]:
    """Sets `count` distinct keys (with six that share two hash bytes), then, in a random order, deletes `deletes`
    present keys, sets `overwrites` present keys to new values and sets `reinserts` deleted keys again."""
    keys = random_keys(rng, count - 6) + colliding_keys(2, 6)
    rng.shuffle(keys)
    history: list[list[Any]] = [["set", key, random_value(rng, values)] for key in keys]
    present = list(keys)
    removed: list[str] = []
    later = ["delete"] * deletes + ["overwrite"] * overwrites + ["reinsert"] * reinserts
    rng.shuffle(later)
    # A reinsert drawn before any delete waits until one has happened, so that every count is exact.
    waiting = 0
    for kind in later:
        if kind == "delete":
            key = present.pop(rng.randrange(len(present)))
            removed.append(key)
            history.append(["delete", key])
        elif kind == "overwrite":
            history.append(["set", rng.choice(present), random_value(rng, values)])
        else:
            waiting += 1
        while waiting and removed:
            waiting -= 1
            key = removed.pop(rng.randrange(len(removed)))
            present.append(key)
            history.append(["set", key, random_value(rng, values)])
    return history
