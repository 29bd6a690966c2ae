//! UTC times as the registry stores them: RFC 3339 with whole seconds and a `Z`
//! (`2026-12-02T06:14:58Z`), the same text on both stores, so outputs compare byte for byte.

use std::time::{SystemTime, UNIX_EPOCH};

/// A calendar time in UTC, to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Utc {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl Utc {
    pub fn now() -> Utc {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Utc::from_unix(secs)
    }

    pub fn from_unix(secs: i64) -> Utc {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        Utc {
            year,
            month,
            day,
            hour: rem / 3600,
            minute: rem % 3600 / 60,
            second: rem % 60,
        }
    }

    /// A time only if every field is in range for its month (a real calendar time).
    pub fn new(
        year: i64,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: u32,
    ) -> Option<Utc> {
        let ok = (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month)
            && hour < 24
            && minute < 60
            && second < 60;
        ok.then_some(Utc {
            year,
            month,
            day,
            hour,
            minute,
            second,
        })
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`, also accepting fractional seconds and a `+00:00`-style offset,
    /// which are normalised to UTC whole seconds.
    pub fn parse_rfc3339(text: &str) -> Option<Utc> {
        let b = text.as_bytes();
        if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
            return None;
        }
        if b[13] != b':' || b[16] != b':' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let s = text.get(r)?;
            s.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| s.parse().ok())?
        };
        let t = Utc::new(
            i64::from(num(0..4)?),
            num(5..7)?,
            num(8..10)?,
            num(11..13)?,
            num(14..16)?,
            num(17..19)?,
        )?;
        let mut rest = &text[19..];
        if let Some(frac) = rest.strip_prefix('.') {
            let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return None;
            }
            rest = &frac[digits..];
        }
        let offset: i64 = match rest {
            "Z" | "z" => 0,
            _ if rest.len() == 6 && matches!(&rest[3..4], ":") => {
                let sign = match &rest[..1] {
                    "+" => 1,
                    "-" => -1,
                    _ => return None,
                };
                let h = i64::from(num_at(rest, 1..3)?);
                let m = i64::from(num_at(rest, 4..6)?);
                if h > 23 || m > 59 {
                    return None;
                }
                sign * (h * 3600 + m * 60)
            }
            _ => return None,
        };
        Some(Utc::from_unix(t.unix() - offset))
    }

    pub fn unix(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * 86_400
            + i64::from(self.hour * 3600 + self.minute * 60 + self.second)
    }

    pub fn rfc3339(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// `YYYYMMDDHHmmss`, the dev tag's stamp.
    pub fn compact(&self) -> String {
        format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

fn num_at(text: &str, r: std::ops::Range<usize>) -> Option<u32> {
    let s = text.get(r)?;
    if s.bytes().all(|c| c.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// Now, as the stores write it.
pub fn now_rfc3339() -> String {
    Utc::now().rfc3339()
}

pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

// Howard Hinnant's civil calendar algorithms (public-domain arithmetic on the proleptic
// Gregorian calendar), so no date crate is needed for two conversions.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc3339_round_trips_and_normalises_offsets() {
        let t = Utc::parse_rfc3339("2025-08-15T12:30:00Z").unwrap();
        assert_eq!(t.rfc3339(), "2025-08-15T12:30:00Z");
        let t = Utc::parse_rfc3339("2025-08-15T14:30:00.123+02:00").unwrap();
        assert_eq!(t.rfc3339(), "2025-08-15T12:30:00Z");
        assert!(Utc::parse_rfc3339("2025-02-30T00:00:00Z").is_none());
        assert!(Utc::parse_rfc3339("2025-08-15 12:30").is_none());
        assert!(Utc::parse_rfc3339("2025-08-15T12:30:00").is_none());
    }

    #[test]
    fn leap_days_exist_only_in_leap_years() {
        assert!(Utc::new(2024, 2, 29, 0, 0, 0).is_some());
        assert!(Utc::new(2025, 2, 29, 0, 0, 0).is_none());
        assert!(Utc::new(2000, 2, 29, 0, 0, 0).is_some());
        assert!(Utc::new(1900, 2, 29, 0, 0, 0).is_none());
    }

    proptest! {
        #[test]
        fn unix_seconds_round_trip_through_the_calendar(secs in -5_000_000_000i64..50_000_000_000) {
            let t = Utc::from_unix(secs);
            prop_assert_eq!(t.unix(), secs);
            prop_assert_eq!(Utc::parse_rfc3339(&t.rfc3339()), Some(t));
        }
    }
}
