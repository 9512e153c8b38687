use super::*;

fn section(bytes: &[u8]) -> Result<Option<Vec<u8>>, CarError> {
    Input { reader: bytes, at: 0 }.section()
}

#[test]
fn varints_round_trip_at_every_width() {
    for value in [0, 1, 127, 128, 300, 16_383, 16_384, MAX_FRAME_BYTES] {
        let mut bytes = Vec::new();
        let width = write_varint(&mut bytes, value).unwrap();
        assert_eq!(width, bytes.len() as u64);
        let mut input = Input { reader: bytes.as_slice(), at: 0 };
        // A section of `value` bytes that are not there: the varint parses, then the body is missing.
        match input.section() {
            Ok(Some(body)) => assert!(value == 0 && body.is_empty()),
            Err(CarError::Truncated { at: 0 }) => assert!(value > 0),
            other => panic!("unexpected {other:?} for {value}"),
        }
    }
}

#[test]
fn varints_must_be_short_and_minimal() {
    // 1 written in two bytes.
    assert!(matches!(section(&[0x81, 0x00]), Err(CarError::BadVarint { at: 0 })));
    // Ten bytes of continuation.
    assert!(matches!(section(&[0xff; 10]), Err(CarError::BadVarint { at: 0 })));
    // A varint cut short.
    assert!(matches!(section(&[0x80]), Err(CarError::Truncated { at: 0 })));
    // The end of the file before a section is not an error: it ends the frames.
    assert!(matches!(section(&[]), Ok(None)));
    // 2^62, in nine bytes: refused for its size before anything is read.
    let mut huge = vec![0x80; 8];
    huge.push(0x40);
    assert!(matches!(section(&huge), Err(CarError::TooLarge { at: 0, length }) if length == 1 << 62));
}

#[test]
fn headers_must_be_version_one_with_roots() {
    let root = crate::block_cid(crate::DAG_CBOR, b"root");
    assert_eq!(decode_header(&encode_header(&[root, root]).unwrap()).unwrap(), vec![root, root]);

    let encode = |header: Ipld| serde_ipld_dagcbor::to_vec(&header).unwrap();
    let map =
        |fields: Vec<(&str, Ipld)>| Ipld::Map(fields.into_iter().map(|(key, value)| (key.to_owned(), value)).collect());
    let roots = Ipld::List(vec![Ipld::Link(root)]);
    let v2 = encode(map(vec![("version", Ipld::Integer(2))]));
    assert!(matches!(decode_header(&v2), Err(CarError::UnsupportedVersion { version: 2 })));
    let no_roots = encode(map(vec![("version", Ipld::Integer(1)), ("roots", Ipld::List(vec![]))]));
    assert!(matches!(decode_header(&no_roots), Err(CarError::NoRoots)));
    let not_links = encode(map(vec![("version", Ipld::Integer(1)), ("roots", Ipld::List(vec![Ipld::Integer(3)]))]));
    assert!(matches!(decode_header(&not_links), Err(CarError::BadHeader { .. })));
    let no_version = encode(map(vec![("roots", roots.clone())]));
    assert!(matches!(decode_header(&no_version), Err(CarError::BadHeader { .. })));
    assert!(matches!(decode_header(&encode(roots)), Err(CarError::BadHeader { .. })));
    assert!(matches!(decode_header(&[0xa2, 0x65]), Err(CarError::BadHeader { .. })));
    // Fields other than the two are ignored, as other readers do.
    let extra = encode(map(vec![
        ("version", Ipld::Integer(1)),
        ("roots", Ipld::List(vec![Ipld::Link(root)])),
        ("x", Ipld::Null),
    ]));
    assert_eq!(decode_header(&extra).unwrap(), vec![root]);
}
