//! The provider's user, as OpenID Connect claims: each claim reads the first
//! of its configured paths that the user has (`sub` from `union_id`, else
//! `open_id`). Any claim name may map to any path (`email_verified`,
//! `locale`, or a provider's own field under a name the operator picks), and
//! `sub` may carry a per-bridge prefix (`tiktok|`) so that subjects stay
//! unique when a broker links several bridges. No `sub`, no claims: an ID
//! token is never issued for a user the provider did not name.
//!
//! A path may also read the provider's token answer (`token.open_id`:
//! Kuaishou and Withings name their user only there). Only fields known to
//! be no secret are readable: a token-answer path naming the access, refresh
//! or ID token is refused at load, and never read here either.

use serde_json::{Map, Value};

/// A claim path that starts so reads the token answer's field after it.
pub const TOKEN_ANSWER_PREFIX: &str = "token.";

/// Where the user object the claim paths read holds what the provider's
/// page posted to the callback beside the code (Apple's `user`, with the
/// name, on a user's first consent): `callback_user.name.firstName`. It is
/// not signed, so neither `sub` nor an email claim may come from it.
pub const CALLBACK_USER_KEY: &str = "callback_user";

/// Claims that may not come from the unsigned [`CALLBACK_USER_KEY`].
pub const NOT_FROM_CALLBACK_USER: [&str; 3] = ["sub", "email", "email_verified"];

/// Token-answer fields that are credentials: never a claim, whatever the config says.
pub const SECRET_TOKEN_FIELDS: [&str; 3] = ["access_token", "refresh_token", "id_token"];

/// Token-answer fields that name the user or the grant and are no secret,
/// readable by a claim path on any bridge (a preset's `userinfo_params` are too).
pub const NON_SECRET_TOKEN_FIELDS: [&str; 8] = [
    "open_id", "openid", "union_id", "unionid", "userid", "user_id", "uid", "scope",
];

/// Where one claim path reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClaimPath {
    /// A dotted path into the provider's user (`data.user.union_id`).
    User(String),
    /// A field of the provider's token answer, as the token route shaped it (`open_id`).
    TokenAnswer(String),
}

impl ClaimPath {
    /// A path as the config spells it: `token.open_id` reads the token
    /// answer, anything else the user.
    pub fn parse(text: &str) -> Self {
        match text.strip_prefix(TOKEN_ANSWER_PREFIX) {
            Some(field) => ClaimPath::TokenAnswer(field.to_owned()),
            None => ClaimPath::User(text.to_owned()),
        }
    }

    /// Whether this path reads what the page posted to the callback.
    pub fn reads_callback_user(&self) -> bool {
        match self {
            ClaimPath::User(path) => path
                .strip_prefix(CALLBACK_USER_KEY)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('.')),
            ClaimPath::TokenAnswer(_) => false,
        }
    }

    /// The token-answer field this path reads, if it reads one.
    pub fn token_field(&self) -> Option<&str> {
        match self {
            ClaimPath::TokenAnswer(field) => Some(field),
            ClaimPath::User(_) => None,
        }
    }

    /// The claim value at this path: from the `user`, or from the `token`
    /// answer's field as text (a number becomes its decimal text).
    fn read(&self, user: &Value, token: &Map<String, Value>) -> Option<Value> {
        match self {
            ClaimPath::User(path) => lookup(user, path).and_then(claim_value),
            ClaimPath::TokenAnswer(field) if SECRET_TOKEN_FIELDS.contains(&field.as_str()) => None,
            ClaimPath::TokenAnswer(field) => match token.get(field)? {
                Value::String(text) if !text.is_empty() => Some(text.clone().into()),
                Value::Number(number) => Some(number.to_string().into()),
                _ => None,
            },
        }
    }
}

impl From<&str> for ClaimPath {
    fn from(text: &str) -> Self {
        ClaimPath::parse(text)
    }
}

/// Why a token-answer claim path is refused at load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenFieldRefusal {
    /// The field is a credential ([`SECRET_TOKEN_FIELDS`]).
    Secret,
    /// The field is neither a known non-secret one nor a `userinfo_params` field.
    NotAllowed,
}

/// Whether a claim path may read the token answer's `field`: never a
/// credential; else a [`NON_SECRET_TOKEN_FIELDS`] field or one of `declared`
/// (the preset's `userinfo_params`).
pub fn readable_token_field(field: &str, declared: &[String]) -> Result<(), TokenFieldRefusal> {
    if SECRET_TOKEN_FIELDS.contains(&field) {
        Err(TokenFieldRefusal::Secret)
    } else if NON_SECRET_TOKEN_FIELDS.contains(&field) || declared.iter().any(|d| d == field) {
        Ok(())
    } else {
        Err(TokenFieldRefusal::NotAllowed)
    }
}

/// Where each claim is in the provider's user; compiled from the preset.
#[derive(Clone, Debug, Default)]
pub struct ClaimPaths {
    pub subject: Vec<ClaimPath>,
    /// Put in front of the subject (`tiktok|`); empty for none.
    pub subject_prefix: String,
    /// Other claims (`name`, `picture`, `email`, …), in the order listed.
    pub others: Vec<(String, Vec<ClaimPath>)>,
}

/// The value at a dotted path (`data.user.union_id`).
pub fn lookup<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(value, |node, key| node.get(key))
}

/// A claim value: non-empty text, a number or a boolean; never null, an
/// object or a list.
fn claim_value(value: &Value) -> Option<Value> {
    match value {
        Value::String(text) if !text.is_empty() => Some(value.clone()),
        Value::Number(_) | Value::Bool(_) => Some(value.clone()),
        _ => None,
    }
}

fn first_value(paths: &[ClaimPath], user: &Value, token: &Map<String, Value>) -> Option<Value> {
    paths.iter().find_map(|path| path.read(user, token))
}

impl ClaimPaths {
    /// [`ClaimPaths::claims_with`] with no token answer: claims from the user only.
    pub fn claims(&self, user: &Value) -> Option<Map<String, Value>> {
        self.claims_with(user, &Map::new())
    }

    /// `sub` (always text: a numeric id such as GitHub's becomes its
    /// decimal text) and every other claim the `user` or the `token`
    /// answer has; `None` without `sub`.
    pub fn claims_with(
        &self,
        user: &Value,
        token: &Map<String, Value>,
    ) -> Option<Map<String, Value>> {
        let subject = match first_value(&self.subject, user, token)? {
            Value::String(text) => text,
            Value::Number(number) => number.to_string(),
            _ => return None,
        };
        let mut claims = Map::new();
        claims.insert(
            "sub".into(),
            format!("{}{subject}", self.subject_prefix).into(),
        );
        for (name, paths) in &self.others {
            if let Some(value) = first_value(paths, user, token) {
                claims.insert(name.clone(), value);
            }
        }
        Some(claims)
    }

    /// Every token-answer field a claim reads, each once, in order.
    pub fn token_fields(&self) -> Vec<String> {
        let mut fields: Vec<String> = Vec::new();
        let paths = self
            .subject
            .iter()
            .chain(self.others.iter().flat_map(|(_, paths)| paths));
        for field in paths.filter_map(ClaimPath::token_field) {
            if !fields.iter().any(|known| known == field) {
                fields.push(field.to_owned());
            }
        }
        fields
    }

    /// Whether a claim reads what the page posted to the callback (Apple's `user`).
    pub fn reads_callback_user(&self) -> bool {
        self.others
            .iter()
            .flat_map(|(_, paths)| paths)
            .any(ClaimPath::reads_callback_user)
    }

    /// Whether the subject can come from the token answer alone (Withings:
    /// the bridge needs no user call).
    pub fn subject_from_token_answer(&self) -> bool {
        self.subject.iter().any(|path| path.token_field().is_some())
    }
}

/// Sealed token-answer fields (`(name, text)` pairs) as a token answer the
/// claim paths read.
pub fn token_answer_of(fields: &[(String, String)]) -> Map<String, Value> {
    fields
        .iter()
        .map(|(name, value)| (name.clone(), Value::String(value.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tiktok() -> ClaimPaths {
        ClaimPaths {
            subject: vec!["union_id".into(), "open_id".into()],
            others: vec![
                ("name".into(), vec!["display_name".into()]),
                ("picture".into(), vec!["avatar_url".into()]),
                ("email".into(), vec!["email".into()]),
            ],
            ..Default::default()
        }
    }

    #[test]
    fn sub_is_the_first_path_the_user_has() {
        let claims = tiktok()
            .claims(&json!({"open_id": "o1", "union_id": "u1", "display_name": "Ann"}))
            .unwrap();
        assert_eq!(claims["sub"], "u1");
        assert_eq!(claims["name"], "Ann");
        assert!(!claims.contains_key("email") && !claims.contains_key("picture"));
        let fallback = tiktok()
            .claims(&json!({"open_id": "o1", "union_id": ""}))
            .unwrap();
        assert_eq!(fallback["sub"], "o1", "an empty union_id is no subject");
    }

    #[test]
    fn no_subject_means_no_claims() {
        assert!(tiktok().claims(&json!({"display_name": "Ann"})).is_none());
        assert!(tiktok().claims(&json!({"union_id": null})).is_none());
        assert!(tiktok().claims(&json!({"union_id": {"id": 1}})).is_none());
        assert!(tiktok().claims(&json!("text")).is_none());
    }

    #[test]
    fn numeric_ids_become_text_and_paths_go_deep() {
        let github = ClaimPaths {
            subject: vec!["id".into()],
            others: vec![("name".into(), vec!["name".into(), "login".into()])],
            ..Default::default()
        };
        let claims = github
            .claims(&json!({"id": 583231, "name": null, "login": "octocat"}))
            .unwrap();
        assert_eq!(claims["sub"], "583231");
        assert_eq!(claims["name"], "octocat", "null name falls back to login");
        let deep = ClaimPaths {
            subject: vec!["data.user.open_id".into()],
            ..Default::default()
        };
        assert_eq!(
            deep.claims(&json!({"data": {"user": {"open_id": "x"}}}))
                .unwrap()["sub"],
            "x"
        );
    }

    #[test]
    fn any_claim_name_maps_to_a_path_and_keeps_its_type() {
        let shaped = ClaimPaths {
            subject: vec!["id".into()],
            subject_prefix: String::new(),
            others: vec![
                ("email_verified".into(), vec!["verified_email".into()]),
                ("locale".into(), vec!["profile.lang".into()]),
                ("tiktok_open_id".into(), vec!["open_id".into()]),
                ("followers".into(), vec!["stats.followers".into()]),
            ],
        };
        let claims = shaped
            .claims(&json!({
                "id": "u1",
                "verified_email": true,
                "profile": {"lang": "ja-JP"},
                "open_id": "o-9",
                "stats": {"followers": 12}
            }))
            .unwrap();
        assert_eq!(claims["email_verified"], json!(true), "a boolean stays one");
        assert_eq!(claims["locale"], "ja-JP");
        assert_eq!(claims["tiktok_open_id"], "o-9");
        assert_eq!(claims["followers"], json!(12));
        let sparse = shaped
            .claims(&json!({"id": "u1", "verified_email": false}))
            .unwrap();
        assert_eq!(
            sparse["email_verified"],
            json!(false),
            "false is a value, not an absence"
        );
        assert_eq!(sparse.len(), 2, "absent claims are left out: {sparse:?}");
    }

    #[test]
    fn the_subject_carries_the_bridges_prefix_and_no_subject_is_still_refused() {
        let prefixed = ClaimPaths {
            subject_prefix: "tiktok|".into(),
            ..tiktok()
        };
        let claims = prefixed.claims(&json!({"union_id": "u1"})).unwrap();
        assert_eq!(claims["sub"], "tiktok|u1");
        let numeric = ClaimPaths {
            subject: vec!["id".into()],
            subject_prefix: "github|".into(),
            others: vec![],
        };
        assert_eq!(
            numeric.claims(&json!({"id": 583231})).unwrap()["sub"],
            "github|583231"
        );
        // A prefix is no subject: a user the provider did not name gets no claims.
        for user in [
            json!({"display_name": "Ann"}),
            json!({"union_id": ""}),
            json!({"open_id": null}),
        ] {
            assert!(prefixed.claims(&user).is_none(), "{user}");
        }
    }

    fn kuaishou() -> ClaimPaths {
        ClaimPaths {
            subject: vec!["token.open_id".into()],
            others: vec![
                ("name".into(), vec!["name".into()]),
                ("picture".into(), vec!["bigHead".into(), "head".into()]),
                ("scope".into(), vec!["token.scope".into()]),
            ],
            ..Default::default()
        }
    }

    fn token(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn a_token_path_reads_the_token_answer_and_a_user_path_never_does() {
        assert_eq!(
            ClaimPath::parse("token.open_id"),
            ClaimPath::TokenAnswer("open_id".into())
        );
        assert_eq!(
            ClaimPath::parse("tokens.x"),
            ClaimPath::User("tokens.x".into())
        );
        let user = json!({"name": "Mock Kuaishou", "head": "h", "open_id": "from-user"});
        let answer =
            token(json!({"open_id": "ks-open-1", "scope": "user_info", "access_token": "ks.1"}));
        let claims = kuaishou().claims_with(&user, &answer).unwrap();
        assert_eq!(
            claims["sub"], "ks-open-1",
            "the token answer's, not the user's"
        );
        assert_eq!(claims["name"], "Mock Kuaishou");
        assert_eq!(claims["picture"], "h");
        assert_eq!(claims["scope"], "user_info");
        // A user field of the same name is no token field: without the answer, no subject.
        assert!(kuaishou().claims(&user).is_none());
        assert!(kuaishou()
            .claims_with(&user, &token(json!({"open_id": ""})))
            .is_none());
    }

    #[test]
    fn a_numeric_token_field_becomes_text_and_the_prefix_applies() {
        let withings = ClaimPaths {
            subject: vec!["token.userid".into()],
            subject_prefix: "withings|".into(),
            others: vec![],
        };
        let claims = withings
            .claims_with(&Value::Null, &token(json!({"userid": 363})))
            .unwrap();
        assert_eq!(claims["sub"], "withings|363");
        // Sealed fields come back as text and give the same subject.
        let sealed = token_answer_of(&[("userid".into(), "363".into())]);
        assert_eq!(withings.claims_with(&Value::Null, &sealed), Some(claims));
        assert!(withings
            .claims_with(&Value::Null, &token(json!({"userid": null})))
            .is_none());
        assert!(withings.subject_from_token_answer());
        assert!(!tiktok().subject_from_token_answer());
    }

    #[test]
    fn a_credential_is_never_a_claim_even_if_a_path_names_it() {
        let greedy = ClaimPaths {
            subject: vec!["token.access_token".into(), "id".into()],
            others: vec![
                ("rt".into(), vec!["token.refresh_token".into()]),
                ("it".into(), vec!["token.id_token".into()]),
            ],
            ..Default::default()
        };
        let answer = token(json!({"access_token": "A", "refresh_token": "R", "id_token": "I"}));
        let claims = greedy.claims_with(&json!({"id": "u1"}), &answer).unwrap();
        assert_eq!(claims, token(json!({"sub": "u1"})));
        for secret in SECRET_TOKEN_FIELDS {
            assert_eq!(
                readable_token_field(secret, &[secret.to_owned()]),
                Err(TokenFieldRefusal::Secret),
                "declaring {secret} does not make it readable"
            );
        }
        assert_eq!(readable_token_field("open_id", &[]), Ok(()));
        assert_eq!(readable_token_field("shop", &["shop".into()]), Ok(()));
        for other in ["expires_in", "token_type", "open_id.x", ""] {
            assert_eq!(
                readable_token_field(other, &[]),
                Err(TokenFieldRefusal::NotAllowed),
                "{other}"
            );
        }
    }

    #[test]
    fn the_token_fields_read_are_listed_once_in_order() {
        let mut paths = kuaishou();
        paths
            .others
            .push(("kuaishou_id".into(), vec!["token.open_id".into()]));
        assert_eq!(paths.token_fields(), ["open_id", "scope"]);
        assert!(tiktok().token_fields().is_empty());
    }
}
