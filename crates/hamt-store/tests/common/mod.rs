//! Helpers shared by hamt-store's test suites: blocks written by hand, byte by byte (so that the tests do not
//! depend on the encoder they check), and a small seeded random number generator.

// Each suite uses some of these helpers; the others are dead code in that suite's crate.
#![allow(dead_code, reason = "each test suite uses only some of the shared helpers")]

use hamt_store::Cid;

/// A CBOR head in its shortest form (arguments up to 16 bits, all these tests need).
pub(crate) fn head(out: &mut Vec<u8>, major: u8, value: usize) {
    let major = major << 5;
    match value {
        0..=23 => out.push(major | value as u8),
        24..=0xff => out.extend([major | 24, value as u8]),
        _ => {
            out.push(major | 25);
            out.extend((value as u16).to_be_bytes());
        }
    }
}

/// A link in DAG-CBOR's CID form: tag 42 around a zero byte and the CID.
pub(crate) fn link(out: &mut Vec<u8>, cid: &Cid) {
    let bytes = cid.to_bytes();
    out.extend([0xd8, 0x2a]);
    head(out, 2, bytes.len() + 1);
    out.push(0);
    out.extend(bytes);
}

/// A node of 256 slots, all empty but `slot`, which holds the encoded `item`.
pub(crate) fn node_with(slot: u8, item: &[u8]) -> Vec<u8> {
    let mut out = vec![0x99, 0x01, 0x00];
    out.extend(std::iter::repeat_n(0xa0, usize::from(slot)));
    out.extend(item);
    out.extend(std::iter::repeat_n(0xa0, 255 - usize::from(slot)));
    out
}

/// The item of a bucket of one key.
pub(crate) fn bucket_of(key: &str, value: &Cid) -> Vec<u8> {
    let mut out = Vec::new();
    head(&mut out, 5, 1);
    head(&mut out, 3, key.len());
    out.extend(key.as_bytes());
    link(&mut out, value);
    out
}

/// The item of a child link slot: an array of one link.
pub(crate) fn link_item(child: &Cid) -> Vec<u8> {
    let mut out = vec![0x81];
    link(&mut out, child);
    out
}

/// A seeded xorshift generator, so that a failing case reproduces from its seed.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    /// A number below `bound`.
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % bound
    }
}
