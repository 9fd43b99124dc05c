//! The data export (`GET /export`, CONTRACT §3 "Operations" and "Health metrics"): everything
//! stored about a user as one JSON document, or one of their logs as CSV.
//!
//! A history of any length is written a page of records at a time: [`ExportFormat::head`]
//! (the profile and badges, or the CSV header), then each log's section: [`ExportFormat::open`],
//! [`ExportFormat::records`] for each page, [`ExportFormat::close`]; then
//! [`ExportFormat::tail`]. The pieces concatenate to one valid document, so whoever streams
//! them holds one page in memory, never the whole history.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Serialize, Serializer};
use serde_json::Value;
use utoipa::ToSchema;

use super::activities::ActivityEntry;
use super::badges::EarnedBadge;
use super::entries::Entry;
use super::meals::Meal;
use super::profile::Profile;
use super::water::WaterEntry;
use super::weights::WeightEntry;
use crate::error::{Error, Result};
use crate::time::{self, amount};
use crate::validate::spec::Choice;
use crate::validate::{Body, Fields, Mode, Presence, Spec, Unknown};

/// Records read per round trip: memory stays bounded by a page whatever the history.
pub const PAGE_SIZE: u32 = 500;

/// How long `POST /exports` keeps a document.
pub const EXPORTS_KEPT: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

/// `?format=`: `json` (the default) or `csv`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum ExportFormat {
    /// One JSON document, an `ExportDocument`.
    Json,
    /// One log as CSV (`?kind=`): a header row of its columns, then one row per record.
    Csv,
}

/// The logs, in the order the JSON document holds them; `?kind=` names one for CSV.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum ExportKind {
    /// The food entries (the default).
    Entries,
    Weights,
    Activities,
    Water,
}

impl ExportKind {
    pub const ALL: [ExportKind; 4] = [
        ExportKind::Entries,
        ExportKind::Weights,
        ExportKind::Activities,
        ExportKind::Water,
    ];

    /// The `kind` query parameter: absent means the food entries.
    pub fn parse(raw: Option<&str>) -> Result<Self> {
        match raw {
            None | Some("entries") => Ok(Self::Entries),
            Some("weights") => Ok(Self::Weights),
            Some("activities") => Ok(Self::Activities),
            Some("water") => Ok(Self::Water),
            Some(_) => Err(Error::field("kind", KIND_PROBLEM)),
        }
    }

    /// Its key in the JSON document.
    pub fn key(self) -> &'static str {
        match self {
            Self::Entries => "entries",
            Self::Weights => "weights",
            Self::Activities => "activities",
            Self::Water => "water",
        }
    }

    /// Its CSV columns, in order: a record's fields but `userId` (the caller).
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Self::Entries => &CSV_COLUMNS,
            Self::Weights => &WeightRow::COLUMNS,
            Self::Activities => &ActivityRow::COLUMNS,
            Self::Water => &WaterRow::COLUMNS,
        }
    }
}

/// What a problem with `kind` says.
pub const KIND_PROBLEM: &str = "must be entries, weights, activities or water";

/// The JSON export: everything stored about the user, as one document. It is streamed a page
/// of records at a time; a test checks that the stream is exactly this type's serialization.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExportDocument {
    /// When the export was made.
    #[serde(with = "time::instant")]
    #[schema(value_type = String, format = DateTime, example = "2024-07-11T10:30:00.000Z")]
    pub exported_at: DateTime<Utc>,
    /// Exactly as `GET /profile` returns it.
    pub profile: Profile,
    /// The badges earned, in the order earned.
    pub badges: Vec<EarnedBadge>,
    /// The saved meals, by name, as `GET /meals` returns them.
    pub meals: Vec<Meal>,
    /// Every food entry, by `timestamp` (then id), each exactly as `GET /food-entries/{id}`
    /// returns it.
    pub entries: Vec<Entry>,
    /// Every weigh-in, by `timestamp`, as `GET /weight-entries/{id}` returns it.
    pub weights: Vec<WeightEntry>,
    /// Every activity, by `timestamp`, as `GET /activity-entries/{id}` returns it.
    pub activities: Vec<ActivityEntry>,
    /// Every water entry, by `timestamp`, as `GET /water-entries/{id}` returns it.
    pub water: Vec<WaterEntry>,
}

/// The CSV columns of the food entries, in order: an entry's fields but `userId`.
pub const CSV_COLUMNS: [&str; 12] = [
    "id",
    "timestamp",
    "createdAt",
    "name",
    "mealType",
    "calories",
    "protein",
    "carbs",
    "fat",
    "servingSize",
    "notes",
    "imageKey",
];

/// The UTF-8 byte order mark: without it Excel reads a CSV file in the machine's legacy code
/// page and garbles every non-ASCII character. CSV readers skip it.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// What a problem with `format` says.
pub const FORMAT_PROBLEM: &str = "must be json or csv";

pub const FORMAT: Spec<Choice> = Spec {
    name: "format",
    presence: Presence::Optional,
    rule: Choice(&["json", "csv"]),
    doc: "`json` (default): the whole document; `csv`: one log",
    example: "\"json\"",
};
pub const KIND: Spec<Choice> = Spec {
    name: "kind",
    presence: Presence::Optional,
    rule: Choice(&["entries", "weights", "activities", "water"]),
    doc: "With `csv`, the log (default `entries`, the food entries)",
    example: "\"entries\"",
};

/// The body of `POST /exports`: `GET /export`'s query, as JSON.
pub static REQUEST_BODY: Body = Body {
    fields: &[&FORMAT, &KIND],
    unknown: Unknown::Deny,
    doc: "Which document to write: as `GET /export`'s `format` and `kind`. Optional: no body is the JSON document.",
};

/// A `POST /exports` body, validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExportRequest {
    pub format: ExportFormat,
    pub kind: ExportKind,
}

crate::body_schema!(ExportRequest, "ExportRequest", REQUEST_BODY, Mode::Create);

impl ExportRequest {
    /// Reads the body; none is the JSON document.
    pub fn read(body: Option<&Value>) -> Result<Self> {
        let Some(body) = body else {
            return Ok(Self {
                format: ExportFormat::Json,
                kind: ExportKind::Entries,
            });
        };
        let mut fields = Fields::of_body(body, &REQUEST_BODY, Mode::Create)?;
        let format = fields.read(&FORMAT).value();
        let kind = fields.read(&KIND).value();
        fields.finish()?;
        Ok(Self {
            format: ExportFormat::parse(format)?,
            kind: ExportKind::parse(kind)?,
        })
    }
}

/// What `POST /exports` answers: the document written, and a URL that reads it.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "6a1e2b3c-4d5e-4f6a-8b7c-9d0e1f2a3b4c", "format": "json",
    "bytes": 48213377,
    "url": "https://exports.s3.amazonaws.com/user-1/6a1e2b3c-4d5e-4f6a-8b7c-9d0e1f2a3b4c.json?X-Amz-Signature=…",
    "expiresAt": "2024-07-11T10:45:00.000Z"}))]
pub struct ExportCreated {
    pub id: String,
    /// `json` or `csv`.
    pub format: &'static str,
    /// The document's size.
    pub bytes: u64,
    /// Reads the document straight from the object store (signed, for 15 minutes); it is
    /// kept a day.
    pub url: String,
    #[serde(with = "time::instant")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: DateTime<Utc>,
}

/// A record as the export writes it: as JSON, itself; as a CSV row, [`Exported::Row`].
pub trait Exported: Serialize {
    type Row<'a>: Serialize
    where
        Self: 'a;

    fn row(&self) -> Self::Row<'_>;
}

impl ExportFormat {
    /// The `format` query parameter: absent means JSON.
    pub fn parse(raw: Option<&str>) -> Result<Self> {
        match raw {
            None | Some("json") => Ok(Self::Json),
            Some("csv") => Ok(Self::Csv),
            Some(_) => Err(Error::field("format", FORMAT_PROBLEM)),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Csv => "text/csv; charset=utf-8",
        }
    }

    /// The extension of its files.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Csv => "csv",
        }
    }

    /// The name a browser saves the document under.
    pub fn filename(self, kind: ExportKind) -> String {
        match (self, kind) {
            (Self::Json, _) | (Self::Csv, ExportKind::Entries) => {
                format!("food-diary-export.{}", self.extension())
            }
            (Self::Csv, other) => format!("{}-export.csv", other.key()),
        }
    }

    /// A download, with the name a browser saves it under.
    pub fn content_disposition(self, kind: ExportKind) -> String {
        format!("attachment; filename=\"{}\"", self.filename(kind))
    }

    /// The logs a document of this format holds: all of them as JSON, `kind` as CSV.
    pub fn sections(self, kind: ExportKind) -> Vec<ExportKind> {
        match self {
            Self::Json => ExportKind::ALL.to_vec(),
            Self::Csv => vec![kind],
        }
    }

    /// What comes before the first log: JSON up to the saved meals (`exportedAt`, the
    /// profile, the badges, the meals), or the byte order mark and the header row of `kind`'s
    /// CSV.
    pub fn head(
        self,
        profile: &Profile,
        meals: &[Meal],
        exported_at: DateTime<Utc>,
        kind: ExportKind,
    ) -> Result<Vec<u8>> {
        match self {
            Self::Json => {
                let mut out = Vec::with_capacity(1024);
                out.extend_from_slice(br#"{"exportedAt":"#);
                write_json(&mut out, &time::format_instant(&exported_at))?;
                out.extend_from_slice(br#","profile":"#);
                write_json(&mut out, profile)?;
                out.extend_from_slice(br#","badges":"#);
                write_json(&mut out, &profile.badges)?;
                out.extend_from_slice(br#","meals":"#);
                write_json(&mut out, meals)?;
                Ok(out)
            }
            Self::Csv => {
                let mut csv = csv_writer(UTF8_BOM.to_vec());
                csv.write_record(kind.columns()).map_err(Error::internal)?;
                csv.into_inner().map_err(Error::internal)
            }
        }
    }

    /// What opens a log's section.
    pub fn open(self, kind: ExportKind) -> Vec<u8> {
        match self {
            Self::Json => format!(",\"{}\":[", kind.key()).into_bytes(),
            Self::Csv => Vec::new(),
        }
    }

    /// A page of records; `first` when none of its section has been written before it.
    pub fn records<R: Exported>(self, records: &[R], first: bool) -> Result<Vec<u8>> {
        match self {
            Self::Json => {
                let mut out = Vec::with_capacity(records.len() * 400);
                for (i, record) in records.iter().enumerate() {
                    if i > 0 || !first {
                        out.push(b',');
                    }
                    write_json(&mut out, record)?;
                }
                Ok(out)
            }
            Self::Csv => {
                let mut csv = csv_writer(Vec::with_capacity(records.len() * 200));
                for record in records {
                    csv.serialize(record.row()).map_err(Error::internal)?;
                }
                csv.into_inner().map_err(Error::internal)
            }
        }
    }

    /// What closes a log's section.
    pub fn close(self) -> &'static [u8] {
        match self {
            Self::Json => b"]",
            Self::Csv => b"",
        }
    }

    /// What comes after the last log.
    pub fn tail(self) -> &'static [u8] {
        match self {
            Self::Json => b"}",
            Self::Csv => b"",
        }
    }
}

fn write_json(out: &mut Vec<u8>, value: &(impl Serialize + ?Sized)) -> Result<()> {
    serde_json::to_writer(out, value).map_err(Error::internal)
}

/// RFC 4180: CRLF after each record; a field is quoted when it holds a comma, a quote (then
/// doubled) or a line break.
fn csv_writer(out: Vec<u8>) -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .has_headers(false)
        .terminator(csv::Terminator::CRLF)
        .from_writer(out)
}

/// One entry as a CSV row: instants and amounts as the API writes them, null as an empty
/// cell, every text cell [`neutralize`]d. Fields in [`CSV_COLUMNS`] order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CsvRow<'a> {
    id: Text<'a>,
    #[serde(with = "time::instant")]
    timestamp: DateTime<Utc>,
    #[serde(with = "time::instant")]
    created_at: DateTime<Utc>,
    name: Text<'a>,
    meal_type: Text<'a>,
    #[serde(with = "amount")]
    calories: f64,
    #[serde(with = "amount::optional")]
    protein: Option<f64>,
    #[serde(with = "amount::optional")]
    carbs: Option<f64>,
    #[serde(with = "amount::optional")]
    fat: Option<f64>,
    serving_size: Option<Text<'a>>,
    notes: Option<Text<'a>>,
    image_key: Option<Text<'a>>,
}

impl Exported for Entry {
    type Row<'a> = CsvRow<'a>;

    fn row(&self) -> CsvRow<'_> {
        CsvRow {
            id: Text(&self.id),
            timestamp: self.timestamp,
            created_at: self.created_at,
            name: Text(&self.name),
            meal_type: Text(&self.meal_type),
            calories: self.calories,
            protein: self.protein,
            carbs: self.carbs,
            fat: self.fat,
            serving_size: self.serving_size.as_deref().map(Text),
            notes: self.notes.as_deref().map(Text),
            image_key: self.image_key.as_deref().map(Text),
        }
    }
}

/// A weigh-in as a CSV row.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WeightRow<'a> {
    id: Text<'a>,
    #[serde(with = "time::instant")]
    timestamp: DateTime<Utc>,
    date: NaiveDate,
    #[serde(with = "time::instant")]
    created_at: DateTime<Utc>,
    #[serde(with = "amount")]
    weight: f64,
    #[serde(with = "amount::optional")]
    body_fat: Option<f64>,
    notes: Option<Text<'a>>,
}

impl WeightRow<'_> {
    const COLUMNS: [&'static str; 7] = [
        "id",
        "timestamp",
        "date",
        "createdAt",
        "weight",
        "bodyFat",
        "notes",
    ];
}

impl Exported for WeightEntry {
    type Row<'a> = WeightRow<'a>;

    fn row(&self) -> WeightRow<'_> {
        WeightRow {
            id: Text(&self.id),
            timestamp: self.timestamp,
            date: self.date,
            created_at: self.created_at,
            weight: self.weight,
            body_fat: self.body_fat,
            notes: self.notes.as_deref().map(Text),
        }
    }
}

/// An activity as a CSV row.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityRow<'a> {
    id: Text<'a>,
    #[serde(with = "time::instant")]
    timestamp: DateTime<Utc>,
    date: NaiveDate,
    #[serde(with = "time::instant")]
    created_at: DateTime<Utc>,
    name: Text<'a>,
    #[serde(with = "amount")]
    calories_burned: f64,
    #[serde(with = "amount::optional")]
    met: Option<f64>,
    duration_minutes: Option<i32>,
    notes: Option<Text<'a>>,
}

impl ActivityRow<'_> {
    const COLUMNS: [&'static str; 9] = [
        "id",
        "timestamp",
        "date",
        "createdAt",
        "name",
        "caloriesBurned",
        "met",
        "durationMinutes",
        "notes",
    ];
}

impl Exported for ActivityEntry {
    type Row<'a> = ActivityRow<'a>;

    fn row(&self) -> ActivityRow<'_> {
        ActivityRow {
            id: Text(&self.id),
            timestamp: self.timestamp,
            date: self.date,
            created_at: self.created_at,
            name: Text(&self.name),
            calories_burned: self.calories_burned,
            met: self.met,
            duration_minutes: self.duration_minutes,
            notes: self.notes.as_deref().map(Text),
        }
    }
}

/// Water as a CSV row.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WaterRow<'a> {
    id: Text<'a>,
    #[serde(with = "time::instant")]
    timestamp: DateTime<Utc>,
    date: NaiveDate,
    #[serde(with = "time::instant")]
    created_at: DateTime<Utc>,
    amount: i32,
}

impl WaterRow<'_> {
    const COLUMNS: [&'static str; 5] = ["id", "timestamp", "date", "createdAt", "amount"];
}

impl Exported for WaterEntry {
    type Row<'a> = WaterRow<'a>;

    fn row(&self) -> WaterRow<'_> {
        WaterRow {
            id: Text(&self.id),
            timestamp: self.timestamp,
            date: self.date,
            created_at: self.created_at,
            amount: self.amount,
        }
    }
}

/// A text cell, written [`neutralize`]d.
pub struct Text<'a>(&'a str);

impl Serialize for Text<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&neutralize(self.0))
    }
}

/// Spreadsheets evaluate a cell that starts with `=`, `+`, `-` or `@` as a formula, and some
/// skip a leading tab or carriage return first, so a user's text could run as a formula on
/// the machine that opens the export ("CSV injection"). Such a text gets a leading `'`,
/// which makes the cell text; every other text is left as it is.
pub fn neutralize(text: &str) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;
    use crate::domain::goals::NutritionGoals;
    use crate::domain::profile::{Preferences, ProfileStats};
    use crate::time::UserZone;

    fn at(raw: &str) -> DateTime<Utc> {
        time::parse_instant(raw).unwrap()
    }

    fn profile() -> Profile {
        Profile {
            user_id: "ann".into(),
            name: Some("Ann \"the \u{1F34E}\"".into()),
            email: "ann@example.com".into(),
            profile_picture: None,
            preferences: Preferences {
                dietary_restrictions: vec!["Vegan".into()],
                nutrition_goals: NutritionGoals::DEFAULT,
                notifications: true,
                timezone: UserZone::UTC,
                exercise_calories: Default::default(),
                water_goal: 2000,
            },
            onboarding_data: None,
            stats: ProfileStats {
                total_entries: 3,
                total_calories: 450.5,
                tracking_days: 2,
                latest_weight: None,
                weight_trend: None,
            },
            badges: vec![EarnedBadge::new(
                super::super::badges::find("first_entry").unwrap(),
                at("2024-07-10T08:00:00Z"),
            )],
        }
    }

    fn entry(id: &str, name: &str, notes: Option<&str>) -> Entry {
        Entry {
            id: id.into(),
            user_id: "ann".into(),
            name: name.into(),
            calories: 150.25,
            meal_type: "snack".into(),
            serving_size: None,
            protein: Some(3.0),
            carbs: None,
            fat: Some(0.5),
            notes: notes.map(Into::into),
            image_key: None,
            timestamp: at("2024-07-11T10:30:00Z"),
            created_at: at("2024-07-11T10:31:02.120Z"),
        }
    }

    /// The export of `pages` of entries streamed as the handler streams it (the other logs
    /// empty).
    fn streamed(format: ExportFormat, profile: &Profile, pages: &[Vec<Entry>]) -> Vec<u8> {
        let kind = ExportKind::Entries;
        let mut out = format
            .head(profile, &[], at("2024-07-12T00:00:00Z"), kind)
            .unwrap();
        for section in format.sections(kind) {
            out.extend(format.open(section));
            if section == ExportKind::Entries {
                let mut first = true;
                for page in pages {
                    out.extend(format.records(page, first).unwrap());
                    first &= page.is_empty();
                }
            }
            out.extend_from_slice(format.close());
        }
        out.extend_from_slice(format.tail());
        out
    }

    #[test]
    fn formats_are_json_by_default_csv_on_request_and_nothing_else() {
        assert_eq!(ExportFormat::parse(None).unwrap(), ExportFormat::Json);
        assert_eq!(
            ExportFormat::parse(Some("json")).unwrap(),
            ExportFormat::Json
        );
        assert_eq!(ExportFormat::parse(Some("csv")).unwrap(), ExportFormat::Csv);
        for bad in ["", "CSV", "xml", "csv "] {
            match ExportFormat::parse(Some(bad)) {
                Err(Error::Validation(fields)) => assert_eq!(fields["format"], FORMAT_PROBLEM),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_streamed_json_is_the_document() {
        let profile = profile();
        let entries = [
            entry("e1", "Apple", None),
            entry("e2", "Pear, \"ripe\"", Some("line\nbreak")),
            entry("e3", "=1+1", None),
        ];
        for pages in [
            vec![],
            vec![vec![]],
            vec![entries.to_vec()],
            vec![entries[..2].to_vec(), entries[2..].to_vec()],
            vec![vec![], entries[..1].to_vec(), vec![], entries[1..].to_vec()],
        ] {
            let bytes = streamed(ExportFormat::Json, &profile, &pages);
            let parsed: Value = serde_json::from_slice(&bytes).expect("one JSON document");
            let document = ExportDocument {
                exported_at: at("2024-07-12T00:00:00Z"),
                profile: profile.clone(),
                badges: profile.badges.clone(),
                meals: vec![],
                entries: pages.concat(),
                weights: vec![],
                activities: vec![],
                water: vec![],
            };
            assert_eq!(parsed, serde_json::to_value(&document).unwrap());
        }
        let empty = streamed(ExportFormat::Json, &profile, &[vec![]]);
        let empty: Value = serde_json::from_slice(&empty).unwrap();
        assert_eq!(empty["entries"], json!([]));
        assert_eq!(empty["water"], json!([]));
        assert_eq!(empty["badges"][0]["id"], "first_entry");
        assert_eq!(empty["exportedAt"], "2024-07-12T00:00:00.000Z");
    }

    #[test]
    fn the_csv_has_a_header_and_one_row_per_entry() {
        let mut full = entry("e2", "Pear, \"ripe\" \u{1F350}", Some("two\r\nlines"));
        full.serving_size = Some("1 piece".into());
        full.image_key = Some("ann/photo.jpg".into());
        full.calories = 80.0;
        let pages = [vec![entry("e1", "Apple", None)], vec![full]];
        let bytes = streamed(ExportFormat::Csv, &profile(), &pages);
        assert!(bytes.starts_with(UTF8_BOM));
        let text = String::from_utf8(bytes[UTF8_BOM.len()..].to_vec()).unwrap();
        assert_eq!(
            text,
            "id,timestamp,createdAt,name,mealType,calories,protein,carbs,fat,servingSize,notes,imageKey\r\n\
             e1,2024-07-11T10:30:00.000Z,2024-07-11T10:31:02.120Z,Apple,snack,150.25,3,,0.5,,,\r\n\
             e2,2024-07-11T10:30:00.000Z,2024-07-11T10:31:02.120Z,\"Pear, \"\"ripe\"\" \u{1F350}\",snack,80,3,,0.5,1 piece,\"two\r\nlines\",ann/photo.jpg\r\n"
        );
        let empty = streamed(ExportFormat::Csv, &profile(), &[vec![]]);
        let mut reader = csv::Reader::from_reader(empty.as_slice());
        assert_eq!(reader.headers().unwrap(), CSV_COLUMNS.as_slice());
        assert_eq!(reader.records().count(), 0);
    }

    #[test]
    fn the_csv_columns_are_the_rows_fields() {
        let header = |row: &dyn erased::Row| {
            let mut csv = csv::Writer::from_writer(Vec::new());
            row.write(&mut csv);
            let written = csv.into_inner().unwrap();
            String::from_utf8(
                written
                    .split(|&byte| byte == b'\n')
                    .next()
                    .unwrap()
                    .to_vec(),
            )
            .unwrap()
        };
        let entry = entry("e1", "Apple", None);
        let weight = WeightEntry {
            id: "w".into(),
            weight: 60.0,
            body_fat: None,
            notes: None,
            timestamp: at("2024-07-11T10:30:00Z"),
            date: at("2024-07-11T10:30:00Z").date_naive(),
            created_at: at("2024-07-11T10:30:00Z"),
        };
        let activity = ActivityEntry {
            id: "a".into(),
            name: "Run".into(),
            calories_burned: 1.0,
            met: None,
            duration_minutes: None,
            notes: None,
            timestamp: weight.timestamp,
            date: weight.date,
            created_at: weight.created_at,
        };
        let water = WaterEntry {
            id: "d".into(),
            amount: 1,
            timestamp: weight.timestamp,
            date: weight.date,
            created_at: weight.created_at,
        };
        for (kind, row) in [
            (ExportKind::Entries, &entry.row() as &dyn erased::Row),
            (ExportKind::Weights, &weight.row()),
            (ExportKind::Activities, &activity.row()),
            (ExportKind::Water, &water.row()),
        ] {
            assert_eq!(header(row), kind.columns().join(","), "{kind:?}");
        }
    }

    /// Rows of any kind, behind one type, for the header check.
    mod erased {
        pub trait Row {
            fn write(&self, csv: &mut csv::Writer<Vec<u8>>);
        }

        impl<T: serde::Serialize> Row for T {
            fn write(&self, csv: &mut csv::Writer<Vec<u8>>) {
                csv.serialize(self).unwrap();
            }
        }
    }

    #[test]
    fn kinds_are_entries_by_default_and_name_their_logs() {
        assert_eq!(ExportKind::parse(None).unwrap(), ExportKind::Entries);
        assert_eq!(ExportKind::parse(Some("water")).unwrap(), ExportKind::Water);
        assert!(
            matches!(ExportKind::parse(Some("food")), Err(Error::Validation(f)) if f["kind"] == KIND_PROBLEM)
        );
    }

    #[test]
    fn formula_like_texts_are_neutralized() {
        for formula in ["=HYPERLINK(\"x\")", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"] {
            assert_eq!(neutralize(formula), format!("'{formula}"));
        }
        for plain in ["Apple", "1 bowl", " =1", "'quoted", "", "Crème brûlée"] {
            assert!(matches!(neutralize(plain), Cow::Borrowed(text) if text == plain));
        }
        let mut risky = entry("-e1", "=cmd|' /C calc'!A0", Some("@note"));
        risky.serving_size = Some("+2".into());
        risky.image_key = Some("-ann/x.jpg".into());
        let bytes = ExportFormat::Csv.records(&[risky], true).unwrap();
        let record = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(bytes.as_slice())
            .records()
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(&record[0], "'-e1");
        assert_eq!(&record[3], "'=cmd|' /C calc'!A0");
        assert_eq!(&record[9], "'+2");
        assert_eq!(&record[10], "'@note");
        assert_eq!(&record[11], "'-ann/x.jpg");
    }

    proptest! {
        #[test]
        fn any_texts_round_trip_through_the_csv(
            name in "\\PC{1,40}|[=+@,\"\\n\\r\\t -]{1,10}",
            notes in proptest::option::of("(\\PC|[\\n\\r\\t,\"])*"),
        ) {
            let entries = [entry("e1", &name, notes.as_deref()), entry("e2", "Tea", None)];
            let bytes = ExportFormat::Csv.records(&entries, true).unwrap();
            let records: Vec<csv::StringRecord> = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(bytes.as_slice())
                .records()
                .collect::<Result<_, _>>()
                .unwrap();
            prop_assert_eq!(records.len(), 2);
            prop_assert_eq!(records[0].len(), CSV_COLUMNS.len());
            let (name_cell, notes_cell) = (neutralize(&name), notes.as_deref().map(neutralize));
            prop_assert_eq!(&records[0][3], name_cell.as_ref());
            prop_assert_eq!(&records[0][10], notes_cell.as_deref().unwrap_or_default());
            prop_assert_eq!(&records[1][3], "Tea");
        }

        #[test]
        fn a_neutralized_text_never_starts_a_formula(text in "\\PC*|[=+@\\t\\r-]\\PC*") {
            let cell = neutralize(&text);
            prop_assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']));
            // Nothing is lost: the mark is added in front, or the text is left alone.
            match &cell {
                Cow::Owned(marked) => prop_assert_eq!(marked, &format!("'{text}")),
                Cow::Borrowed(same) => prop_assert_eq!(*same, text.as_str()),
            }
        }
    }
}
