//! Timestamps as the schemas store them.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use crate::error::invalid;
use tessera_core::AdapterError;

/// `t` in UTC, cut to `precision_nanos` (1_000 for microseconds, 1_000_000 for
/// milliseconds). Cutting here rather than letting the database round keeps what we
/// return equal to what a later read gives.
pub(crate) fn truncate(t: OffsetDateTime, precision_nanos: u32) -> OffsetDateTime {
    let t = t.to_offset(UtcOffset::UTC);
    let nanos = t.nanosecond() - t.nanosecond() % precision_nanos;
    t.replace_nanosecond(nanos).unwrap_or(t)
}

/// The naive UTC date-time MySQL's `DATETIME(3)` stores.
#[cfg(feature = "mysql")]
pub(crate) fn to_naive_utc(t: OffsetDateTime) -> PrimitiveDateTime {
    let t = truncate(t, 1_000_000);
    PrimitiveDateTime::new(t.date(), t.time())
}

/// JavaScript's `Date.prototype.toISOString()`: what `@auth/kysely-adapter` stores in
/// SQLite (`2024-05-01T12:00:00.000Z`).
#[cfg(feature = "sqlite")]
pub(crate) fn to_iso(t: OffsetDateTime) -> Result<String, AdapterError> {
    let t = truncate(t, 1_000_000);
    t.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .map_err(|e| {
        AdapterError::with_source(
            tessera_core::AdapterErrorKind::Other,
            "cannot format timestamp",
            e,
        )
    })
}

/// Parses a stored text timestamp: RFC 3339 (what JS and Tessera write), SQLite's
/// `CURRENT_TIMESTAMP` form `YYYY-MM-DD HH:MM:SS[.fff]` taken as UTC, or a number of
/// milliseconds since the epoch (Prisma; SQLite turns numbers into text in a TEXT column).
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
pub(crate) fn parse_text(s: &str) -> Result<OffsetDateTime, AdapterError> {
    if let Ok(ms) = s.parse::<i64>() {
        return from_unix_millis(ms);
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(t.to_offset(UtcOffset::UTC));
    }
    let naive = format_description!(
        version = 2,
        "[year]-[month]-[day][first [T][ ]][hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    PrimitiveDateTime::parse(s, naive)
        .map(PrimitiveDateTime::assume_utc)
        .map_err(|_| invalid(format!("stored timestamp {s:?} is not a date")))
}

/// A stored number of milliseconds since the epoch (Prisma's SQLite `DateTime`).
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
pub(crate) fn from_unix_millis(ms: i64) -> Result<OffsetDateTime, AdapterError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|_| invalid(format!("stored timestamp {ms} is out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_and_normalises() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_999_999_999)
            .unwrap()
            .to_offset(UtcOffset::from_hms(5, 30, 0).unwrap());
        let ms = truncate(t, 1_000_000);
        assert_eq!(ms.offset(), UtcOffset::UTC);
        assert_eq!(ms.unix_timestamp_nanos(), 1_700_000_000_999_000_000);
    }

    #[test]
    fn parses_stored_forms() {
        let want = OffsetDateTime::from_unix_timestamp(1_714_564_800).unwrap();
        for s in [
            "2024-05-01T12:00:00.000Z",
            "2024-05-01T12:00:00Z",
            "2024-05-01T14:00:00+02:00",
            "2024-05-01 12:00:00",
            "2024-05-01T12:00:00",
        ] {
            assert_eq!(parse_text(s).unwrap(), want, "{s}");
        }
        assert!(parse_text("yesterday").is_err());
        assert_eq!(parse_text("1714564800000").unwrap(), want);
        assert_eq!(from_unix_millis(1_714_564_800_000).unwrap(), want);
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn iso_like_javascript() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_714_564_800_123_456_789).unwrap();
        assert_eq!(to_iso(t).unwrap(), "2024-05-01T12:00:00.123Z");
    }
}
