//! Why a rule of a `request:` or `response:` list is refused at load. The
//! text each prints is what operators read after `rule N (word):`.

use std::fmt;

use quirkgate_core::rules::request::Place;

/// One refused rule's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleRefusal {
    /// The rule is switched off, or its list is empty.
    DoesNothing,
    /// A request rule that names no parameter.
    NamesNothing,
    /// An empty parameter name.
    EmptyName(Place),
    /// A header name HTTP does not allow.
    BadHeaderName(String),
    /// A header the gateway writes itself (`content-length`, `host`).
    GatewayHeader(String),
    /// A header value with characters HTTP does not allow.
    BadHeaderValue,
    /// A name an earlier rule took away.
    Gone {
        place: Place,
        name: String,
        after_rule: usize,
    },
    /// `rename` onto the same name.
    RenamesToItself(String),
    /// `rename` where one name is both a source and a target.
    RenameChain(String),
    /// `keep_id` on `basic_to_body`.
    KeepIdMisplaced,
    /// `json_body` twice.
    JsonBodyTwice { first: usize },
    /// `json_body` after `method: GET`.
    BodyAfterGet { get_rule: usize },
    /// `method: GET` after `json_body`.
    GetAfterJsonBody { json_rule: usize },
    /// `bearer_to_header: authorization`.
    BearerAlreadyInAuthorization,
    /// `appsecret_proof` without its secret.
    AppSecretMissing,
    /// A signed-credential rule with an empty claim (`issuer`, `key_id`).
    EmptyClaim(&'static str),
    /// A signed client secret living longer than Apple accepts.
    LifetimeOverSixMonths,
    /// A key file that cannot be read or used.
    KeyFile { path: String, why: String },
    /// A response field path that does not parse.
    BadFieldPath(String),
    /// `unwrap` with no path.
    NoFieldPath,
    /// `form_to_json` with an unknown mode.
    UnknownFormMode(String),
    /// `convert` with an unknown conversion.
    UnknownConversion { path: String, word: String },
    /// `error_from.when` with no condition that can be false.
    ErrorAlways,
    /// `error_from.status` outside 4xx.
    NotClientErrorStatus(u16),
    /// `error_from` with neither `error` nor `default`.
    ErrorCodeMissing,
    /// `error_from.codes` with a key or value of the wrong type.
    BadCodeMap,
    /// `okru_sig` without the app's secret key.
    OkRuSecretMissing,
    /// A field path of a signed or wrapped word that does not parse, at its key.
    BadFieldPathAt { key: &'static str, text: String },
    /// `in_band_status` without `status`.
    NoStatusField,
    /// `in_band_status` without `success`.
    NoSuccessValues,
    /// A `success` value that is neither a string nor a number.
    SuccessNotScalar(String),
    /// A second `answer_signature` on one route.
    SignatureTwice,
}

impl fmt::Display for RuleRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DoesNothing => f.write_str("does nothing"),
            Self::NamesNothing => f.write_str("does nothing: name at least one parameter"),
            Self::EmptyName(place) => write!(f, "empty {} parameter name", place.word()),
            Self::BadHeaderName(name) => write!(f, "'{name}' is not a valid header name"),
            Self::GatewayHeader(name) => write!(
                f,
                "header '{name}' is set by the gateway and cannot be changed by rules"
            ),
            Self::BadHeaderValue => {
                f.write_str("header value has characters not allowed in HTTP headers")
            }
            Self::Gone {
                place,
                name,
                after_rule,
            } => write!(
                f,
                "can never apply: {} parameter '{name}' is gone after rule {after_rule}",
                place.word()
            ),
            Self::RenamesToItself(name) => write!(f, "renames '{name}' to itself"),
            Self::RenameChain(name) => write!(
                f,
                "'{name}' is both renamed and a rename target: split the chain into two rules"
            ),
            Self::KeepIdMisplaced => f.write_str("keep_id belongs to body_to_basic"),
            Self::JsonBodyTwice { first } => {
                write!(f, "does nothing: rule {first} already sends a JSON body")
            }
            Self::BodyAfterGet { get_rule } => write!(
                f,
                "can never apply: the body is not sent with the GET of rule {get_rule}"
            ),
            Self::GetAfterJsonBody { json_rule } => write!(
                f,
                "the JSON body of rule {json_rule} would never be sent with GET"
            ),
            Self::BearerAlreadyInAuthorization => {
                f.write_str("does nothing: the token is already in the Authorization header")
            }
            Self::AppSecretMissing => f.write_str(
                "needs the app secret in 'secret' (e.g. \"${FACEBOOK_APP_SECRET}\")",
            ),
            Self::EmptyClaim(name) => write!(f, "'{name}' is empty"),
            Self::LifetimeOverSixMonths => {
                f.write_str("lifetime is longer than 6 months (Apple refuses such secrets)")
            }
            Self::KeyFile { path, why } => write!(f, "key_file '{path}': {why}"),
            Self::BadFieldPath(text) => write!(
                f,
                "'{text}' is not a field path (write data.user or response.0)"
            ),
            Self::NoFieldPath => f.write_str("needs a field path"),
            Self::UnknownFormMode(mode) => {
                write!(f, "'{mode}': write true, false or any_content_type")
            }
            Self::UnknownConversion { path, word } => write!(
                f,
                "'{word}' for '{path}': write number, string or space_separated"
            ),
            Self::ErrorAlways => f.write_str(
                "'when' needs present, nonzero, equals or not_equals: otherwise it would turn every answer into an error",
            ),
            Self::NotClientErrorStatus(status) => {
                write!(f, "status {status} is not a 4xx status")
            }
            Self::ErrorCodeMissing => {
                f.write_str("needs 'error' (the field with the provider's code) or 'default'")
            }
            Self::BadCodeMap => {
                f.write_str("codes: keys must be strings or numbers, values strings")
            }
            Self::OkRuSecretMissing => f.write_str(
                "needs the app's secret key in 'secret' (e.g. \"${OKRU_CLIENT_SECRET}\")",
            ),
            Self::BadFieldPathAt { key, text } => {
                write!(f, "{key}: '{text}' is not a field path")
            }
            Self::NoStatusField => {
                f.write_str("needs 'status': the field that says whether the call worked")
            }
            Self::NoSuccessValues => {
                f.write_str("needs 'success': the status values of an answer that worked")
            }
            Self::SuccessNotScalar(value) => {
                write!(f, "success: {value} is not a string or a number")
            }
            Self::SignatureTwice => {
                f.write_str("an answer has one signature: one answer_signature per route")
            }
        }
    }
}
