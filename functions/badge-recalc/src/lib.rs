//! The scheduled housekeeping: a daily EventBridge schedule invokes it (also `user-service
//! badge-recalc` locally). Every phase works in bounded batches and saves where it stopped in
//! `job_cursors`, so a run cut short (a Lambda timeout, a crash) is resumed by the next one, and
//! running it again changes nothing.
//!
//! 0. Account deletions: deletions the Auth Service confirmed but that could not be finished
//!    then (the database or the object store failed) are finished: rows, images, record.
//! 1. Badges: users whose days were written within the lookback window are re-evaluated over
//!    their whole history of days, and the badges they miss are awarded (writes evaluate
//!    badges too; this catches what they could not, such as the history of the previous
//!    service). One query reads a batch's days and badges, one statement awards.
//! 2. Orphaned images: objects of owners who are no longer users (the leftovers of an account
//!    deletion whose image cleanup was cut short) are deleted from both buckets. An existing
//!    user's image is never touched.
//! 3. Idempotency keys older than their 24 hours are deleted.

use std::time::{Duration as StdDuration, Instant, SystemTime};

use chrono::Duration;
use serde::{Deserialize, Serialize};
use shared::domain::badges::{self, Badge, Progress};
use shared::domain::export::EXPORTS_KEPT;
use shared::domain::idempotency;
use shared::maintenance::remove_orphaned_images;
use shared::objects::ObjectStore;
use shared::store::JobCursor;
use shared::{AppState, Result};

pub use lambda_runtime::{Context, LambdaEvent};

/// The `job_cursors` row of the badge phase.
pub const BADGE_JOB: &str = "badge-recalc";
/// The `job_cursors` rows of the orphaned image scans, one per bucket.
pub const PROFILE_PICTURES_JOB: &str = "orphan-images:profile-pictures";
pub const FOOD_IMAGES_JOB: &str = "orphan-images:food-images";

/// The job's statements may take longer than a request's (batches of hundreds of users).
const STATEMENT_DEADLINE: StdDuration = StdDuration::from_secs(30);

/// No batch starts closer than this to the Lambda's deadline.
const DEADLINE_MARGIN: StdDuration = StdDuration::from_secs(20);

#[derive(Clone, Debug)]
pub struct Options {
    /// Users re-evaluated per batch.
    pub batch_size: usize,
    /// Users whose days were written this recently are re-evaluated (more than the schedule's
    /// period, so a late run misses no one).
    pub lookback: Duration,
    /// Image owners looked at per step of the orphan scan.
    pub owner_batch: usize,
    /// Expired idempotency keys deleted per statement.
    pub key_batch: usize,
    /// Account deletions finished per batch.
    pub deletion_batch: usize,
    /// No batch starts after this.
    pub deadline: Option<Instant>,
    /// At most this many batches (of all phases together) in this run.
    pub max_batches: Option<usize>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            batch_size: 500,
            lookback: Duration::hours(48),
            owner_batch: 100,
            key_batch: 1000,
            deletion_batch: 100,
            deadline: None,
            max_batches: None,
        }
    }
}

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub accounts_deleted: u64,
    pub users_checked: u64,
    pub badges_awarded: u64,
    pub image_owners_removed: u64,
    pub images_removed: u64,
    pub idempotency_keys_deleted: u64,
    /// Exports of the local folder older than a day, removed (on S3 the bucket expires them).
    pub exports_expired: u64,
    /// Every phase ran to its end; otherwise the next run resumes where this one stopped.
    pub complete: bool,
}

/// The job with its default options.
pub async fn run(state: &AppState) -> Result<Report> {
    run_with(state, &Options::default()).await
}

pub async fn run_with(state: &AppState, options: &Options) -> Result<Report> {
    let mut run = Run {
        state,
        store: state.store().with_deadline(STATEMENT_DEADLINE),
        options,
        batches_left: options.max_batches,
        report: Report::default(),
    };
    let complete = run.finish_account_deletions().await?
        && run.recalculate_badges().await?
        && run.remove_orphaned_images().await?
        && run.delete_expired_idempotency_keys().await?
        && run.expire_local_exports().await?;
    run.report.complete = complete;
    Ok(run.report)
}

/// The payload of an EventBridge schedule (`"detail-type": "Scheduled Event"`); any other
/// JSON object (a manual invocation) runs the job as well.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ScheduledEvent {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub detail_type: Option<String>,
    #[serde(default)]
    pub time: Option<String>,
}

/// The Lambda handler: runs the job until done or until the invocation's deadline draws near.
pub async fn handle(state: &AppState, event: LambdaEvent<ScheduledEvent>) -> Result<Report> {
    let LambdaEvent { payload, context } = event;
    tracing::info!(
        request_id = %context.request_id,
        event_id = payload.id.as_deref().unwrap_or_default(),
        detail_type = payload.detail_type.as_deref().unwrap_or_default(),
        scheduled_for = payload.time.as_deref().unwrap_or_default(),
        "scheduled housekeeping started"
    );
    let options = Options {
        deadline: deadline_of(&context),
        ..Options::default()
    };
    let report = run_with(state, &options).await?;
    tracing::info!(?report, "scheduled housekeeping finished");
    Ok(report)
}

/// The instant to stop starting batches: the invocation's deadline less a margin.
fn deadline_of(context: &Context) -> Option<Instant> {
    if context.deadline == 0 {
        return None;
    }
    let left = context
        .deadline()
        .duration_since(SystemTime::now())
        .unwrap_or_default();
    Some(Instant::now() + left.saturating_sub(DEADLINE_MARGIN))
}

struct Run<'a> {
    state: &'a AppState,
    store: shared::store::Store,
    options: &'a Options,
    batches_left: Option<usize>,
    report: Report,
}

impl Run<'_> {
    /// Whether another batch may start.
    fn take_batch(&mut self) -> bool {
        if self
            .options
            .deadline
            .is_some_and(|deadline| Instant::now() >= deadline)
        {
            return false;
        }
        match &mut self.batches_left {
            Some(0) => false,
            Some(left) => {
                *left -= 1;
                true
            }
            None => true,
        }
    }

    /// Removes the local folder's exports kept longer than a day; on S3 the exports bucket's
    /// lifecycle rule expires them.
    async fn expire_local_exports(&mut self) -> Result<bool> {
        if let ObjectStore::Local(store) = self.state.objects().await? {
            self.report.exports_expired = store
                .delete_older_than(&self.state.buckets().exports, EXPORTS_KEPT)
                .await?;
        }
        Ok(true)
    }

    /// Finishes the account deletions left unfinished (see `shared::store::account`).
    async fn finish_account_deletions(&mut self) -> Result<bool> {
        while self.take_batch() {
            let users = self
                .store
                .finish_account_deletions(self.options.deletion_batch)
                .await?;
            if !users.is_empty() {
                let objects = self.state.objects().await?;
                for user_id in &users {
                    for bucket in self.state.buckets().of_users() {
                        objects.delete_owner(bucket, user_id).await?;
                    }
                    self.store.forget_account_deletion(user_id).await?;
                    tracing::info!(user_id = %user_id, "finished an account deletion");
                    self.report.accounts_deleted += 1;
                }
            }
            if users.len() < self.options.deletion_batch {
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn recalculate_badges(&mut self) -> Result<bool> {
        let store = &self.store.clone();
        let mut cursor = store.job_cursor(BADGE_JOB).await?;
        // A run in progress keeps its window; a new one starts now.
        let started = *cursor.run_started_at.get_or_insert_with(shared::time::now);
        let since = started - self.options.lookback;
        while self.take_batch() {
            let users = store
                .recently_active_users(since, cursor.position.as_deref(), self.options.batch_size)
                .await?;
            if let Some(last) = users.last() {
                let activity = store.activity_of(&users).await?;
                let awards: Vec<(String, &'static Badge)> = activity
                    .iter()
                    .flat_map(|(user_id, activity)| {
                        let progress = Progress {
                            entries: activity.entries,
                            streak: activity.days.longest_run(),
                        };
                        badges::newly_earned(&progress, &activity.badges)
                            .map(|badge| (user_id.clone(), badge))
                            .collect::<Vec<_>>()
                    })
                    .collect();
                self.report.badges_awarded +=
                    store.award_badges(&awards, shared::time::now()).await?;
                self.report.users_checked += users.len() as u64;
                cursor.position = Some(last.clone());
            }
            if users.len() < self.options.batch_size {
                // The run is complete: the next one starts afresh.
                store
                    .save_job_cursor(BADGE_JOB, &JobCursor::default())
                    .await?;
                return Ok(true);
            }
            store.save_job_cursor(BADGE_JOB, &cursor).await?;
        }
        Ok(false)
    }

    async fn remove_orphaned_images(&mut self) -> Result<bool> {
        let store = &self.store.clone();
        let objects = self.state.objects().await?;
        let buckets = self.state.buckets();
        for (job, bucket) in [
            (PROFILE_PICTURES_JOB, &buckets.profile_pictures),
            (FOOD_IMAGES_JOB, &buckets.food_images),
        ] {
            let mut cursor = store.job_cursor(job).await?;
            loop {
                if !self.take_batch() {
                    return Ok(false);
                }
                let scan = remove_orphaned_images(
                    store,
                    objects,
                    bucket,
                    cursor.position.as_deref(),
                    self.options.owner_batch,
                )
                .await?;
                self.report.image_owners_removed += scan.owners_removed as u64;
                self.report.images_removed += scan.objects_removed;
                cursor.position = scan.next;
                store.save_job_cursor(job, &cursor).await?;
                if cursor.position.is_none() {
                    break;
                }
            }
        }
        Ok(true)
    }

    async fn delete_expired_idempotency_keys(&mut self) -> Result<bool> {
        let store = &self.store.clone();
        let before = shared::time::now() - idempotency::WINDOW;
        while self.take_batch() {
            let deleted = store
                .delete_expired_idempotency_keys(before, self.options.key_batch)
                .await?;
            self.report.idempotency_keys_deleted += deleted;
            if deleted < self.options.key_batch as u64 {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
