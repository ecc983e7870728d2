//! Reads one provider answer off the wire, framed by the pure codec in
//! `http1` (Content-Length, chunked, or until close), into one buffer, with
//! every byte read counted against one bound.

use pingora::protocols::Stream;
use pingora::{Error, ErrorType};
use tokio::io::AsyncReadExt;

use quirkgate_core::http1::chunked::{ChunkedDecoder, Chunks};
use quirkgate_core::http1::provider_answer::{
    parse_answer_head, status_kind, AnswerError, BodyFraming, StatusKind, MAX_ANSWER_BYTES,
    MAX_ANSWER_HEAD_BYTES, MAX_ANSWER_WIRE_BYTES, MAX_INTERIM_ANSWERS,
};
use quirkgate_core::http1::ProviderAnswer;

/// Reads more of the answer; `Ok(0)` is end of stream.
async fn read_more(stream: &mut Stream, received: &mut Vec<u8>) -> Result<usize, Box<Error>> {
    if received.capacity() - received.len() < 2048 {
        received.reserve(4096);
    }
    stream
        .read_buf(received)
        .await
        .map_err(|e| Error::because(ErrorType::ReadError, "reading the provider's answer", e))
}

fn closed_early() -> Box<Error> {
    Error::explain(
        ErrorType::ConnectionClosed,
        "the provider closed the connection before its answer was complete",
    )
}

/// The codec's verdict as Pingora's error type, which the retry policy reads.
fn answer_error(error: AnswerError) -> Box<Error> {
    match error {
        AnswerError::Malformed(why) => Error::explain(ErrorType::InvalidHTTPHeader, why),
        AnswerError::TooLarge => Error::explain(
            ErrorType::H1Error,
            "provider answer exceeds the gateway's buffer",
        ),
    }
}

/// Counts bytes read for one answer against `MAX_ANSWER_WIRE_BYTES`.
fn count(wire_bytes: &mut usize, read: usize) -> Result<(), Box<Error>> {
    *wire_bytes += read;
    if *wire_bytes > MAX_ANSWER_WIRE_BYTES {
        return Err(answer_error(AnswerError::TooLarge));
    }
    Ok(())
}

/// Reads one whole answer (skipping at most `MAX_INTERIM_ANSWERS` interim
/// 1xx answers) from `stream`, and whether the connection can carry another
/// exchange. Every byte read counts against `MAX_ANSWER_WIRE_BYTES`; chunked
/// bodies are decoded as they arrive and their framing is not kept.
pub async fn read_answer(stream: &mut Stream) -> Result<(ProviderAnswer, bool), Box<Error>> {
    let mut received = Vec::with_capacity(4096);
    let mut wire_bytes = 0;
    let mut interim = 0;
    // The head is parsed again only when a line may have ended since.
    let mut new_line = false;
    let head = loop {
        if new_line || received.len() > MAX_ANSWER_HEAD_BYTES {
            match parse_answer_head(&received).map_err(answer_error)? {
                Some(head) => match status_kind(head.status).map_err(answer_error)? {
                    StatusKind::Final => break head,
                    StatusKind::Interim => {
                        interim += 1;
                        if interim > MAX_INTERIM_ANSWERS {
                            return Err(answer_error(AnswerError::Malformed(
                                "provider sent too many interim answers",
                            )));
                        }
                        received.drain(..head.len);
                        new_line = true;
                        continue;
                    }
                },
                None => {}
            }
        }
        let before = received.len();
        let read = read_more(stream, &mut received).await?;
        if read == 0 {
            return Err(closed_early());
        }
        count(&mut wire_bytes, read)?;
        new_line = received[before..].contains(&b'\n');
    };
    // Where the body sits in `received` (or its bytes, when chunks were
    // decoded), and whether the provider sent anything after the answer.
    let (raw_body, decoded, trailing) = match head.framing {
        BodyFraming::Empty => (head.len..head.len, None, received.len() > head.len),
        BodyFraming::Length(length) => {
            if length > MAX_ANSWER_BYTES {
                return Err(answer_error(AnswerError::TooLarge));
            }
            while received.len() < head.len + length {
                let read = read_more(stream, &mut received).await?;
                if read == 0 {
                    return Err(closed_early());
                }
                count(&mut wire_bytes, read)?;
            }
            let end = head.len + length;
            (head.len..end, None, received.len() > end)
        }
        BodyFraming::Chunked => {
            let mut decoder = ChunkedDecoder::new();
            let mut body = Vec::new();
            let mut chunks = decoder
                .feed(&received[head.len..], &mut body)
                .map_err(answer_error)?;
            let mut trailing =
                matches!(chunks, Chunks::Complete(used) if head.len + used < received.len());
            // Framing is not kept: only the head stays in `received`, and each
            // read lands in its spare capacity (no buffer held across the
            // await, which would grow every connection's task).
            received.truncate(head.len);
            while chunks == Chunks::Partial {
                let read = read_more(stream, &mut received).await?;
                if read == 0 {
                    return Err(closed_early());
                }
                count(&mut wire_bytes, read)?;
                chunks = decoder
                    .feed(&received[head.len..], &mut body)
                    .map_err(answer_error)?;
                trailing = matches!(chunks, Chunks::Complete(used) if used < read);
                received.truncate(head.len);
            }
            (head.len..head.len, Some(body), trailing)
        }
        BodyFraming::UntilClose => {
            loop {
                let read = read_more(stream, &mut received).await?;
                if read == 0 {
                    break;
                }
                count(&mut wire_bytes, read)?;
                if received.len() - head.len > MAX_ANSWER_BYTES {
                    return Err(answer_error(AnswerError::TooLarge));
                }
            }
            (head.len..received.len(), None, false)
        }
    };
    // Anything after the answer: the connection cannot be trusted again.
    let reusable = head.keep_alive && !trailing;
    // Content type and body are views of the bytes read: no copies.
    let received = bytes::Bytes::from(received);
    let answer = ProviderAnswer {
        status: head.status,
        content_type: head.content_type.map(|range| received.slice(range)),
        body: decoded.map_or_else(|| received.slice(raw_body), bytes::Bytes::from),
    };
    Ok((answer, reusable))
}
