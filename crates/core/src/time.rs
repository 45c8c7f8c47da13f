//! UTC time: the injectable [`Clock`], and the parsing and formatting of the
//! instants policies and observation records are written in (RFC 3339, UTC).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, UtcOffset};

use crate::invalid::Invalid;

/// Where decisions get the current time. Always UTC (a [`SystemTime`]).
///
/// Inject a [`FixedClock`] in tests so expiry does not depend on today's date.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant.
    fn now(&self) -> SystemTime;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock stopped at one instant.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub SystemTime);

impl FixedClock {
    /// A clock stopped at an RFC 3339 UTC instant or at the start of a UTC date.
    ///
    /// ```
    /// use egress_policy_core::FixedClock;
    /// let clock = FixedClock::parse("2026-06-01T12:00:00Z").unwrap();
    /// assert!(FixedClock::parse("not a time").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<FixedClock, InstantError> {
        parse_instant(s).map(FixedClock)
    }
}

impl Clock for FixedClock {
    fn now(&self) -> SystemTime {
        self.0
    }
}

/// Why [`parse_instant`] refused its input. `Display` says what to write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InstantError {
    /// Neither a date `YYYY-MM-DD` nor an RFC 3339 instant.
    #[error("`{input}` is not a date or an RFC 3339 instant ({reason})")]
    Malformed {
        /// The input.
        input: String,
        /// What the RFC 3339 parser said.
        reason: String,
    },
    /// An RFC 3339 instant with an offset other than UTC.
    #[error("`{input}` is not in UTC; write it with `Z`, e.g. `{suggestion}`")]
    NotUtc {
        /// The input.
        input: String,
        /// The same instant in UTC.
        suggestion: String,
    },
}

/// Parses an RFC 3339 instant that is explicitly UTC (`Z` or `+00:00`), or a date
/// `YYYY-MM-DD` as the start of that UTC day.
///
/// ```
/// use egress_policy_core::time::{InstantError, format_rfc3339, parse_instant};
/// assert_eq!(format_rfc3339(parse_instant("2027-01-31")?), "2027-01-31T00:00:00Z");
/// assert!(matches!(parse_instant("2027-01-31T18:00:00+02:00"), Err(InstantError::NotUtc { .. })));
/// # Ok::<(), InstantError>(())
/// ```
pub fn parse_instant(s: &str) -> Result<SystemTime, InstantError> {
    if let Ok(date) = parse_date(s) {
        return Ok(date_start(date));
    }
    let dt = OffsetDateTime::parse(s, &Rfc3339).map_err(|e| InstantError::Malformed {
        input: s.to_string(),
        reason: e.to_string(),
    })?;
    if dt.offset() != UtcOffset::UTC {
        return Err(InstantError::NotUtc {
            input: s.to_string(),
            suggestion: format_rfc3339(to_system(dt)),
        });
    }
    Ok(to_system(dt))
}

/// Parses an `expires` value: a date is valid through that UTC day (the instant
/// returned is the start of the next day); an RFC 3339 instant must be UTC.
pub(crate) fn parse_expiry(s: &str) -> Result<SystemTime, Invalid> {
    if let Ok(date) = parse_date(s) {
        let next = date.next_day().ok_or_else(|| Invalid::new(format!("`{s}` is out of range")))?;
        return Ok(date_start(next));
    }
    parse_instant(s).map_err(|e| {
        Invalid::new(format!(
            "{e}; write a date like `2027-01-31` or an instant like `2027-01-31T18:00:00Z`"
        ))
    })
}

fn parse_date(s: &str) -> Result<Date, ()> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    if s.len() != 10 {
        return Err(());
    }
    Date::parse(s, &fmt).map_err(|_| ())
}

fn date_start(date: Date) -> SystemTime {
    to_system(date.midnight().assume_utc())
}

fn to_system(dt: OffsetDateTime) -> SystemTime {
    // Whole seconds plus nanoseconds: nanoseconds since 1970 overflow u64 after 2554.
    let secs = dt.unix_timestamp();
    let nanos = Duration::from_nanos(u64::from(dt.nanosecond()));
    if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs()) + nanos
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs()) + nanos
    }
}

/// Formats an instant as RFC 3339 UTC (`2027-02-01T00:00:00Z`).
pub fn format_rfc3339(t: SystemTime) -> String {
    let dt = OffsetDateTime::from(t);
    dt.format(&Rfc3339).unwrap_or_else(|_| "out-of-range".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_valid_through_the_day() {
        let at = parse_expiry("2027-01-31").unwrap();
        assert_eq!(format_rfc3339(at), "2027-02-01T00:00:00Z");
        let at = parse_expiry("2027-01-31T18:30:00Z").unwrap();
        assert_eq!(format_rfc3339(at), "2027-01-31T18:30:00Z");
        assert!(
            parse_expiry("2027-01-31T18:30:00+02:00")
                .unwrap_err()
                .message
                .contains("not in UTC")
        );
        assert!(parse_expiry("2027-02-30").is_err());
        assert!(parse_expiry("tomorrow").is_err());
        assert_eq!(
            parse_expiry("2027-01-31T18:30:00+00:00").unwrap(),
            parse_expiry("2027-01-31T18:30:00Z").unwrap()
        );
    }
}
