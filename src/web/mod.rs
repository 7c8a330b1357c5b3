//! The screens, one module per group, and the route table.

mod context;
pub mod dev_outbox;
pub mod first_password;
pub mod forgot;
pub mod inquiry;
pub mod kept_forms;
pub mod login;
pub mod office;
pub mod office_announcements;
pub mod office_inbox;
pub mod pages;
pub mod register;
pub mod suggest;

use poem::{Route, get, post};

/// URLs of the screens, in one place.
pub mod paths {
    pub const LOGIN: &str = crate::auth::guards::SIGN_IN_PATH;
    pub const TERMS: &str = "/register";
    pub const EMAIL: &str = "/register/email";
    pub const EMAIL_SENT: &str = "/register/email/sent";
    pub const VERIFY: &str = crate::service::registration::LINK_PATH;
    pub const FORM: &str = "/register/form";
    pub const CONFIRM: &str = "/register/confirm";
    pub const COMPLETE: &str = "/register/complete";
    pub const EMAIL_CHECK: &str = "/register/email/check";
    pub const FORM_CHECK: &str = "/register/check";
    pub const SUGGEST: &str = "/suggest";
    pub const DEV_OUTBOX: &str = "/dev/outbox";
    pub const MYPAGE: &str = "/mypage";
    pub const LOGOUT: &str = "/logout";
    /// 事務局TOP.
    pub const OFFICE: &str = "/office";
    /// The first login's change of a one-time password.
    pub const PASSWORD_CHANGE: &str = "/password/change";
}

/// Where an account goes after logging in: the change of its one-time
/// password first; then 事務局TOP for staff, マイページ for everyone else.
pub fn landing(role: crate::domain::Role, must_change_password: bool) -> &'static str {
    match role {
        _ if must_change_password => paths::PASSWORD_CHANGE,
        crate::domain::Role::Staff { .. } => paths::OFFICE,
        crate::domain::Role::Physician | crate::domain::Role::Member => paths::MYPAGE,
    }
}

/// Paths an account that must change its one-time password may still open.
pub fn open_during_password_change(path: &str) -> bool {
    path == paths::PASSWORD_CHANGE
        || path == paths::LOGOUT
        || path == "/healthz"
        || path.starts_with("/assets/")
}

/// Today's date in Japan, for date rules.
pub fn today() -> time::Date {
    time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+9))
        .date()
}

/// Path prefixes of what needs neither a session nor a CSRF cookie: the
/// embedded assets and the suggestions (public catalogue data, GET only).
const WITHOUT_SESSION: [&str; 2] = ["/assets/", "/suggest/"];

/// True for a path served by [`routes_without_session`].
pub fn is_without_session(path: &str) -> bool {
    WITHOUT_SESSION
        .iter()
        .any(|prefix| path.starts_with(prefix))
}

/// Adds the routes that need neither a session nor a CSRF cookie (see
/// [`is_without_session`]): no session is loaded and no cookie set for them.
pub fn routes_without_session(route: Route) -> Route {
    route
        .at("/assets/:hash/*path", get(crate::assets::serve))
        .at("/suggest/:catalog", get(suggest::suggest))
}

/// Adds every screen that uses the session to `route`. The local outbox page exists only when no
/// SMTP server is configured.
pub fn routes(route: Route, dev_outbox: bool) -> Route {
    let route = route
        .at("/", get(login::root))
        .at(paths::LOGIN, get(login::page).post(login::submit))
        .at(paths::MYPAGE, get(login::mypage))
        .at(paths::LOGOUT, post(login::logout))
        .at(paths::OFFICE, get(office::top))
        .at(office_inbox::INBOX, get(office_inbox::list))
        .at("/office/inquiries/:id", get(office_inbox::show))
        .at(
            "/office/inquiries/:id/status",
            post(office_inbox::set_status),
        )
        .at("/office/inquiries/:id/reply", post(office_inbox::reply))
        .at(
            office_announcements::LIST,
            get(office_announcements::list).post(office_announcements::create),
        )
        .at(
            office_announcements::NEW,
            get(office_announcements::new_form),
        )
        .at(
            "/office/announcements/:id",
            get(office_announcements::edit).post(office_announcements::update),
        )
        .at(
            "/office/announcements/:id/delete",
            post(office_announcements::delete),
        )
        .at(
            paths::PASSWORD_CHANGE,
            get(first_password::page).post(first_password::submit),
        )
        .at(
            paths::TERMS,
            get(register::terms::page).post(register::terms::submit),
        )
        .at(
            paths::EMAIL,
            get(register::email::page).post(register::email::submit),
        )
        .at(paths::EMAIL_SENT, get(register::email::sent))
        .at("/register/email/check/:field", post(register::email::check))
        .at(paths::VERIFY, get(register::verify::open_link))
        .at(
            paths::FORM,
            get(register::form::page).post(register::form::submit),
        )
        .at("/register/check/:field", post(register::form::check))
        .at(register::postal::POSTAL_URL, post(register::postal::lookup))
        .at(
            paths::CONFIRM,
            get(register::confirm::page).post(register::confirm::submit),
        )
        .at(paths::COMPLETE, get(register::complete::page))
        .at("/privacy", get(pages::privacy))
        .at("/inquiry", get(inquiry::page).post(inquiry::submit))
        .at(
            forgot::LOGIN_ID,
            get(forgot::login_id::page).post(forgot::login_id::submit),
        )
        .at(
            forgot::PASSWORD,
            get(forgot::password::page).post(forgot::password::submit),
        )
        .at(forgot::RESET_LINK, get(forgot::reset::open_link))
        .at(
            forgot::NEW_PASSWORD,
            get(forgot::reset::new_password).post(forgot::reset::new_password_submit),
        );
    if dev_outbox {
        route
            .at(paths::DEV_OUTBOX, get(dev_outbox::list))
            .at("/dev/outbox/:id", get(dev_outbox::show))
    } else {
        route
    }
}
