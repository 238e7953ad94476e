//! Cross-compiles the service binary for the task's platform.
