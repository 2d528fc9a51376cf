//! The client, configured as the library is (`CEREBRAS_API_KEY`, `CEREBRAS_BASE_URL`,
//! `CEREBRAS_CUSTOM_HEADERS`), with `--api-key-file` and `--base-url` taking precedence.

use anyhow::{Context, bail};
use cerebras_batch::Client;

use crate::Global;

/// Builds the client. The key is read from `--api-key-file` (its first line) or
/// `CEREBRAS_API_KEY`, and never printed.
pub fn client(g: &Global) -> anyhow::Result<Client> {
    let from_file = match &g.api_key_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the API key file {}", path.display()))?;
            let key = text.lines().next().unwrap_or_default().trim().to_owned();
            if key.is_empty() {
                bail!("the API key file {} is empty", path.display());
            }
            Some(key)
        }
        None => None,
    };
    if from_file.is_none() && std::env::var("CEREBRAS_API_KEY").map_or(true, |k| k.trim().is_empty()) {
        bail!("no API key: export CEREBRAS_API_KEY, or pass --api-key-file FILE");
    }
    let builder = Client::builder().from_vars(|name| match (name, &from_file) {
        ("CEREBRAS_API_KEY", Some(key)) => Some(key.clone()),
        _ => std::env::var(name).ok(),
    })?;
    let builder = match &g.base_url {
        Some(url) => builder.base_url(url),
        None => builder,
    };
    Ok(builder.build()?)
}
