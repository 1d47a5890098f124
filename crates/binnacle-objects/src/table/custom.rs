//! Tables of custom resources, from a CRD version's `additionalPrinterColumns`.
//!
//! As the API server does: the columns are `Name` followed by the printer columns, or `Name`, `Age`
//! when the CRD declares none. Each cell is the first value the column's `jsonPath` selects, converted
//! by the column type (`date` becomes a human age, `integer` an integer, ...); missing or mistyped
//! values give an empty cell.

use jiff::Timestamp;
use serde_json::Value;

use super::ColumnDefinition;
use super::jsonpath::{JsonPath, value_text};
use super::util::{NAME, as_int, cell, int_at, name, str_at};
use crate::time::{human_duration, parse_timestamp, seconds_between};

/// The column the API server serves when a CRD declares no printer columns.
fn default_age_column() -> Value {
    serde_json::json!({
        "name": "Age",
        "type": "date",
        "jsonPath": ".metadata.creationTimestamp",
        "description": "Time elapsed since the object's creationTimestamp, the server time when it was created.",
    })
}

/// The printer columns in effect: the declared ones, or the default `Age` column.
fn effective(printer_columns: &[Value]) -> Vec<Value> {
    if printer_columns.is_empty() { vec![default_age_column()] } else { printer_columns.to_vec() }
}

/// Columns from a CRD version's `additionalPrinterColumns` (each `{name, type, jsonPath, description?,
/// priority?, format?}`): `Name` followed by the declared columns, or `Name`, `Age` when none are
/// declared.
pub fn custom_columns(printer_columns: &[Value]) -> Vec<ColumnDefinition> {
    let mut columns = vec![NAME.to_definition()];
    for column in effective(printer_columns) {
        let json_path = str_at(&column, "/jsonPath");
        let description = match str_at(&column, "/description") {
            "" => format!("Custom resource definition column (in JSONPath format): {json_path}"),
            d => d.to_string(),
        };
        columns.push(ColumnDefinition {
            name: str_at(&column, "/name").to_string(),
            type_: str_at(&column, "/type").to_string(),
            format: str_at(&column, "/format").to_string(),
            description,
            priority: i32::try_from(int_at(&column, "/priority")).unwrap_or(0),
        });
    }
    columns
}

/// Cells of one custom resource for [`custom_columns`]: the name, then each printer column's value at
/// `now` (dates as human ages, `<invalid>` when unparseable; empty string when missing).
pub fn custom_row_cells(printer_columns: &[Value], obj: &Value, now: Timestamp) -> Vec<Value> {
    let mut cells = vec![cell(name(obj))];
    for column in effective(printer_columns) {
        let value = JsonPath::parse(str_at(&column, "/jsonPath")).ok().and_then(|path| path.first(obj).cloned());
        let converted = value.and_then(|v| convert(str_at(&column, "/type"), &v, now));
        cells.push(converted.unwrap_or_else(|| cell("")));
    }
    cells
}

/// Converts a selected value to a cell of the column's type; `None` when it does not fit.
fn convert(type_: &str, value: &Value, now: Timestamp) -> Option<Value> {
    if value.is_null() {
        return None;
    }
    match type_ {
        "string" => Some(cell(value_text(value))),
        "integer" => as_int(value).map(Value::from),
        // Numbers pass through unchanged so that integral values print without a fraction.
        "number" => value.is_number().then(|| value.clone()),
        "boolean" => value.as_bool().map(Value::Bool),
        "date" => {
            let text = value.as_str()?;
            Some(cell(match parse_timestamp(Some(value)) {
                Some(then) => human_duration(seconds_between(then, now)),
                None if text.is_empty() => "<unknown>".to_string(),
                None => "<invalid>".to_string(),
            }))
        }
        _ => None,
    }
}
