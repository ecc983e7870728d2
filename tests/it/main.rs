//! Black-box and property tests, linked once: the real `quirkgate` binary on
//! free loopback ports in front of mock providers the tests start themselves.

mod support;

mod allocations;
mod answer_properties;
mod architecture;
mod auth0_cli;
mod command_line;
mod deploy;
mod docs;
mod edge_tls;
mod edge_tls_hostile;
mod front_door;
mod hostile_input;
mod hostile_provider;
mod long_tail_presets;
mod long_tail_two;
mod observability;
mod oidc_bridge;
mod presets;
mod reload;
mod rewrite_properties;
mod secrets;
mod security_controls;
mod signed_presets;
mod standards;
mod store;
mod tiktok_gateway;
mod upstream_policy;
mod wecom;
