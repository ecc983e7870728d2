//! The response side, end to end: answers in, what a standard client gets out.

use super::*;
use serde_json::json;

fn shape(
    plan: &ResponsePlan,
    status: u16,
    ct: &str,
    body: &str,
) -> Result<CallerAnswer, OAuthError> {
    plan.shape(&ProviderAnswer {
        status,
        content_type: Some(bytes::Bytes::copy_from_slice(ct.as_bytes())),
        body: bytes::Bytes::copy_from_slice(body.as_bytes()),
    })
}

fn tiktok_errors() -> ErrorFrom {
    ErrorFrom {
        when: ErrorCondition {
            present: vec![FieldPath::parse("error")],
            absent: vec![FieldPath::parse("access_token")],
            ..Default::default()
        },
        error: Some(FieldPath::parse("error")),
        description: Some(FieldPath::parse("error_description")),
        codes: vec![],
        default: None,
        status: None,
    }
}

#[test]
fn success_passes_through_byte_for_byte() {
    let plan = ResponsePlan {
        form_any_content_type: false,
        jsonp: false,
        form_to_json: false,
        rules: vec![Box::new(tiktok_errors())],
        ..Default::default()
    };
    // Unsorted keys, spaces and an escape: a re-serialized answer would differ.
    let body =
        r#"{"open_id": "o", "access_token":"act.1", "expires_in": 86400, "scope": "a\u0020b"}"#;
    let answer = shape(&plan, 200, "application/json", body).unwrap();
    assert_eq!((answer.status, &answer.body[..]), (200, body.as_bytes()));
}

#[test]
fn error_in_a_200_becomes_400_with_the_providers_code() {
    let plan = ResponsePlan {
        form_any_content_type: false,
        jsonp: false,
        form_to_json: false,
        rules: vec![Box::new(tiktok_errors())],
        ..Default::default()
    };
    let err = shape(&plan, 200, "application/json",
        r#"{"error":"invalid_grant","error_description":"Authorization code is expired.","log_id":"x"}"#)
        .unwrap_err();
    assert_eq!((err.status, err.code.as_ref()), (400, "invalid_grant"));
    assert_eq!(err.description, "Authorization code is expired.");
}

#[test]
fn rules_for_2xx_answers_leave_provider_errors_alone() {
    // `unwrap` finds no `data` in an error answer: it must not run there.
    let plan = ResponsePlan {
        form_any_content_type: false,
        jsonp: false,
        form_to_json: false,
        rules: vec![Box::new(UnwrapObject(FieldPath::parse("data")))],
        ..Default::default()
    };
    let body = r#"{"error":"invalid_grant","error_description":"expired"}"#;
    let answer = shape(&plan, 400, "application/json", body).unwrap();
    assert_eq!((answer.status, &answer.body[..]), (400, body.as_bytes()));
}

#[test]
fn non_2xx_json_passes_with_its_status() {
    let plan = ResponsePlan::default();
    let answer = shape(
        &plan,
        401,
        "application/json",
        r#"{"error":"invalid_client"}"#,
    )
    .unwrap();
    assert_eq!(answer.status, 401);
}

#[test]
fn non_rfc_error_shapes_become_rfc_errors() {
    let plan = ResponsePlan::default();
    let err = shape(
        &plan,
        401,
        "application/json",
        r#"{"message":"Unauthorized","error":401}"#,
    )
    .unwrap_err();
    assert_eq!(
        (err.status, err.code.as_ref(), err.description.as_ref()),
        (401, "invalid_client", "Unauthorized")
    );
    let err = shape(&plan, 503, "application/json", r#"{"status":"down"}"#).unwrap_err();
    assert_eq!(
        (err.status, err.code.as_ref()),
        (502, "temporarily_unavailable")
    );
    let err = shape(&plan, 403, "application/json", r#"{"message":"no scope"}"#).unwrap_err();
    assert_eq!((err.status, err.code.as_ref()), (403, "access_denied"));
    let err = shape(&plan, 429, "application/json", r#"{"message":"slow down"}"#).unwrap_err();
    assert_eq!((err.status, err.code.as_ref()), (429, "invalid_request"));
}

#[test]
fn error_mappings_apply_to_non_2xx_answers_keeping_the_4xx_status() {
    let rule = ErrorFrom {
        when: ErrorCondition {
            not_equals: vec![(FieldPath::parse("error.code"), serde_json::json!("ok"))],
            ..Default::default()
        },
        error: Some(FieldPath::parse("error.code")),
        description: Some(FieldPath::parse("error.message")),
        codes: vec![],
        default: Some("invalid_token".into()),
        status: None,
    };
    let plan = ResponsePlan {
        form_any_content_type: false,
        jsonp: false,
        form_to_json: false,
        rules: vec![Box::new(rule)],
        ..Default::default()
    };
    let err = shape(
        &plan,
        401,
        "application/json",
        r#"{"data":{},"error":{"code":"access_token_invalid","message":"bad token"}}"#,
    )
    .unwrap_err();
    assert_eq!(
        (err.status, err.code.as_ref(), err.description.as_ref()),
        (401, "invalid_token", "bad token")
    );
}

#[test]
fn html_error_page_is_a_502() {
    let err = shape(
        &ResponsePlan::default(),
        500,
        "text/html",
        "<html>oops</html>",
    )
    .unwrap_err();
    assert_eq!((err.status, err.reason.as_str()), (502, "not_json"));
}

#[test]
fn wechat_errcode_maps_through_the_code_table() {
    let rule = ErrorFrom {
        when: ErrorCondition {
            nonzero: vec![FieldPath::parse("errcode")],
            ..Default::default()
        },
        error: Some(FieldPath::parse("errcode")),
        description: Some(FieldPath::parse("errmsg")),
        codes: vec![("40125".into(), "invalid_client".into())],
        default: Some("invalid_grant".into()),
        status: None,
    };
    let plan = ResponsePlan {
        form_any_content_type: false,
        jsonp: false,
        form_to_json: false,
        rules: vec![Box::new(rule)],
        ..Default::default()
    };
    let err = shape(
        &plan,
        200,
        "text/plain",
        r#"{"errcode":40029,"errmsg":"invalid code"}"#,
    )
    .unwrap_err();
    assert_eq!(
        (err.status, err.code.as_ref(), err.description.as_ref()),
        (400, "invalid_grant", "invalid code")
    );
    let err = shape(
        &plan,
        200,
        "text/plain",
        r#"{"errcode":40125,"errmsg":"bad secret"}"#,
    )
    .unwrap_err();
    assert_eq!(err.status, 401);
    assert!(shape(
        &plan,
        200,
        "text/plain",
        r#"{"access_token":"a","errcode":0}"#
    )
    .is_ok());
}

#[test]
fn unwrap_then_add_builds_a_flat_token_answer() {
    let plan = ResponsePlan {
        form_any_content_type: false,
        jsonp: false,
        form_to_json: false,
        rules: vec![
            Box::new(UnwrapObject(FieldPath::parse("data"))),
            Box::new(RemoveFields(vec![
                "error_code".into(),
                "description".into(),
            ])),
            Box::new(AddFields(vec![("token_type".into(), json!("Bearer"))])),
        ],
        ..Default::default()
    };
    let answer = shape(&plan, 200, "application/json",
        r#"{"data":{"access_token":"a","open_id":"o","error_code":0,"description":""},"message":"success"}"#)
        .unwrap();
    let v: Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(
        v,
        json!({"access_token":"a","open_id":"o","token_type":"Bearer"})
    );
}

#[test]
fn form_answers_become_json() {
    let plan = ResponsePlan {
        form_any_content_type: false,
        jsonp: false,
        form_to_json: true,
        rules: vec![Box::new(RenameFields(vec![(
            "scope".into(),
            "granted".into(),
        )]))],
        ..Default::default()
    };
    let answer = shape(
        &plan,
        200,
        "application/x-www-form-urlencoded",
        "access_token=gho_1&scope=read%3Auser&token_type=bearer",
    )
    .unwrap();
    let v: Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(
        v,
        json!({"access_token":"gho_1","granted":"read:user","token_type":"bearer"})
    );
}

#[test]
fn form_answers_become_json_even_when_the_rules_only_look() {
    // GitHub's shape: form answers, errors in a 200, no rule that edits.
    let plan = ResponsePlan {
        form_to_json: true,
        rules: vec![Box::new(tiktok_errors())],
        ..Default::default()
    };
    let form = "application/x-www-form-urlencoded";
    let answer = shape(&plan, 200, form, "access_token=gho_1&token_type=bearer").unwrap();
    let v: Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(v, json!({"access_token":"gho_1","token_type":"bearer"}));
    let err = shape(
        &plan,
        200,
        form,
        "error=bad_verification_code&error_description=gone",
    )
    .unwrap_err();
    assert_eq!(
        (err.status, err.code.as_ref()),
        (400, "bad_verification_code")
    );
    // JSON answers on such a route are still read as JSON, byte for byte.
    let body = r#"{"access_token": "gho_2", "token_type": "bearer"}"#;
    let answer = shape(&plan, 200, "application/json", body).unwrap();
    assert_eq!(&answer.body[..], body.as_bytes());
}

#[test]
fn only_routes_that_ask_turn_form_answers_into_json() {
    let renames = || -> Vec<Box<dyn ResponseRule>> {
        vec![Box::new(RenameFields(vec![(
            "scope".into(),
            "granted".into(),
        )]))]
    };
    let json_only = ResponsePlan {
        rules: renames(),
        ..Default::default()
    };
    let err = shape(
        &json_only,
        200,
        "application/x-www-form-urlencoded",
        "access_token=a",
    )
    .unwrap_err();
    assert_eq!(err.status, 502);
    let form_too = ResponsePlan {
        form_to_json: true,
        rules: renames(),
        ..Default::default()
    };
    let answer = shape(
        &form_too,
        200,
        "application/json",
        r#"{"access_token":"a","scope":"s"}"#,
    )
    .unwrap();
    let v: Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(v, json!({"access_token":"a","granted":"s"}));
}

#[test]
fn error_conditions_compare_values_and_read_nonzero_like_providers_write_it() {
    let document = |v: Value| v.as_object().unwrap().clone();
    let equals = ErrorCondition {
        equals: vec![(FieldPath::parse("data.ok"), json!(false))],
        ..Default::default()
    };
    assert!(equals.holds(&document(json!({"data": {"ok": false}}))));
    assert!(!equals.holds(&document(json!({"data": {"ok": true}}))));
    assert!(!equals.holds(&document(json!({"data": {}}))));
    let nonzero = ErrorCondition {
        nonzero: vec![FieldPath::parse("code")],
        ..Default::default()
    };
    for (code, holds) in [
        (json!(0), false),
        (json!(0.0), false),
        (json!(40029), true),
        (json!("0"), false),
        (json!(""), false),
        (json!("10007"), true),
        (json!(false), false),
        (json!(true), true),
        (Value::Null, false),
        (json!({"x": 1}), true),
    ] {
        let doc = document(json!({ "code": code }));
        assert_eq!(nonzero.holds(&doc), holds, "{code}");
    }
    assert!(
        !nonzero.holds(&document(json!({}))),
        "absent is not nonzero"
    );
}

#[test]
fn a_missing_object_to_unwrap_is_a_502_naming_its_path() {
    let unwrap = UnwrapObject(FieldPath::parse("data.user"));
    let err = unwrap
        .apply(&mut json!({"data": {"user": "x"}}).as_object().unwrap().clone())
        .unwrap_err();
    assert_eq!(err.status, 502);
    assert_eq!(
        err.description,
        "the provider's answer has no 'data.user' object"
    );
}

#[test]
fn error_from_reads_exactly_the_top_level_fields_it_names() {
    let rule = ErrorFrom {
        when: ErrorCondition {
            present: vec![FieldPath::parse("p.x")],
            absent: vec![FieldPath::parse("a")],
            nonzero: vec![FieldPath::parse("n")],
            equals: vec![(FieldPath::parse("e"), json!(1))],
            not_equals: vec![(FieldPath::parse("ne.code"), json!("ok"))],
        },
        error: Some(FieldPath::parse("err")),
        description: Some(FieldPath::parse("desc")),
        codes: vec![],
        default: None,
        status: None,
    };
    let mut read = rule.fields_read().unwrap();
    read.sort();
    assert_eq!(read, ["a", "desc", "e", "err", "n", "ne", "p"]);
    // Without paths there is nothing to read.
    let alone = ErrorFrom {
        when: ErrorCondition::default(),
        error: None,
        description: None,
        ..rule
    };
    assert_eq!(alone.fields_read(), Some(vec![]));
    assert!(!alone.edits(), "error_from only looks");
    assert!(alone.maps_errors());
}

#[test]
fn element_paths_step_into_arrays_and_renames_reach_nested_fields() {
    let mut doc: Map<String, Value> = serde_json::from_value(
        json!({"response": [{"id": 1, "first_name": "A"}], "owner": {"user": {"id": "u1"}}}),
    )
    .unwrap();
    assert_eq!(FieldPath::parse("response.0.id").get(&doc), Some(&json!(1)));
    assert_eq!(FieldPath::parse("response.1.id").get(&doc), None);
    assert_eq!(FieldPath::parse("response.x").get(&doc), None);
    RenameFields(vec![
        (
            FieldPath::parse("owner.user.id"),
            FieldPath::parse("user_id"),
        ),
        (
            FieldPath::parse("response.0.first_name"),
            FieldPath::parse("profile.name"),
        ),
    ])
    .apply(&mut doc)
    .unwrap();
    assert_eq!(
        Value::Object(doc),
        json!({"response": [{"id": 1}], "owner": {"user": {}}, "user_id": "u1", "profile": {"name": "A"}})
    );
}

#[test]
fn conversions_change_only_values_of_the_other_kind() {
    let mut doc: Map<String, Value> = serde_json::from_value(json!({
        "expires_in": "86400", "refresh_expires_in": 100, "bad": "soon",
        "id": 1234567890123u64, "scope": ["user:read:email", "openid"], "flag": true
    }))
    .unwrap();
    ConvertValues(vec![
        (FieldPath::parse("expires_in"), Conversion::Number),
        (FieldPath::parse("refresh_expires_in"), Conversion::Number),
        (FieldPath::parse("bad"), Conversion::Number),
        (FieldPath::parse("id"), Conversion::String),
        (FieldPath::parse("flag"), Conversion::String),
        (FieldPath::parse("scope"), Conversion::SpaceSeparated),
        (FieldPath::parse("missing"), Conversion::Number),
    ])
    .apply(&mut doc)
    .unwrap();
    assert_eq!(
        Value::Object(doc),
        json!({"expires_in": 86400, "refresh_expires_in": 100, "bad": "soon",
               "id": "1234567890123", "scope": "user:read:email openid", "flag": "true"})
    );
}

#[test]
fn jsonp_is_unwrapped_before_the_rules_and_only_when_it_is_jsonp() {
    let body = b" callback( {\"error\":100019} );\n";
    let payload = jsonp_payload(body).unwrap();
    assert_eq!(&body[payload], b" {\"error\":100019} ");
    for not_jsonp in [
        &b"{\"a\":1}"[..],
        b"(1)",
        b"call back({})",
        b"cb({}) x",
        b"cb({",
    ] {
        assert_eq!(
            jsonp_payload(not_jsonp),
            None,
            "{:?}",
            String::from_utf8_lossy(not_jsonp)
        );
    }
    let plan = ResponsePlan {
        form_to_json: true,
        form_any_content_type: true,
        jsonp: true,
        signature: None,
        rules: vec![Box::new(ErrorFrom {
            when: ErrorCondition {
                present: vec![FieldPath::parse("error")],
                ..Default::default()
            },
            error: Some(FieldPath::parse("error")),
            description: Some(FieldPath::parse("error_description")),
            codes: vec![("100019".into(), "invalid_grant".into())],
            default: None,
            status: None,
        })],
        fields_read: None,
    };
    let err = shape(
        &plan,
        200,
        "text/html",
        "callback( {\"error\":100019,\"error_description\":\"code to access token error\"} );",
    )
    .unwrap_err();
    assert_eq!(
        (err.status, err.code.as_ref(), err.description.as_ref()),
        (400, "invalid_grant", "code to access token error")
    );
    // QQ labels its form answer text/html.
    let answer = shape(
        &plan,
        200,
        "text/html",
        "access_token=qq1&expires_in=7776000&refresh_token=r",
    )
    .unwrap();
    let v: Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(
        v,
        json!({"access_token": "qq1", "expires_in": "7776000", "refresh_token": "r"})
    );
    // An HTML page is still not a token answer.
    let err = shape(&plan, 200, "text/html", "<html>down</html>").unwrap_err();
    assert_eq!((err.status, err.reason.as_str()), (502, "not_json"));
}
