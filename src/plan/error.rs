//! Load errors: where in the file (a [`KeyPath`]) and what is wrong (a
//! [`ConfigErrorKind`]). Display prints the text operators have always seen.

use std::fmt;

pub use crate::plan::oidc_refusal::BridgeRefusal;
pub use crate::plan::rule_specs::refusal::RuleRefusal;
pub use crate::plan::store_refusal::StoreRefusal;
pub use crate::plan::upstream::{CaFileError, UpstreamUrlError};

/// Why a `${VAR}` could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VariableError {
    /// `${` with no `}` (the whole text).
    Unclosed(String),
    /// A name with characters other than letters, digits and `_`.
    BadName(String),
    /// A variable with no default that is not set.
    Unset(String),
}

impl fmt::Display for VariableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unclosed(text) => write!(f, "unclosed '${{' in '{text}'"),
            Self::BadName(name) => write!(f, "invalid variable name '{name}'"),
            Self::Unset(name) => write!(f, "environment variable {name} is not set"),
        }
    }
}

/// One step of a [`KeyPath`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A mapping key: `upstream`, `rate_limit`.
    Key(&'static str),
    /// A list position after a key: `[2]`.
    Index(usize),
    /// A route, named by its position and path: `routes[0] (/token)`.
    Route { index: usize, path: String },
    /// A list item named by its position and a label of its own, the way a
    /// route is: `oidc[0] (https://id.example)`, `signing_keys[1] (k1)`.
    Labeled {
        key: &'static str,
        index: usize,
        label: String,
    },
    /// A key path as the YAML reader spells it (`routes[0].timeout`).
    Spelled(String),
}

/// Where an error is in the file, built segment by segment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPath(Vec<Segment>);

impl KeyPath {
    /// The file itself: no key.
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// The path of one key at the top.
    pub fn key(name: &'static str) -> Self {
        Self::root().then(name)
    }

    /// Route `index`, with its `path` as label.
    pub fn route(index: usize, path: &str) -> Self {
        Self(vec![Segment::Route {
            index,
            path: path.to_owned(),
        }])
    }

    /// Item `index` of list `key`, labeled (see [`Segment::Labeled`]).
    pub fn labeled(mut self, key: &'static str, index: usize, label: &str) -> Self {
        self.0.push(Segment::Labeled {
            key,
            index,
            label: label.to_owned(),
        });
        self
    }

    /// A path as the YAML reader printed it; the file itself when empty or `.`.
    pub fn spelled(path: &str) -> Self {
        if path.is_empty() || path == "." {
            Self::root()
        } else {
            Self(vec![Segment::Spelled(path.to_owned())])
        }
    }

    /// This path, then a key.
    pub fn then(mut self, name: &'static str) -> Self {
        self.0.push(Segment::Key(name));
        self
    }

    /// This path, then a list position.
    pub fn at(mut self, index: usize) -> Self {
        self.0.push(Segment::Index(index));
        self
    }

    /// `inner` seen from this path (a route's error, named by its route).
    pub fn join(mut self, inner: &KeyPath) -> Self {
        self.0.extend(inner.0.iter().cloned());
        self
    }

    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut previous: Option<&Segment> = None;
        for segment in &self.0 {
            match segment {
                Segment::Index(i) => write!(f, "[{i}]")?,
                _ if previous.is_some() => {
                    // A labeled item's own keys follow its label: `routes[0] (/t): upstream`.
                    let sep = if matches!(
                        previous,
                        Some(Segment::Route { .. } | Segment::Labeled { .. })
                    ) {
                        ": "
                    } else {
                        "."
                    };
                    f.write_str(sep)?;
                    write_named(f, segment)?;
                }
                _ => write_named(f, segment)?,
            }
            previous = Some(segment);
        }
        Ok(())
    }
}

fn write_named(f: &mut fmt::Formatter<'_>, segment: &Segment) -> fmt::Result {
    match segment {
        Segment::Key(name) => f.write_str(name),
        Segment::Route { index, path } => write!(f, "routes[{index}] ({path})"),
        Segment::Index(i) => write!(f, "[{i}]"),
        Segment::Labeled { key, index, label } => write!(f, "{key}[{index}] ({label})"),
        Segment::Spelled(path) => f.write_str(path),
    }
}

/// What is wrong at a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigErrorKind {
    /// `routes` is empty.
    NoRoutes,
    /// A route path (or alias) that does not start with `/`.
    PathNotAbsolute(String),
    /// A path already served by another route.
    PathTaken(String),
    /// `allowed_client_ids` is empty or holds an empty id.
    NoAllowedClientIds,
    /// No `upstream`, and no preset gives one.
    UpstreamMissing,
    /// `max_body_bytes` outside `1..=limit`.
    BodyLimitOutOfRange { value: usize, limit: usize },
    /// `connect_timeout` or `timeout` is zero.
    ZeroTimeout,
    /// `connect_timeout` is longer than `timeout`.
    ConnectTimeoutOverTimeout,
    /// A grant in `retry_after_send` that may never be sent twice.
    SingleUseGrant(String),
    /// `provider_concurrency` outside `1..=max`.
    ConcurrencyOutOfRange { max: usize },
    /// A count that must be at least 1 (`rate_limit.*`, `max_concurrent_exchanges`).
    BelowOne,
    /// `allow_sources: []`.
    NoAllowSources,
    /// A rule of a `request:` or `response:` list (numbered from 1, as the
    /// operator counts them) refused, with why.
    Rule {
        list: RuleList,
        number: usize,
        word: &'static str,
        why: RuleRefusal,
    },
    /// The file could not be read (the system's reason).
    Unreadable(String),
    /// YAML the reader refused: bad syntax, an unknown key, a wrong type.
    Syntax(String),
    /// A `${VAR}` that cannot be expanded.
    Variable(VariableError),
    /// A `preset:` that is not shipped, and the names that are.
    UnknownPreset {
        name: String,
        known: Vec<&'static str>,
    },
    /// A preset whose `${VAR}`s are not set.
    PresetNeedsVariables {
        preset: String,
        missing: Vec<String>,
    },
    /// A shipped preset that does not read (a packaging fault).
    PresetUnreadable {
        preset: String,
        error: Box<ConfigError>,
    },
    /// A method outside GET and POST.
    UnknownMethod(String),
    /// An address block that does not parse (the parser's reason).
    AddressBlock(String),
    /// A `shared_secret` the gateway cannot check (the reason).
    SharedSecret(String),
    /// An `upstream` URL the gateway cannot send to.
    Upstream(UpstreamUrlError),
    /// A `ca_file` that cannot be used.
    CaFile { path: String, why: CaFileError },
    /// An `oidc` block refused.
    Bridge(BridgeRefusal),
    /// A `store:` block refused.
    Store(StoreRefusal),
    /// A preset's upstream whose host is not the one its preset allows.
    TenantHost { host: String, pattern: String },
    /// A `corp_login:` block refused.
    CorpLogin(crate::plan::corp_login_refusal::CorpLoginRefusal),
}

impl fmt::Display for ConfigErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoRoutes => f.write_str("at least one route is needed"),
            Self::PathNotAbsolute(path) => write!(f, "path '{path}' must start with '/'"),
            Self::PathTaken(path) => write!(f, "path '{path}' is used by another route"),
            Self::NoAllowedClientIds => f.write_str("list at least one client id, none empty"),
            Self::UpstreamMissing => f.write_str("missing (no preset provides one)"),
            Self::BodyLimitOutOfRange { value, limit } => {
                write!(f, "{value} is outside 1..={limit}")
            }
            Self::ZeroTimeout => f.write_str("connect_timeout and timeout must be above zero"),
            Self::ConnectTimeoutOverTimeout => {
                f.write_str("connect_timeout is longer than timeout (the whole exchange)")
            }
            Self::SingleUseGrant(grant) => write!(
                f,
                "'{grant}' is single-use at the provider and can never be sent twice"
            ),
            Self::ConcurrencyOutOfRange { max } => write!(f, "must be from 1 to {max}"),
            Self::BelowOne => f.write_str("must be at least 1"),
            Self::NoAllowSources => {
                f.write_str("list at least one block (omit the key to allow any)")
            }
            Self::Rule {
                list,
                number,
                word,
                why,
            } => write!(f, "{list} rule {number} ({word}): {why}"),
            Self::Unreadable(why) | Self::Syntax(why) => f.write_str(why),
            Self::Variable(why) => write!(f, "{why}"),
            Self::UnknownPreset { name, known } => {
                write!(f, "unknown preset '{name}' (known: {})", known.join(", "))
            }
            Self::PresetNeedsVariables { preset, missing } => write!(
                f,
                "preset '{preset}' needs environment variable(s) {} (not set)",
                missing.join(", ")
            ),
            Self::PresetUnreadable { preset, error } => write!(f, "preset '{preset}': {error}"),
            Self::UnknownMethod(name) => write!(f, "'{name}' is not supported (GET or POST)"),
            Self::AddressBlock(why) | Self::SharedSecret(why) => f.write_str(why),
            Self::Upstream(why) => write!(f, "{why}"),
            Self::CaFile { path, why } => write!(f, "ca_file {path}: {why}"),
            Self::Bridge(why) => write!(f, "{why}"),
            Self::Store(why) => write!(f, "{why}"),
            Self::CorpLogin(why) => write!(f, "{why}"),
            Self::TenantHost { host, pattern } => write!(
                f,
                "the preset's upstream host '{host}' is not {pattern}: check the value its ${{…}} names"
            ),
        }
    }
}

/// Which rule list a [`ConfigErrorKind::Rule`] is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleList {
    Request,
    Response,
}

impl fmt::Display for RuleList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Request => "request",
            Self::Response => "response",
        })
    }
}

/// A load error in a named file: what `load_file` returns, printed as
/// `FILE: KEY: WHAT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub file: String,
    pub error: Box<ConfigError>,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.error)
    }
}

impl std::error::Error for FileError {}

/// One load error: its key and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub key: KeyPath,
    pub kind: ConfigErrorKind,
}

impl ConfigError {
    pub fn new(key: KeyPath, kind: ConfigErrorKind) -> Self {
        Self { key, kind }
    }

    /// This error seen from `outer` (a route's error, named by its route).
    pub fn under(self, outer: &KeyPath) -> Self {
        Self {
            key: outer.clone().join(&self.key),
            kind: self.kind,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_root() {
            write!(f, "{}", self.kind)
        } else {
            write!(f, "{}: {}", self.key, self.kind)
        }
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_path_prints_as_the_file_spells_it() {
        let key = KeyPath::route(0, "/t")
            .then("rate_limit")
            .then("per_route_per_second");
        assert_eq!(
            key.to_string(),
            "routes[0] (/t): rate_limit.per_route_per_second"
        );
        let key = KeyPath::key("oidc").at(1).then("clients").at(0);
        assert_eq!(key.to_string(), "oidc[1].clients[0]");
        let error = ConfigError::new(KeyPath::route(2, "/x"), ConfigErrorKind::ZeroTimeout);
        assert_eq!(
            error.to_string(),
            "routes[2] (/x): connect_timeout and timeout must be above zero"
        );
    }
}
