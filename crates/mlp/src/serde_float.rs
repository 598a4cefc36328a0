//! `f64` fields that keep their value through JSON even when not finite:
//! `serde_json` writes infinities and NaN as `null`, which then fails to
//! read back, so a history holding an infinite metric would make its
//! checkpoint unreadable. Non-finite values are written as the strings
//! `"inf"`, `"-inf"` and `"NaN"`; reading also accepts `null` (as NaN).

use serde::{Deserialize, Deserializer, Serializer};

#[derive(Deserialize)]
#[serde(untagged)]
enum Number {
    Finite(f64),
    Text(String),
    Null(()),
}

fn from_number<E: serde::de::Error>(n: Number) -> Result<f64, E> {
    match n {
        Number::Finite(v) => Ok(v),
        Number::Null(()) => Ok(f64::NAN),
        Number::Text(t) => match t.as_str() {
            "inf" => Ok(f64::INFINITY),
            "-inf" => Ok(f64::NEG_INFINITY),
            "NaN" => Ok(f64::NAN),
            other => Err(E::custom(format!("expected a number, inf, -inf or NaN, got {other:?}"))),
        },
    }
}

fn text(v: f64) -> &'static str {
    if v.is_nan() {
        "NaN"
    } else if v > 0.0 {
        "inf"
    } else {
        "-inf"
    }
}

pub(crate) fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.is_finite() { s.serialize_f64(*v) } else { s.serialize_str(text(*v)) }
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    from_number(Number::deserialize(d)?)
}

/// The same for `Option<f64>`: `None` is `null`.
pub(crate) mod option {
    use serde::{Deserialize, Deserializer, Serializer};

    #[allow(clippy::ref_option)] // the signature serde's `with` requires
    pub(crate) fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => super::serialize(v, s),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        match super::Number::deserialize(d)? {
            super::Number::Null(()) => Ok(None),
            n => super::from_number(n).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct R {
        #[serde(with = "super")]
        a: f64,
        #[serde(with = "super::option")]
        b: Option<f64>,
    }

    #[test]
    fn every_value_comes_back() {
        for (a, b) in [(1.5, None), (f64::INFINITY, Some(f64::NEG_INFINITY)), (0.1, Some(2e-308))] {
            let json = serde_json::to_string(&R { a, b }).unwrap();
            assert_eq!(serde_json::from_str::<R>(&json).unwrap(), R { a, b }, "{json}");
        }
        let nan: R = serde_json::from_str(r#"{"a":"NaN","b":"NaN"}"#).unwrap();
        assert!(nan.a.is_nan() && nan.b.unwrap().is_nan());
        assert!(serde_json::from_str::<R>(r#"{"a":"x","b":null}"#).is_err());
    }
}
