//! A private nginx per test serving WebDAV (PUT, DELETE, MOVE, and PROPFIND
//! through the dav-ext module) from a temp dir on a free loopback port,
//! killed on drop. It runs as one process (`master_process off`): killing
//! a master leaves its workers serving forever, killing the only process
//! leaves nothing behind. A test that cannot start one FAILS (it never skips):
//! install `nginx` and `libnginx-mod-http-dav-ext`.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const START_TIMEOUT: Duration = Duration::from_secs(10);
const DAV_EXT: &str = "/usr/lib/nginx/modules/ngx_http_dav_ext_module.so";

pub struct Nginx {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
}

/// Who may use the server.
pub enum Auth<'a> {
    None,
    /// `auth_basic` with one user.
    Basic {
        user: &'a str,
        password: &'a str,
    },
    /// Requests must carry `Authorization: Bearer TOKEN`.
    Bearer(&'a str),
}

impl Nginx {
    #[track_caller]
    pub fn start() -> Nginx {
        Nginx::start_with(Auth::None)
    }

    #[track_caller]
    pub fn start_with(auth: Auth<'_>) -> Nginx {
        Nginx::start_inner(&auth, "PUT DELETE MOVE")
    }

    /// A server that takes PUT and DELETE but refuses MOVE.
    #[track_caller]
    pub fn start_without_move() -> Nginx {
        Nginx::start_inner(&Auth::None, "PUT DELETE")
    }

    #[track_caller]
    fn start_inner(auth: &Auth<'_>, methods: &str) -> Nginx {
        let mut last = String::new();
        // The port could be taken between picking and binding: retry.
        for _ in 0..5 {
            match Nginx::try_start(auth, methods) {
                Ok(server) => return server,
                Err(e) => last = e,
            }
        }
        panic!("cannot start nginx (apt-get install nginx libnginx-mod-http-dav-ext): {last}");
    }

    fn try_start(auth: &Auth<'_>, methods: &str) -> Result<Nginx, String> {
        let dir = tempfile::Builder::new().prefix("cachecmd-nginx-").tempdir().unwrap();
        let port = free_port();
        let base = dir.path();
        std::fs::create_dir(base.join("root")).unwrap();
        std::fs::create_dir(base.join("tmp")).unwrap();
        let auth_conf = match auth {
            Auth::None => String::new(),
            Auth::Basic { user, password } => {
                let hash = apr1(password)?;
                std::fs::write(base.join("htpasswd"), format!("{user}:{hash}\n")).unwrap();
                format!(
                    "auth_basic \"cache\"; auth_basic_user_file {};",
                    base.join("htpasswd").display()
                )
            }
            Auth::Bearer(token) => {
                format!("if ($http_authorization != \"Bearer {token}\") {{ return 401; }}")
            }
        };
        let p = |name: &str| base.join(name).display().to_string();
        let conf = format!(
            "load_module {DAV_EXT};
user root;
pid {pid};
error_log {log} info;
master_process off;
daemon off;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            root {root};
            dav_methods {methods};
            dav_ext_methods PROPFIND OPTIONS;
            create_full_put_path on;
            dav_access user:rw;
            client_max_body_size 0;
            {auth_conf}
        }}
    }}
}}
",
            pid = p("nginx.pid"),
            log = p("error.log"),
            tmp = p("tmp"),
            root = p("root"),
        );
        std::fs::write(base.join("nginx.conf"), conf).unwrap();
        let child = Command::new("nginx")
            .arg("-c")
            .arg(base.join("nginx.conf"))
            .arg("-p")
            .arg(base)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("spawn nginx: {e}"))?;
        let mut server = Nginx { child: Some(child), port, dir };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = server.child.as_mut().unwrap().try_wait().unwrap() {
                let mut err = String::new();
                use std::io::Read;
                let _ =
                    server.child.as_mut().unwrap().stderr.take().unwrap().read_to_string(&mut err);
                let log = std::fs::read_to_string(base_log(&server)).unwrap_or_default();
                return Err(format!("nginx exited with {status}: {err}{log}"));
            }
            if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
                return Ok(server);
            }
            if Instant::now() > deadline {
                return Err("nginx did not listen within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `http://127.0.0.1:PORT/cache`, without credentials.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/cache", self.port)
    }

    /// The directory the prefix `/cache` maps to.
    pub fn cache_dir(&self) -> PathBuf {
        self.dir.path().join("root").join("cache")
    }

    /// The names of the files under `/cache`, sorted.
    pub fn objects(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.cache_dir()) else { return Vec::new() };
        let mut names: Vec<String> =
            entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    /// Kills the server now and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.kill();
    }
}

fn base_log(server: &Nginx) -> PathBuf {
    server.dir.path().join("error.log")
}

/// An `$apr1$` hash of `password` for an htpasswd file (`openssl passwd`).
fn apr1(password: &str) -> Result<String, String> {
    let out = Command::new("openssl")
        .args(["passwd", "-apr1", password])
        .output()
        .map_err(|e| format!("openssl passwd (apt-get install openssl): {e}"))?;
    if !out.status.success() {
        return Err(format!("openssl passwd: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

pub fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    listener.local_addr().unwrap().port()
}
