//! What every log of the user's own dated records shares: food, weight, activity and water
//! entries (CONTRACT §3 "Food diary" and "Health metrics"). Each record has a `timestamp`
//! (when it happened, at most 24 h ahead, default now), the user's day of it fixed when it is
//! written, and a `createdAt`; lists take the same date filters and cursor paging; `POST`
//! honours `Idempotency-Key`; `PATCH` takes any subset of the `POST` fields; another user's
//! record looks missing. The kinds differ only in their fields and rules ([`Kind`]).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use super::cursor::{Cursor, CursorKey};
use crate::error::{Error, FieldErrors, Result};
use crate::time::{self, UserZone};
use crate::validate::spec::Instant;
use crate::validate::{Field, Fields, Presence, Spec};

/// How far ahead of now a record's `timestamp` may be.
pub const MAX_AHEAD: Duration = Duration::hours(24);

/// The most records one page holds (and its default size).
pub const MAX_PAGE: u32 = 1000;

/// The longest record id (the id columns are `VARCHAR(36)`).
pub const MAX_ID_LEN: usize = 36;

/// A kind of record, as its handlers name it.
pub trait Kind {
    /// `POST /weight-entries`, …: what an `Idempotency-Key` is claimed for.
    const CREATE: &'static str;
    /// `Weight entry not found`, …
    const NOT_FOUND: &'static str;
    /// `Weight entry deleted successfully`, …
    const DELETED: &'static str;
}

/// A record as a listing orders it: by `timestamp`, then id.
pub trait Positioned {
    fn position(&self) -> Cursor;
}

/// `timestamp` of a `POST` or `PATCH` body: an RFC 3339 instant at most 24 hours ahead. On
/// `POST` it may be absent or null (then it is now); on `PATCH` it cannot be null.
pub const TIMESTAMP: Spec<Instant> = Spec {
    name: "timestamp",
    presence: Presence::Defaulted,
    rule: Instant,
    doc: "When it happened: an RFC 3339 instant, at most 24 hours ahead (default: now); it decides the user's day of the record",
    example: "\"2024-07-11T10:30:00Z\"",
};

/// Reads [`TIMESTAMP`]: `Some` when given; too far ahead is a problem of the field.
pub fn read_timestamp(fields: &mut Fields<'_>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    match fields.read(&TIMESTAMP) {
        Field::Value(at) if at > now + MAX_AHEAD => {
            fields.reject(TIMESTAMP.name, "must be at most 24 hours in the future");
            None
        }
        field => field.value(),
    }
}

/// The answer of `DELETE /{kind}/{id}`.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Deleted {
    /// `<Kind> entry deleted successfully`.
    #[schema(example = "Weight entry deleted successfully")]
    pub message: &'static str,
}

/// A query parameter that narrows a listing to one of its values (`mealType`).
#[derive(Clone, Copy, Debug)]
pub struct Filter {
    pub param: &'static str,
    pub choices: &'static [&'static str],
}

/// One page of a listing: records by `(timestamp, id)`, after a cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListQuery {
    /// The first user's day (inclusive).
    pub from: Option<NaiveDate>,
    /// The last user's day (inclusive).
    pub to: Option<NaiveDate>,
    /// The value of the kind's [`Filter`], when given.
    pub only: Option<&'static str>,
    pub after: Option<Cursor>,
    pub limit: u32,
}

impl ListQuery {
    /// Every record of a user, `limit` at a time (the export walks a history this way).
    pub fn all(limit: u32) -> Self {
        Self {
            from: None,
            to: None,
            only: None,
            after: None,
            limit,
        }
    }
}

/// A page of records and, when more match, where the next page starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub records: Vec<T>,
    pub next: Option<Cursor>,
}

/// The query string of a listing: `date` (a `YYYY-MM-DD` day or an instant, meaning the
/// user's day containing it), or `startDate` / `endDate` (inclusive, either alone, the same
/// forms), the kind's `filter`, `limit` (1-1000, default 1000) and `cursor`. Other parameters
/// are ignored; a parameter given twice is a problem; each problem names its parameter.
pub fn parse_list_query(
    raw: Option<&str>,
    zone: UserZone,
    key: &CursorKey,
    filter: Option<Filter>,
) -> Result<ListQuery> {
    let mut params: Vec<(String, String)> = Vec::new();
    let mut errors = FieldErrors::new();
    for (name, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        if params.iter().any(|(seen, _)| *seen == name) {
            errors.insert(name.into_owned(), "must be given at most once".into());
        } else {
            params.push((name.into_owned(), value.into_owned()));
        }
    }
    let param = |name: &str| {
        params
            .iter()
            .find(|(seen, _)| seen == name)
            .map(|(_, value)| value.as_str())
    };
    let mut reject = |name: &str, problem: String| {
        errors.entry(name.to_owned()).or_insert(problem);
    };
    let mut day = |name: &str| {
        let raw = param(name)?;
        let day =
            time::parse_date(raw).or_else(|| time::parse_instant(raw).map(|at| zone.day_of(&at)));
        if day.is_none() {
            reject(
                name,
                "must be a date (YYYY-MM-DD) or an RFC 3339 instant".into(),
            );
        }
        day
    };
    let (date, start, end) = (day("date"), day("startDate"), day("endDate"));
    let (from, to) = match date {
        Some(date) => (Some(date), Some(date)),
        None => (start, end),
    };
    if param("date").is_some() && (param("startDate").is_some() || param("endDate").is_some()) {
        reject(
            "date",
            "cannot be combined with startDate or endDate".into(),
        );
    }
    if let (Some(start), Some(end)) = (start, end)
        && end < start
    {
        reject("endDate", "must not be before startDate".into());
    }
    let only = filter.and_then(|filter| {
        let raw = param(filter.param)?;
        let found = filter.choices.iter().copied().find(|choice| *choice == raw);
        if found.is_none() {
            reject(
                filter.param,
                format!("must be one of: {}", filter.choices.join(", ")),
            );
        }
        found
    });
    let limit = match param("limit") {
        None => MAX_PAGE,
        Some(raw) => match raw.parse::<u32>() {
            Ok(limit) if (1..=MAX_PAGE).contains(&limit) => limit,
            _ => {
                reject(
                    "limit",
                    format!("must be an integer between 1 and {MAX_PAGE}"),
                );
                MAX_PAGE
            }
        },
    };
    let after = param("cursor").and_then(|raw| {
        let cursor = Cursor::decode(raw, key);
        if cursor.is_none() {
            reject("cursor", "must be a cursor from X-Next-Cursor".into());
        }
        cursor
    });
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    Ok(ListQuery {
        from,
        to,
        only,
        after,
        limit,
    })
}

/// A fresh record id.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Whether `raw` could be a record id at all: one that cannot (too long for the column, with
/// control characters) is a missing record, without asking the database.
pub fn plausible_id(raw: &str) -> bool {
    (1..=MAX_ID_LEN).contains(&raw.chars().count()) && !raw.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::secret::Secret;

    const MEALS: Filter = Filter {
        param: "mealType",
        choices: &["breakfast", "lunch"],
    };

    fn key() -> CursorKey {
        CursorKey::derive(&Secret::new("test-secret"))
    }

    fn query(raw: &str) -> Result<ListQuery> {
        parse_list_query(
            Some(raw),
            "Pacific/Auckland".parse().unwrap(),
            &key(),
            Some(MEALS),
        )
    }

    fn date(raw: &str) -> Option<NaiveDate> {
        time::parse_date(raw)
    }

    fn problems(result: Result<ListQuery>) -> FieldErrors {
        match result {
            Err(Error::Validation(fields)) => fields,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn list_parameters_are_read() {
        let all = parse_list_query(None, UserZone::UTC, &key(), None).unwrap();
        assert_eq!(all, ListQuery::all(MAX_PAGE));
        let day = query("date=2024-07-11&mealType=lunch&limit=5&other=1").unwrap();
        assert_eq!((day.from, day.to), (date("2024-07-11"), date("2024-07-11")));
        assert_eq!(day.only, Some("lunch"));
        assert_eq!(day.limit, 5);
        // 23:30 UTC is the next morning in Auckland.
        let instant = query("date=2024-07-11T23:30:00Z").unwrap();
        assert_eq!(instant.from, date("2024-07-12"));
        let range = query("startDate=2024-07-01").unwrap();
        assert_eq!((range.from, range.to), (date("2024-07-01"), None));
        let range = query("endDate=2024-07-01").unwrap();
        assert_eq!((range.from, range.to), (None, date("2024-07-01")));
        // A kind without the filter ignores its parameter.
        let plain = parse_list_query(Some("mealType=x"), UserZone::UTC, &key(), None).unwrap();
        assert_eq!(plain.only, None);
    }

    #[test]
    fn bad_list_parameters_are_named() {
        let cases = [
            ("date=2024-02-30", "date"),
            ("date=", "date"),
            ("date=today", "date"),
            ("startDate=2024-07-02&endDate=2024-07-01", "endDate"),
            ("date=2024-07-01&startDate=2024-07-01", "date"),
            ("mealType=brunch", "mealType"),
            ("limit=0", "limit"),
            ("limit=1001", "limit"),
            ("limit=ten", "limit"),
            ("limit=1.5", "limit"),
            ("cursor=zz", "cursor"),
            ("cursor=", "cursor"),
            ("limit=1&limit=2", "limit"),
        ];
        for (raw, name) in cases {
            let errors = problems(query(raw));
            assert!(errors.contains_key(name), "{raw}: {errors:?}");
        }
    }

    #[test]
    fn implausible_ids_are_not_found() {
        assert!(plausible_id("e1"));
        assert!(plausible_id(&"a".repeat(36)));
        for bad in ["", &"a".repeat(37), "a\0b", "a\nb"] {
            assert!(!plausible_id(bad), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn no_query_string_makes_a_500_or_a_panic(raw in ".{0,80}") {
            match parse_list_query(Some(&raw), UserZone::UTC, &key(), Some(MEALS)) {
                Ok(query) => prop_assert!((1..=MAX_PAGE).contains(&query.limit)),
                Err(err) => prop_assert_eq!(err.code(), "VALIDATION_FAILED"),
            }
        }
    }
}
