//! Instants, calendar days and "the user's day" (CONTRACT §1).
//!
//! Instants are kept at millisecond precision: what is stored is what is shown
//! (`2024-07-11T10:30:00.000Z`). Only rows of the previous service carry microseconds.

use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveTime, SecondsFormat, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Now, at millisecond precision.
pub fn now() -> DateTime<Utc> {
    truncate_to_millis(Utc::now())
}

pub fn truncate_to_millis(instant: DateTime<Utc>) -> DateTime<Utc> {
    let nanos = instant.nanosecond() % 1_000_000_000;
    instant
        .with_nanosecond(nanos - nanos % 1_000_000)
        .unwrap_or(instant)
}

/// An RFC 3339 instant (any offset), as UTC at millisecond precision. One that leaves the
/// years RFC 3339 can write once in UTC (`0000-01-01T00:30:00+01:00`) is refused, so every
/// instant taken can be shown.
pub fn parse_instant(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .ok()
        .map(|instant| truncate_to_millis(instant.with_timezone(&Utc)))
        .filter(|instant| (0..=9999).contains(&instant.year()))
}

/// A `YYYY-MM-DD` calendar date (exactly that form: no time, no offset).
pub fn parse_date(raw: &str) -> Option<NaiveDate> {
    if raw.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()
}

/// `2024-07-11T10:30:00.000Z`.
pub fn format_instant(instant: &DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `#[serde(with = "shared::time::instant")]` for `DateTime<Utc>` fields.
pub mod instant {
    use super::*;

    pub fn serialize<S: Serializer>(value: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_instant(value))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let raw = String::deserialize(d)?;
        parse_instant(&raw).ok_or_else(|| serde::de::Error::custom("expected an RFC 3339 instant"))
    }
}

/// `#[serde(with = "shared::time::optional_instant")]` for `Option<DateTime<Utc>>` fields.
pub mod optional_instant {
    use super::*;

    pub fn serialize<S: Serializer>(
        value: &Option<DateTime<Utc>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(instant) => s.serialize_str(&format_instant(instant)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|raw| {
                parse_instant(&raw)
                    .ok_or_else(|| serde::de::Error::custom("expected an RFC 3339 instant"))
            })
            .transpose()
    }
}

/// The days a user can be in at `instant`, whatever their zone: the UTC day and the ones
/// either side of it, since no offset reaches a day (chrono bounds them below 24 h). A read
/// that does not know the user's zone yet asks for all three and picks the user's day after.
pub fn days_of_any_zone(instant: &DateTime<Utc>) -> [NaiveDate; 3] {
    let day = instant.date_naive();
    [
        day.pred_opt().unwrap_or(day),
        day,
        day.succ_opt().unwrap_or(day),
    ]
}

/// A user's IANA time zone (`preferences.timezone`); it decides the user's day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserZone(Tz);

impl UserZone {
    pub const UTC: UserZone = UserZone(Tz::UTC);

    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// The zone of a stored `preferences.timezone`: none, or one this build does not know (an
    /// older tz database), is UTC.
    pub fn stored(name: Option<&str>) -> Self {
        name.and_then(|name| name.parse().ok()).unwrap_or_default()
    }

    /// The user's day that contains `instant`.
    pub fn day_of(&self, instant: &DateTime<Utc>) -> NaiveDate {
        instant.with_timezone(&self.0).date_naive()
    }

    /// The user's today.
    pub fn today(&self) -> NaiveDate {
        self.day_of(&Utc::now())
    }

    /// The user's time of day at `instant`.
    pub fn time_of(&self, instant: &DateTime<Utc>) -> NaiveTime {
        instant.with_timezone(&self.0).time()
    }

    /// The instant the user's clock shows `time` on `date`. A time shown twice (the hour a
    /// change of offset repeats) is its first; a time never shown (the hour a change skips)
    /// moves to the next valid instant, the end of the gap. Gaps begin and end on whole
    /// minutes, so the first valid whole minute after `time` is that end.
    pub fn instant_at(&self, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        let local = date.and_time(time);
        if let Some(instant) = self.0.from_local_datetime(&local).earliest() {
            return instant.with_timezone(&Utc);
        }
        let minute = local
            .with_second(0)
            .and_then(|at| at.with_nanosecond(0))
            .unwrap_or(local);
        (1..=24 * 60)
            .map(|minutes| minute + Duration::minutes(minutes))
            .find_map(|probe| self.0.from_local_datetime(&probe).earliest())
            .map_or_else(
                || Utc.from_utc_datetime(&local),
                |at| at.with_timezone(&Utc),
            )
    }

    /// The first instant of the user's day `date`. Where a zone skips midnight (a DST gap),
    /// the day starts at the first instant that exists.
    pub fn start_of(&self, date: NaiveDate) -> DateTime<Utc> {
        let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
        let mut probe = midnight;
        for _ in 0..48 {
            if let Some(start) = self.0.from_local_datetime(&probe).earliest() {
                return start.with_timezone(&Utc);
            }
            probe += Duration::minutes(30);
        }
        Utc.from_utc_datetime(&midnight)
    }
}

impl Default for UserZone {
    fn default() -> Self {
        UserZone::UTC
    }
}

impl FromStr for UserZone {
    type Err = ();

    /// Only canonical-looking IANA names (`Europe/Berlin`, `UTC`), matched case-sensitively.
    fn from_str(raw: &str) -> Result<Self, ()> {
        let tz: Tz = raw.parse().map_err(|_| ())?;
        if tz.name() != raw {
            return Err(());
        }
        Ok(UserZone(tz))
    }
}

impl fmt::Display for UserZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for UserZone {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// Calories and macros as JSON numbers with at most 2 decimals; whole values print as
/// integers (`350`, not `350.0`), as the contract's examples show.
pub mod amount {
    use serde::Serializer;

    pub fn round(value: f64) -> f64 {
        let rounded = (value * 100.0).round() / 100.0;
        if rounded == 0.0 { 0.0 } else { rounded }
    }

    pub fn serialize<S: Serializer>(value: &f64, s: S) -> Result<S::Ok, S::Error> {
        let rounded = round(*value);
        if rounded.fract() == 0.0 && rounded.abs() < 9.0e15 {
            s.serialize_i64(rounded as i64)
        } else {
            s.serialize_f64(rounded)
        }
    }

    /// For `Option<f64>` fields.
    pub mod optional {
        use serde::Serializer;

        pub fn serialize<S: Serializer>(value: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
            match value {
                Some(value) => super::serialize(value, s),
                None => s.serialize_none(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_zone_is_in_one_of_the_days_of_any_zone() {
        let instants = [
            "1800-01-01T00:00:00Z",
            "1970-01-01T00:00:00Z",
            "2024-07-11T00:00:00Z",
            "2024-07-11T11:59:59.999Z",
            "2024-12-31T23:59:59.999Z",
            "2038-03-28T12:00:00Z",
        ];
        for instant in instants.map(|raw| parse_instant(raw).unwrap()) {
            let days = days_of_any_zone(&instant);
            for tz in chrono_tz::TZ_VARIANTS {
                let day = UserZone(tz).day_of(&instant);
                assert!(days.contains(&day), "{tz} at {instant}: {day}");
            }
        }
        // The extremes: UTC−12 is still on yesterday at noon, UTC+14 already on tomorrow.
        let noon = parse_instant("2024-07-11T11:00:00Z").unwrap();
        let zone = |name: &str| name.parse::<UserZone>().unwrap();
        assert_eq!(zone("Etc/GMT+12").day_of(&noon), days_of_any_zone(&noon)[0]);
        assert_eq!(
            zone("Pacific/Kiritimati").day_of(&noon),
            days_of_any_zone(&noon)[2]
        );
    }

    #[test]
    fn instants_print_with_millis_and_z() {
        let instant = parse_instant("2024-07-11T12:30:00.123456+02:00").unwrap();
        assert_eq!(format_instant(&instant), "2024-07-11T10:30:00.123Z");
        let whole = parse_instant("2024-07-11T10:30:00Z").unwrap();
        assert_eq!(format_instant(&whole), "2024-07-11T10:30:00.000Z");
    }

    #[test]
    fn only_rfc3339_instants_and_plain_dates_parse() {
        for bad in [
            "2024-07-11",
            "2024-07-11 10:30:00",
            "yesterday",
            "",
            "2024-13-01T00:00:00Z",
            "0000-01-01T00:30:00+01:00",
            "9999-12-31T23:30:00-01:00",
        ] {
            assert!(parse_instant(bad).is_none(), "{bad}");
        }
        for edge in ["0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z"] {
            assert_eq!(
                format_instant(&parse_instant(edge).unwrap()),
                edge.replace("00Z", "00.000Z")
            );
        }
        assert_eq!(
            parse_date("2024-02-29"),
            NaiveDate::from_ymd_opt(2024, 2, 29)
        );
        for bad in [
            "2023-02-29",
            "2024-2-1",
            "2024-02-01T00:00:00Z",
            "20240201",
            "",
        ] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_users_day_follows_the_zone() {
        let instant = parse_instant("2024-07-11T23:30:00Z").unwrap();
        let auckland: UserZone = "Pacific/Auckland".parse().unwrap();
        let los_angeles: UserZone = "America/Los_Angeles".parse().unwrap();
        assert_eq!(auckland.day_of(&instant).to_string(), "2024-07-12");
        assert_eq!(los_angeles.day_of(&instant).to_string(), "2024-07-11");
        assert_eq!(UserZone::UTC.day_of(&instant).to_string(), "2024-07-11");
    }

    #[test]
    fn zone_names_must_be_exact_iana_names() {
        assert!("Europe/Berlin".parse::<UserZone>().is_ok());
        assert!("UTC".parse::<UserZone>().is_ok());
        for bad in [
            "europe/berlin",
            "Mars/Olympus",
            "",
            "+02:00",
            "Europe/Berlin ",
        ] {
            assert!(bad.parse::<UserZone>().is_err(), "{bad}");
        }
    }

    #[test]
    fn day_start_handles_a_midnight_dst_gap() {
        // Chile skipped from 00:00 to 01:00 on 2022-09-11.
        let santiago: UserZone = "America/Santiago".parse().unwrap();
        let date = NaiveDate::from_ymd_opt(2022, 9, 11).unwrap();
        let start = santiago.start_of(date);
        assert_eq!(santiago.day_of(&start), date);
        assert_eq!(format_instant(&start), "2022-09-11T04:00:00.000Z");
    }

    #[test]
    fn a_local_time_is_found_across_changes_of_offset() {
        let at = |zone: &str, date: &str, time: &str| {
            let zone: UserZone = zone.parse().unwrap();
            let time = NaiveTime::parse_from_str(time, "%H:%M:%S%.f").unwrap();
            format_instant(&zone.instant_at(parse_date(date).unwrap(), time))
        };
        // An ordinary day, and the time of day read back.
        assert_eq!(
            at("Europe/Berlin", "2024-07-11", "12:30:00"),
            "2024-07-11T10:30:00.000Z"
        );
        let berlin: UserZone = "Europe/Berlin".parse().unwrap();
        let instant = parse_instant("2024-07-11T10:30:15.250Z").unwrap();
        assert_eq!(berlin.time_of(&instant).to_string(), "12:30:15.250");
        // Berlin skips 02:00–03:00 on 2024-03-31, New York on 2024-03-10: the next valid
        // instant is the gap's end, 03:00 local.
        for time in ["02:00:00", "02:30:45.5", "02:59:59.999"] {
            assert_eq!(
                at("Europe/Berlin", "2024-03-31", time),
                "2024-03-31T01:00:00.000Z",
                "{time}"
            );
            assert_eq!(
                at("America/New_York", "2024-03-10", time),
                "2024-03-10T07:00:00.000Z",
                "{time}"
            );
        }
        assert_eq!(
            at("Europe/Berlin", "2024-03-31", "03:00:00"),
            "2024-03-31T01:00:00.000Z"
        );
        // 02:30 happens twice in Berlin on 2024-10-27: the first, still at +02:00.
        assert_eq!(
            at("Europe/Berlin", "2024-10-27", "02:30:00"),
            "2024-10-27T00:30:00.000Z"
        );
        assert_eq!(
            at("America/New_York", "2024-11-03", "01:30:00"),
            "2024-11-03T05:30:00.000Z"
        );
    }

    #[test]
    fn amounts_round_to_two_decimals_and_whole_values_are_integers() {
        let json = |v: f64| {
            #[derive(Serialize)]
            struct W(#[serde(with = "amount")] f64);
            serde_json::to_string(&W(v)).unwrap()
        };
        assert_eq!(json(350.0), "350");
        assert_eq!(json(12.345), "12.35");
        assert_eq!(json(0.1 + 0.2), "0.3");
        assert_eq!(json(-0.001), "0");
    }
}
