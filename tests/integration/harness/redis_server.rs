//! A private `redis-server` per test: a free loopback port, a temp dir, no
//! persistence, killed on drop. A test that cannot start one FAILS (it never
//! skips): install the server with `apt-get install redis-server`.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const START_TIMEOUT: Duration = Duration::from_secs(10);

pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
    password: Option<String>,
    /// Serves TLS only (`rediss://`), with the certificates of this dir.
    tls: bool,
    dir: tempfile::TempDir,
}

impl RedisServer {
    /// A plain server.
    #[track_caller]
    pub fn start() -> RedisServer {
        RedisServer::start_with(&[], None)
    }

    /// A TLS-only server with the certificates [`make_tls_certs`] wrote to
    /// `certs`. The client must trust `certs/ca.pem` (`SSL_CERT_FILE`).
    #[track_caller]
    pub fn start_tls(certs: &Path) -> RedisServer {
        let file = |name: &str| certs.join(name).to_str().unwrap().to_string();
        let (cert, key, ca) = (file("server.pem"), file("server.key"), file("ca.pem"));
        let args = [
            "--tls-cert-file",
            &cert,
            "--tls-key-file",
            &key,
            "--tls-ca-cert-file",
            &ca,
            "--tls-auth-clients",
            "no",
        ];
        RedisServer::start_inner(&args, None, true)
    }

    /// A server that requires `password` (`--requirepass`).
    #[track_caller]
    pub fn start_with_password(password: &str) -> RedisServer {
        RedisServer::start_with(&["--requirepass", password], Some(password))
    }

    /// A server with extra configuration (`["--maxmemory", "1mb"]`).
    #[track_caller]
    pub fn start_with(extra: &[&str], password: Option<&str>) -> RedisServer {
        RedisServer::start_inner(extra, password, false)
    }

    #[track_caller]
    fn start_inner(extra: &[&str], password: Option<&str>, tls: bool) -> RedisServer {
        let mut last = String::new();
        // The port is free when we pick it but could be taken before the
        // server binds it: retry with another one.
        for _ in 0..5 {
            match RedisServer::try_start(extra, password, tls) {
                Ok(server) => return server,
                Err(e) => last = e,
            }
        }
        panic!("cannot start redis-server (apt-get install redis-server): {last}");
    }

    fn try_start(extra: &[&str], password: Option<&str>, tls: bool) -> Result<RedisServer, String> {
        let dir = tempfile::Builder::new().prefix("cachecmd-redis-").tempdir().unwrap();
        let port = free_port();
        let ports = if tls {
            ["--port".to_string(), "0".into(), "--tls-port".into(), port.to_string()]
        } else {
            ["--port".to_string(), port.to_string(), "--tls-port".into(), "0".into()]
        };
        let child = Command::new("redis-server")
            .args(ports)
            .args(["--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(dir.path())
            .arg("--logfile")
            .arg(dir.path().join("redis.log"))
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("spawn redis-server: {e}"))?;
        let password = password.map(str::to_string);
        let mut server = RedisServer { child: Some(child), port, password, tls, dir };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = server.child.as_mut().unwrap().try_wait().unwrap() {
                let log = std::fs::read_to_string(server.dir.path().join("redis.log"))
                    .unwrap_or_default();
                return Err(format!("redis-server exited with {status}: {log}"));
            }
            if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
                // A TLS server's clients may not trust its CA: its log says
                // when it is ready.
                let ready = if tls {
                    std::fs::read_to_string(server.dir.path().join("redis.log"))
                        .is_ok_and(|log| log.contains("Ready to accept connections"))
                } else {
                    server
                        .try_admin()
                        .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
                        .is_ok()
                };
                if ready {
                    return Ok(server);
                }
            }
            if Instant::now() > deadline {
                return Err("redis-server did not answer within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `redis://127.0.0.1:PORT/0` (`rediss://` with TLS), without the password.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "rediss" } else { "redis" };
        format!("{scheme}://127.0.0.1:{}/0", self.port)
    }

    /// A direct connection for the test's own checks and setup.
    #[track_caller]
    pub fn admin(&self) -> redis::Connection {
        self.try_admin().expect("admin connection to the test redis-server")
    }

    fn try_admin(&self) -> redis::RedisResult<redis::Connection> {
        let mut url = self.url();
        if let Some(password) = &self.password {
            url = url.replacen("://", &format!("://:{password}@"), 1);
        }
        let conn = redis::Client::open(url)?.get_connection_with_timeout(Duration::from_secs(2))?;
        conn.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(conn)
    }

    /// Every key on the server, sorted.
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut self.admin()).unwrap();
        keys.sort();
        keys
    }

    pub fn dbsize(&self) -> u64 {
        redis::cmd("DBSIZE").query(&mut self.admin()).unwrap()
    }

    /// Kills the server now (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A CA (`ca.pem`) and a server certificate for 127.0.0.1 and localhost
/// (`server.pem`, `server.key`) in `dir`, made with the `openssl` command.
#[track_caller]
pub fn make_tls_certs(dir: &Path) {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl is needed for the TLS test (apt-get install openssl)");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=cachecmd test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n").unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-out",
        "server.pem",
        "-extfile",
        "san.ext",
    ]);
}

fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    listener.local_addr().unwrap().port()
}
