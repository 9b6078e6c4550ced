//! Date formats of JavaScript's `Date`, as next-auth puts them on the wire.

use time::OffsetDateTime;
use time::format_description::FormatItem;
use time::macros::format_description;

const HTTP_DATE: &[FormatItem<'static>] = format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
);
const ISO: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// `Date.prototype.toUTCString()`: `Sun, 27 Dec 2026 14:15:04 GMT`.
pub(crate) fn http_date(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(HTTP_DATE)
        .unwrap_or_default()
}

/// `Date.prototype.toISOString()`: `2026-12-27T14:15:04.123Z`.
pub(crate) fn iso(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(ISO)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats() {
        let at = datetime!(2026-12-07 04:05:06.123456 UTC);
        assert_eq!(http_date(at), "Mon, 07 Dec 2026 04:05:06 GMT");
        assert_eq!(iso(at), "2026-12-07T04:05:06.123Z");
    }
}
