//! The provider's user, as OpenID Connect claims: each claim reads the first
//! of its configured paths that the user has (`sub` from `union_id`, else
//! `open_id`). Any claim name may map to any path (`email_verified`,
//! `locale`, or a provider's own field under a name the operator picks), and
//! `sub` may carry a per-bridge prefix (`tiktok|`) so that subjects stay
//! unique when a broker links several bridges. No `sub`, no claims: an ID
//! token is never issued for a user the provider did not name.

use serde_json::{Map, Value};

/// Where each claim is in the provider's user; compiled from the preset.
#[derive(Clone, Debug, Default)]
pub struct ClaimPaths {
    pub subject: Vec<String>,
    /// Put in front of the subject (`tiktok|`); empty for none.
    pub subject_prefix: String,
    /// Other claims (`name`, `picture`, `email`, …), in the order listed.
    pub others: Vec<(String, Vec<String>)>,
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

impl ClaimPaths {
    /// `sub` (always text: a numeric id such as GitHub's becomes its
    /// decimal text) and every other claim the user has; `None` without `sub`.
    pub fn claims(&self, user: &Value) -> Option<Map<String, Value>> {
        let subject = self
            .subject
            .iter()
            .find_map(|path| lookup(user, path).and_then(claim_value))?;
        let subject = match subject {
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
            if let Some(value) = paths
                .iter()
                .find_map(|path| lookup(user, path).and_then(claim_value))
            {
                claims.insert(name.clone(), value);
            }
        }
        Some(claims)
    }
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
}
