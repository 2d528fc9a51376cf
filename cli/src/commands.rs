//! The small commands: `status`, `list`, `cancel`, `download` and `files ...`, each a call or two
//! of the library, printed as a table or (`--json`) as the API's JSON.

use std::path::Path;

use anyhow::{Context, bail};
use cerebras_batch::types::Batch;
use cerebras_batch::{Client, UploadFile, WaitOptions};
use futures::TryStreamExt;
use serde_json::json;

use crate::progress::Display;
use crate::{Global, Outcome, output};

/// `status ID`.
pub async fn status(client: &Client, g: &Global, batch_id: &str) -> anyhow::Result<Outcome> {
    let batch = client.retrieve_batch(batch_id).await?;
    if g.json {
        output::json(&batch)?;
    } else {
        println!("{}", output::batch(&batch));
    }
    Ok(Outcome::Done)
}

/// `list [--all]`.
pub async fn list_batches(client: &Client, g: &Global, all: bool, limit: i64) -> anyhow::Result<Outcome> {
    let (data, has_more) = if all {
        (
            client
                .list_batches()
                .limit(limit)
                .into_stream()
                .try_collect::<Vec<_>>()
                .await?,
            false,
        )
    } else {
        let page = client.list_batches().limit(limit).await?;
        (page.data.unwrap_or_default(), page.has_more.unwrap_or(false))
    };
    print_list(g, &data, has_more, output::batches, "batches")
}

/// A page (or all pages) of a list: the API's list object with `--json`, else a table.
fn print_list<T: serde::Serialize>(
    g: &Global,
    data: &[T],
    has_more: bool,
    table: fn(&[T]) -> String,
    what: &str,
) -> anyhow::Result<Outcome> {
    if g.json {
        output::json(&json!({"object": "list", "data": data, "has_more": has_more}))?;
    } else {
        println!("{}", table(data));
        if has_more {
            eprintln!("(more {what}: --all lists them all)");
        }
    }
    Ok(Outcome::Done)
}

/// `cancel ID... [--wait]`: every batch is tried. Each error is printed once, as it comes; with
/// one batch, its error is the command's; with several, the command's error counts them.
pub async fn cancel(client: &Client, g: &Global, ids: &[String], wait: bool) -> anyhow::Result<Outcome> {
    let mut done: Vec<Batch> = Vec::new();
    let mut errors: Vec<cerebras_batch::Error> = Vec::new();
    for id in ids {
        let result = if wait {
            client.cancel_and_wait(id, WaitOptions::default()).await
        } else {
            client.cancel_batch(id).await
        };
        match result {
            Ok(b) => done.push(b),
            Err(e) if ids.len() == 1 => errors.push(e),
            Err(e) => {
                eprintln!("cerebras-batch: {}", output::printable_lines(&e.to_string()));
                errors.push(e);
            }
        }
    }
    if g.json {
        output::json(&done)?;
    } else if !done.is_empty() {
        println!("{}", output::batches(&done));
    }
    match errors.len() {
        0 => Ok(Outcome::Done),
        1 if ids.len() == 1 => Err(errors.remove(0).into()),
        n => bail!("{n} of {} batches were not cancelled (each error is above)", ids.len()),
    }
}

/// `download ID --out FILE [--errors]`.
pub async fn download(client: &Client, g: &Global, id: &str, out: &Path, errors: bool) -> anyhow::Result<Outcome> {
    let which = if errors { "error" } else { "output" };
    // Written whole under a temporary name, then renamed: a failed or interrupted download
    // leaves no partial file (Ctrl-C drops the save, which removes its temporary file).
    let mut display = Display::new(g.quiet || g.json);
    display.footer("Ctrl-C stops; nothing is written");
    let mut bar = display.spinner(format!("downloading batch {id}'s {which} file"), None);
    let interrupt = crate::interrupt::Interrupt::install();
    let fetch = async {
        let batch = client.retrieve_batch(id).await?;
        let download = if errors {
            client.download_errors(&batch).await?
        } else {
            client.download_output(&batch).await?
        };
        let Some(download) = download else {
            bail!("batch {id} has no {which} file (it is {})", batch.status_text());
        };
        let file_id = if errors {
            batch.error_file_id.clone()
        } else {
            batch.output_file_id.clone()
        };
        // The body's size is known now: a byte count in place of the spinner.
        if let Some(total) = download.content_length() {
            bar.finish_and_clear();
            bar = display.spinner(format!("downloading batch {id}'s {which} file"), Some(total));
        }
        let progress = bar.clone();
        let download = download.on_progress(move |written| progress.set_position(written));
        let bytes = download
            .save(out)
            .await
            .with_context(|| format!("downloading batch {id}'s {which} file to {}", out.display()))?;
        anyhow::Ok((file_id, bytes))
    };
    let saved = tokio::select! {
        saved = fetch => Some(saved),
        () = interrupt.first() => None,
    };
    bar.finish_and_clear();
    display.clear();
    let Some(saved) = saved else {
        eprintln!("interrupted: nothing was written to {}", out.display());
        return Ok(Outcome::Interrupted);
    };
    let (file_id, bytes) = saved?;
    if g.json {
        output::json(&json!({"batch_id": id, "file_id": file_id, "path": out, "bytes": bytes}))?;
    } else {
        println!("wrote {bytes} bytes of batch {id}'s {which} file to {}", out.display());
    }
    Ok(Outcome::Done)
}

/// `files list [--all]`.
pub async fn list_files(client: &Client, g: &Global, all: bool, limit: i64) -> anyhow::Result<Outcome> {
    let (data, has_more) = if all {
        (
            client
                .list_files()
                .limit(limit)
                .into_stream()
                .try_collect::<Vec<_>>()
                .await?,
            false,
        )
    } else {
        let page = client.list_files().limit(limit).await?;
        (page.data.unwrap_or_default(), page.has_more.unwrap_or(false))
    };
    print_list(g, &data, has_more, output::files, "files")
}

/// `files get ID`.
pub async fn get_file(client: &Client, g: &Global, id: &str) -> anyhow::Result<Outcome> {
    let file = client.retrieve_file(id).await?;
    if g.json {
        output::json(&file)?;
    } else {
        println!("{}", output::files(std::slice::from_ref(&file)));
    }
    Ok(Outcome::Done)
}

/// `files delete ID`.
pub async fn delete_file(client: &Client, g: &Global, id: &str) -> anyhow::Result<Outcome> {
    let deleted = client.delete_file(id).await?;
    if g.json {
        output::json(&deleted)?;
    } else {
        println!("deleted {}", output::printable(&deleted.id));
    }
    Ok(Outcome::Done)
}

/// `files upload PATH`: checked against the documented limits first, then uploaded with a bar.
pub async fn upload_file(
    client: &Client,
    g: &Global,
    path: &Path,
    expires_after: Option<i64>,
) -> anyhow::Result<Outcome> {
    let reader = crate::plan::open_requests(path).await?;
    let check = cerebras_batch::jsonl::check_request_file(reader)
        .await
        .with_context(|| format!("cannot read the request file `{}`", path.display()))?;
    if !check.is_ok() {
        let hint = " (`submit` splits files over the per-batch limits)";
        return Err(crate::submit::problems(path, &check.problems, None, hint));
    }
    let display = Display::new(g.quiet || g.json);
    let bar = display.upload(&path.display().to_string(), check.summary.bytes);
    let progress = bar.clone();
    let mut upload = UploadFile::from_path(path).on_progress(move |p| progress.set_position(p.sent));
    if let Some(seconds) = expires_after {
        upload = upload.expires_after(seconds);
    }
    let file = client.upload_file(upload).await;
    bar.finish_and_clear();
    let file = file?;
    if g.json {
        output::json(&file)?;
    } else {
        println!("{}", output::files(std::slice::from_ref(&file)));
    }
    Ok(Outcome::Done)
}
