//! The log (issue 21): one line per event on stderr, `<RFC 3339 UTC time> <LEVEL> <module>:
//! <text>`, without the time when `JOURNAL_STREAM` says stderr goes to journald (which stamps
//! every line itself). env_logger reads `RUST_LOG`'s syntax; the level is `--log-level`,
//! changeable on SIGHUP. Without `RUST_LOG` every module passes env_logger's own filter and
//! `log::set_max_level` alone decides; with it, `RUST_LOG` also caps what a level can show.
//! A write to a closed stderr is dropped, never a panic.

use log::LevelFilter;
use std::io::Write;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// The level when `--log-level` is not given: `RUST_LOG`'s, else warn.
static DEFAULT: OnceLock<LevelFilter> = OnceLock::new();

/// Install the logger (once per process) at `level`, or the default.
pub fn init(level: Option<LevelFilter>) {
    let from_env = std::env::var("RUST_LOG").is_ok();
    // systemd sets JOURNAL_STREAM for a service whose stderr is the journal.
    let stamped = std::env::var_os("JOURNAL_STREAM").is_none();
    let logger =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("trace"))
            .format(move |out, record| {
                if stamped {
                    let ms = SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .map_or(0, |d| d.as_millis() as u64);
                    write!(out, "{} ", crate::time::rfc3339_utc(ms))?;
                }
                writeln!(
                    out,
                    "{:<5} {}: {}",
                    record.level(),
                    record.target(),
                    record.args()
                )
            })
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
