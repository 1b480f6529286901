//! A misbehaving HTTP server on a loopback port (a std `TcpListener`
//! thread): it reads each request's head and answers every request the same
//! wrong way, to show a bad server is a bounded miss and never a wrong
//! output or a huge allocation. Stopped on drop.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

#[derive(Clone, Copy, Debug)]
pub enum Misbehaviour {
    /// `200`, a large Content-Length, then one body byte a second.
    Trickle,
    /// Bytes that are not HTTP at all.
    Garbage,
    /// `200` and an endless body, announcing `Content-Length: 300 MB` or
    /// nothing (close-delimited).
    TooMuch { announce: bool },
    /// This status with an empty body.
    Status(u16),
    /// `200`, Content-Length 1000, ten bytes, then the connection closes.
    CloseMidBody,
}

pub struct BadServer {
    pub port: u16,
    requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl BadServer {
    pub fn start(how: Misbehaviour) -> BadServer {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, stopping) = (Arc::clone(&requests), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let (count, stopping) = (Arc::clone(&count), Arc::clone(&stopping));
                std::thread::spawn(move || serve(stream, how, &count, &stopping));
            }
        });
        BadServer { port, requests, stop, thread: Some(thread) }
    }

    /// `http://127.0.0.1:PORT/cache`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/cache", self.port)
    }

    /// Requests whose head was read so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for BadServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(mut stream: TcpStream, how: Misbehaviour, count: &AtomicUsize, stop: &AtomicBool) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    if !read_head(&mut stream) {
        return;
    }
    count.fetch_add(1, Ordering::SeqCst);
    let _ = answer(&mut stream, how, stop);
    let _ = stream.shutdown(Shutdown::Both);
}

/// Reads up to the blank line ending a request head.
fn read_head(stream: &mut TcpStream) -> bool {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return false,
        }
    }
    true
}

fn answer(stream: &mut TcpStream, how: Misbehaviour, stop: &AtomicBool) -> std::io::Result<()> {
    match how {
        Misbehaviour::Trickle => {
            stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")?;
            while !stop.load(Ordering::SeqCst) {
                stream.write_all(b"x")?;
                std::thread::sleep(Duration::from_secs(1));
            }
            Ok(())
        }
        Misbehaviour::Garbage => {
            stream.write_all(b"\x16\x03\x01 this is not HTTP \xff\xfe\r\n\r\nat all\r\n\r\n")
        }
        Misbehaviour::TooMuch { announce } => {
            let head: &[u8] = if announce {
                b"HTTP/1.1 200 OK\r\nContent-Length: 300000000\r\n\r\n"
            } else {
                b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
            };
            stream.write_all(head)?;
            let chunk = vec![b'z'; 64 << 10];
            // Up to 300 MB, until the client hangs up.
            for _ in 0..(300 << 20) / chunk.len() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                stream.write_all(&chunk)?;
            }
            Ok(())
        }
        Misbehaviour::Status(code) => {
            let head = format!("HTTP/1.1 {code} Nope\r\nContent-Length: 0\r\n\r\n");
            stream.write_all(head.as_bytes())
        }
        Misbehaviour::CloseMidBody => {
            stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
        }
    }
}
