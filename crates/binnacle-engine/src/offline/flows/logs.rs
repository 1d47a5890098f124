//! "Show logs of Z": find the pod (or workload Z's most troubled pod) with `resources_list`, read its log
//! tail with `pod_logs`, and show it in a code block.

use super::diagnose::choose;
use super::{Call, Next, Tools, data_of, explain};
use crate::offline::diagnosis::LogFacts;
use crate::offline::error::OfflineError;
use crate::offline::intent::Target;
use crate::offline::markdown::{code, code_block, plain};
use crate::offline::transcript::Transcript;
use serde_json::json;

/// Lines read when the question does not say.
const DEFAULT_TAIL: i64 = 50;
/// The most lines `pod_logs` returns.
const MAX_TAIL: i64 = 5000;

/// The next step.
pub(super) fn next(target: &Target, previous: bool, tail_lines: Option<i64>, t: &Transcript, tools: &Tools) -> Next {
    if let Err(e) = tools.require(&["pod_logs"]) {
        return Next::Answer(explain(&e));
    }
    let chosen = match choose(target, t, tools) {
        Ok(Some(chosen)) => chosen,
        Ok(None) => return Next::Calls(vec![Call::new("resources_list", crate::offline::locate::pods_call(target))]),
        Err(answer) => return Next::Answer(answer),
    };
    let Some(logs) = t.last("pod_logs") else {
        let tail = tail_lines.unwrap_or(DEFAULT_TAIL).clamp(1, MAX_TAIL);
        let mut args = json!({"name": chosen.name, "namespace": chosen.namespace, "tailLines": tail});
        if previous {
            args["previous"] = json!(true);
        }
        return Next::Calls(vec![Call::new("pod_logs", args)]);
    };
    let path = format!("{}/{}", chosen.namespace, chosen.name);
    let data = match data_of(logs) {
        Ok(data) => data,
        Err(OfflineError::ToolFailed { message, .. }) => {
            let mut out = format!("I could not read the logs of pod {}. `pod_logs` answered:\n\n", code(&path));
            out.push_str(&code_block(&[&message]));
            let lower = message.to_lowercase();
            if previous && (lower.contains("previous") || lower.contains("terminated")) {
                out.push_str(
                    "\nThe container has probably not restarted, so there is no previous instance; ask without \
                     `previous`.\n",
                );
            } else if lower.contains("not found") {
                out.push_str(&format!(
                    "\nThe pod may have just been replaced; ask `list pods in {}`.\n",
                    chosen.namespace
                ));
            }
            return Next::Answer(out);
        }
        Err(e) => return Next::Answer(explain(&e)),
    };
    let l = LogFacts::read(data);
    let mut out = String::new();
    if chosen.via_workload {
        out.push_str(&format!(
            "{} is not a pod name; showing its pod {}{}.\n\n",
            code(&target.name),
            code(&path),
            if chosen.others.is_empty() {
                String::new()
            } else {
                format!(
                    " (the most troubled of {}; others: {})",
                    chosen.others.len() + 1,
                    chosen.others.iter().take(5).map(|p| code(&p.path())).collect::<Vec<_>>().join(", ")
                )
            }
        ));
    }
    let which = if previous { " of the previous (crashed) instance" } else { "" };
    if l.lines.is_empty() {
        out.push_str(&format!("**No log lines{which}** from pod {} container {}", code(&path), code(&l.container)));
        match &l.note {
            Some(note) => out.push_str(&format!(":\n\n{}", code_block(&[note]))),
            None => out.push_str(".\n"),
        }
    } else {
        out.push_str(&format!(
            "**Last {} log line{}{which}** of pod {} container {} (cluster output, shown as data):\n\n",
            l.lines.len(),
            if l.lines.len() == 1 { "" } else { "s" },
            code(&path),
            code(&l.container)
        ));
        out.push_str(&code_block(&l.lines));
    }
    if let Some((reason, exit, lines)) = &l.previous {
        out.push_str(&format!(
            "\nThe container restarted; its previous instance ended with {} (exit code {exit}). Its last lines:\n\n",
            plain(reason)
        ));
        out.push_str(&code_block(lines));
    }
    let others: Vec<String> = data
        .get("otherContainers")
        .and_then(serde_json::Value::as_array)
        .map(|a| a.iter().filter_map(serde_json::Value::as_str).map(code).collect())
        .unwrap_or_default();
    if !others.is_empty() {
        out.push_str(&format!("\nOther containers in the pod: {}.\n", others.join(", ")));
    }
    if !previous && l.previous.is_none() {
        out.push_str(&format!(
            "\nFor a crashed container's last run, ask {}.\n",
            code(&format!("show previous logs of {} in {}", chosen.name, chosen.namespace))
        ));
    }
    Next::Answer(out)
}
