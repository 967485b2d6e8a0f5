//! Reads from a standby (`DVK_DATABASE_READ_URL`): lists, reports and public reads go there,
//! but a caller who just wrote reads the primary, and a standby that cannot be reached sends
//! reads to the primary. The "standby" here is a database that never hears of the primary's
//! writes: a standby as far behind as one can be, so every read shows where it was served.

use serde_json::Value;

use crate::helpers::*;
use crate::models::{district_campaign, model};

fn on_postgres(app: &TestApp) -> bool {
    dvk::db::Backend::of_url(&app.state.config.database_url) == dvk::db::Backend::Postgres
}

/// A viewer of `unit` who has written nothing: a subject of its own.
fn bystander(fx: &Fixture, unit: &str) -> String {
    let mut claims = claims(unit, &fx.levels[unit], &["viewer"]);
    claims["sub"] = Value::from(format!("bystander-of-{unit}"));
    sign_hs256(&claims)
}

fn ids(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_string()).collect()
}

#[actix_web::test]
async fn lists_read_the_standby_but_a_writer_reads_its_own_writes() {
    let standby = TestApp::spawn().await;
    if !on_postgres(&standby) {
        // SQLite has no standby: the setting is refused at start.
        let mut config = dvk::config::Config::defaults();
        config.database_read_url = Some("replica.db".into());
        assert!(config.check().unwrap_err().contains("DVK_DATABASE_READ_URL"));
        return;
    }
    let standby_url = standby.state.config.database_url.clone();
    let app = TestApp::spawn_with(|c| c.database_read_url = Some(standby_url)).await;
    let fx = Fixture::load(&app).await;
    let campaign_id = district_campaign(&app, &fx).await;
    let editor = fx.token(&app, "C1", &["editor"]);
    let mut body = model(&campaign_id, "Dân vận khéo giữ gìn vệ sinh môi trường");
    body["unit_id"] = Value::from(fx.id("C1"));
    let registered = app.post("/api/v1/models", &editor, &body).await.expect(201).json();
    let id = registered["id"].as_str().unwrap().to_string();

    // The editor just wrote: its list comes from the primary and holds the model.
    let mine = app.get("/api/v1/models", &editor).await.expect(200).json();
    assert_eq!(ids(&mine), vec![id.clone()]);

    // A viewer who wrote nothing lists from the standby, which has not got the model.
    let viewer = bystander(&fx, "D1");
    let theirs = app.get("/api/v1/models", &viewer).await.expect(200).json();
    assert!(ids(&theirs).is_empty(), "the list came from the primary: {theirs}");
    // One record is read from the primary, whose answer (and ETag) a change is made against.
    app.get(&format!("/api/v1/models/{id}"), &viewer).await.expect(200);

    // A standby that cannot be reached: the same viewer's list comes from the primary.
    let missing = format!("{}_missing", app.state.config.database_url);
    let beside = app.spawn_beside(|c| c.database_read_url = Some(missing)).await;
    let fallen_back = beside.get("/api/v1/models", &viewer).await.expect(200).json();
    assert_eq!(ids(&fallen_back), vec![id]);
}
