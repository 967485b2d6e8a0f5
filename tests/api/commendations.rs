//! Commendations through the API: a giấy khen from a district (2024 shape), revoked and replaced
//! by a bằng khen from the province; every authority rule tried from the wrong level and the
//! wrong unit; two proposals racing for one achievement.

use serde_json::{json, Value};

use crate::evaluations::{finalize, model_in_progress};
use crate::helpers::*;
use crate::models::district_campaign;

/// A model of C1 recognised by D1's evaluation; returns (model id, evaluation id).
pub async fn recognised(app: &TestApp, fx: &Fixture, campaign_id: &str) -> (String, String) {
    let model_id = model_in_progress(app, fx, campaign_id).await;
    let d1 = fx.token(app, "D1", &["reviewer", "approver"]);
    let body = json!({"model_id": model_id, "review_kind": "annual", "year": 2024, "verdict": "excellent",
                      "decision": "recognize", "scores": [{"code": "TC1", "score": 48}, {"code": "TC2", "score": 47}]});
    let e = app.post("/api/v1/evaluations", &d1, &body).await.expect(201).json();
    let id = e["id"].as_str().unwrap().to_string();
    finalize(app, &d1, &id, 1).await.expect(200);
    (model_id, id)
}

pub fn proposal(fx: &Fixture, model_id: &str, form: &str, issuer: &str, title: &str) -> Value {
    json!({"model_id": model_id, "form": form, "issuer_unit_id": fx.id(issuer),
           "issuing_authority": "mass_mobilization_commission", "authority_title": title,
           "reason": "Có thành tích xuất sắc trong phong trào thi đua Dân vận khéo năm 2024"})
}

pub async fn decide(app: &TestApp, token: &str, id: &str, action: &str, version: i64, body: Value) -> Resp {
    let etag = format!("\"{version}\"");
    app.post_with(&format!("/api/v1/commendations/{id}/{action}"), token, &[("If-Match", &etag)], &body).await
}

#[actix_web::test]
async fn a_giay_khen_is_issued_revoked_and_replaced_by_a_bang_khen() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let campaign_id = district_campaign(&app, &fx).await;
    let (model_id, evaluation_id) = recognised(&app, &fx, &campaign_id).await;
    let c1 = fx.token(&app, "C1", &["editor"]);
    let res = app
        .post(
            "/api/v1/commendations",
            &c1,
            &proposal(&fx, &model_id, "giay_khen", "D1", "Ban Dân vận Huyện ủy Bình Lục"),
        )
        .await;
    let proposed = res.expect(201).json();
    assert_eq!(proposed["status"], "proposed");
    assert_eq!(proposed["evaluation_id"], evaluation_id.as_str(), "the standing recognition is the achievement");
    assert_eq!(proposed["recipient"], json!({"subject": "collective", "unit_id": fx.id("C1"), "full_name": null}));
    assert_eq!(proposed["issuer_snapshot"], Value::Null);
    let id = proposed["id"].as_str().unwrap().to_string();
    // One achievement, one commendation.
    let second = proposal(&fx, &model_id, "bang_khen", "P1", "Ban Dân vận Tỉnh ủy");
    app.post("/api/v1/commendations", &c1, &second).await.problem(409, "already_commended");

    let d1 = fx.token(&app, "D1", &["approver"]);
    let decision = json!({"decision_number": "125-QĐ/BDVHU", "decided_on": "2025-01-15", "amount_vnd": 500000});
    let issued = decide(&app, &d1, &id, "issue", 1, decision.clone()).await.expect(200).json();
    assert_eq!(issued["status"], "issued");
    assert_eq!(
        issued["issuer_snapshot"],
        json!({"name": "Huyện Bình Lục", "level": "district", "authority_title": "Ban Dân vận Huyện ủy Bình Lục"})
    );
    assert_eq!(issued["amount_vnd"], 500000);
    decide(&app, &d1, &id, "issue", 2, decision.clone()).await.problem(409, "invalid_transition");
    // The decision keeps its issuer as it was when the district is renamed.
    let admin = fx.token(&app, "P1", &["admin"]);
    app.patch(&format!("/api/v1/units/{}", fx.id("D1")), &admin, "\"1\"", &json!({"name": "Huyện Bình Lục (mới)"}))
        .await
        .expect(200);
    let read = app.get(&format!("/api/v1/commendations/{id}"), &c1).await.expect(200).json();
    assert_eq!(read["issuer_snapshot"]["name"], "Huyện Bình Lục");

    // Revocation: grounds and a decision of its own; then the achievement is free again.
    let problem = decide(&app, &d1, &id, "revoke", 2, json!({"reason": "Kê khai không trung thực"})).await;
    assert_eq!(problem.problem(422, "validation_failed")["errors"][0]["field"], "decision_number");
    let revocation =
        json!({"reason": "Kê khai không trung thực", "decision_number": "131-QĐ/BDVHU", "decided_on": "2025-03-01"});
    let revoked = decide(&app, &d1, &id, "revoke", 2, revocation.clone()).await.expect(200).json();
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(revoked["revocation"]["decision_number"], "131-QĐ/BDVHU");
    decide(&app, &d1, &id, "revoke", 3, revocation).await.problem(409, "invalid_transition");

    let replacement = app.post("/api/v1/commendations", &c1, &second).await.expect(201).json();
    let p1 = fx.token(&app, "P1", &["approver"]);
    // Decision numbers are per issuer: the province may use the district's.
    let issued = decide(&app, &p1, replacement["id"].as_str().unwrap(), "issue", 1, decision).await;
    assert_eq!(issued.expect(200).json()["issuer_snapshot"]["level"], "province");
    let list =
        app.get(&format!("/api/v1/commendations?model_id={model_id}&status=issued"), &c1).await.expect(200).json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["form"], "bang_khen");
    let audit = app.get(&format!("/api/v1/audit-events?resource_id={id}"), &admin).await.expect(200).json();
    let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["commendation.revoke", "commendation.issue", "commendation.propose"]);
    crate::reports::assert_counts_match_a_recount(&app);
}

#[actix_web::test]
async fn authority_rules_are_enforced_with_their_own_codes() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let campaign_id = district_campaign(&app, &fx).await;
    let (model_id, _) = recognised(&app, &fx, &campaign_id).await;
    let (other_model, other_evaluation) = recognised(&app, &fx, &campaign_id).await;
    let pending = model_in_progress(&app, &fx, &campaign_id).await;
    let c1 = fx.token(&app, "C1", &["editor"]);
    let before = app.snapshot();
    let good = proposal(&fx, &model_id, "giay_khen", "D1", "Ban Dân vận Huyện ủy");
    let with = |changes: Value| {
        let mut b = good.clone();
        for (k, v) in changes.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let cases: Vec<(Value, &str, &str)> = vec![
        (with(json!({"form": "bang_khen"})), "form", "form_beyond_authority"),
        (with(json!({"issuer_unit_id": fx.id("C1")})), "issuer_unit_id", "issuer_not_above"),
        (with(json!({"issuer_unit_id": fx.id("D2")})), "issuer_unit_id", "issuer_not_above"),
        (with(json!({"issuer_unit_id": fx.id("P2")})), "issuer_unit_id", "issuer_not_above"),
        (with(json!({"issuer_unit_id": "no-such-unit"})), "issuer_unit_id", "issuer_not_above"),
        (with(json!({"evaluation_id": other_evaluation})), "evaluation_id", "not_a_recognition"),
        (with(json!({"issuing_authority": "king"})), "issuing_authority", "invalid_enum"),
        (with(json!({"amount_vnd": -1})), "amount_vnd", "range"),
        (with(json!({"status": "issued"})), "status", "unknown_field"),
        (with(json!({"model_id": "no-such-model"})), "model_id", "unknown_model"),
    ];
    for (body, field, code) in cases {
        let problem = app.post("/api/v1/commendations", &c1, &body).await.problem(422, "validation_failed");
        let e = &problem["errors"][0];
        assert_eq!((e["field"].as_str(), e["code"].as_str()), (Some(field), Some(code)), "{problem}");
    }
    app.post("/api/v1/commendations", &c1, &with(json!({"model_id": pending})))
        .await
        .problem(409, "model_not_recognized");
    app.post("/api/v1/commendations", &fx.token(&app, "C1", &["viewer"]), &good).await.problem(403, "missing_role");
    let res = app.post("/api/v1/commendations", &fx.token(&app, "P2", &["editor"]), &good).await;
    assert_eq!(res.problem(422, "validation_failed")["errors"][0]["code"], "unknown_model");
    assert_eq!(app.snapshot(), before, "no refused proposal wrote anything");

    // Issuing is the issuer's approvers' alone, by a decision dated up to today.
    let id = app.post("/api/v1/commendations", &c1, &good).await.expect(201).json()["id"].as_str().unwrap().to_string();
    let decision = json!({"decision_number": "7-QĐ/BDVHU", "decided_on": "2025-01-15"});
    decide(&app, &fx.token(&app, "P1", &["approver"]), &id, "issue", 1, decision.clone())
        .await
        .problem(403, "not_issuer");
    decide(&app, &fx.token(&app, "D1", &["editor", "reviewer"]), &id, "issue", 1, decision.clone())
        .await
        .problem(403, "missing_role");
    decide(&app, &fx.token(&app, "D2", &["approver"]), &id, "issue", 1, decision.clone())
        .await
        .problem(404, "not_found");
    let d1 = fx.token(&app, "D1", &["approver"]);
    let future = json!({"decision_number": "7-QĐ/BDVHU", "decided_on": "2999-01-01"});
    let problem = decide(&app, &d1, &id, "issue", 1, future).await.problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["code"], "in_future");
    decide(&app, &d1, &id, "issue", 1, decision.clone()).await.expect(200);
    // A decision number is the issuer's once a year.
    let other = app
        .post("/api/v1/commendations", &c1, &proposal(&fx, &other_model, "giay_khen", "D1", "Ban Dân vận Huyện ủy"))
        .await
        .expect(201)
        .json();
    let other_id = other["id"].as_str().unwrap();
    decide(&app, &d1, other_id, "issue", 1, decision).await.problem(409, "decision_number_taken");
    let next_year = json!({"decision_number": "7-QĐ/BDVHU", "decided_on": "2026-01-15"});
    decide(&app, &d1, other_id, "issue", 1, next_year).await.expect(200);
}

#[actix_web::test]
async fn of_fifty_proposals_racing_for_one_achievement_one_wins() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let campaign_id = district_campaign(&app, &fx).await;
    let (model_id, _) = recognised(&app, &fx, &campaign_id).await;
    let c1 = fx.token(&app, "C1", &["editor"]);
    let d1 = fx.token(&app, "D1", &["editor"]);
    let racers = (0..50).map(|i| {
        let (app, fx, model_id) = (&app, &fx, model_id.clone());
        let (token, body) = if i % 2 == 0 {
            (c1.clone(), proposal(fx, &model_id, "giay_khen", "D1", "Ban Dân vận Huyện ủy"))
        } else {
            (d1.clone(), proposal(fx, &model_id, "bang_khen", "P1", "Ban Dân vận Tỉnh ủy"))
        };
        async move { app.post("/api/v1/commendations", &token, &body).await }
    });
    let answers = futures_util::future::join_all(racers).await;
    assert_eq!(answers.iter().filter(|r| r.status == 201).count(), 1, "one proposal wins");
    for lost in answers.iter().filter(|r| r.status != 201) {
        lost.problem(409, "already_commended");
    }
    let list = app.get(&format!("/api/v1/commendations?model_id={model_id}"), &c1).await.expect(200).json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}
