//! Profile and onboarding: `GET /profile`, `PUT /profile`, `POST /onboarding`.

mod body;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use shared::caller::{Bearer, CurrentUser};
use shared::domain::badges::EarnedBadge;
use shared::domain::goals::NutritionGoals;
use shared::domain::onboarding::Onboarding;
use shared::domain::profile::{
    OnboardingData, PROFILE_PICTURE_PROBLEM, Preferences, Profile, ProfileStats, ProfileUpdate,
};
use shared::domain::weights;
use shared::error::ErrorResponse;
use shared::http::JsonBody;
use shared::{AppState, Error, Result};
use utoipa::{OpenApi, ToSchema};

use crate::body::UpdateBody;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/profile", get(get_profile).put(update_profile))
        .route("/onboarding", post(save_onboarding))
}

#[derive(OpenApi)]
#[openapi(
    paths(get_profile, update_profile, save_onboarding),
    components(schemas(
        Profile,
        Preferences,
        OnboardingData,
        ProfileStats,
        EarnedBadge,
        NutritionGoals,
        ProfileUpdate,
        Onboarding,
        OnboardingSaved,
    ))
)]
pub struct ApiDoc;

/// The answer of `POST /onboarding`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OnboardingSaved {
    /// `Onboarding data saved successfully`.
    #[schema(example = "Onboarding data saved successfully")]
    message: &'static str,
    /// The goals computed from the answers, now the user's goals.
    nutrition_goals: NutritionGoals,
}

/// The caller's profile: user, preferences, onboarding answers, stats and badges.
#[utoipa::path(
    get,
    path = "/profile",
    tag = "profile",
    responses(
        (status = 200, description = "The profile", body = Profile),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 503, description = "The database or the Auth Service is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %caller.token.user_id))]
async fn get_profile(caller: Bearer, State(state): State<AppState>) -> Result<Json<Profile>> {
    // The profile statement reads the caller's standing too, so a known caller costs one
    // round trip; only an unknown one (or one whose account is being deleted) is synced,
    // or refused, as every other endpoint's extractor does, and read again.
    let now = shared::time::now();
    if let Some(profile) = state.store().profile(&caller.token.user_id, now).await? {
        return Ok(Json(profile));
    }
    let user = CurrentUser::sync(&state, caller).await?;
    let profile = state.store().profile(&user.id, now).await?;
    profile.map(Json).ok_or(Error::NotFound("User not found"))
}

/// Changes any of the name, the profile picture and the preferences, at once, and answers the
/// whole profile. An empty body, `{}`, an unknown field at any level or a value of the wrong
/// type changes nothing.
#[utoipa::path(
    put,
    path = "/profile",
    tag = "profile",
    request_body = ProfileUpdate,
    responses(
        (status = 200, description = "The profile after the change", body = Profile),
        (status = 400, description = "`VALIDATION_FAILED` naming each rejected field (`preferences.timezone`), or malformed JSON", body = ErrorResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 413, description = "The body is over 64 KiB", body = ErrorResponse),
        (status = 503, description = "The database or the Auth Service is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
async fn update_profile(
    user: CurrentUser,
    State(state): State<AppState>,
    UpdateBody(body): UpdateBody,
) -> Result<Json<Profile>> {
    let update = ProfileUpdate::read(&body, &user.id)?;
    if let Some(Some(picture)) = &update.profile_picture {
        let bucket = &state.buckets().profile_pictures;
        if !shared::uploads::usable(&state, &user.id, bucket, picture.as_str()).await? {
            return Err(Error::field("profilePicture", PROFILE_PICTURE_PROBLEM));
        }
    }
    let profile = state
        .store()
        .update_profile(&user.id, &update, shared::time::now())
        .await?;
    profile.map(Json).ok_or(Error::NotFound("User not found"))
}

/// Stores the onboarding answers and replaces the nutrition goals with the ones computed from
/// them (Mifflin–St Jeor; see the README). Calling it again updates both. The current weight
/// is also recorded as a weigh-in, now.
#[utoipa::path(
    post,
    path = "/onboarding",
    tag = "profile",
    request_body = Onboarding,
    responses(
        (status = 200, description = "Saved; the computed goals", body = OnboardingSaved),
        (status = 400, description = "`VALIDATION_FAILED` naming each missing or invalid field, or malformed JSON", body = ErrorResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 503, description = "The database or the Auth Service is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
async fn save_onboarding(
    user: CurrentUser,
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<Json<OnboardingSaved>> {
    let onboarding = Onboarding::read(&body)?;
    let goals = onboarding.goals();
    let now = shared::time::now();
    let weigh_in =
        weights::onboarding_weigh_in(onboarding.current_weight, user.zone.day_of(&now), now);
    state
        .store()
        .save_onboarding(&user.id, &onboarding, &goals, &weigh_in)
        .await?;
    Ok(Json(OnboardingSaved {
        message: "Onboarding data saved successfully",
        nutrition_goals: goals,
    }))
}
