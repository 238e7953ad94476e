//! STS: who the credentials belong to.

use super::{AwsError, AwsResult};

/// The account id of the credentials in use (GetCallerIdentity).
///
/// # Errors
/// When the call fails (no or invalid credentials, no answer), or the answer has no account.
pub async fn account_id(client: &aws_sdk_sts::Client) -> AwsResult<String> {
    const CALL: &str = "sts:GetCallerIdentity";
    let identity =
        client.get_caller_identity().send().await.map_err(|e| AwsError::from_sdk(CALL, "the caller's identity", &e))?;
    identity
        .account()
        .map(str::to_owned)
        .ok_or_else(|| AwsError::other(CALL, "the caller's identity", "the answer has no account id"))
}
