//! The `dvk` command: it will not serve without a signing key, and `dvk token` mints tokens that
//! the service accepts.

use std::process::Command;

use crate::helpers::*;

fn dvk() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dvk"));
    cmd.env_clear().current_dir(std::env::temp_dir()).env("DVK_BIND", "127.0.0.1:0");
    cmd
}

#[test]
fn serving_without_a_signing_key_is_refused() {
    let out = dvk().arg("serve").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no signing key is configured") && stderr.contains("--dev"), "{stderr}");
}

#[test]
fn a_short_secret_is_refused() {
    let out = dvk().env("DVK_JWT_SECRET", "too-short").arg("serve").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 32 bytes"));
}

#[actix_web::test]
async fn dvk_token_mints_what_the_service_accepts() {
    let app = TestApp::spawn().await;
    let out = dvk()
        .env("DVK_JWT_SECRET", SECRET)
        .args(["token", "--unit", "VN", "--level", "central", "--roles", "admin,viewer"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let page = app.get("/api/v1/units", &token).await.expect(200).json();
    assert_eq!(page["items"][0]["code"], "VN");
    let bad = dvk().env("DVK_JWT_SECRET", SECRET).args(["token", "--unit", "VN", "--roles", "king"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(1));
}
