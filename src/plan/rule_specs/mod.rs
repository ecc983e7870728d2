//! The rule words as operators write them (the file format of `request:`
//! and `response:`), and their compilation into rule types: request rules in
//! [`request`] (with the "can never apply" checker), response rules in
//! [`response`]. Compilation refuses what can never work, naming the rule.

pub(crate) mod refusal;
mod request;
mod response;
mod signed;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::plan::duration::DurationText;
use quirkgate_core::rules::request::TokenMethod;
use quirkgate_core::signed_jwt::JwtAlgorithm;

pub use request::{compile_request_rules, compile_route_request_rules};
pub use response::compile_response_rules;
pub use signed::{AnswerSignatureSpec, InBandStatusSpec, OkRuSigSpec, Rsa2SignSpec};

#[derive(Debug, Deserialize, Clone)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RequestRuleSpec {
    Remove(PlacedNames),
    Rename(PlacedPairs),
    Replace(PlacedPairs),
    Add(PlacedPairs),
    Append(PlacedPairs),
    BasicToBody(CredentialNames),
    BodyToBasic(CredentialNames),
    MoveToQuery(Vec<String>),
    MoveToBody(Vec<String>),
    Method(MethodWord),
    Require(RequireSpec),
    JsonBody(bool),
    BearerToQuery(String),
    BearerToHeader(String),
    AppsecretProof(AppSecretProofSpec),
    SignedClientSecret(SignedClientSecretSpec),
    ClientAssertion(ClientAssertionSpec),
    Rsa2Sign(Rsa2SignSpec),
    OkruSig(OkRuSigSpec),
}

/// `signed_client_secret`: Sign in with Apple's client secret.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct SignedClientSecretSpec {
    /// PEM private key (Apple's `.p8`).
    pub key_file: String,
    /// `kid` (Apple's Key ID).
    pub key_id: String,
    /// `iss` (Apple's Team ID).
    pub issuer: String,
    /// `sub`: the client id (Apple's Services ID).
    pub client_id: String,
    pub audience: String,
    #[serde(default = "default_es256")]
    pub algorithm: AlgorithmWord,
    /// Default 30 days; at most 6 months (Apple's limit).
    pub lifetime: Option<DurationText>,
}

/// `client_assertion`: RFC 7523 `private_key_jwt`.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct ClientAssertionSpec {
    pub key_file: String,
    pub key_id: Option<String>,
    /// `iss` and `sub`.
    pub client_id: String,
    /// `aud`: the provider's token endpoint, usually.
    pub audience: String,
    #[serde(default = "default_es256")]
    pub algorithm: AlgorithmWord,
    /// Default 5 minutes.
    pub lifetime: Option<DurationText>,
}

fn default_es256() -> AlgorithmWord {
    AlgorithmWord(JwtAlgorithm::Es256)
}

/// A closed word of the file format, read by the core's own parser of it (so
/// an unknown word is refused by the file parser, with its key and line).
macro_rules! closed_word {
    ($(#[$doc:meta])* $name:ident($inner:ty) by $parse:path) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name(pub $inner);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
                let text = String::deserialize(de)?;
                $parse(&text).map($name).map_err(serde::de::Error::custom)
            }
        }
    };
}

closed_word!(
    /// `method: GET` (any case): GET or POST.
    MethodWord(TokenMethod) by TokenMethod::parse
);
closed_word!(
    /// `algorithm: ES256` or `RS256`.
    AlgorithmWord(JwtAlgorithm) by JwtAlgorithm::parse
);

/// Apple's limit on a client secret's lifetime: six months (15777000 s).
pub const MAX_SIGNED_SECRET_LIFETIME: Duration = Duration::from_secs(15_777_000);
pub(super) const DEFAULT_SIGNED_SECRET_LIFETIME: Duration = Duration::from_secs(30 * 86400);
pub(super) const DEFAULT_ASSERTION_LIFETIME: Duration = Duration::from_secs(300);

/// `appsecret_proof: { secret: "${FACEBOOK_APP_SECRET}" }`.
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct AppSecretProofSpec {
    pub secret: String,
}

/// The secret never prints.
impl std::fmt::Debug for AppSecretProofSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppSecretProofSpec { secret: <redacted> }")
    }
}

#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct PlacedNames {
    #[serde(default)]
    pub body: Vec<String>,
    #[serde(default)]
    pub query: Vec<String>,
    #[serde(default)]
    pub headers: Vec<String>,
}

#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct PlacedPairs {
    #[serde(default)]
    pub body: BTreeMap<String, String>,
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct CredentialNames {
    #[serde(default = "default_id")]
    pub id: String,
    #[serde(default = "default_secret")]
    pub secret: String,
    /// `body_to_basic` only: the id stays in the body as well (X).
    #[serde(default)]
    pub keep_id: bool,
}

fn default_id() -> String {
    "client_id".into()
}
fn default_secret() -> String {
    "client_secret".into()
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RequireSpec {
    #[serde(default)]
    pub body: Vec<String>,
    #[serde(default)]
    pub query: Vec<String>,
    #[serde(default)]
    pub headers: Vec<String>,
    /// `invalid_client` (401) or `invalid_request` (400, the default).
    #[serde(default)]
    pub error: RequireError,
}

/// The error a `require` rule answers with.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum RequireError {
    /// 401: the missing parameter is a client credential.
    InvalidClient,
    /// 400.
    #[default]
    InvalidRequest,
}

/// One response rule: `- error_from: {…}`, `- unwrap: data`, `- form_to_json: true`, …
#[derive(Debug, Deserialize, Clone)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ResponseRuleSpec {
    ErrorFrom(Box<ErrorFromSpec>),
    Unwrap(String),
    FormToJson(FormToJsonSpec),
    Jsonp(bool),
    Rename(JsonPairs),
    Add(JsonValues),
    Remove(JsonNames),
    Convert(JsonPairs),
    AnswerSignature(AnswerSignatureSpec),
    InBandStatus(InBandStatusSpec),
}

/// `form_to_json: true` (answers labelled as forms) or `form_to_json:
/// any_content_type` (a form under any label, e.g. QQ's `text/html`).
#[derive(Debug, Deserialize, Clone)]
#[serde(untagged)]
pub enum FormToJsonSpec {
    On(bool),
    Mode(String),
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct JsonPairs {
    pub json: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct JsonValues {
    pub json: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct JsonNames {
    pub json: Vec<String>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct ErrorFromSpec {
    pub when: WhenSpec,
    pub error: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub codes: serde_yaml::Mapping,
    pub default: Option<String>,
    pub status: Option<u16>,
}

#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct WhenSpec {
    #[serde(default)]
    pub present: OneOrMany,
    #[serde(default)]
    pub absent: OneOrMany,
    #[serde(default)]
    pub nonzero: OneOrMany,
    #[serde(default)]
    pub equals: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub not_equals: BTreeMap<String, serde_json::Value>,
}

/// `present: error` or `present: [error, log_id]`.
#[derive(Debug, Deserialize, Clone, Default)]
#[serde(from = "OneOrManyRaw")]
pub struct OneOrMany(pub Vec<String>);

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrManyRaw {
    One(String),
    Many(Vec<String>),
}

impl From<OneOrManyRaw> for OneOrMany {
    fn from(raw: OneOrManyRaw) -> Self {
        match raw {
            OneOrManyRaw::One(s) => OneOrMany(vec![s]),
            OneOrManyRaw::Many(v) => OneOrMany(v),
        }
    }
}

impl RequestRuleSpec {
    pub fn word(&self) -> &'static str {
        match self {
            RequestRuleSpec::Remove(_) => "remove",
            RequestRuleSpec::Rename(_) => "rename",
            RequestRuleSpec::Replace(_) => "replace",
            RequestRuleSpec::Add(_) => "add",
            RequestRuleSpec::Append(_) => "append",
            RequestRuleSpec::BasicToBody(_) => "basic_to_body",
            RequestRuleSpec::BodyToBasic(_) => "body_to_basic",
            RequestRuleSpec::MoveToQuery(_) => "move_to_query",
            RequestRuleSpec::MoveToBody(_) => "move_to_body",
            RequestRuleSpec::Method(_) => "method",
            RequestRuleSpec::Require(_) => "require",
            RequestRuleSpec::JsonBody(_) => "json_body",
            RequestRuleSpec::BearerToQuery(_) => "bearer_to_query",
            RequestRuleSpec::BearerToHeader(_) => "bearer_to_header",
            RequestRuleSpec::AppsecretProof(_) => "appsecret_proof",
            RequestRuleSpec::SignedClientSecret(_) => "signed_client_secret",
            RequestRuleSpec::ClientAssertion(_) => "client_assertion",
            RequestRuleSpec::Rsa2Sign(_) => "rsa2_sign",
            RequestRuleSpec::OkruSig(_) => "okru_sig",
        }
    }
}

/// Map of YAML scalars (numbers or strings) to strings, e.g. WeChat's numeric error codes.
pub(super) fn scalar_map(
    map: &serde_yaml::Mapping,
) -> Result<Vec<(String, String)>, refusal::RuleRefusal> {
    let text = |v: &serde_yaml::Value| match v {
        serde_yaml::Value::String(s) => Some(s.clone()),
        serde_yaml::Value::Number(n) => Some(n.to_string()),
        serde_yaml::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    map.iter()
        .map(|(k, v)| match (text(k), v.as_str()) {
            (Some(k), Some(v)) => Ok((k, v.to_owned())),
            _ => Err(refusal::RuleRefusal::BadCodeMap),
        })
        .collect()
}
