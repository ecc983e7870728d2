//! Response rule compilation: `form_to_json` and `jsonp` set how the answer
//! is read; the other words become rules.

use quirkgate_core::rules::response::*;

use super::refusal::RuleRefusal;
use super::*;
use crate::plan::error::{ConfigError, ConfigErrorKind, KeyPath, RuleList};

/// Compiles response rules; `form_to_json` and `jsonp` are properties of
/// the plan (they decide how the answer is read), the rest are rules.
pub fn compile_response_rules(specs: &[ResponseRuleSpec]) -> Result<ResponsePlan, ConfigError> {
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
            ResponseRuleSpec::AnswerSignature(_) => "answer_signature",
            ResponseRuleSpec::InBandStatus(_) => "in_band_status",
        };
        let label = |why: RuleRefusal| {
            ConfigError::new(
                KeyPath::root(),
                ConfigErrorKind::Rule {
                    list: RuleList::Response,
                    number,
                    word,
                    why,
                },
            )
        };
        compile_response_rule(spec, &mut plan).map_err(label)?;
    }
    Ok(plan.with_fields_read())
}

fn field_path(text: &str) -> Result<FieldPath, RuleRefusal> {
    let path = FieldPath::parse(text);
    if path.is_well_formed() {
        Ok(path)
    } else {
        Err(RuleRefusal::BadFieldPath(text.to_owned()))
    }
}

fn compile_response_rule(
    spec: &ResponseRuleSpec,
    plan: &mut ResponsePlan,
) -> Result<(), RuleRefusal> {
    let nothing = || Err(RuleRefusal::DoesNothing);
    match spec {
        ResponseRuleSpec::ErrorFrom(s) => plan.rules.push(Box::new(compile_error_from(s)?)),
        ResponseRuleSpec::Unwrap(path) if path.is_empty() => return Err(RuleRefusal::NoFieldPath),
        ResponseRuleSpec::Unwrap(path) => {
            plan.rules.push(Box::new(UnwrapObject(field_path(path)?)))
        }
        ResponseRuleSpec::FormToJson(FormToJsonSpec::On(on)) => plan.form_to_json = *on,
        ResponseRuleSpec::FormToJson(FormToJsonSpec::Mode(mode)) if mode == "any_content_type" => {
            plan.form_to_json = true;
            plan.form_any_content_type = true;
        }
        ResponseRuleSpec::FormToJson(FormToJsonSpec::Mode(mode)) => {
            return Err(RuleRefusal::UnknownFormMode(mode.clone()))
        }
        ResponseRuleSpec::Jsonp(false) => return nothing(),
        ResponseRuleSpec::Jsonp(true) => plan.jsonp = true,
        ResponseRuleSpec::Rename(p) if p.json.is_empty() => return nothing(),
        ResponseRuleSpec::Rename(p) => {
            let mut pairs = Vec::new();
            for (from, to) in &p.json {
                let (from, to) = (field_path(from)?, field_path(to)?);
                if from == to {
                    return Err(RuleRefusal::RenamesToItself(from.to_string()));
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
                let conversion =
                    Conversion::parse(word).ok_or_else(|| RuleRefusal::UnknownConversion {
                        path: path.clone(),
                        word: word.clone(),
                    })?;
                conversions.push((field_path(path)?, conversion));
            }
            plan.rules.push(Box::new(ConvertValues(conversions)));
        }
        ResponseRuleSpec::AnswerSignature(_) if plan.signature.is_some() => {
            return Err(RuleRefusal::SignatureTwice)
        }
        ResponseRuleSpec::AnswerSignature(s) => {
            plan.signature = Some(super::signed::answer_signature(s)?)
        }
        ResponseRuleSpec::InBandStatus(s) => {
            plan.rules.push(Box::new(super::signed::in_band_status(s)?))
        }
    }
    Ok(())
}

fn compile_error_from(spec: &ErrorFromSpec) -> Result<ErrorFrom, RuleRefusal> {
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
        return Err(RuleRefusal::ErrorAlways);
    }
    if let Some(status) = spec.status {
        if !(400..500).contains(&status) {
            return Err(RuleRefusal::NotClientErrorStatus(status));
        }
    }
    if spec.error.is_none() && spec.default.is_none() {
        return Err(RuleRefusal::ErrorCodeMissing);
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
