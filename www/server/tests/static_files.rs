//! The demo site and the wasm package are served with the types browsers insist on.

mod common;

use common::{Server, TempPath};

#[test]
fn site_and_package_are_served_with_correct_types_and_no_caching() {
    let db = TempPath::new("static-db");
    let site = TempPath::new("static-site");
    let www = site.path.join("www");
    let pkg = site.path.join("pkg");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(www.join("index.html"), "<h1>sendonce</h1>").unwrap();
    std::fs::write(pkg.join("sendonce_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(pkg.join("sendonce.js"), "export {};").unwrap();
    std::fs::write(site.path.join("secret.txt"), "no").unwrap();

    let server = Server::start(
        &db.path,
        &[
            "--www",
            www.to_str().unwrap(),
            "--pkg",
            pkg.to_str().unwrap(),
        ],
    );
    let index = server.get("/");
    assert_eq!(index.status, 200);
    assert_eq!(index.text(), "<h1>sendonce</h1>");
    assert_eq!(
        index.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(index.header("cache-control"), Some("no-store"));

    let wasm = server.get("/pkg/sendonce_bg.wasm");
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));
    assert_eq!(wasm.body, b"\0asm\x01\0\0\0");
    let js = server.get("/pkg/sendonce.js");
    assert_eq!(js.header("content-type"), Some("text/javascript"));
    assert_eq!(js.header("cache-control"), Some("no-store"));

    assert_eq!(server.get("/missing.html").status, 404);
    assert_ne!(server.get("/../secret.txt").status, 200);
    assert_ne!(server.get("/pkg/%2e%2e/secret.txt").status, 200);
    assert_eq!(server.get("/api/nothing-here").status, 404);
}
