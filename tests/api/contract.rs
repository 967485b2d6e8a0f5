//! The contract: the committed OpenAPI document is the one the code generates, and it is served.

use actix_web::http::Method;

use crate::helpers::*;

#[test]
fn the_committed_openapi_document_matches_the_code() {
    let generated = dvk::openapi::document_json();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/openapi.json");
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json differs from what the code generates; run `UPDATE_OPENAPI=1 cargo test contract` and commit it"
    );
}

#[test]
fn every_operation_documents_its_errors_and_security() {
    let doc: serde_json::Value = serde_json::from_str(&dvk::openapi::document_json()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            assert!(op["operationId"].is_string(), "{method} {path}");
            assert!(op["summary"].is_string() || op["description"].is_string(), "{method} {path} has no description");
            // Every body has a deadline (`http::body_deadline`).
            if op.get("requestBody").is_some() {
                assert!(responses.contains_key("408"), "{method} {path} takes a body but does not document 408");
            }
            if path.starts_with("/api/v1/public/") {
                // Open to anyone, and said so: an empty security requirement, no 401.
                assert_eq!(op["security"], serde_json::json!([{}]), "{method} {path}");
                assert!(!responses.contains_key("401"), "{method} {path} cannot answer 401");
            } else if path.starts_with("/api/v1/") {
                assert!(op["security"].is_array(), "{method} {path} has no security requirement");
                for status in ["401", "429", "503"] {
                    assert!(responses.contains_key(status), "{method} {path} does not document {status}");
                }
            }
        }
    }
}

#[actix_web::test]
async fn the_document_and_the_docs_page_are_served() {
    let app = TestApp::spawn().await;
    let served = app.request(Method::GET, "/openapi.json", None, &[], None).await.expect(200).json();
    assert_eq!(served, serde_json::from_str::<serde_json::Value>(&dvk::openapi::document_json()).unwrap());
    let docs = app.request(Method::GET, "/docs/", None, &[], None).await;
    docs.expect(200);
    assert!(docs.text().contains("swagger"), "the Swagger UI page");
}

#[test]
fn every_error_response_carries_an_example_and_its_headers() {
    let doc: serde_json::Value = serde_json::from_str(&dvk::openapi::document_json()).unwrap();
    let responses = doc["components"]["responses"].as_object().unwrap();
    assert_eq!(responses.len(), 14);
    for (name, r) in responses {
        let example = &r["content"]["application/problem+json"]["example"];
        assert!(example["code"].is_string() && example["status"].is_u64(), "{name} has no example problem");
        assert!(r["headers"]["X-Request-Id"].is_object(), "{name} does not declare X-Request-Id");
    }
    assert!(responses["Unauthorized"]["headers"]["WWW-Authenticate"].is_object());
    for name in ["TooManyRequests", "Unavailable"] {
        assert!(responses[name]["headers"]["Retry-After"].is_object(), "{name} does not declare Retry-After");
    }
}

#[test]
fn every_list_and_report_documents_csv_and_xlsx() {
    let doc: serde_json::Value = serde_json::from_str(&dvk::openapi::document_json()).unwrap();
    let mut n = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(get) = item.get("get") else { continue };
        let lists = get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .is_some_and(|r| r.ends_with("Page") || r.ends_with("Report"));
        if !lists {
            continue;
        }
        n += 1;
        let content = &get["responses"]["200"]["content"];
        assert!(content["text/csv"].is_object(), "{path} has no CSV");
        assert!(content[dvk::http::export::XLSX].is_object(), "{path} has no XLSX");
        assert!(get["responses"]["406"].is_object(), "{path} does not document 406");
        let params: Vec<&str> =
            get["parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
        assert!(params.contains(&"lang"), "{path} has no lang");
    }
    assert_eq!(n, 17, "fourteen lists and three reports");
}

/// Enums are documented as they travel: lower snake_case codes (`economy`, `model.registered`),
/// never the Rust variant names.
#[test]
fn every_enum_is_documented_by_its_wire_values() {
    fn walk(v: &serde_json::Value, at: &str, bad: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(map) => {
                if let Some(values) = map.get("enum").and_then(|e| e.as_array()) {
                    for value in values.iter().filter_map(|x| x.as_str()) {
                        if !value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
                        {
                            bad.push(format!("{at}: {value}"));
                        }
                    }
                }
                for (k, child) in map {
                    walk(child, &format!("{at}/{k}"), bad);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| walk(i, at, bad)),
            _ => {}
        }
    }
    let doc: serde_json::Value = serde_json::from_str(&dvk::openapi::document_json()).unwrap();
    let mut bad = vec![];
    walk(&doc, "", &mut bad);
    assert!(bad.is_empty(), "{bad:#?}");
    assert_eq!(doc["components"]["schemas"]["Field"]["enum"][0], "economy");
}

/// Every operation that takes query parameters or an Idempotency-Key can be answered 400 (a bad
/// parameter, a bad key), so each documents it. schemathesis found two that did not.
#[test]
fn operations_with_parameters_document_400() {
    let doc: serde_json::Value = serde_json::from_str(&dvk::openapi::document_json()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let takes = params.iter().any(|p| p["in"] == "query" || p["name"] == "Idempotency-Key");
            if takes {
                assert!(op["responses"]["400"].is_object(), "{method} {path} does not document 400");
            }
        }
    }
}

/// Every `sort` the document allows a list is one the server takes, ascending and descending
/// (a generated client refuses the others before sending them).
#[actix_web::test]
async fn every_documented_sort_is_served() {
    let app = TestApp::spawn().await;
    let admin = app.root_admin();
    let doc: serde_json::Value = serde_json::from_str(&dvk::openapi::document_json()).unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(params) = item["get"]["parameters"].as_array() else { continue };
        let Some(sort) = params.iter().find(|p| p["name"] == "sort") else { continue };
        let pattern = sort["schema"]["pattern"].as_str().unwrap_or_else(|| panic!("{path}: sort has no pattern"));
        let names = pattern.trim_start_matches("^(-?(").trim_end_matches("))?$");
        for name in names.split('|') {
            for sort in [name.to_string(), format!("-{name}")] {
                let res = app.get(&format!("{path}?sort={sort}"), &admin).await;
                assert_eq!(res.status, 200, "{path}?sort={sort}: {}", res.text());
                checked += 1;
            }
        }
    }
    assert!(checked >= 30, "{checked}");
}
