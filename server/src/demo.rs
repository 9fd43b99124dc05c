//! `user-service demo` (`make demo`): a user with 60 days of history to explore the API with.
//!
//! Everything goes through the service's own routes, in process, as a client would send it:
//! onboarding, then each day's meals (back-dated with `timestamp`), weigh-ins, activities and
//! water, so totals, streaks and badges are the ones the service computes. Two days without
//! entries break the streak early on; the last 38 days are unbroken, which earns every streak
//! badge. The history is the same on every run (a fixed seed), ending today.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, header};
use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde_json::{Value, json};
use shared::Error;
use tower::ServiceExt as _;

/// The demo's user, as its token names it.
pub const USER_ID: &str = "demo-user";
pub const EMAIL: &str = "demo@example.com";
pub const NAME: &str = "Demo User";

const DAYS: i64 = 60;
/// Days (ago) without entries: the streaks before them end there.
const GAP_DAYS: [i64; 2] = [52, 38];

/// What a run wrote, for its closing line.
#[derive(Debug, Default)]
pub struct Written {
    pub entries: usize,
    pub weigh_ins: usize,
    pub activities: usize,
    pub water: usize,
    pub badges: Vec<String>,
}

/// A food as the demo logs it: name, serving, calories, protein, carbs, fat (per serving).
struct Food(&'static str, &'static str, f64, f64, f64, f64);

const BREAKFASTS: &[Food] = &[
    Food("Porridge with banana", "1 bowl", 350.0, 11.0, 62.0, 7.0),
    Food("Greek yogurt with berries", "200 g", 180.0, 17.0, 20.0, 4.0),
    Food(
        "Scrambled eggs on toast",
        "2 eggs, 2 slices",
        420.0,
        22.0,
        30.0,
        22.0,
    ),
    Food("Avocado toast", "2 slices", 390.0, 10.0, 38.0, 22.0),
];
const COFFEE: Food = Food("Flat white", "1 cup", 110.0, 6.0, 9.0, 6.0);
const LUNCHES: &[Food] = &[
    Food("Chicken salad wrap", "1 wrap", 520.0, 34.0, 48.0, 19.0),
    Food("Lentil soup with bread", "400 ml", 410.0, 19.0, 62.0, 8.0),
    Food("Tuna sandwich", "1 sandwich", 450.0, 28.0, 40.0, 17.0),
    Food("Falafel bowl", "1 bowl", 610.0, 21.0, 72.0, 26.0),
];
const DINNERS: &[Food] = &[
    Food(
        "Salmon with rice and broccoli",
        "1 plate",
        640.0,
        40.0,
        58.0,
        24.0,
    ),
    Food("Spaghetti bolognese", "1 plate", 700.0, 35.0, 80.0, 22.0),
    Food(
        "Chickpea curry with rice",
        "1 plate",
        620.0,
        19.0,
        95.0,
        16.0,
    ),
    Food(
        "Tofu stir-fry with noodles",
        "1 plate",
        580.0,
        26.0,
        70.0,
        20.0,
    ),
    Food(
        "Grilled chicken with sweet potato",
        "1 plate",
        560.0,
        45.0,
        50.0,
        14.0,
    ),
];
const SNACKS: &[Food] = &[
    Food("Apple", "1 medium", 95.0, 0.5, 25.0, 0.3),
    Food("Almonds", "30 g", 175.0, 6.0, 6.0, 15.0),
    Food("Protein bar", "60 g", 210.0, 20.0, 22.0, 7.0),
    Food("Dark chocolate", "20 g", 110.0, 1.5, 9.0, 8.0),
];
/// Name, MET, minutes.
const ACTIVITIES: &[(&str, f64, i64)] = &[
    ("Running", 9.8, 30),
    ("Cycling", 7.5, 45),
    ("Yoga", 2.5, 60),
    ("Brisk walk", 4.3, 40),
    ("Swimming", 6.0, 35),
];

/// Writes the demo history for the user of `token` through `app`, unless that user already
/// has entries (then it writes nothing and says so with `None`).
pub async fn populate(
    app: Router,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<Written>, Error> {
    let client = Client { app, token };
    let profile = client.send(Method::GET, "/profile", None).await?;
    if profile["stats"]["totalEntries"].as_i64().unwrap_or(0) > 0 {
        return Ok(None);
    }
    client
        .send(
            Method::POST,
            "/onboarding",
            Some(json!({
                "age": 34, "gender": "female", "height": 168, "currentWeight": 72.5,
                "targetWeight": 66, "activityLevel": "moderately_active", "goal": "lose_weight",
            })),
        )
        .await?;
    client
        .send(
            Method::PUT,
            "/profile",
            Some(json!({"name": NAME, "preferences": {"waterGoal": 2000}})),
        )
        .await?;
    client
        .send(
            Method::POST,
            "/meals",
            Some(
                json!({"name": "Usual breakfast", "items": [food(&BREAKFASTS[0]), food(&COFFEE)]}),
            ),
        )
        .await?;

    let mut random = Random(0x5eed_f00d_cafe_d00d);
    let mut written = Written::default();
    let today = now.date_naive();
    for ago in (0..DAYS).rev() {
        if GAP_DAYS.contains(&ago) {
            continue;
        }
        let day = today - Duration::days(ago);
        let at = |hour: u32, minute: u32| {
            let time = NaiveTime::from_hms_opt(hour, minute, 0).expect("a valid time of day");
            day.and_time(time).and_utc()
        };
        // Today's breakfast is there however early it is, so the streak reaches today.
        let breakfast = at(7, minute(&mut random)).min(now - Duration::minutes(1));
        let mut meals = vec![("dinner", random.pick(DINNERS), at(19, minute(&mut random)))];
        if random.chance(0.9) || ago == 0 {
            meals.push(("breakfast", random.pick(BREAKFASTS), breakfast));
        }
        if random.chance(0.3) {
            meals.push(("breakfast", &COFFEE, at(10, minute(&mut random))));
        }
        if random.chance(0.95) {
            meals.push(("lunch", random.pick(LUNCHES), at(12, minute(&mut random))));
        }
        if random.chance(0.5) {
            meals.push(("snack", random.pick(SNACKS), at(15, minute(&mut random))));
        }
        // Nothing is logged ahead of its time.
        meals.retain(|(_, _, timestamp)| *timestamp <= now);
        for (meal_type, item, timestamp) in meals {
            let mut body = food(item);
            body["mealType"] = json!(meal_type);
            body["timestamp"] = json!(timestamp);
            let created = client
                .send(Method::POST, "/food-entries", Some(body))
                .await?;
            collect_badges(&created, &mut written.badges);
            written.entries += 1;
        }
        if ago % 3 == 0 {
            // About 2 kg lost over the 60 days, with a day's water and salt on top.
            let weight = 72.5 - 0.035 * (DAYS - 1 - ago) as f64 + random.between(-0.4, 0.4);
            // Today's at the service's now: after onboarding's weight, itself a weigh-in.
            let body = if ago == 0 {
                json!({"weight": round1(weight)})
            } else {
                json!({"weight": round1(weight), "timestamp": breakfast})
            };
            client
                .send(Method::POST, "/weight-entries", Some(body))
                .await?;
            written.weigh_ins += 1;
        }
        if random.chance(0.45) && at(17, 30) <= now {
            let (name, met, minutes) = *random.pick(ACTIVITIES);
            let body = json!({
                "name": name, "met": met, "durationMinutes": minutes, "timestamp": at(17, 30),
            });
            client
                .send(Method::POST, "/activity-entries", Some(body))
                .await?;
            written.activities += 1;
        }
        for glass in 0..4 + random.below(4) {
            let timestamp = at(9 + 2 * glass as u32, 0);
            if timestamp > now {
                break;
            }
            let amount = *random.pick(&[250, 330, 500]);
            let body = json!({"amount": amount, "timestamp": timestamp});
            client
                .send(Method::POST, "/water-entries", Some(body))
                .await?;
            written.water += 1;
        }
    }
    Ok(Some(written))
}

fn food(item: &Food) -> Value {
    let Food(name, serving, calories, protein, carbs, fat) = *item;
    json!({
        "name": name, "servingSize": serving, "calories": calories,
        "protein": protein, "carbs": carbs, "fat": fat,
    })
}

fn collect_badges(created: &Value, into: &mut Vec<String>) {
    let earned = created["badgesEarned"].as_array().into_iter().flatten();
    into.extend(earned.filter_map(|badge| badge["id"].as_str().map(str::to_owned)));
}

/// A minute of the hour.
fn minute(random: &mut Random) -> u32 {
    random.below(60) as u32
}

fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

struct Client<'a> {
    app: Router,
    token: &'a str,
}

impl Client<'_> {
    /// Sends one request; anything but a 2xx stops the demo with the answer.
    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value, Error> {
        let mut request = Request::builder()
            .method(method.clone())
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token));
        let body = match body {
            Some(body) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(body.to_string())
            }
            None => Body::empty(),
        };
        let request = request.body(body).map_err(Error::internal)?;
        let response = self
            .app
            .clone()
            .oneshot(request)
            .await
            .map_err(Error::internal)?;
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .map_err(Error::internal)?;
        if !status.is_success() {
            let answer = String::from_utf8_lossy(&bytes);
            return Err(Error::internal(format!(
                "{method} {path} answered {status}: {answer}"
            )));
        }
        serde_json::from_slice(&bytes).map_err(Error::internal)
    }
}

/// xorshift64: the same history on every run, without a dependency for it.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, probability: f64) -> bool {
        self.unit() < probability
    }

    fn between(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.unit()
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}
