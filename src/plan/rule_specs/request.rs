//! Request rule compilation, in list order, with the checker that refuses a
//! rule that can never apply (a name an earlier rule took away).

use std::collections::HashMap;

use quirkgate_core::http1::fields::{owned_header, Owned};
use quirkgate_core::rules::request::*;
use quirkgate_core::signed_jwt::{JwtAlgorithm, JwtClaims, JwtMinter};

use super::refusal::RuleRefusal;
use super::*;
use crate::plan::error::{ConfigError, ConfigErrorKind, KeyPath, RuleList};

/// Tracks, across the rule list, which names an earlier rule took away, so a
/// later rule that can only act on them is refused at load.
#[derive(Default)]
struct NameTracker {
    gone: HashMap<(Place, String), usize>,
}

impl NameTracker {
    fn check(&self, place: Place, name: &str) -> Result<(), RuleRefusal> {
        match self.gone.get(&(place, name.to_owned())) {
            Some(&after_rule) => Err(RuleRefusal::Gone {
                place,
                name: name.to_owned(),
                after_rule,
            }),
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

fn check_name(place: Place, name: &str) -> Result<String, RuleRefusal> {
    if name.is_empty() {
        return Err(RuleRefusal::EmptyName(place));
    }
    if place != Place::Headers {
        return Ok(name.to_owned());
    }
    let lower = name.to_ascii_lowercase();
    http::HeaderName::from_bytes(lower.as_bytes())
        .map_err(|_| RuleRefusal::BadHeaderName(name.to_owned()))?;
    if owned_header(&lower) == Some(Owned::Written) {
        return Err(RuleRefusal::GatewayHeader(name.to_owned()));
    }
    Ok(lower)
}

fn check_header_value(place: Place, value: &str) -> Result<(), RuleRefusal> {
    if place == Place::Headers && http::HeaderValue::from_str(value).is_err() {
        return Err(RuleRefusal::BadHeaderValue);
    }
    Ok(())
}

/// Compiles request rules in list order (the order they run in); errors
/// number them from 1, as the operator counts them in the file.
pub fn compile_request_rules(
    specs: &[RequestRuleSpec],
) -> Result<Vec<Box<dyn RequestRule>>, ConfigError> {
    compile_route_request_rules(specs, "")
}

/// [`compile_request_rules`] for a named route (its name goes in the log
/// lines of rules that act on their own, such as signed credential renewal).
pub fn compile_route_request_rules(
    specs: &[RequestRuleSpec],
    route: &str,
) -> Result<Vec<Box<dyn RequestRule>>, ConfigError> {
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
        let label = |why: RuleRefusal| {
            ConfigError::new(
                KeyPath::root(),
                ConfigErrorKind::Rule {
                    list: RuleList::Request,
                    number: index + 1,
                    word: spec.word(),
                    why,
                },
            )
        };
        let before = compiling.rules.len();
        compiling.rule(spec).map_err(label)?;
        if compiling.rules.len() == before {
            return Err(label(RuleRefusal::NamesNothing));
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
    fn rule(&mut self, spec: &RequestRuleSpec) -> Result<(), RuleRefusal> {
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
            RequestRuleSpec::Method(method) => self.method(method.0),
            RequestRuleSpec::Require(require) => self.require(require),
            RequestRuleSpec::JsonBody(on) => self.json_body(*on),
            RequestRuleSpec::BearerToQuery(name) => self.move_bearer(Place::Query, name),
            RequestRuleSpec::BearerToHeader(name) => self.move_bearer(Place::Headers, name),
            RequestRuleSpec::AppsecretProof(spec) => self.appsecret_proof(spec),
            RequestRuleSpec::SignedClientSecret(spec) => self.signed_client_secret(spec),
            RequestRuleSpec::ClientAssertion(spec) => self.client_assertion(spec),
            RequestRuleSpec::Rsa2Sign(spec) => {
                self.signed(spec.place.place(), super::signed::rsa2_sign(spec)?)
            }
            RequestRuleSpec::OkruSig(spec) => {
                self.tracker.check(spec.place.place(), &spec.token)?;
                self.signed(spec.place.place(), super::signed::okru_sig(spec)?)
            }
        }
    }

    /// A rule that signs the parameters of `place`, adding `added`.
    fn signed(
        &mut self,
        place: Place,
        (added, rule): (Vec<String>, Box<dyn RequestRule>),
    ) -> Result<(), RuleRefusal> {
        if place == Place::Body {
            if let Some(get_rule) = self.get_since {
                return Err(RuleRefusal::BodyAfterGet { get_rule });
            }
        }
        for name in &added {
            self.tracker.appear(place, name);
        }
        self.rules.push(rule);
        Ok(())
    }

    /// Reads the key and mints the first token: a missing or unusable key
    /// file is refused here, at load and by `--test`.
    fn minter(
        &self,
        key_file: &str,
        algorithm: JwtAlgorithm,
        claims: JwtClaims,
    ) -> Result<JwtMinter, RuleRefusal> {
        for (name, value) in [
            ("issuer", &claims.issuer),
            ("client_id", &claims.subject),
            ("audience", &claims.audience),
        ] {
            if value.is_empty() {
                return Err(RuleRefusal::EmptyClaim(name));
            }
        }
        let key_file_refusal = |why: String| RuleRefusal::KeyFile {
            path: key_file.to_owned(),
            why,
        };
        let pem = std::fs::read(key_file).map_err(|e| key_file_refusal(e.to_string()))?;
        JwtMinter::new(
            &pem,
            algorithm,
            claims,
            &self.route,
            std::time::SystemTime::now(),
        )
        .map_err(|e| key_file_refusal(e.to_string()))
    }

    /// The body parameters a client credential rule leaves for the rules after it.
    fn credential_params(&mut self, added: &[&str]) {
        self.tracker.appear(Place::Body, "client_id");
        for name in added {
            self.tracker.appear(Place::Body, name);
        }
    }

    fn signed_client_secret(&mut self, spec: &SignedClientSecretSpec) -> Result<(), RuleRefusal> {
        let lifetime = spec
            .lifetime
            .map_or(DEFAULT_SIGNED_SECRET_LIFETIME, |d| d.0);
        if lifetime > MAX_SIGNED_SECRET_LIFETIME {
            return Err(RuleRefusal::LifetimeOverSixMonths);
        }
        if spec.key_id.is_empty() {
            return Err(RuleRefusal::EmptyClaim("key_id"));
        }
        let minter = self.minter(
            &spec.key_file,
            spec.algorithm.0,
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

    fn client_assertion(&mut self, spec: &ClientAssertionSpec) -> Result<(), RuleRefusal> {
        let minter = self.minter(
            &spec.key_file,
            spec.algorithm.0,
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

    fn json_body(&mut self, on: bool) -> Result<(), RuleRefusal> {
        if !on {
            return Ok(());
        }
        if let Some(first) = self.json_since {
            return Err(RuleRefusal::JsonBodyTwice { first });
        }
        if let Some(get_rule) = self.get_since {
            return Err(RuleRefusal::BodyAfterGet { get_rule });
        }
        self.json_since = Some(self.number);
        self.rules.push(Box::new(JsonBody));
        Ok(())
    }

    /// `bearer_to_query` and `bearer_to_header`.
    fn move_bearer(&mut self, to: Place, name: &str) -> Result<(), RuleRefusal> {
        let name = check_name(to, name)?;
        if to == Place::Headers && name == "authorization" {
            return Err(RuleRefusal::BearerAlreadyInAuthorization);
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

    fn appsecret_proof(&mut self, spec: &AppSecretProofSpec) -> Result<(), RuleRefusal> {
        if spec.secret.is_empty() {
            return Err(RuleRefusal::AppSecretMissing);
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
    ) -> Result<Vec<String>, RuleRefusal> {
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

    fn remove(&mut self, names: &PlacedNames) -> Result<(), RuleRefusal> {
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

    fn rename(&mut self, pairs: &PlacedPairs) -> Result<(), RuleRefusal> {
        for (place, map) in placed(&pairs.body, &pairs.query, &pairs.headers) {
            if map.is_empty() {
                continue;
            }
            let mut checked = Vec::new();
            for (from, to) in &map {
                let (from, to) = (check_name(place, from)?, check_name(place, to)?);
                if from == to {
                    return Err(RuleRefusal::RenamesToItself(from));
                }
                if map.contains_key(&to) {
                    return Err(RuleRefusal::RenameChain(to));
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
    fn set(&mut self, pairs: &PlacedPairs, mode: SetMode) -> Result<(), RuleRefusal> {
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

    fn basic_to_body(&mut self, names: &CredentialNames) -> Result<(), RuleRefusal> {
        if names.keep_id {
            return Err(RuleRefusal::KeepIdMisplaced);
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

    fn body_to_basic(&mut self, names: &CredentialNames) -> Result<(), RuleRefusal> {
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
    fn move_params(&mut self, names: &[String], from: Place, to: Place) -> Result<(), RuleRefusal> {
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

    fn method(&mut self, method: TokenMethod) -> Result<(), RuleRefusal> {
        if method == TokenMethod::Get {
            if let Some(json_rule) = self.json_since {
                return Err(RuleRefusal::GetAfterJsonBody { json_rule });
            }
            self.get_since = Some(self.number);
        } else {
            self.get_since = None;
        }
        self.rules.push(Box::new(SetMethod(method)));
        Ok(())
    }

    fn require(&mut self, require: &RequireSpec) -> Result<(), RuleRefusal> {
        let invalid_client = require.error == RequireError::InvalidClient;
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
