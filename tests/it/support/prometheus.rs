//! The Prometheus side of the tests: reading samples out of the exposition
//! text the gateway serves, parsing it whole, and taking PromQL expressions
//! apart into the metrics, labels and `by` clauses they use.

use std::collections::{BTreeMap, BTreeSet};

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

/// Grafana's variables replaced by what Prometheus alone understands.
pub fn substitute(expr: &str) -> String {
    expr.replace("$__rate_interval", "1m")
        .replace("$__interval", "15s")
        .replace("${route}", ".*")
        .replace("$route", ".*")
}

pub fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b':'
}

/// Byte index of the parenthesis closing the one at `open`.
pub fn matching_paren(text: &str, open: usize) -> usize {
    let bytes = text.as_bytes();
    let mut depth = 0;
    let mut quote: Option<u8> = None;
    for (i, &c) in bytes.iter().enumerate().skip(open) {
        if let Some(q) = quote {
            if c == q && bytes[i - 1] != b'\\' {
                quote = None;
            }
            continue;
        }
        match c {
            b'"' | b'\'' | b'`' => quote = Some(c),
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced parentheses in {text}");
}

/// Splits at top-level comparison (`> < >= <= == !=`, with optional `bool`)
/// and set operators (`and or unless`), unwraps parentheses and `absent()`, and
/// keeps the operands that select a quirkgate metric: the measures an alert
/// compares with its thresholds.
pub fn measures(expr: &str) -> Vec<String> {
    let expr = expr.trim();
    let bytes = expr.as_bytes();
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<u8> = None;
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if let Some(q) = quote {
            if c == q && bytes[i - 1] != b'\\' {
                quote = None;
            }
            i += 1;
            continue;
        }
        match c {
            b'"' | b'\'' | b'`' => quote = Some(c),
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            _ if depth == 0 => {
                let rest = &expr[i..];
                let op_len = ["==", "!=", ">=", "<=", ">", "<"]
                    .iter()
                    .find(|op| rest.starts_with(**op))
                    .map(|op| op.len())
                    .or_else(|| {
                        let boundary = i == 0 || !is_ident_char(bytes[i - 1]);
                        ["and", "or", "unless"]
                            .iter()
                            .find(|w| {
                                boundary
                                    && rest.starts_with(**w)
                                    && rest
                                        .as_bytes()
                                        .get(w.len())
                                        .is_none_or(|c| !is_ident_char(*c))
                            })
                            .map(|w| w.len())
                    });
                if let Some(len) = op_len {
                    parts.push(expr[start..i].to_owned());
                    i += len;
                    let after = expr[i..].trim_start();
                    if let Some(stripped) = after.strip_prefix("bool ") {
                        i = expr.len() - stripped.len();
                    }
                    start = i;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(expr[start..].to_owned());
    if parts.len() == 1 {
        let part = parts[0].trim();
        if part.starts_with('(') && matching_paren(part, 0) == part.len() - 1 {
            return measures(&part[1..part.len() - 1]);
        }
        if let Some(inner) = part.strip_prefix("absent") {
            let inner = inner.trim_start();
            if inner.starts_with('(') && matching_paren(inner, 0) == inner.len() - 1 {
                return measures(&inner[1..inner.len() - 1]);
            }
        }
        return if part.contains("quirkgate_") {
            vec![part.to_owned()]
        } else {
            Vec::new()
        };
    }
    parts.iter().flat_map(|p| measures(p)).collect()
}

/// Every identifier starting with `quirkgate_` outside quotes (recording
/// rule names, which carry a colon, excluded).
pub fn metric_names(expr: &str) -> Vec<(usize, String)> {
    let bytes = expr.as_bytes();
    let mut out = Vec::new();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if let Some(q) = quote {
            if c == q && bytes[i - 1] != b'\\' {
                quote = None;
            }
            i += 1;
            continue;
        }
        if c == b'"' || c == b'\'' || c == b'`' {
            quote = Some(c);
            i += 1;
            continue;
        }
        if is_ident_char(c) && (i == 0 || !is_ident_char(bytes[i - 1])) {
            let end = (i..bytes.len())
                .find(|&j| !is_ident_char(bytes[j]))
                .unwrap_or(bytes.len());
            let ident = &expr[i..end];
            if ident.starts_with("quirkgate_") && !ident.contains(':') {
                out.push((end, ident.to_owned()));
            }
            i = end;
            continue;
        }
        i += 1;
    }
    out
}

/// Label names in the `{...}` matchers right after each metric name.
pub fn selector_labels(expr: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for (end, name) in metric_names(expr) {
        let rest = expr[end..].trim_start();
        let mut labels = Vec::new();
        if let Some(body) = rest.strip_prefix('{') {
            let close = body.find('}').expect("closed matcher");
            let mut in_quote = false;
            let mut current = String::new();
            let mut matchers = Vec::new();
            for c in body[..close].chars() {
                match c {
                    '"' => in_quote = !in_quote,
                    ',' if !in_quote => matchers.push(std::mem::take(&mut current)),
                    _ => current.push(c),
                }
            }
            matchers.push(current);
            for m in matchers {
                let label: String = m
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !label.is_empty() {
                    labels.push(label);
                }
            }
        }
        out.push((name, labels));
    }
    out
}

/// For each `by (labels) (argument)` (and `by (labels)` after the argument):
/// the labels and the metrics inside the aggregated argument.
pub fn by_clauses(expr: &str) -> Vec<(Vec<String>, Vec<String>)> {
    let mut out = Vec::new();
    let bytes = expr.as_bytes();
    let mut search = 0;
    while let Some(found) = expr[search..].find("by") {
        let at = search + found;
        search = at + 2;
        let before_ok = at == 0 || !is_ident_char(bytes[at - 1]);
        let after = expr[at + 2..].trim_start();
        if !before_ok || !after.starts_with('(') {
            continue;
        }
        let open = expr.len() - after.len();
        let close = matching_paren(expr, open);
        let labels: Vec<String> = expr[open + 1..close]
            .split(',')
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())
            .collect();
        let rest = expr[close + 1..].trim_start();
        let argument = if rest.starts_with('(') {
            let arg_open = expr.len() - rest.len();
            expr[arg_open..=matching_paren(expr, arg_open)].to_owned()
        } else {
            // `sum(argument) by (labels)`: the parenthesis just before `by`.
            let head = expr[..at].trim_end();
            assert!(
                head.ends_with(')'),
                "cannot find the argument of by() in {expr}"
            );
            let close_at = head.len() - 1;
            let mut depth = 0;
            let mut open_at = close_at;
            for (i, c) in head.bytes().enumerate().rev() {
                match c {
                    b')' => depth += 1,
                    b'(' => {
                        depth -= 1;
                        if depth == 0 {
                            open_at = i;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            head[open_at..=close_at].to_owned()
        };
        let metrics = metric_names(&argument)
            .into_iter()
            .map(|(_, n)| n)
            .collect();
        out.push((labels, metrics));
    }
    out
}

/// The exposition as metric name -> label names seen, and family -> type.
pub struct Exposition {
    pub labels: BTreeMap<String, BTreeSet<String>>,
    pub types: BTreeMap<String, String>,
}

pub fn parse_exposition(text: &str) -> Exposition {
    let mut labels: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut types = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut it = rest.split_whitespace();
            if let (Some(name), Some(kind)) = (it.next(), it.next()) {
                types.insert(name.to_owned(), kind.to_owned());
            }
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let name_end = line.find(['{', ' ']).unwrap();
        let name = &line[..name_end];
        let entry = labels.entry(name.to_owned()).or_default();
        if line[name_end..].starts_with('{') {
            let body = &line[name_end + 1..];
            let mut in_quote = false;
            let mut escaped = false;
            let mut key = String::new();
            let mut reading_key = true;
            for c in body.chars() {
                if in_quote {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        in_quote = false;
                    }
                    continue;
                }
                match c {
                    '}' => break,
                    '"' => in_quote = true,
                    '=' => {
                        entry.insert(std::mem::take(&mut key).trim().to_owned());
                        reading_key = false;
                    }
                    ',' => reading_key = true,
                    _ if reading_key => key.push(c),
                    _ => {}
                }
            }
        }
    }
    Exposition { labels, types }
}

impl Exposition {
    /// Checks a metric name from an expression; histogram series names are
    /// resolved to their family, whose type must then be a histogram.
    pub fn check_name(&self, name: &str) -> Result<(), String> {
        for suffix in ["_bucket", "_sum", "_count"] {
            if let Some(family) = name.strip_suffix(suffix) {
                if let Some(kind) = self.types.get(family) {
                    if kind != "histogram" && kind != "summary" {
                        return Err(format!("{name}: {family} is a {kind}, not a histogram"));
                    }
                    if suffix == "_bucket" && kind != "histogram" {
                        return Err(format!("{name}: {family} has no buckets"));
                    }
                    return if self.labels.contains_key(name) {
                        Ok(())
                    } else {
                        Err(format!("{name}: no {family} sample exported"))
                    };
                }
            }
        }
        if !self.types.contains_key(name) {
            return Err(format!("{name}: no such metric family is exported"));
        }
        if !self.labels.contains_key(name) {
            return Err(format!("{name}: family declared but no sample exported"));
        }
        Ok(())
    }

    pub fn check_label(&self, name: &str, label: &str) -> Result<(), String> {
        match self.labels.get(name) {
            Some(labels) if labels.contains(label) => Ok(()),
            Some(labels) => Err(format!("{name} has no label '{label}' (it has {labels:?})")),
            None => Err(format!("{name}: not exported")),
        }
    }
}
