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
/// 3. name keys with the variant characters of names folded, given names
///    indexed alone, the birth-date index and the people search's facets;
/// 4. listed 所属学会 under the official 分科会番号 of 日本医学会 (schemas 2
///    and 3 used numbers of the old list of its own);
/// 5. the people search's facets holding each person's name keys.
pub const SCHEMA_VERSION: u32 = 5;

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

/// Birth date (`person::birth_key`, `YYYYMMDD`) → person ids.
pub const PERSONS_BY_BIRTH: MultimapTableDefinition<&str, u64> =
    MultimapTableDefinition::new("persons_by_birth");
/// Person id → what the people search filters and sorts by
/// (`person_index::Facet`): association, state, registration time, フリガナ.
/// Written with every write of a person's account (`users::put`).
pub const PERSON_FACETS: TableDefinition<u64, &[u8]> = TableDefinition::new("person_facets");

/// SHA-256 of an e-mail verification token → token record.
pub const EMAIL_TOKENS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("email_tokens");

/// SHA-256 of an account's e-mail confirmation token (first login, change
/// of address) → the address it confirms (`store::email_changes`).
pub const EMAIL_CHANGES: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("email_changes");

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

/// User id → Unix time of the account's last login.
pub const LAST_LOGINS: TableDefinition<u64, i64> = TableDefinition::new("last_logins");
/// Postcard batch id → the ID・パスワード通知ハガキ of one import or
/// re-issue, with the initial passwords until the batch is closed
/// (`store::postcards`).
pub const POSTCARD_BATCHES: TableDefinition<u64, &[u8]> = TableDefinition::new("postcard_batches");

/// SHA-256 of an upload reference → a member-import file checked by a dry
/// run and waiting for 「取り込む」 (`store::imports`).
pub const IMPORT_UPLOADS: TableDefinition<&[u8; 32], &[u8]> =
    TableDefinition::new("import_uploads");

/// Association id → its member-import settings (`store::imports`).
pub const IMPORT_SETTINGS: TableDefinition<u64, &[u8]> = TableDefinition::new("import_settings");

/// Application id → membership procedure (`store::applications`).
pub const APPLICATIONS: TableDefinition<u64, &[u8]> = TableDefinition::new("applications");
/// (association id, queue: 1 waiting for its decision, 2 確認依頼 open)
/// → application ids: the office queues.
pub const APPLICATIONS_BY_QUEUE: MultimapTableDefinition<(u64, u8), u64> =
    MultimapTableDefinition::new("applications_by_queue");
/// Person id → their application ids.
pub const APPLICATIONS_BY_PERSON: MultimapTableDefinition<u64, u64> =
    MultimapTableDefinition::new("applications_by_person");
/// (person id, application kind code) → the open application of that kind:
/// one open application per person and kind.
pub const OPEN_APPLICATIONS: TableDefinition<(u64, u8), u64> =
    TableDefinition::new("open_applications");
/// Person id → memberships, workplace, 送付先 (`store::memberships`).
pub const MEMBERSHIPS: TableDefinition<u64, &[u8]> = TableDefinition::new("memberships");
/// Staff account id → its 連絡用メールアドレス (`store::staff`); not an
/// account's login e-mail (not unique, not used to log in or reset).
pub const STAFF_CONTACTS: TableDefinition<u64, &str> = TableDefinition::new("staff_contacts");

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
    tx.open_multimap_table(PERSONS_BY_BIRTH)?;
    tx.open_table(PERSON_FACETS)?;
    tx.open_table(EMAIL_TOKENS)?;
    tx.open_table(EMAIL_CHANGES)?;
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
    tx.open_table(LAST_LOGINS)?;
    tx.open_table(POSTCARD_BATCHES)?;
    tx.open_table(IMPORT_UPLOADS)?;
    tx.open_table(IMPORT_SETTINGS)?;
    tx.open_table(APPLICATIONS)?;
    tx.open_multimap_table(APPLICATIONS_BY_QUEUE)?;
    tx.open_multimap_table(APPLICATIONS_BY_PERSON)?;
    tx.open_table(OPEN_APPLICATIONS)?;
    tx.open_table(MEMBERSHIPS)?;
    tx.open_table(STAFF_CONTACTS)?;
    Ok(())
}
