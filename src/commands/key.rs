//! `cachecmd key [--explain | --json]`: print the key a run would use, or
//! each part that went into it. Variable values never appear (see
//! `key::explain`): only whether each variable is set.

use serde::Serialize;

use crate::error::Result;

use super::json::{MaterialJson, OsJson, SCHEMA};
use crate::cli::KeyCommandArgs;
use crate::entry::KeyDetails;
use crate::key::KeyMaterial;
use crate::settings::Config;
use crate::store::disk::DiskStore;
use crate::store::statcache::StatCache;

pub fn key(config: &Config, args: KeyCommandArgs) -> Result<i32> {
    let spec = config.key(&args.key)?;
    let common = config.common(&args.key.common)?;
    let store = DiskStore::open_existing(&common.cache_dir).ok().flatten();
    let material = spec.capture(&args.command, &mut StatCache::new(store.as_ref()))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&KeyJson::new(&material))?);
    } else if args.explain {
        print!("{}", material.explain());
        print_traced_inputs(store.as_ref(), &material);
    } else {
        println!("{}", material.key().hex());
    }
    Ok(0)
}

/// `key --json`: the key and every part of it, in `show --json`'s terms.
#[derive(Serialize)]
struct KeyJson {
    schema: u32,
    key: String,
    command: Vec<OsJson>,
    /// `null` with `--no-cwd`.
    cwd: Option<OsJson>,
    /// Each keyed variable and whether it is set (never its value).
    env: Vec<EnvJson>,
    scope: Option<OsJson>,
    #[serde(flatten)]
    material: MaterialJson,
    /// SHA-256 of stdin with `--stdin`, as `--explain` shows it.
    stdin_sha256: Option<String>,
    expires_from: Option<String>,
}

#[derive(Serialize)]
struct EnvJson {
    name: OsJson,
    set: bool,
}

impl KeyJson {
    fn new(material: &KeyMaterial) -> KeyJson {
        let details = KeyDetails::from_material(material, usize::MAX);
        KeyJson {
            schema: SCHEMA,
            key: material.key().hex(),
            command: material.argv.iter().map(|a| OsJson::os(a)).collect(),
            cwd: material.cwd.as_ref().map(|c| OsJson::os(c.as_os_str())),
            env: material
                .env
                .iter()
                .map(|(name, value)| EnvJson { name: OsJson::os(name), set: value.is_some() })
                .collect(),
            scope: material.scope.as_deref().map(OsJson::os),
            material: MaterialJson::from(&details),
            stdin_sha256: material.stdin.as_ref().map(|s| hex::encode(s.digest)),
            expires_from: material.expires_from.clone(),
        }
    }
}

/// With `--trace-inputs`, the inputs the recorded runs were found to use.
fn print_traced_inputs(store: Option<&DiskStore>, material: &crate::key::KeyMaterial) {
    let index =
        store.filter(|_| material.trace).and_then(|s| super::run::read_index(s, &material.key()));
    match index {
        Some(index) => print!("{}", super::run::describe_index(&index)),
        None if material.trace => println!("traced inputs: none recorded yet"),
        None => {}
    }
}
