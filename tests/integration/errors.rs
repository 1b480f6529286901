//! cachecmd's own messages: one `cachecmd:` line, an exit status by kind,
//! and names from outside printed with their control characters escaped.

use crate::harness::TestEnv;

#[test]
fn an_escape_sequence_in_a_path_is_printed_escaped() {
    let env = TestEnv::new();
    // A config file that exists but cannot be read as UTF-8 text: the error
    // names its path.
    let dir = env.path().join("x\x1b[31m");
    std::fs::create_dir(&dir).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(&config, b"\xff\xfe").unwrap();
    let out = env.cmd().env("CACHECMD_CONFIG", &config).args(["show", "ab"]).output().unwrap();
    assert_eq!(out.status.code(), Some(125));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains('\x1b'), "raw escape on stderr: {stderr:?}");
    assert!(stderr.starts_with("cachecmd: config file "), "{stderr:?}");
    assert!(stderr.contains(r"x\x1b[31m/config.toml"), "{stderr:?}");
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
}

#[test]
fn a_missing_entry_exits_1_with_one_line() {
    let env = TestEnv::new();
    for args in [&["show", "abcd"][..], &["evict", "--key", "abcd"][..]] {
        let out = env.cmd().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr, "cachecmd: no entry has a key starting with 'abcd'\n", "{args:?}");
    }
}

#[test]
fn an_unknown_remote_scheme_is_a_usage_error_naming_remote() {
    let env = TestEnv::new();
    let out = env.cmd().args(["--remote", "s4://bucket/x", "--", "true"]).output().unwrap();
    assert_eq!(out.status.code(), Some(125));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("cachecmd: --remote: "), "{stderr:?}");
    assert!(stderr.contains("unsupported scheme 's4'"), "{stderr:?}");
}

#[test]
fn reports_are_coloured_only_when_asked_or_on_a_terminal() {
    let env = TestEnv::new();
    let out = env.cmd().args(["--", "echo", "hi"]).output().unwrap();
    assert!(out.status.success());
    let key = env.key(["echo", "hi"]);
    // One fixed "now" for every report, so ages ("3s ago") cannot tick
    // between the runs that are compared.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    let now = (now.as_secs() + 5).to_string();
    let report = |args: &[&str], color: Option<&str>| {
        let mut cmd = env.cmd();
        cmd.env("CACHECMD_TEST_NOW", &now);
        if let Some(color) = color {
            cmd.env("CACHECMD_COLOR", color);
        }
        let out = cmd.args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    for subcommand in [&["list"][..], &["show", &key[..8]], &["stats"]] {
        let plain = report(subcommand, None);
        assert!(!plain.contains('\x1b'), "{subcommand:?} coloured a pipe: {plain:?}");
        let always = report(&[subcommand, &["--color", "always"]].concat(), None);
        assert!(always.contains("\x1b[1m"), "{subcommand:?}: {always:?}");
        assert_eq!(anstream::adapter::strip_str(&always).to_string(), plain);
        let never = report(&[subcommand, &["--color", "never"]].concat(), Some("always"));
        assert_eq!(never, plain, "{subcommand:?}");
        assert!(report(subcommand, Some("always")).contains('\x1b'), "{subcommand:?}");
    }
    let out = env.cmd().args(["list", "--color", "sometimes"]).output().unwrap();
    assert_eq!(out.status.code(), Some(125));
}
