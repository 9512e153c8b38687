//! The checks of hamt-store's fuzz targets, shared by the targets in `/fuzz` (which include this file) and by
//! `tests/fuzz_regressions.rs`, which replays every input the fuzzer ever found.

/// `store_node`:
/// hamt-store's node decoder on arbitrary bytes and paths: it never panics, and whatever it accepts is canonical,
/// so that writing the node back reproduces the input byte for byte, each link in the form the input used (a node
/// may mix CID links and bare multihashes; readers accept both).
///
/// The first byte says how many of the following bytes are the path (modulo 33, so that a path too deep for a
/// 256-bit hash is tried too); the rest is the node, tried as it is and as the first slots of a node.
pub(crate) mod node {
    use hamt_store::{Cid, LinkFormat, Node, NodeError, SlotRef};

    /// The length of a CBOR head whose argument is `value`, in its shortest form.
    fn head_len(value: usize) -> usize {
        match value {
            0..=23 => 1,
            24..=0xff => 2,
            0x100..=0xffff => 3,
            0x1_0000..=0xffff_ffff => 5,
            _ => 9,
        }
    }

    /// The length of a link to `cid` written in `form`.
    fn link_len(cid: &Cid, form: LinkFormat) -> usize {
        match form {
            // Tag 42 (two bytes), then a byte string of a zero byte and the CID.
            LinkFormat::Cid => 2 + head_len(cid.encoded_len() + 1) + cid.encoded_len() + 1,
            LinkFormat::Multihash => head_len(cid.hash().encoded_len()) + cid.hash().encoded_len(),
        }
    }

    /// A node's encoding cut into the pieces that are the same in both link forms and the links between them.
    enum Piece<'a> {
        Fixed(usize),
        Link(&'a Cid),
    }

    fn pieces(node: &Node) -> Vec<Piece<'_>> {
        let mut pieces = vec![Piece::Fixed(3)];
        let mut next = 0;
        for (index, slot) in node.slots() {
            pieces.push(Piece::Fixed(usize::from(index) - next));
            next = usize::from(index) + 1;
            match slot {
                SlotRef::Bucket(entries) => {
                    pieces.push(Piece::Fixed(head_len(entries.len())));
                    for (key, value) in entries {
                        pieces.push(Piece::Fixed(head_len(key.len()) + key.len()));
                        pieces.push(Piece::Link(value));
                    }
                }
                SlotRef::Link(child) => {
                    pieces.push(Piece::Fixed(1));
                    pieces.push(Piece::Link(child));
                }
                SlotRef::Unflushed(_) => panic!("a decoded node holds an unflushed child"),
            }
        }
        pieces.push(Piece::Fixed(256 - next));
        pieces
    }

    /// Checks that `bytes`, which decoded as `node` at `path`, are what writing `node` back gives, link by link.
    fn check(bytes: &[u8], path: &[u8], node: &Node) {
        let with_cids = node.encode(LinkFormat::Cid);
        let with_hashes = node.encode(LinkFormat::Multihash);
        // Walk the input along both encodings: the fixed pieces agree with both, each link with one of them.
        let (mut input, mut cids, mut hashes) = (0, 0, 0);
        for piece in pieces(node) {
            match piece {
                Piece::Fixed(length) => {
                    assert_eq!(bytes[input..input + length], with_cids[cids..cids + length], "at {input}");
                    assert_eq!(bytes[input..input + length], with_hashes[hashes..hashes + length], "at {input}");
                    input += length;
                    cids += length;
                    hashes += length;
                }
                Piece::Link(cid) => {
                    let (as_cid, as_hash) = (link_len(cid, LinkFormat::Cid), link_len(cid, LinkFormat::Multihash));
                    if bytes.get(input..input + as_cid) == Some(&with_cids[cids..cids + as_cid]) {
                        input += as_cid;
                    } else {
                        assert_eq!(bytes[input..input + as_hash], with_hashes[hashes..hashes + as_hash], "at {input}");
                        input += as_hash;
                    }
                    cids += as_cid;
                    hashes += as_hash;
                }
            }
        }
        assert_eq!((input, cids, hashes), (bytes.len(), with_cids.len(), with_hashes.len()));

        // What is written reads back: the CID form as the same node, the multihash form as a node too.
        assert_eq!(Node::decode(&with_cids, path).as_ref(), Ok(node));
        assert!(Node::decode(&with_hashes, path).is_ok());
    }

    /// What the `store_node` fuzz target runs on each input.
    pub(crate) fn store_node(data: &[u8]) {
        let Some((&length, rest)) = data.split_first() else { return };
        let length = usize::from(length % 33).min(rest.len());
        let (path, bytes) = rest.split_at(length);
        if let Ok(node) = Node::decode(bytes, path) {
            check(bytes, path, &node);
        }

        // The same bytes as the first slots of a node: the array's head before them and empty slots after. A fuzzer
        // rarely writes 256 slots itself; this way every item it finds is tried in a whole node. Where the slots end,
        // the decoder says, as the offset of the bytes that follow them.
        let mut padded = vec![0x99, 0x01, 0x00];
        padded.extend_from_slice(bytes);
        padded.extend_from_slice(&[0xa0; 256]);
        let end = match Node::decode(&padded, path) {
            Ok(_) => padded.len(),
            Err(NodeError::TrailingBytes { at }) => at,
            Err(_) => return,
        };
        if let Ok(node) = Node::decode(&padded[..end], path) {
            check(&padded[..end], path, &node);
        }
    }
}

/// `store_car`:
/// hamt-store's CAR import on arbitrary bytes into a memory store: it never panics, and whatever it accepts is
/// whole: every root's version is in the store, so it exports again, the export imports to the same roots, and
/// gc keeping those roots succeeds.
///
/// A fuzzer cannot forge BLAKE3 hashes, so the bytes are also read as blocks from which the target writes a CAR
/// file with the right ids: that way the checks after the hashes (node decoding, missing blocks) are reached too.
pub(crate) mod car {
    use hamt_store::{DAG_CBOR, MemoryStore, Node, NodeError, RAW, block_cid, car, gc};

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

    /// What the `store_car` fuzz target runs on each input.
    pub(crate) fn store_car(data: &[u8]) {
        check(data);
        if let Some(file) = blocks_to_car(data) {
            check(&file);
        }
    }
}
