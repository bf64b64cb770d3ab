//! Reading a JSON value into a typed shape leniently: a field of the wrong type is dropped and
//! named in a warning instead of failing the whole value, so a controller one version ahead or
//! behind still gets its report stored. Used for reports (see `report::ReportIn::read`).

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_path_to_error::Segment;

/// Reads `value` as `T`, dropping every field that does not fit and naming it, prefixed with
/// `prefix`, in `warnings`. `None` when the value as a whole does not fit (not an object, or a
/// required field is missing or wrong); that is named in `warnings` too.
///
/// Each round drops one field, so a value with `n` fields takes at most `n + 1` rounds: callers
/// keep values small (one list element at a time).
pub fn read<T: DeserializeOwned>(mut value: Value, prefix: &str, warnings: &mut Vec<String>) -> Option<T> {
    // Elements removed from each list so far (by the list's path), to name them by their
    // original index.
    let mut removed: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    loop {
        let error = match serde_path_to_error::deserialize::<_, T>(&value) {
            Ok(typed) => return Some(typed),
            Err(e) => e,
        };
        let segments: Vec<Segment> = error.path().iter().cloned().collect();
        let message = describe(&error.inner().to_string());
        let (field, dropped) = drop_at(&mut value, &segments, prefix, &mut removed);
        warnings.push(format!("{field}: {message}"));
        if !dropped {
            return None;
        }
    }
}

/// Removes the value at `segments` (as far as they lead) and returns its name for a warning,
/// and whether anything was removed (`false`: the problem is the value as a whole).
fn drop_at(
    root: &mut Value,
    segments: &[Segment],
    prefix: &str,
    removed: &mut BTreeMap<String, Vec<usize>>,
) -> (String, bool) {
    // First how far the path leads, and the name of what is there.
    let mut name = prefix.to_string();
    let mut list_name = String::new();
    let mut steps = Vec::new();
    let mut node: &Value = root;
    for segment in segments {
        match (segment, node) {
            (Segment::Map { key }, Value::Object(map)) if map.contains_key(key) => {
                name = if name.is_empty() { key.clone() } else { format!("{name}.{key}") };
                node = &map[key];
                steps.push(Step::Key(key.clone()));
            }
            (Segment::Seq { index }, Value::Array(items)) if *index < items.len() => {
                list_name = name.clone();
                let original = original_index(removed.get(&name).map_or(&[][..], Vec::as_slice), *index);
                name = format!("{name}[{original}]");
                node = &items[*index];
                steps.push(Step::Index(*index, original));
            }
            _ => break,
        }
    }
    let Some((last, parents)) = steps.split_last() else {
        return (if name.is_empty() { "body".into() } else { name }, false);
    };
    // Then remove it.
    let mut parent = root;
    for step in parents {
        let next = match (step, parent) {
            (Step::Key(key), Value::Object(map)) => map.get_mut(key),
            (Step::Index(index, _), Value::Array(items)) => items.get_mut(*index),
            _ => None,
        };
        let Some(next) = next else { return (name, false) };
        parent = next;
    }
    match (last, parent) {
        (Step::Key(key), Value::Object(map)) => {
            map.remove(key);
        }
        (Step::Index(index, original), Value::Array(items)) if *index < items.len() => {
            items.remove(*index);
            let gone = removed.entry(list_name).or_default();
            gone.push(*original);
            gone.sort_unstable();
        }
        _ => return (name, false),
    }
    (name, true)
}

/// One step of a path into a JSON value: a key, or a list index (current and as sent).
enum Step {
    Key(String),
    Index(usize, usize),
}

/// The index an element had before the elements in `gone` (original indices) were removed.
fn original_index(gone: &[usize], current: usize) -> usize {
    let mut original = current;
    for &g in gone {
        if g <= original {
            original += 1;
        }
    }
    original
}

/// serde's message, said without the value that was sent (it may be long, or private).
pub fn describe(message: &str) -> String {
    if message.starts_with("missing field ") {
        return message.to_string();
    }
    let Some((_, expected)) = message.rsplit_once("expected ") else {
        return message.to_string();
    };
    match expected {
        "f64" | "f32" => "expected a number".into(),
        "u64" | "u32" | "u16" | "u8" | "usize" => "expected a whole number, 0 or more".into(),
        "i64" | "i32" | "i16" | "i8" | "isize" => "expected a whole number".into(),
        "a boolean" => "expected true or false".into(),
        "a string" => "expected a string".into(),
        "a sequence" => "expected a list".into(),
        e if e.starts_with("struct ") || e == "a map" => "expected an object".into(),
        e => format!("expected {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Inner {
        a: Option<f64>,
        b: Option<bool>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Outer {
        id: String,
        #[serde(default)]
        inner: Option<Inner>,
        #[serde(default)]
        list: Vec<u32>,
    }

    #[test]
    fn wrong_fields_are_dropped_and_named() {
        let mut warnings = Vec::new();
        let value = json!({"id": "x", "inner": {"a": "high", "b": 3}, "list": [1, "two", 3, -4, 5], "new": 1});
        let read: Outer = read(value, "", &mut warnings).unwrap();
        assert_eq!(read, Outer { id: "x".into(), inner: Some(Inner { a: None, b: None }), list: vec![1, 3, 5] });
        assert_eq!(
            warnings,
            [
                "inner.a: expected a number",
                "inner.b: expected true or false",
                "list[1]: expected a whole number, 0 or more",
                "list[3]: expected a whole number, 0 or more",
            ]
        );
    }

    #[test]
    fn a_value_that_does_not_fit_as_a_whole_is_none() {
        let mut warnings = Vec::new();
        assert_eq!(read::<Outer>(json!({"inner": {}}), "item[2]", &mut warnings), None);
        assert_eq!(warnings, ["item[2]: missing field `id`"]);
        warnings.clear();
        assert_eq!(read::<Outer>(json!("text"), "", &mut warnings), None);
        assert_eq!(warnings, ["body: expected an object"]);
        warnings.clear();
        assert_eq!(read::<Outer>(json!({"id": 5}), "", &mut warnings), None, "a required field");
        assert_eq!(warnings, ["id: expected a string", "body: missing field `id`"]);
    }

    #[test]
    fn messages_never_repeat_the_value() {
        let m = describe("invalid type: string \"secret-ish\", expected f64");
        assert_eq!(m, "expected a number");
        let m = describe("unknown variant `sick`, expected one of `ok`, `warn`, `fail`");
        assert_eq!(m, "expected one of `ok`, `warn`, `fail`");
    }
}
