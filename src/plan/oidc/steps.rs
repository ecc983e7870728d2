//! A bridge's user leg as a short list of steps, each a route: QQ names a
//! user with `/oauth2.0/me` (its open id and app id) before `get_user_info`
//! can read them. Compiled once at load: each parameter a step is sent is
//! resolved here to where its value comes from (an earlier step's answer, or
//! the token answer's `userinfo_params`), so the request path only reads it.
//! One route and no `user_steps` is the one-call leg every other provider has.

use serde_json::{Map, Value};

use crate::plan::error::{BridgeRefusal as Refusal, ConfigError, ConfigErrorKind, KeyPath};
use crate::plan::file::UserStepFile;

/// The most calls a user leg may take: each is a provider round trip inside `/token`.
pub const MAX_USER_STEPS: usize = 4;

/// Where a step's parameter is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldSource {
    /// The token answer's field (sealed into the broker's access token).
    TokenAnswer,
    /// The answer of the step at this index.
    Step(usize),
}

/// One parameter of a step's form, and where its value is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepParam {
    pub name: String,
    pub from: FieldSource,
}

/// One call of the user leg: its route and the form it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserStep<R> {
    pub route: R,
    pub params: Vec<StepParam>,
}

/// A field a step needs that the answer it is read from does not carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingField(pub String);

impl<R> UserStep<R> {
    /// The step's form: each parameter from the earlier `answers` or the
    /// token answer's `token_fields`. Numbers are sent as their text.
    pub fn form(
        &self,
        answers: &[Value],
        token_fields: &[(String, String)],
    ) -> Result<Vec<(String, String)>, MissingField> {
        self.params
            .iter()
            .map(|param| {
                let value = match param.from {
                    FieldSource::TokenAnswer => token_fields
                        .iter()
                        .find(|(name, _)| *name == param.name)
                        .map(|(_, value)| value.clone()),
                    FieldSource::Step(index) => answers
                        .get(index)
                        .and_then(|answer| answer.get(&param.name))
                        .and_then(field_text),
                };
                value
                    .filter(|value| !value.is_empty())
                    .map(|value| (param.name.clone(), value))
                    .ok_or_else(|| MissingField(param.name.clone()))
            })
            .collect()
    }
}

fn field_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// The user the claims are read from: one step's answer as it is, or every
/// step's object answer in one, an earlier step's field kept over a later
/// one's (the step that named the user is not overridden by one that reads
/// them). `None`: a step of several answered something else than an object.
pub fn merged_answers(mut answers: Vec<Value>) -> Option<Value> {
    if answers.len() == 1 {
        return answers.pop();
    }
    let mut merged = Map::new();
    for answer in answers {
        let Value::Object(answer) = answer else {
            return None;
        };
        for (name, value) in answer {
            merged.entry(name).or_insert(value);
        }
    }
    Some(Value::Object(merged))
}

/// Compiles `userinfo_route`'s `paths` against the preset's `user_steps`
/// (`facts`) and the token-answer fields the bridge seals (`token_fields`);
/// `route` finds a route by its path. Without `facts`, each route is sent
/// the token-answer fields (WeChat's one call).
pub fn compile_user_steps<R>(
    paths: &[String],
    facts: &[UserStepFile],
    token_fields: &[String],
    mut route: impl FnMut(&str) -> Option<R>,
) -> Result<Vec<UserStep<R>>, Vec<ConfigError>> {
    let mut errors = Vec::new();
    if paths.is_empty() || paths.len() > MAX_USER_STEPS {
        return Err(vec![refused(
            KeyPath::key("userinfo_route"),
            Refusal::UserStepCount {
                max: MAX_USER_STEPS,
            },
        )]);
    }
    if !facts.is_empty() && facts.len() != paths.len() {
        errors.push(refused(
            KeyPath::key("userinfo_route"),
            Refusal::UserStepsUnmatched {
                routes: paths.len(),
                steps: facts.len(),
            },
        ));
    }
    let mut steps = Vec::with_capacity(paths.len());
    for (index, path) in paths.iter().enumerate() {
        let found = route(path);
        if found.is_none() {
            errors.push(refused(
                KeyPath::key("userinfo_route").at(index),
                Refusal::NoSuchRoute(path.clone()),
            ));
        }
        let wanted: &[String] = match facts.get(index) {
            Some(step) => &step.params,
            None if facts.is_empty() => token_fields,
            None => &[],
        };
        let mut params = Vec::with_capacity(wanted.len());
        for name in wanted {
            // The nearest earlier step that gives it, else the token answer.
            let from = (0..index.min(facts.len()))
                .rev()
                .find(|earlier| facts[*earlier].gives.contains(name))
                .map(FieldSource::Step)
                .or_else(|| {
                    token_fields
                        .contains(name)
                        .then_some(FieldSource::TokenAnswer)
                });
            match from {
                Some(from) => params.push(StepParam {
                    name: name.clone(),
                    from,
                }),
                None => errors.push(refused(
                    KeyPath::key("user_steps").at(index),
                    Refusal::StepFieldUnprovided {
                        field: name.clone(),
                    },
                )),
            }
        }
        if let Some(route) = found {
            steps.push(UserStep { route, params });
        }
    }
    if errors.is_empty() {
        Ok(steps)
    } else {
        Err(errors)
    }
}

fn refused(key: KeyPath, why: Refusal) -> ConfigError {
    ConfigError::new(key, ConfigErrorKind::Bridge(why))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    fn step(params: &[&str], gives: &[&str]) -> UserStepFile {
        UserStepFile {
            params: strings(params),
            gives: strings(gives),
        }
    }

    /// Routes are found by path among these.
    fn known(path: &str) -> Option<&'static str> {
        ["/qq/me", "/qq/user", "/wechat/user"]
            .into_iter()
            .find(|known| *known == path)
    }

    fn kinds(errors: Vec<ConfigError>) -> Vec<(String, Refusal)> {
        errors
            .into_iter()
            .map(|e| match e.kind {
                ConfigErrorKind::Bridge(why) => (e.key.to_string(), why),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn qqs_second_step_reads_what_the_first_gives() {
        let facts = [
            step(&[], &["openid", "unionid", "client_id"]),
            step(&["openid", "client_id"], &[]),
        ];
        let steps =
            compile_user_steps(&strings(&["/qq/me", "/qq/user"]), &facts, &[], known).unwrap();
        assert_eq!(
            steps[0],
            UserStep {
                route: "/qq/me",
                params: vec![]
            }
        );
        assert_eq!(
            steps[1].params,
            [
                StepParam {
                    name: "openid".into(),
                    from: FieldSource::Step(0)
                },
                StepParam {
                    name: "client_id".into(),
                    from: FieldSource::Step(0)
                },
            ]
        );
        let me = json!({"openid": "o1", "client_id": 101000001, "unionid": "u1"});
        assert_eq!(
            steps[1].form(&[me], &[]).unwrap(),
            [
                ("openid".to_owned(), "o1".to_owned()),
                ("client_id".to_owned(), "101000001".to_owned())
            ]
        );
        let without_openid = json!({"client_id": "101000001", "openid": ""});
        assert_eq!(
            steps[1].form(&[without_openid], &[]),
            Err(MissingField("openid".into()))
        );
    }

    #[test]
    fn one_route_without_steps_is_sent_the_token_answers_fields() {
        let steps = compile_user_steps(
            &strings(&["/wechat/user"]),
            &[],
            &strings(&["openid"]),
            known,
        )
        .unwrap();
        assert_eq!(
            steps[0].params,
            [StepParam {
                name: "openid".into(),
                from: FieldSource::TokenAnswer
            }]
        );
        let token = [("openid".to_owned(), "o9".to_owned())];
        assert_eq!(
            steps[0].form(&[], &token).unwrap(),
            [("openid".to_owned(), "o9".to_owned())]
        );
        assert_eq!(steps[0].form(&[], &[]), Err(MissingField("openid".into())));
    }

    #[test]
    fn a_field_is_read_from_the_nearest_earlier_step_else_the_token_answer() {
        let facts = [
            step(&["openid"], &["uid"]),
            step(&[], &["uid"]),
            step(&["uid", "openid"], &[]),
        ];
        let steps = compile_user_steps(
            &strings(&["/qq/me", "/qq/user", "/wechat/user"]),
            &facts,
            &strings(&["openid"]),
            known,
        )
        .unwrap();
        assert_eq!(steps[0].params[0].from, FieldSource::TokenAnswer);
        assert_eq!(
            steps[2].params.iter().map(|p| p.from).collect::<Vec<_>>(),
            [FieldSource::Step(1), FieldSource::TokenAnswer]
        );
    }

    #[test]
    fn a_bad_step_list_is_refused_at_load_where_it_is_wrong() {
        let qq = [step(&[], &["openid"]), step(&["openid", "client_id"], &[])];
        // An unknown route, and a field no earlier step gives (a step's own
        // `gives` do not count for it).
        let errors = compile_user_steps(
            &strings(&["/qq/me", "/qq/nope"]),
            &[step(&["openid"], &["openid"]), qq[1].clone()],
            &[],
            known,
        )
        .unwrap_err();
        assert_eq!(
            kinds(errors),
            [
                (
                    "user_steps[0]".to_owned(),
                    Refusal::StepFieldUnprovided {
                        field: "openid".into()
                    }
                ),
                (
                    "userinfo_route[1]".to_owned(),
                    Refusal::NoSuchRoute("/qq/nope".into())
                ),
                (
                    "user_steps[1]".to_owned(),
                    Refusal::StepFieldUnprovided {
                        field: "client_id".into()
                    }
                ),
            ]
        );
        let too_many = strings(&["/qq/me"; MAX_USER_STEPS + 1]);
        for paths in [too_many, vec![]] {
            assert_eq!(
                kinds(compile_user_steps(&paths, &[], &[], known).unwrap_err()),
                [(
                    "userinfo_route".to_owned(),
                    Refusal::UserStepCount {
                        max: MAX_USER_STEPS
                    }
                )]
            );
        }
        assert_eq!(
            kinds(compile_user_steps(&strings(&["/qq/me"]), &qq, &[], known).unwrap_err()),
            [(
                "userinfo_route".to_owned(),
                Refusal::UserStepsUnmatched {
                    routes: 1,
                    steps: 2
                }
            )]
        );
    }

    #[test]
    fn the_merged_user_keeps_an_earlier_steps_field() {
        let merged = merged_answers(vec![
            json!({"openid": "o1", "client_id": "a1"}),
            json!({"openid": "spoofed", "nickname": "N", "ret": 0}),
        ]);
        assert_eq!(
            merged,
            Some(json!({"openid": "o1", "client_id": "a1", "nickname": "N", "ret": 0}))
        );
        // One call's answer is the user as it came, whatever its shape.
        assert_eq!(
            merged_answers(vec![json!([{"id": 1}])]),
            Some(json!([{"id": 1}]))
        );
        assert_eq!(merged_answers(vec![json!({"a": 1}), json!([1])]), None);
    }
}
