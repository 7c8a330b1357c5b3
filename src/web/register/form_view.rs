//! Screen 4's markup: the registration form, one field wrapper per field,
//! each checked by htmx as it changes. Also the single-field fragments the
//! check endpoint answers with.

use maud::{Markup, html};

use crate::{
    catalog,
    domain::{Date, Field, FieldErrors, RegistrationForm, SchoolName, UniversityName, YearMonth},
    views::{
        components::{
            Input, error_summary, field_frame, hint_id, message, msg_id, required_mark, steps,
            text_field,
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

fn is_day_field(f: Field) -> bool {
    matches!(f, Field::RegistryDate | Field::BirthDate)
}

fn is_month_field(f: Field) -> bool {
    matches!(
        f,
        Field::Graduation | Field::GradCompletion | Field::DegreeDate
    )
}

/// An informational note for a field without error: the 和暦 of a date, or
/// that a school is not in the list.
pub fn note_for(form: &RegistrationForm, f: Field) -> Option<String> {
    let v = form.value(f);
    if v.is_empty() {
        return None;
    }
    if is_day_field(f) {
        return Date::parse(&v).ok().map(|d| d.wareki());
    }
    if is_month_field(f) {
        return YearMonth::parse(&v).ok().map(|d| d.wareki());
    }
    match f {
        Field::School if matches!(SchoolName::parse(&v), Ok(SchoolName::Unlisted(_))) => {
            Some("一覧にない出身校として登録します。".into())
        }
        Field::GradUniversity
            if matches!(UniversityName::parse(&v), Ok(UniversityName::Unlisted(_))) =>
        {
            Some("一覧にない大学名として登録します。".into())
        }
        _ => None,
    }
}

/// The `Input` description of a text field.
pub fn text_input<'a>(
    f: Field,
    value: &'a str,
    error: Option<&'a str>,
    note: Option<&'a str>,
    url: &'a str,
) -> Input<'a> {
    let mut i = Input {
        name: f.name(),
        label: f.label(),
        required: f.required(),
        hint: Some(f.hint()).filter(|h| !h.is_empty()),
        value,
        error,
        note,
        kind: "text",
        check_url: Some(url),
        ..Input::default()
    };
    match f {
        Field::LoginId => {
            i.autocomplete = Some("username");
            i.maxlength = Some(32);
            i.live = true;
        }
        Field::Password => {
            i.kind = "password";
            i.autocomplete = Some("new-password");
            i.maxlength = Some(128);
            i.live = true;
        }
        Field::RegistryNumber => {
            i.inputmode = Some("numeric");
            i.maxlength = Some(6);
            i.class = Some("num6");
        }
        Field::PostalCode => {
            i.inputmode = Some("numeric");
            i.autocomplete = Some("postal-code");
            i.class = Some("short");
            i.placeholder = Some("例：113-8621");
        }
        Field::Mobile | Field::Tel | Field::Fax => {
            i.kind = "tel";
            i.class = Some("short");
            i.autocomplete = (f == Field::Mobile).then_some("tel");
            i.placeholder = Some(if f == Field::Mobile {
                "例：090-1234-5678"
            } else {
                "例：03-1234-5678"
            });
        }
        Field::Address => i.autocomplete = Some("address-line1"),
        Field::Building => i.autocomplete = Some("address-line2"),
        Field::KanaLast => i.autocomplete = Some("family-name"),
        Field::KanaFirst => i.autocomplete = Some("given-name"),
        Field::NameLast => i.autocomplete = Some("family-name"),
        Field::NameFirst => i.autocomplete = Some("given-name"),
        Field::BirthDate => {
            i.autocomplete = Some("bday");
            i.placeholder = Some("例：1980/04/01");
            i.class = Some("short");
        }
        Field::RegistryDate => {
            i.placeholder = Some("例：2005/05/01");
            i.class = Some("short");
        }
        Field::Graduation | Field::GradCompletion | Field::DegreeDate => {
            i.placeholder = Some("例：2005/03");
            i.class = Some("short");
        }
        _ => {}
    }
    i
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

/// One field of the form, as shown on the page.
pub fn field(ctx: &Ctx, f: Field) -> Markup {
    let value = if f == Field::Password {
        String::new()
    } else {
        ctx.form.value(f)
    };
    let err = ctx.errors.get(f);
    let note = ctx.note(f);
    let url = check_url(f);
    match f {
        Field::Prefecture | Field::MainDept => select_field(f, &value, err),
        Field::Gender => gender_field(&value, err),
        Field::SubDepts => sub_depts_field(ctx, err),
        Field::UseFormerName => use_former_field(ctx, err, &url),
        Field::School | Field::GradUniversity => combo_field(f, &value, err, note.as_deref(), &url),
        Field::Societies => societies_field(ctx, err),
        Field::Password => {
            let mut i = text_input(f, "", err, note.as_deref(), &url);
            i.required = !ctx.password_kept;
            let show = html! {
                div.checkline {
                    input #show-password type="checkbox" data-show-password="password";
                    label for="show-password" { "パスワードを表示" }
                }
            };
            let control = html! { (crate::views::components::input_control(&i, false)) (show) };
            field_frame(
                i.name,
                i.label,
                true,
                i.hint,
                err,
                note.as_deref(),
                Some(&url),
                control,
            )
        }
        Field::RegistryNumber => {
            let i = text_input(f, &value, err, note.as_deref(), &url);
            let control = html! {
                div.inline { span { "第" } (crate::views::components::input_control(&i, false)) span { "号" } }
                p.hint { a href=(MHLW_LOOKUP) target="_blank" rel="noopener noreferrer" { "医師等資格確認検索（厚生労働省）で確認する" } }
            };
            field_frame(i.name, i.label, true, i.hint, err, None, None, control)
        }
        _ => text_field(&text_input(f, &value, err, note.as_deref(), &url)),
    }
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
                @for (v, label) in [("male", "男"), ("female", "女"), ("", "回答しない")] {
                    label {
                        input type="radio" name=(f.name()) value=(v) checked[value == v];
                        (label)
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
                label for=(f.name()) { (f.label()) " (旧名が空欄の場合は旧姓のみ使用)" }
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
            ul.chosen id="societies-chosen" aria-label="選択中の所属学会" {
                @for s in &ctx.form.societies {
                    li { label { input type="checkbox" name=(f.name()) value=(s) checked; " " (s) } }
                }
            }
            div.combo {
                label.sr-only for=(SOCIETY_QUERY) { "所属学会を検索" }
                input id=(SOCIETY_QUERY) name=(SOCIETY_QUERY) type="text" role="combobox"
                    autocomplete="off" aria-autocomplete="list" aria-expanded="false" aria-controls=(list_id)
                    data-chosen="societies-chosen" data-name=(f.name())
                    aria-describedby={ (hint_id(f.name())) " " (msg_id(f.name())) }
                    placeholder="学会名の一部（例：内科）"
                    hx-get={ (paths::SUGGEST) "/society" } hx-trigger="input changed delay:300ms, search"
                    hx-target={ "#" (list_id) } hx-swap="outerHTML" hx-sync="this:replace";
                ul id=(list_id) role="listbox" aria-label="所属学会の候補" {}
                p.sr-only id={ (SOCIETY_QUERY) "-status" } aria-live="polite" {}
            }
            (message(f.name(), err, None, false))
        }
    }
}

/// The whole of screen 4.
pub fn page(csrf: &str, email: &str, ctx: &Ctx) -> Markup {
    let summary: Vec<(String, String, String)> = ctx
        .errors
        .iter()
        .map(|(f, m)| (f.name().to_owned(), f.label().to_owned(), m.to_owned()))
        .collect();
    let fld = |f: Field| field(ctx, f);
    let body = html! {
        (steps(2))
        section.card {
            h1 { "ログイン情報・利用者登録情報の入力" }
            p { "“必須”項目をすべて入力しないと登録できません。" }
            (error_summary(&summary))
            form #register-form method="post" action=(paths::FORM) novalidate {
                (csrf_input(csrf))
                h2 { "ログイン情報" }
                div.field {
                    span.label { "メールアドレス（確認済み）" }
                    p { (email) }
                }
                (fld(Field::LoginId))
                (fld(Field::Password))

                h2 { "利用者登録情報" }
                (fld(Field::RegistryNumber))
                (fld(Field::RegistryDate))
                fieldset.group {
                    legend { "氏名" }
                    div.pair { (fld(Field::KanaLast)) (fld(Field::KanaFirst)) }
                    div.pair { (fld(Field::NameLast)) (fld(Field::NameFirst)) }
                }
                fieldset.group {
                    legend { "旧姓・旧名" (required_mark(false)) }
                    div.pair { (fld(Field::FormerKanaLast)) (fld(Field::FormerKanaFirst)) }
                    div.pair { (fld(Field::FormerNameLast)) (fld(Field::FormerNameFirst)) }
                    (fld(Field::UseFormerName))
                }
                fieldset.group {
                    legend { "自宅現住所" }
                    (fld(Field::PostalCode))
                    (super::postal::result_region(html! {}, false))
                    (fld(Field::Prefecture))
                    (fld(Field::Address))
                    (fld(Field::Building))
                }
                (fld(Field::Mobile))
                (fld(Field::Tel))
                (fld(Field::Fax))
                (fld(Field::BirthDate))
                (fld(Field::Gender))
                fieldset.group {
                    legend { "診療科名" }
                    (fld(Field::MainDept))
                    (fld(Field::SubDepts))
                }
                (fld(Field::School))
                (fld(Field::Graduation))
                fieldset.group {
                    legend { "大学院" (required_mark(false)) }
                    (fld(Field::GradUniversity))
                    (fld(Field::GradDepartment))
                    (fld(Field::GradCompletion))
                    (fld(Field::DegreeDate))
                }
                (fld(Field::Societies))
                div.actions {
                    button type="submit" { "確認画面へ進む" }
                    a.button.secondary href=(paths::LOGIN) { "ログインページに戻る" }
                }
            }
        }
    };
    layout("利用者登録情報の入力", Some(csrf), body)
}
