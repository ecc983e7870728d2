//! Why a `corp_login:` block is refused at load: what is wrong at the key
//! the load error names.

use std::fmt;

/// Why a `corp_login:` block is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorpLoginRefusal {
    /// A key the login cannot do without.
    Missing(&'static str),
    /// A path that does not start with `/`.
    PathNotAbsolute(&'static str),
    /// A seal key that cannot be used (the reason).
    SealKey(String),
    /// `token_lifetime` is zero.
    ZeroLifetime,
}

impl fmt::Display for CorpLoginRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing(key) => write!(f, "corp_login needs `{key}`"),
            Self::PathNotAbsolute(key) => write!(f, "`{key}` must start with '/'"),
            Self::SealKey(why) => write!(f, "seal key refused: {why}"),
            Self::ZeroLifetime => f.write_str("`token_lifetime` must be above zero"),
        }
    }
}
