//! The IAM and CloudWatch Logs wrappers (`ecs_core::aws::{iam, logs}`) against the local stack's moto: what they
//! create reads back equal and managed, a changed spec applied reads back changed, foreign resources read as
//! unmanaged.
//!
//! Run with the stack's environment loaded (`set -a; . .stack/env; set +a`, as `scripts/test` does).

use std::process::Command;

use cargo_ecs_tests::{aws_clients, stack_var, unique_name};
use ecs_core::aws::iam::{create_role, observe_role, secrets_policy, update_role};
use ecs_core::aws::logs::{create_log_group, observe_log_group, recent_log_lines, task_log_stream, update_log_group};
use ecs_core::stack::model::{EXECUTION_ROLE_POLICY_ARN, LogGroupSpec, LogGroupState, RoleSpec, RoleState, Tags};

/// Runs `code` with the stack's Python (boto3), for setting up what the wrappers never write.
fn boto3(code: &str, args: &[&str]) {
    let output = Command::new(stack_var("CARGO_ECS_STACK_PYTHON"))
        .arg("-c")
        .arg(code)
        .args(args)
        .output()
        .expect("run the stack's python");
    assert!(output.status.success(), "boto3 failed: {}", String::from_utf8_lossy(&output.stderr));
}

const LOGS_READ_ONLY: &str = "arn:aws:iam::aws:policy/CloudWatchLogsReadOnlyAccess";

fn role_spec(name: &str) -> RoleSpec {
    RoleSpec {
        name: name.to_owned(),
        arn: format!("arn:aws:iam::123456789012:role/{name}"),
        managed_policies: vec![EXECUTION_ROLE_POLICY_ARN.to_owned()],
        inline_policy: secrets_policy(&["arn:aws:ssm:us-east-1:123456789012:parameter/app/token".to_owned()]),
        tags: Tags::from([("team".to_owned(), "payments".to_owned())]),
    }
}

#[tokio::test]
async fn a_created_role_reads_back_equal_and_managed() {
    let clients = aws_clients().await;
    let spec = role_spec(&unique_name("role"));
    assert_eq!(observe_role(&clients.iam, &spec.name).await.expect("observe"), None);

    let created = create_role(&clients.iam, &spec).await.expect("create");
    assert_eq!(created.arn, spec.arn);
    let found = observe_role(&clients.iam, &spec.name).await.expect("observe").expect("the role exists");
    assert!(found.managed, "the role carries the managed tag");
    assert_eq!(found.state, created);
    assert_eq!(
        found.state,
        RoleState {
            name: spec.name.clone(),
            arn: spec.arn.clone(),
            trusts_ecs_tasks: true,
            managed_policies: spec.managed_policies.clone(),
            inline_policy: spec.inline_policy.clone(),
        }
    );
}

#[tokio::test]
async fn a_changed_role_spec_is_applied() {
    let clients = aws_clients().await;
    let spec = role_spec(&unique_name("role"));
    let created = create_role(&clients.iam, &spec).await.expect("create");

    // Another secret, one policy more: the inline policy is replaced, the policy attached.
    let mut changed = spec.clone();
    changed.managed_policies = vec![EXECUTION_ROLE_POLICY_ARN.to_owned(), LOGS_READ_ONLY.to_owned()];
    changed.managed_policies.sort();
    changed.inline_policy =
        secrets_policy(&["arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf".to_owned()]);
    let updated = update_role(&clients.iam, &changed, &created).await.expect("update");
    let found = observe_role(&clients.iam, &spec.name).await.expect("observe").expect("exists");
    assert_eq!(found.state, updated);
    assert_eq!(found.state.managed_policies, changed.managed_policies);
    assert_eq!(found.state.inline_policy, changed.inline_policy);

    // No secrets, only the logs policy: the inline policy is deleted, the execution policy detached.
    let mut fewer = changed.clone();
    fewer.managed_policies = vec![LOGS_READ_ONLY.to_owned()];
    fewer.inline_policy = None;
    update_role(&clients.iam, &fewer, &found.state).await.expect("update");
    let found = observe_role(&clients.iam, &spec.name).await.expect("observe").expect("exists");
    assert_eq!(found.state.managed_policies, [LOGS_READ_ONLY]);
    assert_eq!(found.state.inline_policy, None);
    assert!(found.managed);
}

#[tokio::test]
async fn a_foreign_role_reads_as_unmanaged_and_its_trust_is_fixed_on_update() {
    let clients = aws_clients().await;
    let name = unique_name("foreign");
    boto3(
        "import boto3, json, sys\n\
         doc = {'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': 'sts:AssumeRole',\n\
                'Principal': {'Service': 'ec2.amazonaws.com'}}]}\n\
         iam = boto3.client('iam')\n\
         iam.create_role(RoleName=sys.argv[1], AssumeRolePolicyDocument=json.dumps(doc, indent=2))\n\
         iam.put_role_policy(RoleName=sys.argv[1], PolicyName='cargo-ecs-secrets', PolicyDocument=json.dumps(\n\
             {'Version': '2012-10-17', 'Statement': [{'Resource': ['arn:aws:ssm:us-east-1:1:parameter/x'],\n\
              'Action': 'ssm:GetParameters', 'Effect': 'Allow'}]}, indent=4))\n",
        &[&name],
    );
    let found = observe_role(&clients.iam, &name).await.expect("observe").expect("exists");
    assert!(!found.managed, "no managed tag");
    assert!(!found.state.trusts_ecs_tasks, "it trusts EC2 only");
    assert!(found.state.managed_policies.is_empty());
    // Written with whitespace and keys in another order, read back canonical.
    assert_eq!(found.state.inline_policy, secrets_policy(&["arn:aws:ssm:us-east-1:1:parameter/x".to_owned()]));

    let spec = RoleSpec { name: name.clone(), arn: found.state.arn.clone(), ..role_spec(&name) };
    update_role(&clients.iam, &spec, &found.state).await.expect("update");
    let found = observe_role(&clients.iam, &name).await.expect("observe").expect("exists");
    assert!(found.state.trusts_ecs_tasks, "the trust policy was replaced");
    assert_eq!(found.state.managed_policies, [EXECUTION_ROLE_POLICY_ARN]);
    assert_eq!(found.state.inline_policy, spec.inline_policy);
}

#[tokio::test]
async fn a_log_group_is_created_observed_and_updated() {
    let clients = aws_clients().await;
    let name = format!("/ecs/{}", unique_name("logs"));
    assert_eq!(observe_log_group(&clients.logs, &name).await.expect("observe"), None);
    // A group whose name extends this one's is another group.
    let longer = LogGroupSpec { name: format!("{name}-prod"), retention_days: 7, tags: Tags::new() };
    create_log_group(&clients.logs, &longer).await.expect("create the longer one");
    assert_eq!(observe_log_group(&clients.logs, &name).await.expect("observe"), None);

    let spec =
        LogGroupSpec { name: name.clone(), retention_days: 30, tags: Tags::from([("a".to_owned(), "b".to_owned())]) };
    let created = create_log_group(&clients.logs, &spec).await.expect("create");
    let found = observe_log_group(&clients.logs, &name).await.expect("observe").expect("exists");
    assert!(found.managed);
    assert_eq!(found.state, created);
    assert_eq!(found.state, LogGroupState { name: name.clone(), retention_days: Some(30) });

    let changed = LogGroupSpec { retention_days: 14, ..spec.clone() };
    update_log_group(&clients.logs, &changed).await.expect("update");
    let found = observe_log_group(&clients.logs, &name).await.expect("observe").expect("exists");
    assert_eq!(found.state.retention_days, Some(14));

    let invalid = LogGroupSpec { retention_days: 13, ..spec };
    let error = update_log_group(&clients.logs, &invalid).await.expect_err("13 days is not a retention value");
    assert_eq!(error.code.as_deref(), Some("InvalidParameterException"), "{error}");
}

#[tokio::test]
async fn a_foreign_log_group_reads_as_unmanaged_with_no_retention() {
    let clients = aws_clients().await;
    let name = format!("/ecs/{}", unique_name("foreign"));
    boto3("import boto3, sys\nboto3.client('logs').create_log_group(logGroupName=sys.argv[1])\n", &[&name]);
    let found = observe_log_group(&clients.logs, &name).await.expect("observe").expect("exists");
    assert!(!found.managed);
    assert_eq!(found.state.retention_days, None);
}

#[tokio::test]
async fn recent_log_lines_are_the_newest_ones_newest_last() {
    let clients = aws_clients().await;
    let group = format!("/ecs/{}", unique_name("lines"));
    create_log_group(&clients.logs, &LogGroupSpec { name: group.clone(), retention_days: 1, tags: Tags::new() })
        .await
        .expect("create");
    let stream = task_log_stream("ecs", "api", "0123456789abcdef");
    assert_eq!(stream, "ecs/api/0123456789abcdef");
    assert_eq!(
        recent_log_lines(&clients.logs, &group, &stream, 10).await.expect("no stream yet"),
        Vec::<String>::new()
    );
    assert_eq!(
        recent_log_lines(&clients.logs, &format!("{group}-missing"), &stream, 10).await.expect("no group"),
        Vec::<String>::new()
    );

    boto3(
        "import boto3, sys, time\n\
         logs = boto3.client('logs')\n\
         logs.create_log_stream(logGroupName=sys.argv[1], logStreamName=sys.argv[2])\n\
         now = int(time.time() * 1000)\n\
         logs.put_log_events(logGroupName=sys.argv[1], logStreamName=sys.argv[2], logEvents=[\n\
             {'timestamp': now + i, 'message': f'line {i}\\n'} for i in range(5)])\n",
        &[&group, &stream],
    );
    let lines = recent_log_lines(&clients.logs, &group, &stream, 3).await.expect("lines");
    assert_eq!(lines, ["line 2", "line 3", "line 4"]);
    let all = recent_log_lines(&clients.logs, &group, &stream, 100).await.expect("lines");
    assert_eq!(all.len(), 5);
    assert_eq!(all.first().map(String::as_str), Some("line 0"));
}
