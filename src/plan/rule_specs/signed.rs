//! The words of signed requests and wrapped answers (`rsa2_sign`,
//! `okru_sig`, `answer_signature`, `in_band_status`): their file format and
//! compilation. Key files are read here, at every load and reload, so a bad
//! key fails `--test` naming its file; their contents are never printed.

use serde::Deserialize;

use quirkgate_core::rules::request::{Place, RequestRule};
use quirkgate_core::rules::response::FieldPath;
use quirkgate_core::rules::signed::{
    AnswerSignature, OkRuSig, Rsa2Sign, RsaSigningKey, RsaVerifyingKey,
};
use quirkgate_core::rules::wrapped::InBandStatus;

use super::refusal::RuleRefusal;
use super::OneOrMany;

/// Where a signing rule reads and adds its parameters.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum SignedPlace {
    #[default]
    Body,
    Query,
}

impl SignedPlace {
    pub(super) fn place(self) -> Place {
        match self {
            SignedPlace::Body => Place::Body,
            SignedPlace::Query => Place::Query,
        }
    }
}

/// `rsa2_sign: { key_file: "${ALIPAY_APP_KEY_FILE}", timestamp: timestamp }`.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct Rsa2SignSpec {
    /// The app's RSA private key, PKCS#8 or PKCS#1 PEM.
    pub key_file: String,
    /// The parameter set to the current China time before signing, if any.
    pub timestamp: Option<String>,
    #[serde(default, rename = "in")]
    pub place: SignedPlace,
    #[serde(default = "default_sign")]
    pub param: String,
}

/// `okru_sig: { secret: "${OKRU_CLIENT_SECRET}" }`.
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct OkRuSigSpec {
    pub secret: String,
    #[serde(default = "default_query", rename = "in")]
    pub place: SignedPlace,
    #[serde(default = "default_access_token")]
    pub token: String,
    #[serde(default = "default_sig")]
    pub param: String,
}

/// The secret never prints.
impl std::fmt::Debug for OkRuSigSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "OkRuSigSpec {{ secret: <redacted>, place: {:?}, token: {:?}, param: {:?} }}",
            self.place, self.token, self.param
        )
    }
}

/// `answer_signature: { key_file: "${ALIPAY_PUBLIC_KEY_FILE}", member: …_response }`.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct AnswerSignatureSpec {
    /// The provider's RSA public key: PEM, or the bare base64 its console shows.
    pub key_file: String,
    pub member: String,
    pub error_member: Option<String>,
    #[serde(default = "default_sign")]
    pub sign: String,
}

/// `in_band_status: { status: status, success: [0], body: body, error: error }`.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct InBandStatusSpec {
    pub status: OneOrMany,
    pub success: Vec<serde_json::Value>,
    pub body: String,
    #[serde(default)]
    pub error: OneOrMany,
    #[serde(default)]
    pub description: OneOrMany,
    #[serde(default)]
    pub codes: serde_yaml::Mapping,
    pub default: Option<String>,
}

fn default_sign() -> String {
    "sign".into()
}
fn default_sig() -> String {
    "sig".into()
}
fn default_access_token() -> String {
    "access_token".into()
}
fn default_query() -> SignedPlace {
    SignedPlace::Query
}

fn read_key_file(path: &str) -> Result<Vec<u8>, RuleRefusal> {
    if path.is_empty() {
        return Err(RuleRefusal::EmptyClaim("key_file"));
    }
    std::fs::read(path).map_err(|e| key_file_refusal(path, e))
}

fn key_file_refusal(path: &str, why: impl std::fmt::Display) -> RuleRefusal {
    RuleRefusal::KeyFile {
        path: path.to_owned(),
        why: why.to_string(),
    }
}

fn check_param(name: &str, what: &'static str) -> Result<(), RuleRefusal> {
    if name.is_empty() {
        return Err(RuleRefusal::EmptyClaim(what));
    }
    Ok(())
}

/// The names a signing rule adds to its place, for the name tracker.
pub(super) fn rsa2_sign(
    spec: &Rsa2SignSpec,
) -> Result<(Vec<String>, Box<dyn RequestRule>), RuleRefusal> {
    check_param(&spec.param, "param")?;
    let pem = read_key_file(&spec.key_file)?;
    let key = RsaSigningKey::from_pem(&pem).map_err(|e| key_file_refusal(&spec.key_file, e))?;
    let mut added = vec![spec.param.clone()];
    if let Some(timestamp) = &spec.timestamp {
        check_param(timestamp, "timestamp")?;
        added.push(timestamp.clone());
    }
    let rule = Rsa2Sign {
        key,
        place: spec.place.place(),
        param: spec.param.clone(),
        timestamp: spec.timestamp.clone(),
    };
    Ok((added, Box::new(rule)))
}

pub(super) fn okru_sig(
    spec: &OkRuSigSpec,
) -> Result<(Vec<String>, Box<dyn RequestRule>), RuleRefusal> {
    if spec.secret.is_empty() {
        return Err(RuleRefusal::OkRuSecretMissing);
    }
    check_param(&spec.token, "token")?;
    check_param(&spec.param, "param")?;
    let rule = OkRuSig {
        secret: spec.secret.clone(),
        place: spec.place.place(),
        token: spec.token.clone(),
        param: spec.param.clone(),
    };
    Ok((vec![spec.param.clone()], Box::new(rule)))
}

pub(super) fn answer_signature(spec: &AnswerSignatureSpec) -> Result<AnswerSignature, RuleRefusal> {
    check_param(&spec.member, "member")?;
    check_param(&spec.sign, "sign")?;
    let text = read_key_file(&spec.key_file)?;
    let key = RsaVerifyingKey::from_text(&text).map_err(|e| key_file_refusal(&spec.key_file, e))?;
    Ok(AnswerSignature {
        key,
        member: spec.member.clone(),
        error_member: spec.error_member.clone(),
        sign: spec.sign.clone(),
    })
}

pub(super) fn in_band_status(spec: &InBandStatusSpec) -> Result<InBandStatus, RuleRefusal> {
    let paths = |list: &OneOrMany, key: &'static str| -> Result<Vec<FieldPath>, RuleRefusal> {
        list.0
            .iter()
            .map(|text| {
                let path = FieldPath::parse(text);
                if path.is_well_formed() {
                    Ok(path)
                } else {
                    Err(RuleRefusal::BadFieldPathAt {
                        key,
                        text: text.clone(),
                    })
                }
            })
            .collect()
    };
    let status = paths(&spec.status, "status")?;
    if status.is_empty() {
        return Err(RuleRefusal::NoStatusField);
    }
    if spec.success.is_empty() {
        return Err(RuleRefusal::NoSuccessValues);
    }
    let success = spec
        .success
        .iter()
        .map(|value| match value {
            serde_json::Value::String(s) => Ok(s.clone()),
            serde_json::Value::Number(n) => Ok(n.to_string()),
            other => Err(RuleRefusal::SuccessNotScalar(other.to_string())),
        })
        .collect::<Result<_, _>>()?;
    let body = FieldPath::parse(&spec.body);
    if spec.body.is_empty() || !body.is_well_formed() {
        return Err(RuleRefusal::BadFieldPathAt {
            key: "body",
            text: spec.body.clone(),
        });
    }
    Ok(InBandStatus {
        status,
        success,
        body,
        error: paths(&spec.error, "error")?,
        description: paths(&spec.description, "description")?,
        codes: super::scalar_map(&spec.codes)?,
        default: spec.default.clone(),
    })
}
