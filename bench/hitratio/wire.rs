//! A blocking memcached text-protocol connection with its own read buffer: just the
//! replies the cache-aside replay needs (get, set, mn, stats).

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

fn bad(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

impl Conn {
    pub fn connect(addr: &str, timeout: Duration) -> io::Result<Conn> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        Ok(Conn {
            stream,
            buf: vec![0; 1 << 20],
            start: 0,
            end: 0,
        })
    }

    pub fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Reads more bytes into the buffer, keeping the unread part.
    fn fill(&mut self) -> io::Result<()> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else {
                let n = self.buf.len();
                self.buf.resize(n * 2, 0);
            }
        }
        let n = self.stream.read(&mut self.buf[self.end..])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "server closed the connection",
            ));
        }
        self.end += n;
        Ok(())
    }

    /// The next line without its `\r\n`, as a range of the buffer (valid until the next
    /// read).
    fn line(&mut self) -> io::Result<(usize, usize)> {
        // Bytes after `start` already searched; fill() keeps the unread bytes together.
        let mut searched = 0;
        loop {
            let from = self.start + searched;
            if let Some(i) = memchr::memchr(b'\n', &self.buf[from..self.end]) {
                let nl = from + i;
                let line_start = self.start;
                let line_end = if nl > line_start && self.buf[nl - 1] == b'\r' {
                    nl - 1
                } else {
                    nl
                };
                self.start = nl + 1;
                return Ok((line_start, line_end));
            }
            searched = self.end - self.start;
            self.fill()?;
        }
    }

    /// `n` bytes followed by `\r\n`, as a range of the buffer.
    fn block(&mut self, n: usize) -> io::Result<(usize, usize)> {
        while self.end - self.start < n + 2 {
            self.fill()?;
        }
        let s = self.start;
        if &self.buf[s + n..s + n + 2] != b"\r\n" {
            return Err(bad(format!("data block of {n} bytes not followed by CRLF")));
        }
        self.start += n + 2;
        Ok((s, s + n))
    }

    pub fn bytes(&self, range: (usize, usize)) -> &[u8] {
        &self.buf[range.0..range.1]
    }

    /// Reads the reply to a multi-key `get`: calls `on_value(key, flags, data)` for each
    /// `VALUE` (hits only, in request order) until `END`. Error lines in front of it (from
    /// `noreply` sets that failed) are collected in `stray`.
    pub fn multi_get_reply(
        &mut self,
        stray: &mut Vec<String>,
        mut on_value: impl FnMut(&[u8], u32, &[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut key = Vec::with_capacity(64);
        loop {
            let l = self.line()?;
            let line = self.bytes(l);
            if line == b"END" {
                return Ok(());
            }
            if let Some(rest) = line.strip_prefix(b"VALUE ") {
                let mut parts = rest.split(|&b| b == b' ');
                key.clear();
                key.extend_from_slice(parts.next().unwrap_or_default());
                let flags = parse_num(parts.next())?;
                let n = parse_num(parts.next())? as usize;
                let data = self.block(n)?;
                on_value(&key, flags as u32, &self.buf[data.0..data.1])?;
                continue;
            }
            let text = String::from_utf8_lossy(line).into_owned();
            if text.starts_with("SERVER_ERROR")
                || text.starts_with("CLIENT_ERROR")
                || text == "ERROR"
                || text == "STORED"
                || text == "NOT_STORED"
            {
                stray.push(text);
                continue;
            }
            return Err(bad(format!("unexpected line {text:?} in a get reply")));
        }
    }

    /// Reads up to and including `MN`; other lines (failed `noreply` sets) go to `stray`.
    pub fn until_mn(&mut self, stray: &mut Vec<String>) -> io::Result<()> {
        loop {
            let l = self.line()?;
            let line = self.bytes(l);
            if line == b"MN" {
                return Ok(());
            }
            if line.starts_with(b"VALUE ") || line == b"END" {
                let text = String::from_utf8_lossy(line).into_owned();
                return Err(bad(format!("unexpected {text:?} where MN was due")));
            }
            stray.push(String::from_utf8_lossy(line).into_owned());
        }
    }

    /// Reads one reply line to a `set` (STORED, or an error).
    pub fn reply_line(&mut self) -> io::Result<String> {
        let l = self.line()?;
        Ok(String::from_utf8_lossy(self.bytes(l)).into_owned())
    }

    /// `stats` as (name, value) pairs.
    pub fn stats(&mut self) -> io::Result<Vec<(String, String)>> {
        self.send(b"stats\r\n")?;
        let mut out = Vec::new();
        loop {
            let l = self.line()?;
            let line = String::from_utf8_lossy(self.bytes(l)).into_owned();
            if line == "END" {
                return Ok(out);
            }
            let mut it = line.splitn(3, ' ');
            match (it.next(), it.next(), it.next()) {
                (Some("STAT"), Some(name), Some(value)) => out.push((name.into(), value.into())),
                _ => return Err(bad(format!("unexpected line {line:?} in stats"))),
            }
        }
    }
}

fn parse_num(tok: Option<&[u8]>) -> io::Result<u64> {
    let tok = tok.ok_or_else(|| bad("short VALUE line".into()))?;
    std::str::from_utf8(tok)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(format!("bad number {:?}", String::from_utf8_lossy(tok))))
}
