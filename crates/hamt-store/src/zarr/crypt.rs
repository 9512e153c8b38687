//! Value encryption compatible with py-hamt's `SimpleEncryptedZarrHAMTStore`.
//!
//! py-hamt encrypts each value with XChaCha20-Poly1305 (a 32-byte key, a fresh random 24-byte nonce, the user's
//! header as associated data) and stores `nonce (24) || tag (16) || ciphertext`. RustCrypto's AEAD puts the tag
//! after the ciphertext, so the detached form is used here to write py-hamt's order.

use std::fmt;

use chacha20poly1305::aead::{AeadInOut, Generate, KeyInit};
use chacha20poly1305::{Tag, XChaCha20Poly1305, XNonce};

/// The length of the random nonce at the start of every encrypted value.
pub const NONCE_LEN: usize = 24;
/// The length of the Poly1305 tag after the nonce.
pub const TAG_LEN: usize = 16;
/// How many bytes encryption adds to a value: the nonce and the tag.
pub const OVERHEAD: usize = NONCE_LEN + TAG_LEN;

/// A key and header for values encrypted as py-hamt's `SimpleEncryptedZarrHAMTStore` encrypts them:
/// XChaCha20-Poly1305, a random 24-byte nonce per value, the header as associated data, stored as
/// `nonce || tag || ciphertext`.
///
/// **What it protects:** the contents of every value (chunks and `zarr.json` metadata alike), and their
/// integrity: a value changed in any byte, or read with another key or header, fails to decrypt
/// ([`DecryptError::Authentication`]).
///
/// **What it leaves visible:** the map's keys, which stay plain text in the nodes (array names, the chunk grid and
/// so which chunks exist), each value's length (the plaintext's plus 40 bytes), and the map's shape. It does not
/// stop a value from being replaced by another value encrypted under the same key and header, for instance one of
/// an older version: the key a value is stored under is not bound into the encryption (py-hamt's layout has no room
/// for it).
///
/// **What it costs:** the nonce is random, so the same plaintext encrypts to different bytes each time: equal
/// chunks are no longer stored once, and writing the same data twice gives two different roots. An unencrypted map
/// deduplicates both.
///
/// The key is never printed: `Debug` shows only the header's length.
///
/// # Examples
///
/// ```
/// use hamt_store::zarr::{DecryptError, Encryption};
///
/// let encryption = Encryption::new([7; 32], b"my data set".to_vec());
/// let stored = encryption.encrypt(b"a chunk")?;
/// assert_eq!(stored.len(), b"a chunk".len() + 40);
/// assert_eq!(encryption.decrypt(&stored)?, b"a chunk");
///
/// let wrong_key = Encryption::new([8; 32], b"my data set".to_vec());
/// assert_eq!(wrong_key.decrypt(&stored), Err(DecryptError::Authentication));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Encryption {
    cipher: XChaCha20Poly1305,
    header: Vec<u8>,
}

impl Encryption {
    /// Values encrypted with the 32-byte `key`, authenticated with `header` as associated data (py-hamt's
    /// `encryption_key` and `header`).
    ///
    /// # Examples
    ///
    /// See [`Encryption`].
    pub fn new(key: [u8; 32], header: Vec<u8>) -> Self {
        Self { cipher: XChaCha20Poly1305::new(&key.into()), header }
    }

    /// The header given as associated data.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::zarr::Encryption;
    ///
    /// assert_eq!(Encryption::new([0; 32], b"h".to_vec()).header(), b"h");
    /// ```
    pub fn header(&self) -> &[u8] {
        &self.header
    }

    /// `plaintext` encrypted under a fresh random nonce, as py-hamt stores it: `nonce || tag || ciphertext`.
    ///
    /// # Errors
    ///
    /// [`EncryptError::Random`] if the operating system cannot provide random bytes for the nonce, and
    /// [`EncryptError::TooLong`] for a plaintext longer than XChaCha20 can encrypt (256 GiB).
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::zarr::Encryption;
    ///
    /// let encryption = Encryption::new([1; 32], Vec::new());
    /// // A random nonce: the same plaintext encrypts differently each time.
    /// assert_ne!(encryption.encrypt(b"x")?, encryption.encrypt(b"x")?);
    /// # Ok::<(), hamt_store::zarr::EncryptError>(())
    /// ```
    pub fn encrypt(&self, plaintext: &[u8]) -> Result<Vec<u8>, EncryptError> {
        let nonce = XNonce::try_generate().map_err(|_| EncryptError::Random)?;
        let mut stored = Vec::with_capacity(OVERHEAD + plaintext.len());
        stored.extend_from_slice(&nonce);
        stored.extend_from_slice(&[0; TAG_LEN]);
        stored.extend_from_slice(plaintext);
        let (head, ciphertext) = stored.split_at_mut(OVERHEAD);
        let tag = self
            .cipher
            .encrypt_inout_detached(&nonce, &self.header, ciphertext.into())
            .map_err(|_| EncryptError::TooLong)?;
        head[NONCE_LEN..].copy_from_slice(&tag);
        Ok(stored)
    }

    /// The plaintext of a value `encrypt` (or py-hamt) wrote.
    ///
    /// # Errors
    ///
    /// [`DecryptError::TooShort`] if `stored` cannot hold a nonce and a tag, [`DecryptError::Authentication`] if
    /// the tag does not match: a wrong key or header, or bytes changed since they were written.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::zarr::{DecryptError, Encryption};
    ///
    /// let encryption = Encryption::new([1; 32], b"header".to_vec());
    /// let mut stored = encryption.encrypt(b"values")?;
    /// stored[45] ^= 1;
    /// assert_eq!(encryption.decrypt(&stored), Err(DecryptError::Authentication));
    /// assert_eq!(encryption.decrypt(&stored[..39]), Err(DecryptError::TooShort { len: 39 }));
    /// # Ok::<(), hamt_store::zarr::EncryptError>(())
    /// ```
    pub fn decrypt(&self, stored: &[u8]) -> Result<Vec<u8>, DecryptError> {
        if stored.len() < OVERHEAD {
            return Err(DecryptError::TooShort { len: stored.len() });
        }
        let (nonce, rest) = stored.split_at(NONCE_LEN);
        let (tag, ciphertext) = rest.split_at(TAG_LEN);
        let (Ok(nonce), Ok(tag)) = (<&XNonce>::try_from(nonce), <&Tag>::try_from(tag)) else {
            // The splits above give exactly these lengths.
            return Err(DecryptError::TooShort { len: stored.len() });
        };
        let mut plaintext = ciphertext.to_vec();
        self.cipher
            .decrypt_inout_detached(nonce, &self.header, plaintext.as_mut_slice().into(), tag)
            .map_err(|_| DecryptError::Authentication)?;
        Ok(plaintext)
    }
}

impl fmt::Debug for Encryption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encryption").field("key", &"(hidden)").field("header_len", &self.header.len()).finish()
    }
}

/// Why a value could not be encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncryptError {
    /// The operating system's random source failed, so there is no nonce.
    Random,
    /// The value is longer than XChaCha20 can encrypt under one nonce.
    TooLong,
}

impl fmt::Display for EncryptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncryptError::Random => f.write_str("no random bytes for a nonce"),
            EncryptError::TooLong => f.write_str("the value is too long to encrypt"),
        }
    }
}

impl std::error::Error for EncryptError {}

/// Why a stored value could not be decrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecryptError {
    /// The value is shorter than the nonce and tag every encrypted value starts with (it was truncated, or never
    /// encrypted).
    TooShort {
        /// The value's length.
        len: usize,
    },
    /// The tag does not match: the key or header is not the one the value was encrypted with, or the value was
    /// changed.
    Authentication,
}

impl fmt::Display for DecryptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecryptError::TooShort { len } => {
                write!(f, "an encrypted value of {len} bytes is shorter than its {OVERHEAD}-byte nonce and tag")
            }
            DecryptError::Authentication => {
                f.write_str("the value does not authenticate: wrong key or header, or the value was changed")
            }
        }
    }
}

impl std::error::Error for DecryptError {}
