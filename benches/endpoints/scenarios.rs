//! What the endpoint benchmark loads: the trivial endpoint, the inline
//! validation, the autocomplete endpoints (one query, then every entry of the
//! catalogues), each with the cookies and headers a browser on the
//! registration form sends, on MAMIS and (but the trivial endpoint) on the
//! Django + allauth peer, which answers the same paths; and a check that each
//! answers before the run.

use std::{fmt::Write as _, fs, path::Path};

use crate::support::visitor::{Visitor, hidden_field, read};

const CATALOG_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/catalog/data");

/// Targets from issue 2 (2-core machine, load generator on the same machine).
const VALIDATION_MIN_RATIO: f64 = 0.70;
const AUTOCOMPLETE_MIN_RATIO: f64 = 0.50;

/// The Django + django-allauth peer on this machine, in requests/s, kept for
/// runs without the peer (`benches/django_peer` not set up): the validation
/// endpoint measured about 1,900 (README, 2026-11-24, by an implementation
/// that was not kept). No figure of its suggestion endpoint was kept; issue
/// 11's "9×" for MAMIS's slowest suggestion at the time (25,489 req/s) puts
/// it near 2,800.
pub const DJANGO_VALIDATION_RPS: f64 = 1_900.0;
pub const DJANGO_SUGGESTION_RPS: f64 = 2_800.0;
/// Issue 11: at least this multiple of the Django peer.
pub const DJANGO_MIN_MULTIPLE: f64 = 20.0;

/// The cookies and CSRF token of a browser that has opened the login page and
/// agreed to the terms (so it holds a live session, as on the form).
pub struct Session {
    /// The `Cookie` header this browser sends.
    cookies: String,
    /// The header that carries the CSRF token on a POST.
    csrf_header: &'static str,
    csrf_token: String,
    visitor: Visitor,
}

impl Session {
    /// Opens the login page and agrees to the terms, as a visitor of `base`.
    pub async fn open(base: &str) -> Result<Session, String> {
        let mut visitor = Visitor::new(base)?;
        visitor
            .open_form("/login")
            .await
            .map_err(|e| format!("GET /login: {e}"))?;
        let csrf_cookie = visitor
            .cookie("mamis_csrf")
            .ok_or("GET /login set no mamis_csrf cookie")?;
        let terms = visitor
            .post_form("/register", &[("agree", "yes")])
            .await
            .map_err(|e| format!("POST /register: {e}"))?;
        let session_cookie = visitor.cookie("mamis_session");
        if session_cookie.is_none() {
            println!(
                "note: agreeing to the terms (status {}) set no session cookie; \
                 benchmarking without a session",
                terms.status.as_u16()
            );
        }
        let cookies = match &session_cookie {
            Some(s) => format!("mamis_csrf={csrf_cookie}; mamis_session={s}"),
            None => format!("mamis_csrf={csrf_cookie}"),
        };
        Ok(Session {
            cookies,
            csrf_header: "X-CSRF-Token",
            csrf_token: visitor.csrf_token().to_owned(),
            visitor,
        })
    }

    /// The same on the Django peer at `base`: its terms page (the
    /// `csrftoken` cookie and the form's token), then the agreement (the
    /// `sessionid` cookie of a database-backed session). Its POSTs carry the
    /// `csrftoken` cookie's value in `X-CSRFToken`, as Django's documentation
    /// says for AJAX.
    pub async fn open_django(base: &str) -> Result<Session, String> {
        let visitor = Visitor::new(base)?;
        let page = visitor.get("/register").await?;
        let token = hidden_field(&page.body, "csrfmiddlewaretoken").ok_or_else(|| {
            format!(
                "Django GET /register ({}): no csrfmiddlewaretoken",
                page.status.as_u16()
            )
        })?;
        let agreed = read(
            visitor
                .client()
                .post(visitor.url("/register"))
                .form(&[("csrfmiddlewaretoken", token.as_str()), ("agree", "yes")]),
        )
        .await?;
        let (Some(csrf_cookie), Some(session_cookie)) =
            (visitor.cookie("csrftoken"), visitor.cookie("sessionid"))
        else {
            return Err(format!(
                "Django POST /register answered {} without csrftoken and sessionid cookies",
                agreed.status.as_u16()
            ));
        };
        Ok(Session {
            cookies: format!("csrftoken={csrf_cookie}; sessionid={session_cookie}"),
            csrf_header: "X-CSRFToken",
            csrf_token: csrf_cookie,
            visitor,
        })
    }
}

/// One endpoint (or a rotation of requests) to load.
pub struct Scenario {
    pub label: String,
    pub method: &'static str,
    /// Paths with their query strings, requested in turn.
    pub paths: Vec<String>,
    pub body: Option<String>,
    /// Least share of the trivial endpoint's requests/s (0 for the trivial one).
    pub min_ratio: f64,
    /// The Django + allauth peer's requests/s on the same kind of endpoint,
    /// kept for runs without the peer.
    pub django_rps: Option<f64>,
    /// What every answer of the Django peer holds (it is loaded with the same
    /// requests when this is set).
    pub peer_expect: Option<&'static str>,
}

const VALIDATION_BODY: &str = "login_id=doctor01&password=Secret12%21";
/// In every validation answer: the login ID's message box.
const VALIDATION_EXPECT: &str = "id=\"m-login_id\"";
/// In every suggestion answer: at least one option (every query loaded
/// matches some entry).
pub const SUGGESTION_EXPECT: &str = "role=\"option\"";

/// The endpoints loaded, in order: the trivial one first and last.
pub fn scenarios() -> Result<Vec<Scenario>, String> {
    let everything = catalogue_queries()?;
    let n = everything.len();
    Ok(vec![
        Scenario {
            label: "trivial       GET  /healthz".into(),
            method: "GET",
            paths: vec!["/healthz".into()],
            body: None,
            min_ratio: 0.0,
            django_rps: None,
            peer_expect: None,
        },
        Scenario {
            label: "validation    POST /register/check/login_id".into(),
            method: "POST",
            paths: vec!["/register/check/login_id".into()],
            body: Some(VALIDATION_BODY.into()),
            min_ratio: VALIDATION_MIN_RATIO,
            django_rps: Some(DJANGO_VALIDATION_RPS),
            peer_expect: Some(VALIDATION_EXPECT),
        },
        Scenario {
            label: "autocomplete  GET  /suggest/school?school=大学".into(),
            method: "GET",
            paths: vec![format!("/suggest/school?school={}", percent_encode("大学"))],
            body: None,
            min_ratio: AUTOCOMPLETE_MIN_RATIO,
            django_rps: Some(DJANGO_SUGGESTION_RPS),
            peer_expect: Some(SUGGESTION_EXPECT),
        },
        Scenario {
            label: "autocomplete  GET  /suggest/society?society_query=学会".into(),
            method: "GET",
            paths: vec![format!(
                "/suggest/society?society_query={}",
                percent_encode("学会")
            )],
            body: None,
            min_ratio: AUTOCOMPLETE_MIN_RATIO,
            django_rps: Some(DJANGO_SUGGESTION_RPS),
            peer_expect: Some(SUGGESTION_EXPECT),
        },
        Scenario {
            label: format!("autocomplete  every school, university, society ({n} queries)"),
            method: "GET",
            paths: everything,
            body: None,
            min_ratio: AUTOCOMPLETE_MIN_RATIO,
            django_rps: Some(DJANGO_SUGGESTION_RPS),
            peer_expect: Some(SUGGESTION_EXPECT),
        },
        Scenario {
            label: "trivial       GET  /healthz (again, last)".into(),
            method: "GET",
            paths: vec!["/healthz".into()],
            body: None,
            min_ratio: 0.0,
            django_rps: None,
            peer_expect: None,
        },
    ])
}

/// Queries a person types for every entry of the school, university and
/// society catalogues: the first two characters of the name (without a
/// leading 日本 for societies) and the first four kana of its reading in
/// hiragana, as a phone user types before converting.
fn catalogue_queries() -> Result<Vec<String>, String> {
    let sources = [
        ("medical_schools.tsv", "school", "school", ""),
        ("universities.tsv", "university", "grad_university", ""),
        ("societies.tsv", "society", "society_query", "日本"),
    ];
    let mut paths = Vec::new();
    for (file, catalog, param, strip) in sources {
        let path = Path::new(CATALOG_DIR).join(file);
        let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut rows = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty());
        let header: Vec<&str> = rows.next().unwrap_or_default().split('\t').collect();
        let col = |name: &str| header.iter().position(|h| *h == name);
        let (Some(name_col), Some(reading_col)) = (col("name"), col("reading")) else {
            return Err(format!("{file}: no name/reading columns"));
        };
        let mut queries: Vec<String> = Vec::new();
        for row in rows {
            let cells: Vec<&str> = row.split('\t').collect();
            let name = cells.get(name_col).copied().unwrap_or_default();
            let reading = cells.get(reading_col).copied().unwrap_or_default();
            let name = name.strip_prefix(strip).unwrap_or(name);
            let reading = if strip.is_empty() {
                reading
            } else {
                reading.strip_prefix("ニホン").unwrap_or(reading)
            };
            let short: String = name.chars().take(2).collect();
            let kana: String = reading.chars().take(4).map(katakana_to_hiragana).collect();
            for q in [short, kana] {
                if !q.is_empty() && !queries.contains(&q) {
                    queries.push(q);
                }
            }
        }
        paths.extend(
            queries
                .iter()
                .map(|q| format!("/suggest/{catalog}?{param}={}", percent_encode(q))),
        );
    }
    Ok(paths)
}

fn katakana_to_hiragana(c: char) -> char {
    match c {
        'ァ'..='ヶ' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
        _ => c,
    }
}

/// `s` percent-encoded for a URL query or a form body.
fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

impl Scenario {
    /// What every request of this scenario carries.
    pub fn headers(&self, session: &Session) -> Vec<(&'static str, String)> {
        let mut h = vec![
            ("Cookie", session.cookies.clone()),
            ("HX-Request", "true".to_owned()),
        ];
        if self.body.is_some() {
            h.push((
                "Content-Type",
                "application/x-www-form-urlencoded".to_owned(),
            ));
            h.push((session.csrf_header, session.csrf_token.clone()));
        }
        h
    }

    /// The answer to `path` (one of this scenario's), as during the load.
    pub async fn request(&self, session: &Session, path: &str) -> Result<String, String> {
        let client = session.visitor.client();
        let mut req = match self.method {
            "POST" => client.post(session.visitor.url(path)),
            _ => client.get(session.visitor.url(path)),
        };
        for (k, v) in self.headers(session) {
            req = req.header(k, v);
        }
        if let Some(body) = &self.body {
            req = req.body(body.clone());
        }
        let r = read(req)
            .await
            .map_err(|e| format!("{} {path}: {e}", self.method))?;
        if r.status != 200 || r.body.is_empty() {
            return Err(format!(
                "{} {} answered {} before the run:\n{}",
                self.method,
                session.visitor.url(path),
                r.status.as_u16(),
                r.body
            ));
        }
        Ok(r.body)
    }

    /// Every request answers 200 with a body (holding `expect`, if given)
    /// before it is loaded.
    pub async fn sanity_check(
        &self,
        session: &Session,
        expect: Option<&str>,
    ) -> Result<(), String> {
        for path in &self.paths {
            let body = self.request(session, path).await?;
            if let Some(e) = expect
                && !body.contains(e)
            {
                return Err(format!(
                    "{} {} answered without {e} before the run:\n{body}",
                    self.method,
                    session.visitor.url(path)
                ));
            }
        }
        Ok(())
    }
}

/// The suggestion requests that the Django peer answers with as many
/// options as MAMIS: (same, all, a few of the others with both counts).
pub async fn compare_suggestions(
    scenarios: &[Scenario],
    mamis: &Session,
    django: &Session,
) -> Result<(usize, usize, Vec<String>), String> {
    let options = |body: &str| body.matches(SUGGESTION_EXPECT).count();
    let (mut same, mut all, mut differ) = (0, 0, Vec::new());
    for s in scenarios
        .iter()
        .filter(|s| s.peer_expect == Some(SUGGESTION_EXPECT))
    {
        for path in &s.paths {
            let m = options(&s.request(mamis, path).await?);
            let d = options(&s.request(django, path).await?);
            all += 1;
            if m == d {
                same += 1;
            } else if differ.len() < 5 {
                differ.push(format!("{path}: MAMIS {m}, Django {d}"));
            }
        }
    }
    Ok((same, all, differ))
}
