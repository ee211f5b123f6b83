//! What the service does, independent of HTTP: validation, access rules, state changes, events.

pub mod access;
pub mod account;
pub mod attachment;
pub mod consumer;
pub mod contact;
pub mod export;
pub mod removal;
pub mod retention;
pub mod review;
pub mod search;
pub mod upload;
pub mod widget;

use crate::error::AppError;

/// Trims and checks a free-text field.
pub(crate) fn text_field(what: &str, value: &str, max_chars: usize, required: bool) -> Result<String, AppError> {
    let v = value.trim();
    if required && v.is_empty() {
        return Err(AppError::invalid(format!("{what} must not be empty")));
    }
    if v.chars().count() > max_chars {
        return Err(AppError::invalid(format!("{what} is longer than {max_chars} characters")));
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        return Err(AppError::invalid(format!("{what} contains control characters")));
    }
    if v.chars().any(crate::check::is_bidi_control) {
        return Err(AppError::invalid(format!("{what} contains direction-changing characters")));
    }
    Ok(v.to_owned())
}
