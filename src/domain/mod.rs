//! The domain: who an account is (`Role`), the physician's record
//! (`Person`), and one type per registration field, each built only by its
//! `parse`, which returns the Japanese message to show beside the field.
//!
//! Every field of the registration form has one descriptor ([`Field::spec`]:
//! name, label, hint, rule, control, confirmation row); screens read labels
//! and hints from it and report problems as [`FieldErrors`].
//!
//! Raw form text goes through three steps:
//!
//! 1. **normalise** what is unambiguous ([`RegistrationForm::normalized`]):
//!    full-width ASCII in half-width fields, half-width katakana and hiragana in
//!    katakana fields, half-width katakana in full-width fields, dates to
//!    `YYYY/MM/DD`, postal codes to `113-8621`. Nothing else is changed.
//! 2. **parse** each field into its type with the parser its descriptor's
//!    [`Rule`] names ([`LoginId::parse`], [`Date::parse_as`], [`Choice::parse`], …).
//! 3. **cross-check** fields that depend on each other (password against login
//!    ID, dates against the birth date) in [`validate_registration`], which
//!    returns every error at once, and in [`check_field`] for the htmx inline
//!    check of one field. Both use the same parsers and the same rules.
//!
//! "Today" is always passed in, so that tests can fix it.
//!
//! Serde: the parsed types serialise as plain values (strings, or small
//! objects for catalogue choices) and deserialise without re-running the rules,
//! because they are only ever read back from our own store.

mod address;
pub mod announcement;
pub mod application;
pub mod association;
pub mod association_form;
pub mod change_rows;
pub mod completion;
mod dates;
mod departments;
mod email;
mod email_step;
mod field;
mod field_error;
mod gender;
pub mod inquiry;
mod login_id;
pub mod member_csv;
pub mod membership;
mod names;
mod password;
pub mod person;
pub mod person_form;
mod phone;
pub mod procedure;
mod registration;
mod registry_number;
mod role;
pub mod routing;
mod rules;
mod schools;
pub mod wareki;

pub use address::{AddressLine, BuildingName, PostalCode, Prefecture};
pub use association::{Association, AssociationKind};
pub use dates::{Date, YearMonth};
pub use departments::DepartmentCode;
pub use email::Email;
pub use email_step::{EmailField, EmailForm, check_email_field, validate_email_step};
pub use field::{Control, Field, FieldSpec, Group, Review, Rule};
pub use field_error::{FieldError, FieldErrors};
pub use gender::Gender;
pub use inquiry::InquiryStatus;
pub use login_id::LoginId;
pub use names::{KanaName, KanjiName};
pub use password::Password;
pub use phone::PhoneNumber;
pub use registration::{NewRegistration, RegistrationForm, check_field, validate_registration};
pub use registry_number::MedicalRegistryNumber;
pub use role::{AssociationId, Role, StaffRole};
pub use rules::{control_message, has_forbidden_control};
pub use schools::{
    Catalogued, Choice, GradDepartment, ListedEntry, MedicalSchool, SchoolName, Society,
    SocietyName, University, UniversityName,
};
