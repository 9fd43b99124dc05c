//! Who is calling: the extractors that authenticate a request with the Auth Service's token
//! and, on a user's first request, create them here (user sync, CONTRACT §2). They sit above
//! [`crate::auth`] and [`crate::state`], which know nothing of requests.

mod extract;
mod sync;

pub use extract::{Bearer, CurrentUser};
