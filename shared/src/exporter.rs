//! The export document as a stream of chunks, one per page of records: what `GET /export`
//! sends as its body and `POST /exports` writes to the object store. Memory holds one page,
//! whatever the history.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::{Stream, stream};

use crate::domain::activities::Activities;
use crate::domain::cursor::Cursor;
use crate::domain::entries::Food;
use crate::domain::export::{ExportFormat, ExportKind, Exported, PAGE_SIZE};
use crate::domain::meals::Meal;
use crate::domain::profile::Profile;
use crate::domain::records::ListQuery;
use crate::domain::water::Water;
use crate::domain::weights::Weights;
use crate::error::Result;
use crate::store::{Store, Stored};

/// The document of `format` (for CSV, of the log `kind`) about `user_id`, whose profile and
/// saved meals were read at `exported_at`: the head, then each log a page at a time (keyset
/// paging on `(timestamp, id)`: every record exactly once), then the tail.
pub fn document(
    store: Store,
    user_id: String,
    profile: &Profile,
    meals: &[Meal],
    exported_at: DateTime<Utc>,
    format: ExportFormat,
    kind: ExportKind,
) -> Result<impl Stream<Item = Result<Bytes>> + Send + use<>> {
    let head = format.head(profile, meals, exported_at, kind)?;
    let pages = Pages {
        store,
        user_id,
        format,
        sections: format.sections(kind).into_iter(),
        section: None,
        after: None,
        first: true,
        done: false,
    };
    let rest = stream::try_unfold(pages, Pages::next_chunk);
    Ok(futures_util::StreamExt::chain(
        stream::iter([Ok(Bytes::from(head))]),
        rest,
    ))
}

/// Where the document stands.
struct Pages {
    store: Store,
    user_id: String,
    format: ExportFormat,
    /// The logs still to begin.
    sections: std::vec::IntoIter<ExportKind>,
    /// The log being written, if one is.
    section: Option<ExportKind>,
    after: Option<Cursor>,
    /// Whether no record of the section has been written yet.
    first: bool,
    done: bool,
}

impl Pages {
    async fn next_chunk(mut self) -> Result<Option<(Bytes, Self)>> {
        if self.done {
            return Ok(None);
        }
        let mut chunk = Vec::new();
        let section = match self.section {
            Some(section) => section,
            None => match self.sections.next() {
                Some(section) => {
                    chunk.extend(self.format.open(section));
                    self.section = Some(section);
                    self.first = true;
                    section
                }
                None => {
                    self.done = true;
                    return Ok(Some((Bytes::from_static(self.format.tail()), self)));
                }
            },
        };
        let query = ListQuery {
            after: self.after.take(),
            ..ListQuery::all(PAGE_SIZE)
        };
        // Each page is one operation of the store, under its deadline: once a body has begun
        // there is no status left to answer 503 with, so it ends instead of hanging.
        let (records, next) = match section {
            ExportKind::Entries => self.page::<Food>(&query).await?,
            ExportKind::Weights => self.page::<Weights>(&query).await?,
            ExportKind::Activities => self.page::<Activities>(&query).await?,
            ExportKind::Water => self.page::<Water>(&query).await?,
        };
        chunk.extend(records);
        match next {
            Some(after) => self.after = Some(after),
            None => {
                chunk.extend_from_slice(self.format.close());
                self.section = None;
            }
        }
        Ok(Some((Bytes::from(chunk), self)))
    }

    /// A page of `K`'s records in the document's format, and where the next one starts.
    async fn page<K: Stored>(&mut self, query: &ListQuery) -> Result<(Vec<u8>, Option<Cursor>)>
    where
        K::Record: Exported,
    {
        let page = self.store.records_page::<K>(&self.user_id, query).await?;
        let bytes = self.format.records(&page.records, self.first)?;
        self.first &= page.records.is_empty();
        Ok((bytes, page.next))
    }
}
