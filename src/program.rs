//! Where a command's program file is: its path when the name has a slash,
//! else the first regular file of that name in `$PATH`, as `execvp` finds it.
//! A leaf shared by the runner (a script's `#!` interpreter, for error
//! messages) and the tracer (a set-user-ID program is not traced).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// The file `program` names, if there is one.
pub fn locate(program: &OsStr) -> Option<PathBuf> {
    let path = Path::new(program);
    if program.as_encoded_bytes().contains(&b'/') {
        return Some(path.to_path_buf());
    }
    let search = std::env::var_os("PATH")?;
    std::env::split_paths(&search).map(|dir| dir.join(path)).find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_with_a_slash_is_its_own_path_and_a_bare_name_is_searched() {
        assert_eq!(locate(OsStr::new("./x/y")), Some(PathBuf::from("./x/y")));
        let sh = locate(OsStr::new("sh")).expect("sh in PATH");
        assert!(sh.is_absolute() && sh.ends_with("sh"), "{}", sh.display());
        assert_eq!(locate(OsStr::new("cachecmd-no-such-program-4711")), None);
    }
}
