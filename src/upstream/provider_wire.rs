//! Reads one provider answer off the wire, framed by the pure codec in
//! `http1` (Content-Length, chunked, or until close), into one buffer.

use pingora::protocols::Stream;
use pingora::{Error, ErrorType};
use tokio::io::AsyncReadExt;

use crate::http1::chunked::{decode_chunked, Chunks};
use crate::http1::provider_answer::{
    parse_answer_head, AnswerError, BodyFraming, MAX_ANSWER_BYTES,
};
use crate::http1::ProviderAnswer;

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

/// Reads one whole answer (skipping interim 1xx answers) from `stream`, and
/// whether the connection can carry another exchange.
pub async fn read_answer(stream: &mut Stream) -> Result<(ProviderAnswer, bool), Box<Error>> {
    let mut received = Vec::with_capacity(4096);
    let head = loop {
        match parse_answer_head(&received).map_err(answer_error)? {
            Some(head) if (100..200).contains(&head.status) && head.status != 101 => {
                received.drain(..head.len);
                continue;
            }
            Some(head) if head.status == 101 => {
                return Err(answer_error(AnswerError::Malformed(
                    "provider switched protocols",
                )))
            }
            Some(head) => break head,
            None => {}
        }
        if read_more(stream, &mut received).await? == 0 {
            return Err(closed_early());
        }
    };
    // Where the body sits in `received`, and its bytes when chunks were decoded.
    let (raw_body, decoded) = match head.framing {
        BodyFraming::Empty => (head.len..head.len, None),
        BodyFraming::Length(length) => {
            if length > MAX_ANSWER_BYTES {
                return Err(answer_error(AnswerError::TooLarge));
            }
            while received.len() < head.len + length {
                if read_more(stream, &mut received).await? == 0 {
                    return Err(closed_early());
                }
            }
            (head.len..head.len + length, None)
        }
        BodyFraming::Chunked => {
            let mut body = Vec::new();
            loop {
                match decode_chunked(&received[head.len..], &mut body).map_err(answer_error)? {
                    Chunks::Complete(used) => break (head.len..head.len + used, Some(body)),
                    Chunks::Partial => {
                        if read_more(stream, &mut received).await? == 0 {
                            return Err(closed_early());
                        }
                    }
                }
            }
        }
        BodyFraming::UntilClose => {
            while read_more(stream, &mut received).await? > 0 {
                if received.len() - head.len > MAX_ANSWER_BYTES {
                    return Err(answer_error(AnswerError::TooLarge));
                }
            }
            (head.len..received.len(), None)
        }
    };
    // Anything after the answer: the connection cannot be trusted again.
    let reusable = head.keep_alive && received.len() == raw_body.end;
    // Content type and body are views of the bytes read: no copies.
    let received = bytes::Bytes::from(received);
    let answer = ProviderAnswer {
        status: head.status,
        content_type: head.content_type.map(|range| received.slice(range)),
        body: decoded.map_or_else(|| received.slice(raw_body), bytes::Bytes::from),
    };
    Ok((answer, reusable))
}
