//! The extent of one CBOR data item (RFC 8949, section 3), found from its headers alone, before ciborium decodes it.
//!
//! The walk checks every length an item claims (a string's bytes, an array's or a map's items) against the bytes
//! that are left, so that ciborium, and the `Deserialize` implementations it calls (which reserve room from
//! `size_hint`), are only ever given claims the input can back. It needs no recursion (a stack of open containers,
//! at most [`MAX_DEPTH`] deep) and allocates nothing in proportion to a claim.

use std::fmt;

use crate::error::DecodeError;

/// The deepest nesting of arrays, maps and tags accepted: ciborium's own recursion limit.
pub(crate) const MAX_DEPTH: usize = 256;

/// Why an item's extent could not be found.
pub(crate) enum WalkError {
    /// A string, array or map claims more than the bytes left could hold.
    TooLong {
        claimed: u64,
        remaining: usize,
    },
    Malformed(Malformed),
}

impl WalkError {
    /// The error as met in the record of `version`.
    pub(crate) fn at(self, version: usize) -> DecodeError {
        match self {
            WalkError::TooLong { claimed, remaining } => DecodeError::LengthTooLarge { version, claimed, remaining },
            WalkError::Malformed(malformed) => DecodeError::Entry { version, error: Box::new(malformed) },
        }
    }
}

/// Bytes that are not a well-formed CBOR item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Malformed {
    /// The input ends inside the item.
    End,
    /// An additional-information value that RFC 8949 reserves (28 to 30), or an indefinite length where the major
    /// type has none.
    Reserved,
    /// A "break" byte outside an indefinite-length container.
    Break,
    /// Containers nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// The decoder stopped before the end of the item.
    Unread,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Malformed::End => "the input ends inside a CBOR item",
            Malformed::Reserved => "a CBOR header uses a reserved or invalid additional-information value",
            Malformed::Break => "a CBOR break byte outside an indefinite-length item",
            Malformed::TooDeep => "CBOR items nested more than 256 deep",
            Malformed::Unread => "the decoder did not read the whole CBOR item",
        })
    }
}

impl std::error::Error for Malformed {}

/// What remains to be read of an open container.
#[derive(Clone, Copy)]
enum Open {
    /// This many more items (an array's elements, twice a map's pairs, a tag's one item).
    Items(u64),
    /// Items until a break byte (an indefinite-length string, array or map).
    UntilBreak,
}

/// The number of bytes the CBOR item at the start of `bytes` takes.
pub(crate) fn item_length(bytes: &[u8]) -> Result<usize, WalkError> {
    let mut open: Vec<Open> = Vec::new();
    let mut position = 0;
    loop {
        let &initial = bytes.get(position).ok_or(WalkError::Malformed(Malformed::End))?;
        position += 1;
        let (major, info) = (initial >> 5, initial & 0x1f);
        // Whether this header opened a container (whose items follow) or completed an item.
        let mut opened = None;
        if initial == 0xff {
            match open.pop() {
                Some(Open::UntilBreak) => {}
                _ => return Err(WalkError::Malformed(Malformed::Break)),
            }
        } else {
            let argument = argument(bytes, &mut position, info)?;
            let remaining = bytes.len() - position;
            let fits = |claimed: u64, per_item: u64| {
                if claimed.saturating_mul(per_item) <= remaining as u64 {
                    Ok(claimed.saturating_mul(per_item))
                } else {
                    Err(WalkError::TooLong { claimed, remaining })
                }
            };
            match (major, argument) {
                (0 | 1 | 7, Some(_)) => {}
                (2 | 3, Some(length)) => position += fits(length, 1)? as usize,
                (2..=5, None) => opened = Some(Open::UntilBreak),
                (4, Some(count)) => opened = Some(Open::Items(fits(count, 1)?)),
                (5, Some(count)) => opened = Some(Open::Items(fits(count, 2)?)),
                (6, Some(_)) => opened = Some(Open::Items(1)),
                _ => return Err(WalkError::Malformed(Malformed::Reserved)),
            }
        }
        match opened {
            Some(Open::Items(0)) => {}
            Some(container) => {
                if open.len() == MAX_DEPTH {
                    return Err(WalkError::Malformed(Malformed::TooDeep));
                }
                open.push(container);
                continue;
            }
            None => {}
        }
        // An item is complete: count it against the container it is in, closing every container it completes.
        loop {
            match open.last_mut() {
                None => return Ok(position),
                Some(Open::UntilBreak) => break,
                Some(Open::Items(left)) => {
                    *left -= 1;
                    if *left > 0 {
                        break;
                    }
                    open.pop();
                }
            }
        }
    }
}

/// Reads a header's argument after its initial byte: `Some(value)`, or `None` for an indefinite length
/// (additional information 31). For major type 7, the argument is a simple value or the bits of a float.
fn argument(bytes: &[u8], position: &mut usize, info: u8) -> Result<Option<u64>, WalkError> {
    let width = match info {
        0..=23 => return Ok(Some(u64::from(info))),
        24 => 1,
        25 => 2,
        26 => 4,
        27 => 8,
        31 => return Ok(None),
        _ => return Err(WalkError::Malformed(Malformed::Reserved)),
    };
    let field = bytes.get(*position..*position + width).ok_or(WalkError::Malformed(Malformed::End))?;
    *position += width;
    Ok(Some(field.iter().fold(0u64, |value, &byte| value << 8 | u64::from(byte))))
}

#[cfg(test)]
mod tests;
