//! Every `/office` route over HTTP, from one table: an anonymous visitor is
//! sent to log in; a physician gets 403 or 404; a district's 管理者 gets 404
//! for the records of another district (person, application, inquiry,
//! staff account, association, postcard batch, announcement); an id that
//! is not a number is 404; a 担当者 is refused the 管理者's routes. The
//! table is checked against the route tree's source, so a new `/office`
//! route that is not in it fails here.

use mamis::{
    domain::AssociationId,
    store::{
        announcements::{self, Announcement},
        applications, inquiries, now,
        postcards::{self, Batch, Origin},
        users,
    },
};
use reqwest::StatusCode;

use crate::{
    helpers::*,
    office::{add_district, first_login, staff},
    office_top::{physician, put},
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Method {
    Get,
    Post,
}

/// The kind of record an `:id` route opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Record {
    Person,
    Application,
    Inquiry,
    StaffAccount,
    Association,
    Postcards,
    Announcement,
}

/// Who may use a route beyond staff in general.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Needs {
    /// Any staff member of the association (担当者 or 管理者).
    Staff,
    /// A 管理者.
    Admin,
}

use Method::{Get, Post};
use Needs::{Admin, Staff};

/// Every `/office` route: method, path (as in the route tree), who may use
/// it, and the record its `:id` names. Keep in step with `src/web/mod.rs`
/// (`every_office_route_of_the_route_tree_is_in_the_table` checks it).
const ROUTES: &[(Method, &str, Needs, Option<Record>)] = &[
    (Get, "/office", Staff, None),
    (Get, "/office/inquiries", Staff, None),
    (Get, "/office/inquiries/:id", Staff, Some(Record::Inquiry)),
    (
        Post,
        "/office/inquiries/:id/status",
        Staff,
        Some(Record::Inquiry),
    ),
    (
        Post,
        "/office/inquiries/:id/reply",
        Staff,
        Some(Record::Inquiry),
    ),
    (Get, "/office/people", Staff, None),
    (Get, "/office/people.csv", Staff, None),
    (Get, "/office/people/:id", Staff, Some(Record::Person)),
    (Get, "/office/people/:id/edit", Staff, Some(Record::Person)),
    (Post, "/office/people/:id/edit", Staff, Some(Record::Person)),
    (
        Post,
        "/office/people/:id/password-reset",
        Staff,
        Some(Record::Person),
    ),
    (
        Post,
        "/office/people/:id/initial-password",
        Staff,
        Some(Record::Person),
    ),
    (
        Get,
        "/office/people/:id/withdraw",
        Staff,
        Some(Record::Person),
    ),
    (
        Post,
        "/office/people/:id/withdraw",
        Staff,
        Some(Record::Person),
    ),
    (Get, "/office/people/:id/join", Staff, Some(Record::Person)),
    (Post, "/office/people/:id/join", Staff, Some(Record::Person)),
    (
        Get,
        "/office/people/:id/change",
        Staff,
        Some(Record::Person),
    ),
    (
        Post,
        "/office/people/:id/change",
        Staff,
        Some(Record::Person),
    ),
    (Post, "/office/proxy/class", Staff, None),
    (Get, "/office/audit", Admin, None),
    (Get, "/office/applications", Staff, None),
    (Get, "/office/applications.csv", Staff, None),
    (Post, "/office/applications/bulk", Staff, None),
    (
        Get,
        "/office/applications/:id",
        Staff,
        Some(Record::Application),
    ),
    (
        Post,
        "/office/applications/:id/decide",
        Staff,
        Some(Record::Application),
    ),
    (
        Post,
        "/office/applications/:id/confirm",
        Staff,
        Some(Record::Application),
    ),
    (Get, "/office/announcements", Admin, None),
    (Post, "/office/announcements", Admin, None),
    (Get, "/office/announcements/new", Admin, None),
    (
        Get,
        "/office/announcements/:id",
        Admin,
        Some(Record::Announcement),
    ),
    (
        Post,
        "/office/announcements/:id",
        Admin,
        Some(Record::Announcement),
    ),
    (
        Post,
        "/office/announcements/:id/delete",
        Admin,
        Some(Record::Announcement),
    ),
    (Get, "/office/associations", Staff, None),
    (Post, "/office/associations", Admin, None),
    (
        Get,
        "/office/associations/:id",
        Staff,
        Some(Record::Association),
    ),
    (
        Post,
        "/office/associations/:id",
        Admin,
        Some(Record::Association),
    ),
    (
        Post,
        "/office/associations/:id/classes",
        Admin,
        Some(Record::Association),
    ),
    (Get, "/office/associations/import", Admin, None),
    (Post, "/office/associations/import", Admin, None),
    (Post, "/office/associations/import/commit", Admin, None),
    (Get, "/office/associations/template.csv", Admin, None),
    (Get, "/office/staff", Admin, None),
    (Post, "/office/staff", Admin, None),
    (Get, "/office/staff/:id", Admin, Some(Record::StaffAccount)),
    (
        Post,
        "/office/staff/:id/role",
        Admin,
        Some(Record::StaffAccount),
    ),
    (
        Post,
        "/office/staff/:id/email",
        Admin,
        Some(Record::StaffAccount),
    ),
    (
        Post,
        "/office/staff/:id/password",
        Admin,
        Some(Record::StaffAccount),
    ),
    (Get, "/office/members/import", Staff, None),
    (Post, "/office/members/import", Staff, None),
    (Post, "/office/members/import/run", Staff, None),
    (Post, "/office/members/import/settings", Admin, None),
    (Get, "/office/members/template.csv", Staff, None),
    (Get, "/office/postcards", Staff, None),
    (
        Get,
        "/office/postcards/:id/print",
        Staff,
        Some(Record::Postcards),
    ),
    (
        Get,
        "/office/postcards/:id/csv",
        Staff,
        Some(Record::Postcards),
    ),
    (
        Post,
        "/office/postcards/:id/close",
        Staff,
        Some(Record::Postcards),
    ),
];

/// The constants the route tree names its paths by, with their values.
/// A constant of the route tree missing here fails the sync check: add it
/// (and, when it is an `/office` path, its routes to `ROUTES`).
fn constants() -> Vec<(&'static str, &'static str)> {
    use mamis::web::*;
    vec![
        ("paths::LOGIN", paths::LOGIN),
        ("paths::MYPAGE", paths::MYPAGE),
        ("paths::LOGOUT", paths::LOGOUT),
        ("paths::OFFICE", paths::OFFICE),
        ("paths::FIRST_TERMS", paths::FIRST_TERMS),
        ("paths::FIRST_EMAIL", paths::FIRST_EMAIL),
        ("paths::FIRST_EMAIL_SENT", paths::FIRST_EMAIL_SENT),
        ("paths::MY_EMAIL", paths::MY_EMAIL),
        ("paths::MY_PASSWORD", paths::MY_PASSWORD),
        ("paths::MY_CONTACT", paths::MY_CONTACT),
        ("paths::MY_CONTACT_CONFIRM", paths::MY_CONTACT_CONFIRM),
        ("paths::PASSWORD_CHANGE", paths::PASSWORD_CHANGE),
        ("paths::TERMS", paths::TERMS),
        ("paths::EMAIL", paths::EMAIL),
        ("paths::EMAIL_SENT", paths::EMAIL_SENT),
        ("paths::VERIFY", paths::VERIFY),
        ("paths::FORM", paths::FORM),
        ("paths::CONFIRM", paths::CONFIRM),
        ("paths::COMPLETE", paths::COMPLETE),
        ("paths::DEV_OUTBOX", paths::DEV_OUTBOX),
        (
            "crate::service::my_account::EMAIL_CONFIRM_LINK",
            mamis::service::my_account::EMAIL_CONFIRM_LINK,
        ),
        ("office_inbox::INBOX", office_inbox::INBOX),
        ("office_people::SEARCH", office_people::SEARCH),
        ("office_people::EXPORT", office_people::EXPORT),
        ("office_audit::AUDIT", office_audit::AUDIT),
        ("my_filing::LIST", my_filing::LIST),
        ("my_join::NEW", my_join::NEW),
        ("my_join::CONFIRM", my_join::CONFIRM),
        ("my_workplace::CLASS", my_workplace::CLASS),
        ("my_withdraw::WITHDRAW", my_withdraw::WITHDRAW),
        ("my_withdraw::CONFIRM", my_withdraw::CONFIRM),
        ("my_change::CHANGE", my_change::CHANGE),
        ("my_change::CONFIRM", my_change::CONFIRM),
        ("application_list::EXPORT", application_list::EXPORT),
        ("office_proxy_join::CLASS", office_proxy_join::CLASS),
        ("staff_applications::LIST", staff_applications::LIST),
        ("staff_applications::BULK", staff_applications::BULK),
        ("office_announcements::LIST", office_announcements::LIST),
        ("office_announcements::NEW", office_announcements::NEW),
        ("office_associations::LIST", office_associations::LIST),
        ("office_import::IMPORT", office_import::IMPORT),
        ("office_import::COMMIT", office_import::COMMIT),
        ("office_import::TEMPLATE", office_import::TEMPLATE),
        ("office_staff::LIST", office_staff::LIST),
        ("member_import::UPLOAD", member_import::UPLOAD),
        ("member_import::RUN", member_import::RUN),
        ("member_import::SETTINGS", member_import::SETTINGS),
        ("member_import::TEMPLATE", member_import::TEMPLATE),
        ("office_postcards::LIST", office_postcards::LIST),
        ("register::postal::POSTAL_URL", register::postal::POSTAL_URL),
        ("forgot::LOGIN_ID", forgot::LOGIN_ID),
        ("forgot::PASSWORD", forgot::PASSWORD),
        ("forgot::RESET_LINK", forgot::RESET_LINK),
        ("forgot::NEW_PASSWORD", forgot::NEW_PASSWORD),
    ]
}

/// True when `code` calls `name(` (not as the end of a longer name).
fn calls(code: &str, name: &str) -> bool {
    code.match_indices(&format!("{name}(")).any(|(i, _)| {
        code[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
    })
}

/// The (method, path) of every route `.at(…)` adds in `source`, its path
/// read from a string literal or resolved through `constants`.
fn routes_in(source: &str) -> Result<Vec<(Method, String)>, String> {
    let consts = constants();
    let mut found = Vec::new();
    let parts: Vec<&str> = source.split(".at(").skip(1).collect();
    for part in parts {
        let Some((first, rest)) = part.split_once(',') else {
            return Err(format!("unreadable route: {part}"));
        };
        let first = first.trim();
        let path = if let Some(literal) = first.strip_prefix('"') {
            literal.trim_end_matches('"').to_owned()
        } else {
            match consts.iter().find(|(name, _)| *name == first) {
                Some((_, value)) => (*value).to_owned(),
                None => {
                    return Err(format!(
                        "the route tree names {first}: add it to constants() in this test"
                    ));
                }
            }
        };
        if calls(rest, "get") {
            found.push((Get, path.clone()));
        }
        if calls(rest, "post") {
            found.push((Post, path));
        }
    }
    Ok(found)
}

#[test]
fn every_office_route_of_the_route_tree_is_in_the_table() {
    let source = include_str!("../../src/web/mod.rs");
    let routes = routes_in(source).unwrap_or_else(|e| panic!("{e}"));
    assert!(routes.len() > 40, "only {} routes read", routes.len());
    let office: Vec<_> = routes
        .iter()
        .filter(|(_, path)| path == "/office" || path.starts_with("/office/"))
        .collect();
    for (method, path) in &office {
        assert!(
            ROUTES.iter().any(|(m, p, _, _)| m == method && p == path),
            "{method:?} {path} is in src/web/mod.rs but not in ROUTES: add it"
        );
    }
    for (method, path, _, _) in ROUTES {
        assert!(
            office.iter().any(|(m, p)| m == method && p == path),
            "{method:?} {path} is in ROUTES but not in src/web/mod.rs"
        );
    }
}

/// `path` with its `:id` replaced.
fn with_id(path: &str, id: &str) -> String {
    path.replace(":id", id)
}

async fn call(b: &Browser, method: Method, path: &str) -> Page {
    match method {
        Get => b.get(path).await,
        Post => b.post_form::<&str, &str>(path, &[]).await,
    }
}

/// The records of 渋谷区医師会, one of each kind, by kind.
struct Shibuya {
    ids: Vec<(Record, u64)>,
}

impl Shibuya {
    fn id(&self, record: Record) -> u64 {
        self.ids
            .iter()
            .find(|(r, _)| *r == record)
            .map(|(_, id)| *id)
            .unwrap_or_else(|| panic!("no {record:?} made"))
    }
}

/// Makes one record of each kind that belongs to `shibuya` (the inquiry
/// is the root's: every district is refused it).
async fn records_of(app: &TestApp, shibuya: AssociationId, doctor: &Browser) -> Shibuya {
    let person = put(
        &app.store,
        vec![physician(
            21,
            ["鈴木", "次郎", "すずき", "じろう"],
            Some(shibuya),
            now(),
        )],
    )
    .await[0];
    staff(app, "渋谷区医師会", "shibuyaadm1", "管理者").await;
    crate::procedures::file_through_confirm(
        doctor,
        "/mypage/applications/new",
        &[
            ("district", shibuya.0.to_string()),
            ("levels", "d".to_owned()),
            ("wp_kind", "hospital".into()),
            ("wp_role", "trainee".into()),
            ("wp_name", "東都大学病院".into()),
            ("wp_postal", "113-8655".into()),
            ("wp_address", "東京都文京区本郷7-3-1".into()),
            ("wp_phone", "03-3815-5411".into()),
            ("mail_to", "work".into()),
        ],
        &[],
    )
    .await;
    let (staff_account, application) = app
        .store
        .read(move |tx| {
            let staff_account = users::by_login_id(tx, "shibuyaadm1")?
                .ok_or_else(|| anyhow::anyhow!("no staff account"))?
                .id;
            let application = applications::queue(tx, shibuya, applications::WAITING)?
                .first()
                .map(|a| a.id)
                .ok_or_else(|| anyhow::anyhow!("no application"))?;
            Ok((staff_account, application))
        })
        .await
        .expect("read shibuya's records");
    let ids = app
        .store
        .write_ok(move |tx| {
            let inquiry = inquiries::add(tx, "問合 太郎", "q@example.jp", "件名", "本文")?.id;
            let at = now();
            let announcement = announcements::insert(
                tx,
                Announcement {
                    id: 0,
                    date: time::macros::date!(2026 - 04 - 01),
                    category: "お知らせ".into(),
                    title: None,
                    body: "渋谷区の会員へ".into(),
                    link: None,
                    publish_from: None,
                    withdraw_at: None,
                    created_at: at,
                    updated_at: at,
                    association: Some(shibuya),
                },
            )?;
            let batch = postcards::next_batch_id(tx)?;
            postcards::put(
                tx,
                &Batch {
                    id: batch,
                    association: shibuya,
                    origin: Origin::Import,
                    created_by: staff_account,
                    created_at: at,
                    expires_at: at + 86_400,
                    printed_at: None,
                    closed_at: None,
                    postcards: Vec::new(),
                },
            )?;
            Ok(vec![
                (Record::StaffAccount, staff_account),
                (Record::Application, application),
                (Record::Inquiry, inquiry),
                (Record::Announcement, announcement),
                (Record::Postcards, batch),
            ])
        })
        .await
        .expect("write shibuya's records");
    let mut ids = ids;
    ids.push((Record::Person, person));
    ids.push((Record::Association, shibuya.0));
    Shibuya { ids }
}

#[tokio::test]
async fn every_office_route_refuses_who_may_not_use_it_and_records_out_of_scope() {
    let app = spawn_app().await;
    add_district(&app.store, "新宿区医師会").await;
    let shibuya = add_district(&app.store, "渋谷区医師会").await.id;

    let yamada = Applicant::yamada();
    app.register(&yamada).await;
    let doctor = app.browser();
    doctor
        .log_in(&yamada.login_id, PASSWORD)
        .await
        .assert_redirect_to("/mypage");
    let shibuya = records_of(&app, shibuya, &doctor).await;

    let one_time = staff(&app, "新宿区医師会", "shinjukuadm1", "管理者").await;
    let admin = first_login(&app, "shinjukuadm1", &one_time).await;
    let one_time = staff(&app, "新宿区医師会", "shinjukuclk1", "担当者").await;
    let clerk = first_login(&app, "shinjukuclk1", &one_time).await;
    let one_time = staff(&app, "日本医師会", "jmaadmin01", "管理者").await;
    let root = first_login(&app, "jmaadmin01", &one_time).await;

    // Each browser holds the CSRF token of its own landing page.
    doctor.get("/mypage").await.assert_status(StatusCode::OK);
    for b in [&admin, &clerk, &root] {
        b.get("/office").await.assert_status(StatusCode::OK);
    }
    let mut wrong = Vec::new();
    for &(method, pattern, needs, record) in ROUTES {
        let numeric = with_id(pattern, "1");
        let anonymous = app.browser();
        let page = call(&anonymous, method, &numeric).await;
        if page.location() != Some("/login") {
            wrong.push(format!(
                "anonymous {method:?} {numeric}: {} {:?}",
                page.status,
                page.location()
            ));
        }
        let page = call(&doctor, method, &numeric).await;
        if !matches!(page.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND) {
            wrong.push(format!("physician {method:?} {numeric}: {}", page.status));
        }
        if needs == Admin {
            let page = call(&clerk, method, &numeric).await;
            if !matches!(page.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND) {
                wrong.push(format!("担当者 {method:?} {numeric}: {}", page.status));
            }
        }
        if let Some(record) = record {
            let theirs = with_id(pattern, &shibuya.id(record).to_string());
            let page = call(&admin, method, &theirs).await;
            if page.status != StatusCode::NOT_FOUND {
                wrong.push(format!(
                    "another district's {record:?}: {method:?} {theirs}: {}",
                    page.status
                ));
            }
            for id in ["abc", "-1", "1.5", "99999999999999999999999"] {
                let path = with_id(pattern, id);
                let page = call(&root, method, &path).await;
                if page.status != StatusCode::NOT_FOUND {
                    wrong.push(format!("root {method:?} {path}: {}", page.status));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "wrong answers:\n{}", wrong.join("\n"));
    // The district's own pages still open.
    admin.get("/office").await.assert_status(StatusCode::OK);
}
