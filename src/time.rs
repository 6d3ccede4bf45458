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

// §6 menus: history timestamps.
/// The civil (proleptic Gregorian) date of a day count since 1970-01-01, as `(year, month,
/// day)`: Howard Hinnant's `civil_from_days`, valid for every `i64` day this server can see.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March = 0
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32; // [1, 31]
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32; // [1, 12]
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `YYYY-MM-DD HH:MM:SS` in UTC for milliseconds since the Unix epoch.
pub fn utc_timestamp(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// RFC 3339 in UTC to the millisecond (`2026-11-23T01:57:03.120Z`) for milliseconds since the
/// Unix epoch: the log's timestamps (issue 21).
pub fn rfc3339_utc(unix_ms: u64) -> String {
    let mut out = Vec::with_capacity(24);
    push_rfc3339_utc(unix_ms, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// [`rfc3339_utc`] appended to `out`, digit by digit: IRC's `server-time` tag renders it for
/// every tagged fan-out line (issue 22), where `format!` cost 4,300 instructions a line.
pub fn push_rfc3339_utc(unix_ms: u64, out: &mut Vec<u8>) {
    let secs = unix_ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    let mut digits = |v: u64, width: u32, end: u8| {
        for p in (0..width).rev() {
            out.push(b'0' + (v / 10u64.pow(p) % 10) as u8);
        }
        out.push(end);
    };
    digits(y.clamp(0, 9999) as u64, 4, b'-');
    digits(u64::from(m), 2, b'-');
    digits(u64::from(d), 2, b'T');
    digits(rem / 3600, 2, b':');
    digits(rem % 3600 / 60, 2, b':');
    digits(rem % 60, 2, b'.');
    digits(unix_ms % 1000, 3, b'Z');
}

/// Days since 1970-01-01 of a civil date: Howard Hinnant's `days_from_civil`.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400); // [0, 399]
    let mp = i64::from((month + 9) % 12); // March = 0
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// Milliseconds since the Unix epoch of an RFC 3339 UTC time as [`rfc3339_utc`] writes it
/// (`2026-11-23T01:57:03.120Z`; the fraction may be absent or of any length): what IRC's
/// `CHATHISTORY` queries give (issue 22). `None` for anything else or a time before 1970.
pub fn parse_rfc3339_utc(s: &str) -> Option<u64> {
    let s = s.strip_suffix('Z')?;
    let (date, clock) = s.split_once('T')?;
    let num = |t: &str, len: usize| -> Option<u32> {
        (t.len() == len && t.bytes().all(|b| b.is_ascii_digit())).then(|| t.parse().ok())?
    };
    let mut d = date.split('-');
    let (y, m, day) = (num(d.next()?, 4)?, num(d.next()?, 2)?, num(d.next()?, 2)?);
    let (hms, frac) = clock.split_once('.').unwrap_or((clock, ""));
    let mut t = hms.split(':');
    let (h, min, sec) = (num(t.next()?, 2)?, num(t.next()?, 2)?, num(t.next()?, 2)?);
    if d.next().is_some() || t.next().is_some() || !(1..=12).contains(&m) || day == 0 {
        return None;
    }
    if day > 31 || h > 23 || min > 59 || sec > 60 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let ms: u64 = format!("{frac:0<3}").get(..3)?.parse().ok()?;
    let days = u64::try_from(days_from_civil(i64::from(y), m, day)).ok()?;
    let secs = days * 86_400 + u64::from(h) * 3600 + u64::from(min) * 60 + u64::from(sec);
    Some(secs * 1000 + ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_times_read_back() {
        for ms in [0, 7, 951_782_399_000, 1_700_000_000_999, 4_102_444_800_000] {
            assert_eq!(parse_rfc3339_utc(&rfc3339_utc(ms)), Some(ms), "{ms}");
        }
        assert_eq!(
            parse_rfc3339_utc("2020-01-01T00:00:00Z"),
            Some(1_577_836_800_000)
        );
        assert_eq!(
            parse_rfc3339_utc("2020-01-01T00:00:00.5Z"),
            Some(1_577_836_800_500)
        );
        for bad in [
            "",
            "2020-01-01",
            "2020-13-01T00:00:00Z",
            "2020-01-01T00:00:00",
            "x",
        ] {
            assert_eq!(parse_rfc3339_utc(bad), None, "{bad}");
        }
        for days in [-1, 0, 59, 11_016, 47_541] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn civil_dates_including_leap_years() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(59), (1970, 3, 1), "1970 is not a leap year");
        // 2000 is a leap year (divisible by 400), 1900 and 2100 are not.
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(11_017), (2000, 3, 1));
        assert_eq!(civil_from_days(-25_509), (1900, 2, 28));
        assert_eq!(civil_from_days(-25_508), (1900, 3, 1), "no 1900-02-29");
        assert_eq!(civil_from_days(47_540), (2100, 2, 28));
        assert_eq!(civil_from_days(47_541), (2100, 3, 1), "no 2100-02-29");
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(19_783), (2024, 3, 1));
        assert_eq!(civil_from_days(19_722), (2023, 12, 31));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        // Every day of 1999-2001 against a naive day-by-day count.
        let mut expect = (1999i64, 1u32, 1u32);
        let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        for days in 10_592..11_688 {
            assert_eq!(civil_from_days(days), expect, "day {days}");
            let len = match expect.1 {
                2 if leap(expect.0) => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            expect = if expect.2 < len {
                (expect.0, expect.1, expect.2 + 1)
            } else if expect.1 < 12 {
                (expect.0, expect.1 + 1, 1)
            } else {
                (expect.0 + 1, 1, 1)
            };
        }
    }

    #[test]
    fn utc_timestamps() {
        assert_eq!(utc_timestamp(0), "1970-01-01 00:00:00");
        assert_eq!(utc_timestamp(1_700_000_000_999), "2023-11-14 22:13:20");
        assert_eq!(utc_timestamp(951_782_399_000), "2000-02-28 23:59:59");
        assert_eq!(utc_timestamp(951_782_400_000), "2000-02-29 00:00:00");
        assert_eq!(utc_timestamp(4_102_444_800_000), "2100-01-01 00:00:00");
        assert_eq!(rfc3339_utc(1_700_000_000_999), "2023-11-14T22:13:20.999Z");
        assert_eq!(rfc3339_utc(7), "1970-01-01T00:00:00.007Z");
        // Written digit by digit (issue 22): the same text as the `format!` it replaced.
        for ms in (0..4_000_000_000_000u64)
            .step_by(7_777_777_777)
            .chain([86_399_999, 951_782_400_000])
        {
            let date = utc_timestamp(ms).replacen(' ', "T", 1);
            assert_eq!(rfc3339_utc(ms), format!("{date}.{:03}Z", ms % 1000), "{ms}");
        }
    }
}
