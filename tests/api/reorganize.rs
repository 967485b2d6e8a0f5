//! Imports and the 2025 reorganisation with the official files, and their refusals.

use serde_json::{json, Value};

use crate::helpers::*;

fn read(name: &str) -> String {
    std::fs::read_to_string(data_path(name)).unwrap()
}

async fn count(app: &TestApp, token: &str, query: &str) -> usize {
    let mut total = 0;
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("/api/v1/units?limit=200&{query}&cursor={c}"),
            None => format!("/api/v1/units?limit=200&{query}"),
        };
        let page = app.get(&url, token).await.expect(200).json();
        total += page["items"].as_array().unwrap().len();
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return total,
        }
    }
}

fn unit_id_by_code(page: &Value, code: &str) -> String {
    page["items"].as_array().unwrap().iter().find(|u| u["code"] == code).unwrap()["id"].as_str().unwrap().to_string()
}

#[actix_web::test]
async fn the_2024_lists_and_the_2025_reorganisation_give_the_counts_the_files_imply() {
    let app = TestApp::spawn().await;
    let t = app.root_admin();
    let import = app.post_csv("/api/v1/units/import", &t, &read("vn-units-2024.csv")).await.expect(200).json();
    assert_eq!(import, json!({"dry_run": false, "rows": 10810, "created": 10810, "updated": 0, "unchanged": 0}));
    let again = app.post_csv("/api/v1/units/import", &t, &read("vn-units-2024.csv")).await.expect(200).json();
    assert_eq!(again, json!({"dry_run": false, "rows": 10810, "created": 0, "updated": 0, "unchanged": 10810}));
    assert_eq!(count(&app, &t, "level=province").await, 63);
    assert_eq!(count(&app, &t, "level=district").await, 696);

    let body = json!({
        "effective_on": "2025-07-01",
        "units_csv": read("vn-units-2025.csv"),
        "successors_csv": read("vn-units-2025-successors.csv"),
    });
    let mut dry = body.clone();
    dry["dry_run"] = json!(true);
    let before = app.snapshot();
    let preview = app.post("/api/v1/units/reorganize", &t, &dry).await.expect(200).json();
    assert_eq!(app.snapshot(), before, "a dry run changes nothing");
    assert_eq!(preview["dry_run"], true);

    let report = app.post("/api/v1/units/reorganize", &t, &body).await.expect(200).json();
    // What the files imply: 1,154 predecessors carry on (27 provinces and 1,127 communes with the
    // same code, level and name), 1,127 of them move under a province; the other 9,593
    // predecessors close on the day with successors; 2,201 units are new; the 63 communes the
    // mapping does not name close with their districts.
    assert_eq!(
        report,
        json!({"dry_run": false, "effective_on": "2025-07-01", "continued": 1154, "moved": 1127, "created": 2201,
               "updated": 0, "closed": 9593, "closed_descendants": 63, "already_applied": 0})
    );
    let mut expected_preview = report.clone();
    expected_preview["dry_run"] = json!(true);
    assert_eq!(preview, expected_preview, "the dry run foretold it");
    assert_eq!(count(&app, &t, "status=active&level=province").await, 34);
    assert_eq!(count(&app, &t, "status=active&level=commune").await, 3321);
    assert_eq!(count(&app, &t, "status=active&level=district").await, 0);
    assert_eq!(count(&app, &t, "status=active").await, 3356);
    assert_eq!(count(&app, &t, "status=closed").await, 63 - 27 + 696 + 10051 - 1127);

    // A second identical run changes nothing.
    let after = app.snapshot();
    let second = app.post("/api/v1/units/reorganize", &t, &body).await.expect(200).json();
    assert_eq!(second["already_applied"], 9593);
    assert_eq!(
        (second["created"].as_u64(), second["closed"].as_u64(), second["moved"].as_u64()),
        (Some(0), Some(0), Some(0))
    );
    assert_eq!(app.snapshot(), after);

    // Hà Giang (02) merged into Tuyên Quang (08): closed, pointing at it, and readable.
    let closed = app.get("/api/v1/units?q=ha%20giang&level=province", &t).await.expect(200).json();
    let ha_giang = &closed["items"][0];
    assert_eq!((ha_giang["code"].as_str(), ha_giang["status"].as_str()), (Some("02"), Some("closed")));
    assert_eq!(ha_giang["closed_on"], "2025-07-01");
    let provinces = app.get("/api/v1/units?level=province&status=active&limit=200", &t).await.expect(200).json();
    let tuyen_quang = unit_id_by_code(&provinces, "08");
    assert_eq!(ha_giang["primary_successor_id"], tuyen_quang.as_str());
    // The new province's people see what its predecessors were, when they ask for it.
    let tq = app.token("08", "province", &["viewer"]);
    let own = count(&app, &tq, &format!("ancestor_id={tuyen_quang}")).await;
    let with_predecessors = count(&app, &tq, &format!("ancestor_id={tuyen_quang}&include_predecessors=true")).await;
    assert!(with_predecessors > own, "{with_predecessors} > {own}");
    app.get(&format!("/api/v1/units/{}", ha_giang["id"].as_str().unwrap()), &tq).await.expect(200);
    // A token of a closed province no longer works.
    app.get("/api/v1/units", &app.token("02", "province", &["viewer"])).await.problem(401, "unit_closed");
}

#[actix_web::test]
async fn a_file_with_one_bad_row_changes_nothing_and_names_the_row() {
    let app = TestApp::spawn().await;
    let t = app.root_admin();
    let before = app.snapshot();
    let csv = "code,name,level,division_type,parent_code\n01,Thành phố Hà Nội,province,thành phố trung ương,\n001,Quận Ba Đình,district,quận,01\n00001,Phường Phúc Xá,hamlet,phường,001\n00004,,commune,phường,001\n00007,Phường X,commune,phường,999\n";
    let problem = app.post_csv("/api/v1/units/import", &t, csv).await.problem(422, "invalid_file");
    let errors = problem["errors"].as_array().unwrap();
    let at = |row: u64, field: &str| errors.iter().any(|e| e["row"] == row && e["field"] == field);
    assert!(at(4, "level"), "{problem}");
    assert!(at(5, "name"), "{problem}");
    assert_eq!(app.snapshot(), before);
    // Once the rows are good, a parent that is nowhere is named too.
    let csv = "code,name,level,division_type,parent_code\n01,Thành phố Hà Nội,province,thành phố trung ương,\n00007,Phường X,commune,phường,999\n";
    let problem = app.post_csv("/api/v1/units/import", &t, csv).await.problem(422, "invalid_file");
    assert_eq!(problem["errors"][0]["row"], 3);
    assert_eq!(problem["errors"][0]["field"], "parent_code");
    assert_eq!(problem["errors"][0]["code"], "unknown_parent");
    // Other refusals.
    app.post_csv("/api/v1/units/import", &t, "name,level\nx,province\n").await.problem(422, "invalid_file");
    app.post_csv("/api/v1/units/import", &t, "code,name,level,division_type,parent_code\n")
        .await
        .problem(422, "empty_file");
    app.post_csv(
        "/api/v1/units/import",
        &t,
        "code,name,level,division_type,parent_code\nA,B,province,,\nA,C,province,,\n",
    )
    .await
    .problem(422, "invalid_file");
    app.post_csv(
        "/api/v1/units/import",
        &t,
        "code,name,level,division_type,parent_code\nA,B,province,,B\nB,C,district,,A\n",
    )
    .await
    .problem(422, "invalid_file");
    let not_utf8 = app
        .request(
            actix_web::http::Method::POST,
            "/api/v1/units/import",
            Some(&t),
            &[],
            Some(("text/csv", vec![0xff, 0xfe, 0x00, 0x41])),
        )
        .await;
    not_utf8.problem(422, "invalid_encoding");
    let json_body = app.post("/api/v1/units/import", &t, &json!({"code": "A"})).await;
    json_body.problem(415, "unsupported_media_type");
    assert_eq!(app.snapshot(), before);
}

#[actix_web::test]
async fn imports_and_reorganisations_stay_within_the_admins_subtree() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let before = app.snapshot();
    let p1_admin = fx.token(&app, "P1", &["admin"]);
    // Rows with no parent go under the importer's own unit; others' units are out of reach.
    let ok = app
        .post_csv(
            "/api/v1/units/import",
            &p1_admin,
            "code,name,level,division_type,parent_code\nD9,Huyện Mới,district,huyện,\n",
        )
        .await;
    assert_eq!(ok.expect(200).json()["created"], 1);
    let d9 = app.get("/api/v1/units?q=D9", &p1_admin).await.expect(200).json();
    assert_eq!(d9["items"][0]["parent_id"], fx.id("P1"));
    let theirs = app
        .post_csv(
            "/api/v1/units/import",
            &p1_admin,
            "code,name,level,division_type,parent_code\nP2C1,Phường Khác,commune,phường,P2\n",
        )
        .await;
    let problem = theirs.problem(422, "invalid_file");
    assert_eq!(problem["errors"][0]["code"], "outside_scope");
    let rename_own = app
        .post_csv(
            "/api/v1/units/import",
            &p1_admin,
            "code,name,level,division_type,parent_code\nP1,Tỉnh Khác,province,tỉnh,\n",
        )
        .await;
    assert_eq!(rename_own.problem(422, "invalid_file")["errors"][0]["code"], "outside_scope");
    app.post_csv(
        "/api/v1/units/import",
        &fx.token(&app, "P1", &["editor"]),
        "code,name,level,division_type,parent_code\nD8,X,district,,\n",
    )
    .await
    .problem(403, "missing_role");
    let reorg = json!({"effective_on": "2025-07-01", "units_csv": "code,name,level,division_type,parent_code\nP2C9,Phường Mới,commune,phường,P2\n",
                       "successors_csv": "legacy_code,successor_code,is_primary\nP2C1,P2C9,1\n"});
    let problem = app.post("/api/v1/units/reorganize", &p1_admin, &reorg).await.problem(422, "invalid_file");
    assert!(
        problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["code"] == "outside_scope" || e["code"] == "unknown_parent"),
        "{problem}"
    );
    app.post("/api/v1/units/reorganize", &fx.token(&app, "P1", &["viewer"]), &reorg).await.problem(403, "missing_role");
    let mut bad = reorg.clone();
    bad["effective_on"] = json!("01/07/2025");
    app.post("/api/v1/units/reorganize", &app.root_admin(), &bad).await.problem(422, "validation_failed");
    let _ = before;
}

#[actix_web::test]
async fn a_split_names_one_primary_successor() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let t = app.root_admin();
    let units = "code,name,level,division_type,parent_code\nP2C3,Phường Bắc,commune,phường,P2\nP2C4,Phường Nam,commune,phường,P2\n";
    let none_primary = json!({"effective_on": "2025-07-01", "units_csv": units,
        "successors_csv": "legacy_code,successor_code,is_primary\nP2C1,P2C3,0\nP2C1,P2C4,0\n"});
    let before = app.snapshot();
    let problem = app.post("/api/v1/units/reorganize", &t, &none_primary).await.problem(422, "invalid_file");
    assert_eq!(problem["errors"][0]["code"], "one_primary");
    assert_eq!(app.snapshot(), before);
    let split = json!({"effective_on": "2025-07-01", "units_csv": units,
        "successors_csv": "legacy_code,successor_code,is_primary\nP2C1,P2C3,1\nP2C1,P2C4,0\n"});
    let report = app.post("/api/v1/units/reorganize", &t, &split).await.expect(200).json();
    assert_eq!((report["closed"].as_u64(), report["created"].as_u64()), (Some(1), Some(2)));
    let old = app.get(&format!("/api/v1/units/{}", fx.id("P2C1")), &t).await.expect(200).json();
    assert_eq!(old["status"], "closed");
    assert_eq!(old["successor_ids"].as_array().unwrap().len(), 2);
    let primary = app
        .get(&format!("/api/v1/units/{}", old["primary_successor_id"].as_str().unwrap()), &t)
        .await
        .expect(200)
        .json();
    assert_eq!(primary["code"], "P2C3");
}

/// Issue 15 §2: district D1's 2023–2025 plan, with targets "every commune issues a plan" and
/// "more than half the communes build a model", is reviewed by the province after the 2025
/// reorganisation closed D1: its communes are the ones it had, as of 2024-12-31 and as of
/// 2025-12-31 alike, and the province's editors finish the plan.
#[actix_web::test]
async fn a_district_plan_is_reviewed_after_the_district_closed() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let top = crate::campaigns::launched(
        &app,
        &fx,
        "P1",
        &crate::campaigns::campaign("07-KH/TU", "2023-01-01", "2025-12-31", None),
    )
    .await;
    let mut plan = crate::campaigns::campaign("12-KH/HU", "2023-03-01", "2025-12-31", top["id"].as_str());
    plan["issued_on"] = json!("2023-03-01");
    plan["targets"] = json!([
        {"metric": "units_with_plan_ratio", "level": "commune", "threshold": 1.0},
        {"metric": "units_with_model_ratio", "level": "commune", "threshold": 0.5, "comparison": "gt"}
    ]);
    let d1_plan = crate::campaigns::launched(&app, &fx, "D1", &plan).await;
    let d1_plan_id = d1_plan["id"].as_str().unwrap().to_string();
    let mut c1_plan = crate::campaigns::campaign("01-KH/ĐU", "2023-04-01", "2025-12-31", Some(&d1_plan_id));
    c1_plan["issued_on"] = json!("2023-04-01");
    crate::campaigns::launched(&app, &fx, "C1", &c1_plan).await;
    let c1 = fx.token(&app, "C1", &["editor"]);
    let model = json!({"campaign_id": d1_plan_id, "title": "Dân vận khéo xây dựng nông thôn mới", "subject": "collective",
                       "kind": "comprehensive", "registered_level": "district", "year": 2024, "registered_on": "2024-03-01"});
    let m = app.post("/api/v1/models", &c1, &model).await.expect(201).json();
    crate::models::act(&app, &c1, m["id"].as_str().unwrap(), "submit", 1, json!({})).await.expect(200);

    // 1 July 2025: the districts close into the province; C1 carries on under it; C2 and C3 merge.
    let reorg = json!({
        "effective_on": "2025-07-01",
        "units_csv": "code,name,level,division_type,parent_code\nP1,Tỉnh Hà Nam Cũ,province,tỉnh,\n\
                      C1,Xã Đồng Du,commune,xã,P1\nCN1,Xã Đồng An,commune,xã,P1\n",
        "successors_csv": "legacy_code,successor_code,is_primary\nD1,P1,1\nD2,P1,1\nC2,CN1,1\nC3,CN1,1\n",
    });
    app.post("/api/v1/units/reorganize", &app.root_admin(), &reorg).await.expect(200);
    app.state.unit_cache.clear();
    app.get("/api/v1/units", &fx.token(&app, "D1", &["viewer"])).await.problem(401, "unit_closed");

    // The province's viewer reviews the district's plan: D1 had two communes, C1 and C2.
    let p1 = fx.token(&app, "P1", &["viewer"]);
    let targets = |q: &str| format!("/api/v1/reports/campaigns/{d1_plan_id}/targets?{q}");
    for (q, as_of, structure_on) in
        [("as_of=2024-12-31", "2024-12-31", "2024-12-31"), ("as_of=2025-12-31", "2025-12-31", "2025-06-30")]
    {
        let r = app.get(&targets(q), &p1).await.expect(200).json();
        assert_eq!((r["as_of"].as_str(), r["structure_on"].as_str()), (Some(as_of), Some(structure_on)));
        let plans = &r["targets"][0];
        assert_eq!((plans["numerator"].as_i64(), plans["denominator"].as_i64()), (Some(1), Some(2)), "{q}: {r}");
        let models = &r["targets"][1];
        assert_eq!((models["numerator"].as_i64(), models["denominator"].as_i64()), (Some(1), Some(2)), "{q}");
        assert_eq!(models["comparison"], "gt");
        assert_eq!(models["met"], false, "1 of 2 is not more than half");
    }
    // A year asks for its 31 December; the predecessors' records are asked for by name.
    let in_2024 = app.get(&targets("year=2024"), &p1).await.expect(200).json();
    assert_eq!(in_2024["as_of"], "2024-12-31");
    assert_eq!(in_2024["targets"][0]["denominator"], 2);
    app.get(&targets("include_predecessors=true&as_of=2025-12-31"), &p1).await.expect(200);
    // As of 2022, C1 had not issued its plan yet.
    let early = app.get(&targets("as_of=2022-12-31"), &p1).await.expect(200).json();
    assert_eq!(early["targets"][0]["numerator"], 0);

    // Lists reach the closed district's plans from the province, when asked.
    let own = app.get(&format!("/api/v1/campaigns?unit_id={}", fx.id("P1")), &p1).await.expect(200).json();
    assert!(own["items"].as_array().unwrap().iter().all(|c| c["id"] != d1_plan_id.as_str()));
    let with = app.get(&format!("/api/v1/campaigns?unit_id={}&include_predecessors=true", fx.id("P1")), &p1).await;
    assert!(with.expect(200).json()["items"].as_array().unwrap().iter().any(|c| c["id"] == d1_plan_id.as_str()));

    // The closed district's plan is in the province's care: its editors close it.
    let p1_editor = fx.token(&app, "P1", &["editor"]);
    let version = d1_plan["version"].as_i64().unwrap();
    let res = app
        .post_with(
            &format!("/api/v1/campaigns/{d1_plan_id}/close"),
            &p1_editor,
            &[("If-Match", &format!("\"{version}\""))],
            &json!({}),
        )
        .await;
    assert_eq!(res.expect(200).json()["status"], "closed");
    // Not another province's.
    let p2_editor = fx.token(&app, "P2", &["editor"]);
    let res = app
        .post_with(
            &format!("/api/v1/campaigns/{}/close", top["id"].as_str().unwrap()),
            &p2_editor,
            &[("If-Match", "\"2\"")],
            &json!({}),
        )
        .await;
    assert!(matches!(res.status, 403 | 404), "{}", res.text());
}

/// Issue 15 §2: a target counts the records as they stood on its day. District D1's 2023–2025
/// plan: C1 and C2 issued their plans in 2023, and C2 cancelled its plan this year; C1's model,
/// registered in 2024, was withdrawn this year; C2's 2024 model was returned this year and its
/// 2025 model registered on 1 September 2025. Each day sees what was true on it.
#[actix_web::test]
async fn a_target_counts_the_records_as_they_stood_on_its_day() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let mut plan = crate::campaigns::campaign("12-KH/HU", "2023-01-01", "2025-12-31", None);
    plan["issued_on"] = json!("2023-03-01");
    plan["targets"] = json!([
        {"metric": "units_with_plan_ratio", "level": "commune", "threshold": 1.0},
        {"metric": "units_with_model_ratio", "level": "commune", "threshold": 1.0},
        {"metric": "models_per_unit_per_year", "threshold": 1}
    ]);
    let d1_plan = crate::campaigns::launched(&app, &fx, "D1", &plan).await;
    let d1_plan_id = d1_plan["id"].as_str().unwrap().to_string();
    for (unit, code, issued) in [("C1", "01-KH/ĐU", "2023-04-01"), ("C2", "02-KH/ĐU", "2023-05-01")] {
        let mut commune_plan = crate::campaigns::campaign(code, "2023-04-01", "2025-12-31", Some(&d1_plan_id));
        commune_plan["issued_on"] = json!(issued);
        let launched = crate::campaigns::launched(&app, &fx, unit, &commune_plan).await;
        if unit == "C2" {
            let cancel = format!("/api/v1/campaigns/{}/cancel", launched["id"].as_str().unwrap());
            let editor = fx.token(&app, "C2", &["editor"]);
            app.post_with(&cancel, &editor, &[("If-Match", "\"2\"")], &json!({})).await.expect(200);
        }
    }
    let registered = |unit: &'static str, year: i32, on: &'static str| {
        let (app, fx, campaign) = (&app, &fx, d1_plan_id.clone());
        async move {
            let editor = fx.token(app, unit, &["editor"]);
            let body = json!({"campaign_id": campaign, "unit_id": fx.id(unit), "title": format!("Mô hình {unit} {year}"),
                              "subject": "collective", "kind": "comprehensive", "registered_level": "district",
                              "year": year, "registered_on": on});
            let m = app.post("/api/v1/models", &editor, &body).await.expect(201).json();
            let id = m["id"].as_str().unwrap().to_string();
            crate::models::act(app, &editor, &id, "submit", 1, json!({})).await.expect(200);
            id
        }
    };
    let withdrawn = registered("C1", 2024, "2024-03-01").await;
    let c1 = fx.token(&app, "C1", &["editor"]);
    crate::models::act(&app, &c1, &withdrawn, "withdraw", 2, json!({})).await.expect(200);
    let returned = registered("C2", 2024, "2024-06-01").await;
    let d1 = fx.token(&app, "D1", &["reviewer"]);
    crate::models::act(&app, &d1, &returned, "return", 2, json!({"comment": "Bổ sung số liệu"})).await.expect(200);
    registered("C2", 2025, "2025-09-01").await;

    let viewer = fx.token(&app, "D1", &["viewer"]);
    let figures = |q: &'static str| {
        let (app, viewer, id) = (&app, &viewer, d1_plan_id.clone());
        async move {
            let r = app.get(&format!("/api/v1/reports/campaigns/{id}/targets?{q}"), viewer).await.expect(200).json();
            let t = |i: usize| {
                (r["targets"][i]["numerator"].as_i64().unwrap(), r["targets"][i]["denominator"].as_i64().unwrap())
            };
            [t(0), t(1), t(2)]
        }
    };
    // 31 December 2024: both plans stood, and both communes had a registered model; two models
    // over 2023–2024 for the district.
    assert_eq!(figures("as_of=2024-12-31").await, [(2, 2), (2, 2), (2, 2)]);
    // 30 June 2025: C2's 2025 model was not registered yet.
    assert_eq!(figures("as_of=2025-06-30").await, [(2, 2), (2, 2), (2, 3)]);
    // 31 December 2025: all three models stood.
    assert_eq!(figures("as_of=2025-12-31").await, [(2, 2), (2, 2), (3, 3)]);
    // Today: C2's plan is cancelled, C1's model withdrawn and C2's 2024 model returned.
    assert_eq!(figures("").await, [(1, 2), (1, 2), (1, 3)]);
    // A model still in draft with a registration date given in advance counts for no day.
    let editor = fx.token(&app, "C1", &["editor"]);
    let draft = json!({"campaign_id": d1_plan_id, "title": "Mô hình chưa gửi", "subject": "collective",
                       "kind": "comprehensive", "registered_level": "district", "year": 2024, "registered_on": "2024-01-10"});
    app.post("/api/v1/models", &editor, &draft).await.expect(201);
    assert_eq!(figures("as_of=2024-12-31").await, [(2, 2), (2, 2), (2, 2)]);
}
