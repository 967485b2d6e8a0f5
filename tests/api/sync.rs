//! Offline sync as a mobile app does it: `updated_since` pages over its subtree with writes in
//! between pages, tombstones for what ends, an offline write that conflicts (412 with the current
//! version), and bad sync points.

use std::collections::HashMap;

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::commendations::{decide, proposal, recognised};
use crate::helpers::*;
use crate::models::{act, district_campaign};

/// Pages `list` from `since` to the end, `limit` at a time, calling `between` after each page;
/// returns every item received, in order.
async fn sync_pass<F, Fut>(
    app: &TestApp,
    token: &str,
    list: &str,
    since: &str,
    limit: u32,
    mut between: F,
) -> Vec<Value>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut cursor: Option<String> = None;
    let mut seen = Vec::new();
    for page in 0.. {
        let mut path = format!("{list}?updated_since={since}&limit={limit}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let body = app.get(&path, token).await.expect(200).json();
        seen.extend(body["items"].as_array().unwrap().iter().cloned());
        between(page).await;
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    seen
}

/// The app's copy: the highest version of each id.
fn merge(copy: &mut HashMap<String, Value>, items: Vec<Value>) {
    for item in items {
        let id = item["id"].as_str().unwrap().to_string();
        let newer = copy.get(&id).is_none_or(|held| held["version"].as_i64() < item["version"].as_i64());
        if newer {
            copy.insert(id, item);
        }
    }
}

#[actix_web::test]
async fn a_sync_pass_loses_nothing_written_while_it_pages() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let campaign = district_campaign(&app, &fx).await;
    let c1 = fx.token(&app, "C1", &["editor"]);
    let model = |title: &str| {
        json!({"campaign_id": campaign, "title": title, "subject": "collective", "kind": "comprehensive",
               "registered_level": "district", "year": 2024})
    };
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(
            app.post("/api/v1/models", &c1, &model(&format!("Mô hình {i}"))).await.expect(201).json()["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let app_token = fx.token(&app, "D1", &["viewer"]);
    let since = "2020-01-01T00:00:00Z";
    // While the app pages two at a time, the commune changes a model it has already received,
    // withdraws one it has not, and registers a new one.
    let (app_ref, c1_ref, ids_ref) = (&app, &c1, &ids);
    let new_id = std::cell::RefCell::new(String::new());
    let new_ref = &new_id;
    let seen = sync_pass(&app, &app_token, "/api/v1/models", since, 2, |page| async move {
        if page == 0 {
            let path = format!("/api/v1/models/{}", ids_ref[0]);
            app_ref.patch(&path, c1_ref, "\"1\"", &json!({"objectives": "Sửa khi đang đồng bộ"})).await.expect(200);
            act(app_ref, c1_ref, &ids_ref[5], "withdraw", 1, json!({})).await.expect(200);
            let created = app_ref.post("/api/v1/models", c1_ref, &model("Mô hình mới")).await.expect(201).json();
            *new_ref.borrow_mut() = created["id"].as_str().unwrap().to_string();
        }
    })
    .await;
    let mut copy = HashMap::new();
    merge(&mut copy, seen);
    assert_eq!(copy.len(), 7, "every model, the new one included");
    assert_eq!(copy[&ids[0]]["objectives"], "Sửa khi đang đồng bộ", "the change made after it was received");
    assert_eq!(copy[&ids[5]]["status"], "withdrawn", "a withdrawn model is its own tombstone");
    assert!(copy.contains_key(&*new_id.borrow()));

    // The next pass starts at the latest change held, less the documented margin, and brings
    // only what changed since (here: nothing new, the margin's overlap is dropped by version).
    let latest = copy.values().map(|m| m["updated_at"].as_str().unwrap().to_string()).max().unwrap();
    let next_since = (chrono::DateTime::parse_from_rfc3339(&latest).unwrap() - chrono::Duration::seconds(60))
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let again = sync_pass(&app, &app_token, "/api/v1/models", &next_since.replace('+', "%2B"), 50, |_| async {}).await;
    let before = copy.clone();
    merge(&mut copy, again);
    assert_eq!(copy, before);

    // An offline write made on a stale copy: 412 with the current version, so the app can merge.
    let stale =
        app.patch(&format!("/api/v1/models/{}", ids[0]), &c1, "\"1\"", &json!({"title": "Sửa ngoại tuyến"})).await;
    let problem = stale.problem(412, "version_mismatch");
    assert_eq!(problem["current"]["version"], 2);
    assert_eq!(problem["current"]["objectives"], "Sửa khi đang đồng bộ");
}

#[actix_web::test]
async fn every_resource_syncs_with_its_tombstones() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let campaign = district_campaign(&app, &fx).await;
    let (model, evaluation) = recognised(&app, &fx, &campaign).await;
    let c1 = fx.token(&app, "C1", &["editor"]);
    let proposed = app
        .post("/api/v1/commendations", &c1, &proposal(&fx, &model, "giay_khen", "D1", "Ban Dân vận Huyện ủy"))
        .await
        .expect(201)
        .json();
    let attach = |title: &'static str| {
        let (app, c1, model) = (&app, c1.clone(), model.clone());
        async move {
            let path = format!("/api/v1/attachments?parent_type=model&parent_id={model}&title={title}&kind=document");
            let pdf = format!("%PDF-1.7\n{title}\n%%EOF\n").into_bytes();
            let res = app.request(Method::POST, &path, Some(&c1), &[], Some(("application/pdf", pdf))).await;
            res.expect(201).json()["id"].as_str().unwrap().to_string()
        }
    };
    let dropped = attach("cu").await;
    let start =
        (chrono::Utc::now() - chrono::Duration::seconds(1)).to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let since = start.replace('+', "%2B");
    // Changes after `since`: a unit closed, a campaign cancelled, a commendation revoked, an
    // evaluation superseded.
    let admin = fx.token(&app, "D1", &["admin"]);
    app.post_with(&format!("/api/v1/units/{}/close", fx.id("V1")), &admin, &[("If-Match", "\"1\"")], &json!({}))
        .await
        .expect(200);
    let d1 = fx.token(&app, "D1", &["editor", "reviewer", "approver"]);
    let spare = app
        .post("/api/v1/campaigns", &d1, &crate::campaigns::campaign("99-KH/HU", "2024-01-01", "2024-12-31", None))
        .await
        .expect(201)
        .json();
    app.post_with(
        &format!("/api/v1/campaigns/{}/cancel", spare["id"].as_str().unwrap()),
        &d1,
        &[("If-Match", "\"1\"")],
        &json!({}),
    )
    .await
    .expect(200);
    let revocation = json!({"reason": "Nhầm đối tượng"});
    decide(&app, &d1, proposed["id"].as_str().unwrap(), "revoke", 1, revocation).await.expect(200);
    let body = json!({"model_id": model, "review_kind": "annual", "year": 2024, "supersedes_id": evaluation,
                      "scores": [{"code": "TC1", "score": 40}, {"code": "TC2", "score": 40}]});
    app.post("/api/v1/evaluations", &d1, &body).await.expect(201);
    // An attachment deleted, another added.
    app.request(Method::DELETE, &format!("/api/v1/attachments/{dropped}"), Some(&c1), &[("If-Match", "\"1\"")], None)
        .await
        .expect(200);
    let added = attach("moi").await;

    let viewer = fx.token(&app, "D1", &["viewer"]);
    let changed = |list: &'static str| {
        let (app, viewer, since) = (&app, viewer.clone(), since.clone());
        async move { sync_pass(app, &viewer, list, &since, 50, |_| async {}).await }
    };
    let units = changed("/api/v1/units").await;
    assert!(units.iter().any(|u| u["code"] == "V1" && u["status"] == "closed"), "a closed unit is its own tombstone");
    let campaigns = changed("/api/v1/campaigns").await;
    assert!(campaigns.iter().any(|c| c["code"] == "99-KH/HU" && c["status"] == "cancelled"));
    let commendations = changed("/api/v1/commendations").await;
    assert_eq!(commendations.len(), 1);
    assert_eq!(commendations[0]["status"], "revoked");
    let evaluations = changed("/api/v1/evaluations").await;
    assert!(!evaluations.is_empty(), "the new draft evaluation");
    let attachments = changed("/api/v1/attachments").await;
    let tombstone = attachments.iter().find(|a| a["id"] == dropped.as_str()).expect("the deleted attachment");
    assert!(tombstone["deleted_at"].is_string(), "a deleted attachment is its own tombstone");
    assert!(attachments.iter().any(|a| a["id"] == added.as_str() && a["deleted_at"].is_null()));
    let models = changed("/api/v1/models").await;
    let counted = models.iter().find(|m| m["id"] == model.as_str()).expect("the model, whose count moved");
    assert_eq!(counted["attachment_count"], 1);

    // Sync points from the future, or a cursor claiming one, are refused.
    let future = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    app.get(&format!("/api/v1/models?updated_since={}", future.replace('+', "%2B")), &viewer)
        .await
        .problem(400, "invalid_updated_since");
    let forged = dvk::http::pagination::Cursor {
        sort: "updated_at".into(),
        key: Some("2999-01-01T00:00:00.000000".into()),
        id: "x".into(),
    };
    app.get(&format!("/api/v1/models?updated_since={since}&cursor={}", forged.encode()), &viewer)
        .await
        .problem(400, "invalid_cursor");
    // Compressed when asked: a mobile app on a slow line.
    let res =
        app.request(Method::GET, "/api/v1/units?limit=200", Some(&viewer), &[("Accept-Encoding", "br")], None).await;
    assert_eq!(res.expect(200).header("content-encoding").as_deref(), Some("br"));
}
