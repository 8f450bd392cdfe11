//! The endpoints that change the server's own state (faults, reset) take no orders from
//! another site: a page elsewhere could otherwise wipe the data or arm faults with a form post.

mod common;

use common::{Server, TempPath};

const ORDER: &str = r#"{"item":"tea","qty":2}"#;

/// The admin requests that change state, as `(method, path, body)`.
const ADMIN: [(&str, &str, &str); 4] = [
    ("POST", "/api/faults", r#"{"faults":["500"]}"#),
    ("DELETE", "/api/faults", ""),
    ("POST", "/api/faults/profile", r#"{"rate":1,"seed":1}"#),
    ("POST", "/api/reset", ""),
];

fn admin(server: &Server, method: &str, path: &str, body: &str, extra: &[(&str, &str)]) -> u16 {
    let mut headers = vec![("Content-Type", "application/json")];
    headers.extend_from_slice(extra);
    server.request(method, path, &headers, body).status
}

#[test]
fn cross_site_admin_requests_are_403_and_change_nothing() {
    let db = TempPath::new("admin-cross-site");
    let server = Server::start(&db.path, &[]);
    assert_eq!(server.post("/api/orders", "k1", ORDER, &[]).status, 201);
    let evil = [
        vec![("Origin", "http://evil.example")],
        vec![("Origin", "null")],
        // Same host, another port: another origin.
        vec![("Origin", "http://127.0.0.1:1")],
        // A browser that sends no Origin but says where the request comes from.
        vec![("Sec-Fetch-Site", "cross-site")],
    ];
    for headers in &evil {
        for (method, path, body) in ADMIN {
            let reply = server.request(
                method,
                path,
                &[&[("Content-Type", "application/json")], headers.as_slice()].concat(),
                body,
            );
            assert_eq!(reply.status, 403, "{method} {path} with {headers:?}");
            assert_eq!(
                reply.header("content-type"),
                Some("application/problem+json")
            );
        }
    }
    // A form post from another site, the classic cross-site request.
    let form = server.request(
        "POST",
        "/api/reset",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Origin", "https://evil.example"),
        ],
        "x=1",
    );
    assert_eq!(form.status, 403);

    // Nothing was reset, no fault armed, no profile set.
    assert_eq!(server.order_count(), 1);
    let faults = server.get_json("/api/faults");
    assert_eq!(faults["armed"], serde_json::json!([]), "{faults}");
    assert_eq!(faults["profile"], serde_json::Value::Null, "{faults}");
    assert_eq!(server.post("/api/orders", "k2", ORDER, &[]).status, 201);
}

#[test]
fn a_rebound_host_name_cannot_reach_the_admin_endpoints() {
    // DNS rebinding: the page's origin is the attacker's name, which now points at loopback,
    // so Origin and Host agree; the Host is not a loopback name, though.
    let db = TempPath::new("admin-rebind");
    let server = Server::start(&db.path, &[]);
    assert_eq!(server.post("/api/orders", "k1", ORDER, &[]).status, 201);
    let port = server.addr.rsplit(':').next().unwrap();
    let host = format!("rebind.example:{port}");
    let origin = format!("http://{host}");
    let reply = common::request(
        &server.addr,
        "POST",
        "/api/reset",
        &[("Host", host.as_str()), ("Origin", origin.as_str())],
        b"",
    )
    .unwrap();
    assert_eq!(reply.status, 403, "{}", reply.text());
    assert_eq!(server.order_count(), 1);
}

#[test]
fn same_origin_pages_and_clients_without_origin_still_administer() {
    let db = TempPath::new("admin-same-origin");
    let server = Server::start(&db.path, &[]);
    let own = format!("http://{}", server.addr);
    let localhost = format!(
        "http://localhost:{}",
        server.addr.rsplit(':').next().unwrap()
    );
    for (method, path, body) in ADMIN {
        // A script (Node fetch, curl): no Origin at all.
        assert_eq!(
            admin(&server, method, path, body, &[]),
            200,
            "{method} {path}"
        );
        // The demo pages, served by this server.
        assert_eq!(
            admin(
                &server,
                method,
                path,
                body,
                &[("Origin", own.as_str()), ("Sec-Fetch-Site", "same-origin")]
            ),
            200,
            "{method} {path} from {own}"
        );
    }
    // Opened as localhost: Origin and Host both say localhost.
    let port = server.addr.rsplit(':').next().unwrap();
    let host = format!("localhost:{port}");
    let reply = common::request(
        &server.addr,
        "POST",
        "/api/reset",
        &[("Host", host.as_str()), ("Origin", localhost.as_str())],
        b"",
    )
    .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text());
    // The demo reads (with --demo) answer this server's own pages and scripts, and no one else.
    assert_eq!(
        server
            .request("GET", "/api/effects", &[("Origin", own.as_str())], "")
            .status,
        200
    );
    assert_eq!(
        server
            .request(
                "GET",
                "/api/effects",
                &[("Origin", "http://evil.example")],
                ""
            )
            .status,
        403
    );
}

/// The reads that list every key (and what it carried), by path.
const DEMO_READS: [&str; 6] = [
    "/api/effects",
    "/api/log",
    "/api/log/counts",
    "/api/trace/secret-order-key",
    "/api/orders",
    "/api/tickets",
];

#[test]
fn without_demo_no_read_lists_keys_and_the_api_still_works() {
    let db = TempPath::new("demo-reads-off");
    let server = Server::start_without_demo(&db.path, &[]);
    let placed = server.post("/api/orders", "secret-order-key", ORDER, &[]);
    assert_eq!(placed.status, 201, "{}", placed.text());
    // The replay still works: the key is honoured, just not listed.
    let replay = server.post("/api/orders", "secret-order-key", ORDER, &[]);
    assert_eq!(replay.status, 201);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    for path in DEMO_READS {
        // Anyone: a script on the machine, a page of this server, another site.
        for headers in [
            vec![],
            vec![("Origin", "http://evil.example")],
            vec![("Sec-Fetch-Site", "same-origin")],
        ] {
            let reply = server.request("GET", path, &headers, "");
            assert_eq!(
                reply.status,
                404,
                "GET {path} {headers:?}: {}",
                reply.text()
            );
            assert!(
                !reply.text().contains("secret-order-key") || path.starts_with("/api/trace/"),
                "GET {path} leaked the key: {}",
                reply.text()
            );
            assert!(reply.text().contains("--demo"), "{}", reply.text());
        }
    }
}

#[test]
fn with_demo_the_reads_refuse_other_sites_and_rebound_hosts() {
    let db = TempPath::new("demo-reads-cross-site");
    let shop = "http://shop.example:5173";
    let server = Server::start(&db.path, &["--cors-origin", shop]);
    assert_eq!(
        server
            .post("/api/orders", "secret-order-key", ORDER, &[])
            .status,
        201
    );
    let port = server.addr.rsplit(':').next().unwrap();
    let rebound = format!("rebind.example:{port}");
    let rebound_origin = format!("http://{rebound}");
    for path in DEMO_READS {
        for headers in [
            vec![("Origin", "http://evil.example")],
            // The one origin let in by --cors-origin may place orders, not read everyone's keys.
            vec![("Origin", shop)],
            vec![("Sec-Fetch-Site", "cross-site")],
            vec![
                ("Host", rebound.as_str()),
                ("Origin", rebound_origin.as_str()),
            ],
        ] {
            let reply = common::request(&server.addr, "GET", path, &headers, b"").unwrap();
            assert_eq!(
                reply.status,
                403,
                "GET {path} {headers:?}: {}",
                reply.text()
            );
            assert!(
                !reply.text().contains("secret-order-key"),
                "GET {path} leaked the key"
            );
            // The lists share their path with the POSTs the --cors-origin page may send, so
            // that answer names the page; a 403 without a key in it.
            if !path.ends_with("/orders") && !path.ends_with("/tickets") {
                assert_eq!(
                    reply.header("access-control-allow-origin"),
                    None,
                    "GET {path}"
                );
            }
        }
        // A script on this machine (no Origin) reads it: the demo pages and the tests.
        let reply = server.request("GET", path, &[], "");
        assert_eq!(reply.status, 200, "GET {path}: {}", reply.text());
    }
    let effects = server.get_json("/api/effects");
    assert_eq!(effects["total"], 1, "{effects}");
}
