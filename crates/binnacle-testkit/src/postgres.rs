//! PostgreSQL for tests: a throwaway server on loopback, and a fresh empty database per test.
//!
//! [`postgres_database`] gives each caller a new database. When `BINNACLE_TEST_POSTGRES_URL` names a
//! server (`postgres://postgres@127.0.0.1:PORT/postgres`, a user allowed to `CREATE DATABASE`), the
//! database is made there; otherwise one server per test process is started with [`PostgresServer::start`]
//! and shared by the process's tests. Dropping the [`TestDatabase`] drops the database (best effort).
//!
//! [`PostgresServer::start`] runs `initdb` and `pg_ctl` (found on `PATH` or under
//! `/usr/lib/postgresql/*/bin`) on a data directory under the temporary directory, with trust
//! authentication for the `postgres` user, listening on `127.0.0.1` on a port chosen at run time and on a
//! Unix socket in that directory. PostgreSQL refuses to run as root; as root, the server runs as the
//! `postgres` user (or `nobody`). A small watchdog process stops the server and removes the directory when
//! the handle is dropped or when the test process ends, however it ends.

use anyhow::{Context, bail};
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable naming a PostgreSQL server to make test databases on.
pub const POSTGRES_URL_ENV: &str = "BINNACLE_TEST_POSTGRES_URL";

/// A running throwaway PostgreSQL server. Dropping it stops the server and removes its files.
#[derive(Debug)]
pub struct PostgresServer {
    url: String,
    port: u16,
    dir: PathBuf,
    watchdog: Option<Child>,
    watchdog_stdin: Option<ChildStdin>,
}

/// Distinguishes the directories and databases made by one process.
static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_suffix() -> String {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{}_{}_{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

impl PostgresServer {
    /// Initialises a data directory and starts a server on `127.0.0.1` (a free port chosen now). Takes
    /// about a second; blocking.
    pub fn start() -> anyhow::Result<PostgresServer> {
        let initdb = find_binary("initdb")?;
        let pg_ctl = find_binary("pg_ctl")?;
        let dir = std::env::temp_dir().join(format!("binnacle-pg-{}", unique_suffix()));
        std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let result = Self::start_in(&dir, &initdb, &pg_ctl);
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&dir);
        }
        result
    }

    fn start_in(dir: &Path, initdb: &Path, pg_ctl: &Path) -> anyhow::Result<PostgresServer> {
        let run_as = if std::fs::metadata(dir)?.uid() == 0 {
            let (name, uid, gid) = unprivileged_user()?;
            std::os::unix::fs::chown(dir, Some(uid), Some(gid))
                .with_context(|| format!("giving {} to the user {name}", dir.display()))?;
            Some((uid, gid))
        } else {
            None
        };
        let command = |program: &Path| {
            let mut cmd = Command::new(program);
            cmd.current_dir(dir).stdin(Stdio::null());
            if let Some((uid, gid)) = run_as {
                cmd.uid(uid).gid(gid);
            }
            cmd
        };
        let data = dir.join("data");

        let out = command(initdb)
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"])
            .output()
            .with_context(|| format!("running {}", initdb.display()))?;
        if !out.status.success() {
            bail!(
                "initdb failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }

        let log = dir.join("postgres.log");
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = free_port()?;
            let options = format!(
                "-p {port} -k '{}' -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
                 -c full_page_writes=off -c max_connections=300",
                dir.display()
            );
            let pg_ctl_log = dir.join("pg_ctl.log");
            let pg_ctl_out = File::create(&pg_ctl_log)?;
            let status = command(pg_ctl)
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t", "60", "-o", &options, "start"])
                .stdout(pg_ctl_out.try_clone()?)
                .stderr(pg_ctl_out)
                .status()
                .with_context(|| format!("running {}", pg_ctl.display()))?;
            if status.success() {
                let (watchdog, watchdog_stdin) = spawn_watchdog(dir, &data, pg_ctl, run_as)?;
                return Ok(PostgresServer {
                    url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
                    port,
                    dir: dir.to_path_buf(),
                    watchdog: Some(watchdog),
                    watchdog_stdin: Some(watchdog_stdin),
                });
            }
            last_error = format!("pg_ctl start failed ({status}): {}\n{}", read_tail(&pg_ctl_log), read_tail(&log));
            // The port may have been taken in between; make sure nothing half-started stays, then retry.
            let _ = command(pg_ctl).arg("-D").arg(&data).args(["-m", "immediate", "stop"]).output();
        }
        bail!("{last_error}")
    }

    /// The server URL, to the `postgres` database as the `postgres` superuser:
    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory with the data directory, the Unix socket and the logs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        // Closing the watchdog's standard input makes it stop the server and remove the directory.
        drop(self.watchdog_stdin.take());
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.wait();
        }
    }
}

/// A process that waits for its standard input to close (the handle dropped, or this process gone, however
/// it ended), then stops the server and removes its directory.
fn spawn_watchdog(
    dir: &Path,
    data: &Path,
    pg_ctl: &Path,
    run_as: Option<(u32, u32)>,
) -> anyhow::Result<(Child, ChildStdin)> {
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        // Signals meant for the test process's group (Ctrl-C, `timeout`, a test runner's SIGTERM) must not
        // end the watchdog before it has done its job: it ignores them and has a process group of its own.
        .arg(
            r#"trap '' HUP INT TERM; cat >/dev/null 2>&1; "$0" -D "$1" -m immediate stop >/dev/null 2>&1; rm -rf "$2""#,
        )
        .arg(pg_ctl)
        .arg(data)
        .arg(dir)
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    if let Some((uid, gid)) = run_as {
        cmd.uid(uid).gid(gid);
    }
    let mut child = cmd.spawn().context("starting the PostgreSQL watchdog")?;
    let stdin = child.stdin.take().context("the watchdog has no standard input")?;
    Ok((child, stdin))
}

/// The last few lines of a log file, for error messages.
fn read_tail(path: &Path) -> String {
    let mut text = String::new();
    if let Ok(mut file) = File::open(path) {
        let _ = file.read_to_string(&mut text);
    }
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// A port free on loopback right now.
fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// `name` on `PATH`, else in the newest `/usr/lib/postgresql/*/bin`.
fn find_binary(name: &str) -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let candidate = entry.path().join("bin").join(name);
            candidate.is_file().then_some((version, candidate))
        })
        .collect();
    versions.sort();
    match versions.pop() {
        Some((_, path)) => Ok(path),
        None => bail!(
            "{name} not found on PATH or under /usr/lib/postgresql/*/bin: install PostgreSQL or set {POSTGRES_URL_ENV}"
        ),
    }
}

/// The user a server started by root runs as: `postgres`, else `nobody`, from `/etc/passwd`.
fn unprivileged_user() -> anyhow::Result<(String, u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").context("reading /etc/passwd")?;
    for wanted in ["postgres", "nobody"] {
        for line in passwd.lines() {
            let fields: Vec<&str> = line.split(':').collect();
            if fields.len() >= 4
                && fields[0] == wanted
                && let (Ok(uid), Ok(gid)) = (fields[2].parse(), fields[3].parse())
            {
                return Ok((wanted.to_string(), uid, gid));
            }
        }
    }
    bail!("PostgreSQL refuses to run as root and there is no postgres or nobody user to run it as")
}

/// A fresh, empty database on a test server. Dropping it drops the database (best effort).
#[derive(Debug)]
pub struct TestDatabase {
    url: String,
    server_url: String,
    name: String,
}

impl TestDatabase {
    /// The database URL, e.g. `postgres://postgres@127.0.0.1:PORT/binnacle_test_…`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let server_url = self.server_url.clone();
        let name = self.name.clone();
        // On a thread of its own: Drop may run inside (or outside) an async runtime.
        let dropper = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            runtime.block_on(async move {
                if let Ok(mut conn) = PgConnection::connect(&server_url).await {
                    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    let _ = sqlx::raw_sql(&sql).execute(&mut conn).await;
                    let _ = conn.close().await;
                }
            });
        });
        let _ = dropper.join();
    }
}

/// The server this process's tests share when `BINNACLE_TEST_POSTGRES_URL` is not set.
static SHARED_SERVER: OnceLock<Result<PostgresServer, String>> = OnceLock::new();

/// A fresh, empty database: on the server `BINNACLE_TEST_POSTGRES_URL` names when set, else on a server
/// started for this test process (once, shared by its tests).
pub async fn postgres_database() -> anyhow::Result<TestDatabase> {
    let server_url = match std::env::var(POSTGRES_URL_ENV) {
        Ok(url) if !url.trim().is_empty() => url.trim().to_string(),
        _ => {
            tokio::task::spawn_blocking(|| {
                match SHARED_SERVER.get_or_init(|| PostgresServer::start().map_err(|e| format!("{e:#}"))) {
                    Ok(server) => Ok(server.url().to_string()),
                    Err(e) => Err(anyhow::anyhow!("starting a PostgreSQL server for the tests: {e}")),
                }
            })
            .await??
        }
    };
    create_database(&server_url).await
}

/// Creates a uniquely named database on the server at `server_url`.
pub async fn create_database(server_url: &str) -> anyhow::Result<TestDatabase> {
    let name = format!("binnacle_test_{}", unique_suffix());
    let mut conn = PgConnection::connect(server_url)
        .await
        .with_context(|| format!("connecting to the PostgreSQL server {}", redact(server_url)))?;
    sqlx::raw_sql(&format!("CREATE DATABASE \"{name}\"")).execute(&mut conn).await.context("CREATE DATABASE")?;
    let _ = conn.close().await;
    let mut url = url::Url::parse(server_url).context("parsing the PostgreSQL server URL")?;
    url.set_path(&format!("/{name}"));
    Ok(TestDatabase { url: url.to_string(), server_url: server_url.to_string(), name })
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "(an unparsable URL)".to_string(),
    }
}
