//! The rule words as operators write them, and their compilation into rule
//! types. Compilation refuses what can never work, naming the rule.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde::Deserialize;

use crate::plan::duration::DurationText;
use quirkgate_core::http1::fields::{owned_header, Owned};
use quirkgate_core::rules::request::*;
use quirkgate_core::rules::response::*;
use quirkgate_core::signed_jwt::{JwtAlgorithm, JwtClaims, JwtMinter};

/// One request rule, written as a single-key map: `- rename: { body: { client_id: client_key } }`.
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
    Method(String),
    Require(RequireSpec),
    JsonBody(bool),
    BearerToQuery(String),
    BearerToHeader(String),
    AppsecretProof(AppSecretProofSpec),
    SignedClientSecret(SignedClientSecretSpec),
    ClientAssertion(ClientAssertionSpec),
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
    pub algorithm: String,
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
    pub algorithm: String,
    /// Default 5 minutes.
    pub lifetime: Option<DurationText>,
}

fn default_es256() -> String {
    "ES256".into()
}

/// Apple's limit on a client secret's lifetime: six months (15777000 s).
pub const MAX_SIGNED_SECRET_LIFETIME: Duration = Duration::from_secs(15_777_000);
const DEFAULT_SIGNED_SECRET_LIFETIME: Duration = Duration::from_secs(30 * 86400);
const DEFAULT_ASSERTION_LIFETIME: Duration = Duration::from_secs(300);

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
    #[serde(default = "default_require_error")]
    pub error: String,
}

fn default_require_error() -> String {
    "invalid_request".into()
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
        }
    }
}

/// Tracks, across the rule list, which names an earlier rule took away, so a
/// later rule that can only act on them is refused at load.
#[derive(Default)]
struct NameTracker {
    gone: HashMap<(Place, String), usize>,
}

impl NameTracker {
    fn check(&self, place: Place, name: &str) -> Result<(), String> {
        match self.gone.get(&(place, name.to_owned())) {
            Some(rule) => Err(format!(
                "can never apply: {} parameter '{name}' is gone after rule {rule}",
                place.word()
            )),
            None => Ok(()),
        }
    }
    fn remove(&mut self, place: Place, name: &str, rule: usize) {
        self.gone.insert((place, name.to_owned()), rule);
    }
    fn appear(&mut self, place: Place, name: &str) {
        self.gone.remove(&(place, name.to_owned()));
    }
}

fn placed<T: Clone>(body: &T, query: &T, headers: &T) -> [(Place, T); 3] {
    [
        (Place::Body, body.clone()),
        (Place::Query, query.clone()),
        (Place::Headers, headers.clone()),
    ]
}

fn check_name(place: Place, name: &str) -> Result<String, String> {
    if name.is_empty() {
        return Err(format!("empty {} parameter name", place.word()));
    }
    if place != Place::Headers {
        return Ok(name.to_owned());
    }
    let lower = name.to_ascii_lowercase();
    http::HeaderName::from_bytes(lower.as_bytes())
        .map_err(|_| format!("'{name}' is not a valid header name"))?;
    if owned_header(&lower) == Some(Owned::Written) {
        return Err(format!(
            "header '{name}' is set by the gateway and cannot be changed by rules"
        ));
    }
    Ok(lower)
}

fn check_header_value(place: Place, value: &str) -> Result<(), String> {
    if place == Place::Headers && http::HeaderValue::from_str(value).is_err() {
        return Err("header value has characters not allowed in HTTP headers".into());
    }
    Ok(())
}

/// Compiles request rules in list order (the order they run in); errors
/// number them from 1, as the operator counts them in the file.
pub fn compile_request_rules(
    specs: &[RequestRuleSpec],
) -> Result<Vec<Box<dyn RequestRule>>, String> {
    compile_route_request_rules(specs, "")
}

/// [`compile_request_rules`] for a named route (its name goes in the log
/// lines of rules that act on their own, such as signed credential renewal).
pub fn compile_route_request_rules(
    specs: &[RequestRuleSpec],
    route: &str,
) -> Result<Vec<Box<dyn RequestRule>>, String> {
    let mut compiling = Compiling {
        route: route.to_owned(),
        number: 0,
        tracker: NameTracker::default(),
        rules: Vec::new(),
        get_since: None,
        json_since: None,
        bearer_in_query: None,
    };
    for (index, spec) in specs.iter().enumerate() {
        compiling.number = index + 1;
        let label = |e: String| format!("request rule {} ({}): {e}", index + 1, spec.word());
        let before = compiling.rules.len();
        compiling.rule(spec).map_err(label)?;
        if compiling.rules.len() == before {
            return Err(label("does nothing: name at least one parameter".into()));
        }
    }
    Ok(compiling.rules)
}

/// The request rules compiled so far, and which names they took away.
struct Compiling {
    route: String,
    /// The rule being compiled, from 1, as error messages name it.
    number: usize,
    tracker: NameTracker,
    rules: Vec<Box<dyn RequestRule>>,
    /// The `method: GET` rule in force, if any: bodies are not sent after it.
    get_since: Option<usize>,
    /// The `json_body` rule, if any.
    json_since: Option<usize>,
    /// The query parameter a `bearer_to_query` rule put the token in.
    bearer_in_query: Option<String>,
}

impl Compiling {
    /// Each rule type compiles itself; this only dispatches.
    fn rule(&mut self, spec: &RequestRuleSpec) -> Result<(), String> {
        match spec {
            RequestRuleSpec::Remove(names) => self.remove(names),
            RequestRuleSpec::Rename(pairs) => self.rename(pairs),
            RequestRuleSpec::Replace(pairs) => self.set(pairs, SetMode::Replace),
            RequestRuleSpec::Add(pairs) => self.set(pairs, SetMode::Add),
            RequestRuleSpec::Append(pairs) => self.set(pairs, SetMode::Append),
            RequestRuleSpec::BasicToBody(names) => self.basic_to_body(names),
            RequestRuleSpec::BodyToBasic(names) => self.body_to_basic(names),
            RequestRuleSpec::MoveToQuery(names) => {
                self.move_params(names, Place::Body, Place::Query)
            }
            RequestRuleSpec::MoveToBody(names) => {
                self.move_params(names, Place::Query, Place::Body)
            }
            RequestRuleSpec::Method(method) => self.method(method),
            RequestRuleSpec::Require(require) => self.require(require),
            RequestRuleSpec::JsonBody(on) => self.json_body(*on),
            RequestRuleSpec::BearerToQuery(name) => self.move_bearer(Place::Query, name),
            RequestRuleSpec::BearerToHeader(name) => self.move_bearer(Place::Headers, name),
            RequestRuleSpec::AppsecretProof(spec) => self.appsecret_proof(spec),
            RequestRuleSpec::SignedClientSecret(spec) => self.signed_client_secret(spec),
            RequestRuleSpec::ClientAssertion(spec) => self.client_assertion(spec),
        }
    }

    /// Reads the key and mints the first token: a missing or unusable key
    /// file is refused here, at load and by `--test`.
    fn minter(
        &self,
        key_file: &str,
        algorithm: &str,
        claims: JwtClaims,
    ) -> Result<JwtMinter, String> {
        let algorithm = JwtAlgorithm::parse(algorithm)?;
        for (name, value) in [
            ("issuer", &claims.issuer),
            ("client_id", &claims.subject),
            ("audience", &claims.audience),
        ] {
            if value.is_empty() {
                return Err(format!("'{name}' is empty"));
            }
        }
        let pem = std::fs::read(key_file).map_err(|e| format!("key_file '{key_file}': {e}"))?;
        JwtMinter::new(
            &pem,
            algorithm,
            claims,
            &self.route,
            std::time::SystemTime::now(),
        )
        .map_err(|e| format!("key_file '{key_file}': {e}"))
    }

    /// The body parameters a client credential rule leaves for the rules after it.
    fn credential_params(&mut self, added: &[&str]) {
        self.tracker.appear(Place::Body, "client_id");
        for name in added {
            self.tracker.appear(Place::Body, name);
        }
    }

    fn signed_client_secret(&mut self, spec: &SignedClientSecretSpec) -> Result<(), String> {
        let lifetime = spec
            .lifetime
            .map_or(DEFAULT_SIGNED_SECRET_LIFETIME, |d| d.0);
        if lifetime > MAX_SIGNED_SECRET_LIFETIME {
            return Err("lifetime is longer than 6 months (Apple refuses such secrets)".into());
        }
        if spec.key_id.is_empty() {
            return Err("'key_id' is empty".into());
        }
        let minter = self.minter(
            &spec.key_file,
            &spec.algorithm,
            JwtClaims {
                key_id: Some(spec.key_id.clone()),
                issuer: spec.issuer.clone(),
                subject: spec.client_id.clone(),
                audience: spec.audience.clone(),
                lifetime,
                with_jti: false,
            },
        )?;
        self.credential_params(&["client_secret"]);
        self.rules.push(Box::new(SignedClientSecret {
            minter,
            client_id: spec.client_id.clone(),
        }));
        Ok(())
    }

    fn client_assertion(&mut self, spec: &ClientAssertionSpec) -> Result<(), String> {
        let minter = self.minter(
            &spec.key_file,
            &spec.algorithm,
            JwtClaims {
                key_id: spec.key_id.clone(),
                issuer: spec.client_id.clone(),
                subject: spec.client_id.clone(),
                audience: spec.audience.clone(),
                lifetime: spec.lifetime.map_or(DEFAULT_ASSERTION_LIFETIME, |d| d.0),
                with_jti: true,
            },
        )?;
        self.tracker
            .remove(Place::Body, "client_secret", self.number);
        self.credential_params(&["client_assertion", "client_assertion_type"]);
        self.rules.push(Box::new(ClientAssertion {
            minter,
            client_id: spec.client_id.clone(),
        }));
        Ok(())
    }

    fn json_body(&mut self, on: bool) -> Result<(), String> {
        if !on {
            return Ok(());
        }
        if let Some(rule) = self.json_since {
            return Err(format!(
                "does nothing: rule {rule} already sends a JSON body"
            ));
        }
        if let Some(rule) = self.get_since {
            return Err(format!(
                "can never apply: the body is not sent with the GET of rule {rule}"
            ));
        }
        self.json_since = Some(self.number);
        self.rules.push(Box::new(JsonBody));
        Ok(())
    }

    /// `bearer_to_query` and `bearer_to_header`.
    fn move_bearer(&mut self, to: Place, name: &str) -> Result<(), String> {
        let name = check_name(to, name)?;
        if to == Place::Headers && name == "authorization" {
            return Err("does nothing: the token is already in the Authorization header".into());
        }
        self.tracker.check(Place::Headers, "authorization")?;
        self.tracker
            .remove(Place::Headers, "authorization", self.number);
        self.tracker.appear(to, &name);
        if to == Place::Query {
            self.bearer_in_query = Some(name.clone());
        }
        self.rules.push(Box::new(MoveBearer { to, name }));
        Ok(())
    }

    fn appsecret_proof(&mut self, spec: &AppSecretProofSpec) -> Result<(), String> {
        if spec.secret.is_empty() {
            return Err(
                "needs the app secret in 'secret' (e.g. \"${FACEBOOK_APP_SECRET}\")".into(),
            );
        }
        // The token is read where the rules before left it.
        let token_query_name = match self.tracker.check(Place::Headers, "authorization") {
            Ok(()) => None,
            Err(why) => Some(self.bearer_in_query.clone().ok_or(why)?),
        };
        self.tracker.appear(Place::Query, "appsecret_proof");
        self.rules.push(Box::new(AppSecretProof::new(
            &spec.secret,
            token_query_name,
        )));
        Ok(())
    }

    /// Checks names a rule needs present in `place`; `takes_away` when the
    /// rule leaves them gone for the rules after it.
    fn present_names(
        &mut self,
        place: Place,
        names: &[String],
        takes_away: bool,
    ) -> Result<Vec<String>, String> {
        let mut checked = Vec::with_capacity(names.len());
        for name in names {
            let name = check_name(place, name)?;
            self.tracker.check(place, &name)?;
            if takes_away {
                self.tracker.remove(place, &name, self.number);
            }
            checked.push(name);
        }
        Ok(checked)
    }

    fn remove(&mut self, names: &PlacedNames) -> Result<(), String> {
        for (place, list) in placed(&names.body, &names.query, &names.headers) {
            if list.is_empty() {
                continue;
            }
            let checked = self.present_names(place, &list, true)?;
            self.rules.push(Box::new(RemoveParams {
                place,
                names: checked,
            }));
        }
        Ok(())
    }

    fn rename(&mut self, pairs: &PlacedPairs) -> Result<(), String> {
        for (place, map) in placed(&pairs.body, &pairs.query, &pairs.headers) {
            if map.is_empty() {
                continue;
            }
            let mut checked = Vec::new();
            for (from, to) in &map {
                let (from, to) = (check_name(place, from)?, check_name(place, to)?);
                if from == to {
                    return Err(format!("renames '{from}' to itself"));
                }
                if map.contains_key(&to) {
                    return Err(format!("'{to}' is both renamed and a rename target: split the chain into two rules"));
                }
                self.tracker.check(place, &from)?;
                self.tracker.remove(place, &from, self.number);
                self.tracker.appear(place, &to);
                checked.push((from, to));
            }
            self.rules.push(Box::new(RenameParams {
                place,
                pairs: checked,
            }));
        }
        Ok(())
    }

    /// `replace`, `add` and `append`: values set by name.
    fn set(&mut self, pairs: &PlacedPairs, mode: SetMode) -> Result<(), String> {
        for (place, map) in placed(&pairs.body, &pairs.query, &pairs.headers) {
            if map.is_empty() {
                continue;
            }
            let mut checked = Vec::new();
            for (name, value) in &map {
                let name = check_name(place, name)?;
                check_header_value(place, value)?;
                if mode == SetMode::Replace {
                    self.tracker.check(place, &name)?;
                } else {
                    self.tracker.appear(place, &name);
                }
                checked.push((name, value.clone()));
            }
            self.rules.push(Box::new(SetParams {
                place,
                mode,
                pairs: checked,
            }));
        }
        Ok(())
    }

    fn basic_to_body(&mut self, names: &CredentialNames) -> Result<(), String> {
        if names.keep_id {
            return Err("keep_id belongs to body_to_basic".into());
        }
        self.tracker.check(Place::Headers, "authorization")?;
        self.tracker
            .remove(Place::Headers, "authorization", self.number);
        self.tracker.appear(Place::Body, &names.id);
        self.tracker.appear(Place::Body, &names.secret);
        self.rules.push(Box::new(BasicToBody {
            id: names.id.clone(),
            secret: names.secret.clone(),
        }));
        Ok(())
    }

    fn body_to_basic(&mut self, names: &CredentialNames) -> Result<(), String> {
        self.tracker.check(Place::Body, &names.id)?;
        if !names.keep_id {
            self.tracker.remove(Place::Body, &names.id, self.number);
        }
        self.tracker.remove(Place::Body, &names.secret, self.number);
        self.tracker.appear(Place::Headers, "authorization");
        self.rules.push(Box::new(BodyToBasic {
            id: names.id.clone(),
            secret: names.secret.clone(),
            keep_id: names.keep_id,
        }));
        Ok(())
    }

    /// `move_to_query` and `move_to_body`.
    fn move_params(&mut self, names: &[String], from: Place, to: Place) -> Result<(), String> {
        for name in names {
            check_name(from, name)?;
            self.tracker.check(from, name)?;
            self.tracker.remove(from, name, self.number);
            self.tracker.appear(to, name);
        }
        if !names.is_empty() {
            self.rules.push(Box::new(MoveParams {
                from,
                to,
                names: names.to_vec(),
            }));
        }
        Ok(())
    }

    fn method(&mut self, method: &str) -> Result<(), String> {
        let method = TokenMethod::parse(method).map_err(|why| format!("method {why}"))?;
        if method == TokenMethod::Get {
            if let Some(rule) = self.json_since {
                return Err(format!(
                    "the JSON body of rule {rule} would never be sent with GET"
                ));
            }
            self.get_since = Some(self.number);
        } else {
            self.get_since = None;
        }
        self.rules.push(Box::new(SetMethod(method)));
        Ok(())
    }

    fn require(&mut self, require: &RequireSpec) -> Result<(), String> {
        let invalid_client = match require.error.as_str() {
            "invalid_client" => true,
            "invalid_request" => false,
            other => {
                return Err(format!(
                    "error '{other}' must be invalid_client or invalid_request"
                ))
            }
        };
        for (place, list) in placed(&require.body, &require.query, &require.headers) {
            if list.is_empty() {
                continue;
            }
            let checked = self.present_names(place, &list, false)?;
            self.rules.push(Box::new(RequireParams {
                place,
                names: checked,
                invalid_client,
            }));
        }
        Ok(())
    }
}

/// Compiles response rules; `form_to_json` and `jsonp` are properties of
/// the plan (they decide how the answer is read), the rest are rules.
pub fn compile_response_rules(specs: &[ResponseRuleSpec]) -> Result<ResponsePlan, String> {
    let mut plan = ResponsePlan::default();
    for (index, spec) in specs.iter().enumerate() {
        let number = index + 1;
        let word = match spec {
            ResponseRuleSpec::ErrorFrom(_) => "error_from",
            ResponseRuleSpec::Unwrap(_) => "unwrap",
            ResponseRuleSpec::FormToJson(_) => "form_to_json",
            ResponseRuleSpec::Jsonp(_) => "jsonp",
            ResponseRuleSpec::Rename(_) => "rename",
            ResponseRuleSpec::Add(_) => "add",
            ResponseRuleSpec::Remove(_) => "remove",
            ResponseRuleSpec::Convert(_) => "convert",
        };
        let label = |e: String| format!("response rule {number} ({word}): {e}");
        compile_response_rule(spec, &mut plan).map_err(label)?;
    }
    Ok(plan.with_fields_read())
}

fn field_path(text: &str) -> Result<FieldPath, String> {
    let path = FieldPath::parse(text);
    if path.is_well_formed() {
        Ok(path)
    } else {
        Err(format!(
            "'{text}' is not a field path (write data.user or response.0)"
        ))
    }
}

fn compile_response_rule(spec: &ResponseRuleSpec, plan: &mut ResponsePlan) -> Result<(), String> {
    let nothing = || Err("does nothing".to_owned());
    match spec {
        ResponseRuleSpec::ErrorFrom(s) => plan.rules.push(Box::new(compile_error_from(s)?)),
        ResponseRuleSpec::Unwrap(path) if path.is_empty() => {
            return Err("needs a field path".into())
        }
        ResponseRuleSpec::Unwrap(path) => {
            plan.rules.push(Box::new(UnwrapObject(field_path(path)?)))
        }
        ResponseRuleSpec::FormToJson(FormToJsonSpec::On(on)) => plan.form_to_json = *on,
        ResponseRuleSpec::FormToJson(FormToJsonSpec::Mode(mode)) if mode == "any_content_type" => {
            plan.form_to_json = true;
            plan.form_any_content_type = true;
        }
        ResponseRuleSpec::FormToJson(FormToJsonSpec::Mode(mode)) => {
            return Err(format!("'{mode}': write true, false or any_content_type"))
        }
        ResponseRuleSpec::Jsonp(false) => return nothing(),
        ResponseRuleSpec::Jsonp(true) => plan.jsonp = true,
        ResponseRuleSpec::Rename(p) if p.json.is_empty() => return nothing(),
        ResponseRuleSpec::Rename(p) => {
            let mut pairs = Vec::new();
            for (from, to) in &p.json {
                let (from, to) = (field_path(from)?, field_path(to)?);
                if from == to {
                    return Err(format!("renames '{from}' to itself"));
                }
                pairs.push((from, to));
            }
            plan.rules.push(Box::new(RenameFields(pairs)));
        }
        ResponseRuleSpec::Add(v) if v.json.is_empty() => return nothing(),
        ResponseRuleSpec::Add(v) => plan
            .rules
            .push(Box::new(AddFields(v.json.clone().into_iter().collect()))),
        ResponseRuleSpec::Remove(n) if n.json.is_empty() => return nothing(),
        ResponseRuleSpec::Remove(n) => plan.rules.push(Box::new(RemoveFields(n.json.clone()))),
        ResponseRuleSpec::Convert(p) if p.json.is_empty() => return nothing(),
        ResponseRuleSpec::Convert(p) => {
            let mut conversions = Vec::new();
            for (path, word) in &p.json {
                let conversion = Conversion::parse(word).ok_or_else(|| {
                    format!("'{word}' for '{path}': write number, string or space_separated")
                })?;
                conversions.push((field_path(path)?, conversion));
            }
            plan.rules.push(Box::new(ConvertValues(conversions)));
        }
    }
    Ok(())
}

fn compile_error_from(spec: &ErrorFromSpec) -> Result<ErrorFrom, String> {
    let paths = |list: &OneOrMany| {
        list.0
            .iter()
            .map(|p| FieldPath::parse(p))
            .collect::<Vec<_>>()
    };
    let when = ErrorCondition {
        present: paths(&spec.when.present),
        absent: paths(&spec.when.absent),
        nonzero: paths(&spec.when.nonzero),
        equals: spec
            .when
            .equals
            .iter()
            .map(|(k, v)| (FieldPath::parse(k), v.clone()))
            .collect(),
        not_equals: spec
            .when
            .not_equals
            .iter()
            .map(|(k, v)| (FieldPath::parse(k), v.clone()))
            .collect(),
    };
    if when.present.is_empty()
        && when.nonzero.is_empty()
        && when.equals.is_empty()
        && when.not_equals.is_empty()
    {
        return Err("'when' needs present, nonzero, equals or not_equals: otherwise it would turn every answer into an error".into());
    }
    if let Some(status) = spec.status {
        if !(400..500).contains(&status) {
            return Err(format!("status {status} is not a 4xx status"));
        }
    }
    if spec.error.is_none() && spec.default.is_none() {
        return Err("needs 'error' (the field with the provider's code) or 'default'".into());
    }
    Ok(ErrorFrom {
        when,
        error: spec.error.as_deref().map(FieldPath::parse),
        description: spec.description.as_deref().map(FieldPath::parse),
        codes: scalar_map(&spec.codes)?,
        default: spec.default.clone(),
        status: spec.status,
    })
}

/// Map of YAML scalars (numbers or strings) to strings, e.g. WeChat's numeric error codes.
fn scalar_map(map: &serde_yaml::Mapping) -> Result<Vec<(String, String)>, String> {
    let text = |v: &serde_yaml::Value| match v {
        serde_yaml::Value::String(s) => Some(s.clone()),
        serde_yaml::Value::Number(n) => Some(n.to_string()),
        serde_yaml::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    map.iter()
        .map(|(k, v)| match (text(k), v.as_str()) {
            (Some(k), Some(v)) => Ok((k, v.to_owned())),
            _ => Err("codes: keys must be strings or numbers, values strings".to_owned()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_specs(yaml: &str) -> Vec<RequestRuleSpec> {
        parse(yaml).unwrap()
    }

    fn parse<T: serde::de::DeserializeOwned>(yaml: &str) -> Result<T, serde_yaml::Error> {
        serde_yaml::with::singleton_map_recursive::deserialize(serde_yaml::Deserializer::from_str(
            yaml,
        ))
    }

    /// Compiles `yaml` and rewrites `body` (with an optional Authorization).
    fn rewritten(yaml: &str, body: &str, authorization: Option<&str>) -> Result<String, String> {
        let rules = compile_request_rules(&request_specs(yaml))?;
        quirkgate_core::rewrite::rewrite(&rules, body.as_bytes(), authorization)
            .map(|out| out.body)
            .map_err(|e| format!("{} {}", e.status, e.code))
    }

    #[test]
    fn basic_to_body_defaults_to_the_standard_names() {
        // "app:s3" in Basic.
        let body = rewritten(
            "- basic_to_body: {}\n",
            "grant_type=x",
            Some("Basic YXBwOnMz"),
        )
        .unwrap();
        assert_eq!(body, "grant_type=x&client_id=app&client_secret=s3");
    }

    #[test]
    fn require_defaults_to_invalid_request() {
        let err = rewritten("- require: { body: [code] }\n", "grant_type=x", None).unwrap_err();
        assert_eq!(err, "400 invalid_request");
        let err = rewritten(
            "- require: { body: [code], error: invalid_client }\n",
            "grant_type=x",
            None,
        )
        .unwrap_err();
        assert_eq!(err, "401 invalid_client");
    }

    #[test]
    fn replace_overwrites_add_keeps_append_adds() {
        assert_eq!(
            rewritten("- replace: { body: { a: '2' } }\n", "a=1", None).unwrap(),
            "a=2"
        );
        assert_eq!(
            rewritten("- add: { body: { a: '2' } }\n", "a=1", None).unwrap(),
            "a=1"
        );
        assert_eq!(
            rewritten("- add: { body: { b: '2' } }\n", "a=1", None).unwrap(),
            "a=1&b=2"
        );
        assert_eq!(
            rewritten("- append: { body: { a: '2' } }\n", "a=1", None).unwrap(),
            "a=1&a=2"
        );
    }

    #[test]
    fn a_name_added_again_after_removal_may_be_replaced() {
        let specs = request_specs(
            "- remove: { body: [a] }\n- add: { body: { a: x } }\n- replace: { body: { a: y } }\n",
        );
        assert!(compile_request_rules(&specs).is_ok());
    }

    #[test]
    fn header_values_must_be_valid_http_but_body_values_need_not() {
        let bad_header = request_specs("- add: { headers: { x-h: \"a\\nb\" } }\n");
        assert!(compile_request_rules(&bad_header)
            .unwrap_err()
            .contains("not allowed in HTTP headers"));
        assert!(compile_request_rules(&request_specs("- add: { headers: { x-h: ok } }\n")).is_ok());
        assert!(
            compile_request_rules(&request_specs("- add: { body: { a: \"a\\nb\" } }\n")).is_ok()
        );
    }

    #[test]
    fn single_key_maps_parse_into_rules() {
        let specs = request_specs(
            "- basic_to_body: {}\n- rename: { body: { client_id: client_key } }\n- method: GET\n",
        );
        assert_eq!(compile_request_rules(&specs).unwrap().len(), 3);
    }

    #[test]
    fn a_rule_on_a_removed_name_is_refused_with_its_number() {
        let specs = request_specs("- rename: { body: { client_id: client_key } }\n- replace: { body: { client_id: x } }\n");
        let err = compile_request_rules(&specs).unwrap_err();
        assert!(
            err.contains("request rule 2 (replace)") && err.contains("after rule 1"),
            "{err}"
        );
    }

    #[test]
    fn managed_headers_and_empty_rules_are_refused() {
        assert!(
            compile_request_rules(&request_specs("- add: { headers: { Host: evil } }\n")).is_err()
        );
        assert!(compile_request_rules(&request_specs("- rename: {}\n"))
            .unwrap_err()
            .contains("does nothing"));
        assert!(compile_request_rules(&request_specs("- method: PUT\n")).is_err());
    }

    #[test]
    fn rename_chains_in_one_rule_are_refused() {
        let specs = request_specs("- rename: { body: { a: b, b: c } }\n");
        assert!(compile_request_rules(&specs).unwrap_err().contains("chain"));
    }

    #[test]
    fn error_from_needs_a_condition() {
        let specs: Vec<ResponseRuleSpec> =
            parse("- error_from: { when: { absent: access_token }, error: error }\n").unwrap();
        assert!(compile_response_rules(&specs).is_err());
    }

    fn response_rules(yaml: &str) -> Result<ResponsePlan, String> {
        compile_response_rules(&parse::<Vec<ResponseRuleSpec>>(yaml).unwrap())
    }

    #[test]
    fn the_fields_rules_read_are_listed_at_load_unless_a_rule_may_read_any() {
        let looks = response_rules(
            "- error_from: { when: { present: error, absent: access_token }, error: error, description: error_description }\n\
             - error_from: { when: { nonzero: data.error_code }, error: data.error_code }\n",
        )
        .unwrap();
        assert_eq!(
            looks.fields_read.as_deref(),
            Some(&["access_token", "data", "error", "error_description"].map(String::from)[..])
        );
        let edits = response_rules(
            "- error_from: { when: { present: error }, error: error }\n- unwrap: data\n",
        )
        .unwrap();
        assert_eq!(edits.fields_read, None, "unwrap may read any field");
        // The listed fields are the ones a 200 is checked for: an error is still found.
        let answer = |body: &str| quirkgate_core::http1::ProviderAnswer {
            status: 200,
            content_type: Some(bytes::Bytes::from_static(b"application/json")),
            body: bytes::Bytes::copy_from_slice(body.as_bytes()),
        };
        let err = looks
            .shape(&answer(
                r#"{"log_id":"1","data":{"error_code":7},"access_token":"x"}"#,
            ))
            .unwrap_err();
        assert_eq!(err.code, "7");
        let ok = r#"{"access_token":"act.1","data":{"error_code":0},"scope":"a"}"#;
        assert_eq!(&looks.shape(&answer(ok)).unwrap().body[..], ok.as_bytes());
    }

    #[test]
    fn response_rules_that_do_nothing_are_refused_with_their_number() {
        for (yaml, word) in [
            ("- unwrap: \"\"\n", "unwrap"),
            ("- rename: { json: {} }\n", "rename"),
            ("- add: { json: {} }\n", "add"),
            ("- remove: { json: [] }\n", "remove"),
        ] {
            let err = response_rules(&format!("- unwrap: data\n- form_to_json: true\n{yaml}"))
                .err()
                .unwrap_or_else(|| panic!("{yaml} compiled"));
            assert!(
                err.starts_with(&format!("response rule 3 ({word})")),
                "{err}"
            );
        }
        let plan = response_rules(
            "- unwrap: data\n- rename: { json: { a: b } }\n- add: { json: { c: d } }\n- remove: { json: [e] }\n",
        )
        .unwrap();
        assert_eq!(plan.rules.len(), 4);
    }

    #[test]
    fn error_from_status_must_be_4xx() {
        let with = |status: u16| {
            response_rules(&format!(
                "- error_from: {{ when: {{ present: error }}, error: error, status: {status} }}\n"
            ))
        };
        assert!(with(400).is_ok());
        assert!(with(499).is_ok());
        assert!(with(500).err().unwrap().contains("not a 4xx status"));
        assert!(with(302).is_err());
    }

    #[test]
    fn unknown_rule_words_are_refused_by_the_parser() {
        assert!(parse::<Vec<RequestRuleSpec>>("- rewrite: { body: {} }\n").is_err());
    }

    /// A fresh P-256 PKCS#8 key in a PEM file, and its public half.
    fn es256_key_file() -> (tempfile::TempDir, String, Vec<u8>) {
        let (pem, public) = quirkgate_core::signed_jwt::test_es256_key();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        std::fs::write(&path, pem).unwrap();
        let path = path.to_str().unwrap().to_owned();
        (dir, path, public)
    }

    #[test]
    fn client_assertion_replaces_the_secret_with_a_signed_rfc7523_assertion() {
        use base64::Engine;
        let (_dir, key_file, public) = es256_key_file();
        let yaml = format!(
            "- client_assertion: {{ key_file: \"{key_file}\", client_id: app-1, audience: \"https://idp.example/token\" }}\n"
        );
        let rules = compile_request_rules(&request_specs(&yaml)).unwrap();
        let body = b"grant_type=authorization_code&code=c&client_secret=placeholder";
        let out = quirkgate_core::rewrite::rewrite(&rules, body, None).unwrap();
        let pairs: BTreeMap<String, String> = serde_urlencoded::from_str(&out.body).unwrap();
        assert_eq!(pairs.get("client_secret"), None);
        assert_eq!(pairs["client_id"], "app-1");
        assert_eq!(pairs["client_assertion_type"], JWT_BEARER_ASSERTION);
        let assertion = &pairs["client_assertion"];
        let parts: Vec<&str> = assertion.split('.').collect();
        let decode = |part: &str| -> serde_json::Value {
            serde_json::from_slice(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(part)
                    .unwrap(),
            )
            .unwrap()
        };
        let claims = decode(parts[1]);
        assert_eq!(claims["iss"], "app-1");
        assert_eq!(claims["sub"], "app-1");
        assert_eq!(claims["aud"], "https://idp.example/token");
        assert_eq!(
            claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
            300
        );
        assert!(claims["jti"].is_string());
        assert_eq!(decode(parts[0])["alg"], "ES256");
        let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[2])
            .unwrap();
        ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, &public)
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
            .unwrap();
        // Another client id is refused, not signed for.
        let err = quirkgate_core::rewrite::rewrite(&rules, b"grant_type=x&client_id=other", None)
            .err()
            .unwrap();
        assert_eq!(err.status, 401);
    }

    #[test]
    fn signed_client_secret_refuses_apples_impossible_lifetimes_and_bad_algorithms() {
        let (_dir, key_file, _) = es256_key_file();
        let with = |extra: &str| {
            compile_request_rules(&request_specs(&format!(
                "- signed_client_secret: {{ key_file: \"{key_file}\", issuer: T, client_id: c, audience: a{extra} }}\n"
            )))
        };
        assert!(with(", key_id: K").is_ok());
        assert!(with(", key_id: K, lifetime: 180d").is_ok());
        let err = |extra: &str| with(extra).err().unwrap();
        assert!(err(", key_id: K, lifetime: 183d").contains("6 months"));
        assert!(err(", key_id: K, algorithm: HS256").contains("not supported"));
        assert!(err(", key_id: K, algorithm: RS256").contains("not an RSA"));
        assert!(err(", key_id: \"\"").contains("key_id"));
    }

    #[test]
    fn new_request_words_are_checked_against_the_rules_before_them() {
        let refused = |yaml: &str| compile_request_rules(&request_specs(yaml)).unwrap_err();
        assert!(refused("- method: GET\n- json_body: true\n").contains("GET of rule 1"));
        assert!(refused("- json_body: true\n- method: GET\n").contains("never be sent"));
        assert!(refused("- json_body: true\n- json_body: true\n").contains("already"));
        assert!(refused("- json_body: false\n").contains("does nothing"));
        assert!(
            refused("- bearer_to_query: access_token\n- bearer_to_header: x-token\n")
                .contains("gone after rule 1")
        );
        assert!(refused("- bearer_to_header: Authorization\n").contains("does nothing"));
        assert!(refused("- bearer_to_header: host\n").contains("set by the gateway"));
        assert!(
            refused("- basic_to_body: {}\n- appsecret_proof: { secret: s }\n")
                .contains("can never apply")
        );
        assert!(refused("- appsecret_proof: { secret: \"\" }\n").contains("app secret"));
        assert!(refused("- basic_to_body: { keep_id: true }\n").contains("body_to_basic"));
        // The proof reads the token where bearer_to_query left it.
        assert!(compile_request_rules(&request_specs(
            "- bearer_to_query: access_token\n- appsecret_proof: { secret: s }\n"
        ))
        .is_ok());
    }

    #[test]
    fn new_response_words_are_checked_at_load() {
        assert!(
            response_rules("- convert: { json: { expires_in: integer } }\n")
                .err()
                .unwrap()
                .contains("number, string or space_separated")
        );
        assert!(response_rules("- convert: { json: {} }\n")
            .err()
            .unwrap()
            .contains("does nothing"));
        assert!(response_rules("- jsonp: false\n")
            .err()
            .unwrap()
            .contains("does nothing"));
        assert!(response_rules("- rename: { json: { \"data..a\": b } }\n")
            .err()
            .unwrap()
            .contains("not a field path"));
        assert!(response_rules("- unwrap: \"response.\"\n").is_err());
        assert!(response_rules("- form_to_json: sometimes\n")
            .err()
            .unwrap()
            .contains("any_content_type"));
        let plan = response_rules(
            "- jsonp: true\n- form_to_json: any_content_type\n- unwrap: response.0\n- rename: { json: { owner.user.id: user_id } }\n- convert: { json: { id: string } }\n",
        )
        .unwrap();
        assert!(plan.jsonp && plan.form_to_json && plan.form_any_content_type);
        assert_eq!(plan.rules.len(), 3);
    }
}
