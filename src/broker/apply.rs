//! `quirkgate auth0 connection --apply`: find the connection by name, say
//! what changes, then write only that; a second run finds nothing to change
//! and writes nothing.

use serde_json::{json, Value};

use super::changes::{changes, describe, merge_options};
use super::connection::Connection;
use super::management_api::ManagementApi;

/// Creates or updates `connection` and enables it for `enable_clients`,
/// printing each step through `say` (every secret masked).
pub async fn apply_connection(
    api: &ManagementApi,
    connection: &Connection,
    enable_clients: &[String],
    say: &mut dyn FnMut(String),
) -> Result<(), String> {
    let name = &connection.name;
    let mut wrote = false;
    let id = match api.find_connection(name).await? {
        None => {
            say(format!("connection '{name}': create"));
            for change in changes("options", &json!({}), &connection.options) {
                say(describe(&change, &connection.secrets));
            }
            let created = api.create_connection(&connection.create_body()).await?;
            let id = id_of(&created)?;
            say(format!("created connection '{name}' ({id})"));
            wrote = true;
            id
        }
        Some(existing) => {
            let id = id_of(&existing)?;
            let before = existing.get("options").cloned().unwrap_or(json!({}));
            // PATCH replaces the whole options object: send the merge, never just ours.
            let merged = merge_options(&before, &connection.options);
            let diff = changes("options", &before, &merged);
            if !diff.is_empty() {
                say(format!("connection '{name}' ({id}): update"));
                for change in &diff {
                    say(describe(change, &connection.secrets));
                }
                api.replace_options(&id, &merged).await?;
                say(format!("updated connection '{name}' ({id})"));
                wrote = true;
            }
            id
        }
    };
    if !enable_clients.is_empty() {
        let enabled = api.enabled_clients(&id).await?;
        let missing: Vec<String> = enable_clients
            .iter()
            .filter(|c| !enabled.contains(c))
            .cloned()
            .collect();
        if !missing.is_empty() {
            for client in &missing {
                say(format!("  + enabled for application {client}"));
            }
            api.enable_clients(&id, &missing).await?;
            say(format!(
                "enabled connection '{name}' for {} application(s)",
                missing.len()
            ));
            wrote = true;
        }
    }
    if !wrote {
        say(format!("connection '{name}' ({id}): no changes"));
    }
    Ok(())
}

fn id_of(connection: &Value) -> Result<String, String> {
    connection["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "auth0: the connection in Auth0's answer has no id".to_owned())
}
