//! `pods/{name}/exec` over WebSocket with the `v5.channel.k8s.io` / `v4.channel.k8s.io` subprotocols that
//! kubectl and kube-rs speak: binary frames whose first byte is the channel (0 stdin, 1 stdout, 2 stderr,
//! 3 status, 4 resize, 255 close in v5). Commands run in a small simulated shell, so `kubectl exec` and
//! the exec tool have something real to talk to; it does not pretend to be a full shell.

use crate::cluster::Cluster;
use crate::error::{ApiError, ApiResult};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::response::Response;
use serde_json::{Value, json};
use std::sync::Arc;

const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const STATUS: u8 = 3;
const CLOSE: u8 = 255;

/// What the exec request asked for.
#[derive(Debug, Clone)]
pub struct ExecRequest {
    /// Namespace.
    pub namespace: String,
    /// Pod.
    pub pod: String,
    /// Container (defaults to the only or the default container).
    pub container: Option<String>,
    /// argv.
    pub command: Vec<String>,
    /// Whether stdin is attached.
    pub stdin: bool,
}

/// The output of one simulated command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutput {
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Exit code.
    pub exit_code: i32,
}

/// Checks the pod and container and returns the environment the shell sees.
pub fn prepare(cluster: &Cluster, req: &ExecRequest) -> ApiResult<(Value, String)> {
    let pods = cluster.resource("", "v1", "pods")?;
    let pod = cluster.get(&pods, &req.namespace, &req.pod)?;
    let containers: Vec<String> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| cs.iter().filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string)).collect())
        .unwrap_or_default();
    let container = match &req.container {
        Some(c) if !c.is_empty() => c.clone(),
        _ => containers.first().cloned().unwrap_or_default(),
    };
    if !containers.contains(&container) {
        return Err(ApiError::bad_request(format!("container {container} is not valid for pod {}", req.pod)));
    }
    let running = pod
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .and_then(|s| s.iter().find(|c| c.get("name").and_then(Value::as_str) == Some(container.as_str())))
        .is_some_and(|c| c.pointer("/state/running").is_some());
    if !running {
        return Err(ApiError::bad_request(format!(
            "unable to upgrade connection: container not found (\"{container}\")"
        )));
    }
    if req.command.is_empty() && !req.stdin {
        return Err(ApiError::bad_request("you must specify at least one command for the container"));
    }
    Ok((pod, container))
}

fn env_of(pod: &Value, container: &str) -> Vec<(String, String)> {
    let mut env = vec![
        ("PATH".to_string(), "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string()),
        ("HOSTNAME".to_string(), pod.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string()),
        ("KUBERNETES_SERVICE_HOST".to_string(), "10.96.0.1".to_string()),
        ("KUBERNETES_SERVICE_PORT".to_string(), "443".to_string()),
    ];
    let spec = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c.get("name").and_then(Value::as_str) == Some(container)));
    for e in spec.and_then(|c| c.get("env")).and_then(Value::as_array).into_iter().flatten() {
        let name = e.get("name").and_then(Value::as_str).unwrap_or_default();
        // Values from Secrets and ConfigMaps are resolved by the kubelet; the shell shows a placeholder.
        let value = e
            .get("value")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| "<set from a reference>".into());
        env.push((name.to_string(), value));
    }
    env
}

/// Runs one argv in the simulated shell.
pub fn run_command(pod: &Value, container: &str, argv: &[String]) -> CommandOutput {
    let ok = |s: String| CommandOutput { stdout: s, stderr: String::new(), exit_code: 0 };
    let fail = |s: String, code: i32| CommandOutput { stdout: String::new(), stderr: s, exit_code: code };
    let Some(cmd) = argv.first() else { return ok(String::new()) };
    let args = &argv[1..];
    let name = pod.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
    let base = cmd.rsplit('/').next().unwrap_or(cmd);
    match base {
        "sh" | "bash" | "ash" if args.first().map(String::as_str) == Some("-c") => {
            let script = args.get(1).cloned().unwrap_or_default();
            let mut out = CommandOutput { stdout: String::new(), stderr: String::new(), exit_code: 0 };
            for part in script.split([';', '\n']).map(str::trim).filter(|p| !p.is_empty()) {
                let words: Vec<String> = part.split_whitespace().map(|w| w.trim_matches(|c| c == '"' || c == '\'').to_string()).collect();
                let r = run_command(pod, container, &words);
                out.stdout.push_str(&r.stdout);
                out.stderr.push_str(&r.stderr);
                out.exit_code = r.exit_code;
            }
            out
        }
        "echo" => ok(format!("{}\n", args.join(" "))),
        "true" => ok(String::new()),
        "false" => CommandOutput { stdout: String::new(), stderr: String::new(), exit_code: 1 },
        "hostname" => ok(format!("{name}\n")),
        "whoami" => ok("root\n".into()),
        "id" => ok("uid=0(root) gid=0(root) groups=0(root)\n".into()),
        "pwd" => ok("/\n".into()),
        "date" => ok("Thu Jan  1 00:00:00 UTC 2026\n".into()),
        "uname" => ok(if args.iter().any(|a| a == "-a") { format!("Linux {name} 6.1.0-sim #1 SMP x86_64 GNU/Linux\n") } else { "Linux\n".into() }),
        "env" | "printenv" => {
            let env = env_of(pod, container);
            match args.first() {
                Some(var) => match env.iter().find(|(k, _)| k == var) {
                    Some((_, v)) => ok(format!("{v}\n")),
                    None => CommandOutput { stdout: String::new(), stderr: String::new(), exit_code: 1 },
                },
                None => ok(env.iter().map(|(k, v)| format!("{k}={v}\n")).collect()),
            }
        }
        "ls" => {
            let path = args.iter().find(|a| !a.starts_with('-')).map(String::as_str).unwrap_or("/");
            match path.trim_end_matches('/') {
                "" => ok("bin\ndev\netc\nhome\nlib\nproc\nroot\nrun\nsys\ntmp\nusr\nvar\n".into()),
                "/etc" => ok("hostname\nhosts\nos-release\npasswd\nresolv.conf\n".into()),
                "/tmp" | "/home" => ok(String::new()),
                "/var/run/secrets/kubernetes.io/serviceaccount" => ok("ca.crt\nnamespace\ntoken\n".into()),
                other => fail(format!("ls: {other}: No such file or directory\n"), 1),
            }
        }
        "cat" => {
            let mut out = String::new();
            for path in args {
                match path.as_str() {
                    "/etc/hostname" => out.push_str(&format!("{name}\n")),
                    "/etc/os-release" => out.push_str("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n"),
                    "/etc/resolv.conf" => {
                        let ns = pod.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("default");
                        out.push_str(&format!("search {ns}.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"));
                    }
                    "/etc/hosts" => {
                        let ip = pod.pointer("/status/podIP").and_then(Value::as_str).unwrap_or("127.0.0.1");
                        out.push_str(&format!("127.0.0.1\tlocalhost\n{ip}\t{name}\n"));
                    }
                    "/var/run/secrets/kubernetes.io/serviceaccount/namespace" => {
                        out.push_str(pod.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("default"));
                    }
                    other => return fail(format!("cat: can't open '{other}': No such file or directory\n"), 1),
                }
            }
            ok(out)
        }
        "ps" => ok(format!("PID   USER     TIME  COMMAND\n    1 root      0:00 {container}\n   42 root      0:00 ps {}\n", args.join(" "))),
        "df" => ok("Filesystem     1K-blocks    Used Available Use% Mounted on\noverlay        102350000 8123456  94226544   8% /\n".into()),
        "sleep" => ok(String::new()),
        other => fail(format!("sh: {other}: not found\n"), 127),
    }
}

/// A close frame with code 1000: client-go treats any other close as an error.
fn normal_close() -> Message {
    Message::Close(Some(CloseFrame { code: close_code::NORMAL, reason: "".into() }))
}

fn frame(channel: u8, data: &[u8]) -> Message {
    let mut v = Vec::with_capacity(data.len() + 1);
    v.push(channel);
    v.extend_from_slice(data);
    Message::Binary(v.into())
}

fn status_frame(exit_code: i32) -> Message {
    let status = if exit_code == 0 {
        json!({"metadata": {}, "status": "Success"})
    } else {
        json!({"metadata": {}, "status": "Failure", "message": format!("command terminated with non-zero exit code: error executing command, exit status {exit_code}"),
               "reason": "NonZeroExitCode", "details": {"causes": [{"reason": "ExitCode", "message": exit_code.to_string()}]}})
    };
    frame(STATUS, status.to_string().as_bytes())
}

/// Upgrades the connection and runs the session.
pub fn upgrade(ws: WebSocketUpgrade, cluster: Arc<Cluster>, req: ExecRequest) -> ApiResult<Response> {
    let (pod, container) = prepare(&cluster, &req)?;
    let ws = ws.protocols(["v5.channel.k8s.io", "v4.channel.k8s.io"]);
    Ok(ws.on_upgrade(move |socket| session(socket, pod, container, req)))
}

async fn session(mut socket: WebSocket, pod: Value, container: String, req: ExecRequest) {
    let shell = req.command.first().is_some_and(|c| matches!(c.rsplit('/').next().unwrap_or(c), "sh" | "bash" | "ash"))
        && req.command.len() == 1;
    if !req.stdin || !shell {
        let out = run_command(&pod, &container, &req.command);
        let _ = socket.send(frame(STDOUT, out.stdout.as_bytes())).await;
        if !out.stderr.is_empty() {
            let _ = socket.send(frame(STDERR, out.stderr.as_bytes())).await;
        }
        let _ = socket.send(status_frame(out.exit_code)).await;
        let _ = socket.send(normal_close()).await;
        return;
    }
    // An interactive shell: run each line read from stdin until `exit` or the client closes stdin.
    let mut pending = String::new();
    let mut last_code = 0;
    while let Some(Ok(msg)) = socket.recv().await {
        let data = match msg {
            Message::Binary(b) => b.to_vec(),
            Message::Close(_) => break,
            _ => continue,
        };
        match data.first() {
            Some(&STDIN) => pending.push_str(&String::from_utf8_lossy(&data[1..])),
            Some(&CLOSE) => break,
            _ => continue,
        }
        while let Some(pos) = pending.find('\n') {
            let line: String = pending.drain(..=pos).collect();
            let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
            if words.first().map(String::as_str) == Some("exit") {
                let code = words.get(1).and_then(|c| c.parse().ok()).unwrap_or(last_code);
                let _ = socket.send(status_frame(code)).await;
                let _ = socket.send(normal_close()).await;
                return;
            }
            let out = run_command(&pod, &container, &words);
            last_code = out.exit_code;
            let _ = socket.send(frame(STDOUT, out.stdout.as_bytes())).await;
            if !out.stderr.is_empty() {
                let _ = socket.send(frame(STDERR, out.stderr.as_bytes())).await;
            }
        }
    }
    let _ = socket.send(status_frame(last_code)).await;
    let _ = socket.send(normal_close()).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_commands() {
        let pod = json!({"metadata": {"name": "web-1", "namespace": "shop"}, "spec": {"containers": [{"name": "c", "env": [{"name": "MODE", "value": "prod"}]}]}});
        assert_eq!(run_command(&pod, "c", &["hostname".into()]).stdout, "web-1\n");
        assert_eq!(run_command(&pod, "c", &["printenv".into(), "MODE".into()]).stdout, "prod\n");
        assert_eq!(run_command(&pod, "c", &["nope".into()]).exit_code, 127);
        let sh = run_command(&pod, "c", &["sh".into(), "-c".into(), "echo hi; cat /etc/hostname".into()]);
        assert_eq!(sh.stdout, "hi\nweb-1\n");
    }
}
