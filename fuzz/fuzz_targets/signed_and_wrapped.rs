//! Arbitrary bytes into the signed-request and wrapped-answer words: as a
//! form, through `rsa2_sign` (whose signature must verify over the string
//! to sign) and `okru_sig`; as a provider answer, through `answer_signature`
//! and `in_band_status` (Alipay's and Withings' shapes). No input may panic.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use quirkgate_core::form::parse_form;
use quirkgate_core::http1::ProviderAnswer;
use quirkgate_core::rules::request::{Place, RequestRule, TokenMethod, TokenRequest};
use quirkgate_core::rules::response::{FieldPath, ResponsePlan};
use quirkgate_core::rules::signed::{
    alipay_string_to_sign, AnswerSignature, OkRuSig, Rsa2Sign, RsaSigningKey, RsaVerifyingKey,
};
use quirkgate_core::rules::wrapped::InBandStatus;

const PRIVATE: &str = include_str!("../../crates/quirkgate-core/testdata/signed/app_private_pkcs8.pem");
const PUBLIC: &str = include_str!("../../crates/quirkgate-core/testdata/signed/app_public.pem");

static RSA2: LazyLock<Rsa2Sign> = LazyLock::new(|| Rsa2Sign {
    key: RsaSigningKey::from_pem(PRIVATE.as_bytes()).expect("the test key"),
    place: Place::Body,
    param: "sign".into(),
    timestamp: Some("timestamp".into()),
});

static OKRU: LazyLock<OkRuSig> = LazyLock::new(|| OkRuSig {
    secret: "fuzz-secret".into(),
    place: Place::Body,
    token: "access_token".into(),
    param: "sig".into(),
});

static VERIFYING: LazyLock<RsaVerifyingKey> =
    LazyLock::new(|| RsaVerifyingKey::from_text(PUBLIC.as_bytes()).expect("the test key"));

fn paths(list: &[&str]) -> Vec<FieldPath> {
    list.iter().map(|p| FieldPath::parse(p)).collect()
}

static ALIPAY: LazyLock<ResponsePlan> = LazyLock::new(|| ResponsePlan {
    signature: Some(AnswerSignature {
        key: VERIFYING.clone(),
        member: "alipay_system_oauth_token_response".into(),
        error_member: Some("error_response".into()),
        sign: "sign".into(),
    }),
    rules: vec![Box::new(InBandStatus {
        status: paths(&["error_response.code", "alipay_system_oauth_token_response.code"]),
        success: vec!["10000".into()],
        body: FieldPath::parse("alipay_system_oauth_token_response"),
        error: paths(&["error_response.sub_code"]),
        description: paths(&["error_response.sub_msg"]),
        codes: vec![("isv.code-invalid".into(), "invalid_grant".into())],
        default: None,
    })],
    ..Default::default()
});

static WITHINGS: LazyLock<ResponsePlan> = LazyLock::new(|| ResponsePlan {
    rules: vec![Box::new(InBandStatus {
        status: paths(&["status"]),
        success: vec!["0".into()],
        body: FieldPath::parse("body"),
        error: paths(&["status"]),
        description: paths(&["error"]),
        codes: vec![("503".into(), "invalid_grant".into())],
        default: Some("invalid_request".into()),
    })],
    ..Default::default()
});

fuzz_target!(|data: &[u8]| {
    if let Ok(params) = parse_form(data) {
        let mut request = TokenRequest::new(TokenMethod::Post, params.clone());
        if RSA2.apply(&mut request).is_ok() {
            let sign = request.value(Place::Body, "sign").expect("a sign is added").into_owned();
            let mut pairs: Vec<(String, String)> = request
                .params(Place::Body)
                .iter()
                .map(|p| (p.name.decoded().into_owned(), p.value.decoded().into_owned()))
                .filter(|(name, _)| name != "sign")
                .collect();
            pairs.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()).then(a.1.cmp(&b.1)));
            assert!(VERIFYING.verifies(alipay_string_to_sign(&pairs).as_bytes(), &sign));
        }
        let mut request = TokenRequest::new(TokenMethod::Post, params);
        let _ = OKRU.apply(&mut request);
    }
    for status in [200, 400] {
        let answer = ProviderAnswer {
            status,
            content_type: Some(bytes::Bytes::from_static(b"application/json")),
            body: bytes::Bytes::copy_from_slice(data),
        };
        let _ = ALIPAY.shape(&answer);
        let _ = WITHINGS.shape(&answer);
    }
});
