//! The Auth0 custom social connection a route needs, built from the file and
//! the route's preset (`broker:` block): the authorize leg and the user
//! profile never pass through the gateway, so the preset says what they are.
//! Pure: no network, no environment; secrets are carried with the text that
//! may be printed in their place.

use serde_json::{json, Map, Value};

use crate::plan::file::{load_preset, BrokerFile, GatewayFile, RouteFile};

/// A value that is never printed, and the text printed in its place.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    /// The real value; unknown when only printing (then the mask stands in).
    pub value: Option<String>,
    pub mask: String,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({})", self.mask)
    }
}

impl Secret {
    /// A secret read from an environment variable: printed as `${NAME}`.
    pub fn from_env(name: &str, value: Option<String>) -> Secret {
        Secret {
            value,
            mask: format!("${{{name}}}"),
        }
    }

    /// A secret from the configuration file, whose text before expansion was
    /// `raw`: printed as the variable it came from (`${NAME}`, never a
    /// `:-default`, which is itself a secret written in the file), else as
    /// `<redacted>`.
    pub fn from_file(value: String, raw: Option<&str>) -> Secret {
        Secret {
            value: Some(value),
            mask: mask_for_file_text(raw),
        }
    }

    /// What goes into a request: the value, or the mask when it is unknown.
    pub fn value_or_mask(&self) -> &str {
        self.value.as_deref().unwrap_or(&self.mask)
    }
}

/// `${NAME}` or `${NAME:-default}` alone → `${NAME}`; anything else → `<redacted>`.
pub fn mask_for_file_text(raw: Option<&str>) -> String {
    let reference = raw
        .and_then(|r| r.trim().strip_prefix("${"))
        .and_then(|r| r.strip_suffix('}'))
        .map(|inner| inner.split(":-").next().unwrap_or(""))
        .filter(|name| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
    match reference {
        Some(name) => format!("${{{name}}}"),
        None => "<redacted>".to_owned(),
    }
}

/// Replaces every known secret value inside `text` by its mask.
pub fn mask_text(text: &str, secrets: &[Secret]) -> String {
    let mut out = text.to_owned();
    for secret in secrets {
        if let Some(value) = secret.value.as_deref().filter(|v| !v.is_empty()) {
            out = out.replace(value, &secret.mask);
        }
    }
    out
}

/// The same JSON with every known secret value masked, in keys and strings.
pub fn mask_value(value: &Value, secrets: &[Secret]) -> Value {
    match value {
        Value::String(s) => Value::String(mask_text(s, secrets)),
        Value::Array(items) => Value::Array(items.iter().map(|v| mask_value(v, secrets)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (mask_text(k, secrets), mask_value(v, secrets)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// What the operator asked for: one route, the gateway's public URL, the
/// provider app's credentials.
pub struct ConnectionInputs<'a> {
    pub file: &'a GatewayFile,
    /// The same file before `${VAR}` expansion: masks come from it.
    pub raw_file: &'a serde_yaml::Value,
    pub route_path: &'a str,
    pub gateway_url: &'a str,
    /// The connection's name; the route's preset name when absent.
    pub name: Option<&'a str>,
    /// The provider app's client id (TikTok's Client Key): not a secret, it
    /// travels in every authorize URL.
    pub client_id: &'a str,
    pub client_secret: Secret,
}

/// An Auth0 connection with strategy `oauth2`, as `POST /api/v2/connections` takes it.
#[derive(Debug, Clone)]
pub struct Connection {
    pub name: String,
    /// The `options` object, secrets included (or their masks when unknown).
    pub options: Value,
    /// Every secret inside `options`, to mask whatever is printed.
    pub secrets: Vec<Secret>,
}

impl Connection {
    /// The body of `POST /api/v2/connections`.
    pub fn create_body(&self) -> Value {
        json!({ "name": self.name, "strategy": "oauth2", "options": self.options })
    }

    /// The body with every secret masked: what may be printed.
    pub fn printable(&self) -> Value {
        mask_value(&self.create_body(), &self.secrets)
    }
}

/// Builds the connection `inputs.route_path` needs, or says why it cannot.
pub fn build_connection(inputs: &ConnectionInputs) -> Result<Connection, String> {
    let (index, route) = find_route(inputs.file, inputs.route_path)?;
    let (label, broker) = route_broker(route)?;
    let source = label.as_str();
    let gateway = gateway_base(inputs.gateway_url)?;
    let name = match inputs.name {
        Some(name) => name.to_owned(),
        None => default_name(route),
    };
    check_connection_name(&name)?;
    let authorization_url = broker.authorization_url.clone().ok_or_else(|| {
        format!("{source}: its broker block has no authorization_url (is it a token route?)")
    })?;

    let mut secrets = vec![inputs.client_secret.clone()];
    let mut options = Map::new();
    options.insert("authorizationURL".into(), authorization_url.into());
    options.insert("tokenURL".into(), format!("{gateway}{}", route.path).into());
    if let Some(scope) = &broker.scope {
        options.insert("scope".into(), scope.clone().into());
    }
    options.insert("client_id".into(), inputs.client_id.into());
    options.insert(
        "client_secret".into(),
        inputs.client_secret.value_or_mask().into(),
    );
    let script = profile_script(inputs, source, &broker, &gateway, &mut secrets)?;
    options.insert("scripts".into(), json!({ "fetchUserProfile": script }));
    if let Some((header, secret)) = shared_secret(inputs.raw_file, index, route) {
        options.insert(
            "customHeaders".into(),
            json!({ header: secret.value_or_mask() }),
        );
        secrets.push(secret);
    }
    if !broker.authorize_params.is_empty() {
        let mut params = Map::new();
        for (param, carries) in &broker.authorize_params {
            let value = match carries.as_str() {
                "client_id" => inputs.client_id,
                other => {
                    return Err(format!(
                    "{source}: authorize_params.{param}: unknown value '{other}' (only client_id)"
                ))
                }
            };
            params.insert(param.clone(), json!({ "value": value }));
        }
        options.insert("upstream_params".into(), Value::Object(params));
    }
    Ok(Connection {
        name,
        options: Value::Object(options),
        secrets,
    })
}

fn find_route<'f>(file: &'f GatewayFile, path: &str) -> Result<(usize, &'f RouteFile), String> {
    file.routes
        .iter()
        .enumerate()
        .find(|(_, r)| r.path == path || r.aliases.iter().any(|a| a == path))
        .ok_or_else(|| {
            let paths: Vec<&str> = file.routes.iter().map(|r| r.path.as_str()).collect();
            format!("no route {path} in the file (routes: {})", paths.join(", "))
        })
}

/// The route's broker facts: its preset's block, with every key the route's
/// own block sets written over it; and what to call their source in messages.
fn route_broker(route: &RouteFile) -> Result<(String, BrokerFile), String> {
    let label = match &route.preset {
        Some(preset) => format!("preset '{preset}'"),
        None => format!("route {}", route.path),
    };
    let from_preset = match &route.preset {
        Some(preset) => load_preset(preset).map_err(|e| e.to_string())?.broker,
        None => None,
    };
    let broker = match (from_preset, route.broker.clone()) {
        (None, None) => {
            return Err(match &route.preset {
                Some(_) => format!("{label} carries no broker block: quirkgate does not know its authorize leg (give the route a broker block)"),
                None => format!("{label}: has no preset and no broker block; the authorize URL, scope and profile script come from one"),
            })
        }
        (Some(base), None) => base,
        (None, Some(own)) => own,
        (Some(base), Some(own)) => {
            let mut authorize_params = base.authorize_params;
            authorize_params.extend(own.authorize_params);
            BrokerFile {
                authorization_url: own.authorization_url.or(base.authorization_url),
                scope: own.scope.or(base.scope),
                authorize_params,
                userinfo_url: own.userinfo_url.or(base.userinfo_url),
                userinfo_route_preset: own.userinfo_route_preset.or(base.userinfo_route_preset),
                fetch_user_profile: own.fetch_user_profile.or(base.fetch_user_profile),
            }
        }
    };
    Ok((label, broker))
}

/// The preset's name, else the route's path as a name (`/github/token` → `github-token`).
fn default_name(route: &RouteFile) -> String {
    if let Some(preset) = &route.preset {
        return preset.clone();
    }
    route
        .path
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

fn broker_of(preset_name: &str) -> Result<BrokerFile, String> {
    load_preset(preset_name).map_err(|e| e.to_string())?.broker.ok_or_else(|| {
        format!("preset '{preset_name}' carries no broker block: quirkgate does not know its authorize leg")
    })
}

/// The gateway's public base URL, without a trailing slash.
fn gateway_base(url: &str) -> Result<String, String> {
    let base = url.trim_end_matches('/');
    let host = base
        .strip_prefix("https://")
        .or_else(|| base.strip_prefix("http://"))
        .unwrap_or("");
    if host.is_empty() || host.contains(['/', '?', '#', ' ']) {
        return Err(format!(
            "--gateway-url '{url}': write the gateway's public base URL, e.g. https://gateway.example.com"
        ));
    }
    Ok(base.to_owned())
}

/// Auth0's rule for connection names: letters and digits, single dashes between.
fn check_connection_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "connection name '{name}': Auth0 takes letters, digits and single dashes between them (at most 128)"
        ))
    }
}

/// The route's `shared_secret` header and its value, masked as the file wrote it.
fn shared_secret(
    raw_file: &serde_yaml::Value,
    index: usize,
    route: &RouteFile,
) -> Option<(String, Secret)> {
    let shared = route.shared_secret.as_ref()?;
    let raw = raw_file["routes"][index]["shared_secret"]["value"].as_str();
    Some((
        shared.header.clone(),
        Secret::from_file(shared.value.clone(), raw),
    ))
}

/// The Fetch User Profile script: the flat user-info route's when the file
/// has one the preset names, else the preset's own against the provider.
fn profile_script(
    inputs: &ConnectionInputs,
    source: &str,
    broker: &BrokerFile,
    gateway: &str,
    secrets: &mut Vec<Secret>,
) -> Result<String, String> {
    let userinfo_route = broker.userinfo_route_preset.as_deref().and_then(|wanted| {
        inputs
            .file
            .routes
            .iter()
            .enumerate()
            .find(|(_, r)| r.preset.as_deref() == Some(wanted))
            .map(|(i, r)| (wanted, i, r))
    });
    if let Some((userinfo_preset, index, route)) = userinfo_route {
        let template = broker_of(userinfo_preset)?
            .fetch_user_profile
            .ok_or_else(|| {
                format!("preset '{userinfo_preset}': its broker block has no fetch_user_profile")
            })?;
        let mut headers = Vec::new();
        if let Some((header, secret)) = shared_secret(inputs.raw_file, index, route) {
            headers.push((header, secret.value_or_mask().to_owned()));
            secrets.push(secret);
        }
        return render_script(&template, &format!("{gateway}{}", route.path), &headers)
            .map_err(|e| format!("preset '{userinfo_preset}': {e}"));
    }
    let template = broker
        .fetch_user_profile
        .as_deref()
        .ok_or_else(|| format!("{source}: its broker block has no fetch_user_profile"))?;
    let url = broker
        .userinfo_url
        .as_deref()
        .ok_or_else(|| format!("{source}: its broker block has no userinfo_url"))?;
    render_script(template, url, &[]).map_err(|e| format!("{source}: {e}"))
}

/// Fills a script template: `{{userinfo_url}}` becomes a string literal and
/// `{{headers}}` an object literal with the Bearer token and `extra` headers.
/// JSON string literals are JavaScript string literals, so no value can
/// break out of its quotes.
pub fn render_script(
    template: &str,
    userinfo_url: &str,
    extra: &[(String, String)],
) -> Result<String, String> {
    let mut headers = String::from("{ Authorization: 'Bearer ' + accessToken");
    for (name, value) in extra {
        headers.push_str(&format!(
            ", {}: {}",
            Value::from(name.as_str()),
            Value::from(value.as_str())
        ));
    }
    headers.push_str(" }");
    let script = template
        .replace("{{userinfo_url}}", &Value::from(userinfo_url).to_string())
        .replace("{{headers}}", &headers);
    if let Some(at) = script.find("{{") {
        let end = script[at..].find("}}").map_or(script.len(), |e| at + e + 2);
        return Err(format!(
            "fetch_user_profile: unknown placeholder {} (known: {{{{userinfo_url}}}}, {{{{headers}}}})",
            &script[at..end]
        ));
    }
    Ok(script)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::file::{parse_text, PRESETS};

    const FILE: &str = "routes:\n  - path: /token/proxy\n    aliases: [/proxy/token]\n    preset: tiktok\n    shared_secret: { header: X-Quirkgate-Secret, value: \"${SHARED:-fallback-secret}\" }\n";

    fn env(name: &str) -> Option<String> {
        (name == "SHARED").then(|| "s3cret-shared".to_owned())
    }

    fn build(text: &str, path: &str, secret: Option<&str>) -> Result<Connection, String> {
        let file = parse_text(text, &env).unwrap();
        let raw: serde_yaml::Value = serde_yaml::from_str(text).unwrap();
        build_connection(&ConnectionInputs {
            file: &file,
            raw_file: &raw,
            route_path: path,
            gateway_url: "https://gw.example.com/",
            name: None,
            client_id: "ck_123",
            client_secret: Secret::from_env("PROVIDER_CLIENT_SECRET", secret.map(str::to_owned)),
        })
    }

    #[test]
    fn a_tiktok_route_gets_every_option_from_its_preset_and_the_file() {
        let connection = build(FILE, "/proxy/token", Some("provider-secret")).unwrap();
        let body = connection.create_body();
        assert_eq!(body["name"], "tiktok");
        assert_eq!(body["strategy"], "oauth2");
        let options = &body["options"];
        assert_eq!(
            options["authorizationURL"],
            "https://www.tiktok.com/v2/auth/authorize/"
        );
        assert_eq!(options["tokenURL"], "https://gw.example.com/token/proxy");
        assert_eq!(options["scope"], "user.info.basic");
        assert_eq!(options["client_id"], "ck_123");
        assert_eq!(options["client_secret"], "provider-secret");
        assert_eq!(
            options["customHeaders"]["X-Quirkgate-Secret"],
            "s3cret-shared"
        );
        assert_eq!(options["upstream_params"]["client_key"]["value"], "ck_123");
        let script = options["scripts"]["fetchUserProfile"].as_str().unwrap();
        assert!(script.contains("body.data.user"), "{script}");
        assert!(script.contains("\"https://open.tiktokapis.com/v2/user/info/?fields=open_id,union_id,avatar_url,display_name\""));
    }

    #[test]
    fn printing_masks_every_secret_as_the_variable_it_came_from() {
        let connection = build(FILE, "/token/proxy", Some("provider-secret")).unwrap();
        let printed = connection.printable().to_string();
        assert!(
            !printed.contains("provider-secret") && !printed.contains("s3cret-shared"),
            "{printed}"
        );
        assert!(
            !printed.contains("fallback-secret"),
            "a default written in the file is a secret too"
        );
        assert!(
            printed.contains("${PROVIDER_CLIENT_SECRET}") && printed.contains("${SHARED}"),
            "{printed}"
        );
    }

    #[test]
    fn a_file_with_a_tiktok_userinfo_route_gets_the_flat_script() {
        let text = format!("{FILE}  - path: /tiktok/userinfo\n    preset: tiktok-userinfo\n    shared_secret: {{ header: X-Info-Secret, value: literal-info }}\n");
        let connection = build(&text, "/token/proxy", None).unwrap();
        let script = connection.options["scripts"]["fetchUserProfile"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            script.contains("\"https://gw.example.com/tiktok/userinfo\""),
            "{script}"
        );
        assert!(
            !script.contains("data.user") && script.contains("body.union_id"),
            "{script}"
        );
        assert!(
            script.contains("\"X-Info-Secret\": \"literal-info\""),
            "{script}"
        );
        let printed = connection.printable().to_string();
        assert!(
            !printed.contains("literal-info") && printed.contains("<redacted>"),
            "{printed}"
        );
    }

    #[test]
    fn routes_without_broker_facts_are_refused_with_the_reason() {
        let err = build(
            "routes:\n  - path: /t\n    upstream: http://127.0.0.1:1/\n",
            "/t",
            None,
        )
        .unwrap_err();
        assert!(err.contains("has no preset and no broker block"), "{err}");
        let err = build("routes:\n  - path: /t\n    preset: slack\n", "/t", None).unwrap_err();
        assert!(err.contains("no broker block"), "{err}");
        let err = build(FILE, "/nope", None).unwrap_err();
        assert!(
            err.contains("no route /nope") && err.contains("/token/proxy"),
            "{err}"
        );
    }

    #[test]
    fn a_routes_own_broker_block_wins_key_by_key_or_stands_alone() {
        let text = "routes:\n  - path: /t\n    preset: tiktok\n    broker: { scope: \"user.info.basic,video.list\" }\n  - path: /my/token\n    upstream: http://127.0.0.1:1/\n    broker:\n      authorization_url: https://idp.example/authorize\n      userinfo_url: https://idp.example/me\n      fetch_user_profile: \"function fetchUserProfile(accessToken, context, callback) { get({{userinfo_url}}, {{headers}}); }\"\n";
        let tiktok = build(text, "/t", None).unwrap();
        assert_eq!(tiktok.options["scope"], "user.info.basic,video.list");
        assert_eq!(
            tiktok.options["authorizationURL"],
            "https://www.tiktok.com/v2/auth/authorize/"
        );
        let own = build(text, "/my/token", None).unwrap();
        assert_eq!(own.name, "my-token");
        assert_eq!(
            own.options["authorizationURL"],
            "https://idp.example/authorize"
        );
        assert!(own.options.get("upstream_params").is_none());
        assert!(own.options["scripts"]["fetchUserProfile"]
            .as_str()
            .unwrap()
            .contains("get(\"https://idp.example/me\""));
    }

    #[test]
    fn masks_name_only_the_variable() {
        assert_eq!(mask_for_file_text(Some("${A_B}")), "${A_B}");
        assert_eq!(mask_for_file_text(Some("${A:-literal}")), "${A}");
        assert_eq!(mask_for_file_text(Some("pre-${A}")), "<redacted>");
        assert_eq!(mask_for_file_text(Some("plain")), "<redacted>");
        assert_eq!(mask_for_file_text(None), "<redacted>");
    }

    #[test]
    fn names_and_urls_are_checked() {
        assert!(check_connection_name("tiktok-eu1").is_ok());
        for bad in ["", "-a", "a-", "a--b", "a_b", "a b"] {
            assert!(check_connection_name(bad).is_err(), "{bad}");
        }
        assert_eq!(
            gateway_base("https://gw.example.com/").unwrap(),
            "https://gw.example.com"
        );
        assert!(gateway_base("gw.example.com").is_err());
        assert!(gateway_base("https://gw.example.com/token").is_err());
    }

    #[test]
    fn script_values_cannot_break_out_of_their_literals() {
        let script = render_script(
            "u={{userinfo_url}} h={{headers}}",
            "https://x/'\"</script>",
            &[("X-A".into(), "v'\"".into())],
        )
        .unwrap();
        assert_eq!(
            script,
            r#"u="https://x/'\"</script>" h={ Authorization: 'Bearer ' + accessToken, "X-A": "v'\"" }"#
        );
        assert!(render_script("{{user}}", "u", &[])
            .unwrap_err()
            .contains("{{user}}"));
    }

    #[test]
    fn every_shipped_broker_block_renders() {
        for (name, _) in PRESETS {
            let Some(broker) = load_preset(name).unwrap().broker else {
                continue;
            };
            if let Some(template) = &broker.fetch_user_profile {
                let script = render_script(template, "https://u", &[]).unwrap();
                assert!(script.contains("fetchUserProfile(accessToken"), "{name}");
            }
            for carries in broker.authorize_params.values() {
                assert_eq!(carries, "client_id", "{name}");
            }
            if let Some(other) = &broker.userinfo_route_preset {
                assert!(
                    load_preset(other).unwrap().broker.is_some(),
                    "{name} → {other}"
                );
            }
        }
    }
}
