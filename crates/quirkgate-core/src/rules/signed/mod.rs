//! Signed requests: the keys (read once per load from the files operators
//! name) and the rules that sign parameters per call.

mod answer;
mod keys;
mod params;

pub use answer::AnswerSignature;
pub use keys::{KeyError, RsaSigningKey, RsaVerifyingKey};
pub use params::{alipay_string_to_sign, china_time, okru_sig, OkRuSig, Rsa2Sign};
