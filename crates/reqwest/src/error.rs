//! Errors: one type for a request's failure, one for building the client.

use std::fmt;

use egress_policy_core::Denied;

/// Why an enforced request failed: a denial before anything was sent, or
/// reqwest's error (which may hold a [`Denied`] from a redirect hop or a lookup
/// deeper in its `source()` chain).
///
/// `{}` shows the top-level message; `{:#}` shows the whole chain, e.g.
/// `error following redirect ...: egress denied: scheme_not_allowed (rule ...)`.
#[derive(Debug)]
pub struct Error {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Denied(Denied),
    Reqwest(reqwest::Error),
    /// Resolving a target locally before handing it to a proxy failed.
    Lookup(std::io::Error),
}

impl Error {
    /// The denial behind this error, wherever it happened: the request itself, a
    /// redirect hop, a lookup or a proxy.
    pub fn denied(&self) -> Option<&Denied> {
        match &self.kind {
            Kind::Denied(d) => Some(d),
            Kind::Reqwest(e) => Denied::find(e),
            Kind::Lookup(_) => None,
        }
    }

    /// reqwest's error, when the failure came from reqwest.
    pub fn reqwest(&self) -> Option<&reqwest::Error> {
        match &self.kind {
            Kind::Reqwest(e) => Some(e),
            Kind::Denied(_) | Kind::Lookup(_) => None,
        }
    }
}

/// reqwest's errors carry the request URL and print it (userinfo, query and
/// fragment included): it is removed here, so no error of this crate holds a
/// secret from a URL.
impl From<reqwest::Error> for Error {
    fn from(e: reqwest::Error) -> Self {
        Error {
            kind: Kind::Reqwest(e.without_url()),
        }
    }
}

impl From<crate::check::Refused> for Error {
    fn from(r: crate::check::Refused) -> Self {
        match r {
            crate::check::Refused::Denied(d) => Error { kind: Kind::Denied(d) },
            crate::check::Refused::Lookup(e) => Error { kind: Kind::Lookup(e) },
        }
    }
}

impl From<Denied> for Error {
    fn from(d: Denied) -> Self {
        Error { kind: Kind::Denied(d) }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Denied(d) => fmt::Display::fmt(d, f),
            Kind::Lookup(e) => write!(f, "egress-policy: resolving the target before sending it to the proxy: {e}"),
            Kind::Reqwest(e) => {
                fmt::Display::fmt(e, f)?;
                if f.alternate() {
                    let mut cur = std::error::Error::source(e);
                    while let Some(s) = cur {
                        write!(f, ": {s}")?;
                        cur = s.source();
                    }
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            Kind::Denied(_) => None,
            Kind::Lookup(e) => Some(e),
            Kind::Reqwest(e) => std::error::Error::source(e),
        }
    }
}

/// Why an enforced client could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// reqwest could not build the client.
    #[error("building the reqwest client: {0}")]
    Reqwest(#[source] reqwest::Error),
    /// An explicitly configured proxy is not allowed by the policy.
    #[error("proxy {proxy} is not allowed by the policy: {denied}")]
    ProxyDenied {
        /// The proxy, without credentials.
        proxy: String,
        /// The decision on the proxy.
        #[source]
        denied: Denied,
    },
    /// A proxy URL does not parse.
    #[error("invalid proxy url {proxy}: {message}")]
    InvalidProxy {
        /// The proxy, without credentials.
        proxy: String,
        /// What is wrong.
        message: String,
    },
}
