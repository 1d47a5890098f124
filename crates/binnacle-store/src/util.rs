//! Row reading and error helpers shared by the modules.

use crate::StoreError;
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{Any, Decode, Row, Type};
use std::str::FromStr;
use std::time::Duration;

/// A column's value; a value the Any driver cannot read as `T` is `Corrupt`.
pub(crate) fn get<'r, T>(row: &'r AnyRow, column: &str) -> Result<T, StoreError>
where
    T: Decode<'r, Any> + Type<Any>,
{
    row.try_get(column).map_err(|e| StoreError::Corrupt(format!("column {column}: {e}")))
}

/// A flag stored as BIGINT 0/1.
pub(crate) fn get_flag(row: &AnyRow, column: &str) -> Result<bool, StoreError> {
    Ok(get::<i64>(row, column)? != 0)
}

/// JSON stored as TEXT.
pub(crate) fn get_json(row: &AnyRow, column: &str) -> Result<Value, StoreError> {
    let text: String = get(row, column)?;
    parse_json(column, &text)
}

/// Nullable JSON stored as TEXT.
pub(crate) fn get_json_opt(row: &AnyRow, column: &str) -> Result<Option<Value>, StoreError> {
    let text: Option<String> = get(row, column)?;
    text.map(|t| parse_json(column, &t)).transpose()
}

fn parse_json(column: &str, text: &str) -> Result<Value, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("column {column} is not JSON: {e}")))
}

/// An enum stored by its name.
pub(crate) fn get_enum<T>(row: &AnyRow, column: &str) -> Result<T, StoreError>
where
    T: FromStr<Err = String>,
{
    let text: String = get(row, column)?;
    text.parse().map_err(|e: String| StoreError::Corrupt(format!("column {column}: {e}")))
}

/// JSON as stored.
pub(crate) fn json_text(value: &Value) -> String {
    value.to_string()
}

/// A flag as stored.
pub(crate) fn flag(value: bool) -> i64 {
    i64::from(value)
}

/// True when the database refused a duplicate key.
pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// True when the database refused a reference to a missing row.
pub(crate) fn is_foreign_key_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_foreign_key_violation())
}

/// A short, jittered pause before retrying a write that lost a race (`attempt` from 0).
pub(crate) async fn backoff(attempt: u32) {
    let base = 2u64.saturating_pow(attempt.min(6)); // 1..64 ms
    let jitter = (uuid::Uuid::new_v4().as_u128() % 5) as u64;
    tokio::time::sleep(Duration::from_millis(base + jitter)).await;
}

/// `LIKE` pattern matching `needle` anywhere, lowercased, with `\` escaping `%`, `_` and `\`.
pub(crate) fn contains_pattern(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len() + 2);
    out.push('%');
    for c in needle.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}
