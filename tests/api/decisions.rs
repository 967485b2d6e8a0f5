//! Decisions through the API (issue 15 §1): the Party bloc's standing board commends 9 collectives
//! and 2 individuals in one decision; it is issued at once and the portal shows every recipient
//! under its number; a decision with one recipient that no longer qualifies issues nobody; one
//! recipient loses its award on its own grounds while the rest stands; revoking the decision
//! revokes all of it; reports count decisions as well as commendations.

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::campaigns::launched;
use crate::evaluations::finalize;
use crate::helpers::*;
use crate::models::act;

const ISSUER_TITLE: &str = "Ban Thường vụ Tỉnh ủy Hà Nam";

/// P1 launches a campaign with criteria for collectives and for individuals; D1 implements it.
pub async fn campaign(app: &TestApp, fx: &Fixture) -> String {
    let criteria = json!([
        {"code": "TT", "name": "Tập thể", "applies_to": {"subject": "collective"},
         "criteria": [{"code": "TC1", "title": "Hoàn thành tốt nhiệm vụ", "max_score": 100, "required": true}]},
        {"code": "CN", "name": "Cá nhân", "applies_to": {"subject": "individual"},
         "criteria": [{"code": "CN1", "title": "Hoàn thành xuất sắc nhiệm vụ", "max_score": 100, "required": true}]}
    ]);
    let top = json!({"code": "07-KH/TU", "title": "Dân vận khéo 2023–2025", "starts_on": "2023-01-01", "ends_on": "2025-12-31",
                     "criteria_sets": criteria});
    let top = launched(app, fx, "P1", &top).await;
    let d1 = json!({"code": "12-KH/HU", "title": "Dân vận khéo huyện", "starts_on": "2023-03-01", "ends_on": "2025-12-31",
                    "parent_campaign_id": top["id"], "criteria_sets": criteria});
    launched(app, fx, "D1", &d1).await["id"].as_str().unwrap().to_string()
}

/// A model of `unit` (under D1) recognised by D1, proposed for a giấy khen of P1's standing
/// board: (model id, evaluation id, commendation id).
pub async fn proposed(
    app: &TestApp,
    fx: &Fixture,
    campaign: &str,
    unit: &str,
    individual: Option<&str>,
) -> (String, String, String) {
    let editor = fx.token(app, unit, &["editor"]);
    let mut body = json!({"campaign_id": campaign, "title": format!("Dân vận khéo ở {unit}"), "subject": "collective",
                          "kind": "comprehensive", "registered_level": "district", "year": 2024});
    if let Some(name) = individual {
        body["subject"] = json!("individual");
        body["person"] = json!({"full_name": name, "position": "Bí thư chi bộ"});
    }
    let m = app.post("/api/v1/models", &editor, &body).await.expect(201).json();
    let model = m["id"].as_str().unwrap().to_string();
    act(app, &editor, &model, "submit", 1, json!({})).await.expect(200);
    act(app, &fx.token(app, "D1", &["reviewer"]), &model, "accept", 2, json!({})).await.expect(200);
    let d1 = fx.token(app, "D1", &["reviewer", "approver"]);
    let code = if individual.is_some() { "CN1" } else { "TC1" };
    let e = json!({"model_id": model, "review_kind": "annual", "year": 2024, "verdict": "excellent",
                   "decision": "recognize", "scores": [{"code": code, "score": 95}]});
    let e = app.post("/api/v1/evaluations", &d1, &e).await.expect(201).json();
    let evaluation = e["id"].as_str().unwrap().to_string();
    finalize(app, &d1, &evaluation, 1).await.expect(200);
    let p = json!({"model_id": model, "form": "giay_khen", "issuer_unit_id": fx.id("P1"),
                   "issuing_authority": "party_committee_standing_board", "authority_title": ISSUER_TITLE,
                   "reason": "Có thành tích xuất sắc trong phong trào thi đua Dân vận khéo năm 2024"});
    let c = app.post("/api/v1/commendations", &editor, &p).await.expect(201).json();
    (model, evaluation, c["id"].as_str().unwrap().to_string())
}

pub fn new_decision(number: &str) -> Value {
    json!({"issuing_authority": "party_committee_standing_board", "authority_title": ISSUER_TITLE, "form": "giay_khen",
           "number": number, "decided_on": "2024-12-20",
           "summary": "Khen thưởng tập thể, cá nhân điển hình Dân vận khéo năm 2024",
           "signer": {"name": "Nguyễn Văn An", "position": "Phó Bí thư Thường trực"}})
}

/// Lists each of `commendations` in the draft, If-Match following its version; returns the version.
pub async fn list_all(app: &TestApp, token: &str, decision: &str, commendations: &[String], mut version: i64) -> i64 {
    for c in commendations {
        let etag = format!("\"{version}\"");
        let res = app
            .post_with(
                &format!("/api/v1/decisions/{decision}/commendations"),
                token,
                &[("If-Match", &etag)],
                &json!({"commendation_id": c}),
            )
            .await;
        version = res.expect(200).json()["version"].as_i64().unwrap();
    }
    version
}

#[actix_web::test]
async fn one_decision_commends_nine_collectives_and_two_individuals_at_once() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let campaign = campaign(&app, &fx).await;
    let mut models = Vec::new();
    let mut commendations = Vec::new();
    for i in 0..11 {
        let unit = if i % 2 == 0 { "C1" } else { "C2" };
        let person = match i {
            9 => Some("Trần Thị Bình"),
            10 => Some("Lê Văn Cường"),
            _ => None,
        };
        let (m, _, c) = proposed(&app, &fx, &campaign, unit, person).await;
        models.push(m);
        commendations.push(c);
    }
    let p1 = fx.token(&app, "P1", &["approver", "viewer"]);
    let draft = app.post("/api/v1/decisions", &p1, &new_decision("13-QĐ/ĐUK")).await;
    let id = draft.expect(201).json()["id"].as_str().unwrap().to_string();
    assert_eq!(draft.header("location"), Some(format!("/api/v1/decisions/{id}")));
    let version = list_all(&app, &p1, &id, &commendations, 1).await;

    let issued = app
        .post_with(
            &format!("/api/v1/decisions/{id}/issue"),
            &p1,
            &[("If-Match", &format!("\"{version}\""))],
            &json!({}),
        )
        .await;
    let issued = issued.expect(200).json();
    assert_eq!(issued["status"], "issued");
    assert_eq!(issued["recipients"], json!({"collectives": 9, "individuals": 2}));
    assert_eq!(issued["issuer_snapshot"]["name"], "Tỉnh Hà Nam Cũ");
    assert_eq!(issued["signer"]["position"], "Phó Bí thư Thường trực");
    let listed = issued["commendations"].as_array().unwrap();
    assert_eq!(listed.len(), 11);
    assert!(listed
        .iter()
        .all(|c| c["status"] == "issued" && c["decision_number"] == "13-QĐ/ĐUK" && c["decision_id"] == id.as_str()));

    // The portal shows each recipient under the decision's number, date and authority.
    for (model, name) in [(&models[0], None), (&models[9], Some("Trần Thị Bình"))] {
        let public = app.request(Method::GET, &format!("/api/v1/public/models/{model}"), None, &[], None).await;
        let c = &public.expect(200).json()["commendations"][0];
        assert_eq!((c["decision_number"].as_str(), c["decided_on"].as_str()), (Some("13-QĐ/ĐUK"), Some("2024-12-20")));
        assert_eq!(c["authority_title"], ISSUER_TITLE);
        if let Some(name) = name {
            assert_eq!(
                (c["recipient_subject"].as_str(), c["recipient_name"].as_str()),
                (Some("individual"), Some(name))
            );
        }
    }

    // Reports count the recipients, or the decision once.
    let p1_viewer = fx.token(&app, "P1", &["viewer"]);
    let base = format!("/api/v1/reports/commendations?unit_id={}", fx.id("P1"));
    assert_eq!(app.get(&base, &p1_viewer).await.expect(200).json()["total"], 11);
    let by_decision =
        app.get(&format!("{base}&count=decisions&group_by=subject,form"), &p1_viewer).await.expect(200).json();
    assert_eq!(by_decision["total"], 1, "one decision, however many it commends");
    let subjects = &by_decision["subtotals"][0]["rows"];
    assert!(subjects.as_array().unwrap().iter().all(|r| r["count"] == 1), "{subjects}");
    crate::reports::assert_counts_match_a_recount(&app);

    // A commune sees the decision through its own recipients, and only those.
    let c1 = fx.token(&app, "C1", &["viewer"]);
    let seen = app.get(&format!("/api/v1/decisions/{id}"), &c1).await.expect(200).json();
    assert_eq!(seen["commendations"].as_array().unwrap().len(), 6);
    let list = app.get("/api/v1/decisions?year=2024&status=issued", &c1).await.expect(200).json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    app.get(&format!("/api/v1/decisions/{id}"), &fx.token(&app, "P2", &["viewer"])).await.problem(404, "not_found");
    let csv = app.request(Method::GET, "/api/v1/decisions", Some(&p1), &[("Accept", "text/csv")], None).await;
    assert!(csv.expect(200).text().contains("13-QĐ/ĐUK"));

    // One recipient loses its award on its own grounds; the rest of the decision stands.
    let one = &commendations[3];
    let revoke = json!({"reason": "Thành tích kê khai không trung thực", "decision_number": "20-QĐ/ĐUK", "decided_on": "2025-01-10"});
    app.post_with(&format!("/api/v1/commendations/{one}/revoke"), &p1, &[("If-Match", "\"3\"")], &revoke)
        .await
        .expect(200);
    let after = app.get(&format!("/api/v1/decisions/{id}"), &p1).await.expect(200).json();
    assert_eq!(after["status"], "issued");
    assert_eq!(after["recipients"], json!({"collectives": 8, "individuals": 2}));
    let version = after["version"].as_i64().unwrap();

    // Revoking the decision revokes all of it.
    let etag = format!("\"{version}\"");
    let body =
        json!({"reason": "Quyết định ban hành sai thẩm quyền", "number": "21-QĐ/ĐUK", "decided_on": "2025-02-01"});
    let revoked = app.post_with(&format!("/api/v1/decisions/{id}/revoke"), &p1, &[("If-Match", &etag)], &body).await;
    let revoked = revoked.expect(200).json();
    assert_eq!(revoked["status"], "revoked");
    assert!(revoked["commendations"].as_array().unwrap().iter().all(|c| c["status"] == "revoked"));
    assert_eq!(revoked["commendations"][3]["revocation"]["decision_number"], "20-QĐ/ĐUK", "its own grounds stay");
    assert_eq!(app.get(&base, &p1_viewer).await.expect(200).json()["total"], 0);
    crate::reports::assert_counts_match_a_recount(&app);
    let events = app.get(&format!("/api/v1/audit-events?resource_id={id}"), &fx.token(&app, "P1", &["admin"])).await;
    let actions: Vec<String> = events.expect(200).json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert!(
        actions.contains(&"decision.issue".to_string()) && actions.contains(&"decision.revoke".to_string()),
        "{actions:?}"
    );
}

#[actix_web::test]
async fn a_decision_is_issued_whole_or_not_at_all() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let campaign = campaign(&app, &fx).await;
    let (_, _, first) = proposed(&app, &fx, &campaign, "C1", None).await;
    let (model, evaluation, second) = proposed(&app, &fx, &campaign, "C2", None).await;
    let p1 = fx.token(&app, "P1", &["approver"]);
    let id = app.post("/api/v1/decisions", &p1, &new_decision("14-QĐ/ĐUK")).await.expect(201).json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let version = list_all(&app, &p1, &id, &[first.clone(), second.clone()], 1).await;
    // The province corrects the second model's evaluation: it is no longer recognised.
    let correction = json!({"model_id": model, "supersedes_id": evaluation, "scores": [{"code": "TC1", "score": 10}],
                            "verdict": "fail", "decision": "not_recognize"});
    let p1_reviewer = fx.token(&app, "P1", &["reviewer", "approver"]);
    let e = app.post("/api/v1/evaluations", &p1_reviewer, &correction).await.expect(201).json();
    finalize(&app, &p1_reviewer, e["id"].as_str().unwrap(), 1).await.expect(200);
    let before = app.snapshot();
    let res = app
        .post_with(
            &format!("/api/v1/decisions/{id}/issue"),
            &p1,
            &[("If-Match", &format!("\"{version}\""))],
            &json!({}),
        )
        .await;
    let problem = res.problem(422, "decision_not_issuable");
    let errors = problem["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["field"], "commendations[1]");
    assert_eq!(errors[0]["code"], "model_not_recognized");
    assert!(errors[0]["message"].as_str().unwrap().contains(&second));
    assert_eq!(app.snapshot(), before, "nothing was issued, the first recipient neither");

    // Taken out, the rest is issued.
    let etag = format!("\"{version}\"");
    let res = app
        .request(
            Method::DELETE,
            &format!("/api/v1/decisions/{id}/commendations/{second}"),
            Some(&p1),
            &[("If-Match", &etag)],
            None,
        )
        .await;
    let version = res.expect(200).json()["version"].as_i64().unwrap();
    let res = app
        .post_with(
            &format!("/api/v1/decisions/{id}/issue"),
            &p1,
            &[("If-Match", &format!("\"{version}\""))],
            &json!({}),
        )
        .await;
    assert_eq!(res.expect(200).json()["recipients"], json!({"collectives": 1, "individuals": 0}));
}

#[actix_web::test]
async fn decisions_follow_their_rules() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let campaign = campaign(&app, &fx).await;
    let (_, _, c1) = proposed(&app, &fx, &campaign, "C1", None).await;
    let (_, _, c2) = proposed(&app, &fx, &campaign, "C2", None).await;
    let p1 = fx.token(&app, "P1", &["approver"]);
    // A number is the issuer's once a year.
    let d = app.post("/api/v1/decisions", &p1, &new_decision("15-QĐ/ĐUK")).await.expect(201).json();
    let id = d["id"].as_str().unwrap().to_string();
    app.post("/api/v1/decisions", &p1, &new_decision("15-QĐ/ĐUK")).await.problem(409, "decision_number_taken");
    let mut next_year = new_decision("15-QĐ/ĐUK");
    next_year["decided_on"] = json!("2025-01-05");
    app.post("/api/v1/decisions", &p1, &next_year).await.expect(201);
    // Dates, forms, roles and units.
    let mut future = new_decision("16-QĐ/ĐUK");
    future["decided_on"] = json!("2999-01-01");
    assert_eq!(
        app.post("/api/v1/decisions", &p1, &future).await.problem(422, "validation_failed")["errors"][0]["code"],
        "in_future"
    );
    let mut bang_khen = new_decision("17-QĐ/HU");
    bang_khen["form"] = json!("bang_khen");
    let d1 = fx.token(&app, "D1", &["approver"]);
    assert_eq!(
        app.post("/api/v1/decisions", &d1, &bang_khen).await.problem(422, "validation_failed")["errors"][0]["code"],
        "form_beyond_authority"
    );
    app.post("/api/v1/decisions", &fx.token(&app, "P1", &["editor"]), &new_decision("18-QĐ/ĐUK"))
        .await
        .problem(403, "missing_role");
    // Only a proposal to this issuer, with the decision's authority and form, joins.
    let join = |id: &str, c: &str, v: i64| {
        let (app, p1) = (&app, p1.clone());
        let (path, body, etag) =
            (format!("/api/v1/decisions/{id}/commendations"), json!({"commendation_id": c}), format!("\"{v}\""));
        async move { app.post_with(&path, &p1, &[("If-Match", &etag)], &body).await }
    };
    let d1_decision = app.post("/api/v1/decisions", &d1, &new_decision("1-QĐ/HU")).await.expect(201).json();
    let res = app
        .post_with(
            &format!("/api/v1/decisions/{}/commendations", d1_decision["id"].as_str().unwrap()),
            &d1,
            &[("If-Match", "\"1\"")],
            &json!({"commendation_id": c1}),
        )
        .await;
    assert_eq!(res.problem(422, "validation_failed")["errors"][0]["code"], "unknown_commendation");
    let mut other_form = new_decision("19-QĐ/ĐUK");
    other_form["form"] = json!("bang_khen");
    let bk = app.post("/api/v1/decisions", &p1, &other_form).await.expect(201).json();
    let res = join(bk["id"].as_str().unwrap(), &c1, 1).await;
    assert_eq!(res.problem(422, "validation_failed")["errors"][0]["code"], "form_mismatch");
    join(&id, &c1, 1).await.expect(200);
    join(&id, &c1, 2).await.expect(200);
    let other = app.post("/api/v1/decisions", &p1, &new_decision("22-QĐ/ĐUK")).await.expect(201).json();
    join(other["id"].as_str().unwrap(), &c1, 1).await.problem(409, "listed_in_decision");
    // A listed proposal is issued with its decision, not alone.
    let alone = json!({"decision_number": "23-QĐ/ĐUK", "decided_on": "2024-12-21"});
    app.post_with(&format!("/api/v1/commendations/{c1}/issue"), &p1, &[("If-Match", "\"2\"")], &alone)
        .await
        .problem(409, "listed_in_decision");
    // Issued alone, a commendation is a decision with one recipient; its number is then taken.
    let one = app.post_with(&format!("/api/v1/commendations/{c2}/issue"), &p1, &[("If-Match", "\"1\"")], &alone).await;
    let one = one.expect(200).json();
    let single = one["decision_id"].as_str().unwrap();
    let read = app.get(&format!("/api/v1/decisions/{single}"), &p1).await.expect(200).json();
    assert_eq!((read["number"].as_str(), read["status"].as_str()), (Some("23-QĐ/ĐUK"), Some("issued")));
    assert_eq!(read["recipients"]["collectives"], 1);
    app.post("/api/v1/decisions", &p1, &{
        let mut d = new_decision("23-QĐ/ĐUK");
        d["decided_on"] = json!("2024-03-01");
        d
    })
    .await
    .problem(409, "decision_number_taken");
    // A draft changes; an issued decision does not; an abandoned draft frees its proposals.
    let v = app.get(&format!("/api/v1/decisions/{id}"), &p1).await.expect(200).json()["version"].as_i64().unwrap();
    let patched = app
        .patch(
            &format!("/api/v1/decisions/{id}"),
            &p1,
            &format!("\"{v}\""),
            &json!({"summary": null, "number": "15a-QĐ/ĐUK"}),
        )
        .await;
    let patched = patched.expect(200).json();
    assert!(patched["summary"].is_null() && patched["number"] == "15a-QĐ/ĐUK");
    let v = patched["version"].as_i64().unwrap();
    let abandon = json!({"reason": "Lập nhầm"});
    let res = app
        .post_with(&format!("/api/v1/decisions/{id}/revoke"), &p1, &[("If-Match", &format!("\"{v}\""))], &abandon)
        .await;
    assert_eq!(res.expect(200).json()["status"], "revoked");
    let c = app.get(&format!("/api/v1/commendations/{c1}"), &p1).await.expect(200).json();
    assert!(c["decision_id"].is_null() && c["status"] == "proposed");
    join(other["id"].as_str().unwrap(), &c1, 1).await.expect(200);
    app.post_with(&format!("/api/v1/decisions/{single}/issue"), &p1, &[("If-Match", "\"2\"")], &json!({}))
        .await
        .problem(409, "invalid_transition");
}

#[actix_web::test]
async fn decisions_are_announced_and_synced_like_every_resource() {
    let app = TestApp::spawn_with(|c| {
        c.webhook_allow_networks = dvk::webhooks::network::NetworkPolicy::parse("127.0.0.0/8").unwrap();
    })
    .await;
    let fx = Fixture::load(&app).await;
    let receiver = crate::webhooks::Receiver::start(0).await;
    let admin = fx.token(&app, "P1", &["admin"]);
    app.post(
        "/api/v1/webhooks",
        &admin,
        &json!({"url": receiver.url, "events": ["decision.issued", "decision.revoked"]}),
    )
    .await
    .expect(201);
    let campaign = campaign(&app, &fx).await;
    let (_, _, c) = proposed(&app, &fx, &campaign, "C1", None).await;
    let p1 = fx.token(&app, "P1", &["approver", "viewer"]);
    let mark = app.get("/api/v1/decisions", &p1).await;
    mark.expect(200);
    let since = mark.header("date").map(|d| chrono::DateTime::parse_from_rfc2822(&d).unwrap().to_utc()).unwrap();
    let id = app.post("/api/v1/decisions", &p1, &new_decision("30-QĐ/ĐUK")).await.expect(201).json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let version = list_all(&app, &p1, &id, &[c], 1).await;
    app.post_with(
        &format!("/api/v1/decisions/{id}/issue"),
        &p1,
        &[("If-Match", &format!("\"{version}\""))],
        &json!({}),
    )
    .await
    .expect(200);
    assert_eq!(app.deliver_all_due().await, 1);
    let got = receiver.received();
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!((body["type"].as_str(), body["data"]["id"].as_str()), (Some("decision.issued"), Some(id.as_str())));
    assert_eq!(body["data"]["object"]["recipients"]["collectives"], 1);
    let since = since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let changed = app
        .get(&format!("/api/v1/decisions?updated_since={}", since.replace('+', "%2B")), &p1)
        .await
        .expect(200)
        .json();
    let items = changed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["status"], "issued");
}
