//! Every table of the database, in one place, with the schema version.
//!
//! Values are JSON-encoded records (see each aggregate's module); keys are
//! typed. Secondary indexes map a normalised key to a primary id (unique
//! keys) or to a set of ids (multimap tables, for keys people share).

use redb::{MultimapTableDefinition, TableDefinition, WriteTransaction};

/// Bumped when a table's layout changes incompatibly; `store::migrations`
/// brings older databases up to it at start-up.
///
/// 1. accounts with the registration form as a JSON `profile`;
/// 2. accounts with a typed [`Person`](crate::domain::person::Person) and
///    the person indexes (`persons_by_*`);
/// 3. listed 所属学会 under the official 分科会番号 of 日本医学会 (schema 2
///    used numbers of the old list of its own).
pub const SCHEMA_VERSION: u32 = 3;

/// Schema version and generated secrets.
pub const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Named sequences for ids.
pub const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");

/// User id → account, with the person it belongs to (person id = user id).
pub const USERS: TableDefinition<u64, &[u8]> = TableDefinition::new("users");
/// Lower-cased login ID → user id.
pub const USERS_BY_LOGIN: TableDefinition<&str, u64> = TableDefinition::new("users_by_login");
/// Lower-cased e-mail address → user id.
pub const USERS_BY_EMAIL: TableDefinition<&str, u64> = TableDefinition::new("users_by_email");
/// 医籍登録番号 → user id.
pub const USERS_BY_REGISTRY: TableDefinition<&str, u64> = TableDefinition::new("users_by_registry");

/// Current and former フリガナ (`person::kana_key`) → person ids.
pub const PERSONS_BY_KANA: MultimapTableDefinition<&str, u64> =
    MultimapTableDefinition::new("persons_by_kana");
/// Current and former 氏名 (`person::name_key`) → person ids.
pub const PERSONS_BY_NAME: MultimapTableDefinition<&str, u64> =
    MultimapTableDefinition::new("persons_by_name");
/// Mobile, tel and fax, digits only (`person::phone_key`) → person ids.
pub const PERSONS_BY_PHONE: MultimapTableDefinition<&str, u64> =
    MultimapTableDefinition::new("persons_by_phone");

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

/// Association id → association (医師会) of the tree.
pub const ASSOCIATIONS: TableDefinition<u64, &[u8]> = TableDefinition::new("associations");
/// Association name → association id (names are unique).
pub const ASSOCIATIONS_BY_NAME: TableDefinition<&str, u64> =
    TableDefinition::new("associations_by_name");

/// Audit entry id (in time order) → what happened, to whom, from where.
pub const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("audit");

/// Record an audit entry is about (`audit::Target::key`, e.g. `person:12`)
/// → audit entry ids: a record's history.
pub const AUDIT_BY_TARGET: MultimapTableDefinition<&str, u64> =
    MultimapTableDefinition::new("audit_by_target");

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
    tx.open_multimap_table(PERSONS_BY_KANA)?;
    tx.open_multimap_table(PERSONS_BY_NAME)?;
    tx.open_multimap_table(PERSONS_BY_PHONE)?;
    tx.open_table(EMAIL_TOKENS)?;
    tx.open_table(OUTBOX)?;
    tx.open_table(OUTBOX_PENDING)?;
    tx.open_table(SESSIONS)?;
    tx.open_table(ANNOUNCEMENTS)?;
    tx.open_table(PASSWORD_RESETS)?;
    tx.open_table(INQUIRIES)?;
    tx.open_table(AUDIT)?;
    tx.open_multimap_table(AUDIT_BY_TARGET)?;
    tx.open_table(ASSOCIATIONS)?;
    tx.open_table(ASSOCIATIONS_BY_NAME)?;
    tx.open_table(LOGIN_ATTEMPTS)?;
    Ok(())
}
