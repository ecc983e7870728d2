//! The pure parts of the OpenID Connect bridge: sealing what a login must
//! carry between its legs (no server state), judging the broker's authorize
//! request, building the provider's authorize URL, and mapping the
//! provider's user to claims. No network: `bridge` runs the legs.

pub mod authorize;
pub mod claims;
pub mod redeemed;
pub mod seal;
