//! Claims from the provider's token answer (`token.open_id`): Kuaishou and
//! Withings name their user only there. Checked once at load: a `token.`
//! path reads only a field known to be no secret (or one the preset's
//! `userinfo_params` declares), never the access, refresh or ID token. The
//! fields read are sealed into the broker's access token when the bridge
//! serves `/userinfo`, so that it answers the ID token's `sub` statelessly.

use quirkgate_core::oidc::claims::{
    readable_token_field, ClaimPath, ClaimPaths, TokenFieldRefusal,
};

use crate::plan::error::{BridgeRefusal as Refusal, ConfigError, ConfigErrorKind, KeyPath};

/// The config's paths of one claim, typed.
pub fn claim_paths(paths: &[String]) -> Vec<ClaimPath> {
    paths.iter().map(|path| ClaimPath::parse(path)).collect()
}

/// A refusal at `claims` for each token-answer field a claim may not read
/// (`declared`: the preset's `userinfo_params`).
pub fn refused_token_fields(claims: &ClaimPaths, declared: &[String]) -> Vec<ConfigError> {
    claims
        .token_fields()
        .into_iter()
        .filter_map(|field| {
            let why = match readable_token_field(&field, declared).err()? {
                TokenFieldRefusal::Secret => Refusal::TokenClaimSecret { field },
                TokenFieldRefusal::NotAllowed => Refusal::TokenClaimNotAllowed { field },
            };
            Some(ConfigError::new(
                KeyPath::key("claims"),
                ConfigErrorKind::Bridge(why),
            ))
        })
        .collect()
}

/// The token-answer fields sealed into the broker's access token: those the
/// user call needs (`userinfo_params`), and, when the bridge serves
/// `/userinfo` (`serves_userinfo`), those its claims read. Without a
/// `/userinfo` the broker keeps the provider's own access token.
pub fn sealed_token_fields(
    claims: &ClaimPaths,
    userinfo_params: &[String],
    serves_userinfo: bool,
) -> Vec<String> {
    let mut fields = userinfo_params.to_vec();
    if serves_userinfo {
        for field in claims.token_fields() {
            if !fields.contains(&field) {
                fields.push(field);
            }
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    fn paths(subject: &[&str], name: &[&str]) -> ClaimPaths {
        ClaimPaths {
            subject: claim_paths(&strings(subject)),
            subject_prefix: String::new(),
            others: vec![("name".into(), claim_paths(&strings(name)))],
        }
    }

    fn refusals(errors: Vec<ConfigError>) -> Vec<Refusal> {
        errors
            .into_iter()
            .map(|e| {
                assert_eq!(e.key.to_string(), "claims");
                match e.kind {
                    ConfigErrorKind::Bridge(why) => why,
                    other => panic!("{other:?}"),
                }
            })
            .collect()
    }

    #[test]
    fn a_credential_or_an_undeclared_field_is_refused_and_a_known_one_is_not() {
        let greedy = paths(
            &["token.access_token", "token.open_id"],
            &[
                "token.refresh_token",
                "token.id_token",
                "token.expires_in",
                "token.shop",
            ],
        );
        let refused = refusals(refused_token_fields(&greedy, &strings(&["shop"])));
        assert_eq!(
            refused,
            [
                Refusal::TokenClaimSecret {
                    field: "access_token".into()
                },
                Refusal::TokenClaimSecret {
                    field: "refresh_token".into()
                },
                Refusal::TokenClaimSecret {
                    field: "id_token".into()
                },
                Refusal::TokenClaimNotAllowed {
                    field: "expires_in".into()
                },
            ]
        );
        assert!(refused[0].to_string().contains("never readable"));
        assert!(refused[3].to_string().contains("open_id"));
        // A preset cannot open a credential by declaring it.
        let declared = refusals(refused_token_fields(
            &paths(&["token.access_token"], &[]),
            &strings(&["access_token"]),
        ));
        assert_eq!(
            declared,
            [Refusal::TokenClaimSecret {
                field: "access_token".into()
            }]
        );
        assert!(refused_token_fields(&paths(&["token.userid"], &["nickname"]), &[]).is_empty());
    }

    #[test]
    fn the_fields_claims_read_are_sealed_only_for_a_bridge_with_userinfo() {
        let kuaishou = paths(&["token.open_id"], &["name"]);
        assert_eq!(sealed_token_fields(&kuaishou, &[], true), ["open_id"]);
        assert!(sealed_token_fields(&kuaishou, &[], false).is_empty());
        let wechat = paths(&["unionid", "token.openid"], &["nickname"]);
        assert_eq!(
            sealed_token_fields(&wechat, &strings(&["openid"]), true),
            ["openid"]
        );
    }
}
