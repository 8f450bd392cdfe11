//! The demo site, the test pages and the wasm package are served with the types browsers
//! insist on, and nothing outside their directories is.

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
fn the_repositorys_pages_are_served_and_nothing_beside_them() {
    // The repository's real layout: the demo in `www/`, the test pages in `tests/pages/`, and
    // this server's crate in `server/`, beside them rather than inside.
    let crate_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .canonicalize()
        .unwrap();
    let repo = crate_dir.parent().unwrap();
    let www = repo.join("www");
    let pages = repo.join("tests").join("pages");
    assert!(crate_dir.join("src/main.rs").is_file());
    for served in [&www, &pages] {
        assert!(
            !crate_dir.starts_with(served.canonicalize().unwrap()),
            "the server's crate must not lie inside the served {}",
            served.display()
        );
    }
    let db = TempPath::new("static-own-db");
    let args = ["--www", www.to_str().unwrap()];
    let with_pages = [&args[..], &["--test-pages", pages.to_str().unwrap()]].concat();
    let server = Server::start(&db.path, &with_pages);
    for path in [
        "/server/src/main.rs",
        "/server/Cargo.toml",
        "/Cargo.toml",
        "/src/lib.rs",
        "/../server/src/main.rs",
        "/%2e%2e/server/src/static_files.rs",
        "/%2e%2e/Cargo.toml",
        "/test/../../../server/src/main.rs",
        "/test/%2e%2e/%2e%2e/server/Cargo.toml",
        "/test/%2e%2e/e2e/harness.mjs",
        "/pkg/%2e%2e/server/src/main.rs",
        "/pkg/%2e%2e/Cargo.toml",
    ] {
        let reply = server.get(path);
        assert_ne!(reply.status, 200, "{path}: {}", reply.text());
        assert!(!reply.text().contains("fn main"), "{path}");
        assert!(!reply.text().contains("[package]"), "{path}");
        assert!(!reply.text().contains("[workspace]"), "{path}");
    }
    // The demo at `/`, the test pages at `/test/` only; the demo's styles serve both.
    for path in [
        "/",
        "/chat.html",
        "/demo.css",
        "/test/e2e.html",
        "/test/chaos.html",
    ] {
        assert_eq!(server.get(path).status, 200, "{path}");
    }
    let chaos = server.get("/test/chaos.js");
    assert_eq!(chaos.status, 200);
    assert_eq!(chaos.header("content-type"), Some("text/javascript"));
    assert_eq!(
        server.get("/e2e.html").status,
        404,
        "test pages are not demo pages"
    );
    assert_eq!(server.get("/chaos.html").status, 404);

    // Without `--test-pages` there is nothing at `/test/`.
    let db = TempPath::new("static-own-db-demo");
    let demo = Server::start(&db.path, &args);
    assert_eq!(demo.get("/").status, 200);
    assert_eq!(demo.get("/test/e2e.html").status, 404);
    assert_eq!(demo.get("/test/chaos.js").status, 404);
}
