//! Attachments through the API, on whichever store the tests run with (a local folder, or an
//! S3 server when `DVK_TEST_STORAGE=s3://…`): a photo and a decision scan attached, listed,
//! downloaded whole and in part, and deleted; a resumable upload cut off and resumed; an upload
//! cut off before its end leaving nothing; a file that lies about its type; another province's
//! attachment refused; a public photo served without its GPS tags.

use std::io::Write;

use actix_web::http::Method;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::commendations::recognised;
use crate::decisions::new_decision;
use crate::evaluations::model_in_progress;
use crate::helpers::*;
use crate::models::district_campaign;

/// A real JPEG (so that a preview can be made) carrying an Exif segment that says where it was
/// taken.
fn photo_with_gps() -> Vec<u8> {
    let picture = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([(x * 4) as u8, (y * 5) as u8, 90]));
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90).encode_image(&picture).unwrap();
    let exif = b"Exif\0\0MM\0*\0\0\0\x08GPSLatitude 20.5432 N GPSLongitude 105.9123 E Make Samsung";
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(exif);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn pdf() -> Vec<u8> {
    let mut pdf = b"%PDF-1.7\n1 0 obj <<>> endobj\n".to_vec();
    pdf.extend(std::iter::repeat_n(b'x', 200_000));
    pdf.extend_from_slice(b"\n%%EOF\n");
    pdf
}

fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

async fn upload(app: &TestApp, token: &str, query: &str, content_type: &str, bytes: Vec<u8>) -> Resp {
    app.request(Method::POST, &format!("/api/v1/attachments?{query}"), Some(token), &[], Some((content_type, bytes)))
        .await
}

/// Sends the head of a request and only `sent` bytes of its declared body, then closes the
/// connection, as a phone losing its network does.
fn cut_off(app: &TestApp, method: &str, path: &str, token: &str, headers: &[(&str, &str)], body: &[u8], sent: usize) {
    let stream = part_sent(app, method, path, token, headers, body, sent);
    stream.shutdown(std::net::Shutdown::Both).unwrap();
}

/// Sends the head of a request and only `sent` bytes of its declared body, and leaves the
/// connection open.
fn part_sent(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    sent: usize,
) -> std::net::TcpStream {
    let addr = app.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body[..sent]).unwrap();
    stream.flush().unwrap();
    stream
}

/// A model of commune C1 (under district D1) in progress, and a token of C1's editor.
async fn commune_model() -> (TestApp, Fixture, String, String) {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let campaign_id = district_campaign(&app, &fx).await;
    let model_id = model_in_progress(&app, &fx, &campaign_id).await;
    let c1 = fx.token(&app, "C1", &["editor"]);
    (app, fx, model_id, c1)
}

async fn stored_blobs(app: &TestApp) -> usize {
    stored(app, "blobs").await
}

/// How many objects the store holds under `prefix`.
async fn stored(app: &TestApp, prefix: &str) -> usize {
    use futures_util::TryStreamExt;
    app.state.storage.objects(&prefix.into()).try_collect::<Vec<_>>().await.unwrap().len()
}

#[actix_web::test]
async fn a_photo_and_a_decision_scan_are_attached_listed_downloaded_and_deleted() {
    let (app, fx, model_id, c1) = commune_model().await;
    let photo = photo_with_gps();

    // The name and the declared type say nothing: the bytes do.
    let query = format!("parent_type=model&parent_id={model_id}&title=Con%20%C4%91%C6%B0%E1%BB%9Dng&kind=photo&file_name=..%2F..%2FIMG_0001.exe");
    let res = upload(&app, &c1, &query, "application/octet-stream", photo.clone()).await;
    let a = res.expect(201).json();
    let id = a["id"].as_str().unwrap().to_string();
    assert_eq!(res.header("location"), Some(format!("/api/v1/attachments/{id}")));
    assert_eq!(a["media_type"], "image/jpeg");
    assert_eq!(a["file_name"], "IMG_0001.exe.jpg");
    assert_eq!(a["title"], "Con đường");
    assert_eq!(a["size"], photo.len());
    assert_eq!(a["sha256"], sha256(&photo));
    assert_eq!(a["public"], false);
    assert_eq!(a["public_url"], serde_json::Value::Null);
    assert_eq!(a["created_by"], "user-of-C1");

    // The same content again is a second attachment, stored once.
    let again = upload(&app, &c1, &query, "image/jpeg", photo.clone()).await.expect(201).json();
    assert_ne!(again["id"], a["id"]);
    assert_eq!(stored_blobs(&app).await, 1);

    // A retry with its Idempotency-Key is answered as the first was, and attaches nothing more;
    // the same key with other bytes is another request.
    let path = format!("/api/v1/attachments?{query}");
    let key = [("Idempotency-Key", "photo-upload-1")];
    let first = app.request(Method::POST, &path, Some(&c1), &key, Some(("image/jpeg", photo.clone()))).await;
    let first = first.expect(201).json();
    let retry = app.request(Method::POST, &path, Some(&c1), &key, Some(("image/jpeg", photo.clone()))).await;
    assert_eq!(retry.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(retry.expect(201).json()["id"], first["id"]);
    app.request(Method::POST, &path, Some(&c1), &key, Some(("application/pdf", pdf()))).await.expect(422);
    let listed = app.get(&format!("/api/v1/attachments?parent_type=model&parent_id={model_id}"), &c1).await.json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 3);
    let third = first["id"].as_str().unwrap();
    app.request(Method::DELETE, &format!("/api/v1/attachments/{third}"), Some(&c1), &[("If-Match", "\"1\"")], None)
        .await
        .expect(200);

    // A decision's signed scan, by an approver of its issuer.
    let d1 = fx.token(&app, "D1", &["approver"]);
    let decision = app.post("/api/v1/decisions", &d1, &new_decision("125-QĐ/BDVHU")).await.expect(201).json();
    let decision_id = decision["id"].as_str().unwrap();
    let scan = pdf();
    let query = format!("parent_type=decision&parent_id={decision_id}&title=B%E1%BA%A3n%20qu%C3%A9t&kind=decision_scan&file_name=Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh%20125.pdf");
    // A commune's editor does not see the district's decision; a district editor is no approver.
    upload(&app, &c1, &query, "application/pdf", scan.clone()).await.problem(422, "validation_failed");
    let d1_editor = fx.token(&app, "D1", &["editor"]);
    upload(&app, &d1_editor, &query, "application/pdf", scan.clone()).await.problem(403, "missing_role");
    let s = upload(&app, &d1, &query, "application/pdf", scan.clone()).await.expect(201).json();
    let scan_id = s["id"].as_str().unwrap();

    // Lists: the model's papers, and everything of D1's subtree.
    let page =
        app.get(&format!("/api/v1/attachments?parent_type=model&parent_id={model_id}"), &c1).await.expect(200).json();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let page = app.get("/api/v1/attachments", &fx.token(&app, "D1", &["viewer"])).await.expect(200).json();
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
    app.get("/api/v1/attachments?parent_type=model", &c1).await.problem(400, "parent_incomplete");

    // Downloaded as uploaded, named for the browser, never sniffed.
    let res = app.get(&format!("/api/v1/attachments/{scan_id}/content"), &d1).await;
    res.expect(200);
    assert_eq!(res.body, scan);
    assert_eq!(res.header("content-type").as_deref(), Some("application/pdf"));
    assert_eq!(res.header("x-content-type-options").as_deref(), Some("nosniff"));
    assert_eq!(res.header("etag"), Some(format!("\"{}\"", sha256(&scan))));
    assert_eq!(
        res.header("content-disposition").as_deref(),
        Some(
            "attachment; filename=\"Quyet dinh 125.pdf\"; filename*=UTF-8''Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh%20125.pdf"
        )
    );
    // A download cut off resumes with Range; the version held is not sent again.
    let etag = res.header("etag").unwrap();
    let part = app
        .request(
            Method::GET,
            &format!("/api/v1/attachments/{scan_id}/content"),
            Some(&d1),
            &[("Range", "bytes=100000-")],
            None,
        )
        .await;
    part.expect(206);
    assert_eq!(part.body, scan[100_000..]);
    assert_eq!(part.header("content-range"), Some(format!("bytes 100000-{}/{}", scan.len() - 1, scan.len())));
    let beyond = format!("bytes={}-", scan.len());
    app.request(Method::GET, &format!("/api/v1/attachments/{scan_id}/content"), Some(&d1), &[("Range", &beyond)], None)
        .await
        .problem(416, "range_not_satisfiable");
    app.request(
        Method::GET,
        &format!("/api/v1/attachments/{scan_id}/content"),
        Some(&d1),
        &[("If-None-Match", &etag)],
        None,
    )
    .await
    .expect(304);
    let huge = ("Range", "bytes=0-18446744073709551615");
    let whole =
        app.request(Method::GET, &format!("/api/v1/attachments/{scan_id}/content"), Some(&d1), &[huge], None).await;
    assert_eq!(whole.expect(206).body.len(), scan.len());

    // Deleted with If-Match by whoever may change the model: a tombstone, audited, no content.
    let path = format!("/api/v1/attachments/{id}");
    app.request(Method::DELETE, &path, Some(&c1), &[], None).await.problem(428, "if_match_required");
    app.request(Method::DELETE, &path, Some(&fx.token(&app, "C1", &["viewer"])), &[("If-Match", "\"1\"")], None)
        .await
        .problem(403, "missing_role");
    let gone = app.request(Method::DELETE, &path, Some(&c1), &[("If-Match", "\"1\"")], None).await.expect(200).json();
    assert!(gone["deleted_at"].is_string());
    app.get(&format!("{path}/content"), &c1).await.problem(404, "not_found");
    let page =
        app.get(&format!("/api/v1/attachments?parent_type=model&parent_id={model_id}"), &c1).await.expect(200).json();
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "a deleted attachment leaves the list");
    // A sync pass sees the tombstone.
    let sync = app.get("/api/v1/attachments?updated_since=2020-01-01T00:00:00Z", &c1).await.expect(200).json();
    let tombstone = sync["items"].as_array().unwrap().iter().find(|i| i["id"] == id.as_str()).unwrap().clone();
    assert!(tombstone["deleted_at"].is_string());
    // The model counts its live attachments, in its JSON and its spreadsheets; each change of
    // the count moves its version.
    let model = app.get(&format!("/api/v1/models/{model_id}"), &c1).await.expect(200).json();
    assert_eq!(model["attachment_count"], 1);
    assert_eq!(model["version"], 3 + 5, "accepted at version 3, then three added and two deleted");
    let csv = app.request(Method::GET, "/api/v1/models?lang=en", Some(&c1), &[("Accept", "text/csv")], None).await;
    let csv = csv.expect(200).text();
    assert!(csv.lines().next().unwrap().contains("Attachment count"), "{csv}");
    let audit = app.get(&format!("/api/v1/audit-events?resource_id={id}"), &app.root_admin()).await.expect(200).json();
    let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"attachment.add") && actions.contains(&"attachment.delete"), "{actions:?}");
}

#[actix_web::test]
async fn a_file_that_lies_about_its_type_is_refused_and_nothing_is_kept() {
    let (app, _, model_id, c1) = commune_model().await;
    let query = format!("parent_type=model&parent_id={model_id}&title=Anh&kind=photo&file_name=anh.jpg");

    let program = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff".repeat(100);
    upload(&app, &c1, &query, "image/jpeg", program).await.problem(415, "unsupported_media_type");
    let page = b"<html><script>alert(document.cookie)</script></html>".to_vec();
    upload(&app, &c1, &query, "image/jpeg", page).await.problem(415, "unsupported_media_type");
    // A real PDF filed as a photo is not a photo.
    let body = upload(&app, &c1, &query, "image/jpeg", pdf()).await.problem(422, "validation_failed");
    assert_eq!(body["errors"][0]["code"], "kind_mismatch");
    upload(&app, &c1, &query, "image/jpeg", vec![]).await.problem(422, "empty_file");
    // Bad descriptions are refused before a byte is read.
    let bad = format!("parent_type=model&parent_id={model_id}&title=&kind=photo");
    upload(&app, &c1, &bad, "image/jpeg", photo_with_gps()).await.problem(422, "validation_failed");
    let bad = format!("parent_type=planet&parent_id={model_id}&title=x&kind=photo");
    upload(&app, &c1, &bad, "image/jpeg", photo_with_gps()).await.expect(400);
    // Larger than the limit: refused from Content-Length alone.
    let small = TestApp::spawn_with(|c| c.attachment_limit = 1000).await;
    let fx2 = Fixture::load(&small).await;
    let campaign2 = district_campaign(&small, &fx2).await;
    let model2 = model_in_progress(&small, &fx2, &campaign2).await;
    let query2 = format!("parent_type=model&parent_id={model2}&title=Anh&kind=photo");
    upload(&small, &fx2.token(&small, "C1", &["editor"]), &query2, "image/jpeg", photo_with_gps())
        .await
        .problem(413, "payload_too_large");

    let page =
        app.get(&format!("/api/v1/attachments?parent_type=model&parent_id={model_id}"), &c1).await.expect(200).json();
    assert_eq!(page["items"], json!([]));
    assert_eq!(stored_blobs(&app).await, 0, "nothing refused reaches the store");
}

#[actix_web::test]
async fn another_provinces_attachment_is_refused() {
    let (app, fx, model_id, c1) = commune_model().await;
    let query = format!("parent_type=model&parent_id={model_id}&title=Anh&kind=photo");
    let a = upload(&app, &c1, &query, "image/jpeg", photo_with_gps()).await.expect(201).json();
    let id = a["id"].as_str().unwrap();

    let p2 = fx.token(&app, "P2", &["editor", "admin", "viewer"]);
    let body = upload(&app, &p2, &query, "image/jpeg", photo_with_gps()).await.problem(422, "validation_failed");
    assert_eq!(body["errors"][0]["code"], "unknown_parent");
    app.get(&format!("/api/v1/attachments/{id}"), &p2).await.problem(404, "not_found");
    app.get(&format!("/api/v1/attachments/{id}/content"), &p2).await.problem(404, "not_found");
    app.request(Method::DELETE, &format!("/api/v1/attachments/{id}"), Some(&p2), &[("If-Match", "\"1\"")], None)
        .await
        .problem(404, "not_found");
    app.patch(&format!("/api/v1/attachments/{id}"), &p2, "\"1\"", &json!({"public": true}))
        .await
        .problem(404, "not_found");
    let page = app.get(&format!("/api/v1/attachments?parent_type=model&parent_id={model_id}"), &p2).await;
    page.problem(404, "not_found");
    let page = app.get("/api/v1/attachments", &p2).await.expect(200).json();
    assert_eq!(page["items"], json!([]));
    // Not public: no one without a token reads it.
    app.request(Method::GET, &format!("/api/v1/public/attachments/{id}/content"), None, &[], None)
        .await
        .problem(404, "not_found");
    // A viewer of the model's own unit reads but does not add.
    let viewer = fx.token(&app, "C1", &["viewer"]);
    app.get(&format!("/api/v1/attachments/{id}/content"), &viewer).await.expect(200);
    upload(&app, &viewer, &query, "image/jpeg", photo_with_gps()).await.problem(403, "missing_role");
}

#[actix_web::test]
async fn an_upload_cut_off_at_ninety_percent_resumes_from_the_byte_where_it_stopped() {
    let (app, fx, model_id, c1) = commune_model().await;
    let file = pdf();
    let b64 = |s: &str| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, s);
    let metadata = format!(
        "parent_type {},parent_id {},title {},kind {},filename {}",
        b64("model"),
        b64(&model_id),
        b64("Báo cáo tiến độ"),
        b64("document"),
        b64("bao-cao.pdf")
    );
    let tus = ("Tus-Resumable", "1.0.0");

    let discovery = app.request(Method::OPTIONS, "/api/v1/uploads", Some(&c1), &[], None).await;
    discovery.expect(204);
    assert_eq!(discovery.header("tus-version").as_deref(), Some("1.0.0"));
    assert!(discovery.header("tus-extension").unwrap().contains("creation"));
    let length = file.len().to_string();
    let untyped = [("Upload-Length", length.as_str()), ("Upload-Metadata", metadata.as_str())];
    let res = app.request(Method::POST, "/api/v1/uploads", Some(&c1), &untyped, None).await;
    res.problem(400, "tus_resumable_required");
    let older = [("Tus-Resumable", "0.2.2"), untyped[0], untyped[1]];
    let res = app.request(Method::POST, "/api/v1/uploads", Some(&c1), &older, None).await;
    res.problem(412, "tus_version_required");
    assert_eq!(res.header("tus-version").as_deref(), Some("1.0.0"));
    let created = app
        .request(
            Method::POST,
            "/api/v1/uploads",
            Some(&c1),
            &[tus, ("Upload-Length", &length), ("Upload-Metadata", &metadata)],
            None,
        )
        .await;
    created.expect(201);
    let location = created.header("location").unwrap();
    assert!(created.header("upload-expires").is_some());

    // The phone sends 90 % of the file and loses its network.
    let ninety = file.len() * 9 / 10;
    cut_off(
        &app,
        "PATCH",
        &location,
        &c1,
        &[tus, ("Upload-Offset", "0"), ("Content-Type", "application/offset+octet-stream")],
        &file,
        ninety,
    );
    // It asks where the server stopped: the bytes that arrived are kept (the server records
    // them once it sees the connection end).
    let mut offset = 0;
    for _ in 0..500 {
        let head = app.request(Method::HEAD, &location, Some(&c1), &[tus], None).await;
        head.expect(200);
        offset = head.header("upload-offset").unwrap().parse::<usize>().unwrap();
        if offset > 0 {
            break;
        }
        actix_web::rt::task::yield_now().await;
    }
    assert!(offset > 0 && offset <= ninety, "kept {offset} of the {ninety} bytes sent");
    // Another user cannot see or continue it.
    let other = fx.token(&app, "C2", &["editor"]);
    let refused = app.request(Method::HEAD, &location, Some(&other), &[tus], None).await;
    assert_eq!(refused.expect(404).header("tus-resumable").as_deref(), Some("1.0.0"), "refusals speak tus too");
    // A PATCH at the wrong offset is refused; from the offset HEAD gave, the rest completes it.
    let octet = ("Content-Type", "application/offset+octet-stream");
    app.request(
        Method::PATCH,
        &location,
        Some(&c1),
        &[tus, ("Upload-Offset", "0"), octet],
        Some(("application/offset+octet-stream", file.clone())),
    )
    .await
    .problem(409, "upload_offset_mismatch");
    let at = offset.to_string();
    let done = app
        .request(
            Method::PATCH,
            &location,
            Some(&c1),
            &[tus, ("Upload-Offset", &at)],
            Some(("application/offset+octet-stream", file[offset..].to_vec())),
        )
        .await;
    done.expect(204);
    assert_eq!(done.header("upload-offset"), Some(length.clone()));
    let attachment_url = done.header("content-location").unwrap();
    let a = app.get(&attachment_url, &c1).await.expect(200).json();
    assert_eq!(a["sha256"], sha256(&file));
    assert_eq!(a["file_name"], "bao-cao.pdf");
    assert_eq!(a["title"], "Báo cáo tiến độ");
    let content = app.get(&format!("{attachment_url}/content"), &c1).await;
    assert_eq!(content.expect(200).body, file);
    // Its parts are gone from the store; only the content stays.
    assert_eq!(stored(&app, "uploads").await, 0);

    // Ended before it is whole: nothing is left.
    let created = app
        .request(
            Method::POST,
            "/api/v1/uploads",
            Some(&c1),
            &[tus, ("Upload-Length", &length), ("Upload-Metadata", &metadata)],
            None,
        )
        .await;
    let location = created.expect(201).header("location").unwrap();
    app.request(
        Method::PATCH,
        &location,
        Some(&c1),
        &[tus, ("Upload-Offset", "0")],
        Some(("application/offset+octet-stream", file[..1000].to_vec())),
    )
    .await
    .expect(204);
    app.request(Method::DELETE, &location, Some(&c1), &[tus], None).await.expect(204);
    app.request(Method::HEAD, &location, Some(&c1), &[tus], None).await.expect(404);
    assert_eq!(stored(&app, "uploads").await, 0);

    // A whole upload that is not an accepted file makes no attachment, and the refusal ends it:
    // its last step (which reads the whole file back) cannot be asked for again.
    let program = b"MZ\x90\x00".repeat(1000);
    let size = program.len().to_string();
    let created = app
        .request(
            Method::POST,
            "/api/v1/uploads",
            Some(&c1),
            &[tus, ("Upload-Length", &size), ("Upload-Metadata", &metadata)],
            None,
        )
        .await;
    let location = created.expect(201).header("location").unwrap();
    let patch = |offset: &'static str, bytes: Vec<u8>| {
        let (app, c1, location) = (&app, c1.clone(), location.clone());
        async move {
            app.request(
                Method::PATCH,
                &location,
                Some(&c1),
                &[tus, ("Upload-Offset", offset)],
                Some(("application/offset+octet-stream", bytes)),
            )
            .await
        }
    };
    patch("0", program).await.problem(415, "unsupported_media_type");
    app.request(Method::HEAD, &location, Some(&c1), &[tus], None).await.expect(404);
    patch("4000", vec![]).await.problem(404, "not_found");
    assert_eq!(stored(&app, "uploads").await, 0);

    // A key is one creation: the same key for another file is another request.
    let keyed = |len: &'static str| {
        let (app, c1, metadata) = (&app, c1.clone(), metadata.clone());
        async move {
            let headers =
                [tus, ("Upload-Length", len), ("Upload-Metadata", metadata.as_str()), ("Idempotency-Key", "tus-1")];
            app.request(Method::POST, "/api/v1/uploads", Some(&c1), &headers, None).await
        }
    };
    let first = keyed("5000").await;
    first.expect(201);
    let again = keyed("5000").await;
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("upload-expires"), first.header("upload-expires"));
    keyed("6000").await.problem(422, "idempotency_key_reused");

    // A record the caller may not change is refused before a byte is sent.
    let p2 = fx.token(&app, "P2", &["editor"]);
    app.request(
        Method::POST,
        "/api/v1/uploads",
        Some(&p2),
        &[tus, ("Upload-Length", &length), ("Upload-Metadata", &metadata)],
        None,
    )
    .await
    .problem(422, "validation_failed");
}

#[actix_web::test]
async fn an_upload_cut_off_before_its_end_leaves_nothing() {
    let (app, _, model_id, c1) = commune_model().await;
    let file = pdf();
    let path = format!("/api/v1/attachments?parent_type=model&parent_id={model_id}&title=Ke%20hoach&kind=document");
    cut_off(&app, "POST", &path, &c1, &[("Content-Type", "application/pdf")], &file, file.len() / 2);
    // The same request whole goes through: the cut one left no row and no object.
    let a = upload(&app, &c1, &path["/api/v1/attachments?".len()..], "application/pdf", file.clone())
        .await
        .expect(201)
        .json();
    let page =
        app.get(&format!("/api/v1/attachments?parent_type=model&parent_id={model_id}"), &c1).await.expect(200).json();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["id"], a["id"]);
    assert_eq!(stored_blobs(&app).await, 1);

    // The sweep keeps what a live attachment points at and removes what none does.
    let swept =
        dvk::attachments::sweep::sweep(&app.state.pool, &app.state.storage, chrono::Duration::zero()).await.unwrap();
    assert_eq!((swept.blobs_kept, swept.blobs_removed), (1, 0));
    let id = a["id"].as_str().unwrap();
    app.request(Method::DELETE, &format!("/api/v1/attachments/{id}"), Some(&c1), &[("If-Match", "\"1\"")], None)
        .await
        .expect(200);
    let swept =
        dvk::attachments::sweep::sweep(&app.state.pool, &app.state.storage, chrono::Duration::zero()).await.unwrap();
    assert_eq!((swept.blobs_kept, swept.blobs_removed), (0, 1));
    assert_eq!(stored_blobs(&app).await, 0);
}

#[actix_web::test]
async fn a_public_photo_is_served_without_its_gps_tags() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let campaign_id = district_campaign(&app, &fx).await;
    let (model_id, _) = recognised(&app, &fx, &campaign_id).await;
    let c1 = fx.token(&app, "C1", &["editor"]);
    let photo = photo_with_gps();
    let query = format!("parent_type=model&parent_id={model_id}&title=Ngay%20hoi&kind=photo&public=true");
    let a = upload(&app, &c1, &query, "image/jpeg", photo.clone()).await.expect(201).json();
    let id = a["id"].as_str().unwrap();
    let public_url = a["public_url"].as_str().unwrap().to_string();
    let preview_url = a["preview_url"].as_str().unwrap().to_string();
    // A private document beside it stays private.
    let private = format!("parent_type=model&parent_id={model_id}&title=Ho%20so&kind=document");
    let p = upload(&app, &c1, &private, "application/pdf", pdf()).await.expect(201).json();
    assert_eq!(p["public_url"], serde_json::Value::Null);

    // The portal lists it with the model, and reads it without a token.
    let feed = app.request(Method::GET, &format!("/api/v1/public/models/{model_id}"), None, &[], None).await;
    let feed = feed.expect(200).json();
    let listed = feed["attachments"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "only the public one: {feed}");
    assert_eq!(listed[0]["url"], public_url.as_str());
    let res = app.request(Method::GET, &public_url, None, &[], None).await;
    res.expect(200);
    assert!(!contains(&res.body, b"GPSLatitude"), "the public copy has no location");
    assert!(!contains(&res.body, b"Samsung"), "nor the camera");
    assert!(res.body.starts_with(&[0xFF, 0xD8]), "it is still a JPEG");
    image::load_from_memory(&res.body).expect("and it still decodes");
    assert_eq!(res.header("etag"), Some(format!("\"{}\"", sha256(&res.body))));
    assert_eq!(listed[0]["sha256"], sha256(&res.body));
    assert!(res.header("cache-control").unwrap().starts_with("public, max-age="));
    assert_eq!(res.header("x-content-type-options").as_deref(), Some("nosniff"));
    // Staff download the original, whole.
    let original = app.get(&format!("/api/v1/attachments/{id}/content"), &c1).await;
    assert!(contains(&original.expect(200).body, b"GPSLatitude"));
    // A small preview, made once.
    let preview = app.request(Method::GET, &preview_url, None, &[], None).await;
    preview.expect(200);
    assert_eq!(preview.header("content-type").as_deref(), Some("image/jpeg"));
    let small = image::load_from_memory(&preview.body).unwrap();
    assert!(small.width() <= 480 && small.height() <= 480);

    // Only who may change the model, at the version they hold, makes a photo public (the
    // cleaned copy is work only a change earns).
    let mut second = photo_with_gps();
    second.extend_from_slice(b"another photo");
    let other_query = format!("parent_type=model&parent_id={model_id}&title=Khac&kind=photo");
    let other = upload(&app, &c1, &other_query, "image/jpeg", second).await.expect(201).json();
    let other_path = format!("/api/v1/attachments/{}", other["id"].as_str().unwrap());
    let viewer = fx.token(&app, "C1", &["viewer"]);
    app.patch(&other_path, &viewer, "\"1\"", &json!({"public": true})).await.problem(403, "missing_role");
    app.patch(&other_path, &c1, "\"7\"", &json!({"public": true})).await.problem(412, "version_mismatch");
    let made = app.patch(&other_path, &c1, "\"1\"", &json!({"public": true})).await.expect(200).json();
    assert!(made["public_url"].is_string());

    // Made private again, it leaves the portal.
    app.patch(&format!("/api/v1/attachments/{id}"), &c1, "\"1\"", &json!({"public": false})).await.expect(200);
    app.request(Method::GET, &public_url, None, &[], None).await.problem(404, "not_found");
    let feed = app.request(Method::GET, &format!("/api/v1/public/models/{model_id}"), None, &[], None).await.json();
    let listed: Vec<&str> = feed["attachments"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(listed, [other["id"].as_str().unwrap()], "only the photo made public since");
}

/// Sends a body of unknown length (chunked) and reads the status line of the answer.
fn chunked(app: &TestApp, method: &str, path: &str, token: &str, headers: &[(&str, &str)], body: &[u8]) -> u16 {
    use std::io::Read;
    let addr = app.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nTransfer-Encoding: chunked\r\n"
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    // The server may answer and close before the end: what it no longer reads is not an error here.
    for chunk in body.chunks(16 * 1024) {
        if stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).is_err()
            || stream.write_all(chunk).is_err()
            || stream.write_all(b"\r\n").is_err()
        {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n");
    let mut answer = [0u8; 12];
    stream.read_exact(&mut answer).unwrap();
    String::from_utf8_lossy(&answer[9..12]).parse().unwrap()
}

/// A body that does not say its length is read only up to `DVK_ATTACHMENT_LIMIT` (then 413),
/// in one request or in a tus PATCH, and leaves nothing behind: the bound on what a caller can
/// make the server spool.
#[actix_web::test]
async fn a_body_of_unknown_length_is_cut_at_the_limit_and_leaves_nothing() {
    let app = TestApp::spawn_with(|c| c.attachment_limit = 100_000).await;
    let fx = Fixture::load(&app).await;
    let campaign_id = district_campaign(&app, &fx).await;
    let model_id = model_in_progress(&app, &fx, &campaign_id).await;
    let c1 = fx.token(&app, "C1", &["editor"]);
    let file = pdf();
    assert!(file.len() > 100_000);

    let path = format!("/api/v1/attachments?parent_type=model&parent_id={model_id}&title=Lon&kind=document");
    assert_eq!(chunked(&app, "POST", &path, &c1, &[("Content-Type", "application/pdf")], &file), 413);
    let page = app.get(&format!("/api/v1/attachments?parent_type=model&parent_id={model_id}"), &c1).await.json();
    assert_eq!(page["items"], json!([]));
    assert_eq!(stored_blobs(&app).await, 0);

    let b64 = |s: &str| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, s);
    let metadata = format!(
        "parent_type {},parent_id {},title {},kind {}",
        b64("model"),
        b64(&model_id),
        b64("Lon"),
        b64("document")
    );
    let tus = ("Tus-Resumable", "1.0.0");
    let created = app
        .request(
            Method::POST,
            "/api/v1/uploads",
            Some(&c1),
            &[tus, ("Upload-Length", "100000"), ("Upload-Metadata", &metadata)],
            None,
        )
        .await;
    let location = created.expect(201).header("location").unwrap();
    let octets = ("Content-Type", "application/offset+octet-stream");
    assert_eq!(chunked(&app, "PATCH", &location, &c1, &[tus, ("Upload-Offset", "0"), octets], &file), 413);
    let head = app.request(Method::HEAD, &location, Some(&c1), &[tus], None).await;
    let offset: u64 = head.expect(200).header("upload-offset").unwrap().parse().unwrap();
    assert!(offset <= 100_000, "kept {offset} bytes of an upload of 100,000");
    assert!(head.header("content-location").is_none());
}

/// Sets a column of an upload as another instance, or time, would have left it.
fn set_upload(app: &TestApp, location: &str, assignment: &str) {
    use diesel::RunQueryDsl;
    let id = location.rsplit('/').next().unwrap();
    let mut conn = app.state.pool.get().unwrap();
    let n =
        diesel::sql_query(format!("UPDATE uploads SET {assignment} WHERE id = '{id}'")).execute(&mut *conn).unwrap();
    assert_eq!(n, 1);
}

/// What one caller's resumable uploads can cost the server is bounded: open uploads per caller,
/// parts per upload, bytes past the declared length, and the last step (which reads the whole
/// file back) runs once at a time.
#[actix_web::test]
async fn what_resumable_uploads_can_cost_the_server_is_bounded() {
    let (app, _, model_id, c1) = commune_model().await;
    let b64 = |s: &str| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, s);
    let metadata = format!(
        "parent_type {},parent_id {},title {},kind {}",
        b64("model"),
        b64(&model_id),
        b64("Ho so"),
        b64("document")
    );
    let tus = ("Tus-Resumable", "1.0.0");
    let create = |length: usize| {
        let (app, c1, metadata) = (&app, c1.clone(), metadata.clone());
        async move {
            let length = length.to_string();
            let headers = [tus, ("Upload-Length", length.as_str()), ("Upload-Metadata", metadata.as_str())];
            app.request(Method::POST, "/api/v1/uploads", Some(&c1), &headers, None).await
        }
    };
    let patch = |location: String, offset: usize, bytes: Vec<u8>| {
        let (app, c1) = (&app, c1.clone());
        async move {
            let offset = offset.to_string();
            app.request(
                Method::PATCH,
                &location,
                Some(&c1),
                &[tus, ("Upload-Offset", offset.as_str())],
                Some(("application/offset+octet-stream", bytes)),
            )
            .await
        }
    };
    let offset_of = |location: String| {
        let (app, c1) = (&app, c1.clone());
        async move {
            let head = app.request(Method::HEAD, &location, Some(&c1), &[tus], None).await;
            head.expect(200).header("upload-offset").unwrap().parse::<usize>().unwrap()
        }
    };

    // Twenty open uploads at most; ending one makes room for another.
    let mut open = Vec::new();
    for _ in 0..20 {
        open.push(create(5000).await.expect(201).header("location").unwrap());
    }
    create(5000).await.problem(409, "too_many_open_uploads");
    app.request(Method::DELETE, &open.pop().unwrap(), Some(&c1), &[tus], None).await.expect(204);
    let location = create(5000).await.expect(201).header("location").unwrap();

    // At most 1,000 parts: the one that would be the 1,001st is refused and nothing of it kept.
    set_upload(&app, &location, "parts = 999");
    patch(location.clone(), 0, vec![b'x'; 10]).await.expect(204);
    patch(location.clone(), 10, vec![b'x'; 10]).await.problem(409, "too_many_parts");
    assert_eq!(offset_of(location.clone()).await, 10);
    assert_eq!(stored(&app, &format!("uploads/{}", location.rsplit('/').next().unwrap())).await, 1);

    // Bytes past Upload-Length: refused before they are read when the length is declared, and
    // none of them kept when it is not (a body longer than the write batch, so that a part could
    // have been written before the excess arrived).
    let length = 300_000;
    let location = open.pop().unwrap();
    app.request(Method::DELETE, &location, Some(&c1), &[tus], None).await.expect(204);
    let location = create(length).await.expect(201).header("location").unwrap();
    patch(location.clone(), 0, vec![b'x'; length + 1]).await.problem(400, "beyond_upload_length");
    let octets = ("Content-Type", "application/offset+octet-stream");
    let status =
        chunked(&app, "PATCH", &location, &c1, &[tus, ("Upload-Offset", "0"), octets], &vec![b'x'; 2 * length]);
    assert_eq!(status, 413);
    assert_eq!(offset_of(location.clone()).await, 0);
    assert_eq!(stored(&app, &format!("uploads/{}", location.rsplit('/').next().unwrap())).await, 0);

    // The last step runs once at a time: while another request holds it, the last bytes are
    // kept but the attachment is not made; once its lease lapses (its instance died), an empty
    // PATCH at the end makes it.
    let file = pdf();
    app.request(Method::DELETE, &location, Some(&c1), &[tus], None).await.expect(204);
    let location = create(file.len()).await.expect(201).header("location").unwrap();
    let last = file.len() - 1;
    patch(location.clone(), 0, file[..last].to_vec()).await.expect(204);
    set_upload(&app, &location, "finishing_until = '2999-01-01 00:00:00'");
    patch(location.clone(), last, file[last..].to_vec()).await.problem(409, "upload_finishing");
    let head = app.request(Method::HEAD, &location, Some(&c1), &[tus], None).await;
    assert_eq!(head.expect(200).header("upload-offset"), Some(file.len().to_string()));
    assert!(head.header("content-location").is_none());
    patch(location.clone(), file.len(), vec![]).await.problem(409, "upload_finishing");
    set_upload(&app, &location, "finishing_until = '2000-01-01 00:00:00'");
    let done = patch(location.clone(), file.len(), vec![]).await;
    let attachment = done.expect(204).header("content-location").unwrap();
    assert_eq!(app.get(&format!("{attachment}/content"), &c1).await.expect(200).body, file);
    // Made once: a retry after it is told where the upload stands, not made again.
    patch(location.clone(), file.len(), vec![]).await.problem(409, "upload_offset_mismatch");
}

/// A body that stops arriving, or trickles, is refused with 408 and changes nothing; a
/// resumable upload keeps what arrived before, as when it is cut off.
#[actix_web::test]
async fn a_body_that_stalls_is_refused_and_a_resumable_upload_keeps_what_came() {
    use std::io::Read;
    let app = TestApp::spawn_with(|c| c.body_idle_secs = 1).await;
    let fx = Fixture::load(&app).await;
    let campaign_id = district_campaign(&app, &fx).await;
    let model_id = model_in_progress(&app, &fx, &campaign_id).await;
    let c1 = fx.token(&app, "C1", &["editor"]);
    // The rest of the body never comes; the connection stays open until the server answers.
    let stall = |method: &str, path: &str, headers: &[(&str, &str)], body: &[u8], sent: usize| -> String {
        let mut stream = part_sent(&app, method, path, &c1, headers, body, sent);
        stream.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        String::from_utf8_lossy(&answer).into_owned()
    };

    // A JSON body that stops half-way: 408, and the connection is closed.
    let body = json!({"title": "Mô hình chưa gửi hết", "campaign_id": campaign_id}).to_string();
    let answer = stall("POST", "/api/v1/models", &[("Content-Type", "application/json")], body.as_bytes(), 20);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("body_too_slow"), "{answer}");
    let page = app.get(&format!("/api/v1/models?campaign_id={campaign_id}"), &c1).await.expect(200).json();
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "only the model made before: {page}");

    // A tus PATCH that stalls: 408, and what arrived before is kept to resume from.
    let b64 = |s: &str| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, s);
    let metadata = format!(
        "parent_type {},parent_id {},title {},kind {}",
        b64("model"),
        b64(&model_id),
        b64("Cham"),
        b64("document")
    );
    let tus = ("Tus-Resumable", "1.0.0");
    let file = pdf();
    let length = file.len().to_string();
    let created = app
        .request(
            Method::POST,
            "/api/v1/uploads",
            Some(&c1),
            &[tus, ("Upload-Length", &length), ("Upload-Metadata", &metadata)],
            None,
        )
        .await;
    let location = created.expect(201).header("location").unwrap();
    let octets = ("Content-Type", "application/offset+octet-stream");
    let answer = stall("PATCH", &location, &[tus, ("Upload-Offset", "0"), octets], &file, 50_000);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let head = app.request(Method::HEAD, &location, Some(&c1), &[tus], None).await;
    assert_eq!(head.expect(200).header("upload-offset"), Some("50000".to_string()));
}
