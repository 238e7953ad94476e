//! Least privilege, read from AWS's state after a deploy behind HTTPS with secrets (the tool's own output is not
//! trusted): the tasks' security group opens only the container port and only to the load balancer's group; the
//! load balancer's group opens only 80 and 443; the execution role may read exactly the configured secrets and
//! nothing else; HTTPS uses a modern TLS policy; plain HTTP only redirects to HTTPS, never reaches the service.

#![allow(clippy::print_stdout, reason = "the figures (faults, kill points, duplicates) are printed for --nocapture")]

use std::collections::BTreeSet;

use cargo_ecs_tests::{Stack, aws_clients, cargo_ecs, fixture, https_service, unique_name};
use ecs_core::stack::model::TLS_POLICY;
use serde_json::Value;

const DB_URL: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-url-AbCdEf";
/// A Secrets Manager reference to one JSON key: the role must read the secret, without the key suffix.
const API_KEY: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:api-Zz9Yy8:key::";
const API_KEY_SECRET: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:api-Zz9Yy8";
/// An SSM parameter by name: the role must read its ARN.
const TOKEN_PARAMETER: &str = "/web/token";
const TOKEN_ARN: &str = "arn:aws:ssm:us-east-1:123456789012:parameter/web/token";
const EXECUTION_ROLE_POLICY: &str = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";

/// `%XX` decoded (IAM answers policy documents URL-encoded; an emulator may not).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        if let (b'%', Some(Ok(byte))) = (bytes[i], hex.map(|h| u8::from_str_radix(h, 16))) {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn document(text: &str) -> Value {
    serde_json::from_str(text).or_else(|_| serde_json::from_str(&percent_decode(text))).expect("policy JSON")
}

/// A JSON string or list of strings, as a list.
fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deployed_service_gets_only_the_access_it_needs() {
    let stack = Stack::get();
    let name = unique_name("lp");
    let (mut settings, certificate) = https_service(&stack, &name);
    let ws = fixture("web");
    settings.extend([
        format!("secrets.DB_URL={DB_URL}"),
        format!("secrets.API_KEY={API_KEY}"),
        format!("secrets.TOKEN={TOKEN_PARAMETER}"),
    ]);
    let mut args = vec!["deploy", "--no-wait", "--output", "json"];
    for s in &settings {
        args.extend(["--set", s.as_str()]);
    }
    let out = cargo_ecs(ws.path(), &args, &[]);
    assert_eq!(out.code, 0, "{}\n{}", out.stderr, out.stdout);
    let report = out.json()[0].clone();
    let name_of = |kind: &str| -> String {
        report["plan"]["steps"]
            .as_array()
            .and_then(|steps| steps.iter().find(|s| s["kind"] == kind))
            .and_then(|s| s["name"].as_str())
            .unwrap_or_else(|| panic!("no {kind} step in {}", report["plan"]))
            .to_owned()
    };
    let aws = aws_clients().await;

    // Security groups: the load balancer's opens 80 and 443 to the world; the tasks' only 8080, only to it.
    let group = |name: String| {
        let ec2 = aws.ec2.clone();
        async move {
            let groups = ec2.describe_security_groups().send().await.expect("DescribeSecurityGroups");
            let found: Vec<_> =
                groups.security_groups().iter().filter(|g| g.group_name() == Some(name.as_str())).cloned().collect();
            assert_eq!(found.len(), 1, "one group {name}: {found:?}");
            found.into_iter().next().expect("group")
        }
    };
    let lb_group = group(name_of("load-balancer-security-group")).await;
    let task_group = group(name_of("service-security-group")).await;
    let lb_group_id = lb_group.group_id().expect("id").to_owned();

    let mut lb_rules = BTreeSet::new();
    for p in lb_group.ip_permissions() {
        assert_eq!(p.ip_protocol(), Some("tcp"), "{p:?}");
        assert_eq!(p.from_port(), p.to_port(), "single ports only: {p:?}");
        assert!(p.user_id_group_pairs().is_empty() && p.prefix_list_ids().is_empty(), "{p:?}");
        for r in p.ip_ranges() {
            lb_rules.insert((p.from_port().unwrap_or(-1), r.cidr_ip().unwrap_or("").to_owned()));
        }
        for r in p.ipv6_ranges() {
            lb_rules.insert((p.from_port().unwrap_or(-1), r.cidr_ipv6().unwrap_or("").to_owned()));
        }
    }
    let expected: BTreeSet<(i32, String)> = [(80, "0.0.0.0/0"), (80, "::/0"), (443, "0.0.0.0/0"), (443, "::/0")]
        .into_iter()
        .map(|(port, cidr)| (port, cidr.to_owned()))
        .collect();
    assert_eq!(lb_rules, expected, "the load balancer's group opens 80 and 443, nothing else");

    let permissions = task_group.ip_permissions();
    assert_eq!(permissions.len(), 1, "one rule on the tasks' group: {permissions:?}");
    let only = &permissions[0];
    assert_eq!((only.ip_protocol(), only.from_port(), only.to_port()), (Some("tcp"), Some(8080), Some(8080)));
    assert!(only.ip_ranges().is_empty(), "no CIDR may reach the tasks: {only:?}");
    assert!(only.ipv6_ranges().is_empty() && only.prefix_list_ids().is_empty(), "{only:?}");
    let sources: Vec<&str> = only.user_id_group_pairs().iter().filter_map(|p| p.group_id()).collect();
    assert_eq!(sources, vec![lb_group_id.as_str()], "only the load balancer's group reaches the tasks");

    // The execution role: trusted by ECS tasks only; the ECS execution policy; reads exactly the secrets.
    let role = name_of("execution-role");
    let got = aws.iam.get_role().role_name(&role).send().await.expect("GetRole");
    let trust = document(got.role().and_then(|r| r.assume_role_policy_document()).expect("trust policy"));
    let principals: Vec<String> = trust["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .flat_map(|s| strings(&s["Principal"]["Service"]))
        .collect();
    assert_eq!(principals, vec!["ecs-tasks.amazonaws.com".to_owned()], "{trust}");
    let attached = aws.iam.list_attached_role_policies().role_name(&role).send().await.expect("attached");
    let attached: Vec<&str> = attached.attached_policies().iter().filter_map(|p| p.policy_arn()).collect();
    assert_eq!(attached, vec![EXECUTION_ROLE_POLICY], "only the ECS task execution policy is attached");
    let inline = aws.iam.list_role_policies().role_name(&role).send().await.expect("ListRolePolicies");
    assert_eq!(inline.policy_names().len(), 1, "one inline policy: {:?}", inline.policy_names());
    let policy_name = inline.policy_names()[0].clone();
    let policy = aws.iam.get_role_policy().role_name(&role).policy_name(&policy_name).send().await.expect("policy");
    let policy = document(policy.policy_document());
    let mut grants = BTreeSet::new();
    for statement in policy["Statement"].as_array().expect("statements") {
        assert_eq!(statement["Effect"], "Allow", "{policy}");
        assert!(statement.get("NotAction").is_none() && statement.get("NotResource").is_none(), "{policy}");
        for action in strings(&statement["Action"]) {
            for resource in strings(&statement["Resource"]) {
                grants.insert((action.clone(), resource));
            }
        }
    }
    let expected: BTreeSet<(String, String)> = [
        ("secretsmanager:GetSecretValue", API_KEY_SECRET),
        ("secretsmanager:GetSecretValue", DB_URL),
        ("ssm:GetParameters", TOKEN_ARN),
    ]
    .into_iter()
    .map(|(a, r)| (a.to_owned(), r.to_owned()))
    .collect();
    assert_eq!(grants, expected, "the role reads exactly the configured secrets: {policy}");

    // Listeners: HTTPS with the certificate and a modern TLS policy; HTTP only redirects to HTTPS.
    let lbs = aws.elb.describe_load_balancers().names(name_of("load-balancer")).send().await.expect("LB");
    let lb_arn = lbs.load_balancers()[0].load_balancer_arn().expect("arn").to_owned();
    let target_group = report["applied"]["target-group"].as_str().expect("target group ARN").to_owned();
    let listeners = aws.elb.describe_listeners().load_balancer_arn(&lb_arn).send().await.expect("listeners");
    let mut ports = Vec::new();
    for listener in listeners.listeners() {
        let port = listener.port().unwrap_or_default();
        ports.push(port);
        let arn = listener.listener_arn().expect("arn");
        let rules = aws.elb.describe_rules().listener_arn(arn).send().await.expect("rules");
        let forwards = rules.rules().iter().flat_map(|r| r.actions().iter()).any(|a| {
            a.target_group_arn() == Some(target_group.as_str())
                || a.forward_config().is_some_and(|f| {
                    f.target_groups().iter().any(|t| t.target_group_arn() == Some(target_group.as_str()))
                })
        });
        match port {
            443 => {
                assert_eq!(listener.protocol().map(AsRef::<str>::as_ref), Some("HTTPS"));
                assert_eq!(listener.ssl_policy(), Some(TLS_POLICY), "a modern TLS policy");
                assert!(TLS_POLICY.contains("TLS13"), "{TLS_POLICY} offers TLS 1.3 and 1.2 only");
                let certificates: Vec<&str> =
                    listener.certificates().iter().filter_map(|c| c.certificate_arn()).collect();
                assert_eq!(certificates, vec![certificate.as_str()]);
                assert!(forwards, "HTTPS reaches the service's target group");
            }
            80 => {
                assert_eq!(listener.protocol().map(AsRef::<str>::as_ref), Some("HTTP"));
                let default = &listener.default_actions()[0];
                let redirect = default.redirect_config().expect("HTTP redirects");
                assert_eq!(
                    (redirect.protocol(), redirect.port(), redirect.status_code().map(AsRef::<str>::as_ref)),
                    (Some("HTTPS"), Some("443"), Some("HTTP_301")),
                    "{default:?}"
                );
                assert!(!forwards, "plain HTTP never reaches the service: {:?}", rules.rules());
            }
            other => panic!("unexpected listener on port {other}"),
        }
    }
    ports.sort_unstable();
    assert_eq!(ports, vec![80, 443]);
    println!(
        "least privilege of {name}: tasks' group 8080 from {lb_group_id} only; load balancer's group {lb_rules:?}; \
         execution role grants {grants:?}; HTTPS {TLS_POLICY}; HTTP 301 to HTTPS"
    );
}
