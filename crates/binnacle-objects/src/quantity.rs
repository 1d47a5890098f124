//! Resource quantities (`100m`, `1.5`, `512Mi`, `2G`, `1e3`) as numbers.

/// Parses a quantity into its value in base units (cores for CPU, bytes for memory).
pub fn parse_quantity(q: &str) -> Option<f64> {
    let q = q.trim();
    if q.is_empty() {
        return None;
    }
    let split = q.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-')).unwrap_or(q.len());
    let (number, suffix) = q.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0f64.powi(4),
        "Pi" => 1024.0f64.powi(5),
        "Ei" => 1024.0f64.powi(6),
        s if s.starts_with(['e', 'E']) => 10f64.powi(s[1..].parse::<i32>().ok()?),
        _ => return None,
    };
    Some(number * factor)
}

/// CPU quantity in millicores (`250m` → 250, `2` → 2000).
pub fn cpu_millis(q: &str) -> Option<i64> {
    parse_quantity(q).map(|v| (v * 1000.0).round() as i64)
}

/// Memory quantity in bytes.
pub fn memory_bytes(q: &str) -> Option<i64> {
    parse_quantity(q).map(|v| v.round() as i64)
}

/// Formats millicores the way `kubectl top` does (`250m`).
pub fn format_cpu_millis(m: i64) -> String {
    format!("{m}m")
}

/// Formats bytes as mebibytes the way `kubectl top` does (`128Mi`).
pub fn format_memory_mi(bytes: i64) -> String {
    format!("{}Mi", bytes / (1024 * 1024))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(cpu_millis("250m"), Some(250));
        assert_eq!(cpu_millis("2"), Some(2000));
        assert_eq!(cpu_millis("1.5"), Some(1500));
        assert_eq!(memory_bytes("1Gi"), Some(1 << 30));
        assert_eq!(memory_bytes("512Mi"), Some(512 << 20));
        assert_eq!(memory_bytes("1e3"), Some(1000));
        assert_eq!(memory_bytes("2G"), Some(2_000_000_000));
        assert_eq!(parse_quantity("abc"), None);
        assert_eq!(parse_quantity("1Zi"), None);
    }
}
