//! The `kubectl` binary: parses the command line and runs the library.

fn main() {
    std::process::exit(kubectl::main_entry());
}
