//! Screen 5 (入力内容の確認) and the one write that creates the account.
//!
//! 「登録する」 runs one redb write transaction that re-checks the token,
//! claims login ID, e-mail and 医籍登録番号, writes the account, consumes the
//! token and queues the completion mail. A second click (or tab, or racing
//! request) finds the token consumed by this same registration and is shown
//! the completion page: one account, never two.

use maud::html;
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    session::Session,
    web::{CsrfToken, Data, Redirect},
};

use super::{
    form::{KEPT_PASSWORD_STAND_IN, Verified, check_all},
    form_view::{self, Ctx},
    state::{self, DONE_KEY, REG_KEY, RegSession},
};
use crate::{
    app::AppState,
    auth::client::ClientIp,
    config::Config,
    domain::{
        EmailField, Field, FieldErrors, NewRegistration, RegistrationForm, validate_registration,
    },
    error::OrInternal,
    mail::templates,
    store::{
        audit::{self, AuditEntry, AuditKind},
        now, outbox,
        tokens::{self, TokenState},
        users::{self, Conflict, Role, UserRecord},
    },
    views::{
        components::steps,
        layout::{csrf_input, page as layout},
    },
    web::{
        paths,
        register::{
            form::LOGIN_ID_TAKEN,
            verify::{Problem, problem_page},
        },
        today,
    },
};

/// Confirmations refused for a registered 医籍登録番号 before every further
/// one from the same link is refused alike (so that one verified address
/// cannot go on asking which numbers are registered).
pub const REGISTRY_REFUSALS_PER_LINK: u32 = 3;

/// Shown on the 医籍登録番号 when 「登録する」 finds it already registered: it
/// asks the person to call the help desk and says no more.
pub fn registry_refusal(config: &Config) -> String {
    let h = &config.helpdesk;
    format!(
        "この医籍登録番号では利用者登録を完了できませんでした。お手数ですが、{}（電話 {}、受付時間 {}）までお問合せください。",
        h.name, h.phone, h.hours
    )
}

/// The draft, validated again; `None` sends the user back to the form.
async fn validated(
    state: &AppState,
    reg: &RegSession,
    link: &Verified,
) -> poem::Result<Option<NewRegistration>> {
    if reg.password_hash.is_none() || reg.draft.is_empty() {
        return Ok(None);
    }
    let form = RegistrationForm::from_pairs(&reg.draft).normalized();
    let checked = check_all(state, link, form, reg.password_hash.as_deref()).await?;
    match checked.result {
        Ok((r, _)) => Ok(Some(r)),
        Err(errors) => {
            tracing::info!(fields = ?errors.names().collect::<Vec<_>>(), "draft no longer valid");
            Ok(None)
        }
    }
}

/// The draft checked against the field rules only.
fn rules_only(reg: &RegSession) -> Option<NewRegistration> {
    let mut form = RegistrationForm::from_pairs(&reg.draft).normalized();
    form.password = KEPT_PASSWORD_STAND_IN.to_owned();
    validate_registration(&form, today()).ok().map(|(r, _)| r)
}

#[handler]
pub async fn page(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    session: &Session,
) -> poem::Result<Response> {
    let (reg, record) = match state::current(&state, session).await? {
        Ok(v) => v,
        Err(resp) => return Ok(resp),
    };
    let Some(link) = Verified::of(&reg, record) else {
        return Ok(problem_page(Problem::Unknown));
    };
    let Some(new) = validated(&state, &reg, &link).await? else {
        return Ok(Redirect::see_other(paths::FORM).into_response());
    };
    let body = html! {
        (steps(3))
        section.card {
            h1 { "入力内容の確認" }
            p.lead { "入力内容をご確認ください。" }
            dl.review {
                dt { (EmailField::Email.label()) } dd { (reg.email) }
                dt { (Field::Password.label()) } dd { "（表示しません）" }
                @for (label, value) in new.display_rows() {
                    dt { (label) }
                    dd { @if value.is_empty() { "—" } @else { (value) } }
                }
            }
            form method="post" action=(paths::CONFIRM) {
                (csrf_input(csrf))
                div.actions {
                    button type="submit" { "登録する" }
                    a.button.secondary href=(paths::FORM) { "戻る" }
                }
            }
        }
    };
    Ok(layout("入力内容の確認", Some(csrf), body).into_response())
}

enum Outcome {
    Created { login_id: String },
    AlreadyCreated { user_id: u64 },
    Conflicts(Vec<Conflict>),
    LinkProblem(Problem),
}

#[handler]
pub async fn submit(
    state: Data<&AppState>,
    csrf: &CsrfToken,
    session: &Session,
    ClientIp(ip): ClientIp,
) -> poem::Result<Response> {
    let Some(reg) = session.get::<RegSession>(REG_KEY) else {
        if session.get::<String>(DONE_KEY).is_some() {
            return Ok(Redirect::see_other(paths::COMPLETE).into_response());
        }
        return Ok(problem_page(Problem::NoSession));
    };
    let (Some(h), Some(password_hash)) = (reg.hash(), reg.password_hash.clone()) else {
        return Ok(Redirect::see_other(paths::FORM).into_response());
    };
    // Rules only: uniqueness is decided inside the write transaction, where a
    // second submit of this same registration finds its token consumed.
    let Some(new) = rules_only(&reg) else {
        return Ok(Redirect::see_other(paths::FORM).into_response());
    };
    let display_name = format!("{} {}", new.name_last.as_str(), new.name_first.as_str());
    let login_id = new.login_id.as_str().to_owned();
    let registry_number = new.registry_number.as_str().to_owned();
    let profile = serde_json::to_value(&new)
        .map(|mut v| {
            if let Some(o) = v.as_object_mut() {
                o.insert("display_name".into(), display_name.clone().into());
            }
            v
        })
        .map_err(anyhow::Error::from)
        .or_internal()?;
    let config = state.config.clone();
    let outcome = state
        .store
        .write(move |tx| {
            let rec = match tokens::state_in_write(tx, &h)? {
                TokenState::Valid(rec) => rec,
                TokenState::Consumed { user_id } => {
                    return Ok(Err(Outcome::AlreadyCreated { user_id }));
                }
                TokenState::Expired => return Ok(Err(Outcome::LinkProblem(Problem::Expired))),
                TokenState::Unknown => return Ok(Err(Outcome::LinkProblem(Problem::Unknown))),
            };
            if rec.registry_refusals >= REGISTRY_REFUSALS_PER_LINK {
                return Ok(Err(Outcome::Conflicts(vec![Conflict::RegistryNumber])));
            }
            let user = UserRecord {
                id: 0,
                login_id: login_id.clone(),
                email: rec.email.clone(),
                registry_number,
                password_hash,
                role: Role::Physician,
                profile,
                session_generation: 0,
                terms_version: rec.terms_version.clone(),
                terms_agreed_at: rec.terms_agreed_at,
                created_at: now(),
            };
            let id = match users::create(tx, user)? {
                Ok(id) => id,
                Err(conflicts) if conflicts.contains(&Conflict::RegistryNumber) => {
                    // Nothing of the account was written; the refusal is
                    // counted against the link and kept in the audit log.
                    audit::record(
                        tx,
                        AuditEntry::new(AuditKind::RegistrationRefused)
                            .login_id(rec.email.clone())
                            .addr(ip)
                            .detail("医籍登録番号 already registered"),
                    )?;
                    tokens::count_registry_refusal(tx, &h, rec)?;
                    return Ok(Ok(Outcome::Conflicts(conflicts)));
                }
                Err(conflicts) => return Ok(Err(Outcome::Conflicts(conflicts))),
            };
            let email = rec.email.clone();
            audit::record(
                tx,
                AuditEntry::new(AuditKind::RegistrationCompleted)
                    .user(id)
                    .login_id(login_id.clone())
                    .addr(ip)
                    .detail(format!("email {email}")),
            )?;
            tokens::consume(tx, &h, rec, id)?;
            let (subject, body) =
                templates::registration_completed(&config, &display_name, &login_id);
            outbox::enqueue(tx, &email, &subject, body)?;
            Ok(Ok(Outcome::Created { login_id }))
        })
        .await
        .or_internal()?;
    let outcome = match outcome {
        Ok(o) | Err(o) => o,
    };
    match outcome {
        Outcome::Created { login_id } => {
            state.mail.wake();
            tracing::info!("account created");
            session.remove(REG_KEY);
            session.set(DONE_KEY, login_id);
            Ok(Redirect::see_other(paths::COMPLETE).into_response())
        }
        Outcome::AlreadyCreated { user_id } => {
            // The same registration, submitted twice: show its completion.
            let user = state
                .store
                .read(move |tx| users::get(tx, user_id))
                .await
                .or_internal()?;
            let login_id = user.map(|u| u.login_id).unwrap_or_default();
            session.remove(REG_KEY);
            session.set(DONE_KEY, login_id);
            Ok(Redirect::see_other(paths::COMPLETE).into_response())
        }
        Outcome::LinkProblem(p) => {
            session.remove(REG_KEY);
            Ok(problem_page(p))
        }
        Outcome::Conflicts(conflicts) => {
            // Someone else claimed a key since the form was checked.
            let form = RegistrationForm::from_pairs(&reg.draft).normalized();
            let mut errors = FieldErrors::default();
            for c in conflicts {
                match c {
                    Conflict::LoginId => errors.insert(Field::LoginId, LOGIN_ID_TAKEN.to_owned()),
                    Conflict::RegistryNumber => {
                        errors.insert(Field::RegistryNumber, registry_refusal(&state.config));
                    }
                    Conflict::Email => {
                        session.remove(REG_KEY);
                        return Ok(problem_page(Problem::Used));
                    }
                }
            }
            let ctx = Ctx {
                form: &form,
                errors: &errors,
                password_kept: true,
            };
            Ok(form_view::page(csrf, &reg.email, &ctx)
                .with_status(StatusCode::CONFLICT)
                .into_response())
        }
    }
}
