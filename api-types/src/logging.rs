//! Logging setup shared by every binary: `tracing` to stderr, verbosity from upstream's `-v N`.

/// Installs a stderr subscriber. `-v 0..=1` logs info, `2..=4` debug, `5+` trace;
/// `RUST_LOG` overrides.
pub fn init(verbosity: u8) {
    let level = match verbosity {
        0..=1 => "info",
        2..=4 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
