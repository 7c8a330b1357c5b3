//! 医師会の一覧 in the office console: the tree within the staff member's scope with kind, contact details and staff count; the form of a 管理者 of a prefecture (or of 日本医師会) adding a 郡市区等医師会; one association's page with its contact details, which a 管理者 changes. Anything outside the scope is the 404 page.

use maud::{Markup, html};
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    web::{CsrfToken, Data, Form, Path, Query, Redirect},
};
use serde::Deserialize;

use crate::{
    auth::guards::{Staff, StaffAdmin},
    domain::{
        FieldError, FieldErrors, StaffRole,
        association::{Association, parse_classes},
        association_form::{self as form, ADDRESS_MAX, ContactForm, LOCAL_KINDS, NAME_MAX},
    },
    error::OrInternal,
    error::not_found,
    service::associations::{self, AddError, Details, Tree},
    state::AppState,
    views::{
        components::{Input, error_summary, field_frame, text_field},
        layout::{csrf_input, page as layout},
    },
    web::paths,
};

/// The tree; a new association is posted here.
pub const LIST: &str = "/office/associations";

/// The page of association `id`.
pub fn association_path(id: u64) -> String {
    format!("{LIST}/{id}")
}

/// An id from the path; anything but a number is a missing page.
pub(crate) fn parse_id(raw: &str) -> poem::Result<u64> {
    raw.parse().map_err(|_| not_found())
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    done: String,
}

/// The add form as typed.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct AddForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    parent: String,
    #[serde(default)]
    postal_code: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    phone: String,
}

impl AddForm {
    fn contact(&self) -> ContactForm {
        ContactForm {
            postal_code: self.postal_code.clone(),
            address: self.address.clone(),
            phone: self.phone.clone(),
        }
    }
}

fn or_dash(v: Option<&str>) -> &str {
    v.filter(|s| !s.is_empty()).unwrap_or("—")
}

/// The three contact fields, with their values and errors.
fn contact_fields(c: &ContactForm, errors: &FieldErrors) -> Markup {
    let err = |n: &str| errors.message(n);
    html! {
        (text_field(&Input { name: "postal_code", label: form::POSTAL_CODE, required: false, hint: Some("例：113-8621"), value: &c.postal_code, error: err("postal_code"), kind: "text", inputmode: Some("numeric"), maxlength: Some(10), class: Some("short"), autocomplete: Some("off"), ..Input::default() }))
        (text_field(&Input { name: "address", label: form::ADDRESS, required: false, hint: Some("（200文字以内）"), value: &c.address, error: err("address"), kind: "text", maxlength: Some(ADDRESS_MAX), autocomplete: Some("off"), ..Input::default() }))
        (text_field(&Input { name: "phone", label: form::PHONE, required: false, hint: Some("ハイフンを含めて入力（例：03-3946-2121）"), value: &c.phone, error: err("phone"), kind: "tel", inputmode: Some("tel"), maxlength: Some(15), class: Some("short"), autocomplete: Some("off"), ..Input::default() }))
    }
}

/// A `<select>` field with the shared wrapper.
fn select_field(
    name: &str,
    label: &str,
    options: &[(String, String)],
    chosen: &str,
    error: Option<&str>,
) -> Markup {
    let control = html! {
        select id=(name) name=(name) required aria-required="true"
            aria-invalid=[error.map(|_| "true")] aria-describedby={ "m-" (name) } {
            option value="" { "選択してください" }
            @for (value, text) in options {
                option value=(value) selected[value == chosen] { (text) }
            }
        }
    };
    field_frame(name, label, true, None, error, None, None, control)
}

fn add_form(csrf: &str, parents: &[Association], f: &AddForm, errors: &FieldErrors) -> Markup {
    let err = |n: &str| errors.message(n);
    let kinds: Vec<(String, String)> = LOCAL_KINDS
        .iter()
        .map(|(v, k)| ((*v).to_owned(), k.label().to_owned()))
        .collect();
    let parents: Vec<(String, String)> = parents
        .iter()
        .map(|p| (p.id.0.to_string(), p.name.clone()))
        .collect();
    // One prefecture in scope: it is chosen already on a fresh form.
    let parent = if f.parent.is_empty() && parents.len() == 1 && errors.is_empty() {
        parents[0].0.as_str()
    } else {
        f.parent.as_str()
    };
    html! {
        section.card aria-labelledby="add-title" #add {
            h2 #add-title { "郡市区等医師会の追加" }
            p { "都道府県医師会の下に、郡市区医師会・大学医師会・職域医師会を追加します。多数ある場合は "
                a href=(super::office_import::IMPORT) { "CSVファイルから取り込む" } "こともできます。" }
            (error_summary(errors))
            form method="post" action=(LIST) novalidate {
                (csrf_input(csrf))
                (text_field(&Input { name: "name", label: form::NAME, required: true, hint: Some("例：新宿区医師会（60文字以内）"), value: &f.name, error: err("name"), kind: "text", maxlength: Some(NAME_MAX), autocomplete: Some("off"), ..Input::default() }))
                (select_field("kind", form::KIND, &kinds, &f.kind, err("kind")))
                (select_field("parent", form::PARENT, &parents, parent, err("parent")))
                (contact_fields(&f.contact(), errors))
                div.actions { button type="submit" { "追加する" } }
            }
        }
    }
}

fn render_list(
    csrf: &str,
    tree: &Tree,
    f: &AddForm,
    errors: &FieldErrors,
    done: Option<&str>,
) -> Markup {
    let title = "医師会の一覧";
    let body = html! {
        section.card aria-labelledby="tree-title" {
            h1 #tree-title { (title) }
            p { a href=(paths::OFFICE) { "← 事務局TOPに戻る" } }
            @if let Some(done) = done {
                div.helpbox role="status" { p { (done) } }
            }
            p { "所属医師会と、その下部の医師会です。" }
            table.mails {
                caption.sr-only { (title) }
                thead { tr {
                    th scope="col" { "名称" } th scope="col" { "種別" } th scope="col" { "郵便番号" }
                    th scope="col" { "住所" } th scope="col" { "電話番号" } th scope="col" { "事務局アカウント" }
                } }
                tbody {
                    @for row in &tree.rows {
                        @let a = &row.association;
                        tr {
                            td {
                                @if row.depth > 0 { ("　".repeat(row.depth - 1)) "└ " }
                                a href=(association_path(a.id.0)) { (a.name) }
                            }
                            td { (a.kind.label()) }
                            td { (or_dash(a.postal_code.as_ref().map(|p| p.as_str()))) }
                            td { (or_dash(a.address.as_deref())) }
                            td { (or_dash(a.phone.as_ref().map(|p| p.as_str()))) }
                            td { (row.staff) " 件" }
                        }
                    }
                }
            }
        }
        @if !tree.parents.is_empty() {
            (add_form(csrf, &tree.parents, f, errors))
        }
    };
    layout(title, Some(csrf), body)
}

#[handler]
pub async fn list(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    staff: Staff,
    Query(d): Query<DoneQuery>,
) -> poem::Result<Response> {
    let tree = associations::tree(&state.store, &staff)
        .await
        .or_internal()?;
    let done = match d.done.as_str() {
        "added" => Some("医師会を追加しました。"),
        _ => None,
    };
    Ok(render_list(
        csrf,
        &tree,
        &AddForm::default(),
        &FieldErrors::default(),
        done,
    )
    .into_response())
}

#[handler]
pub async fn add(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    admin: StaffAdmin,
    Form(f): Form<AddForm>,
) -> poem::Result<Response> {
    let staff = &admin.0;
    let tree = associations::tree(&state.store, staff)
        .await
        .or_internal()?;
    if tree.parents.is_empty() {
        return Err(not_found());
    }
    let refused = |errors: FieldErrors| {
        render_list(csrf, &tree, &f, &errors, None)
            .with_status(StatusCode::UNPROCESSABLE_ENTITY)
            .into_response()
    };
    let parsed = form::parse_new(&f.name, &f.kind, &f.contact());
    let parent = f.parent.trim().parse::<u64>().ok();
    let (new, parent) = match (parsed, parent) {
        (Ok(new), Some(parent)) => (new, parent),
        (parsed, parent) => {
            let found = parsed.err().unwrap_or_default();
            let parent_error = parent.is_none().then(|| {
                FieldError::new("parent", form::PARENT, "都道府県医師会を選択してください。")
            });
            // In screen order: the parent comes before the contact details.
            let mut errors = FieldErrors::default();
            for name in ["name", "kind", "parent", "postal_code", "address", "phone"] {
                if let Some(e) = found.iter().find(|e| e.name == name) {
                    errors.push(e.clone());
                } else if name == "parent"
                    && let Some(e) = &parent_error
                {
                    errors.push(e.clone());
                }
            }
            return Ok(refused(errors));
        }
    };
    match associations::add(&state.store, staff, parent, new)
        .await
        .or_internal()?
    {
        Ok(_) => Ok(Redirect::see_other(format!("{LIST}?done=added")).into_response()),
        Err(AddError::NotFound) => Err(not_found()),
        Err(AddError::NameTaken(message)) => {
            let mut errors = FieldErrors::default();
            errors.push(FieldError::new("name", form::NAME, message));
            Ok(refused(errors))
        }
    }
}

fn render_details(
    csrf: &str,
    d: &Details,
    editable: bool,
    f: &ContactForm,
    errors: &FieldErrors,
    done: Option<&str>,
    classes: Option<(&str, Option<&str>)>,
) -> Markup {
    let a = &d.association;
    let path = association_path(a.id.0);
    let body = html! {
        section.card aria-labelledby="association-title" {
            h1 #association-title { (a.name) }
            p { a href=(LIST) { "← 医師会の一覧に戻る" } }
            @if let Some(done) = done {
                div.helpbox role="status" { p { (done) } }
            }
            dl.review {
                dt { "名称" } dd { (a.name) }
                dt { "種別" } dd { (a.kind.label()) }
                dt { "上部の医師会" } dd { (or_dash(d.parent.as_deref())) }
                dt { (form::POSTAL_CODE) } dd { (or_dash(a.postal_code.as_ref().map(|p| p.as_str()))) }
                dt { (form::ADDRESS) } dd { (or_dash(a.address.as_deref())) }
                dt { (form::PHONE) } dd { (or_dash(a.phone.as_ref().map(|p| p.as_str()))) }
                dt { "事務局アカウント" } dd { (d.staff) " 件" }
                dt { "会員種別" } dd { @if a.classes.is_empty() { "未設定" } @else { (a.classes.join("、")) } }
            }
        }
        @if let Some((typed, error)) = classes {
            section.card aria-labelledby="classes-title" {
                h2 #classes-title { "会員種別の設定" }
                p { "貴会の会員種別（例：A会員、B会員／甲種、乙種、丙種）を1行に1つずつ入力してください。入会の承認時に、この中から選びます。空欄にすると選択なしで承認します。" }
                form method="post" action={ (path) "/classes" } novalidate {
                    (csrf_input(csrf))
                    div.field #f-classes {
                        label for="classes" { "会員種別" }
                        @if let Some(e) = error { p.error #m-classes role="alert" { (e) } }
                        textarea #classes name="classes" rows="5" aria-invalid=[error.map(|_| "true")] { (typed) }
                    }
                    div.actions { button type="submit" { "会員種別を保存する" } }
                }
            }
        }
        @if editable {
            section.card aria-labelledby="contact-title" {
                h2 #contact-title { "連絡先の変更" }
                (error_summary(errors))
                form method="post" action=(path) novalidate {
                    (csrf_input(csrf))
                    (contact_fields(f, errors))
                    div.actions { button type="submit" { "変更する" } }
                }
            }
        }
    };
    layout(&a.name, Some(csrf), body)
}

#[handler]
pub async fn show(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> poem::Result<Response> {
    let id = parse_id(&id)?;
    let Some(d) = associations::details(&state.store, &staff, id)
        .await
        .or_internal()?
    else {
        return Err(not_found());
    };
    let done = match q.done.as_str() {
        "changed" => Some("連絡先を変更しました。"),
        "classes" => Some("会員種別を保存しました。"),
        _ => None,
    };
    let f = ContactForm::of(&d.association.contact());
    let editable = staff.role == StaffRole::Admin;
    let typed = d.association.classes.join("\n");
    let classes =
        associations::may_set_classes(&staff, &d.association).then_some((typed.as_str(), None));
    Ok(render_details(
        csrf,
        &d,
        editable,
        &f,
        &FieldErrors::default(),
        done,
        classes,
    )
    .into_response())
}

#[handler]
pub async fn update(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    admin: StaffAdmin,
    Path(id): Path<String>,
    Form(f): Form<ContactForm>,
) -> poem::Result<Response> {
    let id = parse_id(&id)?;
    let staff = &admin.0;
    let Some(d) = associations::details(&state.store, staff, id)
        .await
        .or_internal()?
    else {
        return Err(not_found());
    };
    let contact = match f.parse() {
        Ok(c) => c,
        Err(errors) => {
            let typed = d.association.classes.join("\n");
            let classes = associations::may_set_classes(staff, &d.association)
                .then_some((typed.as_str(), None));
            return Ok(render_details(csrf, &d, true, &f, &errors, None, classes)
                .with_status(StatusCode::UNPROCESSABLE_ENTITY)
                .into_response());
        }
    };
    match associations::set_contact(&state.store, staff, id, contact)
        .await
        .or_internal()?
    {
        Some(()) => Ok(
            Redirect::see_other(format!("{}?done=changed", association_path(id))).into_response(),
        ),
        None => Err(not_found()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ClassesForm {
    #[serde(default)]
    classes: String,
}

/// Saves the association's own class list (its 管理者 only).
#[handler]
pub async fn set_classes(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    admin: StaffAdmin,
    Path(id): Path<String>,
    Form(f): Form<ClassesForm>,
) -> poem::Result<Response> {
    let id = parse_id(&id)?;
    let staff = &admin.0;
    let Some(d) = associations::details(&state.store, staff, id)
        .await
        .or_internal()?
    else {
        return Err(not_found());
    };
    if !associations::may_set_classes(staff, &d.association) {
        return Err(not_found());
    }
    let classes = match parse_classes(&f.classes) {
        Ok(c) => c,
        Err(message) => {
            let contact = ContactForm::of(&d.association.contact());
            return Ok(render_details(
                csrf,
                &d,
                true,
                &contact,
                &FieldErrors::default(),
                None,
                Some((&f.classes, Some(&message))),
            )
            .with_status(StatusCode::UNPROCESSABLE_ENTITY)
            .into_response());
        }
    };
    match associations::set_classes(&state.store, staff, id, classes)
        .await
        .or_internal()?
    {
        Some(()) => Ok(
            Redirect::see_other(format!("{}?done=classes", association_path(id))).into_response(),
        ),
        None => Err(not_found()),
    }
}
