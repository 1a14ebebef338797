//! The little of HTTP/1.1 a scraper needs: a request head parsed (pure: bytes in, request and
//! bytes used out), and a response head written.
//!
//! ```text
//! GET /metrics HTTP/1.1\r\n
//! Host: ...\r\n
//! \r\n
//! ```
//!
//! A request with a body is refused rather than read: nothing here takes one.

/// Longest request head accepted; a longer one is a bad request and the connection closes.
pub const MAX_HEAD: usize = 8 << 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    /// Any other method token: answered 405.
    Other,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Request<'a> {
    pub method: Method,
    /// The request target's path, without its query.
    pub path: &'a [u8],
    /// The client asked to close after this response (or speaks HTTP/1.0 without
    /// keep-alive).
    pub close: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Parse<'a> {
    /// A complete head and the bytes it used.
    Done(Request<'a>, usize),
    /// The head is not complete yet (and within [`MAX_HEAD`]).
    Incomplete,
    /// Not a request this server takes: answer 400 and close.
    Bad,
}

/// Parses the request head at the start of `buf`. Lines end in CRLF or a bare LF.
pub fn parse(buf: &[u8]) -> Parse<'_> {
    let Some((head, used)) = head_end(buf) else {
        return if buf.len() >= MAX_HEAD {
            Parse::Bad
        } else {
            Parse::Incomplete
        };
    };
    if used > MAX_HEAD {
        return Parse::Bad;
    }
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let Some(request_line) = lines.next() else {
        return Parse::Bad;
    };
    let mut parts = request_line.split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Parse::Bad;
    };
    if method.is_empty() || !method.iter().all(|b| b.is_ascii_uppercase()) {
        return Parse::Bad;
    }
    let method = match method {
        b"GET" => Method::Get,
        b"HEAD" => Method::Head,
        _ => Method::Other,
    };
    if !target.starts_with(b"/") || target.iter().any(|b| !b.is_ascii_graphic()) {
        return Parse::Bad;
    }
    let path = match memchr::memchr(b'?', target) {
        Some(q) => &target[..q],
        None => target,
    };
    let mut close = match version {
        b"HTTP/1.1" => false,
        b"HTTP/1.0" => true,
        _ => return Parse::Bad,
    };
    for line in lines {
        let Some(colon) = memchr::memchr(b':', line) else {
            return Parse::Bad;
        };
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        if name.is_empty() || !name.iter().all(|&b| is_token(b)) {
            return Parse::Bad;
        }
        if name.eq_ignore_ascii_case(b"connection") {
            for opt in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
                if opt.eq_ignore_ascii_case(b"close") {
                    close = true;
                } else if opt.eq_ignore_ascii_case(b"keep-alive") {
                    close = false;
                }
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding")
            || (name.eq_ignore_ascii_case(b"content-length") && value != b"0")
        {
            return Parse::Bad;
        }
    }
    let req = Request {
        method,
        path,
        close,
    };
    Parse::Done(req, used)
}

/// The head without its blank line, and the bytes up to and with the blank line.
fn head_end(buf: &[u8]) -> Option<(&[u8], usize)> {
    let mut from = 0;
    while let Some(nl) = memchr::memchr(b'\n', &buf[from..]) {
        let at = from + nl;
        let rest = &buf[at + 1..];
        if rest.starts_with(b"\n") {
            return Some((&buf[..at], at + 2));
        }
        if rest.starts_with(b"\r\n") {
            return Some((trim_cr(&buf[..at]), at + 3));
        }
        if rest.is_empty() || rest == b"\r" {
            return None;
        }
        from = at + 1;
    }
    None
}

fn trim_cr(b: &[u8]) -> &[u8] {
    b.strip_suffix(b"\r").unwrap_or(b)
}

/// RFC 9110's token characters, which a header name is made of.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A response head: status line, content type and length, `Connection: close` when the
/// connection closes after it, and any extra header lines (each ending in CRLF).
pub fn response_head(
    status: u16,
    content_type: &str,
    len: usize,
    close: bool,
    extra: &str,
) -> String {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        _ => "Error",
    };
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {len}\r\n{}{extra}\r\n",
        if close { "Connection: close\r\n" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: Method, path: &[u8], close: bool) -> Request<'_> {
        Request {
            method,
            path,
            close,
        }
    }

    #[test]
    fn requests_parse_in_every_fragment() {
        let cases: &[(&[u8], Parse)] = &[
            (
                b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
                Parse::Done(req(Method::Get, b"/metrics", false), 34),
            ),
            (
                b"HEAD /metrics?x=1 HTTP/1.1\r\n\r\n",
                Parse::Done(req(Method::Head, b"/metrics", false), 30),
            ),
            (
                b"GET / HTTP/1.0\n\n",
                Parse::Done(req(Method::Get, b"/", true), 16),
            ),
            (
                b"GET /metrics HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
                Parse::Done(req(Method::Get, b"/metrics", false), 49),
            ),
            (
                b"GET /metrics HTTP/1.1\r\nconnection: close\r\n\r\n",
                Parse::Done(req(Method::Get, b"/metrics", true), 44),
            ),
            (
                b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
                Parse::Done(req(Method::Other, b"/metrics", false), 45),
            ),
            (
                b"POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\n",
                Parse::Bad,
            ),
            (
                b"GET /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                Parse::Bad,
            ),
            (b"GET /metrics HTTP/2.0\r\n\r\n", Parse::Bad),
            (b"GET  /metrics HTTP/1.1\r\n\r\n", Parse::Bad),
            (b"get /metrics HTTP/1.1\r\n\r\n", Parse::Bad),
            (b"GET metrics HTTP/1.1\r\n\r\n", Parse::Bad),
            (b"GET /metrics HTTP/1.1\r\nno colon\r\n\r\n", Parse::Bad),
            (b"GET /metrics HTTP/1.1\r\nbad name: x\r\n\r\n", Parse::Bad),
            (b"\r\n\r\n", Parse::Bad),
        ];
        for (input, want) in cases {
            assert_eq!(&parse(input), want, "{:?}", String::from_utf8_lossy(input));
            // Every proper prefix is incomplete (the head ends only at its blank line).
            for cut in 0..input.len() {
                assert_eq!(
                    parse(&input[..cut]),
                    Parse::Incomplete,
                    "{:?} cut at {cut}",
                    String::from_utf8_lossy(input)
                );
            }
        }
    }

    #[test]
    fn a_head_past_the_bound_is_bad() {
        let mut long = b"GET /metrics HTTP/1.1\r\nX: ".to_vec();
        long.resize(MAX_HEAD, b'a');
        assert_eq!(parse(&long), Parse::Bad);
        assert_eq!(parse(&long[..MAX_HEAD - 1]), Parse::Incomplete);
        long.extend_from_slice(b"\r\n\r\n");
        assert_eq!(parse(&long), Parse::Bad);
    }

    #[test]
    fn response_heads() {
        assert_eq!(
            response_head(404, "text/plain", 10, true, ""),
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 10\r\nConnection: close\r\n\r\n"
        );
        assert_eq!(
            response_head(405, "text/plain", 0, false, "Allow: GET, HEAD\r\n"),
            "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain\r\nContent-Length: 0\r\nAllow: GET, HEAD\r\n\r\n"
        );
    }
}
