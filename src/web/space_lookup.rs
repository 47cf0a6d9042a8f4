//! Finding one Space, for the handlers that need nothing else (card, calendar).

use std::sync::Arc;

use crate::cache::CacheStatus;
use crate::catalog::{LookupError, Missing};
use crate::model::{Space, SpaceId};
use crate::web::error::AppResult;
use crate::web::state::AppState;

/// The Space and its cache status; a Space the upstream doesn't know is a not-found.
pub async fn load_space(state: &AppState, id: &SpaceId) -> AppResult<(Arc<Space>, CacheStatus)> {
    let found = state.catalog.space(id).await?;
    let space = found.value.ok_or(LookupError::NotFound(Missing::Space))?;
    Ok((space, found.status))
}
