//! A `corp_login:` block as an operator writes it, in a preset or a route
//! (`plan::corp_login` compiles it). Its secrets never print.

use std::fmt;

use serde::Deserialize;

use crate::plan::duration::DurationText;

/// A secret's text (`corp_secret`, a seal key): never printed.
#[derive(Deserialize, Clone)]
#[serde(transparent)]
pub struct SecretText(pub String);

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Which leg of the login a route serves.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CorpLeg {
    /// A standard client's code → the member (`auth/getuserinfo`) → our token.
    Token,
    /// Our token (Bearer) → the member's details (`user/get`).
    Userinfo,
}

/// `corp_login:` as written, in a preset or a route (the route's keys win).
#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct CorpLoginFile {
    pub leg: Option<CorpLeg>,
    /// WeCom's `gettoken` path, under the upstream's.
    pub corp_token_path: Option<String>,
    /// The member call: `auth/getuserinfo` (token leg) or `user/get` (user leg).
    pub member_path: Option<String>,
    pub corp_id: Option<String>,
    pub corp_secret: Option<SecretText>,
    #[serde(default)]
    pub seal_keys: Vec<SecretText>,
    pub token_lifetime: Option<DurationText>,
    pub refresh_before: Option<DurationText>,
}

impl CorpLoginFile {
    /// `self` (a preset's block) with each key `route` sets replaced.
    pub fn with(self, route: &CorpLoginFile) -> CorpLoginFile {
        let route = route.clone();
        CorpLoginFile {
            leg: route.leg.or(self.leg),
            corp_token_path: route.corp_token_path.or(self.corp_token_path),
            member_path: route.member_path.or(self.member_path),
            corp_id: route.corp_id.or(self.corp_id),
            corp_secret: route.corp_secret.or(self.corp_secret),
            seal_keys: if route.seal_keys.is_empty() {
                self.seal_keys
            } else {
                route.seal_keys
            },
            token_lifetime: route.token_lifetime.or(self.token_lifetime),
            refresh_before: route.refresh_before.or(self.refresh_before),
        }
    }
}
