//! The operator's view of what happened: `mamis admin audit` on the real
//! binary, through its socket while it serves.

use crate::helpers::*;

#[tokio::test]
async fn the_audit_command_shows_a_failed_login_with_its_login_id_and_address() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let mut server = Binary::start(&data, dir.path().join("serve.log"), None, &[]);
    server.wait_ready().await;

    let visitor = Browser::new(&server.base);
    let page = visitor.log_in("nobody-here", "Wrong#Pass123").await;
    page.assert_status(reqwest::StatusCode::UNAUTHORIZED);

    let out = run_mamis(dir.path(), &data, &["admin", "audit", "--since", "1h"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = text
        .lines()
        .find(|l| l.contains("\tlogin_failed\t"))
        .unwrap_or_else(|| panic!("no failed login in the audit log:\n{text}"));
    assert!(line.contains("login_id=nobody-here"), "{line}");
    assert!(line.contains("addr=127.0.0.1"), "{line}");
    assert!(line.contains("+09:00"), "times are JST: {line}");

    // A date works too; a bad value is refused with a message naming it.
    let out = run_mamis(
        dir.path(),
        &data,
        &["admin", "audit", "--since", "2000-01-01"],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("login_failed"));
    let out = run_mamis(
        dir.path(),
        &data,
        &["admin", "audit", "--since", "yesterday"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--since"));
    server.stop();
}
