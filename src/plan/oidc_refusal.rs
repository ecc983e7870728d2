//! Why an `oidc:` block is refused at load: what is wrong at the key the
//! load error names.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BridgeRefusal {
    /// A bridge endpoint on a path a route serves.
    PathIsRoute(String),
    /// A bridge endpoint on a path another block serves.
    PathServedTwice(String),
    /// `issuer` does not parse as a URL (the parser's reason).
    IssuerNotUrl(String),
    /// `issuer` is not https (http only on loopback).
    IssuerNotHttps,
    /// `issuer` has no host, or a query or a fragment.
    IssuerShape,
    /// `issuer` ends with `/`.
    IssuerTrailingSlash,
    /// `token_route` or `userinfo_route` names no route.
    NoSuchRoute(String),
    /// No `authorize_url`, and the preset has none.
    AuthorizeUrlMissing,
    /// `authorize_url` is not http(s).
    AuthorizeUrlNotHttp,
    /// `claims.sub` is empty.
    NoSubject,
    /// A claim the bridge sets itself.
    ReservedClaim(&'static str),
    /// `signing_keys: []`.
    NoSigningKeys,
    /// A `kid` empty or used twice.
    KidNotUnique,
    /// A signing key that cannot be read or used (the reason).
    SigningKey(String),
    /// A seal key that cannot be used (the reason).
    SealKey(String),
    /// `redirect_uris: []`.
    NoRedirectUris,
    /// A redirect URI that is not http(s), or has a fragment.
    BadRedirectUri(String),
    /// `client_ids: []`.
    NoClientIds,
    /// `id_token_lifetime` under a minute.
    LifetimeUnderMinute,
    /// A claim with an empty name.
    UnnamedClaim,
    /// `subject_prefix` too long or not visible ASCII (the longest allowed).
    SubjectPrefix { max: usize },
    /// `state_alphabet` outside the known ones.
    UnknownStateAlphabet(String),
    /// `state_max_bytes` below what a sealed login needs.
    StateCapTooSmall { min: usize },
    /// `provider_id_token.jwks_uri` is not https (http only on loopback).
    ProviderJwksUri,
    /// `provider_id_token.issuer` is empty.
    ProviderIssuerEmpty,
    /// `sub` or an email claim read from what a page posts to the callback.
    ClaimFromCallbackUser(String),
    /// `provider_id_token` has neither `jwks_uri` nor `signed_with`, or both.
    ProviderKeySource,
    /// `provider_id_token.signed_with` is not `client_secret`.
    UnknownSignedWith(String),
    /// No `userinfo_route`, and no `provider_id_token` to take the claims from.
    NoUserSource,
    /// `userinfo_route: []`, or more routes than a user leg may take.
    UserStepCount { max: usize },
    /// The routes `userinfo_route` lists and the preset's `user_steps` differ in number.
    UserStepsUnmatched { routes: usize, steps: usize },
    /// A step is sent a field no earlier step gives and the token answer does not carry.
    StepFieldUnprovided { field: String },
    /// `provider_pkce` other than `S256`.
    UnknownProviderPkce(String),
    /// `callback_code_param` is not a parameter name (`auth_code`).
    CallbackCodeParam(String),
    /// `provider_redirect_uri` is empty or holds spaces or control characters.
    ProviderRedirectUri,
    /// An `authorize_extra` parameter the bridge sets itself, or empty.
    AuthorizeExtra(String),
    /// An `authorize_extra` value the preset leaves to the bridge block, not given.
    AuthorizeExtraMissing(String),
    /// A `token.` claim path names a credential of the token answer.
    TokenClaimSecret { field: String },
    /// A `token.` claim path names a field that is not known to be no secret.
    TokenClaimNotAllowed { field: String },
}

impl fmt::Display for BridgeRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PathIsRoute(path) => write!(f, "{path} is also a route's path"),
            Self::PathServedTwice(path) => write!(f, "{path} is served by another oidc block"),
            Self::IssuerNotUrl(why) | Self::SigningKey(why) | Self::SealKey(why) => {
                f.write_str(why)
            }
            Self::IssuerNotHttps => {
                f.write_str("must be an https:// URL (http:// only on loopback)")
            }
            Self::IssuerShape => f.write_str("a URL with a host, and no query or fragment"),
            Self::IssuerTrailingSlash => {
                f.write_str("no trailing '/' (brokers compare it exactly)")
            }
            Self::NoSuchRoute(path) => write!(f, "no route has path '{path}'"),
            Self::AuthorizeUrlMissing => {
                f.write_str("missing (the token route's preset names no authorize URL)")
            }
            Self::AuthorizeUrlNotHttp => f.write_str("must be an http(s) URL"),
            Self::NoSubject => {
                f.write_str("'sub' needs at least one path into the provider's user")
            }
            Self::ReservedClaim(claim) => {
                write!(f, "'{claim}' is set by the bridge, not the provider")
            }
            Self::NoSigningKeys => f.write_str("list at least one"),
            Self::KidNotUnique => f.write_str("each key needs a kid of its own"),
            Self::NoRedirectUris => f.write_str("list the brokers' callback URLs"),
            Self::BadRedirectUri(uri) => {
                write!(f, "'{uri}' is not an http(s) URL without a fragment")
            }
            Self::NoClientIds => f.write_str("list at least one (omit the key to serve any)"),
            Self::LifetimeUnderMinute => f.write_str("at least 1m"),
            Self::UnnamedClaim => f.write_str("a claim needs a name"),
            Self::SubjectPrefix { max } => {
                write!(f, "at most {max} visible ASCII characters (`tiktok|`)")
            }
            Self::UnknownStateAlphabet(word) => {
                write!(f, "'{word}' is not base64url or alphanumeric")
            }
            Self::StateCapTooSmall { min } => {
                write!(f, "at least {min} (a sealed login needs that much)")
            }
            Self::ProviderJwksUri => {
                f.write_str("must be an https:// URL (http:// only on loopback)")
            }
            Self::ProviderIssuerEmpty => f.write_str("the provider's ID token iss is needed"),
            Self::ClaimFromCallbackUser(name) => write!(
                f,
                "{name} may not come from callback_user: what a page posts beside the code is not signed"
            ),
            Self::ProviderKeySource => f.write_str(
                "one of jwks_uri (the provider's published keys) or signed_with: client_secret (HS256, LINE)",
            ),
            Self::UnknownSignedWith(word) => write!(
                f,
                "'{word}' is not client_secret (the only secret a provider keys ID tokens with)"
            ),
            Self::NoUserSource => f.write_str(
                "missing: without a provider_id_token or a `token.` path for sub, the claims need a user-info route",
            ),
            Self::UserStepCount { max } => write!(f, "list 1 to {max} routes"),
            Self::UserStepsUnmatched { routes, steps } => write!(
                f,
                "{routes} routes for a user leg of {steps} steps (the preset's user_steps)"
            ),
            Self::StepFieldUnprovided { field } => write!(
                f,
                "'{field}' is given by no earlier step and is not in userinfo_params"
            ),
            Self::CallbackCodeParam(name) => write!(
                f,
                "'{name}' is not a query parameter name (letters, digits, `_`, `-`, `.`)"
            ),
            Self::AuthorizeExtra(name) => write!(
                f,
                "'{name}' is empty or a parameter the bridge sets itself (the client id, redirect_uri, response_type, scope, state, nonce, code_challenge)"
            ),
            Self::AuthorizeExtraMissing(name) => write!(
                f,
                "'{name}' needs a value: the preset leaves it to the bridge block (`authorize_extra: {{ {name}: … }}`)"
            ),
            Self::ProviderRedirectUri => f.write_str(
                "must be the value the provider has registered (a URL or an eBay RuName): visible ASCII, no spaces",
            ),
            Self::UnknownProviderPkce(word) => {
                write!(
                    f,
                    "'{word}' is not S256 (the only method sent to providers)"
                )
            }
            Self::TokenClaimSecret { field } => write!(
                f,
                "'token.{field}' would put a credential of the token answer in a claim; it is never readable"
            ),
            Self::TokenClaimNotAllowed { field } => write!(
                f,
                "'token.{field}' is not readable: a token-answer claim reads only {} or a field of the preset's userinfo_params",
                quirkgate_core::oidc::claims::NON_SECRET_TOKEN_FIELDS.join(", ")
            ),
        }
    }
}
