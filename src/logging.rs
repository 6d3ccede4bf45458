//! The log: env_logger for `RUST_LOG`'s syntax, with the level set by `--log-level` (issue 21)
//! and changeable on SIGHUP. Without `RUST_LOG` every module passes env_logger's own filter and
//! `log::set_max_level` alone decides; with it, `RUST_LOG` also caps what a level can show.

use log::LevelFilter;
use std::sync::OnceLock;

/// The level when `--log-level` is not given: `RUST_LOG`'s, else warn.
static DEFAULT: OnceLock<LevelFilter> = OnceLock::new();

/// Install the logger (once per process) at `level`, or the default.
pub fn init(level: Option<LevelFilter>) {
    let from_env = std::env::var("RUST_LOG").is_ok();
    let logger =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("trace"))
            .build();
    let default = if from_env {
        logger.filter()
    } else {
        LevelFilter::Warn
    };
    let _ = DEFAULT.set(default);
    if log::set_boxed_logger(Box::new(logger)).is_ok() {
        set_level(level);
    }
}

/// Log at `level` from now on (`None`: the default).
pub fn set_level(level: Option<LevelFilter>) {
    let default = DEFAULT.get().copied().unwrap_or(LevelFilter::Warn);
    log::set_max_level(level.unwrap_or(default));
}
