//! What `--apply` would change on the tenant, before it writes anything.
//! `PATCH /api/v2/connections/{id}` replaces the whole `options` object, so
//! the options quirkgate manages are merged into the ones the tenant has:
//! every option set by hand survives. Pure: JSON in, JSON and lines out.

use std::collections::BTreeMap;

use serde_json::Value;

use super::connection::{mask_value, Secret};

/// `existing` with every leaf of `managed` written over it; objects merge
/// key by key, so a hand-set `customHeaders` entry or script stays.
pub fn merge_options(existing: &Value, managed: &Value) -> Value {
    match (existing, managed) {
        (Value::Object(old), Value::Object(new)) => {
            let mut merged = old.clone();
            for (key, value) in new {
                let combined = match old.get(key) {
                    Some(previous) => merge_options(previous, value),
                    None => value.clone(),
                };
                merged.insert(key.clone(), combined);
            }
            Value::Object(merged)
        }
        (_, new) => new.clone(),
    }
}

/// One leaf that changes, by its dotted path under the connection.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Added {
        path: String,
        new: Value,
    },
    Changed {
        path: String,
        old: Value,
        new: Value,
    },
}

/// The leaves of `after` that differ from `before` (a merge never removes one).
pub fn changes(prefix: &str, before: &Value, after: &Value) -> Vec<Change> {
    let (old, new) = (leaves(prefix, before), leaves(prefix, after));
    new.into_iter()
        .filter_map(|(path, new)| match old.get(&path) {
            None => Some(Change::Added { path, new }),
            Some(old) if *old != new => Some(Change::Changed {
                path,
                old: old.clone(),
                new,
            }),
            Some(_) => None,
        })
        .collect()
}

fn leaves(prefix: &str, value: &Value) -> BTreeMap<String, Value> {
    fn walk(path: &str, value: &Value, out: &mut BTreeMap<String, Value>) {
        match value {
            Value::Object(map) if !map.is_empty() => {
                for (key, child) in map {
                    walk(&format!("{path}.{key}"), child, out);
                }
            }
            leaf => {
                out.insert(path.to_owned(), leaf.clone());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(prefix, value, &mut out);
    out
}

/// Paths whose values are secrets whoever set them (the tenant's current
/// value is unknown to quirkgate's masks): never shown, only said to change.
fn is_secret_path(path: &str) -> bool {
    path.ends_with(".client_secret") || path.contains(".customHeaders.")
}

/// A change as one line of the diff; secrets masked, scripts summarised.
pub fn describe(change: &Change, secrets: &[Secret]) -> String {
    let show = |path: &str, value: &Value| -> String {
        if is_secret_path(path) {
            return "<secret>".to_owned();
        }
        match value {
            Value::String(s) if s.contains('\n') => {
                format!("<script, {} lines>", s.lines().count())
            }
            other => mask_value(other, secrets).to_string(),
        }
    };
    match change {
        Change::Added { path, new } => format!("  + {path}: {}", show(path, new)),
        Change::Changed { path, old, new } => {
            format!("  ~ {path}: {} -> {}", show(path, old), show(path, new))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_merge_keeps_every_option_set_by_hand() {
        let existing = json!({
            "tokenURL": "https://old/token", "client_secret": "old",
            "customHeaders": { "X-Tenant": "mine" },
            "scripts": { "fetchUserProfile": "old()", "other": "keep()" },
            "set_user_root_attributes": "on_first_login"
        });
        let managed = json!({
            "tokenURL": "https://gw/token", "client_secret": "new",
            "customHeaders": { "X-Quirkgate-Secret": "s" },
            "scripts": { "fetchUserProfile": "new()" }
        });
        assert_eq!(
            merge_options(&existing, &managed),
            json!({
                "tokenURL": "https://gw/token", "client_secret": "new",
                "customHeaders": { "X-Tenant": "mine", "X-Quirkgate-Secret": "s" },
                "scripts": { "fetchUserProfile": "new()", "other": "keep()" },
                "set_user_root_attributes": "on_first_login"
            })
        );
    }

    #[test]
    fn nothing_changes_when_the_tenant_already_has_it() {
        let options = json!({ "a": 1, "b": { "c": "d" } });
        let merged = merge_options(&options, &json!({ "b": { "c": "d" } }));
        assert!(changes("options", &options, &merged).is_empty());
    }

    #[test]
    fn changes_name_their_paths_and_never_show_secrets() {
        let before = json!({ "tokenURL": "https://old", "client_secret": "old-secret" });
        let after = json!({
            "tokenURL": "https://gw", "client_secret": "new-secret",
            "customHeaders": { "X-S": "header-secret" },
            "scripts": { "fetchUserProfile": "a\nb\n" },
            "scope": "x s3cret-in-text"
        });
        let secrets = [Secret::from_env("S", Some("s3cret-in-text".into()))];
        let lines: Vec<String> = changes("options", &before, &after)
            .iter()
            .map(|c| describe(c, &secrets))
            .collect();
        assert_eq!(
            lines,
            vec![
                "  ~ options.client_secret: <secret> -> <secret>",
                "  + options.customHeaders.X-S: <secret>",
                "  + options.scope: \"x ${S}\"",
                "  + options.scripts.fetchUserProfile: <script, 2 lines>",
                "  ~ options.tokenURL: \"https://old\" -> \"https://gw\"",
            ]
        );
    }
}
