//! Number formatting shared by every reporter.

/// Formats `value` with at least four significant digits, the .NET
/// formatter of the family: integer digits are always kept and grouped
/// with `,`; values below 1 keep their leading zeros plus four digits;
/// rounding is half away from zero on the value's shortest decimal form.
///
/// `0 -> 0.000`, `12345 -> 12,345`, `1.2345 -> 1.235`,
/// `0.00012345 -> 0.0001235`, `100 -> 100.0`, `204112.3 -> 204,112`.
pub(crate) fn format_significant(value: f64) -> String {
    const SIGNIFICANT_DIGITS: i32 = 4;
    if !value.is_finite() {
        return value.to_string();
    }
    if value == 0.0 {
        return "0.000".to_owned();
    }
    let magnitude = value.abs().log10().floor() as i32;
    let decimals = (SIGNIFICANT_DIGITS - 1 - magnitude).max(0) as usize;
    let rounded = round_half_away(value, decimals);
    let (sign, unsigned) = match rounded.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", rounded.as_str()),
    };
    let (integer, fraction) = match unsigned.split_once('.') {
        Some((integer, fraction)) => (integer, Some(fraction)),
        None => (unsigned, None),
    };
    let mut formatted = format!("{sign}{}", group_thousands(integer));
    if let Some(fraction) = fraction {
        formatted.push('.');
        formatted.push_str(fraction);
    }
    formatted
}

/// Formats a count with thousands separators: `1234567 -> 1,234,567`.
pub(crate) fn format_count(count: u64) -> String {
    group_thousands(&count.to_string())
}

fn group_thousands(digits: &str) -> String {
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// Rounds `value` to `decimals` places, half away from zero, working on the
/// shortest decimal representation so that `1.2345` (stored as
/// 1.23449999...) rounds the way it reads.
fn round_half_away(value: f64, decimals: usize) -> String {
    let shortest = format!("{}", value.abs());
    let (integer, fraction) = shortest.split_once('.').unwrap_or((&shortest, ""));
    // Decimal digits of the value, and where the decimal point goes.
    let mut digits: Vec<u8> = integer
        .bytes()
        .chain(fraction.bytes())
        .map(|b| b - b'0')
        .collect();
    let point = integer.len();
    let keep = point + decimals;
    if digits.len() > keep {
        let round_up = digits[keep] >= 5;
        digits.truncate(keep);
        if round_up {
            let mut index = keep;
            loop {
                if index == 0 {
                    digits.insert(0, 1);
                    break;
                }
                index -= 1;
                if digits[index] == 9 {
                    digits[index] = 0;
                } else {
                    digits[index] += 1;
                    break;
                }
            }
        }
    } else {
        digits.resize(keep, 0);
    }
    let point = point + (digits.len() - keep);
    let text: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
    let (integer, fraction) = text.split_at(point);
    let integer = integer.trim_start_matches('0');
    let integer = if integer.is_empty() { "0" } else { integer };
    let sign = if value < 0.0 { "-" } else { "" };
    if decimals == 0 {
        format!("{sign}{integer}")
    } else {
        format!("{sign}{integer}.{fraction}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_examples() {
        assert_eq!(format_significant(0.0), "0.000");
        assert_eq!(format_significant(12345.0), "12,345");
        assert_eq!(format_significant(1.2345), "1.235");
        assert_eq!(format_significant(0.00012345), "0.0001235");
        assert_eq!(format_significant(100.0), "100.0");
        assert_eq!(format_significant(204112.3), "204,112");
    }

    #[test]
    fn results_line_examples() {
        assert_eq!(format_significant(5.0), "5.000");
        assert_eq!(format_significant(10.0), "10.00");
        assert_eq!(format_significant(20.0), "20.00");
        assert_eq!(format_significant(0.05), "0.05000");
    }

    #[test]
    fn rounding_carries() {
        assert_eq!(format_significant(9.9996), "10.000");
        assert_eq!(format_significant(999.96), "1,000.0");
        assert_eq!(format_significant(0.99996), "1.0000");
        assert_eq!(format_significant(1234567.89), "1,234,568");
        assert_eq!(format_significant(-1.2345), "-1.235");
    }

    #[test]
    fn counts() {
        assert_eq!(format_count(0), "0");
        assert_eq!(format_count(999), "999");
        assert_eq!(format_count(1000), "1,000");
        assert_eq!(format_count(1234567), "1,234,567");
    }
}
