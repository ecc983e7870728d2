//! Yandex ID and Mail.ru, as `oauth-quirks.md` ("The long tail, part two")
//! describes them.

use serde_json::json;

use super::{
    authorize_page, authorize_page_requiring, form_post, get_user, json_answer, rfc, rfc_error,
    Refusal, Spec, TokenSpec, UserSpec, PARAMS_OR_BASIC,
};
use crate::strict::{self, Credentials};

pub(super) const YANDEX: Spec = Spec {
    prefix: "ya",
    token: Some(TokenSpec {
        endpoint: form_post("/token", PARAMS_OR_BASIC, strict::Refusal::oauth()),
        code_params: &[],
        refresh: true,
        success: |access, refresh| {
            json_answer(
                200,
                json!({"access_token": access, "expires_in": 31536000, "refresh_token": refresh, "token_type": "bearer"}),
            )
        },
        error: rfc_error,
    }),
    user: Some(UserSpec {
        endpoint: // Yandex also takes `Authorization: OAuth …`, never Bearer; the preset sends the query parameter.
        get_user("/info", Credentials::TokenQuery("oauth_token"), &["format"], strict::Refusal::json(400, r#"{"error":"invalid_request","error_description":"{why}"}"#)),
        fixed: &[("format", "json")],
        token_param: None,
        user: || {
            json!({"id": "1000034426", "login": "ivan", "client_id": "ya-client", "display_name": "Ivan",
                   "real_name": "Ivan Ivanov", "default_email": "ivan@yandex.example",
                   "default_avatar_id": "131652443", "is_avatar_empty": false})
        },
        // *Unsure*: the shape of a refused token (the notes give none).
        error: |refusal, why| {
            let (status, error) = if refusal == Refusal::Client {
                (401, "invalid_token")
            } else {
                (400, "invalid_request")
            };
            json_answer(status, json!({"error": error, "error_description": why}))
        },
    }),
    authorize: Some(authorize_page("/authorize")),
};

pub(super) const MAILRU: Spec = Spec {
    prefix: "mr",
    token: Some(TokenSpec {
        endpoint: form_post(
            "/token",
            PARAMS_OR_BASIC,
            strict::Refusal::json(
                400,
                r#"{"error":"invalid_request","error_code":1,"error_description":"{why}"}"#,
            ),
        ),
        code_params: &[("redirect_uri", None)],
        refresh: true,
        success: |access, refresh| {
            json_answer(
                200,
                json!({"access_token": access, "refresh_token": refresh, "expires_in": 3600}),
            )
        },
        error: |refusal, why| {
            let code = match refusal {
                Refusal::Client => 2,
                Refusal::Request => 1,
                Refusal::Grant => 3,
            };
            json_answer(
                400,
                json!({"error": rfc(refusal), "error_code": code, "error_description": why}),
            )
        },
    }),
    user: Some(UserSpec {
        endpoint: get_user(
            "/userinfo",
            Credentials::TokenQuery("access_token"),
            &[],
            strict::Refusal::json(
                200,
                r#"{"error":"invalid_request","error_code":1,"error_description":"{why}"}"#,
            ),
        ),
        fixed: &[],
        token_param: None,
        user: || {
            json!({"id": "8123456", "email": "ivan@mail.example", "name": "Ivan Ivanov", "first_name": "Ivan",
                   "last_name": "Ivanov", "image": "https://filin.mail.example/pic", "gender": "m", "locale": "ru_RU"})
        },
        // *Unsure* on the status: the notes give the shape only.
        error: |refusal, why| {
            let (error, code) = if refusal == Refusal::Client {
                ("invalid_token", 2)
            } else {
                ("invalid_request", 1)
            };
            json_answer(
                200,
                json!({"error": error, "error_code": code, "error_description": why}),
            )
        },
    }),
    // Mail.ru's page requires state (oauth-quirks.md).
    authorize: Some(authorize_page_requiring(
        "/login",
        &["client_id", "response_type", "redirect_uri", "state"],
    )),
};
