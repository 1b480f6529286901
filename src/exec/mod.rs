//! Running commands and writing to the caller: spawning with the caller's
//! descriptors and dispositions, the tee into an entry, replay,
//! detached helpers. The unsafe parts are gathered in [`sys`].

pub mod background;
pub mod replay;
pub mod runner;
pub mod stdio;
pub mod sys;
pub mod tee;
