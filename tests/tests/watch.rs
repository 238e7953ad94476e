//! `ecs_core::watch` against the local stack's ECS rollouts (the `ecs-service-rollouts` shim): a service is made
//! with the SDK, updated to a new revision and followed to completion; then a scripted failing rollout with the
//! circuit breaker on is followed to its rollback, with the stopped task's reason and exit code in the diagnosis.
//!
//! The snapshot source here is the test's own, from DescribeServices / ListTasks / DescribeTasks (no load
//! balancer: the targets stay empty).

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use cargo_ecs_tests::{Stack, unique_name};
use ecs_core::aws::{AwsOptions, Clients};
// The SDKs' shared `DateTime` (aws-smithy-types), reached through the ECR SDK ecs-core re-exports.
use ecs_core::aws::ecs::NameMap;
use ecs_core::report::{Event, Recorder};
use ecs_core::stack::rollout::AwsRollout;
use ecs_core::watch::{Verdict, WatchOptions, WatchOutcome, watch};
use serde_json::{Value, json};

fn endpoint() -> String {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("the stack's AWS_ENDPOINT_URL");
    assert!(endpoint.starts_with("http://127.0.0.1:"), "only the local stack: {endpoint}");
    endpoint
}

/// A plain HTTP/1.1 POST to the local stack; returns the status and the body.
fn post(path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let endpoint = endpoint();
    let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(host).expect("connect to the stack");
    stream.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    let mut request = format!("POST {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read the answer");
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP answer");
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status code");
    let chunked = head.lines().any(|l| l.eq_ignore_ascii_case("transfer-encoding: chunked"));
    (status, if chunked { dechunk(body) } else { body.to_owned() })
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// Scripts the service's next rollout (`POST /_shim/ecs/next-rollout`, not AWS).
fn script_next_rollout(script: &Value) {
    let (status, body) = post("/_shim/ecs/next-rollout", &[("Content-Type", "application/json")], &script.to_string());
    assert_eq!(status, 200, "next-rollout: {body}");
}

/// RegisterTaskDefinition as a raw ECS JSON request. This crate cannot name `aws_sdk_ecs` types (it is not a
/// dependency, and ecs-core does not re-export it), and a `ContainerDefinition` can only be built by name; later
/// revisions are registered with the SDK from this one's container definition, read back with
/// DescribeTaskDefinition.
fn register_first_revision(family: &str) -> String {
    let body = json!({
        "family": family,
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "cpu": "256",
        "memory": "512",
        "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
        "containerDefinitions": [{
            "name": "web",
            "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1",
            "essential": true,
            "portMappings": [{"containerPort": 8080, "protocol": "tcp"}]
        }]
    });
    let (status, answer) = post(
        "/",
        &[
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.RegisterTaskDefinition"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/ecs/aws4_request, SignedHeaders=host, \
                 Signature=0",
            ),
        ],
        &body.to_string(),
    );
    assert_eq!(status, 200, "RegisterTaskDefinition: {answer}");
    let answer: Value = serde_json::from_str(&answer).expect("JSON answer");
    answer["taskDefinition"]["taskDefinitionArn"].as_str().expect("taskDefinitionArn").to_owned()
}

/// The next revision of `family`: the container of `from`, with another image tag.
async fn register_revision(clients: &Clients, family: &str, from: &str, tag: &str) -> String {
    let described =
        clients.ecs.describe_task_definition().task_definition(from).send().await.expect("DescribeTaskDefinition");
    let task_definition = described.task_definition().expect("a task definition");
    let mut container = task_definition.container_definitions().first().expect("a container").clone();
    container.image = Some(format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/web:{tag}"));
    let registered = clients
        .ecs
        .register_task_definition()
        .family(family)
        .requires_compatibilities("FARGATE".into())
        .network_mode("awsvpc".into())
        .cpu("256")
        .memory("512")
        .container_definitions(container)
        .send()
        .await
        .expect("RegisterTaskDefinition");
    registered.task_definition().and_then(|t| t.task_definition_arn()).expect("taskDefinitionArn").to_owned()
}

/// The id of the PRIMARY deployment in a CreateService / UpdateService answer's `service` (a macro: this crate
/// cannot name the SDK's types).
macro_rules! primary_deployment {
    ($service:expr) => {
        $service
            .and_then(|s| s.deployments().iter().find(|d| d.status() == Some("PRIMARY")))
            .and_then(|d| d.id())
            .expect("a PRIMARY deployment")
            .to_owned()
    };
}

fn options() -> WatchOptions {
    WatchOptions { timeout: Duration::from_secs(90), interval: Duration::from_millis(500) }
}

fn outputs(recorder: &Recorder) -> Vec<String> {
    recorder
        .events()
        .into_iter()
        .filter_map(|e| if let Event::Output { line, .. } = e { Some(line) } else { None })
        .collect()
}

#[tokio::test]
async fn watch_follows_rollouts_of_the_local_stack_to_completion_and_to_rollback() {
    let _stack = Stack::get();
    let clients = Clients::from_options(&AwsOptions {
        endpoint_url: Some(endpoint()),
        region: Some("us-east-1".into()),
        ..Default::default()
    })
    .await;
    let cluster = unique_name("watch");
    let family = cluster.clone();
    let service = "web".to_owned();
    clients.ecs.create_cluster().cluster_name(&cluster).send().await.expect("CreateCluster");
    let revision1 = register_first_revision(&family);
    let revision2 = register_revision(&clients, &family, &revision1, "2").await;
    let revision3 = register_revision(&clients, &family, &revision1, "3").await;

    let created = clients
        .ecs
        .create_service()
        .cluster(&cluster)
        .service_name(&service)
        .task_definition(&revision1)
        .desired_count(2)
        .launch_type("FARGATE".into())
        .send()
        .await
        .expect("CreateService");
    // The source deploy and rollback use: DescribeServices, ListTasks/DescribeTasks (running and stopped).
    let source = AwsRollout {
        clients: &clients,
        cluster: cluster.clone(),
        service: service.clone(),
        target_group: None,
        names: NameMap::default(),
    };
    let created_deployment = primary_deployment!(created.service());
    let first = watch(&source, &created_deployment, options(), &Recorder::default()).await.expect("watch the creation");
    assert_eq!(first.verdict, Verdict::Completed, "{first:#?}");

    // A new revision rolls out.
    let updated = clients
        .ecs
        .update_service()
        .cluster(&cluster)
        .service(&service)
        .task_definition(&revision2)
        .send()
        .await
        .expect("UpdateService");
    let deployment = primary_deployment!(updated.service());
    let recorder = Recorder::default();
    let outcome: WatchOutcome = watch(&source, &deployment, options(), &recorder).await.expect("watch the update");
    assert_eq!(outcome.verdict, Verdict::Completed, "{outcome:#?}");
    assert_eq!(outcome.diagnosis, None);
    let lines = outputs(&recorder);
    let steady = format!("(service {service}) has reached a steady state.");
    let completed = format!("(service {service}) (deployment {deployment}) deployment completed.");
    assert!(lines.contains(&steady) && lines.contains(&completed), "{lines:#?}");
    let messages: Vec<&str> = outcome.events_seen.iter().map(|e| e.message.as_str()).collect();
    let unique_messages: std::collections::HashSet<&str> = outcome.events_seen.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(unique_messages.len(), messages.len(), "each event once: {messages:#?}");
    assert!(messages.iter().any(|m| m.contains("has started 2 tasks")), "{messages:#?}");
    let stale = format!("(deployment {created_deployment}) deployment completed.");
    assert!(!messages.iter().any(|m| m.contains(&stale)), "the last rollout's events are not news: {messages:#?}");

    // A rollout whose tasks exit, with the circuit breaker on: rolled back to revision 2, and the diagnosis says why.
    script_next_rollout(&json!({
        "service": service,
        "cluster": cluster,
        "outcome": "fail",
        "stopped_reason": "Essential container in task exited",
        "exit_code": 1
    }));
    let described =
        clients.ecs.describe_services().cluster(&cluster).services(&service).send().await.expect("DescribeServices");
    let mut configuration = described
        .services()
        .first()
        .and_then(|s| s.deployment_configuration())
        .expect("a deployment configuration")
        .clone();
    let breaker = configuration.deployment_circuit_breaker.as_mut().expect("a circuit breaker setting");
    breaker.enable = true;
    breaker.rollback = true;
    let updated = clients
        .ecs
        .update_service()
        .cluster(&cluster)
        .service(&service)
        .task_definition(&revision3)
        .deployment_configuration(configuration)
        .send()
        .await
        .expect("UpdateService");
    let deployment = primary_deployment!(updated.service());
    let recorder = Recorder::default();
    let outcome = watch(&source, &deployment, options(), &recorder).await.expect("watch the failing update");
    let Verdict::RolledBack { reason, to_task_definition } = &outcome.verdict else {
        panic!("expected a rollback: {outcome:#?}")
    };
    assert_eq!(to_task_definition, &revision2);
    assert_eq!(reason, "ECS deployment circuit breaker: tasks failed to start.");
    let diagnosis = outcome.diagnosis.as_ref().expect("a diagnosis");
    let stopped = diagnosis.stopped.first().expect("a stopped task in the diagnosis");
    assert_eq!(stopped.reason, "Essential container in task exited");
    assert_eq!(stopped.containers.first().and_then(|c| c.exit_code), Some(1));
    assert_eq!(stopped.deployment.as_deref(), Some(deployment.as_str()));
    let lines = outputs(&recorder);
    let failed = format!("(service {service}) (deployment {deployment}) deployment failed: tasks failed to start.");
    assert!(lines.contains(&failed), "{lines:#?}");
    let end =
        recorder.events().into_iter().find_map(|e| if let Event::End { result, .. } = e { Some(result) } else { None });
    assert!(end.is_some_and(|r| r.starts_with("failed and rolled back to")), "{:#?}", recorder.events());

    // Tidy up: the service goes (the stack is shared; names are unique anyway).
    let _ = clients.ecs.delete_service().cluster(&cluster).service(&service).force(true).send().await;
}
