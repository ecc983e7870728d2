//! Each mock of part two takes the request its provider takes and refuses
//! every wrong variant of it (`strict::Endpoint::wrong_variants`), in the
//! provider's own error shape; the table says which facts each endpoint
//! declares, so a fact taken out of a mock fails here too.

use super::*;
use quirkgate_mocks::long_tail_two::Spec;
use quirkgate_mocks::strict::{At, Draft, Endpoint, Violation};

/// A short name for what a variant breaks.
fn label(violation: &Violation) -> String {
    match violation {
        Violation::Method(method) => format!("method {method}"),
        Violation::ContentType { .. } => "content-type".into(),
        Violation::UnreadableBody => "body".into(),
        Violation::Credentials(_) => "credentials".into(),
        Violation::MissingHeader(name) => format!("header {name}"),
        Violation::MissingParam(name) => format!("param {name}"),
        Violation::ForbiddenParam(name) => format!("forbidden {name}"),
    }
}

/// Which leg of a provider.
#[derive(Clone, Copy, Debug)]
enum Leg {
    Token,
    User,
}

/// (provider, leg, what the variants break, deduplicated and sorted).
const DECLARED: &[(TailTwo, Leg, &[&str])] = &[
    (
        TailTwo::Kakao,
        Leg::Token,
        &[
            "content-type",
            "credentials",
            "method DELETE",
            "method GET",
            "param grant_type",
        ],
    ),
    (
        TailTwo::Kakao,
        Leg::User,
        &[
            "content-type",
            "credentials",
            "method DELETE",
            "method POST",
        ],
    ),
    (
        TailTwo::Naver,
        Leg::Token,
        &[
            "content-type",
            "credentials",
            "method DELETE",
            "method GET",
            "param grant_type",
        ],
    ),
    (
        TailTwo::Naver,
        Leg::User,
        &[
            "content-type",
            "credentials",
            "method DELETE",
            "method POST",
        ],
    ),
    (
        TailTwo::Weibo,
        Leg::Token,
        &[
            "content-type",
            "credentials",
            "method DELETE",
            "method GET",
            "param grant_type",
        ],
    ),
    (
        TailTwo::Weibo,
        Leg::User,
        &[
            "content-type",
            "credentials",
            "method DELETE",
            "method POST",
            "param uid",
        ],
    ),
    (
        TailTwo::Baidu,
        Leg::Token,
        &[
            "content-type",
            "credentials",
            "method DELETE",
            "param grant_type",
        ],
    ),
    (
        TailTwo::Baidu,
        Leg::User,
        &[
            "content-type",
            "credentials",
            "method DELETE",
            "method POST",
        ],
    ),
    (
        TailTwo::Lark,
        Leg::Token,
        &[
            "content-type",
            "credentials",
            "method DELETE",
            "method GET",
            "param grant_type",
        ],
    ),
    (
        TailTwo::Lark,
        Leg::User,
        &[
            "content-type",
            "credentials",
            "method DELETE",
            "method POST",
        ],
    ),
    (
        TailTwo::Huawei,
        Leg::Token,
        &[
            "content-type",
            "credentials",
            "method DELETE",
            "method GET",
            "param grant_type",
        ],
    ),
    (
        TailTwo::Huawei,
        Leg::User,
        &[
            "content-type",
            "credentials",
            "method DELETE",
            "method GET",
            "param getNickName",
        ],
    ),
    (
        TailTwo::KuaishouUser,
        Leg::User,
        &[
            "content-type",
            "credentials",
            "method DELETE",
            "method POST",
            "param app_id",
        ],
    ),
    (
        TailTwo::Yandex,
        Leg::Token,
        &[
            "content-type",
            "credentials",
            "method DELETE",
            "method GET",
            "param grant_type",
        ],
    ),
    (
        TailTwo::Yandex,
        Leg::User,
        &[
            "content-type",
            "credentials",
            "method DELETE",
            "method POST",
            "param format",
        ],
    ),
    (
        TailTwo::MailRu,
        Leg::Token,
        &[
            "content-type",
            "credentials",
            "method DELETE",
            "method GET",
            "param grant_type",
        ],
    ),
    (
        TailTwo::MailRu,
        Leg::User,
        &[
            "content-type",
            "credentials",
            "method DELETE",
            "method POST",
        ],
    ),
    (
        TailTwo::Twitch,
        Leg::Token,
        &[
            "content-type",
            "credentials",
            "method DELETE",
            "method GET",
            "param grant_type",
        ],
    ),
    (
        TailTwo::Twitch,
        Leg::User,
        &[
            "content-type",
            "credentials",
            "header client-id",
            "method DELETE",
            "method POST",
        ],
    ),
    (
        TailTwo::Discord,
        Leg::Token,
        &[
            "content-type",
            "credentials",
            "method DELETE",
            "method GET",
            "param grant_type",
        ],
    ),
    (
        TailTwo::Discord,
        Leg::User,
        &[
            "content-type",
            "credentials",
            "method DELETE",
            "method POST",
        ],
    ),
    (
        TailTwo::Spotify,
        Leg::Token,
        &[
            "content-type",
            "credentials",
            "method DELETE",
            "method GET",
            "param grant_type",
        ],
    ),
    (
        TailTwo::Spotify,
        Leg::User,
        &[
            "content-type",
            "credentials",
            "method DELETE",
            "method POST",
        ],
    ),
    (
        TailTwo::Bitbucket,
        Leg::Token,
        &[
            "content-type",
            "credentials",
            "method DELETE",
            "method GET",
            "param grant_type",
        ],
    ),
    (
        TailTwo::Bitbucket,
        Leg::User,
        &[
            "content-type",
            "credentials",
            "method DELETE",
            "method POST",
        ],
    ),
    (
        TailTwo::Fitbit,
        Leg::Token,
        &[
            "content-type",
            "credentials",
            "method DELETE",
            "method GET",
            "param grant_type",
        ],
    ),
    (
        TailTwo::Fitbit,
        Leg::User,
        &[
            "content-type",
            "credentials",
            "method DELETE",
            "method POST",
        ],
    ),
    (
        TailTwo::Ebay,
        Leg::Token,
        &[
            "content-type",
            "credentials",
            "method DELETE",
            "method GET",
            "param grant_type",
        ],
    ),
    (
        TailTwo::Ebay,
        Leg::User,
        &[
            "content-type",
            "credentials",
            "method DELETE",
            "method POST",
        ],
    ),
    (
        TailTwo::PayPal,
        Leg::Token,
        &[
            "content-type",
            "credentials",
            "method DELETE",
            "method GET",
            "param grant_type",
        ],
    ),
    (
        TailTwo::PayPal,
        Leg::User,
        &[
            "content-type",
            "credentials",
            "method DELETE",
            "method POST",
            "param schema",
        ],
    ),
];

/// The request the leg's provider takes, with what its logic reads beyond
/// the endpoint's facts (the code, `redirect_uri`, fixed values).
fn accepted(spec: &Spec, leg: Leg) -> (Endpoint, Draft) {
    let (endpoint, fixed): (Endpoint, Vec<(&str, &str)>) = match leg {
        Leg::Token => {
            let token = spec.token.as_ref().unwrap();
            let mut fixed = vec![("code", "good-code")];
            for (name, value) in token.code_params {
                fixed.push((name, value.unwrap_or("https://app.example/cb")));
            }
            (token.endpoint, fixed)
        }
        Leg::User => {
            let user = spec.user.as_ref().unwrap();
            (user.endpoint, user.fixed.to_vec())
        }
    };
    let token = format!("{}.good", spec.prefix);
    let value = |name: &str| match name {
        "grant_type" => "authorization_code".to_owned(),
        "access_token" => token.clone(),
        other => fixed
            .iter()
            .find(|(n, _)| *n == other)
            .map_or("x".to_owned(), |(_, v)| (*v).to_owned()),
    };
    let mut draft = endpoint.accepted(value);
    // Huawei's token is a form parameter strict fills with the mock client id.
    for (name, value) in draft.query.iter_mut().chain(draft.body_params.iter_mut()) {
        if name == "access_token" {
            *value = format!("{}.good", spec.prefix);
        }
    }
    for (name, value) in fixed {
        let present = draft
            .query
            .iter()
            .chain(&draft.body_params)
            .any(|(n, _)| n == name);
        if !present {
            // Where the endpoint reads its parameters, unless the provider's URL carries it.
            let at = if name == "nsp_svc" {
                At::Query
            } else {
                endpoint.params.at
            };
            let params = match at {
                At::Query => &mut draft.query,
                At::Body => &mut draft.body_params,
            };
            params.push((name.to_owned(), value.to_owned()));
        }
    }
    (endpoint, draft)
}

/// Sends `request` to the mock as it is: (status, body).
async fn send(mock: &MockProvider, request: &SeenRequest) -> (u16, String) {
    let mut url = format!("http://{}{}", mock.addr, request.path);
    if !request.query.is_empty() {
        url.push('?');
        url.push_str(&serde_urlencoded::to_string(&request.query).unwrap());
    }
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).unwrap();
    let mut builder = http_client().request(method, url);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    if !request.raw_body.is_empty() {
        builder = builder.body(request.raw_body.clone());
    }
    let response = builder.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn every_mock_takes_its_providers_request_and_refuses_each_wrong_variant() {
    for (provider, leg, declared) in DECLARED {
        let spec = provider.spec();
        let mock = mock(ProviderKind::TailTwo(*provider)).await;
        let (endpoint, draft) = accepted(spec, *leg);
        let (status, body) = send(&mock, &draft.request()).await;
        assert_eq!(
            status, 200,
            "{provider:?} {leg:?}: the accepted request: {body}"
        );
        let expected_user = spec.user.as_ref().map(|user| (user.user)());
        match leg {
            Leg::Token => assert!(
                body.contains(&format!("{}.good-code", spec.prefix)),
                "{provider:?}: {body}"
            ),
            Leg::User => assert_eq!(
                serde_json::from_str::<serde_json::Value>(&body).ok(),
                expected_user,
                "{provider:?}"
            ),
        }
        let variants = endpoint.wrong_variants(&draft);
        let mut labels: Vec<String> = variants.iter().map(|v| label(&v.violation)).collect();
        labels.sort();
        labels.dedup();
        assert_eq!(
            labels, *declared,
            "{provider:?} {leg:?}: the facts its mock declares"
        );
        for variant in variants {
            let (status, content_type, body) = endpoint.refusal.answer(&variant.violation);
            let _ = content_type;
            assert_eq!(
                send(&mock, &variant.request).await,
                (status, body),
                "{provider:?} {leg:?}: {:?}",
                variant.violation
            );
        }
    }
}

/// Every provider of part two is in the table, each leg it has.
#[test]
fn the_table_covers_every_endpoint_of_part_two() {
    for provider in TailTwo::ALL {
        let spec = provider.spec();
        let listed = |wanted: fn(&Leg) -> bool| {
            DECLARED
                .iter()
                .any(|(p, leg, _)| *p == provider && wanted(leg))
        };
        assert_eq!(
            spec.token.is_some(),
            listed(|l| matches!(l, Leg::Token)),
            "{provider:?}"
        );
        assert_eq!(
            spec.user.is_some(),
            listed(|l| matches!(l, Leg::User)),
            "{provider:?}"
        );
    }
}

/// The parameters an authorize page requires beyond `client_id` and
/// `redirect_uri`, where its provider requires more.
const AUTHORIZE_ALSO_REQUIRED: &[(TailTwo, &[&str])] = &[
    (TailTwo::Naver, &["response_type", "state"]),
    (TailTwo::MailRu, &["response_type", "state"]),
];

/// Each authorize page sends the browser on for the request its provider
/// takes, and refuses each wrong variant of it (another method, a body, each
/// missing parameter) with a 400 and no redirect.
#[tokio::test]
async fn every_authorize_page_takes_its_providers_request_and_refuses_each_wrong_variant() {
    let mut pages = 0;
    for provider in TailTwo::ALL {
        let Some(page) = provider.spec().authorize else {
            continue;
        };
        pages += 1;
        let mock = mock(ProviderKind::TailTwo(provider)).await;
        // eBay's page takes the app's RuName, and sends the browser to the URL registered for it.
        let redirect = match provider {
            TailTwo::Ebay => {
                mock.redirect_names
                    .register(MOCK_EBAY_RUNAME, "https://app.example/cb");
                MOCK_EBAY_RUNAME
            }
            _ => "https://app.example/cb",
        };
        let draft = page.accepted(|name| match name {
            "redirect_uri" => redirect.to_owned(),
            "response_type" => "code".to_owned(),
            _ => "x".to_owned(),
        });
        let (status, body) = send(&mock, &draft.request()).await;
        assert_eq!(status, 302, "{provider:?}: the accepted request: {body}");
        if provider == TailTwo::Ebay {
            let by_url = page.accepted(|name| match name {
                "redirect_uri" => "https://app.example/cb".to_owned(),
                _ => "x".to_owned(),
            });
            let (status, body) = send(&mock, &by_url.request()).await;
            assert_eq!(status, 400, "eBay takes no URL as redirect_uri: {body}");
            assert!(body.contains("RuName"), "{body}");
        }

        let variants = page.wrong_variants(&draft);
        let mut missing: Vec<String> = variants
            .iter()
            .filter_map(|v| match &v.violation {
                Violation::MissingParam(name) => Some((*name).to_owned()),
                _ => None,
            })
            .collect();
        missing.sort();
        let also = AUTHORIZE_ALSO_REQUIRED
            .iter()
            .find(|(p, _)| *p == provider)
            .map_or(&[][..], |(_, names)| *names);
        let mut expected: Vec<String> = ["client_id", "redirect_uri"]
            .iter()
            .chain(also)
            .map(|name| (*name).to_owned())
            .collect();
        expected.sort();
        assert_eq!(
            missing, expected,
            "{provider:?}: the page's required parameters"
        );
        assert!(
            variants
                .iter()
                .any(|v| matches!(v.violation, Violation::Method(_))),
            "{provider:?}"
        );
        for variant in variants {
            let (status, _, body) = page.refusal.answer(&variant.violation);
            assert_eq!(
                send(&mock, &variant.request).await,
                (status, body),
                "{provider:?}: {:?}",
                variant.violation
            );
        }
    }
    assert_eq!(
        pages,
        TailTwo::ALL.len() - 1,
        "every provider but Kuaishou's user info has a page"
    );
}
