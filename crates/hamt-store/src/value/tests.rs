use super::*;

/// Byte strings at every length where the head changes form.
const LENGTHS: [usize; 10] = [0, 1, 23, 24, 255, 256, 65_535, 65_536, 70_000, 3];

fn bytes_of(length: usize) -> Vec<u8> {
    (0..length).map(|index| (index * 7 + length) as u8).collect()
}

#[test]
fn byte_strings_are_written_as_serde_ipld_dagcbor_writes_them() {
    for length in LENGTHS {
        let bytes = bytes_of(length);
        let expected = serde_ipld_dagcbor::to_vec(&Ipld::Bytes(bytes.clone())).expect("bytes encode");
        let (cid, block) = Value::Bytes(bytes.clone()).into_block(ValueMode::Cbor, "k").expect("bytes encode");
        assert_eq!(block, expected, "length {length}");
        assert_eq!(cid, block_cid(RAW, &expected));
        // An `Ipld::Bytes` held in `Value::Ipld` is the same value, and is written the same.
        let (_, same) = Value::Ipld(Ipld::Bytes(bytes.clone())).into_block(ValueMode::Cbor, "k").expect("encode");
        assert_eq!(same, expected);
        // And read back as bytes, through the direct path.
        assert_eq!(lone_byte_string(&block), Some(&bytes[..]));
        assert_eq!(Value::decode(ValueMode::Cbor, &cid, Bytes::from(block)).expect("decodes"), Value::Bytes(bytes));
    }
}

#[test]
fn raw_values_are_their_blocks() {
    let (cid, block) = Value::Bytes(vec![1, 2, 3]).into_block(ValueMode::Bytes, "k").expect("bytes are raw");
    assert_eq!((cid, block), (block_cid(RAW, &[1, 2, 3]), vec![1, 2, 3]));
    assert!(matches!(
        Value::from(1).into_block(ValueMode::Bytes, "k"),
        Err(StoreError::ValueNotBytes { key }) if key == "k"
    ));
}

/// The direct reader of byte strings agrees with the general decoder on every block it takes, and leaves every
/// other block to it: non-minimal heads, wrong lengths, trailing bytes, other types.
#[test]
fn the_direct_reader_agrees_with_the_general_decoder() {
    let mut blocks: Vec<Vec<u8>> = vec![
        vec![],
        vec![0x40],
        vec![0x41, 7],
        vec![0x41],                // truncated
        vec![0x41, 7, 8],          // trailing byte
        vec![0x58, 3, 1, 2, 3],    // a length below 24 in a one-byte argument: not minimal
        vec![0x59, 0, 30],         // a length below 256 in a two-byte argument: not minimal
        vec![0x5f, 0x41, 1, 0xff], // indefinite length
        vec![0x5c],                // reserved argument
        vec![0x60],                // an empty text string
        vec![0x01],                // an integer
        vec![0x82, 0x40, 0x40],    // a list of byte strings
    ];
    let mut long = vec![0x58, 30];
    long.extend_from_slice(&[9; 30]);
    blocks.push(long);
    for length in LENGTHS {
        blocks.push(serde_ipld_dagcbor::to_vec(&Ipld::Bytes(bytes_of(length))).expect("bytes encode"));
    }
    for block in blocks {
        let general = serde_ipld_dagcbor::from_slice::<Ipld>(&block).ok();
        match lone_byte_string(&block) {
            Some(content) => assert_eq!(general, Some(Ipld::Bytes(content.to_vec())), "block {block:02x?}"),
            None => assert!(!matches!(general, Some(Ipld::Bytes(_))), "block {block:02x?} left to the general decoder"),
        }
        let cid = block_cid(RAW, &block);
        let decoded = Value::decode(ValueMode::Cbor, &cid, Bytes::from(block.clone())).ok();
        assert_eq!(decoded, general.map(Value::from), "block {block:02x?}");
    }
}
