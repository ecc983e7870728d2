//! Bytes for both legs: the provider's request, encoded once and sent as it
//! is on every attempt, and the caller's answer, written in one piece.

use std::borrow::Cow;

use super::fields::push_field;
use super::CallerAnswer;

/// The media type of every answer with a body, whichever front end writes it.
pub const CONTENT_TYPE: (&str, &str) = ("Content-Type", "application/json;charset=UTF-8");

/// Whether an answer says what its body is: all do but an empty redirect.
pub fn has_content_type(answer: &CallerAnswer) -> bool {
    !(answer.body.is_empty() && answer.location.is_some())
}

/// What the provider's request is made of.
pub struct ProviderRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// The upstream URL's own query, kept ahead of the one rules produced.
    pub url_query: &'a str,
    pub rules_query: &'a str,
    /// The provider's `Host`.
    pub authority: &'a str,
    /// A body, sent with `content_type` and an exact Content-Length; `None`
    /// for a request without a body.
    pub body: Option<&'a [u8]>,
    /// The body's media type (a form, or JSON for providers that want it).
    pub content_type: &'a str,
    /// Headers the rules produced: one replaces a default of the same name,
    /// and the last of a name wins.
    pub headers: &'a [(Cow<'a, str>, Cow<'a, str>)],
    pub user_agent: &'a str,
}

/// The provider's request, head and body: its own Host, an exact
/// Content-Length, JSON asked for, then the rules' headers. A target or field
/// that would split the message is refused, with the reason.
pub fn encode_request(request: &ProviderRequest<'_>) -> Result<Vec<u8>, &'static str> {
    let body = request.body.unwrap_or_default();
    let mut wire = Vec::with_capacity(
        256 + request.path.len() + request.url_query.len() + request.rules_query.len() + body.len(),
    );
    wire.extend_from_slice(request.method.as_bytes());
    wire.push(b' ');
    let target_start = wire.len();
    wire.extend_from_slice(request.path.as_bytes());
    let (url_query, rules_query) = (request.url_query, request.rules_query);
    if !url_query.is_empty() || !rules_query.is_empty() {
        wire.push(b'?');
        wire.extend_from_slice(url_query.as_bytes());
        if !url_query.is_empty() && !rules_query.is_empty() {
            wire.push(b'&');
        }
        wire.extend_from_slice(rules_query.as_bytes());
    }
    if !wire[target_start..].iter().all(u8::is_ascii_graphic) {
        return Err("the rewritten request line is not valid HTTP");
    }
    wire.extend_from_slice(b" HTTP/1.1\r\n");
    const BAD_FIELD: &str = "a header is not allowed in HTTP";
    if !push_field(&mut wire, b"Host", request.authority.as_bytes()) {
        return Err(BAD_FIELD);
    }
    if request.body.is_some() {
        push_own_field(&mut wire, ("Content-Type", request.content_type));
        push_number_field(&mut wire, b"Content-Length", body.len());
    }
    let from_rules = |name: &str| {
        request
            .headers
            .iter()
            .any(|(field, _)| field.eq_ignore_ascii_case(name))
    };
    if !from_rules("accept") {
        wire.extend_from_slice(b"Accept: application/json\r\n");
    }
    if !from_rules("user-agent") {
        push_field(&mut wire, b"User-Agent", request.user_agent.as_bytes());
    }
    for (index, (name, value)) in request.headers.iter().enumerate() {
        let replaced_later = request.headers[index + 1..]
            .iter()
            .any(|(later, _)| later.eq_ignore_ascii_case(name));
        if !replaced_later && !push_field(&mut wire, name.as_bytes(), value.as_bytes()) {
            return Err(BAD_FIELD);
        }
    }
    wire.extend_from_slice(b"\r\n");
    wire.extend_from_slice(body);
    Ok(wire)
}

/// HTTP/1.1 bytes for an answer to a caller: the status line, the
/// [`CONTENT_TYPE`] and length, its cache policy's fields, the date, the
/// answer's own headers, and `Connection: close` when the connection ends after it.
pub fn encode_answer(answer: &CallerAnswer, close: bool, date: &[u8], wire: &mut Vec<u8>) {
    let reason = http::StatusCode::from_u16(answer.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    // Numbers go through `itoa`, not `fmt`: this runs once per answer.
    wire.extend_from_slice(b"HTTP/1.1 ");
    wire.extend_from_slice(itoa::Buffer::new().format(answer.status).as_bytes());
    wire.push(b' ');
    wire.extend_from_slice(reason.as_bytes());
    wire.extend_from_slice(b"\r\n");
    if has_content_type(answer) {
        push_own_field(wire, CONTENT_TYPE);
    }
    push_number_field(wire, b"Content-Length", answer.body.len());
    for &field in answer.cache.fields() {
        push_own_field(wire, field);
    }
    wire.extend_from_slice(b"Date: ");
    wire.extend_from_slice(date);
    wire.extend_from_slice(b"\r\n");
    if answer.no_referrer {
        push_own_field(wire, ("Referrer-Policy", "no-referrer"));
    }
    // A redirect's URL is built from checked parts; should one ever carry a
    // control byte or a space, the field is left out rather than let it split
    // the head (Pingora's writer refuses such a value the same way).
    if let Some(location) = answer.location.as_deref().filter(|l| is_url_text(l)) {
        push_own_field(wire, ("Location", location));
    }
    if let Some(allow) = &answer.allow {
        push_own_field(wire, ("Allow", allow));
    }
    if let Some(seconds) = answer.retry_after_seconds {
        push_number_field(wire, b"Retry-After", seconds);
    }
    if let Some(challenge) = answer.challenge {
        push_own_field(wire, ("WWW-Authenticate", &challenge.header_value()));
    }
    wire.extend_from_slice(if close {
        b"Connection: close\r\n\r\n"
    } else {
        b"\r\n"
    });
    wire.extend_from_slice(&answer.body);
}

/// A field whose name and value the gateway wrote itself (constants, the
/// plan's method list and body type), so unlike [`push_field`] it needs no
/// check per call.
/// A URL as a header carries it: visible ASCII, nothing else.
fn is_url_text(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| (b'!'..=b'~').contains(&b))
}

fn push_own_field(wire: &mut Vec<u8>, (name, value): (&str, &str)) {
    wire.extend_from_slice(name.as_bytes());
    wire.extend_from_slice(b": ");
    wire.extend_from_slice(value.as_bytes());
    wire.extend_from_slice(b"\r\n");
}

fn push_number_field(wire: &mut Vec<u8>, name: &[u8], number: impl itoa::Integer) {
    wire.extend_from_slice(name);
    wire.extend_from_slice(b": ");
    wire.extend_from_slice(itoa::Buffer::new().format(number).as_bytes());
    wire.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(headers: &'a [(Cow<'a, str>, Cow<'a, str>)]) -> ProviderRequest<'a> {
        ProviderRequest {
            method: "POST",
            path: "/v2/oauth/token/",
            url_query: "",
            rules_query: "",
            authority: "open.tiktokapis.com",
            body: Some(b"client_key=k&code=c"),
            content_type: "application/x-www-form-urlencoded",
            headers,
            user_agent: "quirkgate/test",
        }
    }

    #[test]
    fn a_form_request_has_its_host_exact_length_and_json_accept() {
        let wire = encode_request(&request(&[])).unwrap();
        assert_eq!(
            String::from_utf8(wire).unwrap(),
            "POST /v2/oauth/token/ HTTP/1.1\r\nHost: open.tiktokapis.com\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 19\r\nAccept: application/json\r\nUser-Agent: quirkgate/test\r\n\r\nclient_key=k&code=c"
        );
    }

    #[test]
    fn queries_join_the_urls_first_and_a_get_has_no_body_headers() {
        let mut get = request(&[]);
        get.method = "GET";
        get.body = None;
        get.url_query = "fields=open_id";
        get.rules_query = "appid=a&secret=s";
        let text = String::from_utf8(encode_request(&get).unwrap()).unwrap();
        assert!(text.starts_with(
            "GET /v2/oauth/token/?fields=open_id&appid=a&secret=s HTTP/1.1\r\nHost: open.tiktokapis.com\r\nAccept: application/json\r\n"
        ));
        assert!(!text.contains("Content-Length") && text.ends_with("\r\n\r\n"));
        get.url_query = "";
        let text = String::from_utf8(encode_request(&get).unwrap()).unwrap();
        assert!(text.starts_with("GET /v2/oauth/token/?appid=a&secret=s HTTP/1.1\r\n"));
    }

    #[test]
    fn rule_headers_replace_defaults_and_the_last_of_a_name_wins() {
        let headers = [
            (Cow::from("accept"), Cow::from("application/vnd.x+json")),
            (Cow::from("X-Version"), Cow::from("1")),
            (Cow::from("x-version"), Cow::from("2")),
        ];
        let text = String::from_utf8(encode_request(&request(&headers)).unwrap()).unwrap();
        assert!(!text.contains("Accept: application/json"));
        assert!(text.contains("accept: application/vnd.x+json\r\n"));
        assert!(!text.contains("X-Version: 1"));
        assert!(text.contains("x-version: 2\r\n"));
        assert!(text.contains("User-Agent: quirkgate/test\r\n"));
    }

    #[test]
    fn targets_and_fields_that_would_split_the_message_are_refused() {
        let mut spaced = request(&[]);
        spaced.rules_query = "a=b c";
        assert!(encode_request(&spaced).is_err());
        let mut newline = request(&[]);
        newline.path = "/t\r\nX: y";
        assert!(encode_request(&newline).is_err());
        let injected = [(Cow::from("X-Bad"), Cow::from("a\r\nInjected: yes"))];
        assert!(encode_request(&request(&injected)).is_err());
        let mut host = request(&[]);
        host.authority = "a\nb";
        assert!(encode_request(&host).is_err());
    }

    #[test]
    fn answers_carry_the_shared_headers() {
        let answer = CallerAnswer {
            status: 405,
            body: bytes::Bytes::from_static(b"{\"error\":\"invalid_request\"}"),
            allow: Some("POST".to_owned()),
            retry_after_seconds: Some(1),
            ..CallerAnswer::json(0, bytes::Bytes::new())
        };
        let mut wire = Vec::new();
        let date = b"Thu, 26 Nov 2026 03:29:55 GMT";
        encode_answer(&answer, true, date, &mut wire);
        let text = String::from_utf8(wire).unwrap();
        assert_eq!(
            text,
            "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: application/json;charset=UTF-8\r\nContent-Length: 27\r\nCache-Control: no-store\r\nPragma: no-cache\r\nDate: Thu, 26 Nov 2026 03:29:55 GMT\r\nAllow: POST\r\nRetry-After: 1\r\nConnection: close\r\n\r\n{\"error\":\"invalid_request\"}"
        );
        let mut wire = Vec::new();
        encode_answer(&answer, false, date, &mut wire);
        assert!(!String::from_utf8(wire).unwrap().contains("Connection"));
        let challenged = CallerAnswer {
            status: 401,
            challenge: Some(crate::http1::Challenge::Basic),
            ..answer
        };
        let mut wire = Vec::new();
        encode_answer(&challenged, false, date, &mut wire);
        assert!(String::from_utf8(wire)
            .unwrap()
            .contains("\r\nWWW-Authenticate: Basic realm=\"quirkgate\"\r\n"));
    }

    #[test]
    fn documents_and_redirects_carry_their_cache_policy_and_location() {
        use crate::http1::CachePolicy;
        let document = CallerAnswer {
            cache: CachePolicy::PublicDocument,
            no_referrer: true,
            ..CallerAnswer::json(200, bytes::Bytes::from_static(b"{}"))
        };
        let mut wire = Vec::new();
        encode_answer(&document, false, b"D", &mut wire);
        let text = String::from_utf8(wire).unwrap();
        assert!(text.contains("\r\nContent-Type: application/json;charset=UTF-8\r\n"));
        assert!(text.contains(
            "\r\nCache-Control: public, max-age=300\r\nAccess-Control-Allow-Origin: *\r\n"
        ));
        assert!(text.contains("\r\nReferrer-Policy: no-referrer\r\n"));
        assert!(
            !text.contains("no-store") && !text.contains("Pragma"),
            "{text}"
        );
        let redirect = CallerAnswer {
            location: Some("https://broker.example/cb?code=c&state=s".into()),
            no_referrer: true,
            ..CallerAnswer::json(302, bytes::Bytes::new())
        };
        let mut wire = Vec::new();
        encode_answer(&redirect, false, b"D", &mut wire);
        let text = String::from_utf8(wire).unwrap();
        assert!(text.starts_with("HTTP/1.1 302 Found\r\nContent-Length: 0\r\nCache-Control: no-store\r\nPragma: no-cache\r\n"), "{text}");
        assert!(text.contains("\r\nLocation: https://broker.example/cb?code=c&state=s\r\n"));
        assert!(
            !text.contains("Content-Type"),
            "an empty redirect has no media type"
        );
        assert!(!text.contains("Access-Control"));
    }

    #[test]
    fn lengths_statuses_and_delays_are_written_in_decimal() {
        for (length, retry_after) in [(0usize, 0u32), (9, 10), (10, 59), (123_456, u32::MAX)] {
            let answer = CallerAnswer {
                status: 200,
                body: bytes::Bytes::from(vec![b'x'; length]),
                allow: None,
                retry_after_seconds: Some(retry_after),
                ..CallerAnswer::json(0, bytes::Bytes::new())
            };
            let mut wire = Vec::new();
            encode_answer(&answer, false, b"D", &mut wire);
            let text = String::from_utf8(wire).unwrap();
            assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
            assert!(text.contains(&format!("\r\nContent-Length: {length}\r\n")));
            assert!(text.contains(&format!("\r\nRetry-After: {retry_after}\r\n")));
            assert_eq!(text.len() - text.find("\r\n\r\n").unwrap() - 4, length);

            let body = vec![b'a'; length];
            let mut form = request(&[]);
            form.body = Some(&body);
            let wire = String::from_utf8(encode_request(&form).unwrap()).unwrap();
            assert!(wire.contains(&format!("\r\nContent-Length: {length}\r\n")));
        }
        // A status with no canonical reason keeps an empty reason phrase (RFC 9112 §4).
        let odd = CallerAnswer::json(599, bytes::Bytes::new());
        let mut wire = Vec::new();
        encode_answer(&odd, false, b"D", &mut wire);
        assert!(wire.starts_with(b"HTTP/1.1 599 \r\n"));
    }

    #[test]
    fn a_location_that_would_split_the_head_is_left_out() {
        for hostile in [
            "https://broker.example/cb\r\nSet-Cookie: session=x",
            "https://broker.example/cb\nX: y",
            "https://broker.example/a b",
            "https://broker.example/\u{e9}",
            "",
        ] {
            let answer = CallerAnswer {
                location: Some(hostile.into()),
                ..CallerAnswer::json(302, bytes::Bytes::new())
            };
            let mut wire = Vec::new();
            encode_answer(&answer, false, b"Tue, 01 Dec 2026 00:00:00 GMT", &mut wire);
            let text = String::from_utf8_lossy(&wire);
            assert!(!text.contains("Location"), "{hostile:?}: {text}");
            assert!(
                !text.contains("Set-Cookie") && !text.contains("\r\nX: y"),
                "{text}"
            );
            assert_eq!(text.matches("\r\n\r\n").count(), 1, "{text}");
        }
    }
}
