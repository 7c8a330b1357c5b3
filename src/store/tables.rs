//! Every table of the database, in one place, with the schema version.
//!
//! Values are JSON-encoded records (see each aggregate's module); keys are
//! typed. Secondary indexes map a normalised key to a primary id.

use redb::{TableDefinition, WriteTransaction};

/// Bumped when a table's layout changes incompatibly.
pub const SCHEMA_VERSION: u32 = 1;

/// Schema version and generated secrets.
pub const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Named sequences for ids.
pub const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");

/// User id → user record.
pub const USERS: TableDefinition<u64, &[u8]> = TableDefinition::new("users");
/// Lower-cased login ID → user id.
pub const USERS_BY_LOGIN: TableDefinition<&str, u64> = TableDefinition::new("users_by_login");
/// Lower-cased e-mail address → user id.
pub const USERS_BY_EMAIL: TableDefinition<&str, u64> = TableDefinition::new("users_by_email");
/// 医籍登録番号 → user id.
pub const USERS_BY_REGISTRY: TableDefinition<&str, u64> = TableDefinition::new("users_by_registry");

/// SHA-256 of an e-mail verification token → token record.
pub const EMAIL_TOKENS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("email_tokens");

/// Mail id → queued or delivered mail.
pub const OUTBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("outbox");
/// Mail ids still to be delivered → Unix time of the next attempt.
pub const OUTBOX_PENDING: TableDefinition<u64, i64> = TableDefinition::new("outbox_pending");

/// SHA-256 of a session id → session record.
pub const SESSIONS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("sessions");

/// SHA-256 of a password-reset token → reset record.
pub const PASSWORD_RESETS: TableDefinition<&[u8; 32], &[u8]> =
    TableDefinition::new("password_resets");

/// Inquiry id → message sent with the inquiry form.
pub const INQUIRIES: TableDefinition<u64, &[u8]> = TableDefinition::new("inquiries");

/// Announcement id → announcement on the login page.
pub const ANNOUNCEMENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("announcements");

/// Audit entry id (in time order) → what happened, to whom, from where.
pub const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("audit");

/// Login throttling key (`ip:…`, `id:…`, `dev:…`) → attempts counted
/// against it (see `store::login_attempts`).
pub const LOGIN_ATTEMPTS: TableDefinition<&str, &[u8]> = TableDefinition::new("login_attempts");

/// Creates every table that does not exist yet.
pub fn create_all(tx: &WriteTransaction) -> Result<(), redb::TableError> {
    tx.open_table(META)?;
    tx.open_table(COUNTERS)?;
    tx.open_table(USERS)?;
    tx.open_table(USERS_BY_LOGIN)?;
    tx.open_table(USERS_BY_EMAIL)?;
    tx.open_table(USERS_BY_REGISTRY)?;
    tx.open_table(EMAIL_TOKENS)?;
    tx.open_table(OUTBOX)?;
    tx.open_table(OUTBOX_PENDING)?;
    tx.open_table(SESSIONS)?;
    tx.open_table(ANNOUNCEMENTS)?;
    tx.open_table(PASSWORD_RESETS)?;
    tx.open_table(INQUIRIES)?;
    tx.open_table(AUDIT)?;
    tx.open_table(LOGIN_ATTEMPTS)?;
    Ok(())
}
