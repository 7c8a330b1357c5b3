//! The integration tests: one binary, each module a part of the user's
//! story, told over HTTP against the real app (real listener, fresh redb
//! file, real SMTP server on loopback); what they share is in `helpers/`.

mod account;
mod acme;
mod backup;
mod browser;
mod crash;
mod forms_kept;
mod guards;
mod hardening;
mod helpers;
mod https;
mod journey;
mod login_attacks;
mod mail_delivery;
mod member_import;
mod migration;
mod my_account;
mod my_change;
mod my_profile;
mod office;
mod office_applications;
mod office_console;
mod office_inbox;
mod office_people;
mod office_person;
mod office_routes;
mod office_top;
mod operator;
mod postal;
mod procedures;
mod registration_attacks;
mod security;
mod sessions;
