//! The ECS wrappers (`ecs_core::aws::ecs`) against the local stack's moto and its ECS shims (service rollouts take
//! about 2 s there): clusters, task definition revisions and services read back as written and managed, changes
//! applied read back changed, and a service update rolls out a new PRIMARY deployment to COMPLETED.
//!
//! Run with the stack's environment loaded (`set -a; . .stack/env; set +a`, as `scripts/test` does).

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use cargo_ecs_tests::{aws_clients, stack_var, unique_name};
use ecs_core::aws::Clients;
use ecs_core::aws::ecs::{
    NameMap, ResolvedIds, create_cluster, create_service, observe_cluster, observe_service, observe_task_definition,
    register_task_definition, running_tasks, stopped_tasks, update_cluster, update_service,
};
use ecs_core::stack::model::{
    ClusterSpec, ContainerSpec, ServiceLoadBalancer, ServiceSpec, ServiceState, Tags, TaskDefinitionSpec,
};

fn tags() -> Tags {
    Tags::from([("team".to_owned(), "payments".to_owned())])
}

fn task_definition(family: &str) -> TaskDefinitionSpec {
    TaskDefinitionSpec {
        family: family.to_owned(),
        cpu: 256,
        memory: 512,
        cpu_architecture: "ARM64".to_owned(),
        execution_role_arn: format!("arn:aws:iam::123456789012:role/{family}-execution"),
        task_role_arn: None,
        container: ContainerSpec {
            name: "app".to_owned(),
            image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:0123".to_owned(),
            port: 8080,
            environment: BTreeMap::from([
                ("RUST_LOG".to_owned(), "info".to_owned()),
                ("A_FIRST".to_owned(), "1".to_owned()),
            ]),
            secrets: BTreeMap::from([(
                "TOKEN".to_owned(),
                "arn:aws:ssm:us-east-1:123456789012:parameter/app/token".to_owned(),
            )]),
            log_group: format!("/ecs/{family}"),
            log_region: "us-east-1".to_owned(),
            log_stream_prefix: "ecs".to_owned(),
        },
        tags: tags(),
    }
}

#[tokio::test]
async fn a_created_cluster_reads_back_equal_and_managed_and_gains_missing_providers() {
    let clients = aws_clients().await;
    let name = unique_name("cl");
    let spec = ClusterSpec {
        name: name.clone(),
        capacity_providers: vec!["FARGATE".to_owned(), "FARGATE_SPOT".to_owned()],
        tags: tags(),
    };
    assert_eq!(observe_cluster(&clients.ecs, &name).await.expect("observe"), None);
    let created = create_cluster(&clients.ecs, &spec).await.expect("create");
    let found = observe_cluster(&clients.ecs, &name).await.expect("observe").expect("exists");
    assert!(found.managed);
    assert_eq!(found.state, created);
    assert_eq!(found.state.status, "ACTIVE");
    assert_eq!(found.state.capacity_providers, spec.capacity_providers);
    // Unchanged: nothing to add.
    assert_eq!(update_cluster(&clients.ecs, &spec).await.expect("update"), created);

    // A cluster with FARGATE only gains FARGATE_SPOT and keeps what it had.
    let narrow = unique_name("cl");
    let only_fargate = ClusterSpec { name: narrow.clone(), capacity_providers: vec!["FARGATE".to_owned()], ..spec };
    create_cluster(&clients.ecs, &only_fargate).await.expect("create");
    let wider = ClusterSpec {
        capacity_providers: vec!["FARGATE".to_owned(), "FARGATE_SPOT".to_owned()],
        ..only_fargate.clone()
    };
    let updated = update_cluster(&clients.ecs, &wider).await.expect("update");
    assert_eq!(updated.capacity_providers, ["FARGATE", "FARGATE_SPOT"]);
    let found = observe_cluster(&clients.ecs, &narrow).await.expect("observe").expect("exists");
    assert_eq!(found.state.capacity_providers, ["FARGATE", "FARGATE_SPOT"]);

    clients.ecs.delete_cluster().cluster(&narrow).send().await.expect("delete");
    assert_eq!(observe_cluster(&clients.ecs, &narrow).await.expect("observe"), None, "a deleted cluster is absent");
    let error = update_cluster(&clients.ecs, &wider).await.expect_err("no cluster to update");
    assert!(error.message.contains("does not exist"), "{error}");
}

#[tokio::test]
async fn an_unchanged_task_definition_round_trips_and_a_change_reads_back() {
    let clients = aws_clients().await;
    let family = unique_name("td");
    assert_eq!(observe_task_definition(&clients.ecs, &family).await.expect("observe"), None);

    let spec = task_definition(&family);
    let registered = register_task_definition(&clients.ecs, &spec).await.expect("register");
    let without_tags = TaskDefinitionSpec { tags: Tags::new(), ..spec.clone() };
    assert_eq!(registered.spec.as_ref(), Some(&without_tags));
    let observed = observe_task_definition(&clients.ecs, &family).await.expect("observe").expect("exists");
    assert_eq!(observed, registered);
    assert_eq!(observed.spec, Some(without_tags), "register → observe gives back the spec (tags aside)");

    let mut changed = spec.clone();
    changed.memory = 1024;
    changed.cpu_architecture = "X86_64".to_owned();
    changed.task_role_arn = Some(format!("arn:aws:iam::123456789012:role/{family}-task"));
    changed.container.environment.insert("NEW".to_owned(), "yes".to_owned());
    changed.container.secrets.clear();
    let second = register_task_definition(&clients.ecs, &changed).await.expect("register");
    assert_eq!(second.revision, registered.revision + 1);
    let observed = observe_task_definition(&clients.ecs, &family).await.expect("observe").expect("exists");
    assert_eq!(observed.arn, second.arn, "the latest revision");
    assert_eq!(observed.spec, Some(TaskDefinitionSpec { tags: Tags::new(), ..changed }));
}

#[tokio::test]
async fn a_task_definition_of_another_shape_has_no_spec() {
    let clients = aws_clients().await;
    let family = unique_name("td-ec2");
    clients
        .ecs
        .register_task_definition()
        .family(&family)
        .container_definitions(
            ecs_core::aws::ecs::aws_sdk_ecs::types::ContainerDefinition::builder()
                .name("web")
                .image("nginx")
                .memory(128)
                .build(),
        )
        .send()
        .await
        .expect("register");
    let observed = observe_task_definition(&clients.ecs, &family).await.expect("observe").expect("exists");
    assert_eq!(observed.spec, None);
}

/// What a service needs around it: a cluster, two default-VPC subnets, a security group, a target group and a
/// task definition with two revisions.
struct Fixture {
    spec: ServiceSpec,
    ids: ResolvedIds,
    names: NameMap,
    first: String,
    second: String,
}

async fn fixture(clients: &Clients) -> Fixture {
    let name = unique_name("svc");
    let cluster = ClusterSpec {
        name: unique_name("svc-cl"),
        capacity_providers: vec!["FARGATE".to_owned(), "FARGATE_SPOT".to_owned()],
        tags: tags(),
    };
    create_cluster(&clients.ecs, &cluster).await.expect("cluster");

    let subnets = clients.ec2.describe_subnets().send().await.expect("subnets");
    let mut default_subnets: Vec<(String, String)> = subnets
        .subnets()
        .iter()
        .filter(|s| s.default_for_az() == Some(true))
        .filter_map(|s| Some((s.subnet_id()?.to_owned(), s.vpc_id()?.to_owned())))
        .collect();
    default_subnets.sort();
    assert!(default_subnets.len() >= 2, "the default VPC has subnets");
    let vpc = default_subnets[0].1.clone();
    let subnets: Vec<String> = default_subnets.iter().take(2).map(|(id, _)| id.clone()).collect();

    let group_name = format!("{name}-service");
    let group = clients
        .ec2
        .create_security_group()
        .group_name(&group_name)
        .description("cargo-ecs test")
        .vpc_id(&vpc)
        .send()
        .await
        .expect("security group");
    let group_id = group.group_id().expect("group id").to_owned();

    let target_group_name = unique_name("tg");
    let target_group = clients
        .elb
        .create_target_group()
        .name(&target_group_name)
        .protocol("HTTP".into())
        .port(8080)
        .vpc_id(&vpc)
        .target_type("ip".into())
        .send()
        .await
        .expect("target group");
    let target_group_arn = target_group.target_groups()[0].target_group_arn().expect("ARN").to_owned();

    let definition = task_definition(&name);
    let first = register_task_definition(&clients.ecs, &definition).await.expect("register").arn;
    let mut changed = definition.clone();
    changed.container.environment.insert("VERSION".to_owned(), "2".to_owned());
    let second = register_task_definition(&clients.ecs, &changed).await.expect("register").arn;

    let spec = ServiceSpec {
        name: name.clone(),
        cluster: cluster.name,
        family: name,
        desired_count: Some(2),
        spot: false,
        subnets,
        security_groups: vec![group_name.clone()],
        assign_public_ip: false,
        load_balancer: Some(ServiceLoadBalancer {
            target_group: target_group_name.clone(),
            container: "app".to_owned(),
            port: 8080,
        }),
        health_check_grace_period: Some(10),
        minimum_healthy_percent: 100,
        maximum_percent: 200,
        circuit_breaker: true,
        tags: tags(),
    };
    let ids = ResolvedIds {
        security_groups: BTreeMap::from([(group_name.clone(), group_id.clone())]),
        target_group: Some(target_group_arn.clone()),
    };
    let names = NameMap {
        security_groups: BTreeMap::from([(group_id, group_name)]),
        target_groups: BTreeMap::from([(target_group_arn, target_group_name)]),
    };
    Fixture { spec, ids, names, first, second }
}

/// Observes the service until `done` holds; panics with the last state after 60 s.
async fn wait_for(clients: &Clients, f: &Fixture, what: &str, done: impl Fn(&ServiceState) -> bool) -> ServiceState {
    let start = Instant::now();
    loop {
        let state = observe_service(&clients.ecs, &f.spec.cluster, &f.spec.name, &f.names)
            .await
            .expect("observe")
            .expect("the service exists")
            .state;
        if done(&state) {
            return state;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "timed out waiting for {what}: {state:#?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn completed_on(state: &ServiceState, task_definition: &str) -> bool {
    state.deployments.len() == 1
        && state.deployments[0].status == "PRIMARY"
        && state.deployments[0].task_definition == task_definition
        && state.deployments[0].rollout_state.as_deref() == Some("COMPLETED")
}

#[tokio::test]
async fn a_service_is_created_rolled_out_and_updated_to_a_new_revision() {
    let clients = aws_clients().await;
    let f = fixture(&clients).await;
    let (cluster, name) = (&f.spec.cluster, &f.spec.name);
    assert_eq!(observe_service(&clients.ecs, cluster, name, &f.names).await.expect("observe"), None);

    let created = create_service(&clients.ecs, &f.spec, &f.first, &f.ids).await.expect("create");
    assert_eq!(created.task_definition, f.first);
    assert_eq!(created.deployments.len(), 1);
    assert_eq!(created.deployments[0].status, "PRIMARY");
    let found = observe_service(&clients.ecs, cluster, name, &f.names).await.expect("observe").expect("exists");
    assert!(found.managed);
    let state = &found.state;
    // Equal in shape to the spec: names where the spec has names.
    assert_eq!(state.name, f.spec.name);
    assert_eq!(state.status, "ACTIVE");
    assert_eq!(state.desired_count, 2);
    assert!(!state.spot);
    assert_eq!(state.subnets, f.spec.subnets);
    assert_eq!(state.security_groups, f.spec.security_groups);
    assert_eq!(state.assign_public_ip, f.spec.assign_public_ip);
    assert_eq!(state.load_balancer, f.spec.load_balancer);
    assert_eq!(state.health_check_grace_period, f.spec.health_check_grace_period);
    assert_eq!((state.minimum_healthy_percent, state.maximum_percent), (100, 200));
    assert!(state.circuit_breaker);
    assert_eq!(state.deployments[0].id, created.deployments[0].id);

    // A retried create (same inputs, so the same client token) is idempotent; other inputs are not.
    let again = create_service(&clients.ecs, &f.spec, &f.first, &f.ids).await.expect("retried create");
    assert_eq!(again.arn, created.arn);
    let other = ServiceSpec { desired_count: Some(5), ..f.spec.clone() };
    let error = create_service(&clients.ecs, &other, &f.first, &f.ids).await.expect_err("not idempotent");
    assert_eq!(error.code.as_deref(), Some("InvalidParameterException"), "{error}");

    let first = wait_for(&clients, &f, "the first deployment", |s| completed_on(s, &f.first)).await;
    assert_eq!(first.running_count, 2);
    let tasks = running_tasks(&clients.ecs, cluster, name).await.expect("tasks");
    assert_eq!(tasks.len(), 2);
    assert!(tasks.iter().all(|t| t.last_status == "RUNNING" && t.task_definition == f.first));
    assert!(tasks.iter().all(|t| t.started_by.as_deref() == Some(first.deployments[0].id.as_str())));
    assert!(tasks.iter().all(|t| t.private_ip.is_some()), "{tasks:#?}");

    // A new revision, no desired count in the spec: a new PRIMARY deployment, the count kept.
    let keep_count = ServiceSpec { desired_count: None, ..f.spec.clone() };
    let updated = update_service(&clients.ecs, &keep_count, &f.second, &f.ids, false).await.expect("update");
    assert_eq!(updated.task_definition, f.second);
    assert_eq!(updated.desired_count, 2);
    let primary = &updated.deployments[0];
    assert_eq!(primary.status, "PRIMARY");
    assert_ne!(primary.id, first.deployments[0].id, "a new deployment");
    assert_eq!(primary.task_definition, f.second);
    assert!(updated.deployments.iter().any(|d| d.status == "ACTIVE" && d.task_definition == f.first));

    let second = wait_for(&clients, &f, "the second deployment", |s| completed_on(s, &f.second)).await;
    assert_eq!(second.deployments[0].id, primary.id);
    assert_eq!((second.desired_count, second.running_count), (2, 2));
    let stopped =
        stopped_tasks(&clients.ecs, cluster, name, Some(&first.deployments[0].id), 10).await.expect("stopped");
    assert_eq!(stopped.len(), 2, "{stopped:#?}");
    assert!(stopped.iter().all(|t| t.last_status == "STOPPED" && t.stopped_at.is_some()));
    assert!(stopped.iter().all(|t| t.stopped_reason.as_deref().is_some_and(|r| r.contains("Scaling activity"))));
    assert_eq!(stopped_tasks(&clients.ecs, cluster, name, Some(&primary.id), 10).await.expect("stopped"), []);
    assert_eq!(stopped_tasks(&clients.ecs, cluster, name, None, 1).await.expect("stopped").len(), 1);
}

#[tokio::test]
async fn service_updates_change_the_count_capacity_and_network_the_spec_governs() {
    let clients = aws_clients().await;
    let f = fixture(&clients).await;
    let (cluster, name) = (&f.spec.cluster, &f.spec.name);
    let no_lb = ServiceSpec { load_balancer: None, desired_count: None, assign_public_ip: true, ..f.spec.clone() };
    let created = create_service(&clients.ecs, &no_lb, &f.first, &f.ids).await.expect("create");
    assert_eq!(created.desired_count, 1, "1 on create when the spec sets none");
    assert_eq!(created.load_balancer, None);
    assert_eq!(created.health_check_grace_period.unwrap_or(0), 0, "no grace period without a load balancer");
    assert!(created.assign_public_ip);

    let scaled = ServiceSpec { desired_count: Some(3), ..no_lb.clone() };
    let updated = update_service(&clients.ecs, &scaled, &f.first, &f.ids, false).await.expect("scale");
    assert_eq!(updated.desired_count, 3);
    assert_eq!(updated.deployments.len(), 1, "a count change is no new deployment");

    let spot = ServiceSpec { spot: true, assign_public_ip: false, desired_count: None, ..no_lb.clone() };
    update_service(&clients.ecs, &spot, &f.first, &f.ids, false).await.expect("spot");
    let found = observe_service(&clients.ecs, cluster, name, &f.names).await.expect("observe").expect("exists");
    assert!(found.state.spot);
    assert!(!found.state.assign_public_ip);
    assert_eq!(found.state.desired_count, 3, "kept without desired_count");
    // Back and forth: an empty strategy returns to the launch type, the spot strategy again.
    let on_demand = ServiceSpec { spot: false, ..spot.clone() };
    assert!(!update_service(&clients.ecs, &on_demand, &f.first, &f.ids, false).await.expect("on demand").spot);
    assert!(update_service(&clients.ecs, &spot, &f.first, &f.ids, false).await.expect("spot").spot);

    let forced = update_service(&clients.ecs, &spot, &f.first, &f.ids, true).await.expect("force");
    assert_eq!(forced.deployments[0].status, "PRIMARY");
    assert_eq!(forced.deployments[0].task_definition, f.first);
    assert!(forced.deployments.len() >= 2, "forceNewDeployment starts a deployment: {forced:#?}");
    let primary = forced.deployments[0].id.clone();
    wait_for(&clients, &f, "the forced deployment", |s| s.deployments.len() == 1 && s.deployments[0].id == primary)
        .await;

    let unresolved = ResolvedIds { security_groups: BTreeMap::new(), target_group: None };
    let error = update_service(&clients.ecs, &spot, &f.first, &unresolved, false).await.expect_err("unresolved");
    assert!(error.message.contains("security group"), "{error}");
}

#[tokio::test]
async fn a_missing_service_or_cluster_reads_as_absent_with_no_tasks() {
    let clients = aws_clients().await;
    let names = NameMap::default();
    let cluster = unique_name("nocl");
    assert_eq!(observe_service(&clients.ecs, &cluster, "nothing", &names).await.expect("observe"), None);
    assert_eq!(running_tasks(&clients.ecs, &cluster, "nothing").await.expect("tasks"), []);
    let spec = ClusterSpec { name: cluster.clone(), capacity_providers: vec!["FARGATE".to_owned()], tags: tags() };
    create_cluster(&clients.ecs, &spec).await.expect("cluster");
    assert_eq!(observe_service(&clients.ecs, &cluster, "nothing", &names).await.expect("observe"), None);
    assert_eq!(stopped_tasks(&clients.ecs, &cluster, "nothing", None, 5).await.expect("tasks"), []);
}

/// POSTs `body` to the shims' control endpoint (`/_shim/...`, not AWS) and returns the answer's body.
fn shim_control(path: &str, body: &str) -> String {
    let endpoint = stack_var("AWS_ENDPOINT_URL");
    let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
    assert!(host.starts_with("127.0.0.1:"), "the stack listens on loopback: {endpoint}");
    let mut stream = TcpStream::connect(host).expect("connect to the stack");
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    assert!(answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200"), "{path}: {answer}");
    answer.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned()
}

#[tokio::test]
async fn the_stopped_tasks_of_a_failed_deployment_carry_exit_codes_and_reasons() {
    let clients = aws_clients().await;
    let f = fixture(&clients).await;
    let (cluster, name) = (&f.spec.cluster, &f.spec.name);
    create_service(&clients.ecs, &f.spec, &f.first, &f.ids).await.expect("create");
    wait_for(&clients, &f, "the first deployment", |s| completed_on(s, &f.first)).await;

    let script = serde_json::json!({
        "cluster": cluster, "service": name, "outcome": "fail",
        "stopped_reason": "Essential container in task exited", "exit_code": 3,
    });
    shim_control("/_shim/ecs/next-rollout", &script.to_string());
    let updated = update_service(&clients.ecs, &f.spec, &f.second, &f.ids, false).await.expect("update");
    let failing = updated.deployments[0].id.clone();
    // The circuit breaker fails the deployment and rolls back to the first revision.
    let state = wait_for(&clients, &f, "the rollback", |s| {
        s.deployments.iter().all(|d| d.id != failing) && completed_on(s, &f.first)
    })
    .await;
    assert_eq!(state.task_definition, f.first);
    assert!(state.events.iter().any(|e| e.message.contains("deployment failed")), "{:#?}", state.events);

    let stopped = stopped_tasks(&clients.ecs, cluster, name, Some(&failing), 3).await.expect("stopped");
    assert_eq!(stopped.len(), 3, "{stopped:#?}");
    for task in &stopped {
        assert_eq!(task.task_definition, f.second);
        assert_eq!(task.started_by.as_deref(), Some(failing.as_str()));
        assert_eq!(task.stop_code.as_deref(), Some("EssentialContainerExited"));
        assert_eq!(task.stopped_reason.as_deref(), Some("Essential container in task exited"));
        assert_eq!(task.containers, [("app".to_owned(), Some(3), None)]);
    }
    assert!(stopped.windows(2).all(|w| w[0].stopped_at >= w[1].stopped_at), "newest first");
}
