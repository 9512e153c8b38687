use super::*;

fn cbor<T: serde::Serialize>(value: &T) -> Vec<u8> {
    let mut bytes = Vec::new();
    ciborium::into_writer(value, &mut bytes).expect("ciborium encodes test values");
    bytes
}

#[test]
fn the_extent_of_an_item_is_what_ciborium_wrote() {
    let values = serde_json::json!([
        null, true, 1, -1, 255, 65_536, u64::MAX, i64::MIN, 1.5, 1e300, "", "text", "long ".repeat(100),
        [], [1, [2, [3, []]]], {}, {"a": {"b": [1, 2, {"c": null}]}}
    ]);
    let serde_json::Value::Array(items) = &values else { unreachable!() };
    for item in items.iter().chain([&values]) {
        let mut bytes = cbor(item);
        let length = bytes.len();
        bytes.extend([0x01, 0x02]);
        assert_eq!(item_length(&bytes).ok(), Some(length), "{item}");
    }
    // Byte strings, and the indefinite-length containers that `#[serde(flatten)]` makes ciborium write.
    let bytes = cbor(&serde_bytes_like());
    assert_eq!(item_length(&bytes).ok(), Some(bytes.len()));
    let indefinite = [0x9f, 0x01, 0xbf, 0x61, b'a', 0x02, 0xff, 0x5f, 0x41, 0x00, 0xff, 0xff];
    assert_eq!(item_length(&indefinite).ok(), Some(indefinite.len()));
    // A tag and the item it applies to.
    assert_eq!(item_length(&[0xc1, 0x1a, 0, 0, 0, 0, 0x00]).ok(), Some(6));
}

/// A byte string of 300 bytes, written with a two-byte length.
fn serde_bytes_like() -> impl serde::Serialize {
    struct Bytes;
    impl serde::Serialize for Bytes {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_bytes(&[7; 300])
        }
    }
    Bytes
}

#[test]
fn every_cut_of_an_item_is_refused() {
    let bytes = cbor(&serde_json::json!({"key": [1, "two", {"three": 3.5}], "other": null}));
    for cut in 0..bytes.len() {
        assert!(item_length(&bytes[..cut]).is_err(), "cut at {cut}");
    }
}

#[test]
fn claims_beyond_the_input_are_refused_before_anything_is_read() {
    // A text string, an array and a map claiming 2^63 bytes, items or pairs.
    for major in [0x7b, 0x9b, 0xbb] {
        let bytes = [major, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x01];
        assert!(matches!(
            item_length(&bytes),
            Err(WalkError::TooLong { claimed: 0x8000_0000_0000_0000, remaining: 1 })
        ));
    }
    // A map of one pair needs two items.
    assert!(matches!(item_length(&[0xa1, 0x01]), Err(WalkError::TooLong { claimed: 1, remaining: 1 })));
}

#[test]
fn malformed_headers_are_refused() {
    let cases: &[(&[u8], Malformed)] = &[
        (&[0x1c], Malformed::Reserved),
        (&[0x1f], Malformed::Reserved),
        (&[0xdf, 0x01], Malformed::Reserved),
        (&[0xff], Malformed::Break),
        (&[0x81, 0xff], Malformed::Break),
        (&[0x19, 0x01], Malformed::End),
    ];
    for (bytes, expected) in cases {
        assert!(matches!(item_length(bytes), Err(WalkError::Malformed(found)) if found == *expected), "{bytes:?}");
    }
    let mut deep = vec![0x81; MAX_DEPTH + 1];
    deep.push(0x00);
    assert!(matches!(item_length(&deep), Err(WalkError::Malformed(Malformed::TooDeep))));
    let mut deep_enough = vec![0x81; MAX_DEPTH];
    deep_enough.push(0x00);
    assert_eq!(item_length(&deep_enough).ok(), Some(deep_enough.len()));
}
