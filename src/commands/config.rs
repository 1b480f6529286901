//! `cachecmd config [--json]`: the effective configuration and where each
//! value comes from, as `ccache -p` prints it: one `(ORIGIN) key = value`
//! line per setting, where ORIGIN is a flag, a `CACHECMD_*` variable, the
//! config file and line, or `default`. The values and their origins are
//! computed by `settings::Config::describe`; this file only prints them.

use std::io::Write as _;

use serde::Serialize;

use crate::cli::ConfigArgs;
use crate::error::{escape, Result};
use crate::settings::{Config, Origin, Setting, Shown};

pub fn config(config: &Config, args: ConfigArgs) -> Result<i32> {
    let settings = config.describe(&args)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let rows: Vec<Json> = settings.iter().map(Json::from).collect();
        serde_json::to_writer_pretty(&mut out, &rows)?;
        writeln!(out)?;
    } else {
        for setting in &settings {
            writeln!(out, "{}", line(setting))?;
        }
    }
    Ok(0)
}

/// `(ORIGIN) key = value`, control characters escaped.
fn line(setting: &Setting) -> String {
    let value = match &setting.value {
        Some(Shown::Text(text)) => text.clone(),
        Some(Shown::List(names)) => names.join(", "),
        None => "none".to_string(),
    };
    let note = setting.note.map(|note| format!(" ({note})")).unwrap_or_default();
    escape(&format!("({}) {} = {value}{note}", origin(&setting.origin), setting.key))
}

fn origin(origin: &Origin) -> String {
    match origin {
        Origin::Flag(name) | Origin::Env(name) => name.to_string(),
        Origin::File { path, line: Some(line) } => format!("{}:{line}", path.display()),
        Origin::File { path, line: None } => path.display().to_string(),
        Origin::Default => "default".to_string(),
    }
}

/// One setting in `--json`: `source` is `flag`, `env`, `file` or
/// `default`; `name` the flag or variable; `path` and `line` the file's.
#[derive(Serialize)]
struct Json {
    key: &'static str,
    value: serde_json::Value,
    source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'static str>,
}

impl From<&Setting> for Json {
    fn from(setting: &Setting) -> Json {
        let value = match &setting.value {
            Some(Shown::Text(text)) => serde_json::Value::from(text.as_str()),
            Some(Shown::List(names)) => serde_json::Value::from(names.clone()),
            None => serde_json::Value::Null,
        };
        let (source, name, path, line) = match &setting.origin {
            Origin::Flag(name) => ("flag", Some(*name), None, None),
            Origin::Env(name) => ("env", Some(*name), None, None),
            Origin::File { path, line } => ("file", None, Some(path.display().to_string()), *line),
            Origin::Default => ("default", None, None, None),
        };
        Json { key: setting.key, value, source, name, path, line, note: setting.note }
    }
}
