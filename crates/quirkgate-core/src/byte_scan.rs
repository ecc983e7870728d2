//! Finding the next byte that matters, eight bytes at a time: form bodies and
//! JSON answers are mostly runs of bytes the parsers only step over.
//!
//! Each test flags the bytes it is after in their top bit. A borrow can only
//! flag a byte after a true hit, and the lowest flagged byte is the first in
//! memory (little-endian load), so the first flagged byte is exactly the
//! first byte to stop at.

const ONES: u64 = u64::from_le_bytes([1; 8]);
const TOPS: u64 = ONES << 7;

/// Flags the bytes of `word` equal to `byte`.
pub(crate) fn equal_to(word: u64, byte: u8) -> u64 {
    let x = word ^ (ONES * u64::from(byte));
    x.wrapping_sub(ONES) & !x
}

/// Flags the bytes of `word` below `bound` (at most 0x80).
pub fn below(word: u64, bound: u8) -> u64 {
    word.wrapping_sub(ONES * u64::from(bound)) & !word
}

/// The index of the first byte at or after `at` that `stops` flags, or
/// `bytes.len()`. `stops` combines `equal_to` and `below`.
pub(crate) fn next_stop(bytes: &[u8], mut at: usize, stops: impl Fn(u64) -> u64) -> usize {
    while let Some(chunk) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let flagged = stops(word) & TOPS;
        if flagged != 0 {
            return at + flagged.trailing_zeros() as usize / 8;
        }
        at += 8;
    }
    // Fewer than eight left: one at a time, each alone in the lowest byte.
    while let Some(&byte) = bytes.get(at) {
        if stops(u64::from(byte)) & 0x80 != 0 {
            break;
        }
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stop(word: u64) -> u64 {
        equal_to(word, b'"') | equal_to(word, b'\\') | below(word, 0x20)
    }

    #[test]
    fn finds_the_first_stop_byte_at_every_offset_among_every_other_byte() {
        let stops = |b: u8| b == b'"' || b == b'\\' || b < 0x20;
        for len in 0..24 {
            for filler in (0..=255u8).filter(|&b| !stops(b)) {
                for at in 0..=len {
                    for stop_byte in [b'"', b'\\', 0x00, 0x1F, b'\n'] {
                        let mut bytes = vec![filler; len];
                        if at < len {
                            bytes[at] = stop_byte;
                            // Bytes after the first stop may be anything.
                            for later in bytes.iter_mut().skip(at + 1).step_by(3) {
                                *later = 0;
                            }
                        }
                        let expected = bytes.iter().position(|&b| stops(b)).unwrap_or(len);
                        assert_eq!(next_stop(&bytes, 0, stop), expected, "{bytes:?}");
                        if len > 0 {
                            assert_eq!(next_stop(&bytes, 1, stop), expected.max(1));
                        }
                    }
                }
            }
        }
    }
}
