//! Field paths into a JSON answer: `data.error_code`, `response.0`.

use serde_json::{Map, Value};

/// A dotted path into the JSON document (`data.error_code`); a number
/// steps into an array (`response.0`: VK's first user, `data.0`: Twitch's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldPath(pub Vec<String>);

/// One step down from `value`: a field of an object, an element of an array.
fn step<'d>(value: &'d Value, key: &str) -> Option<&'d Value> {
    match value {
        Value::Object(map) => map.get(key),
        Value::Array(items) => items.get(key.parse::<usize>().ok()?),
        _ => None,
    }
}

fn step_mut<'d>(value: &'d mut Value, key: &str) -> Option<&'d mut Value> {
    match value {
        Value::Object(map) => map.get_mut(key),
        Value::Array(items) => items.get_mut(key.parse::<usize>().ok()?),
        _ => None,
    }
}

/// `"data.user".into()`: a path from its dotted text.
impl From<&str> for FieldPath {
    fn from(text: &str) -> Self {
        FieldPath::parse(text)
    }
}

impl FieldPath {
    pub fn parse(text: &str) -> Self {
        FieldPath(text.split('.').map(str::to_owned).collect())
    }

    /// Whether every step names something (no `a..b`, no trailing dot).
    pub fn is_well_formed(&self) -> bool {
        self.0.iter().all(|key| !key.is_empty())
    }

    pub fn get<'d>(&self, document: &'d Map<String, Value>) -> Option<&'d Value> {
        let (first, rest) = self.0.split_first()?;
        let mut value = document.get(first)?;
        for key in rest {
            value = step(value, key)?;
        }
        Some(value)
    }

    pub fn get_mut<'d>(&self, document: &'d mut Map<String, Value>) -> Option<&'d mut Value> {
        let (first, rest) = self.0.split_first()?;
        let mut value = document.get_mut(first)?;
        for key in rest {
            value = step_mut(value, key)?;
        }
        Some(value)
    }

    /// Takes the value out: removed from its object, or left `null` in its array.
    pub fn take(&self, document: &mut Map<String, Value>) -> Option<Value> {
        let (last, parents) = self.0.split_last()?;
        if parents.is_empty() {
            return document.remove(last);
        }
        match FieldPath(parents.to_vec()).get_mut(document)? {
            Value::Object(map) => map.remove(last),
            Value::Array(items) => items
                .get_mut(last.parse::<usize>().ok()?)
                .map(std::mem::take),
            _ => None,
        }
    }

    /// Puts a value at the path, making the objects on the way; `false` when
    /// something that is not an object stands in the way.
    pub fn put(&self, document: &mut Map<String, Value>, value: Value) -> bool {
        let Some((last, parents)) = self.0.split_last() else {
            return false;
        };
        let mut map = document;
        for key in parents {
            let next = map
                .entry(key.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            match next {
                Value::Object(inner) => map = inner,
                _ => return false,
            }
        }
        map.insert(last.clone(), value);
        true
    }
}

impl std::fmt::Display for FieldPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join("."))
    }
}
