#!/usr/bin/env bash
# A first session with the API, one curl at a time: each step prints its command and the answer.
# Read it, copy from it, run it again: every run is a fresh user.
#
# usage: make run            (in another terminal; wait for "listening on")
#        scripts/first-session.sh
#
#   BASE_URL  the API (default http://127.0.0.1:$PORT, PORT 8082)
#   TOKEN     an access token (default: one from `make -s token` for a new user first-<time>)
#
# Needs bash and curl. A step that gets an unexpected answer stops the session with it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

base="${BASE_URL:-http://127.0.0.1:${PORT:-8082}}"
if [ -z "${TOKEN:-}" ]; then
  user="first-$(date +%s)"
  TOKEN=$(USER_ID="$user" EMAIL="$user@example.com" NAME="First Session" make -s token)
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Instants for back-dated entries: GNU date, else BSD date (macOS).
utc() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -v"$2" +%Y-%m-%dT%H:%M:%SZ; }
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
today=${now%%T*}
an_hour_ago=$(utc '1 hour ago' -1H)
yesterday_evening="$(utc '1 day ago' -1d | cut -dT -f1)T19:30:00Z"
two_days_ago="$(utc '2 days ago' -2d | cut -dT -f1)"

step() { printf '\n## %s\n' "$*"; }

# An argument as a shell would need it typed: in single quotes unless it is plain.
quote() {
  case $1 in
    *[!A-Za-z0-9_./:=@%+,-]*) printf "'%s'" "${1//\'/\'\\\'\'}" ;;
    *) printf '%s' "$1" ;;
  esac
}

# api METHOD PATH [curl options…]: shows the call (token elided), prints the answer's body and
# keeps it in $work/body and its headers in $work/headers; a 4xx or 5xx stops the session.
api() {
  local method=$1 path=$2
  shift 2
  local arg line="\$ curl -X $method $(quote "$base$path") -H \"Authorization: Bearer \$TOKEN\""
  for arg in "$@"; do line+=" $(quote "$arg")"; done
  echo "$line"
  local status
  status=$(curl -sS -X "$method" -H "Authorization: Bearer $TOKEN" -D "$work/headers" \
    -o "$work/body" -w '%{http_code}' "$@" "$base$path")
  show "$status"
  case "$status" in
    2* | 304) ;;
    *) echo "error: $method $path answered $status" >&2; exit 1 ;;
  esac
}

# Prints the last answer's status and body (its first 800 characters; an image's size only).
show() {
  local size type
  size=$(wc -c <"$work/body")
  type=$(tr -d '\r' <"$work/headers" 2>/dev/null | sed -n 's/^[Cc]ontent-[Tt]ype: //p' | tail -1)
  printf '%s ' "$1"
  case "$type" in
    image/*) printf '(%s bytes of %s)' "$size" "$type" ;;
    *)
      head -c 800 "$work/body"
      if [ "$size" -gt 800 ]; then printf '… (%s bytes)' "$size"; fi
      ;;
  esac
  printf '\n'
}

# json_field NAME: the first string value of NAME in the last answer.
json_field() {
  grep -o "\"$1\":\"[^\"]*\"" "$work/body" | head -1 | cut -d'"' -f4
}

# post_json PATH BODY: a JSON request.
post_json() { api POST "$1" -H 'Content-Type: application/json' -d "$2"; }

step "1. Is it up? /health needs no token (its 'minio' is the image store, whatever it is)"
api GET /health

step "2. Onboarding: body and aim in, calorie and macro goals out"
post_json /onboarding '{"age": 34, "gender": "female", "height": 168, "currentWeight": 72.5,
  "targetWeight": 66, "activityLevel": "moderately_active", "goal": "lose_weight"}'

step "3. Goals: set them by hand too (the profile shows them)"
api PUT /nutrition-goals -H 'Content-Type: application/json' \
  -d '{"calories": 1900, "protein": 120, "carbs": 210, "fat": 65}'
api GET /profile

step "4. Food entries: a meal type each; 'timestamp' says when it was eaten (default: now)"
post_json /food-entries '{"name": "Porridge with banana", "mealType": "breakfast", "calories": 350,
  "protein": 11, "carbs": 62, "fat": 7, "servingSize": "1 bowl"}'
breakfast=$(json_field id)
post_json /food-entries "{\"name\": \"Lentil soup\", \"mealType\": \"lunch\", \"calories\": 310,
  \"protein\": 18, \"carbs\": 45, \"fat\": 6, \"timestamp\": \"$an_hour_ago\"}"
echo "# back-dated: yesterday's dinner, logged today (it counts on yesterday, for the streak too)"
post_json /food-entries "{\"name\": \"Salmon with rice\", \"mealType\": \"dinner\", \"calories\": 640,
  \"protein\": 40, \"carbs\": 58, \"fat\": 24, \"timestamp\": \"$yesterday_evening\"}"
echo "# and the day before: three days in a row earn streak_3, on the entry that completes them"
post_json /food-entries "{\"name\": \"Tuna sandwich\", \"mealType\": \"lunch\", \"calories\": 450,
  \"protein\": 28, \"carbs\": 40, \"fat\": 17, \"timestamp\": \"${two_days_ago}T12:15:00Z\"}"
post_json /food-entries '{"name": "Apple", "mealType": "snack", "calories": 95}'

step "5. Listing: by day and meal type, then page by page with limit and the X-Next-Cursor header"
api GET "/food-entries?date=$today&mealType=breakfast"
api GET "/food-entries?limit=2"
cursor=$(tr -d '\r' <"$work/headers" | sed -n 's/^[Xx]-[Nn]ext-[Cc]ursor: //p')
echo "# X-Next-Cursor: $cursor"
api GET "/food-entries?limit=2&cursor=$cursor"

step "6. Change an entry: PATCH takes any of the fields, and answers the badges it earned"
api PATCH "/food-entries/$breakfast" -H 'Content-Type: application/json' -d '{"calories": 380}'

step "7. A photo: the raw bytes with their Content-Type (not a multipart form)"
printf '\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\x0d\x49\x44\x41\x54\x78\x9c\x63\xd0\xef\xf7\xff\x0f\x00\x04\x0b\x02\x0d\xe1\x03\x9c\xfb\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82' >"$work/photo.png"
api POST /images/food-images -H 'Content-Type: image/png' --data-binary "@$work/photo.png"
key=$(json_field key)
url=$(json_field url)
api PATCH "/food-entries/$breakfast" -H 'Content-Type: application/json' -d "{\"imageKey\": \"$key\"}"
api GET "$url"
echo "# a multipart form is refused, and the answer says what to send instead:"
printf '$ curl -X POST %s -F photo=@photo.png\n' "$base/images/food-images"
status=$(curl -sS -o "$work/body" -D "$work/headers" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
  -F "photo=@$work/photo.png;type=image/png" "$base/images/food-images")
show "$status"
[ "$status" = 415 ] || { echo "error: a multipart upload answered $status, not 415" >&2; exit 1; }

step "8. The rest of the day: water, a weigh-in, an activity"
post_json /water-entries '{"amount": 500}'
post_json /weight-entries '{"weight": 72.1}'
post_json /activity-entries '{"name": "Running", "met": 9.8, "durationMinutes": 30}'

step "9. Summaries: day by day, and today's dashboard"
api GET "/nutrition-summary?startDate=$two_days_ago&endDate=$today"
api GET /dashboard/summary

step "10. Badges and streaks"
api GET /badges
api GET /streaks

step "11. Export: everything as one JSON document, or the entries as CSV"
api GET /export
api GET "/export?format=csv"

printf '\nDone: the API page at %s/docs has every operation, with examples and "Try it out".\n' "$base"
