//! The Prometheus side of the tests: reading samples out of the exposition
//! text the gateway serves.

/// The samples of `name` whose labels contain every `label="value"` given.
fn matching_samples<'a>(
    text: &'a str,
    name: &'a str,
    labels: &'a [(&'a str, &'a str)],
) -> impl Iterator<Item = f64> + 'a {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(move |l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter(move |l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .map(|l| {
            l.rsplit(' ')
                .next()
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or_else(|| panic!("unreadable sample: {l}"))
        })
}

/// Sum of the matching samples, `None` when no series matches.
pub fn metric_series(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut samples = matching_samples(text, name, labels).peekable();
    samples.peek()?;
    Some(samples.sum())
}

/// Sum of the matching samples; panics (with the metrics text) when no series
/// matches, so a renamed metric or label fails instead of reading 0.
pub fn metric_value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    metric_series(text, name, labels)
        .unwrap_or_else(|| panic!("no series {name}{labels:?} in the metrics:\n{text}"))
}

/// For callers that expect a series to be absent (a counter never touched):
/// the metric family itself must exist, so a rename still fails.
pub fn assert_no_series(text: &str, name: &str, labels: &[(&str, &str)]) {
    assert!(
        text.lines()
            .any(|l| l.starts_with(&format!("# TYPE {name} "))),
        "no metric family {name} at all:\n{text}"
    );
    assert_eq!(
        metric_series(text, name, labels),
        None,
        "{name}{labels:?} should have no series:\n{text}"
    );
}

/// For counters exported at 0 from load (`quirkgate_retries_total`,
/// `quirkgate_refused_total`, …): the series exists and never counted.
pub fn assert_zero(text: &str, name: &str, labels: &[(&str, &str)]) {
    assert_eq!(
        metric_value(text, name, labels),
        0.0,
        "{name}{labels:?} counted:\n{text}"
    );
}
