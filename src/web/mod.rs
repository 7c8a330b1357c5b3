//! The screens, one module per group, and the route table.

pub mod application_list;
mod context;
pub mod csv_file;
pub mod dev_outbox;
pub mod first_login;
pub mod first_password;
pub mod forgot;
pub mod inquiry;
pub mod kept_forms;
pub mod login;
pub mod member_import;
pub mod my_account;
pub mod my_applications;
pub mod my_change;
pub mod my_filing;
pub mod my_join;
pub mod my_profile;
pub mod my_withdraw;
pub mod my_workplace;
pub mod office;
pub mod office_announcements;
pub mod office_associations;
pub mod office_audit;
pub mod office_history;
pub mod office_import;
pub mod office_inbox;
pub mod office_people;
pub mod office_person;
pub mod office_postcards;
pub mod office_proxy;
pub mod office_proxy_change;
pub mod office_proxy_join;
pub mod office_staff;
pub mod pages;
pub mod people_csv;
pub mod register;
pub mod staff_applications;
pub mod suggest;

use poem::{Route, get, post};

use crate::auth::current_user::PendingStep;

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
    /// The terms agreed after logging in (first login, or a new version).
    pub const FIRST_TERMS: &str = "/first-login/terms";
    /// A member's first e-mail address, confirmed by a mailed link.
    pub const FIRST_EMAIL: &str = "/first-login/email";
    pub const FIRST_EMAIL_SENT: &str = "/first-login/email/sent";
    /// マイページ: a new e-mail address, and a new password.
    pub const MY_EMAIL: &str = "/mypage/email";
    pub const MY_PASSWORD: &str = "/mypage/password";
    /// マイページ: new contact details, and their confirmation.
    pub const MY_CONTACT: &str = "/mypage/contact";
    pub const MY_CONTACT_CONFIRM: &str = "/mypage/contact/confirm";
}

/// Where an account goes after logging in: the first step it must still
/// take (terms, e-mail, own password); then 事務局TOP for staff, マイページ
/// for everyone else.
pub fn landing(role: crate::domain::Role, pending: Option<PendingStep>) -> &'static str {
    match (pending, role) {
        (Some(step), _) => step_path(step),
        (None, crate::domain::Role::Staff { .. }) => paths::OFFICE,
        (None, crate::domain::Role::Physician | crate::domain::Role::Member) => paths::MYPAGE,
    }
}

/// The screen of a step taken after logging in.
pub fn step_path(step: PendingStep) -> &'static str {
    match step {
        PendingStep::Terms => paths::FIRST_TERMS,
        PendingStep::Email => paths::FIRST_EMAIL,
        PendingStep::Password => paths::PASSWORD_CHANGE,
    }
}

/// Paths an account with a pending `step` may still open: that step's
/// screens, logout, the assets and the local outbox.
pub fn open_during(step: PendingStep, path: &str) -> bool {
    let own = match step {
        PendingStep::Terms => path == paths::FIRST_TERMS,
        PendingStep::Email => {
            path == paths::FIRST_EMAIL
                || path == paths::FIRST_EMAIL_SENT
                || path == crate::service::my_account::EMAIL_CONFIRM_LINK
                || path.starts_with("/register/email/check/")
        }
        PendingStep::Password => path == paths::PASSWORD_CHANGE,
    };
    // The local outbox (development, no SMTP server) holds the mail the
    // e-mail step sends; it has a key of its own.
    own || path == paths::LOGOUT
        || path == "/healthz"
        || path.starts_with("/assets/")
        || path.starts_with("/dev/outbox")
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
        .at(
            paths::FIRST_TERMS,
            get(first_login::terms).post(first_login::agree),
        )
        .at(
            paths::FIRST_EMAIL,
            get(first_login::email).post(first_login::send_email),
        )
        .at(paths::FIRST_EMAIL_SENT, get(first_login::email_sent))
        .at(
            crate::service::my_account::EMAIL_CONFIRM_LINK,
            get(first_login::confirm),
        )
        .at(
            paths::MY_EMAIL,
            get(my_account::email).post(my_account::send_email),
        )
        .at(
            paths::MY_PASSWORD,
            get(my_account::password).post(my_account::change_password),
        )
        .at(
            paths::MY_CONTACT,
            get(my_profile::page).post(my_profile::submit),
        )
        .at(paths::MY_CONTACT_CONFIRM, post(my_profile::confirm))
        .at(office_inbox::INBOX, get(office_inbox::list))
        .at(office_people::SEARCH, get(office_people::search_page))
        .at(office_people::EXPORT, get(office_people::export))
        .at("/office/inquiries/:id", get(office_inbox::show))
        .at(
            "/office/inquiries/:id/status",
            post(office_inbox::set_status),
        )
        .at("/office/inquiries/:id/reply", post(office_inbox::reply))
        .at(
            "/office/people/:id/withdraw",
            get(office_proxy::form).post(office_proxy::submit),
        )
        .at(
            "/office/people/:id/join",
            get(office_proxy_join::form).post(office_proxy_join::submit),
        )
        .at(
            office_proxy_join::CLASS,
            post(office_proxy_join::class_preview),
        )
        .at(
            "/office/people/:id/change",
            get(office_proxy_change::form).post(office_proxy_change::submit),
        )
        .at("/office/people/:id", get(office_person::show))
        .at(
            "/office/people/:id/edit",
            get(office_person::edit).post(office_person::update),
        )
        .at(
            "/office/people/:id/initial-password",
            post(office_person::reissue_initial_password),
        )
        .at(
            "/office/people/:id/password-reset",
            post(office_person::password_reset),
        )
        .at(office_audit::AUDIT, get(office_audit::search))
        .at(my_filing::LIST, get(my_applications::list))
        .at(
            my_join::NEW,
            get(my_join::new_join).post(my_join::submit_join),
        )
        .at(my_join::CONFIRM, post(my_join::confirm_join))
        .at(my_workplace::CLASS, post(my_join::class_preview))
        .at(
            my_withdraw::WITHDRAW,
            get(my_withdraw::new_withdraw).post(my_withdraw::submit_withdraw),
        )
        .at(my_withdraw::CONFIRM, post(my_withdraw::confirm_withdraw))
        .at(
            my_change::CHANGE,
            get(my_change::new_change).post(my_change::submit_change),
        )
        .at(my_change::CONFIRM, post(my_change::confirm_change))
        .at(
            "/mypage/applications/:id/withdraw",
            post(my_applications::withdraw_application),
        )
        .at("/mypage/applications/:id/edit", get(my_applications::edit))
        .at(
            "/mypage/applications/:id/complete",
            get(my_filing::complete),
        )
        .at(staff_applications::LIST, get(application_list::list))
        .at(application_list::EXPORT, get(application_list::export))
        .at(staff_applications::BULK, post(staff_applications::bulk))
        .at("/office/applications/:id", get(staff_applications::show))
        .at(
            "/office/applications/:id/decide",
            post(staff_applications::decide),
        )
        .at(
            "/office/applications/:id/confirm",
            post(staff_applications::confirm),
        )
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
            office_associations::LIST,
            get(office_associations::list).post(office_associations::add),
        )
        .at(
            "/office/associations/:id",
            get(office_associations::show).post(office_associations::update),
        )
        .at(
            "/office/associations/:id/classes",
            post(office_associations::set_classes),
        )
        .at(
            office_import::IMPORT,
            get(office_import::page).post(office_import::upload),
        )
        .at(office_import::COMMIT, post(office_import::commit))
        .at(office_import::TEMPLATE, get(office_import::template))
        .at(
            office_staff::LIST,
            get(office_staff::list).post(office_staff::create),
        )
        .at("/office/staff/:id", get(office_staff::show))
        .at("/office/staff/:id/role", post(office_staff::set_role))
        .at("/office/staff/:id/email", post(office_staff::set_email))
        .at("/office/staff/:id/password", post(office_staff::reissue))
        .at(
            member_import::UPLOAD,
            get(member_import::page).post(member_import::upload),
        )
        .at(member_import::RUN, post(member_import::run))
        .at(member_import::SETTINGS, post(member_import::settings))
        .at(member_import::TEMPLATE, get(member_import::template))
        .at(office_postcards::LIST, get(office_postcards::list))
        .at("/office/postcards/:id/print", get(office_postcards::print))
        .at("/office/postcards/:id/csv", get(office_postcards::csv))
        .at("/office/postcards/:id/close", post(office_postcards::close))
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
