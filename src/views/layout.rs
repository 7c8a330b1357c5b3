//! The page shell: head (CSS, htmx and its hardened config, our script),
//! header, main, footer. The CSRF token rides on `<body>` for htmx requests.

use maud::{DOCTYPE, Markup, html};

use crate::{
    assets,
    state::{CSRF_FIELD, CSRF_HEADER},
};

/// htmx settings that keep the CSP strict (no eval, no inline styles or
/// scripts, requests to this origin only, no history snapshots of forms).
const HTMX_CONFIG: &str = r#"{"selfRequestsOnly":true,"allowScriptTags":false,"allowEval":false,"includeIndicatorStyles":false,"historyCacheSize":0,"defaultSwapStyle":"outerHTML"}"#;

/// A whole page. `csrf` is the token for forms and htmx requests on it.
pub fn page(title: &str, csrf: Option<&str>, content: Markup) -> Markup {
    let hx_headers = csrf.map(|t| format!(r#"{{"{CSRF_HEADER}":"{t}"}}"#));
    html! {
        (DOCTYPE)
        html lang="ja" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="htmx-config" content=(HTMX_CONFIG);
                meta name="referrer" content="no-referrer";
                title { (title) " | MAMIS 医師会 会員情報システム" }
                link rel="stylesheet" href=(assets::url("css/app.css"));
                script src=(assets::url("vendor/htmx-2.0.11.min.js")) defer {}
                script src=(assets::url("js/app.js")) defer {}
            }
            body hx-headers=[hx_headers] {
                a.skip href="#main" { "本文へ移動" }
                header.site {
                    a.brand href="/login" {
                        span.brand-mark { "MAMIS" }
                        span.brand-name { "医師会 会員情報システム" }
                    }
                }
                main #main tabindex="-1" { (content) }
                footer.site {
                    nav aria-label="フッター" {
                        a href="/inquiry" { "お問合せフォーム" }
                        a href="/privacy" { "個人情報保護について" }
                    }
                    p.copyright { "Copyright© MAMIS. All rights reserved." }
                }
            }
        }
    }
}

/// The hidden CSRF input of a form.
pub fn csrf_input(token: &str) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(token); }
}
