//! The long tail, part two.

#[allow(unused_imports)]
use crate::support::*;

/// Each provider and the algorithm its bridge signs with.
pub(crate) const CASES: &[(&Provider, &str)] = &[];
