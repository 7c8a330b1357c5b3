//! Screen 4's requests: the page, the per-field htmx check, and the submit
//! that validates everything at once and moves on to the confirmation.

use maud::html;
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
    app::AppState,
    domain::{
        Field, FieldErrors, NewRegistration, Password, RegistrationForm, check_field,
        validate_registration,
    },
    error::OrInternal,
    store::users,
    views::components::{input_control, message},
    web::{paths, today},
};

pub const LOGIN_ID_TAKEN: &str =
    "このログインIDは既に使用されています。別のログインIDを入力してください。";
pub const REGISTRY_TAKEN: &str = "この医籍登録番号は既に登録されています。";
pub const PASSWORD_IS_LOGIN_ID: &str = "パスワードにログインIDと同じ文字列は使用できません。";

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
fn read_form(pairs: &[(String, String)]) -> RegistrationForm {
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
        Err(resp) => return Ok(resp),
    };
    let form = RegistrationForm::from_pairs(&reg.draft).normalized();
    let errors = FieldErrors::default();
    let ctx = Ctx {
        form: &form,
        errors: &errors,
        password_kept: reg.password_hash.is_some(),
    };
    Ok(form_view::page(csrf, &reg.email, &ctx).into_response())
}

/// The outcome of validating a submitted form against the rules and the store.
pub struct Checked {
    pub form: RegistrationForm,
    pub result: Result<(NewRegistration, Option<Password>), FieldErrors>,
}

/// Validates `form` fully: field rules, cross-field rules, and uniqueness of
/// login ID and 医籍登録番号 in the store. A kept password hash stands in for
/// an empty password field.
pub async fn check_all(
    state: &AppState,
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
    let (login_id, registry) = (form.login_id.clone(), form.registry_number.clone());
    let (login_taken, registry_taken) = state
        .store
        .read(move |tx| {
            Ok((
                !login_id.is_empty() && users::login_id_taken(tx, &login_id)?,
                !registry.is_empty() && users::registry_number_taken(tx, &registry)?,
            ))
        })
        .await
        .or_internal()?;
    if login_taken {
        extra.insert(Field::LoginId, LOGIN_ID_TAKEN.to_owned());
    }
    if registry_taken {
        extra.insert(Field::RegistryNumber, REGISTRY_TAKEN.to_owned());
    }
    if !extra.is_empty() {
        let mut all = match result {
            Ok(_) => FieldErrors::default(),
            Err(e) => e,
        };
        for (f, m) in extra.iter() {
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
    let (mut reg, _) = match state::current(&state, session).await? {
        Ok(v) => v,
        Err(resp) => return Ok(resp),
    };
    let form = read_form(&pairs);
    let checked = check_all(&state, form, reg.password_hash.as_deref()).await?;
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
            let markup = form_view::page(csrf, &reg.email, &ctx);
            session.set(REG_KEY, reg);
            Ok(markup
                .with_status(StatusCode::UNPROCESSABLE_ENTITY)
                .into_response())
        }
    }
}

#[derive(Deserialize)]
pub struct CheckQuery {
    #[serde(default)]
    live: Option<String>,
}

/// htmx: the message of one field (its own rule, uniqueness, cross-field
/// rules), plus out-of-band messages of the fields that depend on it and,
/// after leaving the field, its value shown back normalised.
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
    let live = q.live.is_some();
    let raw = RegistrationForm::from_pairs(&pairs);
    let form = raw.clone().normalized();
    let kept = session
        .get::<RegSession>(REG_KEY)
        .and_then(|r| r.password_hash)
        .is_some();
    let message_of = |f: Field| -> Option<String> {
        if f == Field::Password && form.password.is_empty() && kept {
            return None;
        }
        check_field(&form, f, today())
    };
    let mut err = message_of(field);
    if err.is_none() {
        let value = form.value(field);
        let taken = match field {
            Field::LoginId if !value.is_empty() => state
                .store
                .read_now(|tx| users::login_id_taken(tx, &value))
                .or_internal()?,
            Field::RegistryNumber if !value.is_empty() => state
                .store
                .read_now(|tx| users::registry_number_taken(tx, &value))
                .or_internal()?,
            _ => false,
        };
        if taken {
            err = Some(
                if field == Field::LoginId {
                    LOGIN_ID_TAKEN
                } else {
                    REGISTRY_TAKEN
                }
                .to_owned(),
            );
        }
    }
    let note = |f: Field, e: &Option<String>| -> Option<String> {
        if e.is_some() {
            return None;
        }
        if f == Field::Password && form.password.is_empty() && kept {
            return Some(form_view::PASSWORD_KEPT.to_owned());
        }
        note_for(&form, f)
    };
    let own_note = note(field, &err);
    let dependents: Vec<(Field, Option<String>)> = field
        .dependents()
        .iter()
        .filter(|d| !form.value(**d).is_empty())
        .map(|d| (*d, message_of(*d)))
        .collect();
    let value = form.value(field);
    let show_back = !live
        && field != Field::Password
        && !field.is_list()
        && !matches!(
            field,
            Field::Prefecture
                | Field::MainDept
                | Field::Gender
                | Field::UseFormerName
                | Field::School
                | Field::GradUniversity
        )
        && value != raw.value(field);
    let url = check_url(field);
    let markup = html! {
        (message(field.name(), err.as_deref(), own_note.as_deref(), false))
        @for (d, e) in &dependents {
            (message(d.name(), e.as_deref(), note(*d, e).as_deref(), true))
        }
        @if show_back {
            (input_control(&text_input(field, &value, err.as_deref(), own_note.as_deref(), &url), true))
        }
    };
    Ok(markup.into_response())
}
