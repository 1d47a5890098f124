mod common;
use binnacle_sim::Scenario;
use serde_json::json;
#[tokio::test]
async fn show() {
    let f = common::fixture(Scenario::Demo).await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    for (tool, extra) in [("argo_rollout_promote", json!({})), ("argo_rollout_undo", json!({})), ("argo_rollout_resume", json!({}))] {
        let mut args = json!({"name": "checkout", "namespace": "rollouts", "dryRun": true});
        args.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let out = f.call(tool, args).await.expect("ok");
        println!("=== {tool}\n{}\n{}\n", out.summary, out.structured["diff"].as_str().unwrap_or("NONE"));
    }
}
