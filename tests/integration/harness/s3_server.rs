//! A private S3-compatible server per test: `s3s-fs` serving a temp dir on
//! a free loopback port, with one bucket, killed on drop. A test that
//! cannot start one FAILS (it never skips): install the server with
//! `cargo install s3s-fs --version 0.14.1 --features binary --locked`.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const START_TIMEOUT: Duration = Duration::from_secs(10);
const INSTALL: &str = "cargo install s3s-fs --version 0.14.1 --features binary --locked";

pub const BUCKET: &str = "bucket";
pub const ACCESS_KEY: &str = "AKIACACHECMDTEST";
pub const SECRET_KEY: &str = "S3cretKey/For+Tests0123456789abcdefghij";

pub struct S3Server {
    child: Option<Child>,
    pub port: u16,
    root: tempfile::TempDir,
}

impl S3Server {
    #[track_caller]
    pub fn start() -> S3Server {
        let mut last = String::new();
        // The port is free when we pick it but could be taken before the
        // server binds it: retry with another one.
        for _ in 0..5 {
            match S3Server::try_start(free_port()) {
                Ok(server) => return server,
                Err(e) => last = e,
            }
        }
        panic!("cannot start s3s-fs ({INSTALL}): {last}");
    }

    fn try_start(port: u16) -> Result<S3Server, String> {
        let root = tempfile::Builder::new().prefix("cachecmd-s3-").tempdir().unwrap();
        std::fs::create_dir(root.path().join(BUCKET)).unwrap();
        let child = Command::new(binary())
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(root.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("spawn s3s-fs: {e} (install it: {INSTALL})"))?;
        let mut server = S3Server { child: Some(child), port, root };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = server.child.as_mut().unwrap().try_wait().unwrap() {
                return Err(format!("s3s-fs exited with {status}"));
            }
            if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
                return Ok(server);
            }
            if Instant::now() > deadline {
                return Err("s3s-fs did not listen within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `http://127.0.0.1:PORT`: the `CACHECMD_S3_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The bucket's directory: object `a/b` is the file `bucket_dir()/a/b`.
    pub fn bucket_dir(&self) -> PathBuf {
        self.root.path().join(BUCKET)
    }

    /// Every object name in the bucket, sorted.
    pub fn objects(&self) -> Vec<String> {
        let dir = self.bucket_dir();
        let mut names: Vec<String> = walkdir::WalkDir::new(&dir)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| e.path().strip_prefix(&dir).unwrap().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Writes an object behind the server's back.
    #[track_caller]
    pub fn plant(&self, name: &str, bytes: &[u8]) {
        let path = self.bucket_dir().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    /// Kills the server now (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `s3s-fs` from `$PATH`, else from `~/.cargo/bin`.
fn binary() -> PathBuf {
    let in_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).map(|d| d.join("s3s-fs")).collect::<Vec<_>>());
    let cargo_bin = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin/s3s-fs"));
    in_path.chain(cargo_bin).find(|p| p.is_file()).unwrap_or_else(|| "s3s-fs".into())
}

fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    listener.local_addr().unwrap().port()
}
