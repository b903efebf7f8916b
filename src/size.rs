//! Sizes given on the command line: `1048576`, `500k`, `10MiB`, `1G`.

/// Parses a byte count with an optional unit: decimal `k`, `M`, `G`, `T` (with or without
/// a trailing `B`, any case) are powers of 1000; binary `KiB`, `MiB`, `GiB`, `TiB` are
/// powers of 1024.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "bad size '{text}': expected a number of bytes with an optional unit, such as 500k, 10MiB or 1G"
        )
    };
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let number: u64 = number.parse().map_err(|_| bad())?;
    let unit = unit.trim().to_ascii_lowercase();
    let multiplier: u64 = match unit.as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1000,
        "m" | "mb" => 1000u64.pow(2),
        "g" | "gb" => 1000u64.pow(3),
        "t" | "tb" => 1000u64.pow(4),
        "ki" | "kib" => 1 << 10,
        "mi" | "mib" => 1 << 20,
        "gi" | "gib" => 1 << 30,
        "ti" | "tib" => 1 << 40,
        _ => return Err(bad()),
    };
    let size = number.checked_mul(multiplier).ok_or_else(bad)?;
    if size == 0 {
        return Err(format!("bad size '{text}': must be more than 0 bytes"));
    }
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(parse_size("1048576"), Ok(1_048_576));
        assert_eq!(parse_size("500k"), Ok(500_000));
        assert_eq!(parse_size("500KB"), Ok(500_000));
        assert_eq!(parse_size("10MiB"), Ok(10 << 20));
        assert_eq!(parse_size("1G"), Ok(1_000_000_000));
        assert_eq!(parse_size("2 GiB"), Ok(2 << 30));
        assert!(parse_size("").is_err());
        assert!(parse_size("ten").is_err());
        assert!(parse_size("5 parsecs").is_err());
        assert!(parse_size("0").is_err());
        assert!(parse_size("99999999999999999999").is_err());
        assert!(parse_size("99999999T").is_err());
    }
}
