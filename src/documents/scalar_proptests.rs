//! Properties of YAML 1.1 scalar resolution, as go-yaml v2 does it for `sigs.k8s.io/yaml`:
//! every integer, in each base and with digit separators, loads as that integer; every boolean
//! spelling loads as a boolean unless quoted; floats round-trip; integers beyond 64 bits
//! become floats (as kubectl sends them); quoting always yields the string as written.

use proptest::prelude::*;

use super::*;

/// The value of `a` in `a: {scalar}`.
fn value_of(scalar: &str) -> Result<Value, TestCaseError> {
    let text = format!("a: {scalar}\n");
    let loaded = load(&text);
    prop_assert!(
        loaded.errors.is_empty(),
        "{:?} in {:?}",
        loaded.errors,
        text
    );
    let root = &loaded.documents[0].root;
    match root.get("a") {
        Some(node) => Ok(node.value.clone()),
        None => Err(TestCaseError::fail(format!("no `a` in {text:?}"))),
    }
}

const BOOLEANS: &[(&str, bool)] = &[
    ("y", true),
    ("Y", true),
    ("yes", true),
    ("Yes", true),
    ("YES", true),
    ("true", true),
    ("True", true),
    ("TRUE", true),
    ("on", true),
    ("On", true),
    ("ON", true),
    ("n", false),
    ("N", false),
    ("no", false),
    ("No", false),
    ("NO", false),
    ("false", false),
    ("False", false),
    ("FALSE", false),
    ("off", false),
    ("Off", false),
    ("OFF", false),
];

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn decimal_integers_load_as_themselves(n in any::<i64>()) {
        prop_assert_eq!(value_of(&n.to_string())?, Value::Int(n));
    }

    #[test]
    fn integers_above_i64_load_as_unsigned(n in (i64::MAX as u64 + 1)..=u64::MAX) {
        prop_assert_eq!(value_of(&n.to_string())?, Value::UInt(n));
    }

    #[test]
    fn integers_beyond_64_bits_load_as_floats(digits in "[1-9][0-9]{20,40}") {
        let expected: f64 = digits.parse().unwrap();
        prop_assert_eq!(value_of(&digits)?, Value::Float(expected));
    }

    #[test]
    fn other_bases_and_separators_load_as_the_integer(n in 0..i64::MAX, cut in 1usize..18) {
        prop_assert_eq!(value_of(&format!("0x{n:x}"))?, Value::Int(n));
        prop_assert_eq!(value_of(&format!("0o{n:o}"))?, Value::Int(n));
        prop_assert_eq!(value_of(&format!("0b{n:b}"))?, Value::Int(n));
        // YAML 1.1 octal: a bare leading zero.
        prop_assert_eq!(value_of(&format!("0{n:o}"))?, Value::Int(n));
        // `_` between digits is ignored.
        let decimal = n.to_string();
        if cut < decimal.len() {
            let separated = format!("{}_{}", &decimal[..cut], &decimal[cut..]);
            prop_assert_eq!(value_of(&separated)?, Value::Int(n));
        }
    }

    #[test]
    fn every_boolean_spelling_is_a_boolean_unless_quoted(index in 0..BOOLEANS.len()) {
        let (word, flag) = BOOLEANS[index];
        prop_assert_eq!(value_of(word)?, Value::Bool(flag));
        prop_assert_eq!(value_of(&format!("\"{word}\""))?, Value::String(word.into()));
        prop_assert_eq!(value_of(&format!("'{word}'"))?, Value::String(word.into()));
    }

    #[test]
    fn finite_floats_round_trip(f in any::<f64>().prop_filter("finite", |f| f.is_finite())) {
        // Rust's shortest round-trip form, always with a `.` or an exponent.
        let text = format!("{f:?}");
        prop_assert_eq!(value_of(&text)?, Value::Float(f), "{}", text);
    }

    #[test]
    fn quoted_scalars_are_the_string_as_written(text in "[a-zA-Z0-9 .:_~+-]{0,20}") {
        prop_assert_eq!(value_of(&format!("'{text}'"))?, Value::String(text.clone()));
        prop_assert_eq!(value_of(&format!("\"{text}\""))?, Value::String(text));
    }
}
