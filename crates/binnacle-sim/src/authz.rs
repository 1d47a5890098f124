//! Simulated authorization: RBAC evaluation of Roles, ClusterRoles, RoleBindings and ClusterRoleBindings.
//!
//! The default user (no bearer token, or a token that is not a service-account token) stays the cluster
//! admin, so nothing that talks to the simulator without credentials changes. A bearer token issued by the
//! simulator's TokenRequest (`kubectl create token SA`, `sim-token.NS.NAME.…`) is the ServiceAccount
//! `system:serviceaccount:NS:NAME` with the groups `system:serviceaccounts`, `system:serviceaccounts:NS`
//! and `system:authenticated`, and every request it makes is checked against the bindings that name it or
//! its groups. `Impersonate-User` / `Impersonate-Group` headers (`kubectl --as`, `--as-group`) switch the
//! identity the same way. A refusal is the API server's 403 `Status`, worded as it words it.

use crate::cluster::{Cluster, ListOptions};
use crate::error::{ApiError, ApiResult, Reason};
use http::{HeaderMap, Method, header};
use serde_json::Value;

/// Who a request runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// The simulator's admin (every permission).
    Admin,
    /// A user evaluated against RBAC.
    User {
        /// e.g. `system:serviceaccount:ns:sa`.
        name: String,
        /// Groups, `system:authenticated` included.
        groups: Vec<String>,
    },
}

impl Identity {
    /// The identity of a ServiceAccount, with the groups the API server gives it.
    pub fn service_account(namespace: &str, name: &str) -> Identity {
        Identity::User {
            name: format!("system:serviceaccount:{namespace}:{name}"),
            groups: vec![
                "system:serviceaccounts".into(),
                format!("system:serviceaccounts:{namespace}"),
                "system:authenticated".into(),
            ],
        }
    }

    /// The identity a request's headers carry (see the module docs).
    pub fn from_headers(headers: &HeaderMap) -> Identity {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
        if let Some(user) = header("impersonate-user").filter(|u| !u.is_empty()) {
            let mut identity = match sa_of_username(user) {
                Some((ns, name)) => Identity::service_account(ns, name),
                None => Identity::User { name: user.to_string(), groups: vec!["system:authenticated".into()] },
            };
            if let Identity::User { groups, .. } = &mut identity {
                for g in headers.get_all("impersonate-group").iter().filter_map(|v| v.to_str().ok()) {
                    if !groups.iter().any(|have| have == g) {
                        groups.push(g.to_string());
                    }
                }
            }
            return identity;
        }
        let token = header(header::AUTHORIZATION.as_str()).and_then(|a| a.strip_prefix("Bearer ")).map(str::trim);
        if let Some(rest) = token.and_then(|t| t.strip_prefix("sim-token.")) {
            let mut parts = rest.splitn(3, '.');
            if let (Some(ns), Some(name), Some(_)) = (parts.next(), parts.next(), parts.next())
                && !ns.is_empty()
                && !name.is_empty()
            {
                return Identity::service_account(ns, name);
            }
        }
        Identity::Admin
    }
}

fn sa_of_username(user: &str) -> Option<(&str, &str)> {
    let rest = user.strip_prefix("system:serviceaccount:")?;
    let (ns, name) = rest.split_once(':')?;
    (!ns.is_empty() && !name.is_empty()).then_some((ns, name))
}

/// What a request asks to do, as RBAC sees it.
#[derive(Debug, Clone, Default)]
pub struct Attributes {
    /// get, list, watch, create, update, patch, delete, deletecollection.
    pub verb: String,
    /// API group (`""` for core).
    pub group: String,
    /// Resource plural.
    pub resource: String,
    /// Subresource (`log`, `status`, …), empty for none.
    pub subresource: String,
    /// Namespace, empty for cluster scope.
    pub namespace: String,
    /// Object name, empty for collections.
    pub name: String,
}

impl Attributes {
    /// The RBAC verb of an HTTP request.
    pub fn verb_of(method: &Method, has_name: bool, watch: bool) -> &'static str {
        match *method {
            Method::GET | Method::HEAD if watch => "watch",
            Method::GET | Method::HEAD if has_name => "get",
            Method::GET | Method::HEAD => "list",
            Method::POST => "create",
            Method::PUT => "update",
            Method::PATCH => "patch",
            Method::DELETE if has_name => "delete",
            Method::DELETE => "deletecollection",
            _ => "get",
        }
    }
}

fn strings(v: &Value) -> impl Iterator<Item = &str> {
    v.as_array().into_iter().flatten().filter_map(Value::as_str)
}

fn matches(list: &Value, want: &str) -> bool {
    strings(list).any(|s| s == "*" || s == want)
}

/// Whether one PolicyRule allows the attributes.
fn rule_allows(rule: &Value, a: &Attributes) -> bool {
    if !matches(&rule["verbs"], &a.verb) || !matches(&rule["apiGroups"], &a.group) {
        return false;
    }
    let full = if a.subresource.is_empty() { a.resource.clone() } else { format!("{}/{}", a.resource, a.subresource) };
    let resource_ok = strings(&rule["resources"]).any(|r| {
        r == "*"
            || r == full
            || (!a.subresource.is_empty() && r == format!("*/{}", a.subresource))
            || (a.subresource.is_empty() && r == a.resource)
    });
    if !resource_ok {
        return false;
    }
    let names: Vec<&str> = strings(&rule["resourceNames"]).collect();
    names.is_empty() || (!a.name.is_empty() && names.contains(&a.name.as_str()))
}

/// Whether one PolicyRule allows a non-resource URL.
fn rule_allows_url(rule: &Value, verb: &str, path: &str) -> bool {
    matches(&rule["verbs"], verb)
        && strings(&rule["nonResourceURLs"])
            .any(|u| u == "*" || u == path || u.strip_suffix('*').is_some_and(|p| path.starts_with(p)))
}

fn subject_matches(subject: &Value, name: &str, groups: &[String]) -> bool {
    let s = |k: &str| subject[k].as_str().unwrap_or_default();
    match s("kind") {
        "User" => s("name") == name,
        "Group" => groups.iter().any(|g| g == s("name")),
        "ServiceAccount" => sa_of_username(name).is_some_and(|(ns, n)| ns == s("namespace") && n == s("name")),
        _ => false,
    }
}

fn list(cluster: &Cluster, plural: &str, namespace: Option<&str>) -> Vec<std::sync::Arc<Value>> {
    cluster
        .resource("rbac.authorization.k8s.io", "v1", plural)
        .and_then(|rt| cluster.list(&rt, namespace, &ListOptions::default()))
        .map(|page| page.items)
        .unwrap_or_default()
}

/// The rules of a ClusterRole, with aggregated ClusterRoles (aggregationRule) folded in.
fn cluster_role_rules(roles: &[std::sync::Arc<Value>], name: &str) -> Vec<Value> {
    let Some(role) = roles.iter().find(|r| r["metadata"]["name"] == name) else { return Vec::new() };
    let mut rules: Vec<Value> = role["rules"].as_array().cloned().unwrap_or_default();
    for selector in role["aggregationRule"]["clusterRoleSelectors"].as_array().into_iter().flatten() {
        let want = selector["matchLabels"].as_object().cloned().unwrap_or_default();
        for other in roles.iter().filter(|r| r["metadata"]["name"] != name) {
            if !want.is_empty() && want.iter().all(|(k, v)| &other["metadata"]["labels"][k] == v) {
                rules.extend(other["rules"].as_array().cloned().unwrap_or_default());
            }
        }
    }
    rules
}

/// Every rule that applies to `identity` in `namespace` (cluster-wide rules included).
pub fn rules_for(cluster: &Cluster, name: &str, groups: &[String], namespace: &str) -> Vec<Value> {
    let cluster_roles = list(cluster, "clusterroles", None);
    let mut rules = Vec::new();
    let bound = |b: &Value| b["subjects"].as_array().into_iter().flatten().any(|s| subject_matches(s, name, groups));
    for b in list(cluster, "clusterrolebindings", None).iter().filter(|b| bound(b)) {
        if b["roleRef"]["kind"] == "ClusterRole" {
            rules.extend(cluster_role_rules(&cluster_roles, b["roleRef"]["name"].as_str().unwrap_or_default()));
        }
    }
    if !namespace.is_empty() {
        let roles = list(cluster, "roles", Some(namespace));
        for b in list(cluster, "rolebindings", Some(namespace)).iter().filter(|b| bound(b)) {
            let role = b["roleRef"]["name"].as_str().unwrap_or_default();
            match b["roleRef"]["kind"].as_str() {
                Some("ClusterRole") => rules.extend(cluster_role_rules(&cluster_roles, role)),
                Some("Role") => {
                    if let Some(r) = roles.iter().find(|r| r["metadata"]["name"] == role) {
                        rules.extend(r["rules"].as_array().cloned().unwrap_or_default());
                    }
                }
                _ => {}
            }
        }
    }
    rules
}

/// Whether `identity` may do what `a` describes.
pub fn allowed(cluster: &Cluster, identity: &Identity, a: &Attributes) -> bool {
    match identity {
        Identity::Admin => true,
        Identity::User { name, groups } => {
            if groups.iter().any(|g| g == "system:masters") {
                return true;
            }
            rules_for(cluster, name, groups, &a.namespace).iter().any(|r| rule_allows(r, a))
        }
    }
}

/// Whether `identity` may use a non-resource URL (`/healthz`, `/version`, …) with `verb`.
pub fn allowed_url(cluster: &Cluster, identity: &Identity, verb: &str, path: &str) -> bool {
    match identity {
        Identity::Admin => true,
        Identity::User { name, groups } => {
            rules_for(cluster, name, groups, "").iter().any(|r| rule_allows_url(r, verb, path))
        }
    }
}

/// The API server's 403 for `a`.
pub fn forbidden(identity: &Identity, a: &Attributes) -> ApiError {
    let user = match identity {
        Identity::Admin => "sim-admin",
        Identity::User { name, .. } => name.as_str(),
    };
    let qualified = if a.group.is_empty() { a.resource.clone() } else { format!("{}.{}", a.resource, a.group) };
    let object = if a.name.is_empty() { qualified.clone() } else { format!("{qualified} \"{}\"", a.name) };
    let resource = if a.subresource.is_empty() {
        format!("resource \"{}\"", a.resource)
    } else {
        format!("resource \"{}/{}\"", a.resource, a.subresource)
    };
    let scope = if a.namespace.is_empty() {
        "at the cluster scope".to_string()
    } else {
        format!("in the namespace \"{}\"", a.namespace)
    };
    let message = format!(
        "{object} is forbidden: User \"{user}\" cannot {} {resource} in API group \"{}\" {scope}",
        a.verb, a.group
    );
    let mut err = ApiError::new(Reason::Forbidden, message).with_details(&a.group, &a.resource, &a.name);
    if a.name.is_empty() {
        err.name = None;
    }
    err
}

/// Checks a request; `Err` is the 403 to answer.
pub fn check(cluster: &Cluster, headers: &HeaderMap, a: &Attributes) -> ApiResult<()> {
    let identity = Identity::from_headers(headers);
    if allowed(cluster, &identity, a) { Ok(()) } else { Err(forbidden(&identity, a)) }
}

/// Checks one API request (the hook in `http`): self reviews are open to everyone, as on a real cluster
/// (`system:basic-user`); `exec`, `attach` and `portforward` need `create`, whatever the HTTP method.
#[allow(clippy::too_many_arguments)]
pub(crate) fn check_request(
    cluster: &Cluster,
    headers: &HeaderMap,
    method: &Method,
    rt: &crate::registry::ResourceType,
    namespace: Option<&str>,
    name: Option<&str>,
    subresource: Option<&str>,
    watch: bool,
) -> ApiResult<()> {
    if rt.kind.starts_with("SelfSubject") {
        return Ok(());
    }
    let identity = Identity::from_headers(headers);
    if identity == Identity::Admin {
        return Ok(());
    }
    let subresource = subresource.unwrap_or_default();
    let verb = match subresource {
        "exec" | "attach" | "portforward" | "proxy" => "create",
        _ => Attributes::verb_of(method, name.is_some(), watch),
    };
    let a = Attributes {
        verb: verb.into(),
        group: rt.group.clone(),
        resource: rt.plural.clone(),
        subresource: subresource.into(),
        namespace: if rt.namespaced { namespace.unwrap_or_default().into() } else { String::new() },
        name: name.unwrap_or_default().into(),
    };
    if allowed(cluster, &identity, &a) { Ok(()) } else { Err(forbidden(&identity, &a)) }
}

/// A SelfSubjectAccessReview / SelfSubjectRulesReview / SelfSubjectReview answered for a non-admin identity;
/// `None` for the admin (the simulator's existing answers stand).
pub fn self_review(cluster: &Cluster, headers: &HeaderMap, kind: &str, obj: &Value) -> Option<Value> {
    let identity = Identity::from_headers(headers);
    let Identity::User { name, groups } = &identity else { return None };
    let mut out = obj.clone();
    match kind {
        "SelfSubjectAccessReview" => {
            let allowed = if let Some(ra) = obj.pointer("/spec/resourceAttributes") {
                let s = |k: &str| ra[k].as_str().unwrap_or_default().to_string();
                let a = Attributes {
                    verb: s("verb"),
                    group: s("group"),
                    resource: s("resource"),
                    subresource: s("subresource"),
                    namespace: s("namespace"),
                    name: s("name"),
                };
                allowed(cluster, &identity, &a)
            } else if let Some(na) = obj.pointer("/spec/nonResourceAttributes") {
                allowed_url(
                    cluster,
                    &identity,
                    na["verb"].as_str().unwrap_or_default(),
                    na["path"].as_str().unwrap_or_default(),
                )
            } else {
                return None;
            };
            out["status"] = if allowed {
                serde_json::json!({"allowed": true, "reason": "allowed by RBAC"})
            } else {
                serde_json::json!({"allowed": false})
            };
        }
        "SelfSubjectRulesReview" => {
            let ns = obj.pointer("/spec/namespace").and_then(Value::as_str).unwrap_or_default();
            let rules = rules_for(cluster, name, groups, ns);
            let resource: Vec<&Value> = rules.iter().filter(|r| r.get("resources").is_some()).collect();
            let non_resource: Vec<&Value> = rules.iter().filter(|r| r.get("nonResourceURLs").is_some()).collect();
            out["status"] =
                serde_json::json!({"resourceRules": resource, "nonResourceRules": non_resource, "incomplete": false});
        }
        "SelfSubjectReview" => {
            out["status"] = serde_json::json!({"userInfo": {"username": name, "groups": groups}});
        }
        _ => return None,
    }
    Some(out)
}

/// A kubeconfig (one cluster, context `NAME`) that talks to `server` as the ServiceAccount `namespace/name`,
/// with a token of the form the simulator's TokenRequest issues (kube-rs sends it) and `as:` impersonation of
/// the same user (kubectl never sends a bearer token to a plain-`http` server, but it does send
/// `Impersonate-User`). For tests and demos: the simulator does not check that the token was issued (or that
/// the ServiceAccount exists), only whose it is.
pub fn service_account_kubeconfig(server: &str, namespace: &str, name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: sim\n  cluster:\n    server: {server}\n\
         users:\n- name: {namespace}-{name}\n  user:\n    token: sim-token.{namespace}.{name}.kubeconfig\n    as: system:serviceaccount:{namespace}:{name}\n\
         contexts:\n- name: {name}\n  context:\n    cluster: sim\n    user: {namespace}-{name}\n    namespace: {namespace}\n\
         current-context: {name}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs(verb: &str, group: &str, resource: &str, sub: &str, name: &str) -> Attributes {
        Attributes {
            verb: verb.into(),
            group: group.into(),
            resource: resource.into(),
            subresource: sub.into(),
            namespace: "default".into(),
            name: name.into(),
        }
    }

    #[test]
    fn rules_match_verbs_groups_subresources_names_and_wildcards() {
        let pods = json!({"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods", "pods/log"]});
        assert!(rule_allows(&pods, &attrs("get", "", "pods", "", "p")));
        assert!(rule_allows(&pods, &attrs("get", "", "pods", "log", "p")));
        assert!(!rule_allows(&pods, &attrs("get", "", "pods", "exec", "p")));
        assert!(!rule_allows(&pods, &attrs("delete", "", "pods", "", "p")));
        assert!(!rule_allows(&pods, &attrs("get", "apps", "pods", "", "p")));
        let named = json!({"verbs": ["get"], "apiGroups": [""], "resources": ["secrets"], "resourceNames": ["db"]});
        assert!(rule_allows(&named, &attrs("get", "", "secrets", "", "db")));
        assert!(!rule_allows(&named, &attrs("get", "", "secrets", "", "other")));
        assert!(!rule_allows(&named, &attrs("list", "", "secrets", "", "")));
        let all = json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]});
        assert!(rule_allows(&all, &attrs("delete", "apps", "deployments", "scale", "d")));
        let url = json!({"verbs": ["get"], "nonResourceURLs": ["/healthz", "/api/*"]});
        assert!(rule_allows_url(&url, "get", "/healthz"));
        assert!(rule_allows_url(&url, "get", "/api/v1"));
        assert!(!rule_allows_url(&url, "get", "/metrics"));
    }

    #[test]
    fn identities_come_from_tokens_and_impersonation() {
        let mut h = HeaderMap::new();
        assert_eq!(Identity::from_headers(&h), Identity::Admin);
        h.insert(header::AUTHORIZATION, "Bearer sim-token.team.bot.abc".parse().expect("header"));
        assert_eq!(Identity::from_headers(&h), Identity::service_account("team", "bot"));
        let mut h = HeaderMap::new();
        h.insert("impersonate-user", "alice".parse().expect("header"));
        h.append("impersonate-group", "devs".parse().expect("header"));
        assert_eq!(
            Identity::from_headers(&h),
            Identity::User { name: "alice".into(), groups: vec!["system:authenticated".into(), "devs".into()] }
        );
    }

    #[test]
    fn the_forbidden_message_is_the_api_servers() {
        let id = Identity::service_account("ns", "sa");
        let mut a = attrs("list", "", "pods", "", "");
        let e = forbidden(&id, &a);
        assert_eq!(
            e.message,
            "pods is forbidden: User \"system:serviceaccount:ns:sa\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\""
        );
        assert_eq!((e.kind.as_deref(), e.group.as_deref(), e.name.as_deref()), (Some("pods"), Some(""), None));
        a = attrs("patch", "apps", "deployments", "", "web");
        assert!(forbidden(&id, &a).message.starts_with("deployments.apps \"web\" is forbidden: User"));
    }
}
