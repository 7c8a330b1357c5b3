//! The registration use case: the mailed link (`link`: sending, opening,
//! its state), whether a login ID is free (within the link's budget), and
//! 「登録する」, which creates the account.
//!
//! 「登録する」 runs one redb write transaction that re-checks the token,
//! claims login ID, e-mail and 医籍登録番号, writes the account with its
//! person and their indexes, consumes the token, queues the completion mail
//! and records the audit entry. A second click (or tab, or racing request)
//! finds the token consumed by this same registration and is told so: one
//! account, never two. A 医籍登録番号 already registered is refused with a
//! message that says no more than "call the help desk", and only
//! [`REGISTRY_REFUSALS_PER_LINK`] times per link.

mod link;

use std::{net::IpAddr, sync::Arc};

use redb::WriteTransaction;

use crate::{
    config::Config,
    domain::{Field, FieldErrors, NewRegistration, person::Person},
    mail::{templates, worker::MailSignal},
    store::{
        Store,
        audit::{self, AuditEntry, AuditKind},
        now, outbox,
        tokens::{self, TokenRecord, TokenState},
        users::{self, Conflict, Role, UserRecord},
    },
};

pub use link::{
    LINK_PATH, LinkKey, LinkState, TermsAgreement, ValidLink, link_state, open_link, send_link,
};

/// Shown under the login ID when another account uses it.
pub const LOGIN_ID_TAKEN: &str =
    "このログインIDは既に使用されています。別のログインIDを入力してください。";

/// Login-ID availability look-ups one mailed link may make (inline checks
/// and form submits together; asking again about the same ID is free).
/// Beyond it only the format is checked, and the final write still refuses
/// a login ID taken meanwhile.
pub const LOOKUPS_PER_LINK: u32 = 30;
/// Shown under the login ID once the look-ups are spent.
pub const LOOKUPS_SPENT_NOTE: &str =
    "ログインIDが使用済みかどうかは、「登録する」を押したときに確認します。";

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

/// Whether `login_id` is taken, asked with `link` (asking again about the
/// login ID it asked about last is free): `None` when the link's budget is
/// spent (nothing was asked).
pub async fn login_id_taken(
    store: &Store,
    link: &ValidLink,
    login_id: &str,
) -> anyhow::Result<Option<bool>> {
    let key = users::login_key(login_id);
    if link.last_lookup.as_deref() != Some(key.as_str()) {
        let token = link.key;
        let k = key.clone();
        let granted = store
            .write_ok(move |tx| tokens::take_lookup(tx, &token, &k, LOOKUPS_PER_LINK))
            .await?;
        if !granted {
            tracing::info!("login ID look-up not answered: the link's budget is spent");
            return Ok(None);
        }
    }
    let taken = store
        .read(move |tx| users::login_id_taken(tx, &key))
        .await?;
    Ok(Some(taken))
}

/// What 「登録する」 submits, parsed.
pub struct Completion {
    /// SHA-256 of the mailed link's token.
    pub token: [u8; 32],
    pub registration: NewRegistration,
    /// The argon2id hash of the password chosen on the form.
    pub password_hash: String,
    /// The client's address, for the audit log.
    pub client_ip: IpAddr,
}

/// What became of 「登録する」.
#[derive(Debug)]
pub enum Outcome {
    /// The account exists; the completion mail is queued.
    Created { login_id: String },
    /// This registration was completed before (a second submit).
    AlreadyCreated { login_id: String },
    /// The mailed link has expired.
    LinkExpired,
    /// The mailed link is not known.
    LinkUnknown,
    /// Another account registered the address meanwhile.
    EmailTaken,
    /// The login ID or the 医籍登録番号 is refused: the messages per field.
    Refused(FieldErrors),
}

/// What the write transaction decided.
enum Decision {
    Created { login_id: String },
    AlreadyCreated { user_id: u64 },
    Expired,
    Unknown,
    Conflicts(Vec<Conflict>),
}

/// 「登録する」: creates the account in one write transaction (see the
/// module's documentation) and wakes the mail worker.
pub async fn complete(
    store: &Store,
    config: &Arc<Config>,
    mail: &MailSignal,
    completion: Completion,
) -> anyhow::Result<Outcome> {
    let cfg = config.clone();
    let decision = store.write(move |tx| decide(tx, &cfg, completion)).await?;
    let (Ok(decision) | Err(decision)) = decision;
    decision.into_outcome(store, config, mail).await
}

impl Decision {
    async fn into_outcome(
        self,
        store: &Store,
        config: &Config,
        mail: &MailSignal,
    ) -> anyhow::Result<Outcome> {
        Ok(match self {
            Decision::Created { login_id } => {
                mail.wake();
                tracing::info!("account created");
                Outcome::Created { login_id }
            }
            Decision::AlreadyCreated { user_id } => {
                let user = store.read(move |tx| users::get(tx, user_id)).await?;
                Outcome::AlreadyCreated {
                    login_id: user.map(|u| u.login_id).unwrap_or_default(),
                }
            }
            Decision::Expired => Outcome::LinkExpired,
            Decision::Unknown => Outcome::LinkUnknown,
            Decision::Conflicts(c) if c.contains(&Conflict::Email) => Outcome::EmailTaken,
            Decision::Conflicts(conflicts) => {
                let mut errors = FieldErrors::default();
                for c in conflicts {
                    match c {
                        Conflict::LoginId => errors.insert(Field::LoginId, LOGIN_ID_TAKEN.into()),
                        Conflict::RegistryNumber => {
                            errors.insert(Field::RegistryNumber, registry_refusal(config));
                        }
                        Conflict::Email => {}
                    }
                }
                Outcome::Refused(errors)
            }
        })
    }
}

/// The transaction of 「登録する」: `Ok` commits, `Err` writes nothing.
fn decide(
    tx: &WriteTransaction,
    config: &Config,
    c: Completion,
) -> anyhow::Result<Result<Decision, Decision>> {
    let rec = match tokens::state_in_write(tx, &c.token)? {
        TokenState::Valid(rec) => rec,
        TokenState::Consumed { user_id } => return Ok(Err(Decision::AlreadyCreated { user_id })),
        TokenState::Expired => return Ok(Err(Decision::Expired)),
        TokenState::Unknown => return Ok(Err(Decision::Unknown)),
    };
    if rec.registry_refusals >= REGISTRY_REFUSALS_PER_LINK {
        return Ok(Err(Decision::Conflicts(vec![Conflict::RegistryNumber])));
    }
    let login_id = c.registration.login_id.as_str().to_owned();
    let person = Person::from(c.registration);
    let display_name = person.display_name();
    let user = account(&rec, login_id.clone(), person, c.password_hash);
    let id = match users::create(tx, user)? {
        Ok(id) => id,
        Err(conflicts) if conflicts.contains(&Conflict::RegistryNumber) => {
            // Nothing of the account was written; the refusal is counted
            // against the link and kept in the audit log.
            audit::record(
                tx,
                AuditEntry::new(AuditKind::RegistrationRefused)
                    .login_id(rec.email.clone())
                    .addr(c.client_ip)
                    .detail("医籍登録番号 already registered"),
            )?;
            tokens::count_registry_refusal(tx, &c.token, rec)?;
            return Ok(Ok(Decision::Conflicts(conflicts)));
        }
        Err(conflicts) => return Ok(Err(Decision::Conflicts(conflicts))),
    };
    let email = rec.email.clone();
    audit::record(
        tx,
        AuditEntry::new(AuditKind::RegistrationCompleted)
            .user(id)
            .login_id(login_id.clone())
            .addr(c.client_ip)
            .detail(format!("email {email}")),
    )?;
    tokens::consume(tx, &c.token, rec, id)?;
    let (subject, body) = templates::registration_completed(config, &display_name, &login_id);
    outbox::enqueue(tx, &email, &subject, body)?;
    Ok(Ok(Decision::Created { login_id }))
}

/// The new physician's account, for the link's address and terms.
fn account(link: &TokenRecord, login_id: String, person: Person, hash: String) -> UserRecord {
    UserRecord {
        initial_password_expires_at: None,
        membership: None,
        association: None,
        id: 0,
        login_id,
        email: link.email.clone(),
        registry_number: person.registry.number.as_str().to_owned(),
        password_hash: hash,
        role: Role::Physician,
        person: Some(person),
        session_generation: 0,
        must_change_password: false,
        staff_name: None,
        terms_version: link.terms_version.clone(),
        terms_agreed_at: link.terms_agreed_at,
        terms_history: Vec::new(),
        created_at: now(),
    }
}
