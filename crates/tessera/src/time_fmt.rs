//! Date formats of JavaScript's `Date`, as next-auth puts them on the wire.
//!
//! Written by hand rather than with `time`'s format descriptions: both run on every session
//! read (the cookie's `Expires` and the session's `expires`), where a formatter costs more
//! than the rest of the cookie.

use time::{OffsetDateTime, UtcOffset};

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Pushes `n` as at least `width` decimal digits (zero-padded), in one `push_str`.
fn push_num(out: &mut String, n: u32, width: usize) {
    let mut digits = [b'0'; 10];
    let mut i = digits.len();
    let mut v = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let start = i.min(digits.len().saturating_sub(width));
    // Only ASCII digits were written.
    out.push_str(std::str::from_utf8(&digits[start..]).unwrap_or(""));
}

/// Pushes a year as JavaScript does: four digits for 0..=9999, else a sign and six digits
/// (`+010000`, `-000001`) for ISO strings. `Date` only spans ±275760 years, so six suffice.
fn push_year(out: &mut String, year: i32, extended: bool) {
    if (0..=9999).contains(&year) {
        push_num(out, year.unsigned_abs(), 4);
    } else if extended {
        out.push(if year < 0 { '-' } else { '+' });
        push_num(out, year.unsigned_abs(), 6);
    } else {
        if year < 0 {
            out.push('-');
        }
        push_num(out, year.unsigned_abs(), 4);
    }
}

/// Appends `Date.prototype.toUTCString()`: `Sun, 27 Dec 2026 14:15:04 GMT`.
pub(crate) fn push_http_date(out: &mut String, at: OffsetDateTime) {
    let at = at.to_offset(UtcOffset::UTC);
    out.push_str(WEEKDAYS[at.weekday().number_days_from_monday() as usize]);
    out.push_str(", ");
    push_num(out, u32::from(at.day()), 2);
    out.push(' ');
    out.push_str(MONTHS[usize::from(u8::from(at.month())) - 1]);
    out.push(' ');
    push_year(out, at.year(), false);
    out.push(' ');
    push_clock(out, at);
    out.push_str(" GMT");
}

fn push_clock(out: &mut String, at: OffsetDateTime) {
    push_num(out, u32::from(at.hour()), 2);
    out.push(':');
    push_num(out, u32::from(at.minute()), 2);
    out.push(':');
    push_num(out, u32::from(at.second()), 2);
}

/// `Date.prototype.toUTCString()`: `Sun, 27 Dec 2026 14:15:04 GMT`.
#[cfg(test)]
pub(crate) fn http_date(at: OffsetDateTime) -> String {
    let mut s = String::with_capacity(29);
    push_http_date(&mut s, at);
    s
}

/// `Date.prototype.toISOString()`: `2026-12-27T14:15:04.123Z`.
pub(crate) fn iso(at: OffsetDateTime) -> String {
    let at = at.to_offset(UtcOffset::UTC);
    let mut out = String::with_capacity(24);
    push_year(&mut out, at.year(), true);
    out.push('-');
    push_num(&mut out, u32::from(u8::from(at.month())), 2);
    out.push('-');
    push_num(&mut out, u32::from(at.day()), 2);
    out.push('T');
    push_clock(&mut out, at);
    out.push('.');
    push_num(&mut out, u32::from(at.millisecond()), 3);
    out.push('Z');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::format_description::FormatItem;
    use time::macros::{datetime, format_description};

    #[test]
    fn formats() {
        let at = datetime!(2026-12-07 04:05:06.123456 UTC);
        assert_eq!(http_date(at), "Mon, 07 Dec 2026 04:05:06 GMT");
        assert_eq!(iso(at), "2026-12-07T04:05:06.123Z");
        let offset = datetime!(2027-01-01 01:30:00 +02:00);
        assert_eq!(http_date(offset), "Thu, 31 Dec 2026 23:30:00 GMT");
        assert_eq!(iso(offset), "2026-12-31T23:30:00.000Z");
        assert_eq!(
            iso(datetime!(0999-03-04 00:00:00 UTC)),
            "0999-03-04T00:00:00.000Z"
        );
    }

    /// The hand-written formatters agree with `time`'s format descriptions over a sweep of
    /// instants (every weekday, month, leap day, and times across the day).
    #[test]
    fn agrees_with_format_descriptions() {
        const HTTP: &[FormatItem<'static>] = format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        );
        const ISO: &[FormatItem<'static>] = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        let start = datetime!(1999-12-25 00:00:00.000 UTC).unix_timestamp_nanos();
        // 2000 steps of 13 h 17 min 3.007 s cover about three years, leap day included.
        let step: i128 = (13 * 3600 + 17 * 60 + 3) * 1_000_000_000 + 7_000_000;
        for i in 0..2000 {
            let at = OffsetDateTime::from_unix_timestamp_nanos(start + i * step).unwrap();
            assert_eq!(http_date(at), at.format(HTTP).unwrap(), "{at}");
            assert_eq!(iso(at), at.format(ISO).unwrap(), "{at}");
        }
    }
}
