//! The rule words as operators write them, and their compilation into rule
//! types. Compilation refuses what can never work, naming the rule.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use super::request::*;
use super::response::*;
use crate::config::scalar_map;

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
    ErrorFrom(ErrorFromSpec),
    Unwrap(String),
    FormToJson(bool),
    Rename(JsonPairs),
    Add(JsonValues),
    Remove(JsonNames),
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
        }
    }
}

/// Headers the gateway itself owns; rules may not touch them.
const MANAGED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "content-type",
];

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
    if MANAGED_HEADERS.contains(&lower.as_str()) {
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

/// Compiles request rules in order; `index_base` numbers them as the operator sees them.
pub fn compile_request_rules(
    specs: &[RequestRuleSpec],
) -> Result<Vec<Box<dyn RequestRule>>, String> {
    let mut tracker = NameTracker::default();
    let mut rules: Vec<Box<dyn RequestRule>> = Vec::new();
    for (index, spec) in specs.iter().enumerate() {
        let number = index + 1;
        let label = |e: String| format!("request rule {number} ({}): {e}", spec.word());
        let before = rules.len();
        compile_request_rule(spec, number, &mut tracker, &mut rules).map_err(label)?;
        if rules.len() == before {
            return Err(label("does nothing: name at least one parameter".into()));
        }
    }
    Ok(rules)
}

fn compile_request_rule(
    spec: &RequestRuleSpec,
    number: usize,
    tracker: &mut NameTracker,
    rules: &mut Vec<Box<dyn RequestRule>>,
) -> Result<(), String> {
    match spec {
        RequestRuleSpec::Remove(names) => {
            for (place, list) in placed(&names.body, &names.query, &names.headers) {
                if list.is_empty() {
                    continue;
                }
                let mut checked = Vec::new();
                for name in &list {
                    let name = check_name(place, name)?;
                    tracker.check(place, &name)?;
                    tracker.remove(place, &name, number);
                    checked.push(name);
                }
                rules.push(Box::new(RemoveParams {
                    place,
                    names: checked,
                }));
            }
        }
        RequestRuleSpec::Rename(pairs) => {
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
                    tracker.check(place, &from)?;
                    tracker.remove(place, &from, number);
                    tracker.appear(place, &to);
                    checked.push((from, to));
                }
                rules.push(Box::new(RenameParams {
                    place,
                    pairs: checked,
                }));
            }
        }
        RequestRuleSpec::Replace(pairs)
        | RequestRuleSpec::Add(pairs)
        | RequestRuleSpec::Append(pairs) => {
            for (place, map) in placed(&pairs.body, &pairs.query, &pairs.headers) {
                if map.is_empty() {
                    continue;
                }
                let mut checked = Vec::new();
                for (name, value) in &map {
                    let name = check_name(place, name)?;
                    check_header_value(place, value)?;
                    if matches!(spec, RequestRuleSpec::Replace(_)) {
                        tracker.check(place, &name)?;
                    } else {
                        tracker.appear(place, &name);
                    }
                    checked.push((name, value.clone()));
                }
                rules.push(match spec {
                    RequestRuleSpec::Replace(_) => Box::new(ReplaceParams {
                        place,
                        pairs: checked,
                    }),
                    RequestRuleSpec::Add(_) => Box::new(AddParams {
                        place,
                        pairs: checked,
                    }),
                    _ => Box::new(AppendParams {
                        place,
                        pairs: checked,
                    }),
                });
            }
        }
        RequestRuleSpec::BasicToBody(names) => {
            tracker.check(Place::Headers, "authorization")?;
            tracker.remove(Place::Headers, "authorization", number);
            tracker.appear(Place::Body, &names.id);
            tracker.appear(Place::Body, &names.secret);
            rules.push(Box::new(BasicToBody {
                id: names.id.clone(),
                secret: names.secret.clone(),
            }));
        }
        RequestRuleSpec::BodyToBasic(names) => {
            tracker.check(Place::Body, &names.id)?;
            tracker.remove(Place::Body, &names.id, number);
            tracker.remove(Place::Body, &names.secret, number);
            tracker.appear(Place::Headers, "authorization");
            rules.push(Box::new(BodyToBasic {
                id: names.id.clone(),
                secret: names.secret.clone(),
            }));
        }
        RequestRuleSpec::MoveToQuery(names) | RequestRuleSpec::MoveToBody(names) => {
            let (from, to) = match spec {
                RequestRuleSpec::MoveToQuery(_) => (Place::Body, Place::Query),
                _ => (Place::Query, Place::Body),
            };
            for name in names {
                check_name(from, name)?;
                tracker.check(from, name)?;
                tracker.remove(from, name, number);
                tracker.appear(to, name);
            }
            if !names.is_empty() {
                rules.push(Box::new(MoveParams {
                    from,
                    to,
                    names: names.clone(),
                }));
            }
        }
        RequestRuleSpec::Method(method) => {
            let method = match method.to_ascii_uppercase().as_str() {
                "GET" => UpstreamMethod::Get,
                "POST" => UpstreamMethod::Post,
                other => return Err(format!("method '{other}' is not supported (GET or POST)")),
            };
            rules.push(Box::new(SetMethod(method)));
        }
        RequestRuleSpec::Require(require) => {
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
                let mut checked = Vec::new();
                for name in &list {
                    let name = check_name(place, name)?;
                    tracker.check(place, &name)?;
                    checked.push(name);
                }
                rules.push(Box::new(RequireParams {
                    place,
                    names: checked,
                    invalid_client,
                }));
            }
        }
    }
    Ok(())
}

/// Compiles response rules; `form_to_json` is a property of the plan, the rest are rules.
pub fn compile_response_rules(specs: &[ResponseRuleSpec]) -> Result<ResponsePlan, String> {
    let mut plan = ResponsePlan::default();
    for (index, spec) in specs.iter().enumerate() {
        let number = index + 1;
        let word = match spec {
            ResponseRuleSpec::ErrorFrom(_) => "error_from",
            ResponseRuleSpec::Unwrap(_) => "unwrap",
            ResponseRuleSpec::FormToJson(_) => "form_to_json",
            ResponseRuleSpec::Rename(_) => "rename",
            ResponseRuleSpec::Add(_) => "add",
            ResponseRuleSpec::Remove(_) => "remove",
        };
        let label = |e: String| format!("response rule {number} ({word}): {e}");
        match spec {
            ResponseRuleSpec::ErrorFrom(s) => plan
                .rules
                .push(Box::new(compile_error_from(s).map_err(label)?)),
            ResponseRuleSpec::Unwrap(path) if path.is_empty() => {
                return Err(label("needs a field path".into()))
            }
            ResponseRuleSpec::Unwrap(path) => plan
                .rules
                .push(Box::new(UnwrapObject(FieldPath::parse(path)))),
            ResponseRuleSpec::FormToJson(on) => plan.form_to_json = *on,
            ResponseRuleSpec::Rename(p) if p.json.is_empty() => {
                return Err(label("does nothing".into()))
            }
            ResponseRuleSpec::Rename(p) => plan
                .rules
                .push(Box::new(RenameFields(p.json.clone().into_iter().collect()))),
            ResponseRuleSpec::Add(v) if v.json.is_empty() => {
                return Err(label("does nothing".into()))
            }
            ResponseRuleSpec::Add(v) => plan
                .rules
                .push(Box::new(AddFields(v.json.clone().into_iter().collect()))),
            ResponseRuleSpec::Remove(n) if n.json.is_empty() => {
                return Err(label("does nothing".into()))
            }
            ResponseRuleSpec::Remove(n) => plan.rules.push(Box::new(RemoveFields(n.json.clone()))),
        }
    }
    Ok(plan)
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
        crate::rewrite::rewrite(&rules, body.as_bytes(), authorization)
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
}
