//! htmx requests: the `HxRequest` extractor for the htmx branch of a handler,
//! and `Vary: HX-Request` on the answers that differ by it.

use poem::{
    FromRequest, IntoResponse, Request, RequestBody, Response,
    http::{HeaderValue, header},
};

/// The header htmx sends (`true`) with every request it makes.
pub const HX_REQUEST: &str = "HX-Request";

/// True when the request was made by htmx (`HX-Request: true`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HxRequest(pub bool);

impl HxRequest {
    /// Reads the header of `req`.
    pub fn of(req: &Request) -> HxRequest {
        HxRequest(
            req.header(HX_REQUEST)
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true")),
        )
    }
}

impl<'a> FromRequest<'a> for HxRequest {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        Ok(HxRequest::of(req))
    }
}

/// Marks an answer that depends on `HX-Request` (`Vary: HX-Request`, added
/// to any `Vary` already there), so that no cache hands the page to htmx or
/// the fragment to a full page load.
pub fn vary(resp: impl IntoResponse) -> Response {
    let mut resp = resp.into_response();
    let headers = resp.headers_mut();
    let already = headers
        .get_all(header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| v.trim().eq_ignore_ascii_case(HX_REQUEST));
    if !already {
        headers.append(header::VARY, HeaderValue::from_static(HX_REQUEST));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_htmx_requests_are_htmx_requests() {
        let hx = Request::builder().header(HX_REQUEST, "true").finish();
        assert_eq!(HxRequest::of(&hx), HxRequest(true));
        assert_eq!(HxRequest::of(&Request::default()), HxRequest(false));
        let other = Request::builder().header(HX_REQUEST, "false").finish();
        assert_eq!(HxRequest::of(&other), HxRequest(false));
    }

    #[test]
    fn vary_is_added_once() {
        let resp = vary(vary(
            Response::builder()
                .header(header::VARY, "Accept-Encoding")
                .finish(),
        ));
        let values: Vec<_> = resp.headers().get_all(header::VARY).iter().collect();
        assert_eq!(values, ["Accept-Encoding", HX_REQUEST]);
    }
}
