//! The one shape of a form's field errors: which field (its HTML name and
//! label) and the message, kept in screen order.

use super::Field;

/// One field's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The field's HTML `name` and `id` (the summary links to it).
    pub name: String,
    pub label: String,
    pub message: String,
}

impl FieldError {
    pub fn new(
        name: impl Into<String>,
        label: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            label: label.into(),
            message: message.into(),
        }
    }

    /// A message on a field of the registration form.
    pub fn of(field: Field, message: impl Into<String>) -> Self {
        Self::new(field.name(), field.label(), message)
    }
}

/// The messages of a form's fields, at most one a field, in screen order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// In screen order.
    pub fn iter(&self) -> std::slice::Iter<'_, FieldError> {
        self.0.iter()
    }

    /// The HTML names of the fields in error, in screen order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|e| e.name.as_str())
    }

    /// The message of the field named `name`.
    pub fn message(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.name == name)
            .map(|e| e.message.as_str())
    }

    /// Adds a message after the others (forms whose fields are checked in
    /// screen order), replacing any earlier one of the same field.
    pub fn push(&mut self, error: FieldError) {
        match self.0.iter_mut().find(|e| e.name == error.name) {
            Some(slot) => *slot = error,
            None => self.0.push(error),
        }
    }

    /// The message of a registration field.
    pub fn get(&self, f: Field) -> Option<&str> {
        self.message(f.name())
    }

    /// A registration field's message, put in its place in [`Field::ALL`]
    /// order; replaces any earlier message for `f`.
    pub fn insert(&mut self, f: Field, message: String) {
        if let Some(slot) = self.0.iter_mut().find(|e| e.name == f.name()) {
            slot.message = message;
            return;
        }
        let at = self
            .0
            .iter()
            .position(|e| Field::from_name(&e.name).is_some_and(|g| g > f))
            .unwrap_or(self.0.len());
        self.0.insert(at, FieldError::of(f, message));
    }

    /// The registration fields in error with their messages, in screen order.
    pub fn fields(&self) -> impl Iterator<Item = (Field, &str)> {
        self.0
            .iter()
            .filter_map(|e| Field::from_name(&e.name).map(|f| (f, e.message.as_str())))
    }
}

impl From<Option<FieldError>> for FieldErrors {
    fn from(e: Option<FieldError>) -> Self {
        Self(e.into_iter().collect())
    }
}

impl<'a> IntoIterator for &'a FieldErrors {
    type Item = &'a FieldError;
    type IntoIter = std::slice::Iter<'a, FieldError>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_errors_stay_in_screen_order() {
        let mut e = FieldErrors::default();
        e.insert(Field::Societies, "c".into());
        e.insert(Field::LoginId, "a".into());
        e.insert(Field::BirthDate, "b".into());
        e.insert(Field::LoginId, "a2".into());
        let got: Vec<_> = e.fields().collect();
        assert_eq!(
            got,
            vec![
                (Field::LoginId, "a2"),
                (Field::BirthDate, "b"),
                (Field::Societies, "c")
            ]
        );
        assert_eq!(e.len(), 3);
        assert_eq!(e.get(Field::BirthDate), Some("b"));
        assert_eq!(e.get(Field::Tel), None);
        let first = e.iter().next();
        assert_eq!(
            first,
            Some(&FieldError::new("login_id", "ログインID", "a2"))
        );
        assert_eq!(
            e.names().collect::<Vec<_>>(),
            ["login_id", "birth_date", "societies"]
        );
    }

    #[test]
    fn other_forms_keep_the_order_they_were_checked_in() {
        let mut e = FieldErrors::default();
        e.push(FieldError::new("name", "お名前", "x"));
        e.push(FieldError::new("email", "メールアドレス", "y"));
        e.push(FieldError::new("name", "お名前", "z"));
        assert_eq!(e.names().collect::<Vec<_>>(), ["name", "email"]);
        assert_eq!(e.message("name"), Some("z"));
        assert_eq!(e.fields().count(), 0);
        assert!(FieldErrors::from(None).is_empty());
    }
}
