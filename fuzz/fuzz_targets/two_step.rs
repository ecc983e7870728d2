//! Arbitrary bytes into WeCom's two-step login: as each of its answers
//! (`gettoken`, `auth/getuserinfo`, `user/get`), and as a Bearer token the
//! user leg opens. No input may panic; a corp token read is never empty and
//! lasts a while; a member token sealed for any user id opens to it.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use quirkgate_core::oidc::seal::Sealer;
use quirkgate_core::rules::two_step::wecom::{
    corp_token_answer, member_answer, member_of_code_answer, open_member, seal_issuer,
    seal_member, WecomCall,
};

static SEALER: LazyLock<Sealer> =
    LazyLock::new(|| Sealer::new(&[[5; 32]], &seal_issuer("ww-fuzz")).expect("a key"));

fuzz_target!(|data: &[u8]| {
    if let Ok((token, lifetime)) = corp_token_answer(data) {
        assert!(!token.is_empty() && !lifetime.is_zero());
    } else if let Err(refusal) = corp_token_answer(data) {
        let error = refusal.to_oauth_error(WecomCall::CorpToken);
        assert!(error.status >= 400);
    }
    match member_of_code_answer(data) {
        Ok(user_id) => assert!(!user_id.is_empty()),
        Err(refusal) => assert!(refusal.to_oauth_error(WecomCall::CodeToMember).status >= 400),
    }
    if let Ok(member) = member_answer(data) {
        assert!(!member.contains_key("errcode") && member["userid"].is_string());
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = open_member(&SEALER, text, 1_000);
        // Short enough that the sealed text stays under the opening limit.
        if !text.is_empty() && text.len() <= 512 {
            let sealed = seal_member(&SEALER, text, 60, 1_000);
            assert_eq!(open_member(&SEALER, &sealed, 1_000).as_deref(), Ok(text));
        }
    }
});
