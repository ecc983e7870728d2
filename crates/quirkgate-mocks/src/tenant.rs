//! Strict mocks of providers whose host is the tenant's own (a Shopify
//! shop, a self-managed GitLab): Shopify's token call and shop.json (the
//! token in `X-Shopify-Access-Token`), GitLab's token call and `/api/v4/user`.
//! Each endpoint is a [`strict::Endpoint`]; the logic below checks grants.

use serde_json::{json, Value};

use crate::endpoints::authorize_page;
use crate::kinds::{ProviderKind, SeenRequest};
use crate::strict::{judge, At, Body, Credentials, Endpoint, Params, Refusal};

type Answer = (u16, &'static str, String);
const JSON: &str = "application/json";

/// The shop's grant page: the standard names (scope comma-separated).
pub const SHOPIFY_AUTHORIZE: Endpoint = authorize_page(
    "/admin/oauth/authorize",
    &["client_id", "scope", "redirect_uri", "state"],
    &[],
);

/// GitLab's authorize page: the standard names.
pub const GITLAB_AUTHORIZE: Endpoint = authorize_page(
    "/oauth/authorize",
    &[
        "client_id",
        "redirect_uri",
        "response_type",
        "scope",
        "state",
    ],
    &[],
);

/// Shopify's token call: client_id, client_secret and code, nothing of OAuth's grant names.
pub const SHOPIFY_TOKEN: Endpoint = Endpoint {
    path: "/admin/oauth/access_token",
    methods: &["POST"],
    body: Body::Form,
    credentials: Credentials::Params {
        id: "client_id",
        secret: Some("client_secret"),
    },
    headers: &[],
    params: Params {
        at: At::Body,
        required: &["code"],
        forbidden: &[],
    },
    refusal: Refusal::json(
        400,
        r#"{"error":"invalid_request","error_description":"{why}"}"#,
    ),
};

/// Shopify's Admin API: the token in its own header, never Bearer.
pub const SHOPIFY_SHOP: Endpoint = Endpoint {
    path: "/admin/api/2024-10/shop.json",
    methods: &["GET"],
    body: Body::None,
    credentials: Credentials::TokenHeader("x-shopify-access-token"),
    headers: &[],
    params: Params {
        at: At::Query,
        required: &[],
        forbidden: &[],
    },
    refusal: Refusal::json(401, r#"{"errors":"[API] {why}"}"#),
};

/// GitLab's token call: standard OAuth, client credentials in the form.
pub const GITLAB_TOKEN: Endpoint = Endpoint {
    path: "/oauth/token",
    methods: &["POST"],
    body: Body::Form,
    credentials: Credentials::Params {
        id: "client_id",
        secret: Some("client_secret"),
    },
    headers: &[],
    params: Params {
        at: At::Body,
        required: &["grant_type"],
        forbidden: &[],
    },
    refusal: Refusal::oauth(),
};

/// GitLab's REST user: Bearer.
pub const GITLAB_USER: Endpoint = Endpoint {
    path: "/api/v4/user",
    methods: &["GET"],
    body: Body::None,
    credentials: Credentials::Bearer,
    headers: &[],
    params: Params {
        at: At::Query,
        required: &[],
        forbidden: &[],
    },
    refusal: Refusal::json(401, r#"{"message":"401 Unauthorized: {why}"}"#),
};

pub fn endpoints(kind: ProviderKind) -> &'static [Endpoint] {
    match kind {
        ProviderKind::Shopify => &[SHOPIFY_TOKEN, SHOPIFY_SHOP, SHOPIFY_AUTHORIZE],
        ProviderKind::GitLab => &[GITLAB_TOKEN, GITLAB_USER, GITLAB_AUTHORIZE],
        _ => &[],
    }
}

fn answer_json(status: u16, value: Value) -> Answer {
    (status, JSON, value.to_string())
}

/// The provider's answer to a request, for the kinds of this file.
pub fn answer(kind: ProviderKind, request: &SeenRequest) -> Answer {
    let endpoint = match judge(endpoints(kind), request) {
        Ok(endpoint) => endpoint,
        Err(refusal) => return refusal,
    };
    match endpoint.path {
        "/admin/oauth/access_token" => shopify_token(request),
        "/admin/api/2024-10/shop.json" => shopify_shop(request),
        "/oauth/token" => gitlab_token(request),
        _ => gitlab_user(request),
    }
}

fn shopify_token(request: &SeenRequest) -> Answer {
    let code = request.body_param("code").unwrap_or("");
    if code.starts_with("bad") {
        return answer_json(
            400,
            json!({"error": "invalid_request", "error_description": "The authorization code was not found or was already used"}),
        );
    }
    answer_json(
        200,
        json!({"access_token": format!("shpat_{code}"), "scope": "read_products"}),
    )
}

fn shopify_shop(request: &SeenRequest) -> Answer {
    match request.header("x-shopify-access-token") {
        Some(token) if token.starts_with("shpat_") => answer_json(
            200,
            json!({"shop": {"id": 548380009, "name": "Mock Shop", "email": "owner@shop.example", "myshopify_domain": "mock-shop.myshopify.com"}}),
        ),
        _ => answer_json(
            401,
            json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}),
        ),
    }
}

fn gitlab_token(request: &SeenRequest) -> Answer {
    let error = |code: &str, description: &str| {
        answer_json(
            400,
            json!({"error": code, "error_description": description}),
        )
    };
    let param = |name| request.body_param(name);
    let grant = match (param("grant_type"), param("code"), param("refresh_token")) {
        (Some("authorization_code"), Some(code), _) if param("redirect_uri").is_some() => code,
        (Some("refresh_token"), _, Some(refresh)) => refresh,
        _ => {
            return error(
                "invalid_request",
                "The request is missing a required parameter.",
            )
        }
    };
    if grant.starts_with("bad") {
        return error(
            "invalid_grant",
            "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.",
        );
    }
    answer_json(
        200,
        json!({"access_token": format!("gl.{grant}"), "token_type": "Bearer", "expires_in": 7200, "refresh_token": format!("glr.{grant}"), "scope": "read_user", "created_at": 1_796_176_800u64}),
    )
}

fn gitlab_user(request: &SeenRequest) -> Answer {
    let token = request
        .header("authorization")
        .and_then(|a| a.split_once(' '))
        .map(|(_, t)| t)
        .unwrap_or("");
    if !token.starts_with("gl.") {
        return answer_json(401, json!({"message": "401 Unauthorized"}));
    }
    answer_json(
        200,
        json!({"id": 4711, "username": "mock", "name": "Mock User", "email": "mock@gitlab.example", "avatar_url": "https://gitlab.example/a.png"}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_wrong_variant_is_refused_in_the_providers_shape() {
        for kind in [ProviderKind::Shopify, ProviderKind::GitLab] {
            for endpoint in endpoints(kind) {
                let accepted = endpoint.accepted(|name| match name {
                    "grant_type" => "authorization_code".into(),
                    "access_token" => "shpat_x".into(),
                    other => format!("mock-{other}"),
                });
                let variants = endpoint.wrong_variants(&accepted);
                assert!(variants.len() >= 3, "{}", endpoint.path);
                for variant in variants {
                    assert_eq!(
                        answer(kind, &variant.request),
                        endpoint.refusal.answer(&variant.violation),
                        "{} {:?}",
                        endpoint.path,
                        variant.violation
                    );
                }
            }
        }
    }
}
