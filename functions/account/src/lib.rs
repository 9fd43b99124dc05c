//! Account actions forwarded to the Auth Service (CONTRACT §3 "Account actions"):
//! `PUT /change-password`, `DELETE /account`, `POST /logout`.
//!
//! The Auth Service owns credentials; this service forwards the caller's own token and body
//! to it and, for an account deletion it confirms, deletes everything it holds of the user.

mod relay;

use axum::Router;
use axum::extract::State;
use axum::http::Method;
use axum::response::Response;
use axum::routing::{delete, post, put};
use serde::Serialize;
use serde_json::Value;
use shared::auth::AuthService;
use shared::caller::{Bearer, CurrentUser};
use shared::error::{ErrorResponse, WithCauses};
use shared::http::{JsonBody, Message};
use shared::store::Deletion;
use shared::validate::spec::Given;
use shared::validate::{Body, Fields, Mode, Presence, Spec, Unknown};
use shared::{AppState, Error, Result};
use utoipa::{OpenApi, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/change-password", put(change_password))
        .route("/account", delete(delete_account))
        .route("/logout", post(logout))
}

#[derive(OpenApi)]
#[openapi(
    paths(change_password, delete_account, logout),
    components(schemas(PasswordChange, AccountDeletion, AuthServiceAnswer, Message))
)]
pub struct ApiDoc;

/// A secret of an account action's body: the Auth Service's to judge.
const fn secret(name: &'static str, doc: &'static str, example: &'static str) -> Spec<Given> {
    Spec {
        name,
        presence: Presence::Required,
        rule: Given,
        doc,
        example,
    }
}

const CURRENT_PASSWORD: Spec<Given> = secret("currentPassword", "", "\"old-password\"");
const NEW_PASSWORD: Spec<Given> = secret("newPassword", "", "\"new-password-1\"");
const PASSWORD: Spec<Given> = secret("password", "", "\"hunter2\"");
const CONFIRMATION_TEXT: Spec<Given> = secret(
    "confirmationText",
    "What the Auth Service asks to be typed",
    "\"DELETE\"",
);

/// `PUT /change-password`: both required non-empty strings; forwarded as it is (not trimmed).
static PASSWORD_CHANGE: Body = Body {
    fields: &[&CURRENT_PASSWORD, &NEW_PASSWORD],
    unknown: Unknown::Ignore,
    doc: "Forwarded to the Auth Service as it is.",
};

/// `DELETE /account`: both required non-empty strings; forwarded as it is (the Auth Service
/// checks both).
static ACCOUNT_DELETION: Body = Body {
    fields: &[&PASSWORD, &CONFIRMATION_TEXT],
    unknown: Unknown::Ignore,
    doc: "Forwarded to the Auth Service as it is; it checks both.",
};

/// A `PUT /change-password` body that may be forwarded.
struct PasswordChange;
shared::body_schema!(
    PasswordChange,
    "PasswordChange",
    PASSWORD_CHANGE,
    Mode::Create
);

/// A `DELETE /account` body that may be forwarded.
struct AccountDeletion;
shared::body_schema!(
    AccountDeletion,
    "AccountDeletion",
    ACCOUNT_DELETION,
    Mode::Create
);

/// What the Auth Service answered, returned as it is: `{"message": …}` on success,
/// `{"detail": …}` when it refused.
#[derive(Serialize, ToSchema)]
struct AuthServiceAnswer {
    message: Option<String>,
    detail: Option<Value>,
}

/// Changes the caller's password at the Auth Service.
#[utoipa::path(
    put,
    path = "/change-password",
    tag = "account",
    request_body = PasswordChange,
    responses(
        (status = 200, description = "Changed: the Auth Service's answer, as it is", body = AuthServiceAnswer),
        (status = 400, description = "A field is missing or not a string (`VALIDATION_FAILED`), or the Auth Service refused (its answer, as it is)", body = ErrorResponse),
        (status = 401, description = "No valid access token, or the Auth Service refused the current password (its answer)", body = ErrorResponse),
        (status = "4XX", description = "Any other refusal of the Auth Service, with its status and answer", body = AuthServiceAnswer),
        (status = 503, description = "The Auth Service is not configured, unreachable, failing (5xx) or slower than 5 s (`AUTH_SERVICE_UNAVAILABLE`)", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %caller.token.user_id))]
async fn change_password(
    caller: Bearer,
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<Response> {
    require(&body, &PASSWORD_CHANGE, [&CURRENT_PASSWORD, &NEW_PASSWORD])?;
    let answer = auth_service(&state)?
        .forward(
            Method::PUT,
            "change-password",
            &caller.raw,
            Some(relay::json_bytes(&body)),
        )
        .await?;
    relay::answer(answer)
}

/// Deletes the caller's account: at the Auth Service first and, only once it has confirmed,
/// every row and every image this service holds of the user.
#[utoipa::path(
    delete,
    path = "/account",
    tag = "account",
    request_body = AccountDeletion,
    responses(
        (status = 200, description = "Deleted, here and at the Auth Service", body = Message,
         example = json!({"message": "Account deleted successfully"})),
        (status = 400, description = "A field is missing or not a string (`VALIDATION_FAILED`), or the Auth Service refused (its answer, as it is); nothing is deleted", body = ErrorResponse),
        (status = 401, description = "No valid access token, or the Auth Service refused (its answer); nothing is deleted", body = ErrorResponse),
        (status = 404, description = "The Auth Service does not know the user", body = ErrorResponse),
        (status = "4XX", description = "Any other refusal of the Auth Service, with its status and answer; nothing is deleted", body = AuthServiceAnswer),
        (status = 503, description = "The Auth Service is not configured, unreachable, failing (5xx) or slower than 5 s (`AUTH_SERVICE_UNAVAILABLE`); nothing is deleted", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
async fn delete_account(
    user: CurrentUser,
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<Response> {
    require(&body, &ACCOUNT_DELETION, [&PASSWORD, &CONFIRMATION_TEXT])?;
    let auth = auth_service(&state)?;
    // The deletion is recorded before the Auth Service is asked, so that one it confirms is
    // finished whatever fails next; a database that cannot record it stops the deletion
    // before anything is gone anywhere.
    let forward = auth.forward(
        Method::DELETE,
        "delete-account",
        user.bearer(),
        Some(relay::json_bytes(&body)),
    );
    let deletion = state
        .store()
        .delete_account_if(&user.id, shared::time::now(), forward, |answer| {
            answer.status.is_success()
        })
        .await?;
    let rows_deleted = match deletion {
        Deletion::Refused(answer) => return relay::answer(answer),
        Deletion::Deleted(_) => true,
        // Confirmed, but the database failed: the scheduled job deletes the rows.
        Deletion::Pending(_) => false,
    };
    if remove_images(&state, &user.id).await
        && rows_deleted
        && let Err(err) = state.store().forget_account_deletion(&user.id).await
    {
        tracing::warn!(error = %WithCauses(&err), "a finished account deletion is left for the scheduled job to forget");
    }
    tracing::info!(rows_deleted, "account deleted");
    Ok(axum::response::IntoResponse::into_response(Message::new(
        "Account deleted successfully",
    )))
}

/// Deletes every stored object of a deleted user (images of both buckets, exports); whether
/// all are gone. A failure is logged and not answered: the scheduled job finishes the
/// deletion.
async fn remove_images(state: &AppState, user_id: &str) -> bool {
    let objects = match state.objects().await {
        Ok(objects) => objects,
        Err(err) => {
            tracing::error!(error = %WithCauses(&err), "images of a deleted account left for the scheduled job");
            return false;
        }
    };
    let [profile_pictures, food_images, exports] = state.buckets().of_users();
    let (first, second, third) = tokio::join!(
        objects.delete_owner(profile_pictures, user_id),
        objects.delete_owner(food_images, user_id),
        objects.delete_owner(exports, user_id),
    );
    let mut all_gone = true;
    for (bucket, outcome) in [
        (profile_pictures, first),
        (food_images, second),
        (exports, third),
    ] {
        match outcome {
            Ok(removed) => tracing::info!(bucket, removed, "images of a deleted account removed"),
            Err(err) => {
                all_gone = false;
                tracing::error!(
                    bucket,
                    error = %WithCauses(&err),
                    "images of a deleted account left for the scheduled job"
                );
            }
        }
    }
    all_gone
}

/// Ends the caller's session at the Auth Service. Always succeeds for a valid token: a
/// client that logs out forgets its tokens whatever the Auth Service says, so its failure is
/// logged rather than answered.
#[utoipa::path(
    post,
    path = "/logout",
    tag = "account",
    request_body(content = Option<Value>, description = "Optional; forwarded when it is JSON, ignored otherwise"),
    responses(
        (status = 200, description = "Logged out (an Auth Service failure is logged, not answered)", body = Message,
         example = json!({"message": "Logout successful"})),
        (status = 401, description = "No valid access token", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %caller.token.user_id))]
async fn logout(
    caller: Bearer,
    State(state): State<AppState>,
    body: Result<Option<JsonBody>, Error>,
) -> axum::Json<Message> {
    // A body that is not JSON (an empty one declared as JSON, say) is not forwarded, and
    // does not keep the caller from logging out.
    let body = match body {
        Ok(body) => body.map(|JsonBody(body)| relay::json_bytes(&body)),
        Err(err) => {
            tracing::debug!(error = %WithCauses(&err), "a logout body that is not JSON is not forwarded");
            None
        }
    };
    match state.auth_service() {
        Ok(Some(auth)) => match auth
            .forward(Method::POST, "logout", &caller.raw, body)
            .await
        {
            Ok(answer) if answer.status.is_success() => {}
            Ok(answer) => {
                tracing::warn!(status = %answer.status, "the Auth Service refused a logout")
            }
            Err(err) => tracing::warn!(
                error = %WithCauses(&err),
                "the Auth Service could not be told of a logout"
            ),
        },
        Ok(None) => tracing::debug!("no Auth Service configured: a logout has nothing to forward"),
        Err(err) => {
            tracing::warn!(error = %WithCauses(&err), "the Auth Service client could not be built")
        }
    }
    Message::new("Logout successful")
}

/// The Auth Service, or 503 when `AUTH_SERVICE_URL` is not configured.
fn auth_service(state: &AppState) -> Result<&AuthService> {
    state
        .auth_service()?
        .ok_or(Error::AuthServiceUnavailable(None))
}

/// Our side of an account action's body: each of its fields is a non-empty string. The
/// values are the Auth Service's to judge, so they are neither trimmed nor otherwise changed.
fn require(body: &Value, shape: &Body, specs: [&Spec<Given>; 2]) -> Result<()> {
    let mut fields = Fields::of_body(body, shape, Mode::Create)?;
    for spec in specs {
        fields.read(spec);
    }
    fields.finish()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn problems(body: Value) -> Vec<(String, String)> {
        match require(&body, &PASSWORD_CHANGE, [&CURRENT_PASSWORD, &NEW_PASSWORD]) {
            Ok(()) => Vec::new(),
            Err(Error::Validation(fields)) => fields.into_iter().collect(),
            Err(other) => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn both_passwords_are_required_strings() {
        assert!(problems(json!({"currentPassword": " a ", "newPassword": "b"})).is_empty());
        let missing = problems(json!({"currentPassword": "a"}));
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].0, "newPassword");
        let wrong = problems(json!({"currentPassword": 1, "newPassword": ""}));
        let names: Vec<&str> = wrong.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["currentPassword", "newPassword"]);
        assert_eq!(
            problems(json!({"currentPassword": null, "newPassword": "x"})).len(),
            1
        );
        assert!(matches!(
            require(
                &json!(["a"]),
                &ACCOUNT_DELETION,
                [&PASSWORD, &CONFIRMATION_TEXT]
            ),
            Err(Error::Validation(_))
        ));
    }
}
