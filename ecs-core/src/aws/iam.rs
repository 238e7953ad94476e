//! IAM: the task roles cargo-ecs creates or keeps in shape (trusted by `ecs-tasks.amazonaws.com`, managed
//! policies, the [`SECRETS_POLICY_NAME`] inline policy). Typed calls in, crate model out, no decisions.

use aws_sdk_iam::types::Tag;
use serde_json::{Value, json};

use super::ecs::{SdkResultExt as _, gone_is_ok, invalid_request, none_if_not_found, with_managed_tag};
use super::{AwsError, AwsResult};
use crate::stack::model::{ECS_TASKS_PRINCIPAL, Found, RoleSpec, RoleState, SECRETS_POLICY_NAME, Tags, is_managed};

/// The role `name`: whether it trusts ECS tasks, its managed policies, its secrets policy, whether it is
/// managed; `None` when it does not exist.
///
/// # Errors
/// When an IAM call fails, or a policy document is not URL-encoded JSON.
pub async fn observe_role(client: &aws_sdk_iam::Client, name: &str) -> AwsResult<Option<Found<RoleState>>> {
    const CALL: &str = "iam:GetRole";
    let what = format!("role {name}");
    let Some(output) = none_if_not_found(client.get_role().role_name(name).send().await.or_aws(CALL, &what))? else {
        return Ok(None);
    };
    let Some(role) = output.role() else { return Ok(None) };
    let trusts_ecs_tasks = match role.assume_role_policy_document() {
        Some(document) => trusts_ecs_tasks(&parse_document(CALL, &what, document)?),
        None => false,
    };
    let state = RoleState {
        name: role.role_name().to_owned(),
        arn: role.arn().to_owned(),
        trusts_ecs_tasks,
        managed_policies: attached_policies(client, name).await?,
        inline_policy: inline_policy(client, name).await?,
    };
    Ok(Some(Found { state, managed: is_managed(&role_tags(client, name).await?) }))
}

/// Creates the role trusted by ECS tasks, tagged, with the spec's managed policies attached and its inline
/// policy put.
///
/// # Errors
/// When an IAM call fails.
pub async fn create_role(client: &aws_sdk_iam::Client, spec: &RoleSpec) -> AwsResult<RoleState> {
    const CALL: &str = "iam:CreateRole";
    let what = format!("role {}", spec.name);
    let tags = with_managed_tag(&spec.tags)
        .into_iter()
        .map(|(key, value)| Tag::builder().key(key).value(value).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid_request(CALL, &what, &e))?;
    let output = client
        .create_role()
        .role_name(&spec.name)
        .assume_role_policy_document(trust_policy())
        .description("Created by cargo-ecs for ECS tasks")
        .set_tags(Some(tags))
        .send()
        .await
        .or_aws(CALL, &what)?;
    let arn = output.role().map_or_else(|| spec.arn.clone(), |role| role.arn().to_owned());
    for policy in &spec.managed_policies {
        attach(client, &spec.name, policy).await?;
    }
    if let Some(document) = &spec.inline_policy {
        put_inline(client, &spec.name, document).await?;
    }
    Ok(RoleState {
        name: spec.name.clone(),
        arn,
        trusts_ecs_tasks: true,
        managed_policies: sorted(&spec.managed_policies),
        inline_policy: spec.inline_policy.clone(),
    })
}

/// Brings the role `current` to the spec: the ECS tasks trust policy when it lacks it, missing managed
/// policies attached and extra ones detached, the inline policy put or deleted.
///
/// # Errors
/// When an IAM call fails.
pub async fn update_role(client: &aws_sdk_iam::Client, spec: &RoleSpec, current: &RoleState) -> AwsResult<RoleState> {
    if !current.trusts_ecs_tasks {
        client
            .update_assume_role_policy()
            .role_name(&spec.name)
            .policy_document(trust_policy())
            .send()
            .await
            .or_aws("iam:UpdateAssumeRolePolicy", &format!("role {}", spec.name))?;
    }
    for policy in spec.managed_policies.iter().filter(|p| !current.managed_policies.contains(p)) {
        attach(client, &spec.name, policy).await?;
    }
    for policy in current.managed_policies.iter().filter(|p| !spec.managed_policies.contains(p)) {
        client
            .detach_role_policy()
            .role_name(&spec.name)
            .policy_arn(policy)
            .send()
            .await
            .or_aws("iam:DetachRolePolicy", &format!("role {} policy {policy}", spec.name))?;
    }
    if spec.inline_policy != current.inline_policy {
        match &spec.inline_policy {
            Some(document) => put_inline(client, &spec.name, document).await?,
            None => {
                client
                    .delete_role_policy()
                    .role_name(&spec.name)
                    .policy_name(SECRETS_POLICY_NAME)
                    .send()
                    .await
                    .or_aws("iam:DeleteRolePolicy", &format!("role {} policy {SECRETS_POLICY_NAME}", spec.name))?;
            }
        }
    }
    Ok(RoleState {
        name: spec.name.clone(),
        arn: current.arn.clone(),
        trusts_ecs_tasks: true,
        managed_policies: sorted(&spec.managed_policies),
        inline_policy: spec.inline_policy.clone(),
    })
}

/// The trust policy of the roles cargo-ecs creates: ECS tasks may assume them. Canonical JSON.
#[must_use]
pub fn trust_policy() -> String {
    canonical_json(&json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": ECS_TASKS_PRINCIPAL },
            "Action": "sts:AssumeRole",
        }],
    }))
}

/// The [`SECRETS_POLICY_NAME`] policy that lets the execution role read exactly `resources` (the `valueFrom`
/// of the task's secrets): `ssm:GetParameters` on SSM parameter ARNs, `secretsmanager:GetSecretValue` on
/// Secrets Manager secret ARNs (a `:json-key:stage:version` suffix dropped). Canonical JSON; `None` when no
/// resource is of either kind.
#[must_use]
pub fn secrets_policy(resources: &[String]) -> Option<String> {
    let mut parameters = Vec::new();
    let mut secrets = Vec::new();
    for resource in resources {
        let parts: Vec<&str> = resource.split(':').collect();
        match parts.as_slice() {
            ["arn", _, "ssm", _, _, rest] if rest.starts_with("parameter/") => parameters.push(resource.clone()),
            ["arn", _, "secretsmanager", _, _, "secret", _, ..] => secrets.push(parts[..7].join(":")),
            _ => {}
        }
    }
    let mut statements = Vec::new();
    for (action, mut arns) in [("ssm:GetParameters", parameters), ("secretsmanager:GetSecretValue", secrets)] {
        arns.sort();
        arns.dedup();
        if !arns.is_empty() {
            statements.push(json!({ "Effect": "Allow", "Action": action, "Resource": arns }));
        }
    }
    (!statements.is_empty()).then(|| canonical_json(&json!({ "Version": "2012-10-17", "Statement": statements })))
}

/// `value` serialised with every object's keys sorted and no whitespace, so equal documents compare equal.
#[must_use]
pub fn canonical_json(value: &Value) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                Value::Object(entries.into_iter().map(|(k, v)| (k.clone(), sorted(v))).collect())
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(value).to_string()
}

/// Whether a trust policy lets `ecs-tasks.amazonaws.com` call `sts:AssumeRole` (an Allow statement naming the
/// service principal and the action, or a wildcard for it).
#[must_use]
pub fn trusts_ecs_tasks(policy: &Value) -> bool {
    fn strings(value: Option<&Value>) -> Vec<&str> {
        match value {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }
    let statements = match policy.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(statement @ Value::Object(_)) => vec![statement],
        _ => Vec::new(),
    };
    statements.into_iter().any(|statement| {
        let allows = statement.get("Effect").and_then(Value::as_str) == Some("Allow");
        let assumes = strings(statement.get("Action"))
            .iter()
            .any(|a| a.eq_ignore_ascii_case("sts:AssumeRole") || *a == "sts:*" || *a == "*");
        let principal = statement.get("Principal").and_then(|p| p.get("Service"));
        allows && assumes && strings(principal).contains(&ECS_TASKS_PRINCIPAL)
    })
}

/// IAM hands policy documents out URL-encoded (RFC 3986): decoded, then parsed.
fn parse_document(call: &'static str, what: &str, encoded: &str) -> AwsResult<Value> {
    let decoded = percent_decode(encoded)
        .ok_or_else(|| AwsError::other(call, what, "the policy document is not URL-encoded UTF-8"))?;
    serde_json::from_str(&decoded)
        .map_err(|e| AwsError::other(call, what, format!("the policy document is not JSON: {e}")))
}

/// Decodes `%XX` escapes; `None` when the result is not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

async fn attached_policies(client: &aws_sdk_iam::Client, name: &str) -> AwsResult<Vec<String>> {
    let what = format!("role {name}");
    let mut policies = Vec::new();
    let mut marker = None;
    loop {
        let output = client
            .list_attached_role_policies()
            .role_name(name)
            .set_marker(marker)
            .send()
            .await
            .or_aws("iam:ListAttachedRolePolicies", &what)?;
        policies.extend(output.attached_policies().iter().filter_map(|p| p.policy_arn().map(str::to_owned)));
        marker = output.marker().filter(|_| output.is_truncated()).map(str::to_owned);
        if marker.is_none() {
            break;
        }
    }
    policies.sort();
    Ok(policies)
}

/// The [`SECRETS_POLICY_NAME`] inline policy as canonical JSON, if the role has it.
async fn inline_policy(client: &aws_sdk_iam::Client, name: &str) -> AwsResult<Option<String>> {
    const CALL: &str = "iam:GetRolePolicy";
    let what = format!("role {name} policy {SECRETS_POLICY_NAME}");
    let got = client.get_role_policy().role_name(name).policy_name(SECRETS_POLICY_NAME).send().await;
    match none_if_not_found(got.or_aws(CALL, &what))? {
        Some(output) => Ok(Some(canonical_json(&parse_document(CALL, &what, output.policy_document())?))),
        None => Ok(None),
    }
}

async fn role_tags(client: &aws_sdk_iam::Client, name: &str) -> AwsResult<Tags> {
    let what = format!("role {name}");
    let mut tags = Tags::new();
    let mut marker = None;
    loop {
        let output = client
            .list_role_tags()
            .role_name(name)
            .set_marker(marker)
            .send()
            .await
            .or_aws("iam:ListRoleTags", &what)?;
        tags.extend(output.tags().iter().map(|t| (t.key().to_owned(), t.value().to_owned())));
        marker = output.marker().filter(|_| output.is_truncated()).map(str::to_owned);
        if marker.is_none() {
            break;
        }
    }
    Ok(tags)
}

async fn attach(client: &aws_sdk_iam::Client, role: &str, policy: &str) -> AwsResult<()> {
    client
        .attach_role_policy()
        .role_name(role)
        .policy_arn(policy)
        .send()
        .await
        .or_aws("iam:AttachRolePolicy", &format!("role {role} policy {policy}"))?;
    Ok(())
}

async fn put_inline(client: &aws_sdk_iam::Client, role: &str, document: &str) -> AwsResult<()> {
    client
        .put_role_policy()
        .role_name(role)
        .policy_name(SECRETS_POLICY_NAME)
        .policy_document(document)
        .send()
        .await
        .or_aws("iam:PutRolePolicy", &format!("role {role} policy {SECRETS_POLICY_NAME}"))?;
    Ok(())
}

fn sorted(items: &[String]) -> Vec<String> {
    let mut items = items.to_vec();
    items.sort();
    items
}

/// Deletes the role `name`: detaches `managed_policies`, deletes the [`SECRETS_POLICY_NAME`] inline policy when
/// `inline_policy`, then the role. What is already gone is success.
///
/// # Errors
/// When an IAM call fails otherwise.
pub async fn delete_role(
    client: &aws_sdk_iam::Client,
    name: &str,
    managed_policies: &[String],
    inline_policy: bool,
) -> AwsResult<()> {
    let what = format!("role {name}");
    for policy in managed_policies {
        gone_is_ok(
            client
                .detach_role_policy()
                .role_name(name)
                .policy_arn(policy)
                .send()
                .await
                .or_aws("iam:DetachRolePolicy", &what),
        )?;
    }
    if inline_policy {
        gone_is_ok(
            client
                .delete_role_policy()
                .role_name(name)
                .policy_name(SECRETS_POLICY_NAME)
                .send()
                .await
                .or_aws("iam:DeleteRolePolicy", &what),
        )?;
    }
    gone_is_ok(client.delete_role().role_name(name).send().await.or_aws("iam:DeleteRole", &what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trust_policy_lets_ecs_tasks_assume_the_role() {
        let policy = trust_policy();
        assert_eq!(
            policy,
            r#"{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"}}],"Version":"2012-10-17"}"#
        );
        assert!(trusts_ecs_tasks(&serde_json::from_str(&policy).expect("JSON")));
    }

    #[test]
    fn trust_is_read_from_any_statement_shape() {
        let single = json!({"Statement": {"Effect": "Allow", "Action": ["sts:assumerole"],
            "Principal": {"Service": ["ec2.amazonaws.com", "ecs-tasks.amazonaws.com"]}}});
        assert!(trusts_ecs_tasks(&single));
        let other_service = json!({"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"Service": "ec2.amazonaws.com"}}]});
        assert!(!trusts_ecs_tasks(&other_service));
        let denied = json!({"Statement": [{"Effect": "Deny", "Action": "sts:AssumeRole",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]});
        assert!(!trusts_ecs_tasks(&denied));
        let other_action = json!({"Statement": [{"Effect": "Allow", "Action": "sts:TagSession",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]});
        assert!(!trusts_ecs_tasks(&other_action));
        assert!(!trusts_ecs_tasks(&json!({})));
    }

    #[test]
    fn the_secrets_policy_names_each_service_action_on_exactly_its_arns() {
        let resources = vec![
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-url-AbCdEf:password::".to_owned(),
            "arn:aws:ssm:eu-west-1:123456789012:parameter/app/token".to_owned(),
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-url-AbCdEf".to_owned(),
            "arn:aws:ssm:eu-west-1:123456789012:parameter/app/a".to_owned(),
        ];
        let policy = secrets_policy(&resources).expect("a policy");
        let expected = json!({
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": [
                    "arn:aws:ssm:eu-west-1:123456789012:parameter/app/a",
                    "arn:aws:ssm:eu-west-1:123456789012:parameter/app/token",
                ]},
                {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": [
                    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-url-AbCdEf",
                ]},
            ],
        });
        assert_eq!(policy, canonical_json(&expected));
        assert!(policy.starts_with(r#"{"Statement":[{"Action":"ssm:GetParameters","Effect":"Allow","Resource":["#));
    }

    #[test]
    fn no_secrets_no_policy() {
        assert_eq!(secrets_policy(&[]), None);
        assert_eq!(secrets_policy(&["not-an-arn".to_owned()]), None);
        let only_ssm = secrets_policy(&["arn:aws:ssm:us-east-1:1:parameter/x".to_owned()]).expect("policy");
        assert!(!only_ssm.contains("secretsmanager"));
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let a: Value =
            serde_json::from_str(r#"{ "b": 1, "a": { "d": [ {"z": 1, "y": 2} ], "c": null } }"#).expect("JSON");
        assert_eq!(canonical_json(&a), r#"{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}"#);
    }

    #[test]
    fn policy_documents_are_url_decoded() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        let value = parse_document("iam:GetRole", "role r", encoded).expect("decoded");
        assert_eq!(value, json!({"Version": "2012-10-17", "Statement": []}));
        assert_eq!(percent_decode("a%20b%2"), Some("a b%2".to_owned()));
        assert_eq!(percent_decode("%C3%A9"), Some("é".to_owned()));
        assert_eq!(percent_decode("%FF"), None);
        assert!(parse_document("iam:GetRole", "role r", "%7Bnot").is_err());
    }
}
