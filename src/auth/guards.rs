//! Guards: extractors that let a handler run only for the right people, and
//! the association scope of a staff member's reads.
//!
//! - `SignedIn`: any signed-in account. Anonymous visitors are sent to the
//!   login page (303), or, for htmx, answered 401 with `HX-Redirect` to it.
//! - `Staff`: 事務局 staff of an association. Anonymous visitors are sent to
//!   the login page; signed-in accounts that are not staff get the 404 page,
//!   so staff pages do not reveal themselves.
//! - `StaffAdmin`: staff whose role is 管理者; anyone else as for `Staff`.
//!
//! The decisions are plain functions of `CurrentUser` (`require_*`); the
//! extractors add only the reading of the request and the answer.

use poem::{
    FromRequest, IntoResponse, Request, RequestBody,
    http::{HeaderValue, StatusCode},
    web::Redirect,
};

use crate::{
    auth::current_user::{Account, CurrentUser},
    domain::{
        AssociationId, Role, StaffRole,
        association::{self, Association},
    },
    error::{InternalError, OrInternal},
    htmx::{self, HxRequest},
    store::{Store, associations},
};

/// Where anonymous visitors are sent (the login page).
pub const SIGN_IN_PATH: &str = "/login";

/// Why a guard refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Nobody is signed in: go and sign in.
    SignIn,
    /// Signed in, but this is not for them: as if the page did not exist.
    NotFound,
}

impl Refusal {
    /// The answer to the refused request.
    pub fn into_error(self, hx: HxRequest) -> poem::Error {
        match self {
            Refusal::SignIn if hx.0 => {
                let mut resp = StatusCode::UNAUTHORIZED.into_response();
                resp.headers_mut()
                    .insert("HX-Redirect", HeaderValue::from_static(SIGN_IN_PATH));
                poem::Error::from_response(htmx::vary(resp))
            }
            Refusal::SignIn => {
                poem::Error::from_response(htmx::vary(Redirect::see_other(SIGN_IN_PATH)))
            }
            Refusal::NotFound => crate::error::not_found(),
        }
    }
}

/// The association ids a staff member may see: their own association and
/// every association below it in the tree. The application layer asks
/// `allows` for every record it reads. Physicians who belong to no
/// association yet are seen from the root (日本医師会) only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    associations: Vec<AssociationId>,
    unaffiliated: bool,
}

impl Scope {
    /// The scope of `association` alone (nothing below it is known).
    pub fn of_association(association: AssociationId) -> Scope {
        Scope {
            associations: vec![association],
            unaffiliated: false,
        }
    }

    /// The scope of a member of `association`'s staff in the tree `all`:
    /// the association and everything below it; people of no association
    /// too when it is the root of the tree.
    pub fn within(association: AssociationId, all: &[Association]) -> Scope {
        let unaffiliated = all
            .iter()
            .any(|a| a.id == association && a.parent.is_none());
        Scope {
            associations: association::subtree(association, all),
            unaffiliated,
        }
    }

    /// True when records of `association` may be read.
    pub fn allows(&self, association: AssociationId) -> bool {
        self.associations.contains(&association)
    }

    /// True when a person of `association` (none: of no association yet)
    /// may be read: the check every read of a person goes through.
    pub fn sees(&self, association: Option<AssociationId>) -> bool {
        match association {
            Some(a) => self.allows(a),
            None => self.unaffiliated,
        }
    }

    /// True when people who belong to no association may be read.
    pub fn allows_unaffiliated(&self) -> bool {
        self.unaffiliated
    }

    /// The associations in the scope.
    pub fn associations(&self) -> &[AssociationId] {
        &self.associations
    }
}

/// A signed-in account (any role).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedIn(pub Account);

/// 事務局 staff of one association.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Staff {
    pub account: Account,
    pub association: AssociationId,
    pub role: StaffRole,
}

impl Staff {
    /// What this staff member may read, in the tree `all`.
    pub fn scope(&self, all: &[Association]) -> Scope {
        Scope::within(self.association, all)
    }
}

/// 事務局 staff whose role is 管理者.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffAdmin(pub Staff);

/// Signed in, whatever the role.
pub fn require_signed_in(user: CurrentUser) -> Result<SignedIn, Refusal> {
    match user {
        CurrentUser::SignedIn(account) => Ok(SignedIn(account)),
        CurrentUser::Anonymous => Err(Refusal::SignIn),
    }
}

/// Signed in as staff of an association.
pub fn require_staff(user: CurrentUser) -> Result<Staff, Refusal> {
    let SignedIn(account) = require_signed_in(user)?;
    match account.role {
        Role::Staff { association, role } => Ok(Staff {
            account,
            association,
            role,
        }),
        Role::Physician | Role::Member => Err(Refusal::NotFound),
    }
}

/// Signed in as a 管理者 of an association.
pub fn require_staff_admin(user: CurrentUser) -> Result<StaffAdmin, Refusal> {
    let staff = require_staff(user)?;
    match staff.role {
        StaffRole::Admin => Ok(StaffAdmin(staff)),
        StaffRole::Clerk => Err(Refusal::NotFound),
    }
}

/// Reads who is asking and applies `decide`.
async fn guard<T>(
    req: &Request,
    body: &mut RequestBody,
    decide: fn(CurrentUser) -> Result<T, Refusal>,
) -> poem::Result<T> {
    let user = CurrentUser::from_request(req, body).await?;
    decide(user).map_err(|refusal| refusal.into_error(HxRequest::of(req)))
}

impl<'a> FromRequest<'a> for SignedIn {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        guard(req, body, require_signed_in).await
    }
}

impl<'a> FromRequest<'a> for Staff {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        guard(req, body, require_staff).await
    }
}

impl<'a> FromRequest<'a> for StaffAdmin {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        guard(req, body, require_staff_admin).await
    }
}

impl<'a> FromRequest<'a> for Scope {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        let staff = Staff::from_request(req, body).await?;
        let store = req.data::<Store>().ok_or_else(|| {
            InternalError(anyhow::anyhow!("the store is not in the request data"))
        })?;
        let all = store.read(associations::all).await.or_internal()?;
        Ok(staff.scope(&all))
    }
}

#[cfg(test)]
mod tests {
    use poem::http::header;

    use super::*;

    fn signed_in(role: Role) -> CurrentUser {
        CurrentUser::SignedIn(Account {
            id: 7,
            login_id: "yamada".into(),
            role,
        })
    }

    fn staff(association: u64, role: StaffRole) -> Role {
        Role::Staff {
            association: AssociationId(association),
            role,
        }
    }

    #[test]
    fn anonymous_visitors_are_sent_to_sign_in_by_every_guard() {
        assert_eq!(
            require_signed_in(CurrentUser::Anonymous),
            Err(Refusal::SignIn)
        );
        assert_eq!(require_staff(CurrentUser::Anonymous), Err(Refusal::SignIn));
        assert_eq!(
            require_staff_admin(CurrentUser::Anonymous),
            Err(Refusal::SignIn)
        );
    }

    #[test]
    fn every_signed_in_account_passes_the_signed_in_guard() {
        for role in [Role::Physician, Role::Member, staff(1, StaffRole::Clerk)] {
            let SignedIn(account) = require_signed_in(signed_in(role)).unwrap();
            assert_eq!((account.id, account.role), (7, role));
        }
    }

    #[test]
    fn physicians_and_members_do_not_find_staff_pages() {
        for role in [Role::Physician, Role::Member] {
            assert_eq!(require_staff(signed_in(role)), Err(Refusal::NotFound));
            assert_eq!(require_staff_admin(signed_in(role)), Err(Refusal::NotFound));
        }
    }

    #[test]
    fn clerks_are_staff_but_only_admins_pass_the_admin_guard() {
        let clerk = require_staff(signed_in(staff(3, StaffRole::Clerk))).unwrap();
        assert_eq!(
            (clerk.association, clerk.role),
            (AssociationId(3), StaffRole::Clerk)
        );
        assert_eq!(
            require_staff_admin(signed_in(staff(3, StaffRole::Clerk))),
            Err(Refusal::NotFound)
        );
        let StaffAdmin(admin) = require_staff_admin(signed_in(staff(3, StaffRole::Admin))).unwrap();
        assert_eq!(admin.role, StaffRole::Admin);
    }

    #[test]
    fn a_staff_scope_allows_only_the_own_association() {
        let scope = require_staff(signed_in(staff(3, StaffRole::Clerk)))
            .unwrap()
            .scope(&[]);
        assert!(scope.allows(AssociationId(3)));
        assert!(!scope.allows(AssociationId(4)));
        assert_eq!(scope.associations(), [AssociationId(3)]);
    }

    #[test]
    fn refusals_answer_by_kind_and_by_htmx() {
        let page = Refusal::SignIn.into_error(HxRequest(false)).into_response();
        assert_eq!(page.status(), StatusCode::SEE_OTHER);
        assert_eq!(page.headers()[header::LOCATION], SIGN_IN_PATH);
        assert_eq!(page.headers()[header::VARY], htmx::HX_REQUEST);
        let hx = Refusal::SignIn.into_error(HxRequest(true)).into_response();
        assert_eq!(hx.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(hx.headers()["HX-Redirect"], SIGN_IN_PATH);
        assert_eq!(hx.headers()[header::VARY], htmx::HX_REQUEST);
        let hidden = Refusal::NotFound.into_error(HxRequest(true));
        assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
        assert!(hidden.is::<crate::error::UserError>());
    }
}
