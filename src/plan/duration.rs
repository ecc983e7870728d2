//! Durations as operators write them: `250ms`, `2s`, `1m`, `12h`, `30d`, or
//! a bare number of seconds.

use std::time::Duration;

use serde::Deserialize;

/// A duration written `250ms`, `2s`, `1m` or a bare number of seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DurationText(pub Duration);

impl<'de> Deserialize<'de> for DurationText {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Seconds(u64),
            Text(String),
        }
        match Raw::deserialize(de)? {
            Raw::Seconds(s) => Ok(DurationText(Duration::from_secs(s))),
            Raw::Text(t) => parse_duration(&t)
                .map(DurationText)
                .map_err(serde::de::Error::custom),
        }
    }
}

/// Why a duration does not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DurationError {
    /// No number in front (the text).
    NoNumber(String),
    /// A unit other than ms, s, m, h or d (the text).
    UnknownUnit(String),
}

impl std::fmt::Display for DurationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoNumber(text) => write!(f, "invalid duration '{text}' (write 250ms, 2s or 1m)"),
            Self::UnknownUnit(text) => {
                write!(
                    f,
                    "invalid duration unit in '{text}' (use ms, s, m, h or d)"
                )
            }
        }
    }
}

impl std::error::Error for DurationError {}

pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| DurationError::NoNumber(text.to_owned()))?;
    match unit {
        "ms" => Ok(Duration::from_millis(number)),
        "s" | "" => Ok(Duration::from_secs(number)),
        "m" => Ok(Duration::from_secs(number * 60)),
        "h" => Ok(Duration::from_secs(number * 3600)),
        "d" => Ok(Duration::from_secs(number * 86400)),
        _ => Err(DurationError::UnknownUnit(text.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_units_and_reject_garbage() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("1m").unwrap(), Duration::from_secs(60));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(
            parse_duration("30d").unwrap(),
            Duration::from_secs(30 * 86400)
        );
        assert_eq!(
            parse_duration("2x"),
            Err(DurationError::UnknownUnit("2x".into()))
        );
        assert_eq!(
            parse_duration("s"),
            Err(DurationError::NoNumber("s".into()))
        );
    }
}
