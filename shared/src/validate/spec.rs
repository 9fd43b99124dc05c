//! One definition of each request field: its name, whether it must be there, and its rule.
//! A parser reads a field through its [`Spec`] ([`super::Fields::read`]), and the OpenAPI
//! schema of the body is made from the same specs ([`Body::schema`]), so the published bounds
//! and nullability are the parser's own. A test probes every bound of every body against the
//! published document.
//!
//! utoipa's derive takes bounds as literals in attributes, which would be a second copy of
//! each bound; the schemas here are written as JSON Schema from the specs instead.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};

use super::{Len, Presence};
use crate::domain::ids::ObjectKey;
use crate::time;

/// Whether a body creates (its required fields required) or changes (any of them, at least
/// one; the ones that cannot be null still cannot).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Create,
    Change,
}

impl Presence {
    /// The presence of a field in `mode`.
    pub fn in_mode(self, mode: Mode) -> Presence {
        match (mode, self) {
            (Mode::Change, Presence::Required | Presence::Defaulted) => Presence::Optional,
            (Mode::Create, Presence::Defaulted) => Presence::Nullable,
            (_, presence) => presence,
        }
    }
}

/// What a field's value must be.
pub trait Rule: Sync {
    type Value;

    /// The value `raw` stands for, or what is wrong with it (the problem a client reads).
    fn check(&self, raw: &Value) -> Result<Self::Value, String>;

    /// The JSON Schema of a value (never `null`: that is the field's presence).
    fn schema(&self) -> Value;
}

/// A field of a body: its name, its presence when a record is created, its rule.
pub struct Spec<R> {
    pub name: &'static str,
    pub presence: Presence,
    pub rule: R,
    /// For the OpenAPI document: what the field means (its bounds are added from the rule).
    pub doc: &'static str,
    /// An example value, as JSON text.
    pub example: &'static str,
}

/// A spec, whatever its rule: what a body's schema needs of it.
pub trait Describe: Sync {
    fn name(&self) -> &'static str;
    fn presence(&self) -> Presence;
    fn schema(&self, mode: Mode) -> Value;
    fn example(&self) -> Value;
}

impl<R: Rule> Describe for Spec<R> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn presence(&self) -> Presence {
        self.presence
    }

    fn schema(&self, mode: Mode) -> Value {
        let mut schema = self.rule.schema();
        if self.presence.in_mode(mode) == Presence::Nullable {
            schema = nullable(schema);
        }
        if let Value::Object(map) = &mut schema {
            if !self.doc.is_empty() {
                map.insert("description".into(), json!(self.doc));
            }
            map.insert("examples".into(), json!([self.example()]));
        }
        schema
    }

    fn example(&self) -> Value {
        serde_json::from_str(self.example).unwrap_or(Value::Null)
    }
}

/// `schema` or `null`.
fn nullable(mut schema: Value) -> Value {
    match schema.get_mut("type") {
        Some(Value::String(kind)) => {
            let kind = std::mem::take(kind);
            schema["type"] = json!([kind, "null"]);
            if let Some(Value::Array(values)) = schema.get_mut("enum") {
                values.push(Value::Null);
            }
            schema
        }
        _ => json!({"oneOf": [schema, {"type": "null"}]}),
    }
}

/// What a body does with fields it does not know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unknown {
    /// Refused, each a 400 naming it.
    Deny,
    /// Ignored (bodies that other services send with extras).
    Ignore,
}

/// A request body: its fields, in the order they are documented.
pub struct Body {
    pub fields: &'static [&'static dyn Describe],
    pub unknown: Unknown,
    pub doc: &'static str,
}

impl Body {
    /// The names of its fields.
    pub fn names(&self) -> Vec<&'static str> {
        self.fields.iter().map(|field| field.name()).collect()
    }

    /// The body's JSON Schema in `mode`.
    pub fn json_schema(&self, mode: Mode) -> Value {
        let properties: serde_json::Map<String, Value> = self
            .fields
            .iter()
            .map(|field| (field.name().to_owned(), field.schema(mode)))
            .collect();
        let mut schema = json!({"type": "object", "properties": properties});
        let required: Vec<&str> = self
            .fields
            .iter()
            .filter(|field| field.presence().in_mode(mode) == Presence::Required)
            .map(|field| field.name())
            .collect();
        if !required.is_empty() {
            schema["required"] = json!(required);
        }
        if self.unknown == Unknown::Deny {
            schema["additionalProperties"] = json!(false);
        }
        if mode == Mode::Change && self.unknown == Unknown::Deny {
            schema["minProperties"] = json!(1);
        } else if mode == Mode::Change {
            // At least one of the fields.
            let any: Vec<Value> = self
                .fields
                .iter()
                .map(|field| json!({"required": [field.name()]}))
                .collect();
            schema["anyOf"] = json!(any);
        }
        schema["examples"] = json!([self.example()]);
        if !self.doc.is_empty() {
            schema["description"] = json!(self.doc);
        }
        schema
    }

    /// A body with every field at its example.
    pub fn example(&self) -> Value {
        let fields: serde_json::Map<String, Value> = self
            .fields
            .iter()
            .map(|field| (field.name().to_owned(), field.example()))
            .collect();
        Value::Object(fields)
    }

    /// The body's schema, as utoipa holds it.
    pub fn schema(&self, mode: Mode) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        serde_json::from_value(self.json_schema(mode)).unwrap_or_default()
    }
}

/// Implements utoipa's `ToSchema` for a body type from its [`Body`].
#[macro_export]
macro_rules! body_schema {
    ($type:ty, $name:literal, $body:expr, $mode:expr) => {
        impl ::utoipa::PartialSchema for $type {
            fn schema() -> ::utoipa::openapi::RefOr<::utoipa::openapi::schema::Schema> {
                $body.schema($mode)
            }
        }

        impl ::utoipa::ToSchema for $type {
            fn name() -> ::std::borrow::Cow<'static, str> {
                ::std::borrow::Cow::Borrowed($name)
            }
        }
    };
}

// --- Rules -------------------------------------------------------------------------------

/// The characters `str::trim` takes off (Unicode `White_Space`), written out so that every
/// regular expression engine reads the schema's patterns the same.
const SPACE: &str =
    r"\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";

/// A string, trimmed, whose length in characters is within `len`, without NUL characters.
pub struct Text(pub Len);

impl Rule for Text {
    type Value = String;

    fn check(&self, raw: &Value) -> Result<String, String> {
        let Len { min, max } = self.0;
        let problem = || {
            if min == 0 {
                format!("must be a string of at most {max} characters")
            } else {
                format!("must be a string of {min} to {max} characters")
            }
        };
        let text = raw.as_str().ok_or_else(problem)?.trim();
        if !(min..=max).contains(&text.chars().count()) {
            return Err(problem());
        }
        if text.contains('\0') {
            return Err("must not contain NUL characters".into());
        }
        Ok(text.to_owned())
    }

    fn schema(&self) -> Value {
        let Len { min, max } = self.0;
        // The trimmed text is within the bounds: blanks around it, then a character that is no
        // blank, then up to max − 2 of any, then one more that is no blank.
        let solid = format!(r"[^{SPACE}\u0000]");
        let core = match max {
            0 => String::new(),
            1 => solid.clone(),
            _ => format!(r"{solid}(?:[^\u0000]{{0,{}}}{solid})?", max - 2),
        };
        let core = if min == 0 {
            format!("(?:{core})?")
        } else {
            core
        };
        json!({"type": "string", "pattern": format!(r"^[{SPACE}]*{core}[{SPACE}]*$")})
    }
}

/// A non-empty string, as it is (not trimmed): a secret someone else judges, such as a
/// password.
pub struct Given;

impl Rule for Given {
    type Value = ();

    fn check(&self, raw: &Value) -> Result<(), String> {
        raw.as_str()
            .filter(|text| !text.is_empty())
            .map(|_| ())
            .ok_or_else(|| "must be a non-empty string".into())
    }

    fn schema(&self) -> Value {
        json!({"type": "string", "minLength": 1})
    }
}

/// A JSON number within the bounds (booleans and numeric strings are not numbers).
pub struct Number {
    pub min: f64,
    pub max: f64,
}

impl Number {
    /// `value`, brought within the bounds.
    pub fn clamp(&self, value: f64) -> f64 {
        value.clamp(self.min, self.max)
    }

    pub fn contains(&self, value: f64) -> bool {
        (self.min..=self.max).contains(&value)
    }
}

impl Rule for Number {
    type Value = f64;

    fn check(&self, raw: &Value) -> Result<f64, String> {
        raw.as_f64()
            .filter(|n| n.is_finite() && (self.min..=self.max).contains(n))
            .ok_or_else(|| format!("must be a number between {} and {}", self.min, self.max))
    }

    fn schema(&self) -> Value {
        json!({"type": "number", "minimum": self.min, "maximum": self.max})
    }
}

/// A JSON number without a fractional part, within the bounds.
pub struct Integer {
    pub min: i64,
    pub max: i64,
}

impl Rule for Integer {
    type Value = i64;

    fn check(&self, raw: &Value) -> Result<i64, String> {
        let problem = || format!("must be an integer between {} and {}", self.min, self.max);
        let number = raw
            .as_i64()
            .or_else(|| {
                raw.as_f64()
                    .filter(|n| n.fract() == 0.0 && n.abs() < 1e15)
                    .map(|n| n as i64)
            })
            .ok_or_else(problem)?;
        if (self.min..=self.max).contains(&number) {
            Ok(number)
        } else {
            Err(problem())
        }
    }

    fn schema(&self) -> Value {
        json!({"type": "integer", "minimum": self.min, "maximum": self.max})
    }
}

/// One of the names, exactly.
pub struct Choice(pub &'static [&'static str]);

impl Rule for Choice {
    type Value = &'static str;

    fn check(&self, raw: &Value) -> Result<&'static str, String> {
        raw.as_str()
            .and_then(|raw| self.0.iter().copied().find(|choice| *choice == raw))
            .ok_or_else(|| format!("must be one of: {}", self.0.join(", ")))
    }

    fn schema(&self) -> Value {
        json!({"type": "string", "enum": self.0})
    }
}

/// An RFC 3339 instant (any offset) whose year in UTC is within 0000–9999.
pub struct Instant;

impl Rule for Instant {
    type Value = DateTime<Utc>;

    fn check(&self, raw: &Value) -> Result<DateTime<Utc>, String> {
        raw.as_str()
            .and_then(time::parse_instant)
            .ok_or_else(|| "must be an RFC 3339 instant".into())
    }

    fn schema(&self) -> Value {
        json!({"type": "string", "format": "date-time"})
    }
}

/// A `YYYY-MM-DD` calendar date.
pub struct Date;

impl Rule for Date {
    type Value = NaiveDate;

    fn check(&self, raw: &Value) -> Result<NaiveDate, String> {
        raw.as_str()
            .and_then(time::parse_date)
            .ok_or_else(|| "must be a date (YYYY-MM-DD)".into())
    }

    fn schema(&self) -> Value {
        json!({"type": "string", "format": "date"})
    }
}

/// `true` or `false`.
pub struct Flag;

impl Rule for Flag {
    type Value = bool;

    fn check(&self, raw: &Value) -> Result<bool, String> {
        raw.as_bool().ok_or_else(|| "must be true or false".into())
    }

    fn schema(&self) -> Value {
        json!({"type": "boolean"})
    }
}

/// An array of at most `max_items` strings, each a [`Text`].
pub struct TextList {
    pub max_items: usize,
    pub item: Len,
}

impl Rule for TextList {
    type Value = Vec<String>;

    fn check(&self, raw: &Value) -> Result<Vec<String>, String> {
        let Len { min, max } = self.item;
        let problem = || {
            format!(
                "must be an array of at most {} strings, each of {min} to {max} characters",
                self.max_items
            )
        };
        let items = raw
            .as_array()
            .filter(|items| items.len() <= self.max_items)
            .ok_or_else(problem)?;
        items
            .iter()
            .map(|item| Text(self.item).check(item).map_err(|_| problem()))
            .collect()
    }

    fn schema(&self) -> Value {
        json!({"type": "array", "maxItems": self.max_items, "items": Text(self.item).schema()})
    }
}

/// The key of an uploaded object (`<userId>/<name>`); whose it must be is the caller's check.
pub struct Key(pub &'static str);

impl Rule for Key {
    type Value = ObjectKey;

    fn check(&self, raw: &Value) -> Result<ObjectKey, String> {
        raw.as_str()
            .and_then(ObjectKey::parse)
            .ok_or_else(|| self.0.to_owned())
    }

    fn schema(&self) -> Value {
        json!({
            "type": "string",
            "pattern": r"^[A-Za-z0-9_-]{1,36}/[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?$",
            "maxLength": 36 + 1 + 128,
        })
    }
}

/// An IANA time zone name, exactly as the tz database spells it (`Europe/Berlin`, `UTC`).
pub struct Zone;

impl Rule for Zone {
    type Value = time::UserZone;

    fn check(&self, raw: &Value) -> Result<time::UserZone, String> {
        raw.as_str()
            .and_then(|raw| raw.parse().ok())
            .ok_or_else(|| "must be an IANA time zone name, such as Europe/Berlin".into())
    }

    fn schema(&self) -> Value {
        let names: Vec<&str> = chrono_tz::TZ_VARIANTS
            .iter()
            .map(|zone| zone.name())
            .collect();
        json!({"type": "string", "enum": names})
    }
}

/// A nested object of its own shape (read with [`super::Fields::object`]).
pub struct Nested {
    pub name: &'static str,
    pub presence: Presence,
    pub body: &'static Body,
    /// The nested body's mode: whether it creates (all its required fields) or changes.
    pub mode: Mode,
    pub doc: &'static str,
}

impl Describe for Nested {
    fn name(&self) -> &'static str {
        self.name
    }

    fn presence(&self) -> Presence {
        self.presence
    }

    fn schema(&self, _mode: Mode) -> Value {
        let mut schema = self.body.json_schema(self.mode);
        if !self.doc.is_empty() {
            schema["description"] = json!(self.doc);
        }
        schema
    }

    fn example(&self) -> Value {
        self.body.example()
    }
}

/// A list of objects of one shape (read with [`super::Fields::objects`]); each object is read
/// in the list's mode and its problems are named by position (`items[3].calories`).
pub struct NestedList {
    pub name: &'static str,
    pub presence: Presence,
    pub body: &'static Body,
    pub mode: Mode,
    pub min: usize,
    pub max: usize,
    pub doc: &'static str,
}

impl NestedList {
    pub fn problem(&self) -> String {
        format!("must be a list of {} to {} objects", self.min, self.max)
    }
}

impl Describe for NestedList {
    fn name(&self) -> &'static str {
        self.name
    }

    fn presence(&self) -> Presence {
        self.presence
    }

    fn schema(&self, _mode: Mode) -> Value {
        let mut schema = json!({
            "type": "array",
            "items": self.body.json_schema(self.mode),
            "minItems": self.min,
            "maxItems": self.max,
        });
        if !self.doc.is_empty() {
            schema["description"] = json!(self.doc);
        }
        schema
    }

    fn example(&self) -> Value {
        json!([self.body.example()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(rule: &Text) -> regex::Regex {
        regex::Regex::new(rule.schema()["pattern"].as_str().unwrap()).unwrap()
    }

    #[test]
    fn a_text_pattern_says_what_trimming_and_the_bounds_say() {
        for (len, cases) in [
            (
                Len::between(1, 5),
                &[
                    "",
                    " ",
                    "a",
                    " a ",
                    "abcde",
                    " abcde ",
                    "abcdef",
                    "a\u{0}",
                    "\u{2003}x\u{3000}",
                    "a b",
                ][..],
            ),
            (Len::at_most(3), &["", "  ", "abc", "abcd", " ab "][..]),
            (Len::between(1, 1), &["", "a", "ab", " a "][..]),
        ] {
            let rule = Text(len);
            let regex = pattern(&rule);
            for case in cases {
                assert_eq!(
                    regex.is_match(case),
                    rule.check(&json!(case)).is_ok(),
                    "{len:?} {case:?}"
                );
            }
        }
    }

    #[test]
    fn nullable_fields_admit_null_in_their_schema() {
        let spec = Spec {
            name: "notes",
            presence: Presence::Nullable,
            rule: Choice(&["a", "b"]),
            doc: "",
            example: "\"a\"",
        };
        let schema = spec.schema(Mode::Create);
        assert_eq!(schema["type"], json!(["string", "null"]));
        assert_eq!(schema["enum"], json!(["a", "b", null]));
    }
}
