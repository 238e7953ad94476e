//! The planner on a load balancer several services share: rules, priorities, default actions, user tags.

use std::collections::BTreeSet;

use serde_json::json;

use super::desired::{Desired, desired};
use super::model::*;
use super::observed::Observed;
use super::plan::{Action, Kind, Plan, PlanError, free_priority, plan};
use super::tests::{IMAGE, after_deploy, lookups, settings};

/// Service `name` of cluster `shop`, with extra settings merged in.
fn service(name: &str, extra: &serde_json::Value) -> Desired {
    let mut value = json!({ "service": name, "cluster": "shop", "port": 8080 });
    if let (Some(base), Some(extra)) = (value.as_object_mut(), extra.as_object()) {
        base.extend(extra.clone());
    }
    desired(&settings(&value), &lookups(false, true), IMAGE, BTreeSet::new())
}

fn host(name: &str) -> serde_json::Value {
    json!({ "dns": { "zone": "example.com", "name": name } })
}

fn rule_steps(p: &Plan) -> Vec<(Action, String, Option<u32>)> {
    p.steps.iter().filter(|s| s.kind == Kind::ListenerRule).map(|s| (s.action, s.name.clone(), s.priority)).collect()
}

/// What AWS holds after `a` deployed: `after_deploy(a)` with the target group and rule ARNs of `a`'s name.
fn deployed(a: &Desired) -> Observed {
    let mut observed = after_deploy(a);
    for rule in &mut observed.rules {
        rule.arn = format!("arn:rule/{}", a.service_name);
    }
    observed
}

/// What a service joining sees of `a`'s deployed stack: the shared resources as `a` left them, nothing of its own.
fn joining(a_deployed: &Observed) -> Observed {
    Observed {
        cluster: a_deployed.cluster.clone(),
        lb_security_group: a_deployed.lb_security_group.clone(),
        load_balancer: a_deployed.load_balancer.clone(),
        listeners: a_deployed.listeners.clone(),
        rules: a_deployed.rules.clone(),
        ..Observed::default()
    }
}

#[test]
fn services_of_a_cluster_share_its_load_balancer() {
    let a = service("a", &host("a"));
    let b = service("b", &host("b"));
    assert_eq!(a.load_balancer.as_ref().map(|l| l.name.as_str()), Some("shop"));
    assert_eq!(b.load_balancer.as_ref().map(|l| l.name.as_str()), Some("shop"));
    assert_ne!(a.target_group.as_ref().map(|t| &t.name), b.target_group.as_ref().map(|t| &t.name));
    assert_eq!(a.lb_security_group.as_ref().map(|g| g.name.as_str()), Some("shop-lb"));
}

#[test]
fn a_second_service_adds_its_rule_and_its_user_tag_and_touches_nothing_else() {
    let a = service("a", &host("a"));
    let b = service("b", &host("b"));
    let p = plan(&b, &joining(&deployed(&a)), false).expect("plan");
    let lb = p.step(Kind::LoadBalancer).expect("load balancer step");
    assert_eq!(lb.action, Action::Update, "{p}");
    assert_eq!(lb.changes.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(), ["users"]);
    assert!(p.steps.iter().filter(|s| s.kind == Kind::Listener).all(|s| s.action == Action::Keep), "{p}");
    // b takes a free priority of the host band.
    let band = b.rule.as_ref().expect("rule").route.band();
    let taken: Vec<u32> = joining(&deployed(&a)).rules.iter().map(|r| r.priority).collect();
    let priority = free_priority(band, &taken, "b");
    assert!((band..band + RULES_PER_BAND).contains(&priority) && !taken.contains(&priority));
    assert_eq!(rule_steps(&p), [(Action::Create, ":80 host b.example.com".to_owned(), Some(priority))]);
    assert!(p.to_string().contains(&format!("at priority {priority}")), "{p}");
}

#[test]
fn more_specific_routes_get_lower_priorities_whatever_the_order_of_creation() {
    let route = |host: Option<&str>, path: Option<&str>| Route::new(host, path).expect("route");
    let general = route(None, Some("/api"));
    let specific = route(None, Some("/api/admin"));
    let host_only = route(Some("a.example.com"), None);
    let host_and_path = route(Some("a.example.com"), Some("/api"));
    assert!(specific.band() < general.band());
    assert!(host_and_path.band() < host_only.band());
    assert!(host_and_path.band() < general.band());
    assert_eq!(general.paths, ["/api", "/api/*"]);
    // Each target group starts at its own slot of the band, and takes the next free one.
    let a = free_priority(9900, &[], "a");
    assert!((9900..10_000).contains(&a), "{a}");
    assert_eq!(free_priority(9900, &[a], "a"), if a == 9999 { 9900 } else { a + 1 });
    assert_ne!(free_priority(9900, &[], "a"), free_priority(9900, &[], "b"));
    let full: Vec<u32> = (9900..10_000).collect();
    assert_eq!(free_priority(9900, &full, "a"), 10_000, "a full band spills past its end");
}

#[test]
fn only_one_service_of_a_load_balancer_may_be_its_catch_all() {
    let a = service("a", &json!({}));
    assert!(a.rule.is_none());
    assert_eq!(a.listeners[0].claim, Claim::Owned);
    let b = service("b", &json!({}));
    let error = plan(&b, &joining(&deployed(&a)), false).expect_err("a is the catch-all");
    assert!(matches!(&error, PlanError::CatchAllTaken { other, .. } if other == "a"), "{error:?}");
    assert!(error.help().contains("load-balancer.path"), "{}", error.help());
    // With a route, b joins and leaves a's default alone.
    let b = service("b", &json!({ "load-balancer": { "path": "/b" } }));
    let p = plan(&b, &joining(&deployed(&a)), false).expect("plan");
    assert!(p.steps.iter().filter(|s| s.kind == Kind::Listener).all(|s| s.action == Action::Keep), "{p}");
    assert_eq!(rule_steps(&p).len(), 1);
}

#[test]
fn a_route_another_service_has_is_refused() {
    let a = service("a", &host("api"));
    let b = service("b", &host("api"));
    let error = plan(&b, &joining(&deployed(&a)), false).expect_err("same host");
    assert!(matches!(&error, PlanError::RouteTaken { port: 80, .. }), "{error:?}");
    assert!(error.to_string().contains("host api.example.com"), "{error}");
}

#[test]
fn a_catch_all_that_gets_a_route_hands_the_default_back_and_gets_a_rule() {
    let before = service("a", &json!({}));
    let after = service("a", &host("a"));
    let p = plan(&after, &deployed(&before), false).expect("plan");
    let listener = p.step(Kind::Listener).expect("listener");
    assert_eq!(listener.action, Action::Update, "{p}");
    assert!(listener.changes.iter().any(|c| c.field == "action" && c.to.contains("404")), "{p}");
    assert_eq!(rule_steps(&p)[0].0, Action::Create);
}

#[test]
fn a_route_that_moves_to_another_listener_deletes_the_old_rule() {
    let a = service("a", &host("a"));
    let mut observed = deployed(&a);
    observed.rules[0].port = 443;
    let p = plan(&a, &observed, false).expect("plan");
    let steps = rule_steps(&p);
    assert_eq!(steps.len(), 2, "{p}");
    assert_eq!(steps[0].0, Action::Create);
    assert_eq!((steps[1].0, steps[1].1.as_str()), (Action::Delete, ":443 host a.example.com"));
    assert_eq!(p.steps.iter().find(|s| s.action == Action::Delete).and_then(|s| s.arn.as_deref()), Some("arn:rule/a"));
    assert!(p.to_string().contains("1 to delete"), "{p}");
}

#[test]
fn a_rule_out_of_its_band_moves_and_a_changed_route_is_modified_in_place() {
    let a = service("a", &json!({ "load-balancer": { "path": "/a" } }));
    let mut observed = deployed(&a);
    observed.rules[0].priority = 1;
    let p = plan(&a, &observed, false).expect("plan");
    let band = a.rule.as_ref().expect("rule").route.band();
    assert_eq!(rule_steps(&p), [(Action::Update, ":80 path /a".to_owned(), Some(free_priority(band, &[1], "a")))]);
    let moved = service("a", &json!({ "load-balancer": { "path": "/b" } }));
    let p = plan(&moved, &deployed(&a), false).expect("plan");
    let step = p.step(Kind::ListenerRule).expect("rule step");
    assert_eq!((step.action, step.arn.as_deref()), (Action::Update, Some("arn:rule/a")));
    assert_eq!(
        step.changes.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(),
        ["route"],
        "same band: same priority"
    );
}

#[test]
fn neutral_defaults_never_take_over_and_certificates_are_added_not_replaced() {
    let a = service("a", &json!({}));
    let b = desired(
        &settings(&json!({
            "service": "b", "cluster": "shop", "port": 8080,
            "load-balancer": { "certificate": "*.example.com" }, "dns": { "zone": "example.com", "name": "b" }
        })),
        &lookups(true, true),
        IMAGE,
        BTreeSet::new(),
    );
    let mut observed = joining(&deployed(&a));
    let https = ListenerState {
        arn: "arn:listener/443".to_owned(),
        port: 443,
        protocol: "HTTPS".to_owned(),
        certificate_arn: Some("arn:cert/other".to_owned()),
        certificates: vec!["arn:cert/other".to_owned()],
        ssl_policy: Some(TLS_POLICY.to_owned()),
        action: ListenerAction::NotFound,
    };
    observed.listeners.push(https);
    let p = plan(&b, &observed, false).expect("plan");
    let listeners: Vec<_> = p.steps.iter().filter(|s| s.kind == Kind::Listener).collect();
    // :80 forwards to a, the catch-all: b's wish for a redirect does not take it over.
    assert_eq!((listeners[0].name.as_str(), listeners[0].action), ("HTTP :80", Action::Keep), "{p}");
    // :443 gets b's certificate beside the default one.
    assert_eq!(listeners[1].action, Action::Update);
    assert_eq!(listeners[1].changes.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(), ["certificates"]);
    assert_eq!(rule_steps(&p)[0].1, ":443 host b.example.com");
    // A 404 default is upgraded to the redirect when b serves HTTPS.
    let mut observed = joining(&deployed(&service("c", &host("c"))));
    observed.listeners[0].action = ListenerAction::NotFound;
    let p = plan(&b, &observed, false).expect("plan");
    let http = p.step(Kind::Listener).expect("listener");
    assert!(http.changes.iter().any(|c| c.field == "action" && c.to.contains("redirect")), "{p}");
}

#[test]
fn the_second_deploy_of_every_shared_service_is_a_no_op() {
    for extra in [host("a"), json!({ "load-balancer": { "path": "/a" } }), json!({})] {
        let a = service("a", &extra);
        let p = plan(&a, &deployed(&a), false).expect("plan");
        assert!(p.is_empty(), "{p}");
    }
}
