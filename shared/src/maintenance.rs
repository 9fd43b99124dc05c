//! Housekeeping that runs outside requests (the scheduled function calls it).

use crate::error::Result;
use crate::objects::ObjectStore;
use crate::store::Store;

/// One step of the scan for images whose owner is no longer a user.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrphanScan {
    /// The last owner looked at: where the next step starts. `None` once the bucket has been
    /// scanned to its end.
    pub next: Option<String>,
    pub owners_removed: usize,
    pub objects_removed: u64,
}

/// Looks at up to `limit` owners of `bucket` after `after` and deletes the objects of those
/// that are not users: the leftovers of an account deletion whose image cleanup was cut short.
/// An existing user's images are never touched. Memory stays bounded by `limit`.
pub async fn remove_orphaned_images(
    store: &Store,
    objects: &ObjectStore,
    bucket: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<OrphanScan> {
    let owners = objects.list_owners(bucket, after, limit).await?;
    let Some(last) = owners.last().cloned() else {
        return Ok(OrphanScan::default());
    };
    let existing = store.existing_users(&owners).await?;
    let mut scan = OrphanScan {
        next: Some(last),
        ..OrphanScan::default()
    };
    for owner in owners.iter().filter(|owner| !existing.contains(*owner)) {
        let removed = objects.delete_owner(bucket, owner).await?;
        tracing::info!(bucket, owner = %owner, removed, "removed images of a deleted user");
        scan.owners_removed += 1;
        scan.objects_removed += removed;
    }
    Ok(scan)
}
