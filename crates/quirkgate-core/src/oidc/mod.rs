//! The pure parts of the OpenID Connect bridge: sealing what a login must
//! carry between its legs (no server state), the sealed values themselves
//! and their checks, the requests' parameters, judging the broker's
//! authorize request, building the provider's authorize URL, mapping the
//! provider's user to claims, and the ID token's claims. No network and no
//! clock: `bridge` runs the legs and passes the time in.

pub mod authorize;
pub mod claims;
pub mod id_token;
pub mod params;
pub mod provider_id_token;
pub mod provider_pkce;
pub mod redeemed;
pub mod seal;
pub mod sealed;
pub mod state;
pub mod token_answer;
