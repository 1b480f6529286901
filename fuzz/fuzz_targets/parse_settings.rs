//! Everything that parses user text into settings: durations, sizes,
//! `--expires-at`, and the TOML config file through `Config::load` (the
//! file named by `CACHECMD_CONFIG`) and its validation into run settings.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cachecmd::test_support::{
    parse_expires_at, parse_lifetime, parse_size, parse_timeout, Cli, Config, Lifetime,
};
use clap::Parser;
use libfuzzer_sys::fuzz_target;

fn config_path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("cachecmd-fuzz-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.toml");
        // Single-threaded target: set once, before anything reads it.
        std::env::set_var("CACHECMD_CONFIG", &path);
        path
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match parse_lifetime(&text) {
        Ok(Lifetime::For(d)) => assert!(!d.is_zero()),
        Ok(Lifetime::Forever) | Err(_) => {}
    }
    if let Ok(d) = parse_timeout(&text) {
        assert!(!d.is_zero());
    }
    let _ = parse_size(&text);
    let now = match data.get(..8) {
        Some(b) => {
            UNIX_EPOCH + Duration::from_secs(u64::from_le_bytes(b.try_into().unwrap()) % (1 << 36))
        }
        None => SystemTime::now(),
    };
    if let Ok(at) = parse_expires_at(&text, now) {
        assert!(at > now, "--expires-at accepted an instant not after now");
    }
    if let Some(rest) = data.get(8..) {
        if let Ok(at) = parse_expires_at(&String::from_utf8_lossy(rest), now) {
            assert!(at > now);
        }
    }

    std::fs::write(config_path(), data).unwrap();
    if let Ok(config) = Config::load() {
        let cli = Cli::try_parse_from(["cachecmd", "true"]).unwrap();
        let _ = config.common(&cli.run.key.common);
        let _ = config.limits(&cli.run.limits);
        let _ = config.key(&cli.run.key);
        let _ = config.run(cli.run);
    }
});
