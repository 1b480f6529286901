//! The integration tests, as one binary: each module covers one area of
//! the promises in README.md and RELIABILITY.md through the real `cachecmd`
//! binary (or the library, for `properties` and `remote`); `harness` holds
//! what they share.

mod harness;

mod bkt_dropin;
mod concurrency;
mod config_cmd;
mod errors;
mod expires_from;
mod faults;
mod first_hour;
mod inputs_freshness;
mod introspection;
mod lookups;
mod management;
mod miss_pipe;
mod outputs_cli;
mod properties;
#[cfg(feature = "redis")]
mod remote;
#[cfg(feature = "redis")]
mod remote_cli;
#[cfg(feature = "http")]
mod remote_http;
#[cfg(feature = "s3")]
mod remote_s3;
#[cfg(feature = "redis")]
mod remote_tier;
mod run_mode;
mod security;
mod storage;
mod subcommands;
mod trace_inputs;
mod trust_io;
mod trust_run;
mod trust_secrets;
mod trust_signals;
mod trust_store;
