//! User sync: the first request of a user the database does not know yet creates their row
//! from the Auth Service's profile (CONTRACT §2).

use crate::auth::{VerifiedToken, id_claim};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::state::AppState;
use crate::store::{NewUser, Standing};
use crate::time::UserZone;

/// `users.email` and `users.name` are `VARCHAR(255)`.
const MAX_TEXT: usize = 255;

/// Makes sure the token's user exists; returns the zone of their day.
pub(super) async fn ensure_user(
    state: &AppState,
    token: &VerifiedToken,
    bearer: &Secret,
) -> Result<UserZone> {
    let store = state.store();
    match store.standing(&token.user_id).await? {
        Standing::Active(zone) => return Ok(zone),
        // Their account is being deleted: nothing of theirs is served, and they are not
        // created anew.
        Standing::Leaving => return Err(Error::NotFound("User not found")),
        Standing::Unknown => {}
    }
    let (email, name) = match state.auth_service()? {
        Some(auth) => {
            let profile = auth.profile(bearer).await?;
            // The profile must be the token's own user.
            if id_claim(&profile.id).is_some_and(|id| id != token.user_id) {
                return Err(Error::Unauthorized("Invalid token"));
            }
            (profile.email, profile.name)
        }
        // Local development without an Auth Service: the token is all we know.
        None => (token.email.clone(), token.name.clone()),
    };
    let user = NewUser {
        id: token.user_id.clone(),
        email: clean(email).unwrap_or_else(|| format!("{}@users.invalid", token.user_id)),
        name: clean(name),
        created_at: crate::time::now(),
    };
    tracing::info!(user_id = %user.id, "creating user on first request");
    store.create_user(&user).await?;
    Ok(UserZone::UTC)
}

fn clean(text: Option<String>) -> Option<String> {
    let text = text?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.chars().take(MAX_TEXT).collect())
}
