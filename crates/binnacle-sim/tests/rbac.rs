//! Simulated authorization with the real kubectl 1.32: a ServiceAccount's requests are evaluated against
//! Roles, ClusterRoles and their bindings (the default user stays admin); refusals are the API server's 403;
//! `auth can-i` (SelfSubjectAccessReview) and `--as` (impersonation) are answered from RBAC.

#![allow(clippy::unwrap_used, missing_docs)]

#[path = "kubectl/harness.rs"]
mod harness;

use binnacle_sim::authz::service_account_kubeconfig;
use harness::Sim;

const RBAC: &str = r#"
apiVersion: v1
kind: ServiceAccount
metadata: {name: bot, namespace: default}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: pod-reader}
rules:
- apiGroups: [""]
  resources: [pods, pods/log]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: bot-reads-pods, namespace: default}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pod-reader}
subjects:
- {kind: ServiceAccount, name: bot, namespace: default}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: one-secret, namespace: default}
rules:
- apiGroups: [""]
  resources: [secrets]
  resourceNames: [allowed]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: bot-one-secret, namespace: default}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: one-secret}
subjects:
- {kind: Group, name: "system:serviceaccounts:default"}
---
apiVersion: v1
kind: Secret
metadata: {name: allowed, namespace: default}
stringData: {k: v}
---
apiVersion: v1
kind: Secret
metadata: {name: hidden, namespace: default}
stringData: {k: v}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_account_gets_what_its_bindings_allow_and_a_403_otherwise() {
    let sim = Sim::empty().await;
    sim.kubectl_stdin(&["apply", "-f", "-"], RBAC).await.ok();
    sim.ok(&["run", "web", "--image=nginx", "-n", "default"]).await;
    let sa = sim.file("sa.kubeconfig", &service_account_kubeconfig(&sim.server(), "default", "bot"));
    let as_bot = |args: &[&str]| {
        let mut v = vec!["--kubeconfig", sa.as_str()];
        v.extend_from_slice(args);
        v.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    let run = |args: Vec<String>| {
        let sim = &sim;
        async move {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            sim.kubectl(&refs).await
        }
    };

    // Allowed by the RoleBinding to the ClusterRole.
    let out = run(as_bot(&["get", "pods", "-n", "default", "-o", "name"])).await;
    assert!(out.ok().contains("pod/web"), "{out}");
    // The default user is still the admin.
    sim.ok(&["get", "pods", "-n", "kube-system"]).await;

    // Not bound in kube-system: the API server's 403, word for word.
    let out = run(as_bot(&["get", "pods", "-n", "kube-system"])).await;
    assert!(!out.success(), "{out}");
    out.stderr_has(&[
        "Error from server (Forbidden): pods is forbidden: User \"system:serviceaccount:default:bot\" cannot list resource \"pods\" in API group \"\" in the namespace \"kube-system\"",
    ]);
    // A write, another group, a Secret not named in the Role.
    run(as_bot(&["delete", "pod", "web", "-n", "default"])).await.stderr_has(&[
        "pods \"web\" is forbidden: User \"system:serviceaccount:default:bot\" cannot delete resource \"pods\" in API group \"\" in the namespace \"default\"",
    ]);
    run(as_bot(&["get", "deployments", "-n", "default"])).await.stderr_has(&[
        "deployments.apps is forbidden: User \"system:serviceaccount:default:bot\" cannot list resource \"deployments\" in API group \"apps\"",
    ]);
    let out = run(as_bot(&["get", "secret", "allowed", "-n", "default", "-o", "name"])).await;
    assert!(out.ok().contains("secret/allowed"), "{out}");
    run(as_bot(&["get", "secret", "hidden", "-n", "default"])).await.stderr_has(&["secrets \"hidden\" is forbidden"]);
    run(as_bot(&["get", "secrets", "-n", "default"])).await.stderr_has(&["cannot list resource \"secrets\""]);
    // Nothing was deleted.
    sim.ok(&["get", "pod", "web", "-n", "default"]).await;

    // auth can-i as the ServiceAccount (SelfSubjectAccessReview).
    assert_eq!(run(as_bot(&["auth", "can-i", "list", "pods", "-n", "default"])).await.ok().trim(), "yes");
    let out = run(as_bot(&["auth", "can-i", "delete", "pods", "-n", "default"])).await;
    assert!(!out.success(), "{out}");
    out.stdout_has(&["no"]);
    assert!(run(as_bot(&["auth", "can-i", "get", "pods", "--subresource=log", "-n", "default"])).await.success());
    assert!(!run(as_bot(&["auth", "can-i", "get", "secret/hidden", "-n", "default"])).await.success());
    assert!(run(as_bot(&["auth", "can-i", "get", "secret/allowed", "-n", "default"])).await.success());

    // The admin impersonating the ServiceAccount (`--as`), and a token from `kubectl create token`.
    let bot = "system:serviceaccount:default:bot";
    assert!(sim.kubectl(&["auth", "can-i", "list", "pods", "-n", "default", "--as", bot]).await.success());
    assert!(!sim.kubectl(&["auth", "can-i", "list", "pods", "-n", "kube-system", "--as", bot]).await.success());
    sim.kubectl(&["get", "pods", "-n", "kube-system", "--as", bot]).await.stderr_has(&["pods is forbidden"]);
    // A cluster-scoped refusal.
    sim.kubectl(&["get", "nodes", "--as", bot]).await.stderr_has(&[
        "nodes is forbidden: User \"system:serviceaccount:default:bot\" cannot list resource \"nodes\" in API group \"\" at the cluster scope",
    ]);
    // Impersonated groups count: system:masters is the admin group.
    assert!(sim.kubectl(&["get", "nodes", "--as", "someone", "--as-group", "system:masters"]).await.success());
}
