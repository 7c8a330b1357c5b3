//! Screen 4's requests: the page, the per-field htmx check, and the submit
//! that validates everything at once and moves on to the confirmation.

use maud::{Markup, html};
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    session::Session,
    web::{CsrfToken, Data, Form, Path, Query, Redirect},
};
use serde::Deserialize;

use super::{
    form_view::{self, Ctx, SOCIETY_QUERY, check_url, note_for, text_input},
    state::{self, REG_KEY, RegSession},
};
use crate::{
    domain::{
        Control, Field, FieldErrors, NewRegistration, Password, RegistrationForm, check_field,
        validate_registration,
    },
    error::OrInternal,
    service::registration::{self, LOGIN_ID_TAKEN, LOOKUPS_SPENT_NOTE, ValidLink},
    state::AppState,
    views::components::{RESUBMIT_MESSAGE, input_control, message},
    web::{paths, today},
};

pub const PASSWORD_IS_LOGIN_ID: &str = "パスワードにログインIDと同じ文字列は使用できません。";

/// Whether `login_id` is taken, asked with the link this session opened
/// (the only one that may ask), within its look-up budget: `None` when the
/// budget is spent (nothing was asked).
pub async fn login_id_taken(
    state: &AppState,
    link: &ValidLink,
    login_id: &str,
) -> poem::Result<Option<bool>> {
    registration::login_id_taken(&state.store, link, login_id)
        .await
        .or_internal()
}

/// Stands in for a password kept as a hash, so that the other rules can run.
pub const KEPT_PASSWORD_STAND_IN: &str = "Kept!Passw0rd#StandIn";

/// The form's values as pairs for the session draft (no password).
pub fn to_pairs(form: &RegistrationForm) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for f in Field::ALL {
        match f {
            Field::Password => {}
            Field::SubDepts => out.extend(
                form.sub_depts
                    .iter()
                    .map(|v| (f.name().to_owned(), v.clone())),
            ),
            Field::Societies => out.extend(
                form.societies
                    .iter()
                    .map(|v| (f.name().to_owned(), v.clone())),
            ),
            Field::UseFormerName => {
                if form.use_former_name {
                    out.push((f.name().to_owned(), "1".to_owned()));
                }
            }
            _ => out.push((f.name().to_owned(), form.value(f))),
        }
    }
    out
}

/// Reads a posted form: the society typed in the search box but not chosen
/// from the list is added to the chosen ones.
pub fn read_form(pairs: &[(String, String)]) -> RegistrationForm {
    let mut pairs = pairs.to_vec();
    let typed = pairs
        .iter()
        .find(|(k, _)| k == SOCIETY_QUERY)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    if let Some(v) = typed
        && !pairs
            .iter()
            .any(|(k, x)| k == Field::Societies.name() && x.trim() == v)
    {
        pairs.push((Field::Societies.name().to_owned(), v));
    }
    RegistrationForm::from_pairs(&pairs).normalized()
}

#[handler]
pub async fn page(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    session: &Session,
) -> poem::Result<Response> {
    let (reg, _) = match state::current(&state, session).await? {
        Ok(v) => v,
        Err(gone) => return Ok(gone.into_response()),
    };
    let form = RegistrationForm::from_pairs(&reg.draft).normalized();
    let errors = FieldErrors::default();
    let ctx = Ctx {
        form: &form,
        errors: &errors,
        password_kept: reg.password_hash.is_some(),
    };
    Ok(form_view::page(csrf, &reg.email, &ctx, None).into_response())
}

/// The outcome of validating a submitted form against the rules and the store.
pub struct Checked {
    pub form: RegistrationForm,
    pub result: Result<(NewRegistration, Option<Password>), FieldErrors>,
}

/// Validates `form` fully: field rules, cross-field rules, and whether the
/// login ID is taken (within the link's look-up budget). Whether the
/// 医籍登録番号 is registered is never said here: only 「登録する」 finds it
/// (see `confirm`). A kept password hash stands in for an empty password
/// field.
pub async fn check_all(
    state: &AppState,
    link: &ValidLink,
    form: RegistrationForm,
    kept_hash: Option<&str>,
) -> poem::Result<Checked> {
    let use_kept = form.password.is_empty() && kept_hash.is_some();
    let mut probe = form.clone();
    if use_kept {
        probe.password = KEPT_PASSWORD_STAND_IN.to_owned();
    }
    let mut result =
        validate_registration(&probe, today()).map(|(reg, pw)| (reg, (!use_kept).then_some(pw)));
    let mut extra = FieldErrors::default();
    if let (true, Some(h)) = (use_kept, kept_hash)
        && state
            .hasher
            .verify(form.login_id.clone(), h.to_owned())
            .await
            .or_internal()?
    {
        extra.insert(Field::Password, PASSWORD_IS_LOGIN_ID.to_owned());
    }
    let login_id_ok = check_field(&form, Field::LoginId, today()).is_none();
    if login_id_ok && login_id_taken(state, link, &form.login_id).await? == Some(true) {
        extra.insert(Field::LoginId, LOGIN_ID_TAKEN.to_owned());
    }
    if !extra.is_empty() {
        let mut all = match result {
            Ok(_) => FieldErrors::default(),
            Err(e) => e,
        };
        for (f, m) in extra.fields() {
            if all.get(f).is_none() {
                all.insert(f, m.to_owned());
            }
        }
        result = Err(all);
    }
    Ok(Checked { form, result })
}

#[handler]
pub async fn submit(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    session: &Session,
    Form(pairs): Form<Vec<(String, String)>>,
) -> poem::Result<Response> {
    let (mut reg, link) = match state::current(&state, session).await? {
        Ok(v) => v,
        Err(gone) => return Ok(gone.into_response()),
    };
    let form = read_form(&pairs);
    let checked = check_all(&state, &link, form, reg.password_hash.as_deref()).await?;
    let form = checked.form;
    reg.draft = to_pairs(&form);
    match checked.result {
        Ok((_, new_password)) => {
            if let Some(pw) = new_password {
                let h = state
                    .hasher
                    .hash(pw.expose_secret().to_owned())
                    .await
                    .or_internal()?;
                reg.password_hash = Some(h);
            }
            session.set(REG_KEY, reg);
            Ok(Redirect::see_other(paths::CONFIRM).into_response())
        }
        Err(errors) => {
            // A password that passed its own rules is kept (as a hash only).
            if errors.get(Field::Password).is_none() && !form.password.is_empty() {
                if let Ok(pw) = Password::parse(&form.password) {
                    let h = state
                        .hasher
                        .hash(pw.expose_secret().to_owned())
                        .await
                        .or_internal()?;
                    reg.password_hash = Some(h);
                }
            } else if errors.get(Field::Password).is_some() {
                reg.password_hash = None;
            }
            let ctx = Ctx {
                form: &form,
                errors: &errors,
                password_kept: reg.password_hash.is_some(),
            };
            let markup = form_view::page(csrf, &reg.email, &ctx, None);
            session.set(REG_KEY, reg);
            Ok(markup
                .with_status(StatusCode::UNPROCESSABLE_ENTITY)
                .into_response())
        }
    }
}

/// The submit refused for a stale CSRF token (see `web::kept_forms`): the
/// form again with what was typed (never the password) and a fresh token.
/// Nothing is checked or kept, not even the draft.
#[handler]
pub async fn refused(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    session: &Session,
    Form(pairs): Form<Vec<(String, String)>>,
) -> poem::Result<Response> {
    let (reg, _) = match state::current(&state, session).await? {
        Ok(v) => v,
        Err(gone) => return Ok(gone.into_response()),
    };
    let mut form = read_form(&pairs);
    form.password = String::new();
    let errors = FieldErrors::default();
    let ctx = Ctx {
        form: &form,
        errors: &errors,
        password_kept: reg.password_hash.is_some(),
    };
    Ok(
        form_view::page(csrf, &reg.email, &ctx, Some(RESUBMIT_MESSAGE))
            .with_status(StatusCode::FORBIDDEN)
            .into_response(),
    )
}

#[derive(Deserialize)]
pub struct CheckQuery {
    #[serde(default)]
    live: Option<String>,
}

/// htmx: the message of one field (its own rule, cross-field rules, and
/// for the login ID whether it is taken), plus out-of-band messages of the
/// fields that depend on it and, after leaving the field, its value shown
/// back normalised.
///
/// Whether a login ID is taken is said only to the session that opened a
/// mailed link, within that link's budget
/// ([`registration::LOOKUPS_PER_LINK`]); anyone else gets the format check
/// alone. Whether a 医籍登録番号 is registered is never said here.
#[handler]
pub async fn check(
    state: Data<&AppState>,
    session: &Session,
    Path(name): Path<String>,
    Query(q): Query<CheckQuery>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> poem::Result<Response> {
    let Some(field) = Field::from_name(&name) else {
        return Ok(StatusCode::NOT_FOUND.into_response());
    };
    let raw = RegistrationForm::from_pairs(&pairs);
    let form = raw.normalized();
    let mut inline = Inline {
        form: &form,
        password_kept: session
            .get::<RegSession>(REG_KEY)
            .and_then(|r| r.password_hash)
            .is_some(),
        lookups_spent: false,
    };
    let mut err = inline.message(field);
    if err.is_none() && field == Field::LoginId {
        let link = match state::current(&state, session).await? {
            Ok((_, link)) => Some(link),
            Err(_) => None,
        };
        if let Some(link) = link {
            match login_id_taken(&state, &link, &form.login_id).await? {
                Some(true) => err = Some(LOGIN_ID_TAKEN.to_owned()),
                Some(false) => {}
                None => inline.lookups_spent = true,
            }
        }
    }
    let shown_back = q.live.is_none() && form.value(field) != raw.value(field);
    Ok(inline.answer(field, err, shown_back).into_response())
}

/// The inline check of one field: the form as posted, normalised, and what
/// the session adds (a kept password, a spent look-up budget).
struct Inline<'a> {
    form: &'a RegistrationForm,
    password_kept: bool,
    lookups_spent: bool,
}

impl Inline<'_> {
    /// The field's message; an empty password is fine while one is kept.
    fn message(&self, f: Field) -> Option<String> {
        if f == Field::Password && self.form.password.is_empty() && self.password_kept {
            return None;
        }
        check_field(self.form, f, today())
    }

    /// The note shown when the field has no error.
    fn note(&self, f: Field, err: &Option<String>) -> Option<String> {
        if err.is_some() {
            return None;
        }
        if f == Field::LoginId && self.lookups_spent {
            return Some(LOOKUPS_SPENT_NOTE.to_owned());
        }
        if f == Field::Password && self.form.password.is_empty() && self.password_kept {
            return Some(form_view::PASSWORD_KEPT.to_owned());
        }
        note_for(self.form, f)
    }

    /// The field's message, the out-of-band messages of the filled fields
    /// that depend on it, and (when `shown_back` and the field is a text box)
    /// its value shown back normalised.
    fn answer(&self, field: Field, err: Option<String>, shown_back: bool) -> Markup {
        let own_note = self.note(field, &err);
        let dependents: Vec<(Field, Option<String>)> = field
            .dependents()
            .iter()
            .filter(|d| !self.form.value(**d).is_empty())
            .map(|d| (*d, self.message(*d)))
            .collect();
        let value = self.form.value(field);
        let text_box = matches!(field.spec().control, Control::Text | Control::Tel);
        let url = check_url(field);
        html! {
            (message(field.name(), err.as_deref(), own_note.as_deref(), false))
            @for (d, e) in &dependents {
                (message(d.name(), e.as_deref(), self.note(*d, e).as_deref(), true))
            }
            @if shown_back && text_box {
                (input_control(&text_input(field, &value, err.as_deref(), own_note.as_deref(), &url), true))
            }
        }
    }
}
