//! hamt-store's CAR import on arbitrary bytes into a memory store: it never panics, and whatever it accepts is
//! whole: every root's version is in the store, so it exports again, the export imports to the same roots, and
//! gc keeping those roots succeeds.
//!
//! A fuzzer cannot forge BLAKE3 hashes, so the bytes are also read as blocks from which the target writes a CAR
//! file with the right ids: that way the checks after the hashes (node decoding, missing blocks) are reached too.
#![no_main]

use hamt_store::{DAG_CBOR, MemoryStore, Node, NodeError, RAW, block_cid, car, gc};
use libfuzzer_sys::fuzz_target;

fn check(file: &[u8]) {
    let store = MemoryStore::new();
    let Ok(roots) = car::import(&store, file) else { return };
    let mut again = Vec::new();
    let written = car::export(&store, &roots, &mut again).expect("an imported version exports");
    assert_eq!(written.bytes, again.len() as u64);
    let copy = MemoryStore::new();
    assert_eq!(car::import(&copy, again.as_slice()).expect("an export imports"), roots);
    let stats = gc(&store, &roots).expect("an imported version is whole");
    assert_eq!(stats.kept, copy.len());
}

fn varint(out: &mut Vec<u8>, mut value: usize) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// A CAR file of the blocks in `data`: each is a kind byte (odd: a node, given as its first slots, which the
/// target completes with empty ones; even: a value), a length byte and that many bytes. The first block is the
/// root.
fn blocks_to_car(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut frames = Vec::new();
    while let [kind, length, rest @ ..] = data {
        let length = usize::from(*length).min(rest.len());
        let (bytes, tail) = rest.split_at(length);
        data = tail;
        let (codec, block) = if kind % 2 == 1 {
            let mut node = vec![0x99, 0x01, 0x00];
            node.extend_from_slice(bytes);
            node.extend_from_slice(&[0xa0; 256]);
            // Where the 256 slots end, the decoder says (as the root, whose path is empty).
            if let Err(NodeError::TrailingBytes { at }) = Node::decode(&node, &[]) {
                node.truncate(at);
            }
            (DAG_CBOR, node)
        } else {
            (RAW, bytes.to_vec())
        };
        frames.push((block_cid(codec, &block), block));
    }
    let root = frames.first()?.0;
    let mut header = vec![0xa2, 0x65];
    header.extend(b"roots");
    header.extend([0x81, 0xd8, 0x2a, 0x58, 0x25, 0x00]);
    header.extend(root.to_bytes());
    header.push(0x67);
    header.extend(b"version");
    header.push(0x01);
    let mut file = Vec::new();
    varint(&mut file, header.len());
    file.extend(header);
    for (cid, block) in frames {
        let cid = cid.to_bytes();
        varint(&mut file, cid.len() + block.len());
        file.extend(cid);
        file.extend(block);
    }
    Some(file)
}

fuzz_target!(|data: &[u8]| {
    check(data);
    if let Some(file) = blocks_to_car(data) {
        check(&file);
    }
});
