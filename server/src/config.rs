//! Command-line options, read once into a complete [`Config`].
//!
//! Parsed by hand (no clap) to keep the build small; every option has a default so that
//! `sendonce-server` alone starts a usable demo server.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

use crate::quirks::Quirks;

/// One day, the retention the idempotency draft suggests as a sensible default.
pub const DEFAULT_RETENTION_MS: u64 = 24 * 60 * 60 * 1000;

/// Everything the server needs to start, with defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Loopback address to listen on; port 0 picks a free port.
    pub addr: SocketAddr,
    /// SQLite file holding idempotency records and the demo data.
    pub db: PathBuf,
    /// Directory served at `/`.
    pub www: PathBuf,
    /// Directory served at `/pkg/` (the wasm-pack output).
    pub pkg: PathBuf,
    /// Directory served at `/test/` (`--test-pages`): the pages only the end-to-end tests and
    /// the chaos scripts open. `None` (the default) serves nothing there.
    pub test_pages: Option<PathBuf>,
    /// How long a finished idempotency record answers repeats, in milliseconds.
    pub retention_ms: u64,
    /// Fraction (0..=1) of idempotent requests that get a random fault; 0 turns it off.
    pub chaos_rate: f64,
    /// Seed of the random fault profile; `None` means "pick one from the clock".
    pub seed: Option<u64>,
    /// Do not print one line per request to stderr.
    pub quiet: bool,
    /// Deviations from the draft that imitate real servers (`--quirks a,b`); empty = faithful.
    pub quirks: Quirks,
    /// The one other origin whose pages may call the API (`--cors-origin`); none by default.
    pub cors_origin: Option<String>,
    /// Serve the demo reads that list every key (`--demo`): effects, the request log, key
    /// traces, the order and ticket lists. Off by default; on, they answer this server's own
    /// pages and scripts only (see [`crate::origin::demo_reads`]).
    pub demo: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            db: PathBuf::from("sendonce-demo.sqlite3"),
            www: PathBuf::from("www"),
            pkg: PathBuf::from("pkg"),
            test_pages: None,
            retention_ms: DEFAULT_RETENTION_MS,
            chaos_rate: 0.0,
            seed: None,
            quiet: false,
            quirks: Quirks::default(),
            cors_origin: None,
            demo: false,
        }
    }
}

/// What the command line asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Run the server with this configuration.
    Run(Box<Config>),
    /// Print [`USAGE`] and exit successfully.
    Help,
}

/// The text printed for `--help` and after a bad option.
pub const USAGE: &str = "\
usage: sendonce-server [options]

  --addr HOST:PORT   loopback address to listen on (default 127.0.0.1:8080, port 0 = any free port)
  --db PATH          SQLite file for idempotency records and demo data (default sendonce-demo.sqlite3)
  --www DIR          static files served at / (default www)
  --pkg DIR          wasm-pack output served at /pkg/ (default pkg)
  --test-pages DIR   pages for the end-to-end tests and chaos scripts, served at /test/
                     (default: none; the repository's are in tests/pages)
  --retention MS     how long a finished key answers repeats (default 86400000 = 24 h)
  --chaos RATE       fraction 0..1 of idempotent requests that fail on purpose (default 0 = off)
  --seed N           seed of the random fault profile (default: from the clock)
  --quirks A,B       answer like real servers do (default: none, the faithful draft):
                     no-replay-header, replay-5xx, mismatch-417, html-409,
                     mismatch-silent-replay, global-keys, order-sensitive
  --cors-origin URL  let pages on this origin call the API (CORS; default: same origin only)
  --demo             serve the demo reads that list every key (/api/effects, /api/log,
                     /api/trace/KEY, GET /api/orders and /api/tickets) to this server's
                     own pages and scripts (default: off, they answer 404)
  --quiet            do not log requests and trace lines to stderr
  --help             print this text
";

/// Reads the arguments after the program name.
///
/// ```
/// use sendonce_server::config::{parse_args, Command};
/// let Command::Run(c) = parse_args(["--addr", "127.0.0.1:0", "--quiet"]).unwrap() else { panic!() };
/// assert_eq!(c.addr.port(), 0);
/// assert!(c.quiet);
/// ```
pub fn parse_args<I, S>(args: I) -> Result<Command, String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let mut config = Config::default();
    let mut args = args.into_iter().map(Into::into);
    while let Some(arg) = args.next() {
        // Accept both `--name value` and `--name=value`.
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match name.as_str() {
            "--help" | "-h" => return Ok(Command::Help),
            "--quiet" | "-q" => config.quiet = true,
            "--demo" => config.demo = true,
            "--addr" => config.addr = parse_loopback(&value("--addr")?)?,
            "--db" => config.db = PathBuf::from(value("--db")?),
            "--www" => config.www = PathBuf::from(value("--www")?),
            "--pkg" => config.pkg = PathBuf::from(value("--pkg")?),
            "--test-pages" => config.test_pages = Some(PathBuf::from(value("--test-pages")?)),
            "--retention" => {
                let v = value("--retention")?;
                config.retention_ms =
                    v.parse::<u64>().ok().filter(|ms| *ms > 0).ok_or_else(|| {
                        format!("--retention wants a positive number of ms, got {v:?}")
                    })?;
            }
            "--chaos" => {
                let v = value("--chaos")?;
                config.chaos_rate = v
                    .parse::<f64>()
                    .ok()
                    .filter(|r| (0.0..=1.0).contains(r))
                    .ok_or_else(|| format!("--chaos wants a rate between 0 and 1, got {v:?}"))?;
            }
            "--seed" => {
                let v = value("--seed")?;
                config.seed = Some(
                    v.parse::<u64>()
                        .map_err(|_| format!("--seed wants a whole number, got {v:?}"))?,
                );
            }
            "--quirks" => config.quirks = Quirks::parse(&value("--quirks")?)?,
            "--cors-origin" => {
                config.cors_origin = Some(crate::cors::parse_origin(&value("--cors-origin")?)?)
            }
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    Ok(Command::Run(Box::new(config)))
}

/// Resolves `host:port` and insists on a loopback address: this server fails on purpose and
/// must never be reachable from another machine.
fn parse_loopback(text: &str) -> Result<SocketAddr, String> {
    let addrs: Vec<SocketAddr> = text
        .to_socket_addrs()
        .map_err(|e| format!("--addr {text:?}: {e}"))?
        .collect();
    addrs
        .iter()
        .copied()
        .find(|a| a.ip().is_loopback())
        .filter(|_| addrs.iter().all(|a| a.ip().is_loopback()))
        .ok_or_else(|| {
            format!("--addr {text:?} is not a loopback address (use 127.0.0.1 or [::1])")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Config, String> {
        match parse_args(args.iter().copied())? {
            Command::Run(c) => Ok(*c),
            Command::Help => Err("help".into()),
        }
    }

    #[test]
    fn defaults_make_a_usable_demo_server() {
        let c = run(&[]).unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.retention_ms, 86_400_000);
        assert_eq!(c.addr.to_string(), "127.0.0.1:8080");
    }

    #[test]
    fn every_option_is_read() {
        let c = run(&[
            "--addr",
            "127.0.0.1:0",
            "--db",
            "x.sqlite3",
            "--www=site",
            "--pkg",
            "out",
            "--test-pages",
            "pages",
            "--retention",
            "500",
            "--chaos",
            "0.25",
            "--seed",
            "7",
            "--quiet",
            "--demo",
            "--quirks",
            "html-409,global-keys",
        ])
        .unwrap();
        assert_eq!(c.quirks.names(), "html-409,global-keys");
        let cors = run(&["--cors-origin", "http://localhost:5173/"]).unwrap();
        assert_eq!(cors.cors_origin.as_deref(), Some("http://localhost:5173"));
        assert!(run(&["--cors-origin", "*"]).is_err());
        assert_eq!(c.addr.port(), 0);
        assert_eq!(c.db, PathBuf::from("x.sqlite3"));
        assert_eq!(c.www, PathBuf::from("site"));
        assert_eq!(c.pkg, PathBuf::from("out"));
        assert_eq!(c.test_pages, Some(PathBuf::from("pages")));
        assert_eq!(
            run(&[]).unwrap().test_pages,
            None,
            "no test pages by default"
        );
        assert_eq!(c.retention_ms, 500);
        assert_eq!(c.chaos_rate, 0.25);
        assert_eq!(c.seed, Some(7));
        assert!(c.quiet);
        assert!(c.demo);
        assert!(!run(&[]).unwrap().demo, "the demo reads are off by default");
    }

    #[test]
    fn refuses_addresses_other_machines_could_reach() {
        assert!(run(&["--addr", "0.0.0.0:8080"]).is_err());
        assert!(run(&["--addr", "10.1.2.3:8080"]).is_err());
        assert!(run(&["--addr", "[::1]:0"]).is_ok());
    }

    #[test]
    fn refuses_bad_values_with_a_reason() {
        assert!(run(&["--chaos", "2"]).unwrap_err().contains("--chaos"));
        assert!(run(&["--retention", "soon"])
            .unwrap_err()
            .contains("--retention"));
        assert!(run(&["--seed"]).unwrap_err().contains("needs a value"));
        assert!(run(&["--bogus"]).unwrap_err().contains("unknown option"));
        assert!(run(&["--quirks", "html-409,bogus"])
            .unwrap_err()
            .contains("unknown quirk"));
        assert_eq!(parse_args(["--help"]).unwrap(), Command::Help);
    }
}
