//! Webhooks through the API, to a receiver on 127.0.0.1: delivery, Standard Webhooks signatures,
//! retry after a failure, order per resource, the deliveries log and replay; nothing for a change
//! that failed; bad URLs refused.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use actix_web::http::Method;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::{json, Value};

use crate::commendations::recognised;
use crate::helpers::*;
use crate::models::{act, district_campaign};

#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
    pub answered: u16,
}

struct ReceiverState {
    got: Mutex<Vec<Received>>,
    seen: AtomicUsize,
    fail_first: usize,
    /// Hold the first request until `release`, then answer it 500: a receiver slower than a lease.
    hold_first: bool,
    release: tokio::sync::Notify,
    arrived: tokio::sync::Notify,
}

pub struct Receiver {
    pub url: String,
    state: web::Data<ReceiverState>,
}

impl Receiver {
    /// A receiver that answers 500 to its first `fail_first` requests, then 204.
    pub async fn start(fail_first: usize) -> Receiver {
        Self::start_with(fail_first, false).await
    }

    /// A receiver that holds its first request until `release`, then answers it 500; it answers
    /// the others at once, 500 to the first `fail_first` of all, then 204.
    pub async fn start_holding_first(fail_first: usize) -> Receiver {
        Self::start_with(fail_first, true).await
    }

    async fn start_with(fail_first: usize, hold_first: bool) -> Receiver {
        let state = web::Data::new(ReceiverState {
            got: Mutex::new(vec![]),
            seen: AtomicUsize::new(0),
            fail_first,
            hold_first,
            release: tokio::sync::Notify::new(),
            arrived: tokio::sync::Notify::new(),
        });
        let shared = state.clone();
        let server = HttpServer::new(move || {
            App::new().app_data(shared.clone()).default_service(web::to(
                |req: HttpRequest, body: web::Bytes, s: web::Data<ReceiverState>| async move {
                    let n = s.seen.fetch_add(1, Ordering::SeqCst);
                    s.arrived.notify_one();
                    let held = s.hold_first && n == 0;
                    if held {
                        s.release.notified().await;
                    }
                    let answered = if n < s.fail_first || held { 500 } else { 204 };
                    let header = |name: &str| {
                        req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
                    };
                    s.got.lock().unwrap().push(Received {
                        id: header("webhook-id"),
                        timestamp: header("webhook-timestamp"),
                        signature: header("webhook-signature"),
                        body: String::from_utf8_lossy(&body).into_owned(),
                        answered,
                    });
                    HttpResponse::build(actix_web::http::StatusCode::from_u16(answered).unwrap()).finish()
                },
            ))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let port = server.addrs()[0].port();
        actix_web::rt::spawn(server.run());
        Receiver { url: format!("http://127.0.0.1:{port}/hooks/dvk"), state }
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.got.lock().unwrap().clone()
    }

    /// Waits for the next request to arrive.
    pub async fn arrival(&self) {
        self.state.arrived.notified().await
    }

    /// Lets the held first request be answered.
    pub fn release(&self) {
        self.state.release.notify_one()
    }
}

/// A service whose retries wait nothing, so that a test steps through them at once.
async fn quick_app() -> TestApp {
    TestApp::spawn_with(|c| {
        c.webhook_retry_secs = vec![0, 0];
        // The receiver listens on loopback, which only an operator's setting lets through.
        c.webhook_allow_networks = dvk::webhooks::network::NetworkPolicy::parse("127.0.0.0/8").unwrap();
    })
    .await
}

async fn subscribe(app: &TestApp, fx: &Fixture, unit: &str, url: &str, events: Value) -> Value {
    let admin = fx.token(app, unit, &["admin"]);
    app.post("/api/v1/webhooks", &admin, &json!({"url": url, "events": events})).await.expect(201).json()
}

#[actix_web::test]
async fn events_arrive_signed_in_order_and_retried() {
    let app = quick_app().await;
    let fx = Fixture::load(&app).await;
    let receiver = Receiver::start(1).await;
    let created = subscribe(
        &app,
        &fx,
        "P1",
        &receiver.url,
        json!(["model.registered", "model.recognized", "commendation.issued"]),
    )
    .await;
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    let hook = created["webhook"]["id"].as_str().unwrap().to_string();

    // Registered, then recognised: the first delivery fails once, and the second waits for it.
    let campaign = district_campaign(&app, &fx).await;
    let (model, _) = recognised(&app, &fx, &campaign).await;
    assert_eq!(app.deliver_all_due().await, 3);
    let got = receiver.received();
    let bodies: Vec<Value> = got.iter().map(|r| serde_json::from_str(&r.body).unwrap()).collect();
    let order: Vec<(&str, u16)> =
        bodies.iter().zip(&got).map(|(b, r)| (b["type"].as_str().unwrap(), r.answered)).collect();
    assert_eq!(order, [("model.registered", 500), ("model.registered", 204), ("model.recognized", 204)]);
    assert_eq!(got[0].id, got[1].id, "a retry is the same message");
    assert_ne!(got[1].id, got[2].id);
    assert_eq!(bodies[2]["data"]["id"], model.as_str());
    assert_eq!(bodies[2]["data"]["object"]["status"], "recognized");
    // Each signature verifies with the secret, over id, timestamp and body.
    for r in &got {
        let ts: i64 = r.timestamp.parse().unwrap();
        assert!((chrono::Utc::now().timestamp() - ts).abs() < 300);
        assert_eq!(r.signature, dvk::webhooks::delivery::sign(&secret, &r.id, ts, &r.body));
        let tampered = r.body.replace("model", "m0del");
        assert_ne!(r.signature, dvk::webhooks::delivery::sign(&secret, &r.id, ts, &tampered));
    }

    // The log shows both, with their attempts; a replay sends the same message again.
    let admin = fx.token(&app, "P1", &["admin"]);
    let log = app.get(&format!("/api/v1/webhooks/{hook}/deliveries"), &admin).await.expect(200).json();
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!((items[1]["event_type"].as_str(), items[1]["attempts"].as_i64()), (Some("model.registered"), Some(2)));
    assert_eq!(items[1]["status"], "delivered");
    assert_eq!(items[1]["last_status"], 204);
    let first = items[1]["id"].as_str().unwrap();
    let replay = app.post(&format!("/api/v1/webhooks/{hook}/deliveries/{first}/replay"), &admin, &json!({})).await;
    assert_eq!(replay.expect(202).json()["status"], "pending");
    assert_eq!(app.deliver_all_due().await, 1);
    let got = receiver.received();
    assert_eq!(got[3].id, got[0].id);

    // A change that fails queues nothing; events outside the subtree are not sent.
    let c1 = fx.token(&app, "C1", &["editor"]);
    act(&app, &c1, &model, "submit", 99, json!({})).await.expect(412);
    let p2 = crate::campaigns::launched(
        &app,
        &fx,
        "P2",
        &crate::campaigns::campaign("01-KH/LS", "2024-01-01", "2025-12-31", None),
    )
    .await;
    let p2c1 = fx.token(&app, "P2C1", &["editor"]);
    let body = json!({"campaign_id": p2["id"], "title": "Ngoài tỉnh", "subject": "collective", "kind": "comprehensive",
                      "registered_level": "province", "year": 2024});
    let m = app.post("/api/v1/models", &p2c1, &body).await.expect(201).json();
    act(&app, &p2c1, m["id"].as_str().unwrap(), "submit", 1, json!({})).await.expect(200);
    assert_eq!(app.deliver_all_due().await, 0, "nothing was queued for the subscriber");
    assert_eq!(receiver.received().len(), 4);
    let log = app.get(&format!("/api/v1/webhooks/{hook}/deliveries"), &admin).await.expect(200).json();
    assert_eq!(log["items"].as_array().unwrap().len(), 3);
}

#[actix_web::test]
async fn a_delivery_fails_for_good_after_its_schedule() {
    let app = quick_app().await;
    let fx = Fixture::load(&app).await;
    let receiver = Receiver::start(usize::MAX).await;
    let created = subscribe(&app, &fx, "D1", &receiver.url, json!(["model.registered"])).await;
    let hook = created["webhook"]["id"].as_str().unwrap().to_string();
    let campaign = district_campaign(&app, &fx).await;
    let c1 = fx.token(&app, "C1", &["editor"]);
    let body = json!({"campaign_id": campaign, "title": "Thử", "subject": "collective", "kind": "comprehensive",
                      "registered_level": "district", "year": 2024});
    let m = app.post("/api/v1/models", &c1, &body).await.expect(201).json();
    act(&app, &c1, m["id"].as_str().unwrap(), "submit", 1, json!({})).await.expect(200);
    assert_eq!(app.deliver_all_due().await, 3, "the first try and two retries, then no more");
    let admin = fx.token(&app, "D1", &["admin"]);
    let log = app.get(&format!("/api/v1/webhooks/{hook}/deliveries?status=failed"), &admin).await.expect(200).json();
    assert_eq!(log["items"][0]["attempts"], 3, "the first try and two retries");
    assert_eq!(log["items"][0]["last_status"], 500);
    assert!(log["items"][0]["next_attempt_at"].is_null());
    assert_eq!(receiver.received().len(), 3);
}

#[actix_web::test]
async fn bad_subscriptions_are_refused() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let admin = fx.token(&app, "P1", &["admin"]);
    let post = |body: Value| {
        let (app, admin) = (&app, admin.clone());
        async move { app.post("/api/v1/webhooks", &admin, &body).await }
    };
    let p = post(json!({"url": "ftp://portal.example/hook", "events": ["model.registered"]})).await;
    assert_eq!(p.problem(422, "validation_failed")["errors"][0]["code"], "invalid_url");
    let own = format!("{}/api/v1/units", app.base);
    let p = post(json!({"url": own, "events": ["model.registered"]})).await;
    assert_eq!(p.problem(422, "validation_failed")["errors"][0]["code"], "self_url");
    let p = post(json!({"url": "https://user:pw@portal.example/hook", "events": ["model.registered"]})).await;
    assert_eq!(p.problem(422, "validation_failed")["errors"][0]["code"], "invalid_url");
    post(json!({"url": "https://portal.example/hook", "events": ["model.deleted"]}))
        .await
        .problem(422, "validation_failed");
    post(json!({"url": "https://portal.example/hook", "events": []})).await.problem(422, "validation_failed");
    let outside = json!({"url": "https://portal.example/hook", "events": ["model.registered"], "unit_id": fx.id("P2")});
    post(outside).await.problem(422, "validation_failed");
    let ok =
        post(json!({"url": "https://portal.example/hook", "events": ["model.registered"]})).await.expect(201).json();
    let path = format!("/api/v1/webhooks/{}", ok["webhook"]["id"].as_str().unwrap());
    app.get(&path, &fx.token(&app, "P1", &["viewer"])).await.problem(403, "missing_role");
    app.get(&path, &fx.token(&app, "P2", &["admin"])).await.problem(404, "not_found");
    let read = app.get(&path, &admin).await;
    assert!(!read.expect(200).text().contains("whsec_"), "the secret is shown once");
    let off = app.patch(&path, &admin, "\"1\"", &json!({"status": "disabled"})).await.expect(200).json();
    assert_eq!(off["status"], "disabled");
}

/// Every event type a subscription may ask for is sent, each for the record it names: the
/// province's subscriber hears of a campaign launched, models registered, recognised and not
/// recognised, commendations and decisions issued and revoked, and the tree reorganised.
#[actix_web::test]
async fn every_event_type_is_delivered() {
    let app = quick_app().await;
    let fx = Fixture::load(&app).await;
    let receiver = Receiver::start(0).await;
    let all = json!([
        "campaign.launched",
        "model.registered",
        "model.recognized",
        "model.not_recognized",
        "commendation.issued",
        "commendation.revoked",
        "decision.issued",
        "decision.revoked",
        "unit.reorganized",
        "attachment.added",
        "attachment.deleted"
    ]);
    subscribe(&app, &fx, "P1", &receiver.url, all.clone()).await;

    // A campaign launched (and the district's), a model registered and recognised.
    let campaign = district_campaign(&app, &fx).await;
    let (recognised_model, _) = recognised(&app, &fx, &campaign).await;
    // Another registered, accepted and not recognised.
    let c1 = fx.token(&app, "C1", &["editor"]);
    let d1 = fx.token(&app, "D1", &["reviewer", "approver"]);
    let body = json!({"campaign_id": campaign, "title": "Chưa đạt", "subject": "collective", "kind": "comprehensive",
                      "registered_level": "district", "year": 2024});
    let other = app.post("/api/v1/models", &c1, &body).await.expect(201).json()["id"].as_str().unwrap().to_string();
    act(&app, &c1, &other, "submit", 1, json!({})).await.expect(200);
    act(&app, &d1, &other, "accept", 2, json!({})).await.expect(200);
    let e = json!({"model_id": other, "review_kind": "annual", "year": 2024, "verdict": "fail",
                   "decision": "not_recognize", "scores": [{"code": "TC1", "score": 20}, {"code": "TC2", "score": 20}]});
    let e = app.post("/api/v1/evaluations", &d1, &e).await.expect(201).json()["id"].as_str().unwrap().to_string();
    crate::evaluations::finalize(&app, &d1, &e, 1).await.expect(200);
    // A commendation issued alone (its decision with it), then the decision revoked.
    let proposal = crate::commendations::proposal(&fx, &recognised_model, "giay_khen", "D1", "Ban Dân vận Huyện ủy");
    let commendation =
        app.post("/api/v1/commendations", &c1, &proposal).await.expect(201).json()["id"].as_str().unwrap().to_string();
    let issued = crate::commendations::decide(
        &app,
        &d1,
        &commendation,
        "issue",
        1,
        json!({"decision_number": "9-QĐ/HU", "decided_on": "2025-01-15"}),
    )
    .await;
    let decision = issued.expect(200).json()["decision_id"].as_str().unwrap().to_string();
    let current = app.get(&format!("/api/v1/decisions/{decision}"), &d1).await.expect(200).json();
    let revoke = json!({"reason": "Sai thẩm quyền", "number": "10-QĐ/HU", "decided_on": "2025-02-01"});
    let etag = format!("\"{}\"", current["version"]);
    app.post_with(&format!("/api/v1/decisions/{decision}/revoke"), &d1, &[("If-Match", &etag)], &revoke)
        .await
        .expect(200);
    // A photo of the recognised model attached, and another deleted.
    let photo_at =
        format!("/api/v1/attachments?parent_type=model&parent_id={recognised_model}&title=Anh&kind=document");
    let pdf = b"%PDF-1.7\n%%EOF\n".to_vec();
    let kept = app.request(Method::POST, &photo_at, Some(&c1), &[], Some(("application/pdf", pdf.clone()))).await;
    let kept = kept.expect(201).json()["id"].as_str().unwrap().to_string();
    let dropped = app.request(Method::POST, &photo_at, Some(&c1), &[], Some(("application/pdf", pdf))).await;
    let dropped = dropped.expect(201).json()["id"].as_str().unwrap().to_string();
    app.request(Method::DELETE, &format!("/api/v1/attachments/{dropped}"), Some(&c1), &[("If-Match", "\"1\"")], None)
        .await
        .expect(200);
    // A commune closed into another.
    let admin = fx.token(&app, "P1", &["admin"]);
    let close = json!({"closed_on": "2025-07-01", "successors": [{"unit_id": fx.id("C1"), "is_primary": true}]});
    app.post_with(&format!("/api/v1/units/{}/close", fx.id("C2")), &admin, &[("If-Match", "\"1\"")], &close)
        .await
        .expect(200);

    app.deliver_all_due().await;
    let bodies: Vec<Value> = receiver.received().iter().map(|r| serde_json::from_str(&r.body).unwrap()).collect();
    let of = |t: &str| bodies.iter().filter(|b| b["type"] == t).map(|b| b["data"].clone()).collect::<Vec<_>>();
    for t in all.as_array().unwrap() {
        assert!(
            !of(t.as_str().unwrap()).is_empty(),
            "no {t} among {:?}",
            bodies.iter().map(|b| &b["type"]).collect::<Vec<_>>()
        );
    }
    assert_eq!(of("campaign.launched").len(), 2, "the province's campaign and the district's");
    assert!(of("campaign.launched")
        .iter()
        .any(|d| d["id"] == campaign.as_str() && d["object"]["campaign"]["status"] == "active"));
    assert_eq!(of("model.registered").len(), 2);
    assert_eq!(of("model.recognized")[0]["id"], recognised_model.as_str());
    assert_eq!(of("model.not_recognized")[0]["object"]["status"], "not_recognized");
    assert_eq!(of("commendation.issued")[0]["id"], commendation.as_str());
    assert_eq!(of("commendation.revoked")[0]["object"]["status"], "revoked");
    assert_eq!(of("decision.issued")[0]["id"], decision.as_str());
    assert_eq!(of("decision.revoked")[0]["object"]["status"], "revoked");
    let reorganised = of("unit.reorganized");
    assert_eq!(
        (reorganised[0]["resource_type"].as_str(), reorganised[0]["id"].as_str()),
        (Some("unit"), Some(fx.id("C2")))
    );
    let added: Vec<_> = of("attachment.added").iter().map(|d| d["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(added, [kept, dropped.clone()]);
    assert_eq!(of("attachment.deleted")[0]["id"], dropped.as_str());
    assert!(of("attachment.deleted")[0]["object"]["deleted_at"].is_string());
    assert_eq!(bodies.len(), 14, "each change once: {:?}", bodies.iter().map(|b| &b["type"]).collect::<Vec<_>>());
}

/// A crashed or stalled instance's claims are taken over when their lease runs out, and the
/// stalled sender, answered at last, records nothing over the instance that took over: an
/// attempt is recorded only under the claim that made it.
#[actix_web::test]
async fn a_delivery_taken_over_after_its_lease_is_recorded_once() {
    let settings = |c: &mut dvk::config::Config| {
        c.webhook_lease_secs = 0;
        c.webhook_retry_secs = vec![0];
        c.webhook_allow_networks = dvk::webhooks::network::NetworkPolicy::parse("127.0.0.0/8").unwrap();
    };
    let first = TestApp::spawn_with(settings).await;
    let second = first.spawn_beside(settings).await;
    let fx = Fixture::load(&first).await;
    // The held request and the next fail; the third is delivered.
    let receiver = Receiver::start_holding_first(2).await;
    let created = subscribe(&first, &fx, "D1", &receiver.url, json!(["model.registered"])).await;
    let hook = created["webhook"]["id"].as_str().unwrap().to_string();
    let campaign = district_campaign(&first, &fx).await;
    let c1 = fx.token(&first, "C1", &["editor"]);
    let body = json!({"campaign_id": campaign, "title": "Thử", "subject": "collective", "kind": "comprehensive",
                      "registered_level": "district", "year": 2024});
    let m = first.post("/api/v1/models", &c1, &body).await.expect(201).json();
    act(&first, &c1, m["id"].as_str().unwrap(), "submit", 1, json!({})).await.expect(200);

    // The first instance claims the delivery; its receiver holds the request.
    let state = first.state.clone();
    let stalled = actix_web::rt::task::spawn_blocking(move || dvk::webhooks::delivery::deliver_due(&state));
    receiver.arrival().await;
    // Its lease has run out: the second instance takes the delivery over; its attempt fails and
    // is recorded, the delivery pending again.
    assert_eq!(second.deliver_due().await, 1);
    // The first is answered at last (500): its claim was taken over, so it records nothing.
    receiver.release();
    assert_eq!(stalled.await.unwrap(), 1);
    let admin = fx.token(&first, "D1", &["admin"]);
    let deliveries = format!("/api/v1/webhooks/{hook}/deliveries");
    let d = first.get(&deliveries, &admin).await.expect(200).json()["items"][0].clone();
    assert_eq!((d["status"].as_str(), d["attempts"].as_i64()), (Some("pending"), Some(1)), "{d}");
    // The retry is delivered: two attempts on record, three requests sent (at least once).
    assert_eq!(second.deliver_all_due().await, 1);
    let d = first.get(&deliveries, &admin).await.expect(200).json()["items"][0].clone();
    assert_eq!(
        (d["status"].as_str(), d["attempts"].as_i64(), d["last_status"].as_i64()),
        (Some("delivered"), Some(2), Some(204)),
        "{d}"
    );
    assert_eq!(receiver.received().len(), 3);
}
