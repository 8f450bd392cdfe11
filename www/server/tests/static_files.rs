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

#[test]
fn symlinks_out_of_the_site_and_hidden_files_are_not_served() {
    let db = TempPath::new("static-links-db");
    let site = TempPath::new("static-links");
    let www = site.path.join("www");
    std::fs::create_dir_all(www.join("docs")).unwrap();
    std::fs::write(www.join("index.html"), "<h1>home</h1>").unwrap();
    std::fs::write(www.join("docs").join("a.txt"), "inside").unwrap();
    std::fs::write(www.join(".env"), "SECRET=1").unwrap();
    std::fs::write(site.path.join("secret.txt"), "the secret").unwrap();
    let link = |target: &str, name: &str| {
        std::os::unix::fs::symlink(target, www.join(name)).unwrap();
    };
    link("../secret.txt", "leak.txt"); // a file outside
    link("..", "up"); // a directory outside
    link("/etc", "etc"); // an absolute one
    link("docs/a.txt", "alias.txt"); // stays inside: fine

    let server = Server::start(&db.path, &["--www", www.to_str().unwrap()]);
    for path in [
        "/leak.txt",
        "/up/secret.txt",
        "/etc/hostname",
        "/etc/passwd",
        "/.env",
    ] {
        let reply = server.get(path);
        assert_eq!(reply.status, 404, "{path}: {}", reply.text());
        assert!(!reply.text().contains("secret"), "{path}");
    }
    let alias = server.get("/alias.txt");
    assert_eq!((alias.status, alias.text().as_str()), (200, "inside"));
    assert_eq!(server.get("/docs/a.txt").status, 200);
    assert_eq!(server.get("/").text(), "<h1>home</h1>");
}

#[test]
fn the_servers_own_sources_and_cargo_files_are_not_served() {
    // The real site directory, which holds this server's crate in `server/`.
    let www = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    assert!(www.join("server/src/main.rs").is_file());
    let db = TempPath::new("static-own-db");
    let server = Server::start(&db.path, &["--www", www.to_str().unwrap()]);
    for path in [
        "/server/src/main.rs",
        "/server/src/static_files.rs",
        "/server/Cargo.toml",
        "/server/README.md",
        "/server/tests/static_files.rs",
        "/server/",
        "/server/src/",
        "/%73erver/Cargo.toml",
    ] {
        let reply = server.get(path);
        assert_eq!(reply.status, 404, "{path}: {}", reply.text());
        assert!(!reply.text().contains("fn main"), "{path}");
        assert!(!reply.text().contains("[package]"), "{path}");
    }
    // The demo pages themselves are still there.
    assert_eq!(server.get("/chaos.html").status, 200);
    assert_eq!(server.get("/").status, 200);
}
