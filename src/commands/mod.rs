//! One file per subcommand; `run` is the default mode.

pub mod audit;
pub mod bkt;
pub mod clear;
pub mod completions;
pub mod config;
pub mod evict;
pub mod gc;
pub mod json;
pub mod key;
pub mod list;
pub mod listed;
pub mod man;
pub mod remote_admin;
pub mod run;
pub mod show;
pub mod stats;
