//! The first long tail: Douyin, Kuaishou, Feishu, Zoom, Pinterest, Strava.

#[allow(unused_imports)]
use crate::support::*;

/// Each provider and the algorithm its bridge signs with.
pub(crate) const CASES: &[(&Provider, &str)] = &[];
