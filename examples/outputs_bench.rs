//! Drives `cachecmd::outputs` from the command line, for bench/outputs.sh:
//!
//! ```text
//! outputs_bench archive CWD ARCHIVE PATH...   archive PATHs (relative to CWD)
//! outputs_bench restore CWD ARCHIVE PATH...   restore ARCHIVE (of those PATHs) into CWD
//! ```
//!
//! Prints the summary on stderr.

use std::error::Error;
use std::ffi::OsString;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use cachecmd::test_support::{archive, restore};

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    match (args.first().and_then(|a| a.to_str()), args.len()) {
        (Some("archive"), 3..) => {
            let outputs: Vec<PathBuf> = args[3..].iter().map(PathBuf::from).collect();
            let mut out = BufWriter::new(File::create(&args[2])?);
            let summary = archive(&outputs, Path::new(&args[1]), &mut out)?;
            out.flush()?;
            eprintln!("archived {} files, {} bytes", summary.files, summary.bytes);
        }
        (Some("restore"), 3..) => {
            let outputs: Vec<PathBuf> = args[3..].iter().map(PathBuf::from).collect();
            let summary = restore(File::open(&args[2])?, Path::new(&args[1]), &outputs)?;
            eprintln!("restored {} files, {} bytes", summary.files, summary.bytes);
        }
        _ => {
            eprintln!("usage: outputs_bench archive|restore CWD ARCHIVE PATH...");
            std::process::exit(2);
        }
    }
    Ok(())
}
