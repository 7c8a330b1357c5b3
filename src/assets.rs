//! Static files compiled into the binary, served under content-hashed URLs
//! (`/assets/<hash>/<path>`) with a one-year immutable cache.

use std::{collections::HashMap, sync::LazyLock};

use poem::{
    Response, handler,
    http::{StatusCode, header},
    web::Path,
};

#[derive(rust_embed::Embed)]
#[folder = "assets/"]
pub struct Assets;

static HASHES: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    Assets::iter()
        .filter_map(|path| {
            let file = Assets::get(&path)?;
            let hash = file.metadata.sha256_hash();
            let short: String = hash[..6].iter().map(|b| format!("{b:02x}")).collect();
            Some((path.into_owned(), short))
        })
        .collect()
});

/// The URL of an asset, with its content hash.
pub fn url(path: &str) -> String {
    match HASHES.get(path) {
        Some(h) => format!("/assets/{h}/{path}"),
        None => format!("/assets/0/{path}"),
    }
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, e)| e) {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("txt" | "LICENSE") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Serves an embedded file. A stale hash still gets the current file, but
/// only the current hash is cached for long.
#[handler]
pub fn serve(Path((hash, path)): Path<(String, String)>) -> Response {
    let Some(file) = Assets::get(&path) else {
        return Response::builder().status(StatusCode::NOT_FOUND).finish();
    };
    let current = HASHES.get(&path).is_some_and(|h| *h == hash);
    let cache = if current {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Response::builder()
        .header(header::CONTENT_TYPE, content_type(&path))
        .header(header::CACHE_CONTROL, cache)
        .body(file.data.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_has_a_hashed_url() {
        for p in ["css/app.css", "js/app.js", "vendor/htmx-2.0.11.min.js"] {
            let u = url(p);
            assert!(
                u.starts_with("/assets/") && u.ends_with(p) && !u.contains("/0/"),
                "{u}"
            );
        }
    }
}
