//! The test client: a visitor with their own cookies (session, CSRF) who
//! posts forms as a page would, and the answers it reads whole.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::{Context, ensure};
use reqwest::{StatusCode, header::HeaderMap, redirect::Policy};

use super::html::csrf_from;

/// An answer, read whole.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every `Set-Cookie` header.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    }

    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }

    /// Fails unless this is a 303 to `path`.
    #[track_caller]
    pub fn assert_redirect_to(&self, path: &str) {
        assert_eq!(
            (self.status, self.location()),
            (StatusCode::SEE_OTHER, Some(path)),
            "expected a redirect to {path}; body:\n{}",
            self.excerpt()
        );
    }

    /// [`Page::assert_redirect_to`] as an error, for a story that must go on
    /// when the server is gone.
    pub fn expect_redirect_to(&self, path: &str) -> anyhow::Result<()> {
        ensure!(
            self.status == StatusCode::SEE_OTHER && self.location() == Some(path),
            "expected 303 to {path}, got {} {:?}: {}",
            self.status,
            self.location(),
            self.excerpt()
        );
        Ok(())
    }

    /// Fails unless the status is `status`.
    #[track_caller]
    pub fn assert_status(&self, status: StatusCode) {
        assert_eq!(
            self.status,
            status,
            "unexpected status; body:\n{}",
            self.excerpt()
        );
    }

    /// Fails unless the body contains `text`.
    #[track_caller]
    pub fn assert_contains(&self, text: &str) {
        assert!(
            self.body.contains(text),
            "expected {text:?} in the page ({}):\n{}",
            self.status,
            self.excerpt()
        );
    }

    /// The visible part of the page, shortened, for failure messages.
    pub fn excerpt(&self) -> String {
        let main = self
            .body
            .find("<main")
            .map_or(self.body.as_str(), |i| &self.body[i..]);
        main.chars().take(3000).collect()
    }
}

/// A visitor with their own cookies (session, CSRF). Redirects are not
/// followed, so that each step can be checked.
#[derive(Clone)]
pub struct Browser {
    pub base: String,
    client: reqwest::Client,
    csrf: Arc<Mutex<Option<String>>>,
}

impl Browser {
    pub fn new(base: &str) -> Browser {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("HTTP client");
        Browser {
            base: base.trim_end_matches('/').to_owned(),
            client,
            csrf: Arc::default(),
        }
    }

    /// An absolute URL for `path` (absolute URLs are kept as they are).
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    /// Sends a request and reads the answer; remembers the CSRF token of
    /// any page that carries one, as a form on that page would.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Page {
        self.try_send(req).await.unwrap_or_else(|e| panic!("{e:#}"))
    }

    /// [`Browser::send`] for a server that may be gone: a failed request is
    /// an error, not a panic.
    pub async fn try_send(&self, req: reqwest::RequestBuilder) -> anyhow::Result<Page> {
        let resp = req.send().await.context("request failed")?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.text().await.context("unreadable body")?;
        if let Some(token) = csrf_from(&body) {
            *self.csrf.lock().expect("csrf lock poisoned") = Some(token);
        }
        Ok(Page {
            status,
            headers,
            body,
        })
    }

    /// The raw client (shares this browser's cookies).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub async fn get(&self, path: &str) -> Page {
        self.send(self.client.get(self.url(path))).await
    }

    /// The CSRF token a form on the last page would carry (fetches the
    /// login page first when no page with a form was seen yet).
    pub async fn csrf_token(&self) -> String {
        if let Some(t) = self.csrf.lock().expect("csrf lock poisoned").clone() {
            return t;
        }
        let page = self.get("/login").await;
        csrf_from(&page.body).expect("the login page carries no CSRF token")
    }

    /// Posts a form as the page's form would: with its hidden CSRF token.
    pub async fn post_form<K: AsRef<str>, V: AsRef<str>>(
        &self,
        path: &str,
        pairs: &[(K, V)],
    ) -> Page {
        let token = self.csrf_token().await;
        self.send(self.form_request(path, &token, pairs)).await
    }

    /// GET for a server that may be gone (see [`Browser::try_send`]).
    pub async fn try_get(&self, path: &str) -> anyhow::Result<Page> {
        self.try_send(self.client.get(self.url(path))).await
    }

    /// [`Browser::post_form`] for a server that may be gone, with the token
    /// of the last page that carried one.
    pub async fn try_post_form<K: AsRef<str>, V: AsRef<str>>(
        &self,
        path: &str,
        pairs: &[(K, V)],
    ) -> anyhow::Result<Page> {
        let token = self
            .csrf
            .lock()
            .expect("csrf lock poisoned")
            .clone()
            .context("no page with a CSRF token was opened yet")?;
        self.try_send(self.form_request(path, &token, pairs)).await
    }

    /// A form POST with the hidden CSRF token first.
    fn form_request<K: AsRef<str>, V: AsRef<str>>(
        &self,
        path: &str,
        token: &str,
        pairs: &[(K, V)],
    ) -> reqwest::RequestBuilder {
        let mut body: Vec<(&str, &str)> = vec![("csrf_token", token)];
        body.extend(pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref())));
        self.client.post(self.url(path)).form(&body)
    }

    /// Posts a form without any CSRF token.
    pub async fn post_form_without_csrf<K: AsRef<str>, V: AsRef<str>>(
        &self,
        path: &str,
        pairs: &[(K, V)],
    ) -> Page {
        let body: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_ref(), v.as_ref()))
            .collect();
        self.send(self.client.post(self.url(path)).form(&body))
            .await
    }

    /// Posts a `multipart/form-data` form as a browser sends an upload:
    /// `fields` (the form's other inputs, hidden ones included, in order)
    /// as text parts, then the file `(input name, file name, bytes)`.
    pub async fn post_multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file: (&str, &str, Vec<u8>),
    ) -> Page {
        let mut form = reqwest::multipart::Form::new();
        for (name, value) in fields {
            form = form.text(name.to_string(), value.to_string());
        }
        let (name, file_name, bytes) = file;
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(file_name.to_owned())
            .mime_str("text/csv")
            .expect("a valid MIME type");
        form = form.part(name.to_owned(), part);
        self.send(self.client.post(self.url(path)).multipart(form))
            .await
    }

    /// Posts as htmx does: the token in the `X-CSRF-Token` header.
    pub async fn htmx_post<K: AsRef<str>, V: AsRef<str>>(
        &self,
        path: &str,
        pairs: &[(K, V)],
    ) -> Page {
        let token = self.csrf_token().await;
        let body: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_ref(), v.as_ref()))
            .collect();
        self.send(
            self.client
                .post(self.url(path))
                .header("X-CSRF-Token", token)
                .header("HX-Request", "true")
                .form(&body),
        )
        .await
    }

    /// htmx GET (suggestions).
    pub async fn htmx_get(&self, path: &str) -> Page {
        self.send(self.client.get(self.url(path)).header("HX-Request", "true"))
            .await
    }

    // -- the registration, step by step --------------------------------

    /// Screens 2 and 3: agrees to the terms and sends the address.
    pub async fn start_registration(&self, email: &str) {
        self.get("/register").await.assert_status(StatusCode::OK);
        self.post_form("/register", &[("agree", "yes")])
            .await
            .assert_redirect_to("/register/email");
        self.get("/register/email")
            .await
            .assert_status(StatusCode::OK);
        self.post_form(
            "/register/email",
            &[("email", email), ("email_confirm", email)],
        )
        .await
        .assert_redirect_to("/register/email/sent");
    }

    /// The mailed link, the form, the confirmation, and 「登録する」; returns
    /// the completion page.
    pub async fn finish_registration(&self, link: &str, fields: &[(String, String)]) -> Page {
        self.get(link).await.assert_redirect_to("/register/form");
        self.get("/register/form")
            .await
            .assert_status(StatusCode::OK);
        self.post_form("/register/form", fields)
            .await
            .assert_redirect_to("/register/confirm");
        self.get("/register/confirm")
            .await
            .assert_status(StatusCode::OK);
        self.post_form("/register/confirm", &[] as &[(&str, &str)])
            .await
            .assert_redirect_to("/register/complete");
        let done = self.get("/register/complete").await;
        done.assert_status(StatusCode::OK);
        done.assert_contains("利用者登録が完了しました。");
        done
    }

    /// Uploads a file as a `multipart/form-data` form would: its hidden
    /// CSRF token first, then the file in the field `field`.
    pub async fn post_file(
        &self,
        path: &str,
        field: &str,
        file_name: &str,
        bytes: Vec<u8>,
    ) -> Page {
        let token = self.csrf_token().await;
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(file_name.to_owned())
            .mime_str("text/csv")
            .expect("a valid MIME type");
        let form = reqwest::multipart::Form::new()
            .text("csrf_token", token)
            .part(field.to_owned(), part);
        self.send(self.client.post(self.url(path)).multipart(form))
            .await
    }

    /// Logs in; returns the answer (303 to /mypage on success).
    pub async fn log_in(&self, login_id: &str, password: &str) -> Page {
        self.post_form("/login", &[("login_id", login_id), ("password", password)])
            .await
    }
}
