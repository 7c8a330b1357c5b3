//! Screen 4's markup: the registration form laid out from the field
//! descriptors (one wrapper per field, groups in fieldsets), each field checked
//! by htmx as it changes; also the single-field fragments and the postal-code
//! region the htmx endpoints answer with.

use maud::{Markup, html};

use crate::{
    catalog,
    domain::{
        Control, Date, Field, FieldErrors, FieldSpec, Gender, Group, RegistrationForm, Review,
        Rule, SchoolName, UniversityName, YearMonth,
    },
    views::{
        components::{
            Input, error_summary, field_frame, hint_id, input_control, message, msg_id,
            required_mark, resubmit_notice, steps, text_field,
        },
        layout::{csrf_input, page as layout},
    },
    web::paths,
};

/// The MHLW physician-registry lookup linked beside 医籍登録番号.
pub const MHLW_LOOKUP: &str = "https://licenseif.mhlw.go.jp/search_isei/";

/// Shown under the password when a valid one is kept from an earlier submit.
pub const PASSWORD_KEPT: &str = "パスワードは入力済みです。変更する場合のみ入力してください。";

/// The URL that checks one field.
pub fn check_url(f: Field) -> String {
    format!("{}/{}", paths::FORM_CHECK, f.name())
}

/// An informational note for a field without error: the 和暦 of a date, or
/// that a school is not in the list.
pub fn note_for(form: &RegistrationForm, f: Field) -> Option<String> {
    let v = form.value(f);
    if v.is_empty() {
        return None;
    }
    let unlisted = match f.spec().rule {
        Rule::Date => return Date::parse(&v).ok().map(|d| d.wareki()),
        Rule::YearMonth => return YearMonth::parse(&v).ok().map(|d| d.wareki()),
        Rule::School => SchoolName::parse(&v).is_ok_and(|c| !c.is_listed()),
        Rule::University => UniversityName::parse(&v).is_ok_and(|c| !c.is_listed()),
        _ => false,
    };
    let what = match f {
        Field::GradUniversity => "大学名",
        _ => f.label(),
    };
    unlisted.then(|| format!("一覧にない{what}として登録します。"))
}

/// The width of a text box, by the kind of value it holds.
fn css_class(spec: &FieldSpec) -> Option<&'static str> {
    match spec.rule {
        Rule::RegistryNumber => Some("num6"),
        Rule::Date | Rule::YearMonth | Rule::PostalCode | Rule::Phone { .. } => Some("short"),
        _ => None,
    }
}

/// The `Input` description of a text field, from its descriptor.
pub fn text_input<'a>(
    f: Field,
    value: &'a str,
    error: Option<&'a str>,
    note: Option<&'a str>,
    url: &'a str,
) -> Input<'a> {
    let spec = f.spec();
    Input {
        name: spec.name,
        label: spec.label,
        required: spec.required,
        hint: Some(spec.hint).filter(|h| !h.is_empty()),
        value,
        error,
        note,
        kind: match spec.control {
            Control::Password => "password",
            Control::Tel => "tel",
            _ => "text",
        },
        autocomplete: spec.autocomplete,
        inputmode: spec.inputmode,
        maxlength: spec.maxlength,
        placeholder: spec.placeholder,
        class: css_class(spec),
        check_url: Some(url),
        live: spec.live,
    }
}

/// Everything one field needs from the form being shown.
pub struct Ctx<'a> {
    pub form: &'a RegistrationForm,
    pub errors: &'a FieldErrors,
    pub password_kept: bool,
}

impl Ctx<'_> {
    fn note(&self, f: Field) -> Option<String> {
        if f == Field::Password {
            return self.password_kept.then(|| PASSWORD_KEPT.to_owned());
        }
        if self.errors.get(f).is_some() {
            return None;
        }
        note_for(self.form, f)
    }
}

/// One field of the form, as shown on the page, by its control.
pub fn field(ctx: &Ctx, f: Field) -> Markup {
    let value = if f == Field::Password {
        String::new()
    } else {
        ctx.form.value(f)
    };
    let err = ctx.errors.get(f);
    let note = ctx.note(f);
    let url = check_url(f);
    match f.spec().control {
        Control::Select => select_field(f, &value, err),
        Control::Radio => gender_field(&value, err),
        Control::Checklist => sub_depts_field(ctx, err),
        Control::Checkbox => use_former_field(ctx, err, &url),
        Control::Combobox => combo_field(f, &value, err, note.as_deref(), &url),
        Control::MultiCombobox => societies_field(ctx, err),
        Control::Password => password_field(ctx, err, note.as_deref(), &url),
        Control::Text | Control::Tel if f == Field::RegistryNumber => {
            registry_number_field(&text_input(f, &value, err, note.as_deref(), &url))
        }
        Control::Text | Control::Tel => {
            text_field(&text_input(f, &value, err, note.as_deref(), &url))
        }
    }
}

/// The password, with 「パスワードを表示」; not required when one is kept.
fn password_field(ctx: &Ctx, err: Option<&str>, note: Option<&str>, url: &str) -> Markup {
    let mut i = text_input(Field::Password, "", err, note, url);
    i.required = !ctx.password_kept;
    let control = html! {
        (input_control(&i, false))
        div.checkline {
            input #show-password type="checkbox" data-show-password=(i.name);
            label for="show-password" { "パスワードを表示" }
        }
    };
    field_frame(i.name, i.label, true, i.hint, err, note, Some(url), control)
}

/// 医籍登録番号 as 「第 ______ 号」, with the link to the MHLW lookup.
fn registry_number_field(i: &Input) -> Markup {
    let control = html! {
        div.inline { span { "第" } (input_control(i, false)) span { "号" } }
        p.hint { a href=(MHLW_LOOKUP) target="_blank" rel="noopener noreferrer" { "医師等資格確認検索（厚生労働省）で確認する" } }
    };
    field_frame(i.name, i.label, true, i.hint, i.error, None, None, control)
}

/// The `<select>` of 都道府県 or 主たる科名; also sent alone (out of band) when
/// a postal code fills in the prefecture.
pub fn select_control(f: Field, value: &str, err: Option<&str>, oob: bool) -> Markup {
    let options: Vec<(String, String)> = match f {
        Field::Prefecture => catalog::prefectures()
            .iter()
            .map(|p| (p.name.to_owned(), p.name.to_owned()))
            .collect(),
        _ => catalog::departments()
            .iter()
            .map(|d| (d.code.to_owned(), format!("{}{}", d.code, d.name)))
            .collect(),
    };
    let target = format!("#{}", msg_id(f.name()));
    html! {
        select id=(f.name()) name=(f.name()) aria-required="true" required
            aria-invalid=[err.map(|_| "true")] aria-describedby=(msg_id(f.name()))
            hx-post=(check_url(f)) hx-trigger="change" hx-target=(target) hx-swap="outerHTML"
            hx-swap-oob=[oob.then_some("true")] {
            option value="" { "選択してください" }
            @for (v, label) in &options {
                option value=(v) selected[v == value] { (label) }
            }
        }
    }
}

fn select_field(f: Field, value: &str, err: Option<&str>) -> Markup {
    let control = select_control(f, value, err, false);
    let hint = Some(f.hint()).filter(|h| !h.is_empty());
    field_frame(
        f.name(),
        f.label(),
        f.required(),
        hint,
        err,
        None,
        None,
        control,
    )
}

fn gender_field(value: &str, err: Option<&str>) -> Markup {
    let f = Field::Gender;
    html! {
        fieldset.field id={ "f-" (f.name()) } aria-describedby=(msg_id(f.name())) {
            legend { (f.label()) (required_mark(false)) }
            div.radios {
                @for g in Gender::ALL {
                    label {
                        input type="radio" name=(f.name()) value=(g.form_value()) checked[value == g.form_value()];
                        (g.label())
                    }
                }
            }
            (message(f.name(), err, None, false))
        }
    }
}

fn sub_depts_field(ctx: &Ctx, err: Option<&str>) -> Markup {
    let f = Field::SubDepts;
    let chosen = &ctx.form.sub_depts;
    let summary: Vec<String> = catalog::departments()
        .iter()
        .filter(|d| chosen.iter().any(|c| c == d.code))
        .map(|d| format!("{}{}", d.code, d.name))
        .collect();
    html! {
        fieldset.field id={ "f-" (f.name()) } aria-describedby={ (hint_id(f.name())) " " (msg_id(f.name())) } {
            legend { (f.label()) (required_mark(false)) }
            p.hint id=(hint_id(f.name())) {
                "複数選択できます。"
                @if !summary.is_empty() { " 選択中：" (summary.join("、")) }
            }
            details.picker open[!summary.is_empty() || err.is_some()] {
                summary { "選択" }
                div.checklist {
                    @for d in catalog::departments() {
                        label {
                            input type="checkbox" name=(f.name()) value=(d.code) checked[chosen.iter().any(|c| c == d.code)];
                            (d.code) (d.name)
                        }
                    }
                }
            }
            (message(f.name(), err, None, false))
        }
    }
}

fn use_former_field(ctx: &Ctx, err: Option<&str>, url: &str) -> Markup {
    let f = Field::UseFormerName;
    let target = format!("#{}", msg_id(f.name()));
    html! {
        div.field id={ "f-" (f.name()) } {
            div.checkline {
                input id=(f.name()) name=(f.name()) type="checkbox" value="1" checked[ctx.form.use_former_name]
                    aria-describedby=(msg_id(f.name())) aria-invalid=[err.map(|_| "true")]
                    hx-post=(url) hx-trigger="change" hx-target=(target) hx-swap="outerHTML";
                label for=(f.name()) { (f.label()) " " (f.hint()) }
            }
            (message(f.name(), err, None, false))
        }
    }
}

/// A partial-match text field with a suggestion list (active search).
fn combo_field(f: Field, value: &str, err: Option<&str>, note: Option<&str>, url: &str) -> Markup {
    let catalog_name = if f == Field::School {
        "school"
    } else {
        "university"
    };
    let list_id = format!("{}-list", f.name());
    let target = format!("#{}", msg_id(f.name()));
    let suggest = format!("{}/{catalog_name}", paths::SUGGEST);
    let control = html! {
        div.combo hx-post=(url) hx-trigger={ "change from:#" (f.name()) } hx-target=(target) hx-swap="outerHTML" {
            input id=(f.name()) name=(f.name()) type="text" value=(value) role="combobox"
                autocomplete="off" aria-autocomplete="list" aria-expanded="false" aria-controls=(list_id)
                aria-required=[f.required().then_some("true")] required[f.required()]
                aria-invalid=[err.map(|_| "true")]
                aria-describedby={ (hint_id(f.name())) " " (msg_id(f.name())) }
                hx-get=(suggest) hx-trigger="input changed delay:300ms, search" hx-target={ "#" (list_id) }
                hx-swap="outerHTML" hx-sync="this:replace";
            ul id=(list_id) role="listbox" aria-label={ (f.label()) "の候補" } {}
        }
    };
    let hint = Some(f.hint()).filter(|h| !h.is_empty());
    field_frame(
        f.name(),
        f.label(),
        f.required(),
        hint,
        err,
        note,
        None,
        control,
    )
}

/// The name of the search box of 所属学会 (not itself a field: what is typed
/// there and not chosen from the list is added on submit).
pub const SOCIETY_QUERY: &str = "society_query";

fn societies_field(ctx: &Ctx, err: Option<&str>) -> Markup {
    let f = Field::Societies;
    let list_id = format!("{SOCIETY_QUERY}-list");
    html! {
        fieldset.field id={ "f-" (f.name()) } {
            legend { (f.label()) (required_mark(false)) }
            p.hint id=(hint_id(f.name())) { (f.hint()) "。複数選択できます。" }
            ul.chosen id="societies-chosen" aria-label={ "選択中の" (f.label()) } {
                @for s in &ctx.form.societies {
                    li { label { input type="checkbox" name=(f.name()) value=(s) checked; " " (s) } }
                }
            }
            div.combo {
                label.sr-only for=(SOCIETY_QUERY) { (f.label()) "を検索" }
                input id=(SOCIETY_QUERY) name=(SOCIETY_QUERY) type="text" role="combobox"
                    autocomplete="off" aria-autocomplete="list" aria-expanded="false" aria-controls=(list_id)
                    data-chosen="societies-chosen" data-name=(f.name())
                    aria-describedby={ (hint_id(f.name())) " " (msg_id(f.name())) }
                    placeholder="学会名の一部（例：内科）"
                    hx-get={ (paths::SUGGEST) "/society" } hx-trigger="input changed delay:300ms, search"
                    hx-target={ "#" (list_id) } hx-swap="outerHTML" hx-sync="this:replace";
                ul id=(list_id) role="listbox" aria-label={ (f.label()) "の候補" } {}
                p.sr-only id={ (SOCIETY_QUERY) "-status" } aria-live="polite" {}
            }
            (message(f.name(), err, None, false))
        }
    }
}

/// The URL the postal-code box asks (`postal::lookup`).
pub const POSTAL_URL: &str = "/register/postal";
/// The id of the region the postal-code answer replaces.
pub const RESULT_ID: &str = "postal-result";

/// The postal-code answer region, after the 郵便番号 box; it keeps its own
/// htmx attributes so it can be asked again. `postal::lookup` answers with it.
pub fn result_region(content: Markup, filled: bool) -> Markup {
    let trigger = format!("input delay:300ms from:#{}", Field::PostalCode.name());
    html! {
        div id=(RESULT_ID) .postal-result aria-live="polite" data-filled=[filled.then_some("address")]
            hx-post=(POSTAL_URL) hx-trigger=(trigger) hx-target="this" hx-swap="outerHTML" hx-sync="this:replace" {
            (content)
        }
    }
}

/// Consecutive fields sharing a group (or none), in screen order.
fn group_runs(fields: &[Field]) -> Vec<(Option<Group>, &[Field])> {
    fields
        .chunk_by(|a, b| a.spec().group == b.spec().group)
        .map(|run| (run.first().and_then(|f| f.spec().group), run))
        .collect()
}

/// The fields of one run: a pair (姓 and 名) side by side, the postal-code
/// answer region after the 郵便番号.
fn run_markup(ctx: &Ctx, fields: &[Field]) -> Markup {
    let mut parts: Vec<Markup> = Vec::with_capacity(fields.len());
    let mut rest = fields;
    while let [f, tail @ ..] = rest {
        rest = tail;
        if let (Review::Pair { .. }, [second, tail @ ..]) = (f.spec().review, rest) {
            parts.push(html! { div.pair { (field(ctx, *f)) (field(ctx, *second)) } });
            rest = tail;
            continue;
        }
        parts.push(field(ctx, *f));
        if *f == Field::PostalCode {
            parts.push(result_region(html! {}, false));
        }
    }
    html! { @for p in &parts { (p) } }
}

/// Fields in screen order, each group in its `fieldset` under the group's
/// caption.
pub fn fields_markup(ctx: &Ctx, fields: &[Field]) -> Markup {
    html! {
        @for (group, run) in group_runs(fields) {
            @if let Some(g) = group {
                fieldset.group {
                    legend { (g.label()) @if g.optional() { (required_mark(false)) } }
                    (run_markup(ctx, run))
                }
            } @else {
                (run_markup(ctx, run))
            }
        }
    }
}

/// The whole of screen 4.
pub fn page(csrf: &str, email: &str, ctx: &Ctx, notice: Option<&str>) -> Markup {
    let (login, profile) = Field::ALL.split_at(Field::RegistryNumber as usize);
    let body = html! {
        (steps(2))
        section.card {
            h1 { "ログイン情報・利用者登録情報の入力" }
            p { "“必須”項目をすべて入力しないと登録できません。" }
            (resubmit_notice(notice))
            (error_summary(ctx.errors))
            form #register-form method="post" action=(paths::FORM) novalidate {
                (csrf_input(csrf))
                h2 { "ログイン情報" }
                div.field {
                    span.label { "メールアドレス（確認済み）" }
                    p { (email) }
                }
                (fields_markup(ctx, login))
                h2 { "利用者登録情報" }
                (fields_markup(ctx, profile))
                div.actions {
                    button type="submit" { "確認画面へ進む" }
                    a.button.secondary href=(paths::LOGIN) { "ログインページに戻る" }
                }
            }
        }
    };
    layout("利用者登録情報の入力", Some(csrf), body)
}
