//! Page layout and components shared by the screens.

pub mod components;
pub mod errors;
pub mod layout;
