//! The benchmarks' one HTTP client: a visitor with a cookie jar who opens a
//! page with a form and then posts as that form would (its CSRF token first).

use std::{sync::Arc, time::Duration};

use reqwest::{
    StatusCode,
    cookie::{CookieStore, Jar},
    redirect::Policy,
};

/// An answer, read whole.
pub struct Answer {
    pub status: StatusCode,
    pub body: String,
}

/// A visitor of one server; clones share the cookies and the token.
#[derive(Clone)]
pub struct Visitor {
    base: String,
    client: reqwest::Client,
    jar: Arc<Jar>,
    csrf_token: String,
}

impl Visitor {
    /// A visitor of `base` with no cookies yet. Redirects are not followed.
    pub fn new(base: &str) -> Result<Visitor, String> {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Visitor {
            base: base.trim_end_matches('/').to_owned(),
            client,
            jar,
            csrf_token: String::new(),
        })
    }

    /// An absolute URL for `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The underlying client (shares this visitor's cookies), for requests
    /// the methods below do not make.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Opens the page at `path` and keeps the CSRF token of its form.
    pub async fn open_form(&mut self, path: &str) -> Result<(), String> {
        let page = self.get(path).await?;
        self.csrf_token =
            csrf_from(&page.body).ok_or_else(|| format!("GET {path}: no csrf_token field"))?;
        Ok(())
    }

    /// The CSRF token of the last form opened.
    pub fn csrf_token(&self) -> &str {
        &self.csrf_token
    }

    /// The value of cookie `name` as this visitor would send it.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let url = self.base.parse().ok()?;
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .ok()?
            .split(';')
            .filter_map(|c| c.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned())
    }

    pub async fn get(&self, path: &str) -> Result<Answer, String> {
        read(self.client.get(self.url(path))).await
    }

    /// Posts a form with the CSRF token first.
    pub async fn post_form(&self, path: &str, pairs: &[(&str, &str)]) -> Result<Answer, String> {
        read(self.form_request(path, pairs)).await
    }

    /// The request [`Visitor::post_form`] sends, to add headers to it.
    pub fn form_request(&self, path: &str, pairs: &[(&str, &str)]) -> reqwest::RequestBuilder {
        let mut body = vec![("csrf_token", self.csrf_token.as_str())];
        body.extend_from_slice(pairs);
        self.client.post(self.url(path)).form(&body)
    }
}

/// Sends a request and reads the answer whole.
pub async fn read(req: reqwest::RequestBuilder) -> Result<Answer, String> {
    let resp = req.send().await.map_err(|e| e.to_string())?;
    let status = resp.status();
    let body = resp.text().await.map_err(|e| e.to_string())?;
    Ok(Answer { status, body })
}

/// The CSRF token of a page's form (its hidden input), entities decoded.
pub fn csrf_from(html: &str) -> Option<String> {
    hidden_field(html, "csrf_token")
}

/// The value of the input named `name` in a page, entities decoded.
pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let tag_start = html[..at].rfind('<')?;
    let tag_end = html[at..].find('>')? + at;
    let tag = &html[tag_start..tag_end];
    let v = tag.find("value=\"")? + "value=\"".len();
    let end = tag[v..].find('"')? + v;
    Some(tag[v..end].replace("&amp;", "&"))
}
