//! The hand-written HTTP/1.1 of both legs, as pure functions.
