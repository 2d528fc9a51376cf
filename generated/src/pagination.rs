//! Auto-pagination of `list_batches` and `list_files` as streams of items:
//! `client.list_batches().limit(100).into_stream()`.

use std::collections::HashSet;

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

impl<'a> crate::builder::ListBatches<'a> {
    /// Every batch, page after page, as one stream: this request is sent with `after` set to
    /// the last id of the previous page until the server says there is no more. Its `limit`,
    /// if set, is each page's size (1 to 100; the server's default is 20).
    ///
    /// ```no_run
    /// # async fn run(client: cerebras_batch::Client) -> cerebras_batch::Result<()> {
    /// use futures::TryStreamExt;
    /// let batches: Vec<_> = client.list_batches().limit(100).into_stream().try_collect().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// Each item is an error of [`send`](Self::send), or [`ErrorKind::Protocol`] when the server
    /// repeats a page; the stream ends after an error.
    pub fn into_stream(self) -> impl Stream<Item = Result<Batch>> + Send + Unpin + 'a {
        paginate(
            "list_batches",
            move |after| {
                let request = self.clone().set_after(after);
                async move {
                    let page = request.send().await?;
                    Ok(Page {
                        items: page.data.unwrap_or_default(),
                        has_more: page.has_more,
                    })
                }
            },
            |b: &Batch| b.id.as_str(),
        )
        .boxed()
    }
}

impl<'a> crate::builder::ListFiles<'a> {
    /// Every file, page after page (`GET /v1/files`), as one stream. See
    /// [`ListBatches::into_stream`](crate::builder::ListBatches::into_stream).
    ///
    /// # Errors
    ///
    /// Each item is an error of [`send`](Self::send), or [`ErrorKind::Protocol`] when the server
    /// repeats a page; the stream ends after an error.
    pub fn into_stream(self) -> impl Stream<Item = Result<File>> + Send + Unpin + 'a {
        paginate(
            "list_files",
            move |after| {
                let request = self.clone().set_after(after);
                async move {
                    let page = request.send().await?;
                    Ok(Page {
                        items: page.data.unwrap_or_default(),
                        has_more: page.has_more,
                    })
                }
            },
            |f: &File| f.id.as_str(),
        )
        .boxed()
    }
}
