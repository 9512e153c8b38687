use super::*;

/// The names in `CARRIED_EXACTLY` are what this compiler's `type_name` returns: if they stopped matching, the fast
/// path would silently be lost (safe, but slow), so the test says so.
#[test]
fn the_types_carried_exactly_are_recognised() {
    assert!(!must_read_back::<bool>());
    assert!(!must_read_back::<char>());
    assert!(!must_read_back::<u8>() && !must_read_back::<u64>() && !must_read_back::<usize>());
    assert!(!must_read_back::<i8>() && !must_read_back::<i64>() && !must_read_back::<isize>());
    assert!(!must_read_back::<()>());
    assert!(!must_read_back::<String>());
}

/// Everything else is read back: floats (NaN is not equal to itself), containers (their element types may not fit),
/// and every type of a user's or another crate's.
#[test]
fn other_types_are_read_back() {
    assert!(must_read_back::<f32>() && must_read_back::<f64>());
    assert!(must_read_back::<u128>() && must_read_back::<i128>());
    assert!(must_read_back::<Option<u64>>());
    assert!(must_read_back::<Vec<u8>>());
    assert!(must_read_back::<(u64, u64)>());
    assert!(must_read_back::<serde_json::Value>());
    #[derive(PartialEq)]
    struct String;
    assert!(must_read_back::<String>(), "a type that shares std's String's last name");
}

/// A sink writes the same bytes whether it reads items back or not.
#[test]
fn reading_back_does_not_change_the_bytes() {
    for body in [Body::Compact, Body::SelfDescribing] {
        let mut checked = Sink::buffer(body);
        let mut unchecked = Sink::buffer(body);
        for value in [0u64, 1, 127, 128, u64::MAX] {
            checked.item(Part::Key, &value, true).expect("writes");
            unchecked.item(Part::Key, &value, false).expect("writes");
        }
        assert_eq!(checked.finish().expect("a buffer"), unchecked.finish().expect("a buffer"));
    }
}
