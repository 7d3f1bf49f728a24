//! Checks every case of `tests/vectors/assignment.json` against the native core.
//!
//! The file comes from an independent Python implementation (`scripts/gen-vectors.py`); the
//! WebAssembly build checks the same file under Node (`tests/wasm/vectors.test.mjs`), so
//! browser, edge and server provably agree.

use serde_json::Value;
use vibariant_core::{Assignment, AssignmentRequest, bucket, resolve, variant_index};

const VECTORS: &str = include_str!("vectors/assignment.json");

/// A JSON number, or one of the strings standing for the values JSON cannot write.
fn float(value: &Value) -> f64 {
    match value {
        Value::String(s) if s == "NaN" => f64::NAN,
        Value::String(s) if s == "Infinity" => f64::INFINITY,
        Value::String(s) if s == "-Infinity" => f64::NEG_INFINITY,
        other => other.as_f64().unwrap_or_else(|| panic!("not a number: {other}")),
    }
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_else(|| panic!("not a string: {value}"))
}

#[test]
fn every_vector_matches_the_native_core() {
    let document: Value = serde_json::from_str(VECTORS).expect("vectors are valid JSON");
    let cases = document["cases"].as_array().expect("a cases array");
    assert!(cases.len() >= 200, "only {} cases", cases.len());
    assert!(
        cases.iter().any(|case| !text(&case["visitor"]).is_ascii()),
        "the vectors must include non-ASCII visitor ids"
    );

    for (number, case) in cases.iter().enumerate() {
        let visitor = text(&case["visitor"]);
        let experiment = text(&case["experiment"]);
        let variants: Vec<&str> = case["variants"].as_array().unwrap().iter().map(text).collect();
        let weights: Vec<f64> = case["weights"].as_array().unwrap().iter().map(float).collect();
        let name_index =
            |field: &str| case[field].as_str().and_then(|n| variant_index(&variants, n));
        let request = AssignmentRequest {
            visitor_id: visitor,
            experiment_key: experiment,
            weights: &weights,
            coverage: float(&case["coverage"]),
            forced: name_index("forced"),
            sticky: name_index("sticky"),
        };
        let expected = &case["expected"];
        let context = format!("case {number}: {case}");

        match resolve(&request) {
            Err(error) => assert_eq!(Some(error.kind()), expected["error"].as_str(), "{context}"),
            Ok(assignment) => {
                assert_eq!(
                    u64::from(bucket(visitor, experiment)),
                    expected["bucket"].as_u64().unwrap(),
                    "{context}"
                );
                let source = match assignment {
                    Assignment::Forced(_) => "forced",
                    Assignment::Sticky(_) => "sticky",
                    Assignment::Hashed(_) => "hashed",
                    Assignment::NotInExperiment => "not_in_experiment",
                };
                assert_eq!(Some(source), expected["source"].as_str(), "{context}");
                let variant = assignment.variant().map(|index| variants[index]);
                assert_eq!(variant, expected["variant"].as_str(), "{context}");
            }
        }
    }
}
