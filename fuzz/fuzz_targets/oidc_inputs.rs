//! Arbitrary text where the OpenID Connect bridge reads what a browser or a
//! broker sends: the `/authorize` query, and a sealed state or code. Neither
//! may panic; a refusal that names no redirect never redirects; a seal of
//! random text never opens, and a real one opens only as what it was.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quirkgate_core::oidc::authorize::{judge_authorize, AuthorizePolicy, AuthorizeRefusal};
use quirkgate_core::oidc::seal::{SealPurpose, Sealer};

const ALLOWED: &str = "https://broker.example/cb";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let uris = [ALLOWED.to_owned()];
    let policy = AuthorizePolicy {
        redirect_uris: &uris,
        client_ids: None,
    };
    match judge_authorize(text, &policy) {
        Ok(login) => assert_eq!(login.redirect_uri, ALLOWED),
        Err(AuthorizeRefusal::ToBroker { redirect_uri, .. }) => assert_eq!(redirect_uri, ALLOWED),
        Err(AuthorizeRefusal::Here(error)) => assert_eq!(error.status, 400),
    }
    let sealer = Sealer::new(&[[3; 32]], "https://gw.example/oidc").unwrap();
    assert!(sealer.open::<String>(SealPurpose::Code, text, 0).is_err());
    let sealed = sealer.seal(SealPurpose::State, &text, u64::MAX);
    assert_eq!(sealer.open::<String>(SealPurpose::State, &sealed, 0).as_deref(), Ok(text));
    assert!(sealer.open::<String>(SealPurpose::Code, &sealed, 0).is_err());
});
