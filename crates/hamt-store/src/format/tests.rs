use super::*;

use ipld_core::ipld::Ipld;

fn bucket_node(keys: &[&str], path: &[u8]) -> Node {
    let mut node = Node::default();
    for key in keys {
        let hash = key_hash(key);
        assert_eq!(&hash[..path.len()], path);
        let index = hash[path.len()];
        let cid = block_cid(RAW, key.as_bytes());
        match node.find(index) {
            Ok(position) => match &mut node.slots[position].1 {
                Slot::Bucket(entries) => {
                    entries.push(((*key).to_owned(), cid));
                    entries.sort_by(|a, b| canonical_order(&a.0, &b.0));
                }
                _ => unreachable!(),
            },
            Err(position) => node.insert_slot(position, index, Slot::Bucket(vec![((*key).to_owned(), cid)])),
        }
    }
    node
}

/// The same node as generic IPLD, encoded by serde_ipld_dagcbor: a maintained DAG-CBOR encoder must agree with ours.
fn as_ipld(node: &Node, links: LinkFormat) -> Ipld {
    let link = |cid: &Cid| match links {
        LinkFormat::Cid => Ipld::Link(*cid),
        LinkFormat::Multihash => Ipld::Bytes(cid.hash().to_bytes()),
    };
    let mut slots = vec![Ipld::Map(Default::default()); SLOTS];
    for (index, slot) in &node.slots {
        slots[usize::from(*index)] = match slot {
            Slot::Bucket(entries) => Ipld::Map(entries.iter().map(|(key, cid)| (key.clone(), link(cid))).collect()),
            Slot::Link(child) => Ipld::List(vec![link(&child.cid)]),
            Slot::Dirty(_) => unreachable!(),
        };
    }
    Ipld::List(slots)
}

#[test]
fn encoding_matches_serde_ipld_dagcbor_in_both_link_formats() {
    let keys = ["a", "bb", "ccc", "key with spaces", "ключ", "🔑", ""];
    let mut node = bucket_node(&keys, &[]);
    if let Err(position) = node.find(255) {
        node.insert_slot(position, 255, Slot::Link(Box::new(Link::new(block_cid(DAG_CBOR, b"child")))));
    }
    for links in [LinkFormat::Cid, LinkFormat::Multihash] {
        let ours = node.encode(links);
        let theirs = serde_ipld_dagcbor::to_vec(&as_ipld(&node, links)).unwrap();
        assert_eq!(ours, theirs, "{links:?}");
        assert_eq!(Node::decode(&ours, &[]).unwrap(), node);
    }
}

#[test]
fn empty_node_is_an_array_of_empty_maps() {
    let bytes = Node::default().encode(LinkFormat::Cid);
    assert_eq!(bytes.len(), 3 + 256);
    assert_eq!(Node::decode(&bytes, &[]).unwrap(), Node::default());
}

#[test]
fn decoding_checks_the_path_of_every_key() {
    let node = bucket_node(&["x"], &[]);
    let bytes = node.encode(LinkFormat::Cid);
    let wrong_parent = key_hash("x")[0].wrapping_add(1);
    assert!(matches!(Node::decode(&bytes, &[wrong_parent]), Err(NodeError::KeyInWrongSlot { .. })));
    let mut moved = Node::default();
    let (index, slot) = node.slots[0].clone();
    moved.push_slot(index.wrapping_add(1), slot);
    assert!(matches!(Node::decode(&moved.encode(LinkFormat::Cid), &[]), Err(NodeError::KeyInWrongSlot { .. })));
}

#[test]
fn decoding_refuses_what_the_format_does_not_allow() {
    let good = bucket_node(&["a", "b", "c"], &[]).encode(LinkFormat::Cid);
    for cut in 0..good.len() {
        assert!(Node::decode(&good[..cut], &[]).is_err(), "cut at {cut}");
    }
    let mut trailing = good.clone();
    trailing.push(0);
    assert!(matches!(Node::decode(&trailing, &[]), Err(NodeError::TrailingBytes { .. })));
    let mut short = vec![0x98, 0xff];
    short.extend([0xa0; 255]);
    assert_eq!(Node::decode(&short, &[]), Err(NodeError::WrongSlotCount { found: 255 }));
    let mut not_minimal = vec![0x99, 0x01, 0x00, 0xb8, 0x00];
    not_minimal.extend([0xa0; 255]);
    assert!(matches!(Node::decode(&not_minimal, &[]), Err(NodeError::NotMinimal { .. })));
    let mut huge_claim = vec![0x99, 0x01, 0x00, 0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    huge_claim.extend([0xa0; 255]);
    assert_eq!(Node::decode(&huge_claim, &[]), Err(NodeError::Truncated));
    assert_eq!(Node::decode(&good, &[0; 32]), Err(NodeError::TooDeep));
}

#[test]
fn unsorted_and_duplicate_keys_are_refused() {
    // Find two keys that share a root slot.
    let mut keys = Vec::new();
    let first = "k0";
    for i in 1.. {
        let key = format!("k{i}");
        if key_hash(&key)[0] == key_hash(first)[0] {
            keys.push(key);
            break;
        }
    }
    let index = key_hash(first)[0];
    let cid = block_cid(RAW, b"v");
    for entries in [vec![(keys[0].clone(), cid), (first.to_owned(), cid)], vec![(first.to_owned(), cid); 2]] {
        let mut node = Node::default();
        node.push_slot(index, Slot::Bucket(entries));
        assert_eq!(Node::decode(&node.encode(LinkFormat::Cid), &[]), Err(NodeError::UnsortedBucket { slot: index }));
    }
}

#[test]
fn links_must_be_in_their_one_binary_form() {
    // Found by the store_node fuzz target: a multihash code whose 10-byte varint overflows 64 bits parsed, and was
    // written back as other bytes.
    let overflowing_multihash = [0x4b, 0xc4, 0xff, 0xff, 0xff, 0xfb, 0xff, 0xff, 0xff, 0xff, 0x42, 0x00];
    let overflowing_cid =
        [0xd8, 0x2a, 0x4e, 0x00, 0x01, 0x71, 0xc4, 0xff, 0xff, 0xff, 0xfb, 0xff, 0xff, 0xff, 0xff, 0x42, 0x00];
    // A well-formed multihash of another hash function (SHA2-256), which a bare link cannot name.
    let mut sha256 = vec![0x58, 34, 0x12, 0x20];
    sha256.extend([7; 32]);
    // Found by the store_node fuzz target: a CID link with an identity multihash and another codec parsed, but
    // could not be written as a bare multihash. A CID link must be v1, BLAKE3-256 and of its place's codec.
    let identity_cid = [0xd8, 0x2a, 0x47, 0x00, 0x01, 0xd8, 0x2a, 0x00, 0x01, 0x2b];
    let digest = [7; 32];
    let cid_link = |codec: u64, code: u64| {
        let cid = Cid::new_v1(codec, cid::multihash::Multihash::<64>::wrap(code, &digest).unwrap());
        let mut link = vec![0xd8, 0x2a, 0x58, 37, 0x00];
        link.extend(cid.to_bytes());
        link
    };
    let raw_codec_child = cid_link(RAW, BLAKE3);
    let sha256_cid = cid_link(DAG_CBOR, 0x12);
    for link in [
        &overflowing_multihash[..],
        &overflowing_cid[..],
        &sha256[..],
        &identity_cid[..],
        &raw_codec_child[..],
        &sha256_cid[..],
    ] {
        let mut node = vec![0x99, 0x01, 0x00, 0x81];
        node.extend_from_slice(link);
        node.extend([0xa0; 255]);
        assert!(matches!(Node::decode(&node, &[]), Err(NodeError::BadLink { .. })), "{link:02x?}");
    }
}

/// `find` counts from `below`, which insertions and removals keep: checked against a plain set of indices after
/// every change, over slots in every bitmap word.
#[test]
fn find_agrees_with_a_model_of_held_slots() {
    let mut node = Node::default();
    let mut model = std::collections::BTreeSet::new();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for step in 0..2000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let index = (state >> 24) as u8;
        match node.find(index) {
            Ok(position) if step % 3 == 0 => {
                node.remove_slot(position);
                model.remove(&index);
            }
            Ok(_) => {}
            Err(position) => {
                node.insert_slot(position, index, Slot::Bucket(Vec::new()));
                model.insert(index);
            }
        }
        let mut below = 0;
        for probe in 0..=u8::MAX {
            let held = model.contains(&probe);
            assert_eq!(node.find(probe), if held { Ok(below) } else { Err(below) }, "slot {probe} after step {step}");
            below += usize::from(held);
        }
        assert!(node.slots.iter().map(|(index, _)| *index).eq(model.iter().copied()));
    }
}
