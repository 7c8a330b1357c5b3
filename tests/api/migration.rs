//! Databases written by earlier versions open, are migrated at start-up and
//! keep every account: the committed `tests/fixtures/schema-v1.redb` and
//! `schema-v2.redb`, and the maker of such fixtures.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use mamis::{
    app::Application,
    config::Config,
    mail::templates,
    store::{
        DB_FILE,
        person_index::{self, Lookup},
        tables::{META, SCHEMA_VERSION},
        users,
    },
};
use reqwest::StatusCode;

use crate::helpers::{
    Applicant, Browser, MAIL_WAIT, SmtpCapture, TestApp, error_of, link_in, spawn_app_with,
};

/// One account of a fixture: who registered, with which password and form.
pub struct FixtureAccount {
    pub email: &'static str,
    pub login_id: &'static str,
    pub password: &'static str,
    pub registry_number: &'static str,
    /// 氏名 as マイページ greets them (`姓 名`).
    pub display_name: &'static str,
    pub kana: &'static str,
    pub mobile: &'static str,
    pub extra: &'static [(&'static str, &'static str)],
}

/// The accounts of `tests/fixtures/schema-v1.redb` (see its README).
pub const FIXTURE_ACCOUNTS: [FixtureAccount; 3] = [
    // Former name used on mail, graduate school, two societies, tel and fax.
    FixtureAccount {
        email: "sato.hanako@example.jp",
        login_id: "hanako2008",
        password: "Shinryo#2008a",
        registry_number: "456789",
        display_name: "佐藤 花子",
        kana: "サトウ ハナコ",
        mobile: "080-2345-6789",
        extra: &[
            ("former_kana_last", "スズキ"),
            ("former_kana_first", "ハナコ"),
            ("former_name_last", "鈴木"),
            ("former_name_first", "花子"),
            ("use_former_name", "1"),
            ("building", "本駒込ハイツ101"),
            ("tel", "03-3823-2101"),
            ("fax", "03-3823-2102"),
            ("gender", "female"),
            ("sub_depts", "02"),
            ("sub_depts", "05"),
            ("grad_university", "東北大学"),
            ("grad_department", "医学系研究科"),
            ("grad_completion", "2012/3"),
            ("degree_date", "2012/3"),
            ("societies", "日本内科学会"),
            ("societies", "日本小児科学会"),
        ],
    },
    // Only what is required: no building, no tel or fax, no society.
    FixtureAccount {
        email: "tanaka@example.jp",
        login_id: "tanaka1ichiro",
        password: "Byouin!2025z",
        registry_number: "234567",
        display_name: "田中 一郎",
        kana: "タナカ イチロウ",
        mobile: "070-1111-2222",
        extra: &[],
    },
    // A school and a society typed, not chosen from the lists.
    FixtureAccount {
        email: "ito.k@example.jp",
        login_id: "ito@kenji",
        password: "Kanja%3000q",
        registry_number: "345678",
        display_name: "伊藤 健二",
        kana: "イトウ ケンジ",
        mobile: "090-3333-4444",
        extra: &[
            ("gender", "male"),
            ("school", "海外医科大学"),
            ("societies", "地域医療研究会"),
            ("tel", "0120-123-456"),
        ],
    },
];

impl FixtureAccount {
    /// The registration form of this account.
    pub fn fields(&self) -> Vec<(String, String)> {
        let (kana_last, kana_first) = self.kana.split_once(' ').unwrap_or((self.kana, ""));
        let (name_last, name_first) = self
            .display_name
            .split_once(' ')
            .unwrap_or((self.display_name, ""));
        let mut fields: Vec<(&str, &str)> = vec![
            ("login_id", self.login_id),
            ("password", self.password),
            ("registry_number", self.registry_number),
            ("registry_date", "平成20年5月1日"),
            ("kana_last", kana_last),
            ("kana_first", kana_first),
            ("name_last", name_last),
            ("name_first", name_first),
            ("postal_code", "1138621"),
            ("prefecture", "東京都"),
            ("address", "文京区本駒込2-28-16"),
            ("mobile", self.mobile),
            ("birth_date", "1980/4/1"),
            ("main_dept", "01"),
            ("school", "東北大学"),
            ("graduation", "2006/3"),
        ];
        for (k, v) in self.extra {
            let single = !matches!(*k, "sub_depts" | "societies");
            match fields.iter_mut().find(|(fk, _)| single && fk == k) {
                Some(slot) => slot.1 = v,
                None => fields.push((k, v)),
            }
        }
        fields
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }
}

/// Where the committed fixtures are.
fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The shared test app, started on a copy of `tests/fixtures/<name>` as
/// its data folder's database, mailing to a test SMTP server.
async fn spawn_app_on_fixture(name: &str) -> TestApp {
    let source = fixture(name);
    spawn_app_with(move |c| {
        mamis::store::create_private_dir(&c.data_dir).expect("data folder");
        std::fs::copy(&source, c.data_dir.join(DB_FILE)).expect("copy the fixture");
    })
    .await
}

#[tokio::test]
async fn a_version_1_database_is_migrated_at_start_and_every_account_is_found_and_logs_in() {
    let app = spawn_app_on_fixture("schema-v1.redb").await;
    let version = app
        .store
        .read(|tx| {
            let meta = tx.open_table(META)?;
            let v = meta.get("schema_version")?.map(|v| v.value().to_vec());
            Ok(v)
        })
        .await
        .expect("read the version");
    assert_eq!(version, Some(SCHEMA_VERSION.to_be_bytes().to_vec()));
    assert_eq!(SCHEMA_VERSION, 5);
    let count = app.store.read(users::count).await.expect("count");
    assert_eq!(count, FIXTURE_ACCOUNTS.len() as u64);

    for who in &FIXTURE_ACCOUNTS {
        let login_id = who.login_id.to_owned();
        let user = app
            .store
            .read(move |tx| users::by_login_id(tx, &login_id))
            .await
            .expect("read")
            .unwrap_or_else(|| panic!("{} not found by login ID", who.login_id));
        assert_eq!(user.email, who.email);
        assert_eq!(user.display_name(), who.display_name);
        let person = user.person.clone().expect("a typed person");
        assert_eq!(person.registry.number.as_str(), who.registry_number);
        assert_eq!(
            person.phones.mobile.as_ref().map(|m| m.as_str()),
            Some(who.mobile)
        );

        let (kana, name, mobile, number) =
            (who.kana, who.display_name, who.mobile, who.registry_number);
        let found = app
            .store
            .read(move |tx| {
                Ok((
                    users::ids_by_kana(tx, kana)?,
                    users::ids_by_name(tx, name)?,
                    users::ids_by_phone(tx, mobile)?,
                    users::id_by_registry_number(tx, number)?,
                ))
            })
            .await
            .expect("search");
        assert_eq!(
            found,
            (vec![user.id], vec![user.id], vec![user.id], Some(user.id)),
            "{name}"
        );

        let b = Browser::new(&app.base);
        b.log_in(who.login_id, who.password)
            .await
            .assert_redirect_to("/mypage");
        let me = b.get("/mypage").await;
        me.assert_status(StatusCode::OK);
        me.assert_contains(&format!("{} 様、ようこそ。", who.display_name));
        me.assert_contains(who.login_id);
    }

    // What the profiles held beyond the name, typed, and found by it.
    let hanako = app
        .store
        .read(|tx| users::by_login_id(tx, "hanako2008"))
        .await
        .expect("read")
        .and_then(|u| u.person.map(|p| (u.id, p)));
    let (id, p) = hanako.expect("hanako2008");
    assert!(p.former.use_on_mail);
    assert_eq!(
        p.former.name_last.as_ref().map(|n| n.as_str()),
        Some("鈴木")
    );
    assert_eq!(p.departments.sub.len(), 2);
    assert_eq!(p.societies.len(), 2);
    // Listed under their official 分科会番号 (schema 3), not the old list's.
    let societies: Vec<String> = p
        .societies
        .iter()
        .map(|s| serde_json::to_string(s).unwrap_or_default())
        .collect();
    assert_eq!(
        societies,
        [
            r#"{"listed":{"id":"17","name":"日本内科学会"}}"#,
            r#"{"listed":{"id":"18","name":"日本小児科学会"}}"#,
        ]
    );
    assert_eq!(
        p.education.grad_university.as_ref().map(|u| u.name()),
        Some("東北大学")
    );
    let ito = app
        .store
        .read(|tx| users::by_login_id(tx, "ito@kenji"))
        .await
        .expect("read")
        .and_then(|u| u.person);
    let ito = ito.expect("ito@kenji");
    assert_eq!(
        ito.education.school.as_ref().map(|s| s.name()),
        Some("海外医科大学")
    );
    assert_eq!(
        ito.societies.first().map(|s| s.name()),
        Some("地域医療研究会")
    );
    let by_former = app
        .store
        .read(|tx| {
            Ok((
                users::ids_by_kana(tx, "すずき")?,
                users::ids_by_name(tx, "鈴木 花子")?,
                users::ids_by_phone(tx, "03-3823-2101")?,
                users::ids_by_phone(tx, "0120123456")?,
                users::ids_by_kana(tx, "タ")?,
            ))
        })
        .await
        .expect("search");
    let tanaka = app
        .store
        .read(|tx| users::by_login_id(tx, "tanaka1ichiro"))
        .await
        .expect("read")
        .map(|u| u.id);
    let ito_id = app
        .store
        .read(|tx| users::by_login_id(tx, "ito@kenji"))
        .await
        .expect("read")
        .map(|u| u.id);
    assert_eq!(
        by_former,
        (
            vec![id],
            vec![id],
            vec![id],
            ito_id.into_iter().collect(),
            tanaka.into_iter().collect()
        )
    );
}

#[tokio::test]
async fn a_version_2_database_gets_the_people_search_indexes_and_facets_at_start() {
    let app = spawn_app_on_fixture("schema-v2.redb").await;
    let version = app
        .store
        .read(|tx| {
            let meta = tx.open_table(META)?;
            let v = meta.get("schema_version")?.map(|v| v.value().to_vec());
            Ok(v)
        })
        .await
        .expect("read the version");
    assert_eq!(version, Some(SCHEMA_VERSION.to_be_bytes().to_vec()));
    let ids = |lookups: Vec<Lookup>| {
        let store = app.store.clone();
        async move {
            store
                .read(move |tx| {
                    let ids = person_index::ids(tx, &lookups)?;
                    Ok(person_index::facets_of(tx, &ids, |_| true)?
                        .into_iter()
                        .map(|(_, f)| f.kana)
                        .collect::<Vec<_>>())
                })
                .await
                .expect("search")
        }
    };
    // Every person has a facet and the birth-date index (new in schema 3).
    let mut born = ids(vec![Lookup::Birth("19800401".into())]).await;
    born.sort();
    assert_eq!(born, ["イトウケンジ", "サトウハナコ", "タナカイチロウ"]);
    // Given names alone are keys now, current and former.
    assert_eq!(
        ids(vec![Lookup::Name("けんじ".into())]).await,
        ["イトウケンジ"]
    );
    assert_eq!(
        ids(vec![Lookup::Name("花子".into())]).await,
        ["サトウハナコ"]
    );
    // The keys of schema 2 are still found.
    assert_eq!(
        ids(vec![Lookup::Name("スズキ".into())]).await,
        ["サトウハナコ"]
    );
    assert_eq!(
        ids(vec![Lookup::Phone("070-1111".into())]).await,
        ["タナカイチロウ"]
    );
    let b = Browser::new(&app.base);
    let who = &FIXTURE_ACCOUNTS[1];
    b.log_in(who.login_id, who.password)
        .await
        .assert_redirect_to("/mypage");
}

#[tokio::test]
async fn after_the_migration_new_registrations_are_checked_against_the_old_accounts() {
    let app = spawn_app_on_fixture("schema-v1.redb").await;
    let register = |who: Applicant| {
        let (base, smtp) = (app.base.clone(), app.smtp());
        async move {
            let b = Browser::new(&base);
            b.start_registration(&who.email).await;
            let mail = smtp
                .wait_for(&who.email, templates::REGISTRATION_SUBJECT, MAIL_WAIT)
                .await;
            let link = link_in(&mail.body).expect("a link in the mail");
            b.get(&link).await.assert_redirect_to("/register/form");
            b.post_form("/register/form", &who.fields())
                .await
                .assert_redirect_to("/register/confirm");
            b.post_form("/register/confirm", &[] as &[(&str, &str)])
                .await
        }
    };

    // 佐藤 花子's 医籍登録番号, from the schema-1 database: refused.
    let mut twin = Applicant::numbered(1);
    twin.registry_number = FIXTURE_ACCOUNTS[0].registry_number.to_owned();
    let refused = register(twin).await;
    refused.assert_status(StatusCode::CONFLICT);
    let message = error_of(&refused.body, "registry_number").unwrap_or_default();
    assert!(message.starts_with("この医籍登録番号では利用者登録を完了できませんでした。"));

    // A new physician: created, indexed beside the migrated ones.
    register(Applicant::numbered(2))
        .await
        .assert_redirect_to("/register/complete");
    let count = app.store.read(users::count).await.expect("count");
    assert_eq!(count, FIXTURE_ACCOUNTS.len() as u64 + 1);
    let yamadas = app
        .store
        .read(|tx| users::ids_by_kana(tx, "ヤマダ"))
        .await
        .expect("search");
    assert_eq!(yamadas, [FIXTURE_ACCOUNTS.len() as u64 + 1]);
}

/// Registers [`FIXTURE_ACCOUNTS`] through the real app into a fresh data
/// folder, stops the app and copies its database to
/// `MAMIS_FIXTURE_OUT` (default `target/schema-fixture.redb`): the database
/// of the schema this commit writes. `tests/fixtures/schema-v1.redb` was
/// made so (see its README); run it again before a schema change to keep a
/// fixture of the schema being left.
#[test]
#[ignore = "writes a fixture database; run by hand"]
fn make_fixture_database() {
    let out = std::env::var_os("MAMIS_FIXTURE_OUT").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target/schema-fixture.redb"),
        PathBuf::from,
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let smtp = SmtpCapture::start();
        let app = Application::build(Config::for_tests(data.clone(), Some(smtp.settings())))
            .await
            .expect("app did not build");
        let base = format!("http://{}", app.addr);
        let server = app.spawn();
        for who in &FIXTURE_ACCOUNTS {
            let b = Browser::new(&base);
            b.start_registration(who.email).await;
            let mail = smtp
                .wait_for(who.email, templates::REGISTRATION_SUBJECT, MAIL_WAIT)
                .await;
            let link = link_in(&mail.body).expect("a link in the mail");
            b.finish_registration(&link, &who.fields()).await;
            b.log_in(who.login_id, who.password)
                .await
                .assert_redirect_to("/mypage");
            let me = b.get("/mypage").await;
            me.assert_status(StatusCode::OK);
            me.assert_contains(who.display_name);
        }
        server.abort();
    });
    // Every task holding the store ends with the runtime: the file is closed.
    rt.shutdown_timeout(Duration::from_secs(10));
    std::fs::copy(data.join(mamis::store::DB_FILE), &out).expect("copy the database");
    eprintln!("fixture written to {}", out.display());
}
