//! The pure byte handling under the edge TLS stream: no socket, no rustls,
//! no clock. What a connection keeps between polls lives here, each piece
//! sized exactly and released when it empties, so an idle connection holds
//! no buffer at all:
//! - [`Carry`]: received TLS bytes rustls has not consumed yet (a record
//!   still arriving, or a handshake message spread over records);
//! - [`PendingPlaintext`]: decrypted bytes the caller's buffer could not take;
//! - [`PendingTls`]: sealed records the socket has not taken yet.
//!
//! Also here: the output buffer records are sealed into ([`OutBuffer`]), the
//! coalescing of a vectored write into one record's plaintext
//! ([`coalesce`]), and, for the tests and the fuzz target, a record splitter
//! that checks headers as rustls does (`complete_records`): the oracle for
//! what the session must carry and what it must refuse.

#[cfg(any(test, feature = "fuzzing"))]
use std::fmt;
use std::io::IoSlice;

/// A TLS record header: content type, protocol version, payload length.
pub(crate) const RECORD_HEADER_LEN: usize = 5;

/// The most plaintext one record carries (RFC 8446 5.1, RFC 5246 6.2.1).
pub(crate) const MAX_PLAINTEXT_PER_RECORD: usize = 16 * 1024;

/// The largest payload rustls accepts in a received record: 2^14 plus the
/// 2,048 bytes of expansion TLS 1.2 allows, exclusive (rustls refuses a
/// payload of exactly 2^14 + 2,048).
pub(crate) const MAX_RECORD_PAYLOAD: usize = MAX_PLAINTEXT_PER_RECORD + 2048 - 1;

/// The largest record on the wire, header included: room for one read.
pub(crate) const MAX_RECORD_ON_WIRE: usize = RECORD_HEADER_LEN + MAX_RECORD_PAYLOAD;

/// The most received bytes rustls may leave unconsumed: a handshake message
/// (at most 64 KiB, rustls's limit) joined from fragments, plus a record
/// still arriving behind it. A connection whose carry would exceed this is
/// refused rather than allowed to grow.
pub(crate) const MAX_CARRY: usize = 0xffff + 4 + 2 * MAX_RECORD_ON_WIRE;

#[cfg(any(test, feature = "fuzzing"))]
/// Why a record header is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RecordError {
    /// A content type TLS does not define (change_cipher_spec, alert,
    /// handshake and application_data are the only ones accepted).
    UnknownContentType(u8),
    /// A protocol version outside 3.x.
    UnknownVersion(u16),
    /// A payload longer than any record may carry.
    Oversized(usize),
    /// An empty payload in a record that is not application data.
    EmptyPayload,
}

#[cfg(any(test, feature = "fuzzing"))]
impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::UnknownContentType(t) => write!(f, "unknown record content type {t}"),
            RecordError::UnknownVersion(v) => write!(f, "unknown record version {v:#06x}"),
            RecordError::Oversized(len) => write!(f, "record payload of {len} bytes is too long"),
            RecordError::EmptyPayload => f.write_str("empty record payload"),
        }
    }
}

#[cfg(any(test, feature = "fuzzing"))]
impl std::error::Error for RecordError {}

#[cfg(any(test, feature = "fuzzing"))]
const CHANGE_CIPHER_SPEC: u8 = 20;
#[cfg(any(test, feature = "fuzzing"))]
const ALERT: u8 = 21;
#[cfg(any(test, feature = "fuzzing"))]
const HANDSHAKE: u8 = 22;
#[cfg(any(test, feature = "fuzzing"))]
const APPLICATION_DATA: u8 = 23;

#[cfg(any(test, feature = "fuzzing"))]
/// One record's header, checked as rustls checks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RecordHeader {
    pub(crate) content_type: u8,
    pub(crate) payload_len: usize,
}

#[cfg(any(test, feature = "fuzzing"))]
impl RecordHeader {
    /// The header at the start of `bytes`: `Ok(None)` while fewer than five
    /// bytes have arrived.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Option<RecordHeader>, RecordError> {
        let Some(header) = bytes.get(..RECORD_HEADER_LEN) else {
            return Ok(None);
        };
        let content_type = header[0];
        if !matches!(
            content_type,
            CHANGE_CIPHER_SPEC | ALERT | HANDSHAKE | APPLICATION_DATA
        ) {
            return Err(RecordError::UnknownContentType(content_type));
        }
        let version = u16::from_be_bytes([header[1], header[2]]);
        if version & 0xff00 != 0x0300 {
            return Err(RecordError::UnknownVersion(version));
        }
        let payload_len = usize::from(u16::from_be_bytes([header[3], header[4]]));
        if payload_len > MAX_RECORD_PAYLOAD {
            return Err(RecordError::Oversized(payload_len));
        }
        if payload_len == 0 && content_type != APPLICATION_DATA {
            return Err(RecordError::EmptyPayload);
        }
        Ok(Some(RecordHeader {
            content_type,
            payload_len,
        }))
    }

    /// The record's length on the wire, header included.
    pub(crate) fn wire_len(&self) -> usize {
        RECORD_HEADER_LEN + self.payload_len
    }
}

#[cfg(any(test, feature = "fuzzing"))]
/// How far a run of received bytes holds whole records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CompleteRecords {
    /// The whole records, counted from the start.
    pub(crate) count: usize,
    /// Their bytes: `bytes[..len]` is whole records, `bytes[len..]` a record
    /// still arriving (or nothing).
    pub(crate) len: usize,
    /// How many more bytes the record still arriving needs (its header's
    /// missing bytes only, while the header is incomplete); 0 when none is.
    pub(crate) missing: usize,
}

#[cfg(any(test, feature = "fuzzing"))]
/// Splits received bytes (not yet decrypted) at record boundaries; the first
/// bad header is an error, whatever follows it.
pub(crate) fn complete_records(bytes: &[u8]) -> Result<CompleteRecords, RecordError> {
    let mut at = 0;
    let mut count = 0;
    loop {
        let rest = &bytes[at..];
        match RecordHeader::parse(rest)? {
            None => {
                let missing = if rest.is_empty() {
                    0
                } else {
                    RECORD_HEADER_LEN - rest.len()
                };
                return Ok(CompleteRecords {
                    count,
                    len: at,
                    missing,
                });
            }
            Some(header) if header.wire_len() > rest.len() => {
                return Ok(CompleteRecords {
                    count,
                    len: at,
                    missing: header.wire_len() - rest.len(),
                });
            }
            Some(header) => {
                at += header.wire_len();
                count += 1;
            }
        }
    }
}

/// Received TLS bytes rustls has not consumed: kept between polls in a
/// buffer of exactly their size, none at all when there are none.
#[derive(Debug, Default)]
pub(crate) struct Carry {
    bytes: Vec<u8>,
}

/// A carry that would grow past [`MAX_CARRY`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CarryTooLarge(pub(crate) usize);

impl Carry {
    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.bytes
    }

    pub(crate) fn len(&self) -> usize {
        self.bytes.len()
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Bytes the buffer holds, for the memory tests: equal to [`Carry::len`].
    #[cfg(any(test, feature = "fuzzing"))]
    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) fn capacity(&self) -> usize {
        self.bytes.capacity()
    }

    /// Replaces the carry with `unconsumed` (what is left of a buffer that
    /// started with the old carry), sized exactly; an empty one frees it.
    pub(crate) fn keep(&mut self, unconsumed: &[u8]) -> Result<(), CarryTooLarge> {
        if unconsumed.len() > MAX_CARRY {
            self.bytes = Vec::new();
            return Err(CarryTooLarge(unconsumed.len()));
        }
        if unconsumed.is_empty() {
            self.bytes = Vec::new();
        } else if unconsumed != self.bytes.as_slice() {
            // Usually a partial record: a few hundred bytes at most, once.
            self.bytes = unconsumed.to_vec();
        }
        Ok(())
    }

    /// The carry as an owned buffer, leaving none: for driving rustls over
    /// the carry alone (a write, a close), then [`Carry::restore`].
    pub(crate) fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.bytes)
    }

    /// Puts back what [`Carry::take`] gave, `discard` bytes consumed from its
    /// front; sized exactly, or freed.
    pub(crate) fn restore(&mut self, mut bytes: Vec<u8>, discard: usize) {
        let discard = discard.min(bytes.len());
        if discard == bytes.len() {
            self.bytes = Vec::new();
            return;
        }
        if discard > 0 {
            bytes.drain(..discard);
            bytes.shrink_to_fit();
        }
        self.bytes = bytes;
    }
}

/// Where decrypted bytes go: the caller's read buffer, whatever it has room
/// for (a tokio `ReadBuf` in the stream, a `Vec` in tests).
pub(crate) trait PlaintextSink {
    /// Room left.
    fn room(&self) -> usize;
    /// Takes `bytes`, at most [`PlaintextSink::room`] of them.
    fn put(&mut self, bytes: &[u8]);
}

/// A sink with no room: during the handshake everything decrypted (a request
/// sent with the client's Finished) waits in [`PendingPlaintext`].
pub(crate) struct NoRoom;

impl PlaintextSink for NoRoom {
    fn room(&self) -> usize {
        0
    }
    fn put(&mut self, bytes: &[u8]) {
        debug_assert!(bytes.is_empty());
    }
}

impl PlaintextSink for Vec<u8> {
    fn room(&self) -> usize {
        usize::MAX - self.len()
    }
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// Decrypted bytes the caller's buffer could not take yet; released when
/// read out. Bounded by what one read from the socket decrypts to, since
/// the stream reads the socket only once this is empty.
#[derive(Debug, Default)]
pub(crate) struct PendingPlaintext {
    bytes: Vec<u8>,
    read: usize,
}

impl PendingPlaintext {
    pub(crate) fn len(&self) -> usize {
        self.bytes.len() - self.read
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) fn capacity(&self) -> usize {
        self.bytes.capacity()
    }

    /// Gives `plaintext` to `sink` as far as it has room, keeping the rest
    /// behind what is already pending (order is kept: nothing overtakes).
    pub(crate) fn deliver(&mut self, plaintext: &[u8], sink: &mut dyn PlaintextSink) {
        let direct = if self.is_empty() {
            plaintext.len().min(sink.room())
        } else {
            0
        };
        sink.put(&plaintext[..direct]);
        let rest = &plaintext[direct..];
        if !rest.is_empty() {
            if self.is_empty() {
                self.bytes = rest.to_vec();
                self.read = 0;
            } else {
                self.bytes.extend_from_slice(rest);
            }
        }
    }

    /// Moves what is pending into `sink`, as far as it has room.
    pub(crate) fn drain_into(&mut self, sink: &mut dyn PlaintextSink) -> usize {
        let n = self.len().min(sink.room());
        sink.put(&self.bytes[self.read..self.read + n]);
        self.read += n;
        if self.is_empty() {
            self.bytes = Vec::new();
            self.read = 0;
        }
        n
    }
}

/// Sealed records the socket has not taken yet, sent before anything
/// sealed later; released when sent.
#[derive(Debug, Default)]
pub(crate) struct PendingTls {
    bytes: Vec<u8>,
    sent: usize,
}

impl PendingTls {
    pub(crate) fn unsent(&self) -> &[u8] {
        &self.bytes[self.sent..]
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.sent == self.bytes.len()
    }

    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) fn capacity(&self) -> usize {
        self.bytes.capacity()
    }

    /// Queues `sealed` behind what is unsent.
    pub(crate) fn push(&mut self, sealed: &[u8]) {
        if sealed.is_empty() {
            return;
        }
        if self.is_empty() {
            self.bytes = sealed.to_vec();
            self.sent = 0;
        } else {
            self.bytes.extend_from_slice(sealed);
        }
    }

    /// The socket took `n` more bytes.
    pub(crate) fn sent(&mut self, n: usize) {
        self.sent = (self.sent + n).min(self.bytes.len());
        if self.is_empty() {
            self.bytes = Vec::new();
            self.sent = 0;
        }
    }

    /// An output buffer appending to what is unsent (handshake flights and
    /// alerts are encoded straight in here); call [`PendingTls::settle`] after.
    pub(crate) fn out(&mut self) -> OutBuffer<'_> {
        if self.is_empty() {
            self.bytes.clear();
            self.sent = 0;
        }
        let used = self.bytes.len();
        OutBuffer {
            bytes: &mut self.bytes,
            used,
        }
    }

    /// Trims the buffer [`PendingTls::out`] lent to what was written into it.
    pub(crate) fn settle(&mut self, used: usize) {
        self.bytes.truncate(used);
        if self.is_empty() {
            self.bytes = Vec::new();
            self.sent = 0;
        }
    }
}

/// A buffer records are sealed into: `bytes[..used]` written so far, the
/// rest (zeroed once, when the buffer grew) room for more. A per-thread
/// buffer keeps its length between uses, so sealing does not zero it again.
pub(crate) struct OutBuffer<'b> {
    bytes: &'b mut Vec<u8>,
    used: usize,
}

impl<'b> OutBuffer<'b> {
    /// Over a reusable buffer, empty.
    pub(crate) fn reuse(bytes: &'b mut Vec<u8>) -> Self {
        OutBuffer { bytes, used: 0 }
    }

    pub(crate) fn used(&self) -> usize {
        self.used
    }

    #[cfg(test)]
    pub(crate) fn written(&self) -> &[u8] {
        &self.bytes[..self.used]
    }

    /// Room for at least `at_least` more bytes, growing the buffer if needed.
    pub(crate) fn room(&mut self, at_least: usize) -> &mut [u8] {
        let needed = self.used + at_least;
        if self.bytes.len() < needed {
            self.bytes.resize(needed, 0);
        }
        &mut self.bytes[self.used..]
    }

    /// `n` bytes of the room were written.
    pub(crate) fn commit(&mut self, n: usize) {
        self.used = (self.used + n).min(self.bytes.len());
    }
}

/// Copies the first bytes of `slices` into `into`, as many as fit: one
/// record's plaintext from a vectored write. Returns how many were copied.
pub(crate) fn coalesce(slices: &[IoSlice<'_>], into: &mut [u8]) -> usize {
    let mut at = 0;
    for slice in slices {
        if at == into.len() {
            break;
        }
        let n = slice.len().min(into.len() - at);
        into[at..at + n].copy_from_slice(&slice[..n]);
        at += n;
    }
    at
}

/// The one non-empty slice of a vectored write, when there is just one: it
/// is sealed in place, without coalescing.
pub(crate) fn single_slice<'a>(slices: &'a [IoSlice<'a>]) -> Option<&'a [u8]> {
    let mut found: Option<&[u8]> = None;
    for slice in slices.iter().filter(|s| !s.is_empty()) {
        if found.is_some() {
            return None;
        }
        found = Some(slice);
    }
    Some(found.unwrap_or(&[]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(content_type: u8, payload_len: usize) -> Vec<u8> {
        let mut bytes = vec![content_type, 3, 3];
        bytes.extend_from_slice(&(payload_len as u16).to_be_bytes());
        bytes.extend(std::iter::repeat(0xab).take(payload_len));
        bytes
    }

    #[test]
    fn a_header_is_checked_as_rustls_checks_it() {
        assert_eq!(RecordHeader::parse(&[22, 3, 1, 0]), Ok(None));
        assert_eq!(
            RecordHeader::parse(&[22, 3, 1, 0, 5]),
            Ok(Some(RecordHeader {
                content_type: 22,
                payload_len: 5
            }))
        );
        assert_eq!(
            RecordHeader::parse(b"GET / HTTP/1.1"),
            Err(RecordError::UnknownContentType(b'G'))
        );
        assert_eq!(
            RecordHeader::parse(&[23, 2, 0, 0, 1]),
            Err(RecordError::UnknownVersion(0x0200))
        );
        let too_long = (MAX_RECORD_PAYLOAD + 1) as u16;
        let mut header = vec![23, 3, 3];
        header.extend_from_slice(&too_long.to_be_bytes());
        assert_eq!(
            RecordHeader::parse(&header),
            Err(RecordError::Oversized(MAX_RECORD_PAYLOAD + 1))
        );
        assert_eq!(
            RecordHeader::parse(&[22, 3, 3, 0, 0]),
            Err(RecordError::EmptyPayload)
        );
        // An empty application data record is allowed (TLS 1.3 padding).
        assert!(RecordHeader::parse(&[23, 3, 3, 0, 0]).unwrap().is_some());
        // The largest record rustls takes.
        let mut largest = vec![23, 3, 3];
        largest.extend_from_slice(&(MAX_RECORD_PAYLOAD as u16).to_be_bytes());
        assert_eq!(
            RecordHeader::parse(&largest).unwrap().unwrap().wire_len(),
            MAX_RECORD_ON_WIRE
        );
    }

    #[test]
    fn bytes_split_at_record_boundaries_with_what_the_last_one_misses() {
        let mut bytes = record(22, 10);
        bytes.extend(record(23, 3));
        let two = bytes.len();
        bytes.extend(&record(23, 100)[..30]);
        assert_eq!(
            complete_records(&bytes),
            Ok(CompleteRecords {
                count: 2,
                len: two,
                missing: 75
            })
        );
        assert_eq!(
            complete_records(&bytes[..two + 2]),
            Ok(CompleteRecords {
                count: 2,
                len: two,
                missing: 3
            })
        );
        assert_eq!(
            complete_records(&[]),
            Ok(CompleteRecords {
                count: 0,
                len: 0,
                missing: 0
            })
        );
        bytes.truncate(two);
        bytes.extend_from_slice(&[99, 3, 3, 0, 1, 0]);
        assert_eq!(
            complete_records(&bytes),
            Err(RecordError::UnknownContentType(99))
        );
    }

    #[test]
    fn the_carry_is_sized_exactly_and_freed_when_empty() {
        let mut carry = Carry::default();
        assert_eq!(carry.capacity(), 0);
        let mut scratch = vec![0u8; 4096];
        scratch[..3].copy_from_slice(&[22, 3, 1]);
        carry.keep(&scratch[..3]).unwrap();
        assert_eq!(carry.as_slice(), &[22, 3, 1]);
        assert_eq!(carry.capacity(), 3);
        carry.keep(&[]).unwrap();
        assert!(carry.is_empty());
        assert_eq!(carry.capacity(), 0);
        assert_eq!(
            carry.keep(&vec![0; MAX_CARRY + 1]),
            Err(CarryTooLarge(MAX_CARRY + 1))
        );
        assert_eq!(carry.capacity(), 0, "a refused carry holds nothing");
    }

    #[test]
    fn a_taken_carry_comes_back_without_what_was_consumed() {
        let mut carry = Carry::default();
        carry.keep(&[1, 2, 3, 4, 5]).unwrap();
        let taken = carry.take();
        assert!(carry.is_empty());
        carry.restore(taken, 2);
        assert_eq!(carry.as_slice(), &[3, 4, 5]);
        assert_eq!(carry.capacity(), 3);
        let taken = carry.take();
        carry.restore(taken, 0);
        assert_eq!(carry.as_slice(), &[3, 4, 5]);
        let taken = carry.take();
        carry.restore(taken, 99);
        assert_eq!(carry.capacity(), 0);
    }

    /// A caller's buffer with a fixed room.
    struct Room(Vec<u8>, usize);

    impl PlaintextSink for Room {
        fn room(&self) -> usize {
            self.1 - self.0.len()
        }
        fn put(&mut self, bytes: &[u8]) {
            assert!(bytes.len() <= self.room());
            self.0.extend_from_slice(bytes);
        }
    }

    #[test]
    fn plaintext_the_caller_cannot_take_waits_in_order_and_is_freed_when_read() {
        let mut pending = PendingPlaintext::default();
        let mut small = Room(Vec::new(), 4);
        pending.deliver(b"hello world", &mut small);
        assert_eq!(small.0, b"hell");
        assert_eq!(pending.len(), 7);
        // More plaintext lines up behind, even when the caller has room.
        let mut big = Room(Vec::new(), 100);
        pending.deliver(b"!", &mut big);
        assert!(big.0.is_empty(), "nothing overtakes what is pending");
        assert_eq!(pending.drain_into(&mut Room(Vec::new(), 0)), 0);
        assert_eq!(pending.drain_into(&mut big), 8);
        assert_eq!(big.0, b"o world!");
        assert!(pending.is_empty());
        assert_eq!(pending.capacity(), 0);
        // Straight through when nothing is pending.
        pending.deliver(b"abc", &mut big);
        assert_eq!(pending.capacity(), 0);
        assert_eq!(big.0, b"o world!abc");
        let mut none = NoRoom;
        pending.deliver(b"xyz", &mut none);
        assert_eq!(pending.len(), 3);
    }

    #[test]
    fn unsent_records_leave_in_order_and_the_buffer_goes_when_sent() {
        let mut pending = PendingTls::default();
        assert!(pending.is_empty());
        pending.push(b"abcdef");
        pending.sent(2);
        assert_eq!(pending.unsent(), b"cdef");
        pending.push(b"gh");
        assert_eq!(pending.unsent(), b"cdefgh");
        pending.sent(6);
        assert!(pending.is_empty());
        assert_eq!(pending.capacity(), 0);
        pending.sent(5);
        assert!(pending.is_empty());
    }

    #[test]
    fn records_encoded_into_the_pending_buffer_follow_what_is_unsent() {
        let mut pending = PendingTls::default();
        pending.push(b"ab");
        let mut out = pending.out();
        let room = out.room(3);
        room[..3].copy_from_slice(b"cde");
        out.commit(3);
        let used = out.used();
        pending.settle(used);
        assert_eq!(pending.unsent(), b"abcde");
        let out = pending.out();
        let used = out.used();
        pending.settle(used);
        assert_eq!(pending.unsent(), b"abcde");
        pending.sent(5);
        let out = pending.out();
        assert_eq!(out.used(), 0);
        pending.settle(0);
        assert_eq!(pending.capacity(), 0);
    }

    #[test]
    fn an_out_buffer_grows_once_and_is_reused_without_shrinking() {
        let mut bytes = Vec::new();
        let mut out = OutBuffer::reuse(&mut bytes);
        assert!(out.room(100).len() >= 100);
        out.room(100)[..2].copy_from_slice(b"hi");
        out.commit(2);
        assert!(out.room(10).len() >= 10);
        out.commit(1000);
        assert_eq!(out.used(), 100, "a commit past the room is clamped");
        assert_eq!(&out.written()[..2], b"hi");
        let len = bytes.len();
        let out = OutBuffer::reuse(&mut bytes);
        assert_eq!(out.used(), 0);
        assert_eq!(bytes.len(), len);
    }

    #[test]
    fn a_vectored_write_coalesces_into_one_records_plaintext() {
        let head = b"HTTP/1.1 200 OK\r\n\r\n".as_slice();
        let body = b"{}".as_slice();
        let slices = [IoSlice::new(head), IoSlice::new(&[]), IoSlice::new(body)];
        let mut into = [0u8; 64];
        let n = coalesce(&slices, &mut into);
        assert_eq!(&into[..n], b"HTTP/1.1 200 OK\r\n\r\n{}");
        let mut small = [0u8; 5];
        assert_eq!(coalesce(&slices, &mut small), 5);
        assert_eq!(&small, b"HTTP/");
        assert_eq!(single_slice(&slices), None);
        assert_eq!(
            single_slice(&[IoSlice::new(&[]), IoSlice::new(body)]),
            Some(body)
        );
        assert_eq!(single_slice(&[]), Some(&[][..]));
    }
}
