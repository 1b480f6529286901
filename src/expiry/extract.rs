//! Reads one value out of a JSON document in a single streaming pass: only
//! the value at the path is kept, everything else is skipped as it is read.

use std::io::Read;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::path::JsonPath;

/// What the document holds at `path`: `Ok(None)` when it has no such value,
/// `Err` when the input is not one JSON document.
pub fn value_at(input: impl Read, path: &JsonPath) -> Result<Option<Value>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::new(input));
    let found = At(&path.0).deserialize(&mut de)?;
    de.end()?;
    Ok(found)
}

struct At<'p>(&'p [String]);

impl<'de> DeserializeSeed<'de> for At<'_> {
    type Value = Option<Value>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Option<Value>, D::Error> {
        if self.0.is_empty() {
            return serde::Deserialize::deserialize(de).map(Some);
        }
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for At<'_> {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<Value>, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<String>()? {
            // The first of duplicate keys wins; the rest is only skipped.
            if found.is_none() && key == self.0[0] {
                found = map.next_value_seed(At(&self.0[1..]))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<Value>, A::Error> {
        let mut found = None;
        let mut index = 0;
        loop {
            if JsonPath::is_index(&self.0[0], index) {
                match seq.next_element_seed(At(&self.0[1..]))? {
                    Some(value) => found = value,
                    None => break,
                }
            } else if seq.next_element::<IgnoredAny>()?.is_none() {
                break;
            }
            index += 1;
        }
        Ok(found)
    }

    // A scalar where the path goes on: nothing there.
    fn visit_bool<E>(self, _: bool) -> Result<Option<Value>, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Option<Value>, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Option<Value>, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Option<Value>, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Option<Value>, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Option<Value>, E> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expiry::path::parse_path;

    fn at(doc: &str, path: &str) -> Result<Option<Value>, serde_json::Error> {
        value_at(doc.as_bytes(), &parse_path(path).unwrap())
    }

    #[test]
    fn finds_nested_values_and_skips_the_rest() {
        let doc = r#"{"x":[1,{"y":2}],"a":{"b":[10,{"c":"here"}]},"z":null}"#;
        assert_eq!(at(doc, "$.a.b[1].c").unwrap(), Some(Value::from("here")));
        assert_eq!(at(doc, "/a/b/0").unwrap(), Some(Value::from(10)));
        assert_eq!(at(doc, "/a/b/2").unwrap(), None);
        assert_eq!(at(doc, "/x/0/y").unwrap(), None);
        assert_eq!(at(doc, "/nope").unwrap(), None);
        assert_eq!(at("3600", "$").unwrap(), Some(Value::from(3600)));
    }

    #[test]
    fn not_one_json_document_is_an_error() {
        assert!(at("not json", "/a").is_err());
        assert!(at(r#"{"a":1} trailing"#, "/a").is_err());
        assert!(at(r#"{"a":1"#, "/a").is_err());
        assert!(at("", "/a").is_err());
    }
}
