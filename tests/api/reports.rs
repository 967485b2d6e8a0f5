//! Reports through the API over a small province built by hand (the fixture: districts, communes,
//! a village, a Party bloc), with known models and commendations: every cell of each report, its
//! CSV and XLSX forms, and the counts kept with each write equal to a full recount.

use serde_json::{json, Value};

use crate::campaigns::{campaign, launched};
use crate::commendations::{decide, proposal, recognised};
use crate::helpers::*;

/// A model report's `status` filter naming every status: reports count registered models and
/// beyond unless asked.
pub const EVERY_STATUS: &str = "status=draft,registered,returned,in_progress,recognized,not_recognized,withdrawn";
use crate::models::act;

/// What the scenario built: the campaigns and the ids of the models by name.
pub struct Province {
    pub top: String,
    pub d1: String,
    pub commendation: String,
    pub recognised: String,
}

fn model(campaign_id: &str, unit: &str, fx: &Fixture, m: Value) -> Value {
    let mut body = json!({
        "campaign_id": campaign_id, "unit_id": fx.id(unit), "title": format!("Mô hình của {unit}"),
        "subject": "collective", "kind": "by_field", "field": "economy", "special_areas": [],
        "registered_level": "district", "year": 2024
    });
    for (k, v) in m.as_object().unwrap() {
        body[k] = v.clone();
    }
    // Registered in the year it is for, as an office entering it late would date it.
    if body.get("registered_on").is_none() {
        body["registered_on"] = json!(format!("{}-05-01", body["year"]));
    }
    body
}

async fn create(app: &TestApp, fx: &Fixture, unit: &str, body: Value) -> String {
    let editor = fx.token(app, unit, &["editor"]);
    let m = app.post("/api/v1/models", &editor, &body).await.expect(201).json();
    m["id"].as_str().unwrap().to_string()
}

/// P1 launches a campaign with three targets; D1 implements it. Models of P1's subtree:
///
/// | model | unit | subject | kind / field | areas | year | status |
/// | m1 | C1 | collective | economy | ethnic_minority | 2024 | in_progress |
/// | m2 | C1 | individual | culture_society | ethnic_minority, religious | 2024 | registered |
/// | m3 | C2 | collective | comprehensive | | 2025 | registered |
/// | m4 | V1 | collective | economy | | 2025 | draft |
/// | m5 | C2 | collective | economy | | 2024 | withdrawn |
/// | m6 | C1 | collective | comprehensive | | 2024 | recognized, giấy khen from D1 (2025) |
/// | m7 | P1-BASE | collective | political_system | | 2025 | registered (P1's campaign) |
///
/// And one draft of P2C1 under P2's campaign, outside P1.
pub async fn province(app: &TestApp, fx: &Fixture) -> Province {
    let mut top_body = campaign("07-KH/BCĐ", "2023-01-01", "2025-12-31", None);
    top_body["targets"] = json!([
        {"metric": "units_with_plan_ratio", "level": "district", "threshold": 1.0},
        {"metric": "units_with_model_ratio", "level": "commune", "threshold": 0.5},
        {"metric": "models_per_unit_per_year", "level": "district", "threshold": 1}
    ]);
    let top = launched(app, fx, "P1", &top_body).await["id"].as_str().unwrap().to_string();
    let d1 = launched(app, fx, "D1", &campaign("12-KH/HU", "2023-03-01", "2025-12-31", Some(&top))).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let reviewer = fx.token(app, "D1", &["reviewer"]);

    let m1 = create(app, fx, "C1", model(&d1, "C1", fx, json!({"special_areas": ["ethnic_minority"]}))).await;
    let c1 = fx.token(app, "C1", &["editor"]);
    act(app, &c1, &m1, "submit", 1, json!({})).await.expect(200);
    act(app, &reviewer, &m1, "accept", 2, json!({})).await.expect(200);
    let m2 = create(
        app,
        fx,
        "C1",
        model(
            &d1,
            "C1",
            fx,
            json!({"subject": "individual", "person": {"full_name": "Nguyễn Thị Hoa", "position": "Trưởng thôn"},
                   "field": "culture_society", "special_areas": ["ethnic_minority", "religious"]}),
        ),
    )
    .await;
    act(app, &c1, &m2, "submit", 1, json!({})).await.expect(200);
    let c2 = fx.token(app, "C2", &["editor"]);
    let m3 = create(app, fx, "C2", model(&d1, "C2", fx, json!({"kind": "comprehensive", "field": null, "year": 2025})))
        .await;
    act(app, &c2, &m3, "submit", 1, json!({})).await.expect(200);
    create(app, fx, "V1", model(&d1, "V1", fx, json!({"year": 2025}))).await;
    let m5 = create(app, fx, "C2", model(&d1, "C2", fx, json!({}))).await;
    act(app, &c2, &m5, "withdraw", 1, json!({})).await.expect(200);
    let (m6, _) = recognised(app, fx, &d1).await;
    let proposed = app
        .post("/api/v1/commendations", &c1, &proposal(fx, &m6, "giay_khen", "D1", "Ban Dân vận Huyện ủy Bình Lục"))
        .await
        .expect(201)
        .json();
    let commendation = proposed["id"].as_str().unwrap().to_string();
    let decision = json!({"decision_number": "125-QĐ/BDVHU", "decided_on": "2025-01-15"});
    decide(app, &fx.token(app, "D1", &["approver"]), &commendation, "issue", 1, decision).await.expect(200);
    let base = fx.token(app, "P1-BASE", &["editor"]);
    let m7 = create(
        app,
        fx,
        "P1-BASE",
        model(&top, "P1-BASE", fx, json!({"field": "political_system", "registered_level": "province", "year": 2025})),
    )
    .await;
    act(app, &base, &m7, "submit", 1, json!({})).await.expect(200);

    let p2 = launched(app, fx, "P2", &campaign("01-KH/LS", "2024-01-01", "2025-12-31", None)).await;
    let p2_campaign = p2["id"].as_str().unwrap();
    create(app, fx, "P2C1", model(p2_campaign, "P2C1", fx, json!({}))).await;
    Province { top, d1, commendation, recognised: m6 }
}

/// The report's rows as (labels of the groups joined by " / ", count).
fn cells(report: &Value) -> Vec<(String, i64)> {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let keys: Vec<String> =
                r["groups"].as_array().unwrap().iter().map(|g| g["key"].as_str().unwrap_or("-").to_string()).collect();
            (keys.join("/"), r["count"].as_i64().unwrap())
        })
        .collect()
}

fn nonzero(report: &Value) -> Vec<(String, i64)> {
    cells(report).into_iter().filter(|(_, n)| *n > 0).collect()
}

fn pairs(expected: &[(&str, i64)]) -> Vec<(String, i64)> {
    expected.iter().map(|(k, n)| (k.to_string(), *n)).collect()
}

/// The counts and the scope index kept write by write are what a full recount and a rebuild give.
/// On PostgreSQL, with the changes not yet folded in and once they are.
pub fn assert_counts_match_a_recount(app: &TestApp) {
    let mut conn = app.state.pool.get().unwrap();
    assert_eq!(dvk::reports::counts::differences(&mut conn).unwrap(), 0, "kept counts differ from a recount");
    if let dvk::db::DbConnection::Postgresql(_) = &*conn {
        // Folded (by this call, or by the server's folder if it holds the turn), nothing is left
        // appended, no count is left at zero, and the counts are still a recount's.
        let left = |conn: &mut dvk::db::DbConnection, sql: &str| -> i64 {
            use diesel::RunQueryDsl;
            #[derive(diesel::QueryableByName)]
            struct N {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            diesel::sql_query(sql).get_result::<N>(conn).unwrap().n
        };
        let appended =
            "SELECT (SELECT count(*) FROM model_count_deltas) + (SELECT count(*) FROM model_area_count_deltas) \
                        + (SELECT count(*) FROM commendation_count_deltas) AS n";
        let mut tries = 0;
        while left(&mut conn, appended) > 0 {
            dvk::reports::counts::fold(&mut conn).unwrap();
            tries += 1;
            assert!(tries < 100, "the changes are never folded");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let zeros = "SELECT (SELECT count(*) FROM model_counts WHERE n = 0) \
                     + (SELECT count(*) FROM model_area_counts WHERE n = 0) \
                     + (SELECT count(*) FROM commendation_counts WHERE n = 0) AS n";
        assert_eq!(left(&mut conn, zeros), 0, "a fold left counts at zero");
        dvk::reports::counts::tidy(&mut conn).unwrap();
        assert_eq!(dvk::reports::counts::differences(&mut conn).unwrap(), 0, "folded counts differ from a recount");
    }
    assert_eq!(dvk::models::scope_index_differences(&mut conn).unwrap(), 0, "the scope index differs from a rebuild");
}

/// Commendation reports read kept counts, except by decisions, which group the commendations
/// themselves. Here every decision commends one, so the two must give the same cells for every
/// dimension, with and without revoked ones and predecessors.
async fn commendation_counts_agree_with_the_records(app: &TestApp, token: &str, unit_id: &str) {
    for group_by in ["unit", "form", "year", "status", "issuer_level", "issuing_authority", "subject", "unit,form"] {
        for options in ["", "&include_revoked=true", "&include_predecessors=true&include_revoked=true"] {
            let path = format!("/api/v1/reports/commendations?unit_id={unit_id}&group_by={group_by}{options}");
            let kept = app.get(&path, token).await.expect(200).json();
            let records = app.get(&format!("{path}&count=decisions"), token).await.expect(200).json();
            assert_eq!(cells(&kept), cells(&records), "{path}");
            assert_eq!(kept["total"], records["total"], "{path}");
        }
    }
}

#[actix_web::test]
async fn a_province_report_counts_every_cell() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let p = province(&app, &fx).await;
    assert_counts_match_a_recount(&app);
    let p1 = fx.token(&app, "P1", &["viewer"]);
    // The movement's figures are of registered models: without `status`, the two drafts, the
    // returned one and the withdrawn one are not counted.
    let default = app.get(&format!("/api/v1/reports/models?unit_id={}&group_by=status", fx.id("P1")), &p1).await;
    let default = default.expect(200).json();
    let statuses: Vec<&str> =
        default["rows"].as_array().unwrap().iter().map(|r| r["groups"][0]["key"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["registered", "in_progress", "recognized", "not_recognized"]);
    // The rest of this test counts every model, whatever its status.
    let report = |q: &str| {
        let mut params = vec![format!("unit_id={}", fx.id("P1"))];
        if !q.contains("status=") {
            params.push(EVERY_STATUS.to_string());
        }
        if !q.is_empty() {
            params.push(q.to_string());
        }
        format!("/api/v1/reports/models?{}", params.join("&"))
    };

    let first = app.get(&report(""), &p1).await;
    let total = first.expect(200).json();
    // A poller gets 304 until a figure changes.
    let tag = first.header("etag").unwrap();
    let again =
        app.request(actix_web::http::Method::GET, &report(""), Some(&p1), &[("If-None-Match", &tag)], None).await;
    again.expect(304);
    assert_eq!(total["total"], 7);
    assert_eq!(total["unit"]["code"], "P1");
    assert_eq!(total["rows"], json!([]));

    let by_field = app.get(&report("group_by=field"), &p1).await.expect(200).json();
    assert_eq!(
        cells(&by_field),
        pairs(&[
            ("economy", 3),
            ("culture_society", 1),
            ("defense_security", 0),
            ("political_system", 1),
            ("professional", 0),
            ("-", 2)
        ])
    );
    assert_eq!(by_field["rows"][0]["groups"][0]["label"], "Kinh tế");
    assert_eq!(by_field["rows"][5]["groups"][0]["label"], "Không có");
    assert_eq!(by_field["total"], 7);

    let by_field_level = app.get(&report("group_by=field,level"), &p1).await.expect(200).json();
    assert_eq!(
        nonzero(&by_field_level),
        pairs(&[
            ("economy/commune", 2),
            ("economy/village", 1),
            ("culture_society/commune", 1),
            ("political_system/commune", 1),
            ("-/commune", 2)
        ])
    );
    assert_eq!(by_field_level["rows"].as_array().unwrap().len(), 6 * 5, "every field at every level");
    let subtotals = &by_field_level["subtotals"];
    assert_eq!(subtotals[0]["dimension"], "field");
    assert_eq!(
        cells(&json!({"rows": subtotals[1]["rows"]})),
        pairs(&[("central", 0), ("province", 0), ("district", 0), ("commune", 6), ("village", 1)])
    );

    let by_status = app.get(&report("group_by=status"), &p1).await.expect(200).json();
    assert_eq!(
        cells(&by_status),
        pairs(&[
            ("draft", 1),
            ("registered", 3),
            ("returned", 0),
            ("in_progress", 1),
            ("recognized", 1),
            ("not_recognized", 0),
            ("withdrawn", 1)
        ])
    );

    // By unit: each active child of P1, zeros included; nothing is owned by P1 itself.
    let by_unit = app.get(&report("group_by=unit"), &p1).await.expect(200).json();
    assert_eq!(cells(&by_unit), pairs(&[("D1", 6), ("D2", 0), ("P1-BLOC", 1)]));
    assert_eq!(by_unit["rows"][0]["groups"][0]["id"], fx.id("D1"));
    assert_eq!(by_unit["rows"][0]["groups"][0]["label"], "Huyện Bình Lục");

    // Tags: a model with two counts under each, and once in the totals.
    let by_area = app.get(&report("group_by=special_area,subject"), &p1).await.expect(200).json();
    assert_eq!(
        nonzero(&by_area),
        pairs(&[("religious/individual", 1), ("ethnic_minority/collective", 1), ("ethnic_minority/individual", 1)])
    );
    assert_eq!(
        cells(&json!({"rows": by_area["subtotals"][1]["rows"]})),
        pairs(&[("collective", 6), ("individual", 1)]),
        "subjects count each model once, tagged or not"
    );
    assert_eq!(by_area["total"], 7);
    let tagged = app.get(&report("special_area=ethnic_minority&group_by=subject"), &p1).await.expect(200).json();
    assert_eq!(cells(&tagged), pairs(&[("collective", 1), ("individual", 1)]));
    assert_eq!(tagged["total"], 2);

    // Filters: statuses, years, a campaign.
    let live = app.get(&report("status=registered,in_progress,recognized"), &p1).await.expect(200).json();
    assert_eq!(live["total"], 5);
    let recent = app.get(&report("year_from=2025&group_by=year"), &p1).await.expect(200).json();
    assert_eq!(cells(&recent), pairs(&[("2025", 3)]));
    let range = app.get(&report("year_from=2023&year_to=2025&group_by=year"), &p1).await.expect(200).json();
    assert_eq!(cells(&range), pairs(&[("2023", 0), ("2024", 4), ("2025", 3)]));
    let top_only = app.get(&report(&format!("campaign_id={}", p.top)), &p1).await.expect(200).json();
    assert_eq!(top_only["total"], 1);
    let registered = app.get(&report("registered_level=province&kind=by_field"), &p1).await.expect(200).json();
    assert_eq!(registered["total"], 1);

    // A district sees its own subtree by default; the nation sees everything.
    let d1 = fx.token(&app, "D1", &["viewer"]);
    let own = app.get(&format!("/api/v1/reports/models?group_by=unit&{EVERY_STATUS}"), &d1).await.expect(200).json();
    assert_eq!(own["unit"]["code"], "D1");
    assert_eq!(cells(&own), pairs(&[("C1", 4), ("C2", 2)]), "V1's model is C1's subtree");
    let national = app
        .get(&format!("/api/v1/reports/models?group_by=unit&{EVERY_STATUS}"), &app.root_admin())
        .await
        .expect(200)
        .json();
    assert_eq!(cells(&national), pairs(&[("P1", 7), ("P2", 1)]));
    assert_eq!(national["total"], 8);
    let _ = (p.d1, p.recognised);
}

#[actix_web::test]
async fn reports_keep_up_with_every_write_and_a_reorganisation() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let p = province(&app, &fx).await;
    let p1 = fx.token(&app, "P1", &["viewer"]);
    let path = format!("/api/v1/reports/models?unit_id={}&group_by=status&{EVERY_STATUS}", fx.id("P1"));
    // A correction moves the model from recognized to not_recognized: the counts follow.
    let d1 = fx.token(&app, "D1", &["reviewer", "approver"]);
    let list = app.get(&format!("/api/v1/evaluations?model_id={}", p.recognised), &d1).await.expect(200).json();
    let first = list["items"][0]["id"].as_str().unwrap();
    let body = json!({"model_id": p.recognised, "review_kind": "annual", "year": 2024, "supersedes_id": first,
                      "decision": "not_recognize", "verdict": "fail",
                      "scores": [{"code": "TC1", "score": 10}, {"code": "TC2", "score": 10}]});
    // The commendation stands on the first evaluation; revoke it before correcting.
    let revocation = json!({"reason": "Đánh giá lại", "decision_number": "131-QĐ/BDVHU", "decided_on": "2025-03-01"});
    decide(&app, &fx.token(&app, "D1", &["approver"]), &p.commendation, "revoke", 2, revocation).await.expect(200);
    let e = app.post("/api/v1/evaluations", &d1, &body).await.expect(201).json();
    crate::evaluations::finalize(&app, &d1, e["id"].as_str().unwrap(), 1).await.expect(200);
    let report = app.get(&path, &p1).await.expect(200).json();
    assert_eq!(report["rows"][4]["count"], 0, "recognized");
    assert_eq!(report["rows"][5]["count"], 1, "not_recognized");
    assert_counts_match_a_recount(&app);

    // Changing a draft's tags alone, then its field and one tag, moves its counts with it.
    let v1 = fx.token(&app, "V1", &["editor"]);
    let drafts = app.get("/api/v1/models?status=draft", &v1).await.expect(200).json();
    let draft = drafts["items"][0]["id"].as_str().unwrap().to_string();
    let path_of = format!("/api/v1/models/{draft}");
    app.patch(&path_of, &v1, "\"1\"", &json!({"special_areas": ["border", "religious"]})).await.expect(200);
    assert_counts_match_a_recount(&app);
    app.patch(&path_of, &v1, "\"2\"", &json!({"field": "culture_society", "special_areas": ["border"]}))
        .await
        .expect(200);
    assert_counts_match_a_recount(&app);
    let tags = app
        .get(&format!("/api/v1/reports/models?unit_id={}&group_by=special_area&{EVERY_STATUS}", fx.id("P1")), &p1)
        .await
        .expect(200)
        .json();
    assert_eq!(nonzero(&tags), pairs(&[("religious", 1), ("ethnic_minority", 2), ("border", 1)]));

    // Moving C2 under D2 moves its two models from D1's counts to D2's.
    let admin = fx.token(&app, "P1", &["admin"]);
    app.patch(&format!("/api/v1/units/{}", fx.id("C2")), &admin, "\"1\"", &json!({"parent_id": fx.id("D2")}))
        .await
        .expect(200);
    let by_unit = app
        .get(&format!("/api/v1/reports/models?unit_id={}&group_by=unit&{EVERY_STATUS}", fx.id("P1")), &p1)
        .await
        .expect(200)
        .json();
    assert_eq!(cells(&by_unit), pairs(&[("D1", 4), ("D2", 2), ("P1-BLOC", 1)]));
    assert_counts_match_a_recount(&app);

    // C1 closes into C3: with predecessors, C3 counts what C1 did (four models, V1's among them).
    app.post_with(
        &format!("/api/v1/units/{}/close", fx.id("C1")),
        &admin,
        &[("If-Match", "\"1\"")],
        &json!({"successors": [{"unit_id": fx.id("C3"), "is_primary": true}]}),
    )
    .await
    .expect(200);
    let c3 = format!("/api/v1/reports/models?unit_id={}&{EVERY_STATUS}", fx.id("C3"));
    assert_eq!(app.get(&c3, &p1).await.expect(200).json()["total"], 0);
    let with = app.get(&format!("{c3}&include_predecessors=true"), &p1).await.expect(200).json();
    assert_eq!(with["total"], 4);
    let d2 = format!(
        "/api/v1/reports/models?unit_id={}&group_by=unit&include_predecessors=true&{EVERY_STATUS}",
        fx.id("D2")
    );
    assert_eq!(cells(&app.get(&d2, &p1).await.expect(200).json()), pairs(&[("C2", 2), ("C3", 4)]));
    assert_counts_match_a_recount(&app);
    commendation_counts_agree_with_the_records(&app, &p1, fx.id("P1")).await;
    commendation_counts_agree_with_the_records(&app, &p1, fx.id("D2")).await;
}

#[actix_web::test]
async fn commendation_reports_and_targets() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let p = province(&app, &fx).await;
    let p1 = fx.token(&app, "P1", &["viewer"]);
    let report = |q: &str| format!("/api/v1/reports/commendations?unit_id={}&{q}", fx.id("P1"));
    let by = app.get(&report("group_by=issuer_level,form"), &p1).await.expect(200).json();
    assert_eq!(nonzero(&by), pairs(&[("district/giay_khen", 1)]));
    assert_eq!(by["total"], 1);

    // Revoked and replaced by a bằng khen of the province: revoked ones count only when asked.
    let revocation = json!({"reason": "Nâng mức khen", "decision_number": "131-QĐ/BDVHU", "decided_on": "2025-03-01"});
    decide(&app, &fx.token(&app, "D1", &["approver"]), &p.commendation, "revoke", 2, revocation).await.expect(200);
    let c1 = fx.token(&app, "C1", &["editor"]);
    let second = app
        .post("/api/v1/commendations", &c1, &proposal(&fx, &p.recognised, "bang_khen", "P1", "Ban Dân vận Tỉnh ủy"))
        .await
        .expect(201)
        .json();
    let decision = json!({"decision_number": "45-QĐ/BDVTU", "decided_on": "2025-05-19"});
    decide(&app, &fx.token(&app, "P1", &["approver"]), second["id"].as_str().unwrap(), "issue", 1, decision)
        .await
        .expect(200);
    let issued = app.get(&report("group_by=issuer,form"), &p1).await.expect(200).json();
    assert_eq!(nonzero(&issued), pairs(&[("P1/bang_khen", 1)]));
    let csv = app
        .request(
            actix_web::http::Method::GET,
            &report("group_by=issuer,form&lang=en"),
            Some(&p1),
            &[("Accept", "text/csv")],
            None,
        )
        .await;
    assert_eq!(
        csv.expect(200).text(),
        "\u{feff}Issuer,Form,Count\nTỉnh Hà Nam Cũ,Giay khen,0\nTỉnh Hà Nam Cũ,Bang khen,1\n\
         Tỉnh Hà Nam Cũ,All (Subtotal),1\nAll (Subtotal),Giay khen,0\nAll (Subtotal),Bang khen,1\nTotal,,1\n"
    );
    let all = app.get(&report("group_by=status,year&include_revoked=true"), &p1).await.expect(200).json();
    assert_eq!(nonzero(&all), pairs(&[("issued/2025", 1), ("revoked/2025", 1)]));
    let by_unit = app.get(&report("group_by=unit,issuing_authority"), &p1).await.expect(200).json();
    assert_eq!(nonzero(&by_unit), pairs(&[("D1/mass_mobilization_commission", 1)]));
    let outside = app.get(&report("year_to=2024"), &p1).await.expect(200).json();
    assert_eq!(outside["total"], 0);
    assert_counts_match_a_recount(&app);
    commendation_counts_agree_with_the_records(&app, &p1, fx.id("P1")).await;

    // Targets: D1 of two districts launched a plan (1/2, not met); three of four communes have a
    // registered model (met at 0.5); four registered models in two districts over 2023–2025.
    let targets = app.get(&format!("/api/v1/reports/campaigns/{}/targets", p.top), &p1).await.expect(200).json();
    assert_eq!((targets["year_from"].as_i64(), targets["year_to"].as_i64()), (Some(2023), Some(2025)));
    let t = |i: usize| {
        let t = &targets["targets"][i];
        (
            t["metric"].as_str().unwrap().to_string(),
            t["numerator"].as_i64().unwrap(),
            t["denominator"].as_i64().unwrap(),
            t["met"].as_bool().unwrap(),
        )
    };
    assert_eq!(t(0), ("units_with_plan_ratio".into(), 1, 2, false));
    assert_eq!(targets["targets"][0]["ratio"], 0.5);
    assert_eq!(t(1), ("units_with_model_ratio".into(), 3, 4, true));
    assert_eq!(t(2), ("models_per_unit_per_year".into(), 4, 6, false));
    let in_2024 =
        app.get(&format!("/api/v1/reports/campaigns/{}/targets?year=2024", p.top), &p1).await.expect(200).json();
    assert_eq!(in_2024["targets"][2]["numerator"], 3);
    assert_eq!(in_2024["targets"][2]["denominator"], 2);
    assert_eq!(in_2024["targets"][2]["met"], true);
    assert_eq!(in_2024["targets"][1]["numerator"], 1, "in 2024 only C1 had registered a model");
}

#[actix_web::test]
async fn reports_come_as_csv_and_xlsx_with_labels() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let p = province(&app, &fx).await;
    let p1 = fx.token(&app, "P1", &["viewer"]);
    let path = format!("/api/v1/reports/models?unit_id={}&group_by=field,level&{EVERY_STATUS}", fx.id("P1"));
    let csv = app.request(actix_web::http::Method::GET, &path, Some(&p1), &[("Accept", "text/csv")], None).await;
    csv.expect(200);
    assert_eq!(csv.header("content-type").as_deref(), Some("text/csv; charset=utf-8"));
    assert!(csv.header("content-disposition").unwrap().contains("models-report.csv"));
    assert!(csv.body.starts_with("\u{feff}".as_bytes()), "a BOM, so Excel reads UTF-8");
    let text = String::from_utf8(csv.body[3..].to_vec()).unwrap();
    let rows: Vec<Vec<String>> = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    assert_eq!(rows[0], ["Lĩnh vực", "Cấp", "Số lượng"]);
    assert_eq!(rows[4], ["Kinh tế", "Xã, phường, đặc khu", "2"]);
    assert_eq!(rows[5], ["Kinh tế", "Thôn, tổ dân phố", "1"]);
    assert_eq!(rows.len(), 1 + 30 + 6 + 5 + 1, "header, cells, subtotals of each dimension, total");
    assert_eq!(rows[31], ["Kinh tế", "Tất cả (Cộng)", "3"]);
    assert_eq!(rows.last().unwrap(), &["Tổng cộng", "", "7"]);

    let en = app
        .request(actix_web::http::Method::GET, &format!("{path}&lang=en"), Some(&p1), &[("Accept", "text/csv")], None)
        .await;
    assert!(en.expect(200).text().contains("Field,Level,Count\n"));

    let xlsx =
        app.request(actix_web::http::Method::GET, &path, Some(&p1), &[("Accept", dvk::http::export::XLSX)], None).await;
    xlsx.expect(200);
    assert_eq!(xlsx.header("content-type").as_deref(), Some(dvk::http::export::XLSX));
    let sheet = read_xlsx(&xlsx.body);
    assert_eq!(sheet, rows, "the XLSX holds what the CSV holds");

    let targets = app
        .request(
            actix_web::http::Method::GET,
            &format!("/api/v1/reports/campaigns/{}/targets", p.top),
            Some(&p1),
            &[("Accept", dvk::http::export::XLSX)],
            None,
        )
        .await;
    let disposition = targets.expect(200).header("content-disposition").unwrap();
    assert_eq!(disposition, "attachment; filename=\"targets-07-kh-bcd.xlsx\"", "a header value is ASCII");
    let sheet = read_xlsx(&targets.body);
    assert_eq!(sheet[0][0], "Chỉ tiêu");
    assert_eq!(sheet[1], ["Tỷ lệ đơn vị có kế hoạch", "Huyện", "", "1", "1", "2", "0.5", "Không"]);
}

/// The first sheet of an XLSX file as text cells (numbers as written).
pub fn read_xlsx(bytes: &[u8]) -> Vec<Vec<String>> {
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    range
        .rows()
        .map(|row| {
            row.iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    Data::String(s) => s.clone(),
                    Data::Float(x) => x.to_string(),
                    Data::Int(n) => n.to_string(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

/// Reports from the kept counts are prepared once per connection, whatever a caller groups and
/// filters by: the statement's text takes nothing from the request, so no caller can fill the
/// connections' statement caches with shapes, and no report is planned anew. PostgreSQL lists a
/// connection's prepared statements; the one connection here served every report.
#[actix_web::test]
async fn a_report_is_prepared_once_whatever_it_asks() {
    let app = TestApp::spawn_with(|c| c.db_pool_size = 1).await;
    let fx = Fixture::load(&app).await;
    let p1 = fx.token(&app, "P1", &["viewer"]);
    for q in [
        "group_by=field,level",
        "group_by=unit&status=registered",
        "group_by=year,special_area&status=registered,recognized&field=economy,culture_society&year_from=2024",
        "group_by=subject&kind=comprehensive&registered_level=district,commune,province&level=commune",
        "group_by=special_area&special_area=religious&year_to=2025",
    ] {
        app.get(&format!("/api/v1/reports/models?{q}"), &p1).await.expect(200);
    }
    for q in ["group_by=form,year", "group_by=unit,issuer_level&include_revoked=true&form=bang_khen"] {
        app.get(&format!("/api/v1/reports/commendations?{q}"), &p1).await.expect(200);
    }
    let mut conn = app.state.pool.get().unwrap();
    if let dvk::db::DbConnection::Postgresql(_) = &*conn {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Shapes {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            models: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            areas: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            commendations: i64,
        }
        let shapes: Shapes = diesel::sql_query(
            "SELECT count(*) FILTER (WHERE statement LIKE '%FROM model_counts %') AS models, \
                    count(*) FILTER (WHERE statement LIKE '%FROM model_area_counts %') AS areas, \
                    count(*) FILTER (WHERE statement LIKE '%FROM commendation_counts %') AS commendations \
             FROM pg_prepared_statements",
        )
        .get_result(&mut *conn)
        .unwrap();
        assert_eq!((shapes.models, shapes.areas, shapes.commendations), (1, 1, 1));
    }
}

#[actix_web::test]
async fn bad_report_requests_are_refused_and_scope_holds() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let p1 = fx.token(&app, "P1", &["viewer"]);
    let get = |q: &str| format!("/api/v1/reports/models?{q}");
    let p = app.get(&get("group_by=colour"), &p1).await.problem(400, "invalid_query");
    assert_eq!(p["errors"][0]["field"], "group_by");
    app.get(&get("group_by=field,level,year"), &p1).await.problem(400, "invalid_query");
    app.get(&get("group_by=field,field"), &p1).await.problem(400, "invalid_query");
    let p = app.get(&get("year_from=2026&year_to=2025&status=done"), &p1).await.problem(400, "invalid_query");
    assert_eq!(p["errors"].as_array().unwrap().len(), 2, "every fault at once: {p}");
    app.get(&get("year_from=1999"), &p1).await.problem(400, "invalid_query");
    app.get(&get("special_area=moon"), &p1).await.problem(400, "invalid_query");
    app.get(&get("colour=red"), &p1).await.problem(400, "invalid_query");
    app.get(&get("campaign_id=nope"), &p1).await.problem(422, "validation_failed");
    app.get("/api/v1/reports/commendations?group_by=field", &p1).await.problem(400, "invalid_query");
    app.get("/api/v1/reports/campaigns/nope/targets", &p1).await.problem(404, "not_found");
    let png = app.request(actix_web::http::Method::GET, &get(""), Some(&p1), &[("Accept", "image/png")], None).await;
    png.problem(406, "not_acceptable");
    // A unit outside the caller's subtree is not found, whatever it holds.
    let c3 = fx.token(&app, "C3", &["viewer"]);
    app.get(&get(&format!("unit_id={}", fx.id("P1"))), &c3).await.problem(404, "not_found");
    app.get(&get(&format!("unit_id={}", fx.id("P2"))), &p1).await.problem(404, "not_found");
    app.request(actix_web::http::Method::GET, &get(""), None, &[], None).await.problem(401, "missing_token");
}

#[actix_web::test]
async fn every_list_comes_as_csv_and_xlsx_too() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let p = province(&app, &fx).await;
    let p1 = fx.token(&app, "P1", &["viewer", "admin"]);
    let get = |path: &str, accept: &'static str| {
        let path = path.to_string();
        let token = p1.clone();
        let app = &app;
        async move { app.request(actix_web::http::Method::GET, &path, Some(&token), &[("Accept", accept)], None).await }
    };
    let csv_rows = |res: &Resp| -> Vec<Vec<String>> {
        res.expect(200);
        assert!(res.body.starts_with("\u{feff}".as_bytes()));
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(&res.body[3..])
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect()
    };

    let models = csv_rows(&get(&format!("/api/v1/models?ancestor_id={}&sort=title", fx.id("P1")), "text/csv").await);
    assert_eq!(&models[0][..4], ["Tên mô hình, điển hình", "Đơn vị", "Đối tượng", "Họ và tên"]);
    assert_eq!(models.len(), 1 + 7);
    let individual = models.iter().find(|r| r[2] == "Cá nhân").expect("the individual model");
    assert_eq!(individual[1], "C1 – Xã Đồng Du", "units show as code and name");
    assert_eq!(individual[3], "Nguyễn Thị Hoa");
    assert_eq!(individual[7], "Vùng đồng bào dân tộc thiểu số; Vùng tôn giáo");

    // Spreadsheets page by up to 10,000 rows; the next page's cursor comes in a header.
    let first = get(&format!("/api/v1/models?ancestor_id={}&limit=5", fx.id("P1")), "text/csv").await;
    assert_eq!(csv_rows(&first).len(), 1 + 5);
    let cursor = first.header("x-next-cursor").expect("a next page");
    let rest = get(&format!("/api/v1/models?ancestor_id={}&limit=5&cursor={cursor}", fx.id("P1")), "text/csv").await;
    assert_eq!(csv_rows(&rest).len(), 1 + 2);
    assert!(rest.header("x-next-cursor").is_none());
    get("/api/v1/models?limit=10001", "text/csv").await.problem(400, "invalid_limit");
    get("/api/v1/models?limit=201", "application/json").await.problem(400, "invalid_limit");

    let units = get("/api/v1/units?lang=en", dvk::http::export::XLSX).await;
    let sheet = read_xlsx(&units.expect(200).body);
    assert_eq!(&sheet[0][..5], ["Code", "Name", "Short name", "Kind", "Level"]);
    assert_eq!(sheet.len(), 1 + 9, "P1 and its eight units");
    assert!(sheet.iter().any(|r| r[0] == "C1" && r[4] == "Commune" && r[6] == "D1 – Huyện Bình Lục"));

    for path in [
        "/api/v1/campaigns".to_string(),
        "/api/v1/evaluations".to_string(),
        "/api/v1/commendations".to_string(),
        "/api/v1/audit-events".to_string(),
        format!("/api/v1/models/{}/progress", p.recognised),
        format!("/api/v1/models/{}/replications", p.recognised),
    ] {
        let sheet = read_xlsx(&get(&path, dvk::http::export::XLSX).await.expect(200).body);
        assert!(!sheet[0].is_empty(), "{path} has a header row");
    }
    let commendations = csv_rows(&get("/api/v1/commendations", "text/csv").await);
    assert_eq!(commendations[1][0], "Giấy khen");
    assert_eq!(commendations[1][4], "D1 – Huyện Bình Lục");

    // The public list too, with no token.
    let public =
        app.request(actix_web::http::Method::GET, "/api/v1/public/models", None, &[("Accept", "text/csv")], None).await;
    let rows = csv_rows(&public);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][1], "Xã Đồng Du");
}

#[actix_web::test]
async fn counts_stay_exact_under_parallel_writes() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let p = province(&app, &fx).await;
    // Forty registrations and submissions at once, in four units, with crossing attributes: on
    // PostgreSQL they lock the same count rows of D1, P1 and VN.
    let units = ["C1", "C2", "V1", "P1-BASE"];
    let writes = (0..40).map(|i| {
        let (app, fx) = (&app, &fx);
        let unit = units[i % 4];
        let d1 = if unit == "P1-BASE" { p.top.clone() } else { p.d1.clone() };
        async move {
            let field = if i % 3 == 0 { "economy" } else { "culture_society" };
            let areas = if i % 2 == 0 { json!(["border"]) } else { json!(["border", "religious"]) };
            let body =
                model(&d1, unit, fx, json!({"field": field, "special_areas": areas, "year": 2024 + (i % 2) as i32}));
            let id = create(app, fx, unit, body).await;
            let editor = fx.token(app, unit, &["editor"]);
            act(app, &editor, &id, "submit", 1, json!({})).await.expect(200);
        }
    });
    futures_util::future::join_all(writes).await;
    assert_counts_match_a_recount(&app);
    let national =
        app.get(&format!("/api/v1/reports/models?{EVERY_STATUS}"), &app.root_admin()).await.expect(200).json();
    assert_eq!(national["total"], 8 + 40);
}

/// Issue 15 §4: labels follow the date of what they describe: a report of 2024 calls communes
/// "xã, phường, thị trấn", one of today "xã, phường, đặc khu".
#[actix_web::test]
async fn reports_label_levels_with_the_words_of_their_year() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    province(&app, &fx).await;
    let p1 = fx.token(&app, "P1", &["viewer"]);
    let level_labels = |r: &Value| -> Vec<String> {
        r["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row["groups"][0]["label"].as_str().unwrap().to_string())
            .collect()
    };
    let base = format!("/api/v1/reports/models?unit_id={}&group_by=level", fx.id("P1"));
    let of_2024 = app.get(&format!("{base}&year_to=2024"), &p1).await.expect(200).json();
    assert!(level_labels(&of_2024).contains(&"Xã, phường, thị trấn".to_string()), "{of_2024}");
    let today = app.get(&base, &p1).await.expect(200).json();
    assert!(level_labels(&today).contains(&"Xã, phường, đặc khu".to_string()), "{today}");
    assert!(!level_labels(&today).contains(&"Xã, phường, thị trấn".to_string()));
}
