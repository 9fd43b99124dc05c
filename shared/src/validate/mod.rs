//! Field-by-field validation of JSON request bodies, in one place.
//!
//! Bodies are read as a `serde_json::Value` and checked here rather than deserialized into
//! structs, so every problem names its field (`preferences.timezone`), numbers must be JSON
//! numbers (never booleans or numeric strings), and all problems of a request are reported
//! together. A handler writes nothing until [`Fields::finish`] has succeeded.

pub mod spec;

use serde_json::{Map, Value};

pub use self::spec::{Body, Describe, Mode, Rule, Spec, Unknown};
use self::spec::{Nested, NestedList};
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
    /// May be absent or `null` when creating (both mean its default, such as now); when
    /// changing, may be absent but not `null`.
    Defaulted,
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
    mode: Mode,
    errors: FieldErrors,
}

impl<'v> Fields<'v> {
    /// A body that creates: it must be a JSON object.
    pub fn of(body: &'v Value) -> Result<Self> {
        Self::in_mode(body, Mode::Create)
    }

    /// A body that changes a record: any of its fields, at least one.
    pub fn of_changes(body: &'v Value) -> Result<Self> {
        Self::in_mode(body, Mode::Change)
    }

    fn in_mode(body: &'v Value, mode: Mode) -> Result<Self> {
        match body {
            Value::Object(map) => Ok(Self {
                map,
                prefix: String::new(),
                mode,
                errors: FieldErrors::new(),
            }),
            _ => Err(Error::field("body", "must be a JSON object")),
        }
    }

    /// The body of `body`'s shape: fields it does not know are refused (each named) when it
    /// says so, and a change must name at least one of its fields.
    pub fn of_body(body: &'v Value, shape: &Body, mode: Mode) -> Result<Self> {
        let mut fields = Self::in_mode(body, mode)?;
        let names = shape.names();
        if shape.unknown == Unknown::Deny {
            fields.deny_unknown(&names);
        }
        if mode == Mode::Change && !names.iter().any(|name| fields.contains(name)) {
            fields.reject(
                "body",
                format!("must change at least one of: {}", names.join(", ")),
            );
        }
        Ok(fields)
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

    /// The field `spec` defines, read by its rule, present as the body's mode requires.
    pub fn read<R: Rule>(&mut self, spec: &Spec<R>) -> Field<R::Value> {
        let presence = spec.presence.in_mode(self.mode);
        match self.map.get(spec.name) {
            None if presence == Presence::Required => {
                self.reject(spec.name, "is required");
                Field::Invalid
            }
            None => Field::Absent,
            Some(Value::Null) if presence == Presence::Nullable => Field::Null,
            Some(Value::Null) => {
                self.reject(spec.name, "must not be null");
                Field::Invalid
            }
            Some(raw) => match spec.rule.check(raw) {
                Ok(value) => Field::Value(value),
                Err(problem) => {
                    self.reject(spec.name, problem);
                    Field::Invalid
                }
            },
        }
    }

    /// The nested object `spec` defines, in its own mode, its unknown fields refused as its
    /// body says; its problems come back with [`Fields::absorb`].
    pub fn nested(&mut self, spec: &Nested) -> Field<Fields<'v>> {
        let presence = spec.presence.in_mode(self.mode);
        match self.map.get(spec.name) {
            None if presence == Presence::Required => {
                self.reject(spec.name, "is required");
                Field::Invalid
            }
            None => Field::Absent,
            Some(Value::Null) => {
                self.reject(spec.name, "must not be null");
                Field::Invalid
            }
            Some(Value::Object(map)) => {
                let mut nested = Fields {
                    map,
                    prefix: format!("{}.", self.path(spec.name)),
                    mode: spec.mode,
                    errors: FieldErrors::new(),
                };
                let names = spec.body.names();
                if spec.body.unknown == Unknown::Deny {
                    nested.deny_unknown(&names);
                }
                if spec.mode == Mode::Change && !names.iter().any(|name| nested.contains(name)) {
                    self.reject(
                        spec.name,
                        format!("must change at least one of: {}", names.join(", ")),
                    );
                }
                Field::Value(nested)
            }
            Some(_) => {
                self.reject(spec.name, "must be an object");
                Field::Invalid
            }
        }
    }

    /// The list of objects `spec` defines: each object's fields, named by position, its
    /// unknown fields refused as its body says; their problems come back with
    /// [`Fields::absorb`].
    pub fn objects(&mut self, spec: &NestedList) -> Field<Vec<Fields<'v>>> {
        let presence = spec.presence.in_mode(self.mode);
        let items = match self.map.get(spec.name) {
            None if presence == Presence::Required => {
                self.reject(spec.name, "is required");
                return Field::Invalid;
            }
            None => return Field::Absent,
            Some(Value::Array(items)) if (spec.min..=spec.max).contains(&items.len()) => items,
            Some(_) => {
                self.reject(spec.name, spec.problem());
                return Field::Invalid;
            }
        };
        let mut objects = Vec::with_capacity(items.len());
        for (position, item) in items.iter().enumerate() {
            let path = format!("{}[{position}]", self.path(spec.name));
            // An item that is no object is a problem of its own; the others are still read.
            let Value::Object(map) = item else {
                self.errors.insert(path, "must be an object".into());
                continue;
            };
            let mut object = Fields {
                map,
                prefix: format!("{path}."),
                mode: spec.mode,
                errors: FieldErrors::new(),
            };
            if spec.body.unknown == Unknown::Deny {
                object.deny_unknown(&spec.body.names());
            }
            objects.push(object);
        }
        Field::Value(objects)
    }

    /// Takes over the problems of a nested object.
    pub fn absorb(&mut self, nested: Fields<'v>) {
        self.errors.extend(nested.errors);
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
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::spec::{Integer, Number, Text};
    use super::*;

    fn problems(result: Result<()>) -> FieldErrors {
        match result {
            Err(Error::Validation(fields)) => fields,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    const CALORIES: Spec<Number> = Spec {
        name: "calories",
        presence: Presence::Required,
        rule: Number {
            min: 0.0,
            max: 10_000.0,
        },
        doc: "",
        example: "1",
    };
    const AGE: Spec<Integer> = Spec {
        name: "age",
        presence: Presence::Required,
        rule: Integer { min: 13, max: 120 },
        doc: "",
        example: "30",
    };
    const NOTES: Spec<Text> = Spec {
        name: "notes",
        presence: Presence::Nullable,
        rule: Text(Len::at_most(5)),
        doc: "",
        example: "\"x\"",
    };
    static SHAPE: Body = Body {
        fields: &[&CALORIES, &NOTES],
        unknown: Unknown::Deny,
        doc: "",
    };

    #[test]
    fn the_body_must_be_an_object() {
        for body in [json!([]), json!("x"), json!(1), json!(null)] {
            assert!(
                matches!(Fields::of(&body), Err(Error::Validation(f)) if f.contains_key("body"))
            );
        }
    }

    #[test]
    fn numbers_must_be_json_numbers_in_range_and_integers_whole() {
        for (raw, ok) in [
            (json!(true), false),
            (json!("12"), false),
            (json!(10001), false),
            (json!(-1), false),
            (json!(12.5), true),
        ] {
            let body = json!({"calories": raw});
            let mut fields = Fields::of(&body).unwrap();
            assert_eq!(
                matches!(fields.read(&CALORIES), Field::Value(_)),
                ok,
                "{raw}"
            );
        }
        for (raw, ok) in [
            (json!(30), true),
            (json!(30.0), true),
            (json!(30.5), false),
            (json!(12), false),
            (json!("30"), false),
        ] {
            let body = json!({"age": raw});
            let mut fields = Fields::of(&body).unwrap();
            assert_eq!(matches!(fields.read(&AGE), Field::Value(_)), ok, "{raw}");
        }
    }

    #[test]
    fn presence_follows_the_mode() {
        let empty = json!({});
        let mut create = Fields::of(&empty).unwrap();
        assert_eq!(create.read(&CALORIES), Field::Invalid);
        assert_eq!(problems(create.finish())["calories"], "is required");
        let mut change = Fields::of_changes(&empty).unwrap();
        assert_eq!(change.read(&CALORIES), Field::Absent);
        let nulls = json!({"calories": null, "notes": null});
        let mut change = Fields::of_changes(&nulls).unwrap();
        assert_eq!(change.read(&CALORIES), Field::Invalid);
        assert_eq!(change.read(&NOTES), Field::Null);
        assert_eq!(problems(change.finish())["calories"], "must not be null");
    }

    #[test]
    fn a_shape_refuses_unknown_fields_and_empty_changes() {
        let body = json!({"calories": 1, "bogus": 2});
        let fields = Fields::of_body(&body, &SHAPE, Mode::Create).unwrap();
        assert_eq!(problems(fields.finish())["bogus"], "unknown field");
        let body = json!({});
        let fields = Fields::of_body(&body, &SHAPE, Mode::Change).unwrap();
        assert_eq!(
            problems(fields.finish())["body"],
            "must change at least one of: calories, notes"
        );
    }

    #[test]
    fn nested_objects_report_dotted_paths() {
        let body = json!({"preferences": {"notes": "too long", "extra": 1}});
        let mut fields = Fields::of(&body).unwrap();
        let spec = Nested {
            name: "preferences",
            presence: Presence::Optional,
            body: &SHAPE,
            mode: Mode::Change,
            doc: "",
        };
        let Field::Value(mut nested) = fields.nested(&spec) else {
            panic!("expected an object")
        };
        nested.read(&NOTES);
        fields.absorb(nested);
        let errors = problems(fields.finish());
        assert_eq!(errors["preferences.extra"], "unknown field");
        assert_eq!(
            errors["preferences.notes"],
            "must be a string of at most 5 characters"
        );
    }

    #[test]
    fn field_update_semantics() {
        assert_eq!(Field::Value(1).update(), Some(Some(1)));
        assert_eq!(Field::<i32>::Null.update(), Some(None));
        assert_eq!(Field::<i32>::Absent.update(), None);
    }
}
