//! The few HTML pages sign-in needs before the dashboard exists: confirm a magic link,
//! approve a device, "signed in". Plain forms, no script; every value is escaped.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A page with `title` and already-escaped `body`; never cached, never framed.
pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{title} · Vibariant</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;\
         padding:0 1rem}}input,button{{font-size:1rem;padding:.4rem}}</style></head>\
         <body><h1>{title}</h1>{body}</body></html>",
        title = escape(title)
    );
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    response
}

/// A local path safe to redirect to after sign-in (`/…`, not `//host` or a scheme).
pub fn safe_next(next: Option<&str>) -> Option<String> {
    let next = next?;
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        // Visible ASCII only: anything else cannot go in a Location header as it is.
        && next.bytes().all(|byte| byte.is_ascii_graphic())
        && next.len() <= 512;
    local.then(|| next.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_redirect_targets() {
        assert_eq!(
            safe_next(Some("/device?user_code=BCDF-GHJK")).as_deref(),
            Some("/device?user_code=BCDF-GHJK")
        );
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "device",
            "/a\r\nx",
            "/caf\u{e9}",
            "/a b",
        ] {
            assert_eq!(safe_next(Some(bad)), None, "{bad}");
        }
        assert_eq!(escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
