//! Reading HTML answers: opening tags, attributes, form values, a field's
//! error, the CSRF token (plain string search is enough for maud's regular
//! output).

/// The CSRF token of a page's forms (the hidden input).
pub fn csrf_from(html: &str) -> Option<String> {
    let tag = tags(html, "input")
        .into_iter()
        .find(|t| attr(t, "name").as_deref() == Some("csrf_token"))?;
    attr(tag, "value")
}

/// Every `<tag …>` opening tag, whole.
pub fn tags<'a>(html: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag}");
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let boundary = after
            .chars()
            .next()
            .is_some_and(|c| c.is_whitespace() || c == '>' || c == '/');
        let end = after.find('>').map_or(after.len(), |e| e + 1);
        if boundary {
            out.push(&rest[i..i + open.len() + end]);
        }
        rest = &after[end.min(after.len())..];
    }
    out
}

/// An attribute's value in an opening tag, entities decoded; `Some("")` for
/// a boolean attribute.
pub fn attr(tag: &str, name: &str) -> Option<String> {
    let mut rest = tag;
    let pat = format!(" {name}");
    while let Some(i) = rest.find(&pat) {
        let after = &rest[i + pat.len()..];
        if let Some(v) = after.strip_prefix("=\"") {
            let end = v.find('"')?;
            return Some(decode_entities(&v[..end]));
        }
        if after.starts_with([' ', '>', '/']) {
            return Some(String::new());
        }
        rest = after;
    }
    None
}

pub fn decode_entities(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The value of the text input named `name`.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    tags(html, "input")
        .into_iter()
        .find(|t| attr(t, "name").as_deref() == Some(name))
        .map(|t| attr(t, "value").unwrap_or_default())
}

/// The values of the ticked checkboxes / radio buttons named `name`.
pub fn checked_values(html: &str, name: &str) -> Vec<String> {
    tags(html, "input")
        .into_iter()
        .filter(|t| attr(t, "name").as_deref() == Some(name) && attr(t, "checked").is_some())
        .map(|t| attr(t, "value").unwrap_or_default())
        .collect()
}

/// The selected option of the `<select>` named `name`.
pub fn selected_option(html: &str, name: &str) -> Option<String> {
    let start = tags(html, "select")
        .into_iter()
        .find(|t| attr(t, "name").as_deref() == Some(name))
        .and_then(|t| html.find(t))?;
    let end = html[start..].find("</select>")? + start;
    tags(&html[start..end], "option")
        .into_iter()
        .find(|t| attr(t, "selected").is_some())
        .map(|t| attr(t, "value").unwrap_or_default())
}

/// The text inside a field's message region `#m-<name>`: its error, if any.
pub fn error_of(html: &str, name: &str) -> Option<String> {
    let region = message_region(html, name)?;
    let start = region.find("<p class=\"error\">")? + "<p class=\"error\">".len();
    let end = region[start..].find("</p>")? + start;
    Some(decode_entities(&region[start..end]))
}

/// The inside of `#m-<name>`.
pub fn message_region<'a>(html: &'a str, name: &str) -> Option<&'a str> {
    let marker = format!("id=\"m-{name}\"");
    let at = html.find(&marker)?;
    let open_end = html[at..].find('>')? + at + 1;
    let close = html[open_end..].find("</div>")? + open_end;
    Some(&html[open_end..close])
}
