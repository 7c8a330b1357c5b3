//! A signed-in person's own account: an e-mail address confirmed by a link
//! mailed to it (the first address of a member from a postcard, or a new
//! address given on マイページ, which also tells the old one), and a change
//! of password that needs the current one and ends every other session.

use std::net::IpAddr;

use crate::{
    domain::{EmailForm, FieldErrors, validate_email_step},
    mail::templates,
    service::accounts::{Accounts, NewPasswordError, NewPasswordInput, check_new_password},
    store::{
        audit::{self, AuditEntry, AuditKind},
        email_changes::{self, Purpose},
        now, outbox, tokens,
        users::{self, UserRecord},
    },
};

pub use crate::store::email_changes::Purpose as EmailPurpose;

/// The path of the mailed confirmation link.
pub const EMAIL_CONFIRM_LINK: &str = "/email/confirm";
/// The longest token read from a link.
const TOKEN_MAX_BYTES: usize = 100;
/// The current password is wrong (マイページ changes).
pub const CURRENT_PASSWORD_WRONG: &str = "現在のパスワードが正しくありません。";

/// How a request for a confirmation link ended.
#[derive(Debug, PartialEq, Eq)]
pub enum EmailRequest {
    /// Mailed (or, when too many were asked for, silently not: the screen
    /// says the same).
    Sent,
    /// The addresses break a rule: messages per field.
    Refused(FieldErrors),
    /// The current password (asked for a change) is wrong.
    WrongPassword,
}

/// How opening a confirmation link ended.
#[derive(Debug, PartialEq, Eq)]
pub enum EmailConfirmed {
    /// The address is the account's now.
    Done { user_id: u64, purpose: Purpose },
    /// The link expired, was used, or a password change outdated it.
    LinkInvalid,
    /// Another account holds the address now.
    Taken,
}

/// How a change of password on マイページ ended.
#[derive(Debug)]
pub enum PasswordChange {
    /// Saved; every session of the account has ended: sign this one in
    /// again with the account.
    Saved(Box<UserRecord>),
    WrongCurrent,
    Refused(NewPasswordError),
}

impl Accounts<'_> {
    /// Mails a link confirming `form`'s address to it. A change
    /// (`Purpose::Change`) needs the account's current password.
    pub async fn request_email_confirmation(
        &self,
        user_id: u64,
        form: &EmailForm,
        purpose: Purpose,
        current_password: Option<&str>,
        ip: IpAddr,
    ) -> anyhow::Result<EmailRequest> {
        let form = form.normalized();
        let email = match validate_email_step(&form) {
            Ok(email) => email,
            Err(errors) => return Ok(EmailRequest::Refused(errors)),
        };
        let Some(user) = self.store.read(move |tx| users::get(tx, user_id)).await? else {
            return Ok(EmailRequest::WrongPassword);
        };
        if purpose == Purpose::Change {
            let typed = crate::text::normalize_halfwidth_field(current_password.unwrap_or(""));
            if typed.is_empty()
                || !self
                    .hasher
                    .verify(typed, user.password_hash.clone())
                    .await?
            {
                return Ok(EmailRequest::WrongPassword);
            }
        }
        let address = email.as_str().to_owned();
        let limited = self.mail_refusal(&address, ip);
        let (token, h) = tokens::new_token();
        let link = format!("{}{EMAIL_CONFIRM_LINK}?token={token}", self.config.base_url);
        let (subject, body) = templates::email_confirm(self.config, &user.login_id, &link);
        let queued = self
            .store
            .write_ok(move |tx| {
                let mut entry = AuditEntry::new(AuditKind::EmailConfirmationSent)
                    .user(user_id)
                    .login_id(&user.login_id)
                    .addr(ip);
                let queued = limited.is_none();
                if queued {
                    email_changes::insert(tx, &h, user_id, &address, purpose)?;
                    outbox::enqueue(tx, &address, &subject, body)?;
                } else {
                    entry = entry.detail(format!("not sent: {}", limited.unwrap_or("")));
                }
                audit::record(tx, entry)?;
                Ok(queued)
            })
            .await?;
        if queued {
            self.mail.wake();
        }
        Ok(EmailRequest::Sent)
    }

    /// The link was opened: the address becomes the account's (its unique
    /// key claimed), the old address told of a change, audited, in one
    /// transaction.
    pub async fn confirm_email(&self, token: &str, ip: IpAddr) -> anyhow::Result<EmailConfirmed> {
        if token.is_empty() || token.len() > TOKEN_MAX_BYTES {
            return Ok(EmailConfirmed::LinkInvalid);
        }
        let h = tokens::hash(token);
        let config = self.config.clone();
        let outcome = self
            .store
            .write_ok(move |tx| {
                let Some(rec) = email_changes::consume(tx, &h)? else {
                    return Ok((EmailConfirmed::LinkInvalid, false));
                };
                let (old, user) = match users::set_email(tx, rec.user_id, &rec.email)? {
                    Err(_) => return Ok((EmailConfirmed::Taken, false)),
                    Ok(None) => return Ok((EmailConfirmed::LinkInvalid, false)),
                    Ok(Some(changed)) => changed,
                };
                let mut mailed = false;
                if rec.purpose == Purpose::Change
                    && !old.is_empty()
                    && users::email_key(&old) != users::email_key(&rec.email)
                {
                    let (subject, body) = templates::email_changed(&config, &user.login_id, now());
                    outbox::enqueue(tx, &old, &subject, body)?;
                    mailed = true;
                }
                audit::record(
                    tx,
                    AuditEntry::new(AuditKind::EmailChanged)
                        .user(rec.user_id)
                        .login_id(&user.login_id)
                        .addr(ip)
                        .changes([audit::FieldChange::new(
                            "メールアドレス",
                            old.clone(),
                            rec.email.clone(),
                        )]),
                )?;
                Ok((
                    EmailConfirmed::Done {
                        user_id: rec.user_id,
                        purpose: rec.purpose,
                    },
                    mailed,
                ))
            })
            .await?;
        if outcome.1 {
            self.mail.wake();
        }
        Ok(outcome.0)
    }

    /// マイページ's change of password: the current one checked, the new
    /// one under the registration's rules, saved with a bumped session
    /// generation (every session ends), the notice mail and the audit entry.
    pub async fn change_password(
        &self,
        user_id: u64,
        current: &str,
        input: &NewPasswordInput<'_>,
        ip: IpAddr,
    ) -> anyhow::Result<PasswordChange> {
        let Some(user) = self.store.read(move |tx| users::get(tx, user_id)).await? else {
            return Ok(PasswordChange::WrongCurrent);
        };
        let typed = crate::text::normalize_halfwidth_field(current);
        if typed.is_empty()
            || !self
                .hasher
                .verify(typed, user.password_hash.clone())
                .await?
        {
            return Ok(PasswordChange::WrongCurrent);
        }
        let password = match check_new_password(&user.login_id, input) {
            Ok(p) => p,
            Err(e) => return Ok(PasswordChange::Refused(e)),
        };
        let hash = self
            .hasher
            .hash(password.expose_secret().to_owned())
            .await?;
        let (subject, body) = templates::password_changed(self.config, &user.login_id, now());
        let saved = self
            .store
            .write_ok(move |tx| {
                let Some(user) = users::set_password(tx, user_id, hash)? else {
                    return Ok(None);
                };
                if !user.email.is_empty() {
                    outbox::enqueue(tx, &user.email, &subject, body)?;
                }
                audit::record(
                    tx,
                    AuditEntry::new(AuditKind::PasswordChanged)
                        .user(user_id)
                        .login_id(&user.login_id)
                        .addr(ip)
                        .detail("changed on マイページ"),
                )?;
                Ok(Some(user))
            })
            .await?;
        Ok(match saved {
            Some(user) => {
                self.mail.wake();
                PasswordChange::Saved(Box::new(user))
            }
            None => PasswordChange::WrongCurrent,
        })
    }
}
