//! Auto-pagination of listings as streams of items: `client.list_batches().limit(100).into_stream()`.
//! The generator emits `into_stream` for every listing paged by an `after` cursor (today
//! `list_batches` and `list_files`); each calls [`paginate`], which holds the rules below.
//!
//! The Cerebras docs describe one way to page: `has_more`, and `after` set to the last id of the
//! previous page (<https://inference-docs.cerebras.ai/api-reference/batch/list-batches>). What a
//! listing does with a server that strays from it is decided here, once, for both lists:
//!
//! - **No id twice.** An item whose id the listing already yielded (pages that overlap) is
//!   skipped, with a `tracing` warning naming the id and the page.
//! - **A page that brings nothing new ends the listing in an error.** A page with
//!   `has_more: true` whose items were all yielded before (or that has none) would make the
//!   listing ask again forever, or stop without the rest: the stream's last item is an
//!   [`ErrorKind::Protocol`] error. So is a cursor the server hands back twice.
//! - **An unknown way to page is never followed in silence.** A page whose `has_more` is absent
//!   or null but that carries top-level fields this client does not know (`next_page_token`,
//!   `next_cursor`, `next`, ...: some OpenAI-compatible servers page that way) may have more
//!   after it: its items are yielded, then an [`ErrorKind::Protocol`] error naming the fields
//!   says the listing may be incomplete. `has_more` absent or null with no such field ends the
//!   listing, as does `has_more: false` whatever else the page holds.

use std::collections::HashSet;

use futures::stream::BoxStream;
use futures::{StreamExt, stream};
use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind, Result};
use crate::operation::Operation;
use crate::types::{Batch, BatchList};

/// Top-level fields of a list page this client knows beside the spec's: OpenAI's `first_id` and
/// `last_id` (<https://platform.openai.com/docs/api-reference/batch/list>), which name the
/// page's own items and no next page.
const KNOWN_PAGE_FIELDS: &[&str] = &["first_id", "last_id"];

/// One page: its items, whether the server says more follow, and its top-level fields that are
/// neither in the spec nor in [`KNOWN_PAGE_FIELDS`].
pub(crate) struct Page<T> {
    items: Vec<T>,
    has_more: Option<bool>,
    unknown: Vec<String>,
}

impl<T> Page<T> {
    /// A page from a list type's `data`, `has_more` and `extra` (its fields the spec does not
    /// define).
    pub(crate) fn new(data: Option<Vec<T>>, has_more: Option<bool>, extra: &Map<String, Value>) -> Self {
        Self {
            // `data` absent or null (the spec allows both): a page without items.
            items: data.unwrap_or_default(),
            has_more,
            unknown: extra
                .keys()
                .filter(|k| !KNOWN_PAGE_FIELDS.contains(&k.as_str()))
                .cloned()
                .collect(),
        }
    }
}

/// Where a listing is: the cursor for the next page, the cursors used and the ids yielded.
struct Listing {
    operation: &'static str,
    after: Option<String>,
    cursors: HashSet<String>,
    yielded: HashSet<String>,
    pages: usize,
    done: bool,
}

impl Listing {
    /// What the stream yields for `page`: its new items, then an error when the page ends the
    /// listing in one. Sets the cursor for the next page, or ends the listing.
    fn take<T>(&mut self, page: Page<T>, id_of: fn(&T) -> &str) -> Vec<Result<T>> {
        self.pages += 1;
        let number = self.pages;
        let last = page.items.last().map(|item| id_of(item).to_owned());
        let mut out = Vec::with_capacity(page.items.len());
        let mut repeated = 0;
        for item in page.items {
            if self.yielded.insert(id_of(&item).to_owned()) {
                out.push(Ok(item));
            } else {
                repeated += 1;
                tracing::warn!(
                    operation = self.operation,
                    id = %id_of(&item),
                    page = number,
                    "the listing already yielded this item; skipped"
                );
            }
        }
        // Whether the listing goes on, and the error that ends it, if any.
        let (more, error) = match (page.has_more, last) {
            (Some(true), None) => (
                false,
                Some(format!(
                    "page {number} says more items follow but has none; the listing may be incomplete"
                )),
            ),
            (Some(true), Some(_)) if out.is_empty() => (
                false,
                Some(format!(
                    "page {number} says more items follow but brings none that the listing has not \
                     already yielded ({repeated} repeated); the listing may be incomplete"
                )),
            ),
            (Some(true), Some(cursor)) => match self.cursors.insert(cursor.clone()) {
                true => {
                    self.after = Some(cursor);
                    (true, None)
                }
                false => (
                    false,
                    Some(format!(
                        "the server repeated a page: `after={cursor}` was already used (page {number})"
                    )),
                ),
            },
            (None, _) if !page.unknown.is_empty() => (
                false,
                Some(format!(
                    "page {number} has no `has_more` but top-level fields this client does not know \
                     ({}), which may page another way; the listing may be incomplete",
                    page.unknown.join(", ")
                )),
            ),
            (Some(false) | None, _) => (false, None),
        };
        self.done = !more;
        if let Some(message) = error {
            out.push(Err(
                Error::new(ErrorKind::Protocol, message).with_operation(self.operation)
            ));
        }
        out
    }
}

/// Pages through a cursored list of the operation `op`, as the module's docs say:
/// `fetch(after)` gets a page, `id_of` names an item.
pub(crate) fn paginate<'a, T, F, Fut>(
    op: &'static Operation,
    fetch: F,
    id_of: fn(&T) -> &str,
) -> BoxStream<'a, Result<T>>
where
    T: Send + 'a,
    F: Fn(Option<String>) -> Fut + Send + 'a,
    Fut: std::future::Future<Output = Result<Page<T>>> + Send + 'a,
{
    let start = Listing {
        operation: op.id,
        after: None,
        cursors: HashSet::new(),
        yielded: HashSet::new(),
        pages: 0,
        done: false,
    };
    stream::unfold(start, move |mut listing| {
        let fut = (!listing.done).then(|| fetch(listing.after.clone()));
        async move {
            let out = match fut?.await {
                Ok(page) => listing.take(page, id_of),
                Err(e) => {
                    listing.done = true;
                    vec![Err(e)]
                }
            };
            Some((stream::iter(out), listing))
        }
    })
    .flatten()
    .boxed()
}

/// What a listing did with a sequence of list page bodies: the `after` of each request, and
/// each item of the stream (a batch id, or the error's kind and message).
#[doc(hidden)]
#[derive(Debug)]
pub struct ReplayedListing {
    /// The `after` of each page request, in order.
    pub requests: Vec<Option<String>>,
    /// Each item of the stream: a batch id, or an error's kind and message.
    pub items: Vec<std::result::Result<String, (ErrorKind, String)>>,
    /// Whether the stream ended by itself within `pages.len() + 2` requests (otherwise the
    /// replay stopped it).
    pub ended: bool,
}

/// Runs the listing of [`ListBatches::into_stream`](crate::builder::ListBatches::into_stream)
/// over `pages`, the bodies the server answers in turn (the last one again for every request
/// after them; a body that does not decode is a `Decode` error, as from the server). For the
/// fuzz target `pagination`; not part of the API.
#[doc(hidden)]
pub async fn replay_listing(pages: &[&[u8]]) -> ReplayedListing {
    use std::sync::{Arc, Mutex};
    let requests = Arc::new(Mutex::new(Vec::new()));
    let limit = pages.len() + 2;
    let fetch = {
        let requests = Arc::clone(&requests);
        let pages: Vec<Vec<u8>> = pages.iter().map(|p| p.to_vec()).collect();
        move |after: Option<String>| {
            let mut sent = requests.lock().expect("not poisoned");
            sent.push(after);
            let body = pages.get(sent.len() - 1).or(pages.last()).cloned();
            let too_many = sent.len() > limit;
            async move {
                if too_many {
                    return Err(Error::new(ErrorKind::Connection, "replay: too many requests"));
                }
                // No pages at all: an empty body, which does not decode.
                let body = body.unwrap_or_default();
                serde_json::from_slice::<BatchList>(&body)
                    .map(|page| Page::new(page.data, page.has_more, &page.extra))
                    .map_err(|e| Error::new(ErrorKind::Decode, e.to_string()))
            }
        }
    };
    let items: Vec<_> = paginate(&crate::operations::LIST_BATCHES, fetch, |b: &Batch| b.id.as_str())
        .map(|item| item.map(|b| b.id).map_err(|e| (e.kind(), e.to_string())))
        .collect()
        .await;
    let requests = requests.lock().expect("not poisoned").clone();
    ReplayedListing {
        ended: requests.len() <= limit,
        requests,
        items,
    }
}
