//! ECR: the repository, the authorization token, and a registry client that pushes only missing blobs.
