//! Builds the Command Center (`web/`) with npm when its sources changed, and writes the code that embeds
//! `web/dist` (or, when there is no build, the reason, so the crate serves a placeholder page).
//!
//! * `npm ci` runs only when `web/node_modules` is missing or older than `web/package-lock.json`;
//!   `npm run build` only when `web/dist/index.html` is missing or older than one of its inputs
//!   (`web/src`, `web/public`, `web/index.html`, `web/package.json`, `web/package-lock.json`,
//!   `web/vite.config.*`, `web/tsconfig*.json`, the installed `node_modules`).
//! * Cargo re-runs this script only when those inputs change (never for `web/dist` or `node_modules`,
//!   which this script writes itself), or when `BINNACLE_WEB_SKIP_BUILD` changes.
//! * No npm, a failed install or a failed build never fail the Rust build: a `cargo:warning` says what
//!   happened and what to do, and the binary serves a page that says the UI was not built.
//! * `BINNACLE_WEB_SKIP_BUILD=1` never runs npm: the existing `web/dist` is embedded as it is (or the
//!   placeholder, when there is none).
//! * The files are copied to `OUT_DIR` (so deleting `web/dist` never breaks a later compile), text files
//!   also gzipped (fixed header, best compression), in sorted order: the same inputs give the same binary.

#[allow(dead_code)]
#[path = "src/shared.rs"]
mod shared;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Instant, SystemTime};

/// What the binary embeds.
enum Source {
    /// The files of `web/dist`.
    Dist,
    /// No build; the reason, shown on the placeholder page.
    Placeholder(String),
}

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let root = manifest.parent().and_then(Path::parent).map(Path::to_path_buf).unwrap_or_default();
    let web = root.join("web");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/shared.rs");
    println!("cargo:rerun-if-env-changed=BINNACLE_WEB_SKIP_BUILD");
    let mut watch = Vec::new();
    let source = prepare(&web, &mut watch);
    for path in &watch {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    if let Err(e) = embed(&source, &web.join("dist"), &out) {
        // Only a broken OUT_DIR gets here; fail loudly, as any other build script would.
        panic!("binnacle-web: cannot write the embedded files to {}: {e}", out.display());
    }
}

/// Runs npm as needed and decides what to embed; `watch` gets the paths whose changes must re-run this
/// script.
fn prepare(web: &Path, watch: &mut Vec<PathBuf>) -> Source {
    let dist_index = web.join("dist/index.html");
    let have_dist = dist_index.is_file();
    if !web.join("package.json").is_file() {
        if have_dist {
            watch.extend(inputs(web));
            watch.push(dist_index);
            return Source::Dist;
        }
        if web.is_dir() {
            watch.push(web.to_path_buf());
        }
        return not_built(&format!("{} has no package.json, so there is no web app to build", web.display()), &[]);
    }
    let inputs = inputs(web);
    let skip = std::env::var("BINNACLE_WEB_SKIP_BUILD").is_ok_and(|v| !v.is_empty() && v != "0");
    if skip {
        if have_dist {
            // Not written by this script, so watching it picks up a hand-run `npm run build`.
            watch.push(dist_index.clone());
            if newest(&inputs) > mtime(&dist_index) {
                warn(&["BINNACLE_WEB_SKIP_BUILD is set: embedding web/dist as it is, although it is older than its \
                     sources (run `npm run build` in web/ to refresh it)"]);
            }
            return Source::Dist;
        }
        watch.push(web.to_path_buf());
        return not_built(
            "BINNACLE_WEB_SKIP_BUILD is set and web/dist has not been built",
            &["unset BINNACLE_WEB_SKIP_BUILD (cargo then runs npm), or run `npm ci && npm run build` in web/"],
        );
    }
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    let version = Command::new(npm).arg("--version").output();
    if !version.as_ref().is_ok_and(|o| o.status.success()) {
        let fix = "install Node.js 20 or newer with npm, then `touch web/package.json` and build again";
        if have_dist {
            watch.extend(inputs);
            watch.push(dist_index);
            warn(&["npm was not found: embedding the existing web/dist, which may be older than web/src", fix]);
            return Source::Dist;
        }
        // Watch the whole folder, so that a hand-made build (or node_modules) re-runs this script.
        watch.push(web.to_path_buf());
        return not_built("npm was not found when this binary was built", &[fix]);
    }
    watch.extend(inputs.iter().cloned());
    // Two builds of the same tree (say cargo and an editor's cargo check on another target directory)
    // must not run npm in one folder at once.
    let _lock = lock(web);

    let lockfile = web.join("package-lock.json");
    let installed = web.join("node_modules/.package-lock.json");
    if mtime(&installed).is_none() || mtime(&installed) < mtime(&lockfile) {
        let started = Instant::now();
        if let Err(output) = npm_run(npm, web, &["ci", "--prefer-offline", "--no-audit", "--no-fund"]) {
            return failed("npm ci", &output);
        }
        println!("binnacle-web: npm ci took {:.1}s", started.elapsed().as_secs_f64());
    }
    let mut newest_input = newest(&inputs);
    newest_input = newest_input.max(mtime(&installed));
    if !have_dist || newest_input > mtime(&dist_index) {
        let started = Instant::now();
        if let Err(output) = npm_run(npm, web, &["run", "build", "--silent"]) {
            return failed("npm run build", &output);
        }
        println!("binnacle-web: npm run build took {:.1}s", started.elapsed().as_secs_f64());
        if !dist_index.is_file() {
            return not_built(
                "`npm run build` succeeded but wrote no web/dist/index.html",
                &["check `build.outDir` in web/vite.config.*"],
            );
        }
    }
    Source::Dist
}

/// The build's inputs that exist (cargo would re-run this script forever for a missing one).
fn inputs(web: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> =
        ["package.json", "package-lock.json", "index.html", "src", "public"].iter().map(|p| web.join(p)).collect();
    if let Ok(entries) = std::fs::read_dir(web) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("vite.config.") || name.starts_with("tsconfig") && name.ends_with(".json") {
                paths.push(entry.path());
            }
        }
    }
    paths.retain(|p| p.exists());
    paths.sort();
    paths
}

/// The newest modification time of the files (and folders, recursively) given.
fn newest(paths: &[PathBuf]) -> Option<SystemTime> {
    fn walk(path: &Path, best: &mut Option<SystemTime>) {
        *best = (*best).max(mtime(path));
        if path.is_dir()
            && let Ok(entries) = std::fs::read_dir(path)
        {
            for entry in entries.flatten() {
                walk(&entry.path(), best);
            }
        }
    }
    let mut best = None;
    for p in paths {
        walk(p, &mut best);
    }
    best
}

fn mtime(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// An exclusive lock on a file named after the web folder, held until dropped.
fn lock(web: &Path) -> Option<std::fs::File> {
    let canonical = std::fs::canonicalize(web).unwrap_or_else(|_| web.to_path_buf());
    let id = shared::etag(canonical.to_string_lossy().as_bytes()).replace('"', "");
    let path = std::env::temp_dir().join(format!("binnacle-web-{id}.lock"));
    let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(path).ok()?;
    file.lock().ok()?;
    Some(file)
}

/// Runs npm quietly in `web`; on failure, answers what it printed.
fn npm_run(npm: &str, web: &Path, args: &[&str]) -> Result<(), String> {
    let mut cmd = Command::new(npm);
    cmd.args(args).current_dir(web);
    // Cargo's variables for build scripts mean other things to Node tools (`DEBUG` turns on the `debug`
    // package); NODE_ENV=production would make `npm ci` leave out the build tools.
    for var in ["DEBUG", "OPT_LEVEL", "PROFILE", "TARGET", "HOST", "NUM_JOBS", "NODE_ENV"] {
        cmd.env_remove(var);
    }
    cmd.env("npm_config_update_notifier", "false")
        .env("npm_config_fund", "false")
        .env("npm_config_audit", "false")
        .env("npm_config_loglevel", "error")
        .env("NO_COLOR", "1")
        .env("FORCE_COLOR", "0");
    match cmd.output() {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!(
            "{}\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )),
        Err(e) => Err(format!("cannot run {npm}: {e}")),
    }
}

fn failed(step: &str, output: &str) -> Source {
    let lines: Vec<&str> = output.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = &lines[lines.len().saturating_sub(25)..];
    let mut msg = vec![format!("`{step}` in web/ failed; its last lines:")];
    msg.extend(tail.iter().map(|l| format!("  {l}")));
    let msg: Vec<&str> = msg.iter().map(String::as_str).collect();
    warn(&msg);
    not_built(
        &format!("`{step}` failed when this binary was built (the build printed why)"),
        &[&format!("fix the error (run `cd web && {step}` to see it), then build again")],
    )
}

fn not_built(reason: &str, fixes: &[&str]) -> Source {
    let mut lines = vec![format!("the Command Center (web UI) is not embedded: {reason}; the API works")];
    lines.extend(fixes.iter().map(|f| format!("to fix: {f}")));
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    warn(&lines);
    Source::Placeholder(reason.to_string())
}

fn warn(lines: &[&str]) {
    for line in lines {
        println!("cargo:warning=binnacle-web: {line}");
    }
}

/// Copies what is embedded to `OUT_DIR/web` and writes `OUT_DIR/embedded.rs`.
fn embed(source: &Source, dist: &Path, out: &Path) -> std::io::Result<()> {
    let dir = out.join("web");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    let mut code = String::from("// @generated by build.rs: the embedded build of web/dist.\n\n");
    let mut files = Vec::new();
    match source {
        Source::Dist => {
            collect(dist, "", &mut files)?;
            files.sort();
            let _ = writeln!(code, "pub(crate) const NOT_BUILT: Option<&str> = None;\n");
        }
        Source::Placeholder(reason) => {
            let _ = writeln!(code, "pub(crate) const NOT_BUILT: Option<&str> = Some({reason:?});\n");
        }
    }
    code.push_str("pub(crate) static FILES: &[crate::Embedded] = &[\n");
    for (n, (rel, path)) in files.iter().enumerate() {
        let body = std::fs::read(path)?;
        std::fs::write(dir.join(n.to_string()), &body)?;
        let include = |name: &str| format!("include_bytes!(concat!(env!(\"OUT_DIR\"), \"/web/{name}\"))");
        let mut gzip = String::from("None");
        if shared::compressible(rel) && body.len() >= 256 {
            let mut enc = flate2::GzBuilder::new().write(Vec::new(), flate2::Compression::best());
            enc.write_all(&body)?;
            let gz = enc.finish()?;
            if gz.len() * 10 < body.len() * 9 {
                std::fs::write(dir.join(format!("{n}.gz")), &gz)?;
                gzip = format!("Some({} as &[u8])", include(&format!("{n}.gz")));
            }
        }
        let _ = writeln!(
            code,
            "    crate::Embedded {{ path: {rel:?}, body: {}, gzip: {gzip}, etag: {:?} }},",
            include(&n.to_string()),
            shared::etag(&body)
        );
    }
    code.push_str("];\n");
    std::fs::write(out.join("embedded.rs"), code)
}

/// The files under `dir` (not dot-files: `.vite/` manifests are not served), as (path with `/`, file).
fn collect(dir: &Path, prefix: &str, files: &mut Vec<(String, PathBuf)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            warn(&[&format!("skipping {}: not a UTF-8 file name", entry.path().display())]);
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        let rel = format!("{prefix}{name}");
        if entry.file_type()?.is_dir() {
            collect(&entry.path(), &format!("{rel}/"), files)?;
        } else {
            files.push((rel, entry.path()));
        }
    }
    Ok(())
}
