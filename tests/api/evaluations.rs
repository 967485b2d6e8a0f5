//! Evaluations through the API: a model evaluated against its campaign's criteria, recognised on
//! finalising, then corrected by a superseding evaluation; bad scores and wrong units refused
//! with nothing changed; two finalisations racing for one decision.

use serde_json::{json, Value};

use crate::helpers::*;
use crate::models::{act, district_campaign};

/// A collective, comprehensive model of C1, accepted by D1: the campaign's "TT" set fits it.
pub async fn model_in_progress(app: &TestApp, fx: &Fixture, campaign_id: &str) -> String {
    let editor = fx.token(app, "C1", &["editor"]);
    let body = json!({"campaign_id": campaign_id, "title": "Dân vận khéo xây dựng khu dân cư văn hóa",
                      "subject": "collective", "kind": "comprehensive", "registered_level": "district", "year": 2024,
                      "registered_on": "2024-04-01"});
    let m = app.post("/api/v1/models", &editor, &body).await.expect(201).json();
    let id = m["id"].as_str().unwrap().to_string();
    act(app, &editor, &id, "submit", 1, json!({})).await.expect(200);
    act(app, &fx.token(app, "D1", &["reviewer"]), &id, "accept", 2, json!({})).await.expect(200);
    id
}

pub async fn finalize(app: &TestApp, token: &str, id: &str, version: i64) -> Resp {
    let etag = format!("\"{version}\"");
    app.post_with(&format!("/api/v1/evaluations/{id}/finalize"), token, &[("If-Match", &etag)], &json!({})).await
}

#[actix_web::test]
async fn a_model_is_evaluated_recognised_and_corrected() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let campaign_id = district_campaign(&app, &fx).await;
    let model_id = model_in_progress(&app, &fx, &campaign_id).await;
    let d1_reviewer = fx.token(&app, "D1", &["reviewer"]);
    let body =
        json!({"model_id": model_id, "review_kind": "annual", "year": 2024, "scores": [{"code": "TC1", "score": 45}]});
    let res = app.post("/api/v1/evaluations", &d1_reviewer, &body).await;
    let draft = res.expect(201).json();
    assert_eq!(res.header("location"), Some(format!("/api/v1/evaluations/{}", draft["id"].as_str().unwrap())));
    assert_eq!(draft["criteria_set_code"], "TT", "the only set that fits the model");
    assert_eq!(draft["evaluator_unit_id"], fx.id("D1"));
    assert_eq!(draft["total_score"], 45.0);
    assert_eq!(draft["criteria"].as_array().unwrap().len(), 2, "the set's criteria, no others");
    let id = draft["id"].as_str().unwrap().to_string();

    // Finalising needs the approver of the evaluating unit, and a verdict and a decision.
    finalize(&app, &d1_reviewer, &id, 1).await.problem(403, "missing_role");
    finalize(&app, &fx.token(&app, "P1", &["approver"]), &id, 1).await.problem(403, "not_evaluator");
    let d1_approver = fx.token(&app, "D1", &["approver"]);
    let problem = finalize(&app, &d1_approver, &id, 1).await.problem(422, "validation_failed");
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["verdict", "decision"]);
    let scored = app
        .patch(
            &format!("/api/v1/evaluations/{id}"),
            &d1_reviewer,
            "\"1\"",
            &json!({"scores": [{"code": "TC2", "score": 40.5, "note": "95% đảng viên hoàn thành tốt nhiệm vụ"}],
                    "verdict": "good", "decision": "recognize"}),
        )
        .await;
    assert_eq!(scored.expect(200).json()["total_score"], 85.5);
    let done = finalize(&app, &d1_approver, &id, 2).await.expect(200).json();
    assert_eq!(done["status"], "finalized");
    assert_eq!(done["finalized_by"], "user-of-D1");
    let model = app.get(&format!("/api/v1/models/{model_id}"), &d1_reviewer).await.expect(200).json();
    assert_eq!(model["status"], "recognized");
    let last = model["status_history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["action"].as_str(), last["from"].as_str()), (Some("recognize"), Some("in_progress")));
    // A finalised evaluation never changes.
    app.patch(&format!("/api/v1/evaluations/{id}"), &d1_reviewer, "\"3\"", &json!({"verdict": "excellent"}))
        .await
        .problem(409, "evaluation_finalized");
    finalize(&app, &d1_approver, &id, 3).await.problem(409, "evaluation_finalized");

    // The province corrects it: the new decision replaces the old, and the model follows.
    let correction = json!({"model_id": model_id, "supersedes_id": id, "scores": [{"code": "TC1", "score": 10}],
                            "verdict": "fail", "decision": "not_recognize", "comment": "Số liệu báo cáo không đúng"});
    let p1 = fx.token(&app, "P1", &["reviewer", "approver"]);
    let second = app.post("/api/v1/evaluations", &p1, &correction).await.expect(201).json();
    assert_eq!((second["review_kind"].as_str(), second["year"].as_i64()), (Some("annual"), Some(2024)));
    let second_id = second["id"].as_str().unwrap().to_string();
    app.post("/api/v1/evaluations", &p1, &correction).await.expect(201);
    finalize(&app, &p1, &second_id, 1).await.expect(200);
    let old = app.get(&format!("/api/v1/evaluations/{id}"), &p1).await.expect(200).json();
    assert_eq!(old["superseded_by_id"], second_id.as_str());
    let model = app.get(&format!("/api/v1/models/{model_id}"), &p1).await.expect(200).json();
    assert_eq!(model["status"], "not_recognized");
    // The superseded one no longer stands: it cannot be corrected again.
    let res = app.post("/api/v1/evaluations", &p1, &correction).await;
    assert_eq!(res.problem(422, "validation_failed")["errors"][0]["code"], "not_standing");
    let list =
        app.get(&format!("/api/v1/evaluations?model_id={model_id}&status=finalized"), &p1).await.expect(200).json();
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    let audit = app.get(&format!("/api/v1/audit-events?resource_id={id}"), &fx.token(&app, "P1", &["admin"])).await;
    let actions: Vec<Value> =
        audit.expect(200).json()["items"].as_array().unwrap().iter().map(|e| e["action"].clone()).collect();
    assert_eq!(
        actions,
        [
            json!("evaluation.supersede"),
            json!("evaluation.finalize"),
            json!("evaluation.update"),
            json!("evaluation.create")
        ]
    );
}

#[actix_web::test]
async fn bad_scores_and_wrong_units_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let campaign_id = district_campaign(&app, &fx).await;
    let model_id = model_in_progress(&app, &fx, &campaign_id).await;
    let c1_editor = fx.token(&app, "C1", &["editor"]);
    let draft_model = app
        .post(
            "/api/v1/models",
            &c1_editor,
            &json!({"campaign_id": campaign_id, "title": "Nháp", "subject": "collective", "kind": "comprehensive",
                    "registered_level": "district", "year": 2024}),
        )
        .await
        .expect(201)
        .json();
    let by_field = app
        .post(
            "/api/v1/models",
            &c1_editor,
            &json!({"campaign_id": campaign_id, "title": "Theo lĩnh vực", "subject": "collective", "kind": "by_field",
                    "field": "economy", "registered_level": "district", "year": 2024}),
        )
        .await
        .expect(201)
        .json();
    let by_field_id = by_field["id"].as_str().unwrap().to_string();
    act(&app, &c1_editor, &by_field_id, "submit", 1, json!({})).await.expect(200);
    act(&app, &fx.token(&app, "D1", &["reviewer"]), &by_field_id, "accept", 2, json!({})).await.expect(200);
    let before = app.snapshot();
    let reviewer = fx.token(&app, "D1", &["reviewer"]);
    let base = json!({"model_id": model_id, "review_kind": "annual", "year": 2024});
    let with = |changes: Value| {
        let mut b = base.clone();
        for (k, v) in changes.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let cases: Vec<(Value, &str, &str)> = vec![
        (with(json!({"scores": [{"code": "TC1", "score": 51}]})), "scores[0].score", "score_out_of_range"),
        (with(json!({"scores": [{"code": "TC1", "score": -1}]})), "scores[0].score", "score_out_of_range"),
        (with(json!({"scores": [{"code": "TC9", "score": 1}]})), "scores[0].code", "unknown_criterion"),
        (
            with(json!({"scores": [{"code": "TC1", "score": 1}, {"code": "TC1", "score": 2}]})),
            "scores[1].code",
            "duplicate",
        ),
        (with(json!({"criteria_set_code": "XX"})), "criteria_set_code", "unknown_criteria_set"),
        (with(json!({"year": 2030})), "year", "outside_campaign"),
        (with(json!({"review_kind": null})), "review_kind", "required"),
        (with(json!({"total_score": 100})), "total_score", "unknown_field"),
        (with(json!({"model_id": by_field_id})), "criteria_set_code", "no_criteria_set"),
        (with(json!({"model_id": "no-such-model"})), "model_id", "unknown_model"),
    ];
    for (body, field, code) in cases {
        let problem = app.post("/api/v1/evaluations", &reviewer, &body).await.problem(422, "validation_failed");
        let e = &problem["errors"][0];
        assert_eq!((e["field"].as_str(), e["code"].as_str()), (Some(field), Some(code)), "{problem}");
    }
    // Not by the model's own unit, not from another province, not without the role, not a draft.
    app.post("/api/v1/evaluations", &fx.token(&app, "C1", &["reviewer"]), &base).await.problem(403, "not_above_owner");
    let res = app.post("/api/v1/evaluations", &fx.token(&app, "P2", &["reviewer"]), &base).await;
    assert_eq!(res.problem(422, "validation_failed")["errors"][0]["code"], "unknown_model");
    app.post("/api/v1/evaluations", &fx.token(&app, "D1", &["editor"]), &base).await.problem(403, "missing_role");
    app.post("/api/v1/evaluations", &reviewer, &with(json!({"model_id": draft_model["id"]})))
        .await
        .problem(409, "model_not_in_progress");
    assert_eq!(app.snapshot(), before, "nothing was written");
}

#[actix_web::test]
async fn of_fifty_racing_finalisations_exactly_one_wins() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let campaign_id = district_campaign(&app, &fx).await;
    let model_id = model_in_progress(&app, &fx, &campaign_id).await;
    let full = |decision: &str| {
        json!({"model_id": model_id, "review_kind": "annual", "year": 2024, "verdict": "good", "decision": decision,
               "scores": [{"code": "TC1", "score": 40}, {"code": "TC2", "score": 40}]})
    };
    let d1 = fx.token(&app, "D1", &["reviewer", "approver"]);
    let p1 = fx.token(&app, "P1", &["reviewer", "approver"]);
    // A required criterion left unscored blocks finalising, whatever else is there.
    let mut partial = full("recognize");
    partial["scores"] = json!([{"code": "TC2", "score": 40}]);
    let unscored = app.post("/api/v1/evaluations", &d1, &partial).await.expect(201).json();
    let problem = finalize(&app, &d1, unscored["id"].as_str().unwrap(), 1).await.problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["code"], "required_criterion_unscored");
    assert_eq!(problem["errors"][0]["field"], "criteria[0].score");
    // Fifty drafts, half from the district and half from the province, finalised at once.
    let mut drafts = Vec::new();
    for i in 0..50 {
        let (token, decision) = if i % 2 == 0 { (&d1, "recognize") } else { (&p1, "not_recognize") };
        let e = app.post("/api/v1/evaluations", token, &full(decision)).await.expect(201).json();
        drafts.push((token.clone(), e["id"].as_str().unwrap().to_string(), decision));
    }
    let racers = drafts.iter().map(|(token, id, _)| finalize(&app, token, id, 1));
    let answers = futures_util::future::join_all(racers).await;
    let winners: Vec<usize> = answers.iter().enumerate().filter(|(_, r)| r.status == 200).map(|(i, _)| i).collect();
    assert_eq!(winners.len(), 1, "one decision stands");
    for lost in answers.iter().filter(|r| r.status != 200) {
        lost.problem(409, "already_decided");
    }
    let winner_decision = if drafts[winners[0]].2 == "recognize" { "recognized" } else { "not_recognized" };
    let model = app.get(&format!("/api/v1/models/{model_id}"), &d1).await.expect(200).json();
    assert_eq!(model["status"], winner_decision);
    let decided = model["status_history"].as_array().unwrap().iter().filter(|h| h["action"] != "create").count();
    assert_eq!(decided, 3, "submit, accept and exactly one decision");
    let standing =
        app.get(&format!("/api/v1/evaluations?model_id={model_id}&status=finalized"), &d1).await.expect(200).json();
    assert_eq!(standing["items"].as_array().unwrap().len(), 1);
}

/// Issue 15 §3: an evaluation carries the day it was made, however late it is typed in.
#[actix_web::test]
async fn an_evaluation_keeps_its_own_date() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let campaign_id = district_campaign(&app, &fx).await;
    let model_id = model_in_progress(&app, &fx, &campaign_id).await;
    let d1 = fx.token(&app, "D1", &["reviewer", "approver"]);
    let mut body = json!({"model_id": model_id, "review_kind": "annual", "year": 2024, "verdict": "good",
                          "decision": "recognize", "scores": [{"code": "TC1", "score": 45}], "evaluated_on": "2999-01-01"});
    let res = app.post("/api/v1/evaluations", &d1, &body).await;
    assert_eq!(res.problem(422, "validation_failed")["errors"][0]["code"], "in_future");
    body["evaluated_on"] = json!("2024-11-20");
    let e = app.post("/api/v1/evaluations", &d1, &body).await.expect(201).json();
    let done = finalize(&app, &d1, e["id"].as_str().unwrap(), 1).await.expect(200).json();
    assert_eq!(done["evaluated_on"], "2024-11-20");
}
