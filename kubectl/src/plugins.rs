//! kubectl plugins: an executable `kubectl-<name>` on `$PATH` answers `kubectl <name> …`
//! (the longest `kubectl-a-b` match of the leading arguments wins; built-in commands cannot
//! be replaced), and `kubectl plugin list` lists them with upstream's warnings.

use crate::Output;
use crate::error::CmdError;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

fn path_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for d in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        if !d.as_os_str().is_empty() && !dirs.contains(&d) {
            dirs.push(d);
        }
    }
    dirs
}

fn executable(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The plugin for the leading non-flag `args`, and how many of them its name used.
pub fn find(args: &[String]) -> Option<(PathBuf, usize)> {
    find_in(&path_dirs(), args)
}

fn find_in(dirs: &[PathBuf], args: &[String]) -> Option<(PathBuf, usize)> {
    let words: Vec<&String> = args.iter().take_while(|a| !a.starts_with('-')).collect();
    for n in (1..=words.len()).rev() {
        let name = words[..n]
            .iter()
            .map(|w| w.replace('-', "_"))
            .collect::<Vec<_>>()
            .join("-");
        for dir in dirs {
            let candidate = dir.join(format!("kubectl-{name}"));
            if executable(&candidate) {
                return Some((candidate, n));
            }
        }
    }
    None
}

/// Replaces this process with the plugin; returns only if that failed.
pub fn exec(path: &Path, args: &[String]) -> std::io::Error {
    use std::os::unix::process::CommandExt;
    std::process::Command::new(path).args(args).exec()
}

/// `kubectl plugin list`.
pub fn list(out: &mut Output, name_only: bool) -> Result<i32, CmdError> {
    list_in(&path_dirs(), out, name_only)
}

fn list_in(dirs: &[PathBuf], out: &mut Output, name_only: bool) -> Result<i32, CmdError> {
    let mut seen: Vec<String> = Vec::new();
    let mut warnings = 0;
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else { continue };
        let mut names: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("kubectl-"))
            .collect();
        names.sort();
        for name in names {
            let path = dir.join(&name);
            if seen.is_empty() {
                out.stdout
                    .push_str("The following compatible plugins are available:\n\n");
            }
            out.stdout.push_str(&format!(
                "{}\n",
                if name_only {
                    name.clone()
                } else {
                    path.display().to_string()
                }
            ));
            if !executable(&path) {
                out.stderr.push_str(&format!(
                    "  - warning: {} identified as a kubectl plugin, but it is not executable\n",
                    path.display()
                ));
                warnings += 1;
            }
            if seen.contains(&name) {
                out.stderr.push_str(&format!(
                    "  - warning: {} is overshadowed by a similarly named plugin: {}\n",
                    path.display(),
                    name
                ));
                warnings += 1;
            }
            seen.push(name);
        }
    }
    if seen.is_empty() {
        return Err(CmdError::msg("unable to find any kubectl plugins in your PATH"));
    }
    match warnings {
        0 => Ok(0),
        1 => Err(CmdError::msg("one plugin warning was found")),
        n => Err(CmdError::msg(format!("{n} plugin warnings were found"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin(dir: &Path, name: &str, mode: u32) {
        let p = dir.join(name);
        std::fs::write(&p, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn longest_name_wins_and_listing_warns() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        plugin(a.path(), "kubectl-hello", 0o755);
        plugin(a.path(), "kubectl-hello-big_world", 0o755);
        plugin(a.path(), "kubectl-off", 0o644);
        plugin(b.path(), "kubectl-hello", 0o755);
        let dirs = vec![a.path().to_path_buf(), b.path().to_path_buf()];
        let args = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        let (path, used) = find_in(&dirs, &args("hello big-world x")).unwrap();
        assert_eq!((path, used), (a.path().join("kubectl-hello-big_world"), 2));
        assert_eq!(find_in(&dirs, &args("hello --x")).unwrap().1, 1);
        assert!(find_in(&dirs, &args("off")).is_none(), "not executable");
        let mut out = Output::default();
        let err = list_in(&dirs, &mut out, true).unwrap_err();
        assert_eq!(err.to_string(), "error: 2 plugin warnings were found");
        assert!(
            out.stdout
                .starts_with("The following compatible plugins are available:\n\nkubectl-hello\n")
        );
        assert!(
            out.stderr
                .contains("kubectl-off identified as a kubectl plugin, but it is not executable")
        );
        assert!(
            out.stderr
                .contains("is overshadowed by a similarly named plugin: kubectl-hello")
        );
    }
}
