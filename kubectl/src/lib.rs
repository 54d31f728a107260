//! kubectl in Rust: upstream kubectl 1.33's verbs, flags, kubeconfig handling and output,
//! built on kube-rs. `main_entry` parses the command line, runs one command on a
//! single-threaded runtime and returns the exit code.

pub mod cli;
pub mod cmd;
pub mod discovery;
pub mod error;
pub mod explain;
pub mod fetch;
pub mod http;
pub mod inputs;
pub mod kubeconfig;
pub mod merge;
pub mod plugins;
pub mod printers;
pub mod resources;
pub mod tar;

use clap::Parser;
use std::io::Write;

/// The version this kubectl reports (it follows the API it speaks).
pub const VERSION: &str = "v1.33.0+rs";

/// What a command printed; written out once it returns, or earlier by `flush` (commands
/// that stream, such as `get --watch`).
#[derive(Default)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Writes what was printed so far to the process's stdout and stderr.
    pub fn flush(&mut self) {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(std::mem::take(&mut self.stdout).as_bytes());
        let _ = stdout.flush();
        let _ = std::io::stderr()
            .lock()
            .write_all(std::mem::take(&mut self.stderr).as_bytes());
    }
}

/// Runs kubectl with the process's arguments and returns the exit code.
pub fn main_entry() -> i32 {
    let argv: Vec<String> = std::env::args().collect();
    run_args(&argv)
}

/// Runs kubectl with `argv` (argv[0] is the program name) and returns the exit code.
pub fn run_args(argv: &[String]) -> i32 {
    // Shell completion requests: the raw words, parsed by the completion engine itself.
    match argv.get(1).map(String::as_str) {
        Some("__complete") => return cmd::completion::complete(&argv[2..], true),
        Some("__completeNoDesc") => return cmd::completion::complete(&argv[2..], false),
        _ => {}
    }
    // `kubectl <name> …` with no such built-in command runs the `kubectl-<name>` plugin.
    if let Some(first) = argv.get(1).filter(|a| !a.starts_with('-')) {
        use clap::CommandFactory;
        let builtin = cli::Cli::command().find_subcommand(first).is_some();
        if !builtin && let Some((path, used)) = plugins::find(&argv[1..]) {
            let e = plugins::exec(&path, &argv[1 + used..]);
            eprintln!("error: {e}");
            return 1;
        }
    }
    let cli = match cli::Cli::try_parse_from(argv) {
        Ok(c) => c,
        Err(e) => {
            return match cli::usage_error(&e, argv) {
                Some(msg) => {
                    eprintln!("{msg}");
                    1
                }
                None => {
                    let _ = e.print();
                    0
                }
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let mut out = Output::default();
    let result = runtime.block_on(cmd::run(cli, &mut out));
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.stdout.as_bytes());
    let _ = stdout.flush();
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(out.stderr.as_bytes());
    match result {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(stderr, "{e}");
            1
        }
    }
}
