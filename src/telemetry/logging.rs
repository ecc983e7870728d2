//! Logging setup. quirkgate's own lines never carry a parameter or header
//! value. Pingora's internals dump raw request headers and response bodies at
//! debug and trace level (`Writing request header: …`, `Response body: …`), so
//! records from `pingora*` targets are capped at `info` whatever `RUST_LOG` says.

use log::{Level, Log, Metadata, Record};

struct CappedLogger {
    inner: env_logger::Logger,
}

fn is_pingora(target: &str) -> bool {
    target.starts_with("pingora")
}

impl Log for CappedLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        !(is_pingora(metadata.target()) && metadata.level() > Level::Info)
            && self.inner.enabled(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            self.inner.log(record);
        }
    }

    fn flush(&self) {
        self.inner.flush();
    }
}

/// Installs the logger: `RUST_LOG` (default `info`), written to stderr.
pub fn init() {
    let inner =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).build();
    let max = inner.filter();
    if log::set_boxed_logger(Box::new(CappedLogger { inner })).is_ok() {
        log::set_max_level(max);
    }
}
