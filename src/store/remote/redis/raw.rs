//! Reading a value over a plain socket with memory bounded by what was
//! asked: the redis crate reads a whole reply into memory before handing
//! it over, whatever length the server declares, so a hostile server that
//! answers a `GETRANGE` of one chunk with a 300 MB bulk string would cost
//! 300 MB. No crate offers a streaming reader that refuses an oversized
//! reply, so this speaks the few RESP replies a fetch needs (bulk strings,
//! integers, `+OK`, errors), refuses a bulk string longer than the range
//! asked for, and copies what it accepts to the destination in small
//! pieces. Plain TCP only: `rediss://` and Unix sockets keep the crate
//! path, and that bound is missing there.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

use redis::{ConnectionAddr, ConnectionInfo};

/// The longest status or length line accepted (`$18446744073709551615`).
const MAX_LINE: usize = 1024;

/// A connection for one fetch, with the fetch's deadline.
pub struct Raw {
    reader: BufReader<TcpStream>,
    deadline: Instant,
}

impl Raw {
    /// Connects and authenticates, or `None` when `info` is not plain TCP.
    pub fn open(
        info: &ConnectionInfo,
        connect_timeout: Duration,
        deadline: Instant,
    ) -> Option<io::Result<Raw>> {
        let ConnectionAddr::Tcp(host, port) = info.addr() else { return None };
        Some(Raw::connect(info, host, *port, connect_timeout, deadline))
    }

    fn connect(
        info: &ConnectionInfo,
        host: &str,
        port: u16,
        connect_timeout: Duration,
        deadline: Instant,
    ) -> io::Result<Raw> {
        let mut last = io::Error::new(io::ErrorKind::NotFound, "the host has no address");
        for addr in (host, port).to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, connect_timeout.max(Duration::from_millis(1))) {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    let mut raw =
                        Raw { reader: BufReader::with_capacity(64 << 10, stream), deadline };
                    raw.handshake(info)?;
                    return Ok(raw);
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn handshake(&mut self, info: &ConnectionInfo) -> io::Result<()> {
        let settings = info.redis_settings();
        if let Some(password) = settings.password() {
            match settings.username() {
                Some(user) => self.send(&[b"AUTH", user.as_bytes(), password.as_bytes()])?,
                None => self.send(&[b"AUTH", password.as_bytes()])?,
            }
            self.ok()?;
        }
        if settings.db() != 0 {
            self.send(&[b"SELECT", settings.db().to_string().as_bytes()])?;
            self.ok()?;
        }
        Ok(())
    }

    /// `GETRANGE key start end` written to `dest` at `at`; the number of
    /// bytes it had. A reply longer than the range is refused unread.
    pub fn getrange(
        &mut self,
        key: &str,
        start: u64,
        end: u64,
        dest: &File,
        at: u64,
    ) -> io::Result<u64> {
        let (s, e) = (start.to_string(), end.to_string());
        self.send(&[b"GETRANGE", key.as_bytes(), s.as_bytes(), e.as_bytes()])?;
        let line = self.line()?;
        let asked = end - start + 1;
        let len = match line.split_first() {
            Some((b'$', n)) => number(n)?,
            _ => return Err(unexpected("GETRANGE", &line)),
        };
        if len > asked {
            return Err(invalid(format!("GETRANGE answered {len} bytes for {asked} asked")));
        }
        let mut done = 0;
        while done < len {
            let buf = self.fill()?;
            if buf.is_empty() {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let n = buf.len().min(usize::try_from(len - done).unwrap_or(usize::MAX));
            dest.write_all_at(&buf[..n], at + done)?;
            self.reader.consume(n);
            done += n as u64;
        }
        if self.line()? != b"" {
            return Err(invalid("GETRANGE's reply does not end where it said".into()));
        }
        Ok(len)
    }

    /// `STRLEN key`.
    pub fn strlen(&mut self, key: &str) -> io::Result<u64> {
        self.send(&[b"STRLEN", key.as_bytes()])?;
        let line = self.line()?;
        match line.split_first() {
            Some((b':', n)) => number(n),
            _ => Err(unexpected("STRLEN", &line)),
        }
    }

    fn ok(&mut self) -> io::Result<()> {
        let line = self.line()?;
        if line == b"+OK" {
            Ok(())
        } else {
            Err(unexpected("the handshake", &line))
        }
    }

    fn send(&mut self, args: &[&[u8]]) -> io::Result<()> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for arg in args {
            out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            out.extend_from_slice(arg);
            out.extend_from_slice(b"\r\n");
        }
        let left = self.arm()?;
        let stream = self.reader.get_mut();
        stream.set_write_timeout(Some(left))?;
        stream.write_all(&out)
    }

    /// One line without its CRLF, read piece by piece, each piece within
    /// the deadline (a server trickling a byte at a time gets no more).
    fn line(&mut self) -> io::Result<Vec<u8>> {
        let mut line = Vec::new();
        loop {
            let buf = self.fill()?;
            if buf.is_empty() {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let (take, end) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            line.extend_from_slice(&buf[..take]);
            self.reader.consume(take);
            if line.len() > MAX_LINE {
                return Err(invalid("a reply line is too long".into()));
            }
            if end {
                line.pop();
                if line.pop() != Some(b'\r') {
                    return Err(invalid("a reply line does not end in CRLF".into()));
                }
                return Ok(line);
            }
        }
    }

    /// The buffered reply bytes, reading more within the deadline when
    /// there are none (empty at end of stream). A read interrupted by a
    /// signal handler is tried again: with a read timeout set the kernel
    /// never restarts it (signal(7)), and a handled signal (the relay of
    /// Ctrl-C to the command) says nothing about the server.
    fn fill(&mut self) -> io::Result<&[u8]> {
        loop {
            self.arm()?;
            match self.reader.fill_buf() {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
                Ok(_) => return Ok(self.reader.buffer()),
            }
        }
    }

    /// Sets the read timeout to what is left of the deadline, or fails.
    fn arm(&mut self) -> io::Result<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        self.reader.get_ref().set_read_timeout(Some(left))?;
        Ok(left)
    }
}

fn number(digits: &[u8]) -> io::Result<u64> {
    std::str::from_utf8(digits)
        .ok()
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| invalid(format!("bad length {:?}", String::from_utf8_lossy(digits))))
}

fn unexpected(what: &str, line: &[u8]) -> io::Error {
    let text = String::from_utf8_lossy(line);
    match text.strip_prefix('-') {
        Some(error) => io::Error::other(error.to_string()),
        None => invalid(format!("unexpected reply to {what}: {text:.64}")),
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}
