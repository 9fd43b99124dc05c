//! Field-by-field validation of JSON request bodies, in one place.
//!
//! Bodies are read as a `serde_json::Value` and checked here rather than deserialized into
//! structs, so every problem names its field (`preferences.timezone`), numbers must be JSON
//! numbers (never booleans or numeric strings), and all problems of a request are reported
//! together. A handler writes nothing until [`Fields::finish`] has succeeded.

use std::ops::RangeInclusive;

use serde_json::{Map, Value};

use crate::error::{Error, FieldErrors, Result};

/// Whether a field must be there, and whether `null` is a value for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    /// Absent or `null` is an error.
    Required,
    /// May be absent; `null` is an error.
    Optional,
    /// May be absent or `null` (`null` clears it).
    Nullable,
}

/// What a request said about one field.
#[derive(Clone, Debug, PartialEq)]
pub enum Field<T> {
    Absent,
    Null,
    Value(T),
    /// Present but wrong; the problem has been recorded.
    Invalid,
}

impl<T> Field<T> {
    /// The value, if one was given and valid.
    pub fn value(self) -> Option<T> {
        match self {
            Field::Value(value) => Some(value),
            _ => None,
        }
    }

    /// For an update: `None` leaves the stored value alone, `Some(None)` clears it.
    pub fn update(self) -> Option<Option<T>> {
        match self {
            Field::Value(value) => Some(Some(value)),
            Field::Null => Some(None),
            Field::Absent | Field::Invalid => None,
        }
    }
}

/// Length limits of a text field, in characters, after trimming.
#[derive(Clone, Copy, Debug)]
pub struct Len {
    pub min: usize,
    pub max: usize,
}

impl Len {
    pub const fn between(min: usize, max: usize) -> Self {
        Self { min, max }
    }

    pub const fn at_most(max: usize) -> Self {
        Self { min: 0, max }
    }
}

/// The fields of one JSON object, and the problems found in it so far.
pub struct Fields<'v> {
    map: &'v Map<String, Value>,
    prefix: String,
    errors: FieldErrors,
}

impl<'v> Fields<'v> {
    /// The request body, which must be a JSON object.
    pub fn of(body: &'v Value) -> Result<Self> {
        match body {
            Value::Object(map) => Ok(Self {
                map,
                prefix: String::new(),
                errors: FieldErrors::new(),
            }),
            _ => Err(Error::field("body", "must be a JSON object")),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    /// Records `problem` for `name` (for rules that span fields).
    pub fn reject(&mut self, name: &str, problem: impl Into<String>) {
        let key = self.path(name);
        self.errors.entry(key).or_insert_with(|| problem.into());
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Every field not in `allowed` is a problem.
    pub fn deny_unknown(&mut self, allowed: &[&str]) {
        let unknown: Vec<String> = self
            .map
            .keys()
            .filter(|key| !allowed.contains(&key.as_str()))
            .cloned()
            .collect();
        for key in unknown {
            self.reject(&key, "unknown field");
        }
    }

    /// A nested object; its problems come back with [`Fields::absorb`].
    pub fn object(&mut self, name: &str, presence: Presence) -> Field<Fields<'v>> {
        let prefix = self.path(name);
        self.read(name, presence, "must be an object", |value| match value {
            Value::Object(map) => Some(Fields {
                map,
                prefix: format!("{prefix}."),
                errors: FieldErrors::new(),
            }),
            _ => None,
        })
    }

    /// Takes over the problems of a nested object.
    pub fn absorb(&mut self, nested: Fields<'v>) {
        self.errors.extend(nested.errors);
    }

    /// A JSON number within `range` (booleans and numeric strings are not numbers).
    pub fn number(
        &mut self,
        name: &str,
        presence: Presence,
        range: RangeInclusive<f64>,
    ) -> Field<f64> {
        let problem = format!(
            "must be a number between {} and {}",
            range.start(),
            range.end()
        );
        self.read(name, presence, &problem, |value| {
            value
                .as_f64()
                .filter(|n| n.is_finite() && range.contains(n))
        })
    }

    /// A JSON number without a fractional part, within `range`.
    pub fn integer(
        &mut self,
        name: &str,
        presence: Presence,
        range: RangeInclusive<i64>,
    ) -> Field<i64> {
        let problem = format!(
            "must be an integer between {} and {}",
            range.start(),
            range.end()
        );
        self.read(name, presence, &problem, |value| {
            let number = value.as_i64().or_else(|| {
                value
                    .as_f64()
                    .filter(|n| n.fract() == 0.0 && n.abs() < 1e15)
                    .map(|n| n as i64)
            })?;
            range.contains(&number).then_some(number)
        })
    }

    pub fn boolean(&mut self, name: &str, presence: Presence) -> Field<bool> {
        self.read(name, presence, "must be true or false", Value::as_bool)
    }

    /// A string, trimmed, whose length in characters is within `len`, without NUL characters
    /// (which no database text column stores).
    pub fn text(&mut self, name: &str, presence: Presence, len: Len) -> Field<String> {
        let problem = text_problem(len);
        match self.read(name, presence, &problem, |value| trimmed_within(value, len)) {
            Field::Value(text) if text.contains('\0') => {
                self.reject(name, "must not contain NUL characters");
                Field::Invalid
            }
            field => field,
        }
    }

    /// A string that `parse` accepts; `expected` says what it should be.
    pub fn parsed<T>(
        &mut self,
        name: &str,
        presence: Presence,
        expected: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Field<T> {
        self.read(name, presence, expected, |value| {
            value.as_str().and_then(parse)
        })
    }

    /// One of `choices`, exactly.
    pub fn choice(
        &mut self,
        name: &str,
        presence: Presence,
        choices: &[&'static str],
    ) -> Field<&'static str> {
        let problem = format!("must be one of: {}", choices.join(", "));
        self.read(name, presence, &problem, |value| {
            let raw = value.as_str()?;
            choices.iter().copied().find(|choice| *choice == raw)
        })
    }

    /// An array of at most `max_items` strings, each trimmed, within `len` and without NUL.
    pub fn text_list(
        &mut self,
        name: &str,
        presence: Presence,
        max_items: usize,
        len: Len,
    ) -> Field<Vec<String>> {
        let problem = format!(
            "must be an array of at most {max_items} strings, each {}",
            text_problem(len).trim_start_matches("must be a string of ")
        );
        self.read(name, presence, &problem, |value| {
            let items = value.as_array().filter(|items| items.len() <= max_items)?;
            items
                .iter()
                .map(|item| trimmed_within(item, len).filter(|text| !text.contains('\0')))
                .collect()
        })
    }

    /// `Ok` when no problem was recorded, else the whole list as one 400.
    pub fn finish(self) -> Result<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(self.errors))
        }
    }

    fn path(&self, name: &str) -> String {
        format!("{}{}", self.prefix, name)
    }

    fn read<T>(
        &mut self,
        name: &str,
        presence: Presence,
        problem: &str,
        convert: impl FnOnce(&'v Value) -> Option<T>,
    ) -> Field<T> {
        match self.map.get(name) {
            None if presence == Presence::Required => {
                self.reject(name, "is required");
                Field::Invalid
            }
            None => Field::Absent,
            Some(Value::Null) if presence == Presence::Nullable => Field::Null,
            Some(Value::Null) => {
                self.reject(name, "must not be null");
                Field::Invalid
            }
            Some(value) => match convert(value) {
                Some(converted) => Field::Value(converted),
                None => {
                    self.reject(name, problem);
                    Field::Invalid
                }
            },
        }
    }
}

fn text_problem(len: Len) -> String {
    if len.min == 0 {
        format!("must be a string of at most {} characters", len.max)
    } else {
        format!("must be a string of {} to {} characters", len.min, len.max)
    }
}

fn trimmed_within(value: &Value, len: Len) -> Option<String> {
    let text = value.as_str()?.trim();
    let count = text.chars().count();
    (len.min..=len.max)
        .contains(&count)
        .then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn problems(result: Result<()>) -> FieldErrors {
        match result {
            Err(Error::Validation(fields)) => fields,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn the_body_must_be_an_object() {
        for body in [json!([]), json!("x"), json!(1), json!(null)] {
            assert!(
                matches!(Fields::of(&body), Err(Error::Validation(f)) if f.contains_key("body"))
            );
        }
    }

    #[test]
    fn numbers_must_be_json_numbers_in_range() {
        let body = json!({"a": true, "b": "12", "c": 10001, "d": -1, "e": 12.5, "f": null});
        let mut fields = Fields::of(&body).unwrap();
        for name in ["a", "b", "c", "d"] {
            assert_eq!(
                fields.number(name, Presence::Required, 0.0..=10000.0),
                Field::Invalid
            );
        }
        assert_eq!(
            fields.number("e", Presence::Required, 0.0..=10000.0),
            Field::Value(12.5)
        );
        assert_eq!(
            fields.number("f", Presence::Nullable, 0.0..=10.0),
            Field::Null
        );
        assert_eq!(
            fields.number("g", Presence::Optional, 0.0..=10.0),
            Field::Absent
        );
        let errors = problems(fields.finish());
        assert_eq!(errors.len(), 4);
        assert_eq!(errors["a"], "must be a number between 0 and 10000");
    }

    #[test]
    fn integers_accept_whole_numbers_only() {
        let body = json!({"a": 30, "b": 30.0, "c": 30.5, "d": 12, "e": "30"});
        let mut fields = Fields::of(&body).unwrap();
        assert_eq!(
            fields.integer("a", Presence::Required, 13..=120),
            Field::Value(30)
        );
        assert_eq!(
            fields.integer("b", Presence::Required, 13..=120),
            Field::Value(30)
        );
        assert_eq!(
            fields.integer("c", Presence::Required, 13..=120),
            Field::Invalid
        );
        assert_eq!(
            fields.integer("d", Presence::Required, 13..=120),
            Field::Invalid
        );
        assert_eq!(
            fields.integer("e", Presence::Required, 13..=120),
            Field::Invalid
        );
        assert_eq!(problems(fields.finish()).len(), 3);
    }

    #[test]
    fn text_is_trimmed_and_measured_in_characters() {
        let body =
            json!({"a": "  Salad  ", "b": "   ", "c": "ü".repeat(5), "d": "ü".repeat(6), "e": 5});
        let mut fields = Fields::of(&body).unwrap();
        assert_eq!(
            fields.text("a", Presence::Required, Len::between(1, 5)),
            Field::Value("Salad".into())
        );
        assert_eq!(
            fields.text("b", Presence::Required, Len::between(1, 5)),
            Field::Invalid
        );
        assert_eq!(
            fields.text("c", Presence::Required, Len::between(1, 5)),
            Field::Value("ü".repeat(5))
        );
        assert_eq!(
            fields.text("d", Presence::Required, Len::between(1, 5)),
            Field::Invalid
        );
        assert_eq!(
            fields.text("e", Presence::Required, Len::between(1, 5)),
            Field::Invalid
        );
        assert_eq!(problems(fields.finish()).len(), 3);
    }

    #[test]
    fn nul_characters_are_refused() {
        let body = json!({"name": "a\0b", "tags": ["ok", "x\0"]});
        let mut fields = Fields::of(&body).unwrap();
        assert_eq!(
            fields.text("name", Presence::Required, Len::between(1, 5)),
            Field::Invalid
        );
        assert_eq!(
            fields.text_list("tags", Presence::Required, 5, Len::between(1, 5)),
            Field::Invalid
        );
        let errors = problems(fields.finish());
        assert_eq!(errors["name"], "must not contain NUL characters");
        assert!(errors.contains_key("tags"));
    }

    #[test]
    fn required_optional_and_nullable() {
        let body = json!({"n": null});
        let mut fields = Fields::of(&body).unwrap();
        assert_eq!(
            fields.boolean("missing", Presence::Required),
            Field::Invalid
        );
        assert_eq!(fields.boolean("n", Presence::Optional), Field::Invalid);
        assert_eq!(fields.boolean("other", Presence::Optional), Field::Absent);
        let errors = problems(fields.finish());
        assert_eq!(errors["missing"], "is required");
        assert_eq!(errors["n"], "must not be null");
    }

    #[test]
    fn nested_objects_report_dotted_paths_and_unknown_fields() {
        let body = json!({"preferences": {"timezone": "Nowhere/City", "extra": 1}, "bogus": 2});
        let mut fields = Fields::of(&body).unwrap();
        fields.deny_unknown(&["preferences"]);
        let Field::Value(mut preferences) = fields.object("preferences", Presence::Optional) else {
            panic!("expected an object")
        };
        preferences.deny_unknown(&["timezone"]);
        let zone = preferences.parsed(
            "timezone",
            Presence::Optional,
            "must be an IANA time zone",
            |raw| raw.parse::<crate::time::UserZone>().ok(),
        );
        assert_eq!(zone, Field::Invalid);
        fields.absorb(preferences);
        let errors = problems(fields.finish());
        assert_eq!(errors["bogus"], "unknown field");
        assert_eq!(errors["preferences.extra"], "unknown field");
        assert_eq!(errors["preferences.timezone"], "must be an IANA time zone");
    }

    #[test]
    fn choices_and_lists() {
        let body = json!({"meal": "lunch", "bad": "brunch", "tags": ["  Vegan ", "Halal"], "long": vec!["x"; 21]});
        let mut fields = Fields::of(&body).unwrap();
        let meals = ["breakfast", "lunch", "dinner", "snack"];
        assert_eq!(
            fields.choice("meal", Presence::Required, &meals),
            Field::Value("lunch")
        );
        assert_eq!(
            fields.choice("bad", Presence::Required, &meals),
            Field::Invalid
        );
        assert_eq!(
            fields.text_list("tags", Presence::Optional, 20, Len::between(1, 50)),
            Field::Value(vec!["Vegan".to_string(), "Halal".to_string()])
        );
        assert_eq!(
            fields.text_list("long", Presence::Optional, 20, Len::between(1, 50)),
            Field::Invalid
        );
        let errors = problems(fields.finish());
        assert_eq!(
            errors["bad"],
            "must be one of: breakfast, lunch, dinner, snack"
        );
        assert!(errors["long"].starts_with("must be an array of at most 20 strings"));
    }

    #[test]
    fn field_update_semantics() {
        assert_eq!(Field::Value(1).update(), Some(Some(1)));
        assert_eq!(Field::<i32>::Null.update(), Some(None));
        assert_eq!(Field::<i32>::Absent.update(), None);
    }
}
