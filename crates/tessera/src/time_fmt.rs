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

/// Writes `n` (`< 100`) as two ASCII digits at `out[0..2]`.
fn put_2(out: &mut [u8], n: u8) {
    if let [tens, ones, ..] = out {
        *tens = b'0' + n / 10 % 10;
        *ones = b'0' + n % 10;
    }
}

/// Pushes `n` as at least `width` decimal digits (zero-padded, `width <= 20`).
fn push_num(out: &mut String, n: u64, width: usize) {
    let mut digits = [0u8; 20];
    let mut len = 0;
    let mut v = n;
    while len < digits.len() && (v > 0 || len < width) {
        digits[len] = b'0' + (v % 10) as u8;
        v /= 10;
        len += 1;
    }
    for &d in digits[..len].iter().rev() {
        out.push(char::from(d));
    }
}

/// Pushes `n` as exactly two decimal digits (`n < 100`).
fn push_2(out: &mut String, n: u8) {
    push_num(out, u64::from(n), 2);
}

/// Pushes `n` in decimal, as JavaScript's `String(n)` writes an integer.
pub(crate) fn push_int(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    push_num(out, n.unsigned_abs(), 1);
}

/// Pushes a year as JavaScript does: four digits for 0..=9999, else a sign and six digits
/// (`+010000`, `-000001`) for ISO strings. `Date` only spans ±275760 years, so six suffice.
fn push_year(out: &mut String, year: i32, extended: bool) {
    if (0..=9999).contains(&year) {
        push_num(out, u64::from(year.unsigned_abs()), 4);
    } else if extended {
        out.push(if year < 0 { '-' } else { '+' });
        push_num(out, u64::from(year.unsigned_abs()), 6);
    } else {
        if year < 0 {
            out.push('-');
        }
        push_num(out, u64::from(year.unsigned_abs()), 4);
    }
}

/// `hh:mm:ss`.
fn push_clock(out: &mut String, (hour, minute, second): (u8, u8, u8)) {
    push_2(out, hour);
    out.push(':');
    push_2(out, minute);
    out.push(':');
    push_2(out, second);
}

/// Appends `Date.prototype.toUTCString()`: `Sun, 27 Dec 2026 14:15:04 GMT`.
pub(crate) fn push_http_date(out: &mut String, at: OffsetDateTime) {
    let at = at.to_offset(UtcOffset::UTC);
    let (year, month, day) = at.to_calendar_date();
    let weekday = WEEKDAYS[at.weekday().number_days_from_monday() as usize];
    let month = MONTHS[usize::from(u8::from(month)) - 1];
    let (hour, minute, second) = at.to_hms();
    if let Ok(y) = u16::try_from(year)
        && y <= 9999
    {
        // Hot path (every session cookie): the fixed-width form in one buffer.
        let mut b = *b"Www, 00 Mmm 0000 00:00:00 GMT";
        b[..3].copy_from_slice(weekday.as_bytes());
        put_2(&mut b[5..], day);
        b[8..11].copy_from_slice(month.as_bytes());
        put_2(&mut b[12..], (y / 100) as u8);
        put_2(&mut b[14..], (y % 100) as u8);
        put_2(&mut b[17..], hour);
        put_2(&mut b[20..], minute);
        put_2(&mut b[23..], second);
        out.push_str(std::str::from_utf8(&b).unwrap_or_default());
        return;
    }
    out.push_str(weekday);
    out.push_str(", ");
    push_2(out, day);
    out.push(' ');
    out.push_str(month);
    out.push(' ');
    push_year(out, year, false);
    out.push(' ');
    push_clock(out, (hour, minute, second));
    out.push_str(" GMT");
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
    let (year, month, day) = at.to_calendar_date();
    let (hour, minute, second, milli) = at.to_hms_milli();
    if let Ok(y) = u16::try_from(year)
        && y <= 9999
    {
        // Hot path (every session read): the fixed-width form in one buffer.
        let mut b = *b"0000-00-00T00:00:00.000Z";
        put_2(&mut b[0..], (y / 100) as u8);
        put_2(&mut b[2..], (y % 100) as u8);
        put_2(&mut b[5..], u8::from(month));
        put_2(&mut b[8..], day);
        put_2(&mut b[11..], hour);
        put_2(&mut b[14..], minute);
        put_2(&mut b[17..], second);
        b[20] = b'0' + (milli / 100) as u8;
        put_2(&mut b[21..], (milli % 100) as u8);
        return std::str::from_utf8(&b).unwrap_or_default().to_owned();
    }
    let mut out = String::with_capacity(27);
    push_year(&mut out, year, true);
    out.push('-');
    push_2(&mut out, u8::from(month));
    out.push('-');
    push_2(&mut out, day);
    out.push('T');
    push_clock(&mut out, (hour, minute, second));
    out.push('.');
    push_num(&mut out, u64::from(milli), 3);
    out.push('Z');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::format_description::FormatItem;
    use time::macros::{datetime, format_description};

    #[test]
    fn integers() {
        for n in [0, 7, 10, 900, -1, -86_400, i64::MAX, i64::MIN] {
            let mut s = String::new();
            push_int(&mut s, n);
            assert_eq!(s, n.to_string());
        }
    }

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
        // Edges of the fixed-width form, as node 20 prints them.
        for (at, iso_js, utc_js) in [
            (
                datetime!(9999-06-07 08:09:10.011 UTC),
                "9999-06-07T08:09:10.011Z",
                "Mon, 07 Jun 9999 08:09:10 GMT",
            ),
            (
                datetime!(0000-06-07 08:09:10.011 UTC),
                "0000-06-07T08:09:10.011Z",
                "Wed, 07 Jun 0000 08:09:10 GMT",
            ),
            (
                datetime!(-0001-06-07 08:09:10.011 UTC),
                "-000001-06-07T08:09:10.011Z",
                "Mon, 07 Jun -0001 08:09:10 GMT",
            ),
        ] {
            assert_eq!(iso(at), iso_js);
            assert_eq!(http_date(at), utc_js);
        }
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
