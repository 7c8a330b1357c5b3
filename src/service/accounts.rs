//! The account use cases: logging in, マイページ, the login-ID reminder, and the password reset (request, mailed link, new password).
//!
//! Each use case owns its rules and their messages, and writes what it
//! changes in one transaction with its audit entry and the mail it causes
//! (outbox). Two rules run through all of them:
//!
//! - **Nothing tells who is registered.** A login with an unknown ID is
//!   counted and checked against a dummy hash like a known one; a reminder
//!   or reset request for an unknown account reads, renders its mail and
//!   writes its audit entry like a known one (only the mail is left out),
//!   and the per-target and per-client mail limits count both alike.
//! - **Counted before checked.** A login attempt is reserved with the login
//!   limiter before its password is hashed; a throttled attempt never
//!   reaches the hasher. A successful attempt is handed back, and so is one
//!   the hasher was too busy to check.

use std::net::IpAddr;

use poem::web::cookie::Cookie;

use crate::{
    auth::{
        login_limiter::{self, LoginLimiter, Reservation, Throttled},
        password::{self, Hasher},
        throttle::Throttle,
    },
    config::Config,
    domain::{Email, LoginId, Password},
    mail::{limit::MailLimiter, templates, worker::MailSignal},
    store::{
        Store,
        audit::{self, AuditEntry, AuditKind},
        last_logins, login_attempts, now, outbox, resets, tokens,
        users::{self, UserRecord},
    },
    text::normalize_halfwidth_field,
};

/// A failed login, whatever was wrong.
pub const LOGIN_FAILED: &str = "ログインIDまたはパスワードが正しくありません。";
/// A throttled login; followed by how long to wait.
const LOGIN_THROTTLED: &str = "ログインに続けて失敗したため、しばらくの間ログインできません。";
/// An imported member's initial password matched but is past its date.
pub const INITIAL_PASSWORD_EXPIRED: &str =
    "初期パスワードの有効期限が切れています。所属医師会にお問い合わせください。";
/// The password-reset request without a usable login ID or address.
pub const LOGIN_OR_EMAIL_MISSING: &str = "ログインIDまたはメールアドレスを入力してください。";
/// The new password and its confirmation differ.
pub const CONFIRMATION_MISMATCH: &str = "確認用のパスワードが一致しません。";
/// Reminder mails (ID or reset link) per target within `auth::throttle::WINDOW`.
const MAILS_PER_TARGET: u32 = 5;
/// The path of the mailed reset link (the screen that opens it is routed
/// here).
pub const RESET_LINK: &str = "/forgot/password/reset";
/// The longest login ID or address a reset may be asked for.
const TARGET_MAX_BYTES: usize = 100;
/// The longest reset token read from a link.
const TOKEN_MAX_BYTES: usize = 100;

/// The parts of the server the account use cases work with.
#[derive(Clone, Copy)]
pub struct Accounts<'a> {
    pub store: &'a Store,
    pub config: &'a Config,
    /// Every argon2 run, bounded.
    pub hasher: &'a Hasher,
    /// Login attempts per login ID, address and device (in redb).
    pub login_limiter: &'a LoginLimiter,
    /// Reminder mails per target (in memory).
    pub throttle: &'a Throttle,
    /// Mail requests per client address (in memory).
    pub mail_limit: &'a MailLimiter,
    /// Wakes the mail worker after a commit that queued mail.
    pub mail: &'a MailSignal,
}

/// A login form as typed, full-width ASCII made half-width in both fields
/// (registration stored the password so).
pub struct LoginAttempt {
    login_id: String,
    password: String,
}

impl LoginAttempt {
    pub fn new(login_id: &str, password: &str) -> LoginAttempt {
        LoginAttempt {
            login_id: normalize_halfwidth_field(login_id),
            password: normalize_halfwidth_field(password),
        }
    }

    /// The login ID as it is looked up (and shown again on a refusal).
    pub fn login_id(&self) -> &str {
        &self.login_id
    }
}

/// A successful login: what the screen needs to start the session.
pub struct SignedIn {
    pub user: UserRecord,
    /// Remembers this browser for the account (the limiter's device).
    pub device_cookie: Cookie,
    /// The stored hash was made again with the current parameters.
    pub rehashed: bool,
}

/// How a login attempt ended.
pub enum LoginOutcome {
    SignedIn(Box<SignedIn>),
    /// Wrong login ID or password (one message for both).
    Failed {
        message: &'static str,
    },
    /// Refused before the password was checked: wait `retry_after_secs`.
    Throttled {
        retry_after_secs: u64,
        message: String,
    },
    /// The password could not be checked: every hashing slot stayed taken.
    Busy {
        retry_after_secs: u64,
        message: &'static str,
    },
}

/// A login ID or e-mail address typed on the password-reset request.
pub struct LoginOrEmail(String);

impl LoginOrEmail {
    /// Takes the normalised input (`text::normalize_halfwidth_field`).
    pub fn parse(typed: &str) -> Result<LoginOrEmail, &'static str> {
        if typed.is_empty() || typed.len() > TARGET_MAX_BYTES {
            Err(LOGIN_OR_EMAIL_MISSING)
        } else {
            Ok(LoginOrEmail(typed.to_owned()))
        }
    }
}

/// The SHA-256 of a reset token: what a browser keeps between the mailed
/// link and the new-password form.
pub type ResetKey = [u8; 32];

/// What was typed on the new-password form.
pub struct NewPasswordInput<'a> {
    pub password: &'a str,
    pub confirm: &'a str,
}

/// Why a new password was not accepted (one message at a time).
#[derive(Debug, PartialEq, Eq)]
pub enum NewPasswordError {
    /// The password breaks a rule (format, common, the same as the login ID).
    Password(String),
    /// The confirmation differs.
    Confirmation(&'static str),
}

/// How a password reset ended.
#[derive(Debug, PartialEq, Eq)]
pub enum ResetOutcome {
    /// Saved: every session and every other link of the account has ended.
    Saved {
        user_id: u64,
    },
    /// The link has expired, was used, or was outdated by a password change.
    LinkInvalid,
    Refused(NewPasswordError),
}

/// True when the account still has an initial password and it has expired.
fn initial_expired(user: &UserRecord) -> bool {
    password::is_initial(&user.password_hash)
        && user
            .initial_password_expires_at
            .is_some_and(|at| at <= now())
}

/// The login ID as shown in the log (bounded; `Debug` escapes it).
fn shown(login_id: &str) -> &str {
    login_id
        .char_indices()
        .nth(64)
        .map_or(login_id, |(i, _)| &login_id[..i])
}

/// The audit detail of a reminder request.
fn reminder_detail(known: bool, limited: Option<&str>) -> String {
    match (known, limited) {
        (true, None) => "mail queued".to_owned(),
        (true, Some(why)) => format!("not sent: {why}"),
        (false, None) => "no such account".to_owned(),
        (false, Some(why)) => format!("no such account; {why}"),
    }
}

/// The new password if it follows the rules, is not the account's login ID
/// and matches its confirmation.
pub(super) fn check_new_password(
    login_id: &str,
    input: &NewPasswordInput<'_>,
) -> Result<Password, NewPasswordError> {
    let parsed = Password::parse(input.password).and_then(|p| match LoginId::parse(login_id) {
        Ok(id) => p.check_against(&id).map(|()| p),
        Err(_) => Ok(p),
    });
    let password = parsed.map_err(NewPasswordError::Password)?;
    if normalize_halfwidth_field(input.password) != normalize_halfwidth_field(input.confirm) {
        return Err(NewPasswordError::Confirmation(CONFIRMATION_MISMATCH));
    }
    Ok(password)
}

/// What マイページ shows of an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    /// `姓 名`; empty when the account has no person.
    pub name: String,
    pub login_id: String,
    pub email: String,
    /// The association the person belongs to, if any.
    pub association: Option<crate::domain::AssociationId>,
}

/// One reminder request, ready to be written.
struct Reminder {
    kind: AuditKind,
    /// The address or login ID as typed.
    target: String,
    ip: IpAddr,
    user: Option<UserRecord>,
    limited: Option<&'static str>,
    subject: String,
    body: String,
    /// The reset token to store with the mail.
    reset: Option<ResetKey>,
}

impl Accounts<'_> {
    /// マイページ: what the signed-in account shows of itself; `None` when
    /// the account no longer exists.
    pub async fn profile(&self, user_id: u64) -> anyhow::Result<Option<Profile>> {
        let user = self.store.read(move |tx| users::get(tx, user_id)).await?;
        Ok(user.map(|u| Profile {
            name: u.display_name(),
            login_id: u.login_id,
            email: u.email,
            association: u.association,
        }))
    }

    /// Logs in: the attempt is counted (or refused) before its password is
    /// checked, an unknown ID is checked against the dummy hash, an old hash
    /// is made again, and every outcome is audited.
    pub async fn log_in(
        &self,
        attempt: LoginAttempt,
        ip: IpAddr,
        device_cookie: Option<&str>,
    ) -> anyhow::Result<LoginOutcome> {
        let LoginAttempt { login_id, password } = attempt;
        let lookup = login_id.clone();
        let user = self
            .store
            .read_now(move |tx| users::by_login_id(tx, &lookup))?;
        let device = match &user {
            Some(u) => self.login_limiter.device_for(device_cookie, u).await?,
            None => None,
        };
        // Counted before the password is checked; refused without checking it.
        let keys = login_limiter::keys_for(ip, &login_id, device.as_deref());
        let reservation = match self.login_limiter.reserve(keys).await? {
            Ok(r) => r,
            Err(t) => {
                let user_id = user.as_ref().map(|u| u.id);
                return self.throttled(&login_id, ip, user_id, t).await;
            }
        };
        let matches = match self.check_password(user.as_ref(), password.clone()).await {
            Ok(m) => m,
            Err(e) if password::is_busy(&e) => {
                return self.busy(&login_id, ip, reservation).await;
            }
            Err(e) => return Err(e),
        };
        let known_id = user.as_ref().map(|u| u.id);
        // An imported member's initial password past its date: said only
        // once the password itself matched.
        if let Some(u) = user.as_ref().filter(|u| matches && initial_expired(u)) {
            tracing::warn!(user_id = u.id, addr = %ip, "login refused: initial password expired");
            let entry = AuditEntry::new(AuditKind::LoginFailed)
                .user(u.id)
                .login_id(&login_id)
                .addr(ip)
                .detail("initial password expired");
            self.store.audit(entry).await?;
            return Ok(LoginOutcome::Failed {
                message: INITIAL_PASSWORD_EXPIRED,
            });
        }
        let Some(user) = user.filter(|_| matches) else {
            tracing::warn!(login_id = ?shown(&login_id), addr = %ip, "login failed");
            let mut entry = AuditEntry::new(AuditKind::LoginFailed)
                .login_id(&login_id)
                .addr(ip);
            entry.user_id = known_id;
            self.store.audit(entry).await?;
            return Ok(LoginOutcome::Failed {
                message: LOGIN_FAILED,
            });
        };
        let rehash = self.rehash(&user, password).await;
        let known_device = device.is_some();
        let rehashed = self
            .record_login(&user, &login_id, ip, known_device, reservation, rehash)
            .await?;
        // The browser is remembered for this account (the limiter's device).
        let device_cookie = self
            .login_limiter
            .device_cookie(device_cookie, &user, self.config.is_https())
            .await?;
        tracing::info!(user_id = user.id, addr = %ip, rehashed, "logged in");
        Ok(LoginOutcome::SignedIn(Box::new(SignedIn {
            user,
            device_cookie,
            rehashed,
        })))
    }

    /// Checks `typed` against the account's hash, or against the dummy hash
    /// of the current cost when there is no account (the same argon2 work).
    async fn check_password(
        &self,
        user: Option<&UserRecord>,
        typed: String,
    ) -> anyhow::Result<bool> {
        let hash = match user {
            Some(u) => u.password_hash.clone(),
            None => self.hasher.dummy_hash().await?,
        };
        if password::is_initial(&hash) {
            // An imported member's keyed hash, after the same argon2 work
            // as any other login, so that timing does not tell them apart.
            let dummy = self.hasher.dummy_hash().await?;
            self.hasher.verify(typed.clone(), dummy).await?;
            let key = crate::store::imports::initial_key(self.store).await?;
            return Ok(password::verify_initial(&key, &typed, &hash));
        }
        self.hasher.verify(typed, hash).await
    }

    /// A new hash of `typed` when the stored one was made with older
    /// parameters. A failure only skips it: the next login tries again.
    async fn rehash(&self, user: &UserRecord, typed: String) -> Option<String> {
        if password::is_initial(&user.password_hash)
            || !password::needs_rehash(&user.password_hash, self.hasher.params())
        {
            return None;
        }
        match self.hasher.hash(typed).await {
            Ok(h) => Some(h),
            Err(e) => {
                tracing::warn!(user_id = user.id, error = %e, "password re-hash skipped");
                None
            }
        }
    }

    /// The successful attempt handed back, the new hash (only if the
    /// password did not change meanwhile) and the audit entry: one
    /// transaction. True when the hash was replaced.
    async fn record_login(
        &self,
        user: &UserRecord,
        login_id: &str,
        ip: IpAddr,
        known_device: bool,
        reservation: Reservation,
        rehash: Option<String>,
    ) -> anyhow::Result<bool> {
        let mut entry = AuditEntry::new(AuditKind::LoginSucceeded)
            .user(user.id)
            .login_id(login_id)
            .addr(ip);
        if known_device {
            entry = entry.detail("known device");
        }
        let (uid, verified_hash) = (user.id, user.password_hash.clone());
        self.store
            .write_ok(move |tx| {
                login_attempts::refund(tx, &reservation.keys)?;
                last_logins::set(tx, uid, now())?;
                let rehashed = match rehash {
                    Some(new_hash) => users::upgrade_hash(tx, uid, &verified_hash, new_hash)?,
                    None => false,
                };
                let entry = if rehashed {
                    let detail = entry.detail.take().map_or_else(
                        || "password re-hashed".to_owned(),
                        |d| format!("{d}; password re-hashed"),
                    );
                    entry.detail(detail)
                } else {
                    entry
                };
                audit::record(tx, entry)?;
                Ok(rehashed)
            })
            .await
    }

    /// The attempt was refused before its password was checked: audited and
    /// logged once per key and minute (`LoginLimiter::should_report`).
    async fn throttled(
        &self,
        login_id: &str,
        ip: IpAddr,
        user_id: Option<u64>,
        t: Throttled,
    ) -> anyhow::Result<LoginOutcome> {
        let by = match t.key.split_once(':').map(|(k, _)| k) {
            Some("ip") => "address",
            Some("dev") => "device",
            _ => "account",
        };
        if self.login_limiter.should_report(&t.key) {
            tracing::warn!(login_id = ?shown(login_id), addr = %ip, by, retry_after = t.retry_after_secs, "login throttled");
            let mut entry = AuditEntry::new(AuditKind::LoginThrottled)
                .login_id(login_id)
                .addr(ip)
                .detail(format!("by {by}; retry after {} s", t.retry_after_secs));
            entry.user_id = user_id;
            self.store.audit(entry).await?;
        } else {
            tracing::debug!(login_id = ?shown(login_id), addr = %ip, by, "login throttled (reported already)");
        }
        Ok(LoginOutcome::Throttled {
            retry_after_secs: t.retry_after_secs,
            message: format!(
                "{LOGIN_THROTTLED}{}ほど待ってから再度お試しください。",
                t.wait_text()
            ),
        })
    }

    /// Every hashing slot stayed taken: the attempt is handed back (it was
    /// never checked).
    async fn busy(
        &self,
        login_id: &str,
        ip: IpAddr,
        reservation: Reservation,
    ) -> anyhow::Result<LoginOutcome> {
        tracing::warn!(login_id = ?shown(login_id), addr = %ip, "login refused: password hashing busy");
        self.login_limiter.refund(reservation).await?;
        Ok(LoginOutcome::Busy {
            retry_after_secs: password::BUSY_RETRY_AFTER_SECS,
            message: password::BUSY_MESSAGE,
        })
    }

    /// Why a reminder may not be mailed now, if it may not: too many for one
    /// target lately, or the client has used up its hourly allowance
    /// (`mail::limit`). Counted whether or not the target exists, so that
    /// the limits tell nothing about who is registered.
    pub(super) fn mail_refusal(&self, target: &str, client: IpAddr) -> Option<&'static str> {
        let key = format!("forgot:{}", target.to_ascii_lowercase());
        if self.throttle.is_blocked(&key, MAILS_PER_TARGET) {
            tracing::warn!(%client, "reminder not sent: too many for one target");
            return Some("too many for this target");
        }
        if !self.mail_limit.allow(client) {
            tracing::warn!(%client, "reminder not sent: too many mail requests from one client");
            return Some("too many from this client");
        }
        self.throttle.fail(&key);
        None
    }

    /// ログインIDをお忘れの方: mails the login ID to the registered address.
    /// The same work whether or not the address is known: one read, the
    /// mail rendered, one write (the audit entry, and the mail only for a
    /// known address), so that timing does not tell them apart.
    pub async fn request_login_id_reminder(&self, email: &Email, ip: IpAddr) -> anyhow::Result<()> {
        let email = email.as_str().to_owned();
        let limited = self.mail_refusal(&email, ip);
        let lookup = email.clone();
        let user = self
            .store
            .read(move |tx| users::by_email(tx, &lookup))
            .await?;
        let (subject, body) = templates::login_id_reminder(
            self.config,
            user.as_ref().map_or("", |u| u.login_id.as_str()),
        );
        self.record_reminder(Reminder {
            kind: AuditKind::LoginIdReminderRequested,
            target: email,
            ip,
            user,
            limited,
            subject,
            body,
            reset: None,
        })
        .await
    }

    /// パスワードをお忘れの方: mails a one-hour, single-use reset link to the
    /// account named by its login ID or address, with the same work whether
    /// or not it is known (see `request_login_id_reminder`).
    pub async fn request_password_reset(
        &self,
        target: LoginOrEmail,
        ip: IpAddr,
    ) -> anyhow::Result<()> {
        let LoginOrEmail(typed) = target;
        let limited = self.mail_refusal(&typed, ip);
        let lookup = typed.clone();
        let user = self
            .store
            .read(move |tx| match users::by_login_id(tx, &lookup)? {
                Some(u) => Ok(Some(u)),
                None if lookup.contains('@') => users::by_email(tx, &lookup),
                None => Ok(None),
            })
            .await?;
        let (token, h) = tokens::new_token();
        let link = format!("{}{RESET_LINK}?token={token}", self.config.base_url);
        let (subject, body) = templates::password_reset(self.config, &link);
        self.record_reminder(Reminder {
            kind: AuditKind::PasswordResetRequested,
            target: typed,
            ip,
            user,
            limited,
            subject,
            body,
            reset: Some(h),
        })
        .await
    }

    /// Writes a reminder request: its audit entry, and for a known account
    /// that is not limited, the mail (and the reset token it carries).
    async fn record_reminder(&self, r: Reminder) -> anyhow::Result<()> {
        let queued = self
            .store
            .write_ok(move |tx| {
                let mut entry = AuditEntry::new(r.kind)
                    .login_id(r.target)
                    .addr(r.ip)
                    .detail(reminder_detail(r.user.is_some(), r.limited));
                let mut queued = false;
                if let Some(u) = &r.user {
                    entry = entry.user(u.id);
                    if r.limited.is_none() {
                        if let Some(h) = &r.reset {
                            resets::insert(tx, h, u.id)?;
                        }
                        outbox::enqueue(tx, &u.email, &r.subject, r.body)?;
                        queued = true;
                    }
                }
                audit::record(tx, entry)?;
                Ok(queued)
            })
            .await?;
        if queued {
            self.mail.wake();
        }
        Ok(())
    }

    /// The mailed reset link was opened: the key of its token if it is still
    /// usable (audited), `None` otherwise.
    pub async fn open_reset_link(
        &self,
        token: &str,
        ip: IpAddr,
    ) -> anyhow::Result<Option<ResetKey>> {
        if token.is_empty() || token.len() > TOKEN_MAX_BYTES {
            return Ok(None);
        }
        let h = tokens::hash(token);
        let Some(user_id) = self.reset_account(h).await? else {
            return Ok(None);
        };
        self.store
            .audit(
                AuditEntry::new(AuditKind::PasswordResetLinkOpened)
                    .user(user_id)
                    .addr(ip),
            )
            .await?;
        Ok(Some(h))
    }

    /// The account a still-usable reset key belongs to.
    pub async fn reset_account(&self, h: ResetKey) -> anyhow::Result<Option<u64>> {
        self.store.read(move |tx| resets::valid(tx, &h)).await
    }

    /// Sets a new password through a reset link: the token consumed, the
    /// new hash with its bumped session generation (which ends every session
    /// of the account and every other reset link), the notice mail and the
    /// audit entry, in one transaction.
    pub async fn reset_password(
        &self,
        h: ResetKey,
        input: &NewPasswordInput<'_>,
        ip: IpAddr,
    ) -> anyhow::Result<ResetOutcome> {
        let Some(user_id) = self.reset_account(h).await? else {
            return Ok(ResetOutcome::LinkInvalid);
        };
        let user = self.store.read(move |tx| users::get(tx, user_id)).await?;
        let Some(user) = user else {
            return Ok(ResetOutcome::LinkInvalid);
        };
        let password = match check_new_password(&user.login_id, input) {
            Ok(p) => p,
            Err(e) => return Ok(ResetOutcome::Refused(e)),
        };
        let hash = self
            .hasher
            .hash(password.expose_secret().to_owned())
            .await?;
        // Rendered before the write; the account's login ID does not change.
        let notice = templates::password_changed(self.config, &user.login_id, now());
        if !self.save_password(h, hash, notice, ip).await? {
            return Ok(ResetOutcome::LinkInvalid);
        }
        self.mail.wake();
        tracing::info!(user_id, "password reset");
        Ok(ResetOutcome::Saved { user_id })
    }

    /// The write of `reset_password`; false when the link stopped working
    /// meanwhile (nothing is written then).
    async fn save_password(
        &self,
        h: ResetKey,
        hash: String,
        (subject, body): (String, String),
        ip: IpAddr,
    ) -> anyhow::Result<bool> {
        self.store
            .write_ok(move |tx| {
                let Some(id) = resets::consume(tx, &h)? else {
                    return Ok(false);
                };
                let Some(user) = users::set_password(tx, id, hash)? else {
                    return Ok(false);
                };
                outbox::enqueue(tx, &user.email, &subject, body)?;
                audit::record(
                    tx,
                    AuditEntry::new(AuditKind::PasswordChanged)
                        .user(id)
                        .login_id(&user.login_id)
                        .addr(ip)
                        .detail("reset link"),
                )?;
                Ok(true)
            })
            .await
    }

    /// The first login of an account with a one-time password: the new
    /// password (the registration's rules, not the login ID, confirmed)
    /// replaces it, with its audit entry, in one transaction. Every session
    /// of the account ends (the generation is bumped); the screen signs its
    /// own session in again with the returned account.
    pub async fn replace_one_time_password(
        &self,
        user_id: u64,
        input: &NewPasswordInput<'_>,
        ip: IpAddr,
    ) -> anyhow::Result<OneTimeOutcome> {
        let user = self.store.read(move |tx| users::get(tx, user_id)).await?;
        let Some(user) = user.filter(|u| u.must_change_password) else {
            return Ok(OneTimeOutcome::NotRequired);
        };
        let password = match check_new_password(&user.login_id, input) {
            Ok(p) => p,
            Err(e) => return Ok(OneTimeOutcome::Refused(e)),
        };
        let hash = self
            .hasher
            .hash(password.expose_secret().to_owned())
            .await?;
        let saved = self
            .store
            .write_ok(move |tx| {
                let Some(user) = users::replace_one_time_password(tx, user_id, hash)? else {
                    return Ok(None);
                };
                audit::record(
                    tx,
                    AuditEntry::new(AuditKind::PasswordChanged)
                        .user(user_id)
                        .login_id(&user.login_id)
                        .addr(ip)
                        .detail("one-time password replaced at first login"),
                )?;
                Ok(Some(user))
            })
            .await?;
        Ok(match saved {
            Some(user) => {
                tracing::info!(user_id, "one-time password replaced");
                OneTimeOutcome::Saved(Box::new(user))
            }
            None => OneTimeOutcome::NotRequired,
        })
    }
}

/// How the change of a one-time password ended.
#[derive(Debug)]
pub enum OneTimeOutcome {
    /// Saved: sign the session in again with this account.
    Saved(Box<UserRecord>),
    /// The account has no one-time password to replace (changed already).
    NotRequired,
    Refused(NewPasswordError),
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{
        auth::password::hash_blocking,
        config::Argon2Params,
        store::{audit::AuditEntry, users::Role},
    };

    const PASSWORD: &str = "Kx7!mQ2pZ";

    /// Everything the use cases borrow, owned by the test.
    struct Server {
        _dir: tempfile::TempDir,
        store: Store,
        config: Config,
        hasher: Hasher,
        login_limiter: LoginLimiter,
        throttle: Throttle,
        mail_limit: MailLimiter,
        mail: MailSignal,
    }

    impl Server {
        fn new(argon2: Argon2Params) -> Server {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(dir.path()).unwrap();
            Server {
                config: Config::for_tests(dir.path().to_owned(), None),
                hasher: Hasher::new(1, argon2),
                login_limiter: LoginLimiter::new(store.clone()),
                throttle: Throttle::default(),
                mail_limit: MailLimiter::new(100, Duration::from_secs(3600)),
                mail: MailSignal::default(),
                store,
                _dir: dir,
            }
        }

        fn accounts(&self) -> Accounts<'_> {
            Accounts {
                store: &self.store,
                config: &self.config,
                hasher: &self.hasher,
                login_limiter: &self.login_limiter,
                throttle: &self.throttle,
                mail_limit: &self.mail_limit,
                mail: &self.mail,
            }
        }

        /// An account `doctor0001` whose password hash was made with `p`.
        async fn account(&self, p: Argon2Params) -> u64 {
            let user = UserRecord {
                initial_password_expires_at: None,
                membership: None,
                association: None,
                id: 0,
                login_id: "doctor0001".into(),
                email: "doctor@example.jp".into(),
                registry_number: "300001".into(),
                password_hash: hash_blocking(PASSWORD, p).unwrap(),
                role: Role::Physician,
                person: None,
                session_generation: 0,
                must_change_password: false,
                staff_name: None,
                terms_version: "t".into(),
                terms_agreed_at: 0,
                terms_history: Vec::new(),
                created_at: 0,
            };
            self.store
                .write(move |tx| users::create(tx, user))
                .await
                .unwrap()
                .unwrap()
        }

        async fn audit(&self) -> Vec<AuditEntry> {
            self.store
                .read(|tx| audit::since(tx, 0, 100))
                .await
                .unwrap()
        }

        async fn mails(&self) -> Vec<outbox::Mail> {
            self.store.read(|tx| outbox::recent(tx, 100)).await.unwrap()
        }

        async fn user(&self, id: u64) -> UserRecord {
            self.store
                .read(move |tx| users::get(tx, id))
                .await
                .unwrap()
                .unwrap()
        }
    }

    fn ip() -> IpAddr {
        "192.0.2.1".parse().unwrap()
    }

    async fn log_in(s: &Server, login_id: &str, password: &str) -> LoginOutcome {
        s.accounts()
            .log_in(LoginAttempt::new(login_id, password), ip(), None)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_wrong_password_and_an_unknown_id_do_the_same_writes() {
        let s = Server::new(Argon2Params::TESTING);
        let id = s.account(Argon2Params::TESTING).await;
        for login_id in ["doctor0001", "nobody0001"] {
            let outcome = log_in(&s, login_id, "Wrong!pass1").await;
            assert!(matches!(outcome, LoginOutcome::Failed { message } if message == LOGIN_FAILED));
        }
        let audit = s.audit().await;
        let failed: Vec<_> = audit
            .iter()
            .filter(|e| e.kind == AuditKind::LoginFailed)
            .collect();
        assert_eq!(failed.len(), 2, "{audit:?}");
        assert_eq!(failed[0].user_id, Some(id));
        assert_eq!(failed[1].user_id, None);
        // Both attempts are held against their ID and the one address.
        let held = |key: String| {
            let s = &s.store;
            s.read_now(move |tx| login_attempts::get(tx, &key))
                .unwrap()
                .map(|a| a.count)
        };
        assert_eq!(held(login_limiter::account_key("doctor0001")), Some(1));
        assert_eq!(held(login_limiter::account_key("nobody0001")), Some(1));
        assert_eq!(held(login_limiter::address_key(ip())), Some(2));
    }

    #[tokio::test]
    async fn a_throttled_attempt_never_reaches_the_hasher() {
        // Every run of this hasher fails, so reaching it is an error.
        let broken = Argon2Params {
            memory_kib: 0,
            iterations: 0,
        };
        let s = Server::new(broken);
        let reached = s
            .accounts()
            .log_in(LoginAttempt::new("other0001", PASSWORD), ip(), None)
            .await;
        assert!(reached.is_err(), "the hasher is broken");
        let keys = || login_limiter::keys_for(ip(), "nobody0001", None);
        for _ in 0..login_limiter::ACCOUNT.free {
            s.login_limiter.reserve(keys()).await.unwrap().unwrap();
        }
        let outcome = log_in(&s, "nobody0001", PASSWORD).await;
        let LoginOutcome::Throttled {
            retry_after_secs,
            message,
        } = outcome
        else {
            panic!("not throttled");
        };
        assert_eq!(retry_after_secs, 5);
        assert_eq!(
            message,
            "ログインに続けて失敗したため、しばらくの間ログインできません。5秒ほど待ってから再度お試しください。"
        );
        let audit = s.audit().await;
        assert!(
            audit.iter().any(|e| e.kind == AuditKind::LoginThrottled),
            "{audit:?}"
        );
    }

    #[tokio::test]
    async fn a_login_makes_an_old_hash_again_and_hands_its_attempt_back() {
        let s = Server::new(Argon2Params::TESTING);
        let old = Argon2Params {
            memory_kib: 32,
            iterations: 1,
        };
        let id = s.account(old).await;
        // Full-width ASCII counts as half-width, as at registration.
        let outcome = log_in(&s, "ｄｏｃｔｏｒ0001", PASSWORD).await;
        let LoginOutcome::SignedIn(signed_in) = outcome else {
            panic!("not signed in");
        };
        assert!(signed_in.rehashed);
        assert_eq!(signed_in.user.id, id);
        assert_eq!(signed_in.device_cookie.name(), login_limiter::DEVICE_COOKIE);
        let user = s.user(id).await;
        assert!(!password::needs_rehash(
            &user.password_hash,
            Argon2Params::TESTING
        ));
        assert_eq!(user.session_generation, 0, "no session ends");
        let left = s.store.read_now(login_attempts::count).unwrap();
        assert_eq!(left, 0, "the successful attempt is handed back");
        let audit = s.audit().await;
        let ok = audit
            .iter()
            .find(|e| e.kind == AuditKind::LoginSucceeded)
            .unwrap();
        assert_eq!(ok.detail.as_deref(), Some("password re-hashed"));
    }

    #[tokio::test]
    async fn reminders_do_the_same_writes_for_known_and_unknown_accounts() {
        let s = Server::new(Argon2Params::TESTING);
        let id = s.account(Argon2Params::TESTING).await;
        let a = s.accounts();
        for email in ["doctor@example.jp", "nobody@example.jp"] {
            let email = Email::parse(email).unwrap();
            a.request_login_id_reminder(&email, ip()).await.unwrap();
        }
        for target in ["doctor0001", "nobody0001"] {
            let target = LoginOrEmail::parse(target).unwrap();
            a.request_password_reset(target, ip()).await.unwrap();
        }
        let details: Vec<_> = s
            .audit()
            .await
            .into_iter()
            .map(|e| (e.kind, e.user_id, e.detail.unwrap_or_default()))
            .collect();
        let (id_kind, reset_kind) = (
            AuditKind::LoginIdReminderRequested,
            AuditKind::PasswordResetRequested,
        );
        assert_eq!(
            details,
            [
                (id_kind, Some(id), "mail queued".to_owned()),
                (id_kind, None, "no such account".to_owned()),
                (reset_kind, Some(id), "mail queued".to_owned()),
                (reset_kind, None, "no such account".to_owned()),
            ]
        );
        let mails = s.mails().await;
        assert_eq!(mails.len(), 2);
        assert!(mails.iter().all(|m| m.to == "doctor@example.jp"));
    }

    #[tokio::test]
    async fn the_sixth_reminder_for_one_target_is_audited_but_not_mailed() {
        let s = Server::new(Argon2Params::TESTING);
        s.account(Argon2Params::TESTING).await;
        let email = Email::parse("Doctor@example.jp").unwrap();
        for _ in 0..=MAILS_PER_TARGET {
            s.accounts()
                .request_login_id_reminder(&email, ip())
                .await
                .unwrap();
        }
        assert_eq!(s.mails().await.len(), 5);
        let last = s.audit().await.pop().unwrap();
        assert_eq!(
            last.detail.as_deref(),
            Some("not sent: too many for this target")
        );
    }

    #[tokio::test]
    async fn a_reset_link_sets_a_password_once_and_ends_the_sessions() {
        let s = Server::new(Argon2Params::TESTING);
        let id = s.account(Argon2Params::TESTING).await;
        let a = s.accounts();
        let target = LoginOrEmail::parse("doctor@example.jp").unwrap();
        a.request_password_reset(target, ip()).await.unwrap();
        let mail = s.mails().await.pop().unwrap();
        let token = mail
            .body
            .split_once("?token=")
            .and_then(|(_, rest)| rest.lines().next())
            .unwrap()
            .to_owned();
        assert_eq!(a.open_reset_link("", ip()).await.unwrap(), None);
        let h = a.open_reset_link(&token, ip()).await.unwrap().unwrap();
        let try_with = |password: &'static str, confirm: &'static str| async move {
            let input = NewPasswordInput { password, confirm };
            a.reset_password(h, &input, ip()).await.unwrap()
        };
        assert!(matches!(
            try_with("doctor0001", "doctor0001").await,
            ResetOutcome::Refused(NewPasswordError::Password(_))
        ));
        assert_eq!(
            try_with("Nw8!rT4vX", "Nw8!rT4vY").await,
            ResetOutcome::Refused(NewPasswordError::Confirmation(CONFIRMATION_MISMATCH))
        );
        assert_eq!(s.user(id).await.session_generation, 0, "nothing saved yet");
        assert_eq!(
            try_with("Nw8!rT4vX", "Ｎｗ8!rT4vX").await,
            ResetOutcome::Saved { user_id: id }
        );
        let user = s.user(id).await;
        assert_eq!(user.session_generation, 1);
        assert!(password::verify_blocking("Nw8!rT4vX", &user.password_hash).unwrap());
        assert_eq!(
            try_with("Nw8!rT4vZ", "Nw8!rT4vZ").await,
            ResetOutcome::LinkInvalid
        );
        assert_eq!(a.reset_account(h).await.unwrap(), None);
        let mails = s.mails().await;
        assert_eq!(mails.len(), 2, "the link, then the notice");
        let changed = s
            .audit()
            .await
            .into_iter()
            .filter(|e| e.kind == AuditKind::PasswordChanged)
            .count();
        assert_eq!(changed, 1);
    }

    #[test]
    fn a_reset_target_is_required_and_bounded() {
        assert_eq!(LoginOrEmail::parse("").err(), Some(LOGIN_OR_EMAIL_MISSING));
        assert!(LoginOrEmail::parse(&"a".repeat(101)).is_err());
        assert!(LoginOrEmail::parse(&"a".repeat(100)).is_ok());
    }
}
