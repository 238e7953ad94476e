//! A value that must never be shown: ECR authorization tokens and registry passwords live only in [`Secret`].

use std::fmt;

/// A secret string. `Debug` and `Display` print `****`, so a secret inside any struct or error stays hidden;
/// only [`Secret::expose`] gives the value, at the one place that sends it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// What every rendering of a secret prints.
    pub const REDACTED: &'static str = "****";

    /// Wraps `value`.
    #[must_use]
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself: pass it straight to the request that needs it, never to a message.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::REDACTED)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    #[allow(dead_code)]
    struct Holder {
        user: String,
        password: Secret,
    }

    #[test]
    fn debug_and_display_hide_the_value() {
        let secret = Secret::new("hunter2-token");
        assert_eq!(format!("{secret}"), "****");
        assert_eq!(format!("{secret:?}"), "****");
        assert_eq!(format!("{secret:>20}"), "****", "padding must not matter");
        let holder = Holder { user: "AWS".to_owned(), password: secret.clone() };
        let shown = format!("{holder:?} {holder:#?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("AWS"), "{shown}");
        assert_eq!(secret.expose(), "hunter2-token");
    }
}
