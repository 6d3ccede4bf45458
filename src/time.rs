//! The clock as the core sees it: read once per loop iteration by the server and passed in, so
//! the core never reads a clock and tests choose the time.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// One loop iteration's time. `mono` drives deadlines (it never jumps); `wall` stamps what is
/// stored, read afresh each iteration so a box that boots without a clock and gets NTP later
/// stamps correct times from then on, without a restart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    pub mono: Instant,
    pub wall: SystemTime,
}

impl Now {
    /// The real time: only the event loop (and start-up) call this.
    pub fn read() -> Now {
        Now {
            mono: Instant::now(),
            wall: SystemTime::now(),
        }
    }

    /// Milliseconds since the Unix epoch (0 for a clock set before 1970).
    pub fn unix_ms(&self) -> u64 {
        self.wall
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }

    /// The same clock `d` later (simulated time in tests).
    pub fn after(self, d: Duration) -> Now {
        Now {
            mono: self.mono + d,
            wall: self.wall + d,
        }
    }
}
