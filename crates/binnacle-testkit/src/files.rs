//! A static file server for a directory (e.g. a Helm chart repository: `index.yaml` and chart
//! archives), on loopback only, stopped when its handle is dropped.

use axum::Router;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use tokio::sync::oneshot;

/// A running file server. Dropping it stops the server.
#[derive(Debug)]
pub struct FileServerHandle {
    url: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl FileServerHandle {
    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for FileServerHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Serves the files under `dir` (GET only; no directory listings; paths cannot leave `dir`).
pub async fn serve_dir(listen: SocketAddr, dir: PathBuf) -> std::io::Result<(SocketAddr, FileServerHandle)> {
    if !listen.ip().is_loopback() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("the file server listens on loopback addresses only, not {listen}"),
        ));
    }
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let root = Arc::new(dir);
    let router = Router::new().fallback(move |uri: Uri| {
        let root = root.clone();
        async move { serve(&root, &uri).await }
    });
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await;
    });
    Ok((addr, FileServerHandle { url: format!("http://{addr}"), shutdown: Some(tx), task: Some(task) }))
}

async fn serve(root: &Path, uri: &Uri) -> Response {
    let rel = Path::new(uri.path().trim_start_matches('/'));
    if rel.as_os_str().is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return StatusCode::NOT_FOUND.into_response();
    }
    match tokio::fs::read(root.join(rel)).await {
        Ok(bytes) => {
            let kind = match rel.extension().and_then(|e| e.to_str()) {
                Some("yaml") | Some("yml") => "application/x-yaml",
                Some("tgz") | Some("gz") => "application/gzip",
                Some("json") => "application/json",
                _ => "application/octet-stream",
            };
            ([(header::CONTENT_TYPE, kind)], bytes).into_response()
        }
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}
