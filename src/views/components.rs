//! Form building blocks: the field wrapper with its label, 必須 mark, hint
//! and message region; the error summary; the help box; the step indicator.
//!
//! Each field's message lives in `div#m-<name>`, which htmx replaces with the
//! answer of the field's check endpoint; the input points at it with
//! `aria-describedby`.

use maud::{Markup, html};

use crate::domain::FieldErrors;

/// The id of a field's message region.
pub fn msg_id(name: &str) -> String {
    format!("m-{name}")
}

/// The id of a field's hint.
pub fn hint_id(name: &str) -> String {
    format!("h-{name}")
}

/// A field's message region: the error (announced), or an informational note.
pub fn message(name: &str, error: Option<&str>, note: Option<&str>, oob: bool) -> Markup {
    html! {
        div.msg id=(msg_id(name)) aria-live="polite" hx-swap-oob=[oob.then_some("true")] {
            @if let Some(e) = error {
                p.error { (e) }
            } @else if let Some(n) = note {
                p.note { (n) }
            }
        }
    }
}

/// The 必須 / 任意 mark after a label.
pub fn required_mark(required: bool) -> Markup {
    html! {
        @if required { span.req { "必須" } } @else { span.opt { "任意" } }
    }
}

/// What describes a text input.
#[derive(Clone, Copy, Debug, Default)]
pub struct Input<'a> {
    pub name: &'a str,
    pub label: &'a str,
    pub required: bool,
    pub hint: Option<&'a str>,
    pub value: &'a str,
    pub error: Option<&'a str>,
    pub note: Option<&'a str>,
    /// `text`, `email`, `tel`, `password`.
    pub kind: &'a str,
    pub autocomplete: Option<&'a str>,
    pub inputmode: Option<&'a str>,
    pub maxlength: Option<usize>,
    pub placeholder: Option<&'a str>,
    pub class: Option<&'a str>,
    /// Where the field is checked when it changes (htmx).
    pub check_url: Option<&'a str>,
    /// Also check while typing (debounced), answering with the message only.
    pub live: bool,
}

/// The `<input>` itself; also sent alone (out of band) to show a normalised value.
pub fn input_control(i: &Input, oob: bool) -> Markup {
    let described = match i.hint {
        Some(_) => format!("{} {}", hint_id(i.name), msg_id(i.name)),
        None => msg_id(i.name),
    };
    let target = format!("#{}", msg_id(i.name));
    html! {
        input id=(i.name) name=(i.name) type=(i.kind) value=(i.value)
            class=[i.class]
            autocomplete=[i.autocomplete] inputmode=[i.inputmode]
            maxlength=[i.maxlength] placeholder=[i.placeholder]
            aria-required=[i.required.then_some("true")]
            required[i.required]
            aria-invalid=[i.error.map(|_| "true")]
            aria-describedby=(described)
            hx-post=[i.check_url] hx-trigger=[i.check_url.map(|_| "change")]
            hx-target=[i.check_url.map(|_| target.as_str())]
            hx-swap=[i.check_url.map(|_| "outerHTML")]
            hx-sync=[i.check_url.map(|_| "this:replace")]
            hx-swap-oob=[oob.then_some("true")];
    }
}

/// A labelled text field with hint and message region.
pub fn text_field(i: &Input) -> Markup {
    field_frame(
        i.name,
        i.label,
        i.required,
        i.hint,
        i.error,
        i.note,
        i.check_url.filter(|_| i.live),
        input_control(i, false),
    )
}

/// The wrapper shared by every kind of field. `live_url`, when given, checks
/// the field while typing (debounced) and updates only its message.
#[allow(clippy::too_many_arguments)]
pub fn field_frame(
    name: &str,
    label: &str,
    required: bool,
    hint: Option<&str>,
    error: Option<&str>,
    note: Option<&str>,
    live_url: Option<&str>,
    control: Markup,
) -> Markup {
    let live = live_url.map(|u| format!("{u}?live=1"));
    let trigger = format!("input delay:500ms from:#{name}");
    let target = format!("#{}", msg_id(name));
    html! {
        div.field id={ "f-" (name) }
            hx-post=[live.as_deref()] hx-trigger=[live.as_ref().map(|_| trigger.as_str())]
            hx-target=[live.as_ref().map(|_| target.as_str())] hx-swap=[live.as_ref().map(|_| "outerHTML")]
            hx-sync=[live.as_ref().map(|_| "this:replace")] {
            label for=(name) { (label) (required_mark(required)) }
            @if let Some(h) = hint { p.hint id=(hint_id(name)) { (h) } }
            (control)
            (message(name, error, note, false))
        }
    }
}

/// The list of every error at the top of a form shown again, each linking to
/// its field. Focused by the page script so screen readers start there.
pub fn error_summary(errors: &FieldErrors) -> Markup {
    html! {
        @if !errors.is_empty() {
            div.error-summary role="alert" tabindex="-1" aria-labelledby="error-summary-title" {
                h2 #error-summary-title { "入力内容に誤りがあります。（" (errors.len()) "件）" }
                ul {
                    @for e in errors {
                        // A message that names its field is shown alone.
                        li { a href={ "#" (e.name) } {
                            @if e.message.contains(e.label.as_str()) { (e.message) } @else { (e.label) "：" (e.message) }
                        } }
                    }
                }
            }
        }
    }
}

/// Said above a long form shown again because its submit came after the
/// CSRF cookie had ended (nothing was processed).
pub const RESUBMIT_MESSAGE: &str =
    "一定時間が経過したため、送信できませんでした。内容をご確認のうえ、もう一度送信してください。";

/// The box above a form shown again with what was typed, asking to send it
/// again; nothing when `notice` is `None`.
pub fn resubmit_notice(notice: Option<&str>) -> Markup {
    html! {
        @if let Some(text) = notice {
            div.error-summary #resubmit role="alert" tabindex="-1" {
                p { (text) }
            }
        }
    }
}

/// The 「1時間経過しても確認メールが届かない場合」 box.
pub fn help_box(domain: &str) -> Markup {
    html! {
        div.helpbox {
            p { strong { "<1時間経過しても確認メールが届かない場合>" } }
            ul {
                li { "ご入力いただいたメールアドレスに誤りがある可能性があります。もう一度ご入力ください。" }
                li { "ドメイン指定受信で「" (domain) "」からのメールを受信できるように設定してください。" }
            }
        }
    }
}

/// The registration steps, with the current one marked.
pub fn steps(current: usize) -> Markup {
    const STEPS: [&str; 5] = [
        "利用規約",
        "メールアドレス",
        "登録情報の入力",
        "確認",
        "完了",
    ];
    html! {
        ol.steps aria-label="登録の手順" {
            @for (i, s) in STEPS.iter().enumerate() {
                li aria-current=[(i == current).then_some("step")] { (i + 1) ". " (s) }
            }
        }
    }
}
