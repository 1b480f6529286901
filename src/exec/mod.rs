//! Running commands: the process plumbing shared by run mode and the
//! pass-through, with its unsafe parts gathered in [`sys`].

pub mod sys;
pub mod tee;
