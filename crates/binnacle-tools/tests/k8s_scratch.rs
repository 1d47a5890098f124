mod common;
use binnacle_sim::Scenario;
use serde_json::json;

#[tokio::test]
async fn scratch() {
    let f = common::fixture(Scenario::Demo).await;
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    let pods = f.call("resources_list", json!({"kind": "po", "namespace": "payments"})).await.expect("ok");
    let pod = pods.structured["items"].as_array().unwrap().iter().find(|p| p["name"].as_str().unwrap().starts_with("payments-api")).unwrap()["name"].as_str().unwrap().to_string();
    let fraud = pods.structured["items"].as_array().unwrap().iter().find(|p| p["name"].as_str().unwrap().starts_with("fraud")).unwrap()["name"].as_str().unwrap().to_string();
    for (k, n, ns) in [("pod", pod.as_str(), "payments"), ("pod", fraud.as_str(), "payments"), ("deploy", "payments-api", "payments"), ("svc", "checkout", "web"), ("pvc", "analytics-scratch", "data"), ("node", "sim-worker-1", ""), ("ro", "checkout", "rollouts"), ("cm", "shop-config", "shop")] {
        let out = f.call("resource_describe", json!({"kind": k, "name": n, "namespace": if ns.is_empty() { None } else { Some(ns) }})).await.expect("ok");
        println!("=== {}\n{}\n", out.summary, serde_json::to_string_pretty(&out.structured).unwrap());
    }
    let out = f.call("events_list", json!({"namespace": "payments", "type": "Warning", "limit": 5})).await.expect("ok");
    println!("=== {}\n{}\n", out.summary, serde_json::to_string_pretty(&out.structured).unwrap());
}
