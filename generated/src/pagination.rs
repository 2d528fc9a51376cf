//! Auto-pagination of `list_batches` and `list_files` as streams of items.

use std::collections::HashSet;
use std::num::NonZeroU64;

use futures::{Stream, StreamExt, TryStreamExt, stream};

use crate::error::{Error, ErrorKind, Result};
use crate::types::{Batch, File};

/// One page: its items and whether the server says more follow.
struct Page<T> {
    items: Vec<T>,
    has_more: Option<bool>,
}

/// Pages through a cursored list: `after` is the last id of the previous page. Stops when
/// `has_more` is false or null, or a page is empty; fails with [`ErrorKind::Protocol`] when
/// the server hands back a cursor it already gave (a repeated page), instead of looping.
fn paginate<'a, T, F, Fut>(
    operation: &'static str,
    fetch: F,
    id_of: fn(&T) -> &str,
) -> impl Stream<Item = Result<T>> + Send + 'a
where
    T: Send + 'a,
    F: Fn(Option<String>) -> Fut + Send + 'a,
    Fut: std::future::Future<Output = Result<Page<T>>> + Send + 'a,
{
    struct State {
        after: Option<String>,
        used: HashSet<String>,
        done: bool,
    }
    let start = State {
        after: None,
        used: HashSet::new(),
        done: false,
    };
    stream::try_unfold(start, move |mut state| {
        let fut = (!state.done).then(|| fetch(state.after.clone()));
        async move {
            let Some(fut) = fut else { return Ok(None) };
            let page = fut.await?;
            let next = page.items.last().map(|item| id_of(item).to_owned());
            state.done = page.items.is_empty() || page.has_more != Some(true);
            if !state.done {
                let cursor = next.clone().expect("a non-empty page has a last item");
                if !state.used.insert(cursor.clone()) {
                    return Err(Error::new(
                        ErrorKind::Protocol,
                        format!("the server repeated a page: `after={cursor}` was already used"),
                    )
                    .with_operation(operation));
                }
                state.after = Some(cursor);
            }
            Ok(Some((page.items, state)))
        }
    })
    .map_ok(|items| stream::iter(items.into_iter().map(Ok)))
    .try_flatten()
}

impl crate::Client {
    /// Every batch, page after page (`GET /v1/batches` with `after` set to the last id of the
    /// previous page), as one stream. `page_size` is the `limit` of each request (1 to 100;
    /// the server's default is 20).
    ///
    /// # Errors
    ///
    /// Each item is an error of [`list_batches`](Self::list_batches), or
    /// [`ErrorKind::Protocol`] when the server repeats a page; the stream ends after an error.
    pub fn list_batches_stream(
        &self,
        page_size: Option<NonZeroU64>,
    ) -> impl Stream<Item = Result<Batch>> + Send + Unpin + '_ {
        paginate(
            "list_batches",
            move |after| async move {
                let page = self.list_batches(after.as_deref(), page_size).await?;
                Ok(Page {
                    items: page.data.unwrap_or_default(),
                    has_more: page.has_more,
                })
            },
            |b: &Batch| b.id.as_str(),
        )
        .boxed()
    }

    /// Every file, page after page (`GET /v1/files`), as one stream. See
    /// [`list_batches_stream`](Self::list_batches_stream).
    ///
    /// # Errors
    ///
    /// Each item is an error of [`list_files`](Self::list_files), or [`ErrorKind::Protocol`]
    /// when the server repeats a page; the stream ends after an error.
    pub fn list_files_stream(
        &self,
        page_size: Option<NonZeroU64>,
    ) -> impl Stream<Item = Result<File>> + Send + Unpin + '_ {
        paginate(
            "list_files",
            move |after| async move {
                let page = self.list_files(after.as_deref(), page_size).await?;
                Ok(Page {
                    items: page.data,
                    has_more: Some(page.has_more),
                })
            },
            |f: &File| f.id.as_str(),
        )
        .boxed()
    }
}
