//! The bridged providers, one list per group of presets, so that each
//! group's `Provider`s and cases live beside each other. `every_provider`
//! logs in through every case.

mod callback_shapes;
pub(super) mod id_tokens;
pub(super) mod long_tail_a;
pub(super) mod long_tail_b;
mod multi_step;
pub(super) mod tail_two;
mod token_claims;

/// Presets with an `oidc:` block whose login is driven by a test of its own
/// (a multi-step user leg, a provider ID token), named here with that test.
#[rustfmt::skip]
pub(super) const OWN_TESTS: &[&str] = &[
    // long_tail_a: its user call is signed with keys from the environment.
    "okru",
    // id_tokens: claims from the provider's own verified ID token.
    "apple", "line", "linkedin", "twitch",
    // multi_step: QQ's user leg is two calls.
    "qq",
    // long_tail_b: a Graph app secret, a tenant's host.
    "facebook", "gitlab", "shopify",
    // token_claims: sub from the token answer (Kuaishou's app id from the
    // environment; Withings has no user endpoint).
    "kuaishou", "withings",
    // callback_shapes: Alipay's auth_code (its app id as the broker's client
    // id), eBay's RuName (registered with the mock's page).
    "alipay", "ebay",
    // tests/it/wecom/bridge.rs: WeCom's mock is a WecomMock of its own.
    "wecom",
];
