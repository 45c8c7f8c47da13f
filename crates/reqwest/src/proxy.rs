//! Proxies: the proxy is a destination too; the target is still checked.

use egress_policy_core::{Destination, SharedPolicy, redact_url};

use crate::BuildError;

/// Which requests a proxy carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProxyScope {
    Http,
    Https,
    All,
}

impl ProxyScope {
    fn carries(self, scheme: &str) -> bool {
        match self {
            ProxyScope::Http => scheme == "http",
            ProxyScope::Https => scheme == "https",
            ProxyScope::All => true,
        }
    }
}

/// A configured proxy. `Debug` shows it without credentials.
#[derive(Clone)]
pub(crate) struct ProxySpec {
    pub(crate) scope: ProxyScope,
    /// The proxy URL as configured: may hold `user:password`. Never logged.
    pub(crate) url: String,
    pub(crate) dest: Destination,
    /// From the environment: the `NO_PROXY` value read from the same source.
    pub(crate) no_proxy: Option<String>,
}

impl std::fmt::Debug for ProxySpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxySpec")
            .field("scope", &self.scope)
            .field("url", &redact_url(&self.url))
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

impl ProxySpec {
    pub(crate) fn parse(scope: ProxyScope, url: &str, no_proxy: Option<String>) -> Result<ProxySpec, BuildError> {
        // Like reqwest, a proxy without a scheme is http.
        let full = if url.contains("://") {
            url.to_string()
        } else {
            format!("http://{url}")
        };
        let dest = Destination::parse_url(&full).map_err(|e| BuildError::InvalidProxy {
            proxy: redact_url(&full),
            message: e.to_string(),
        })?;
        Ok(ProxySpec {
            scope,
            url: full,
            dest,
            no_proxy,
        })
    }

    pub(crate) fn to_reqwest(&self) -> Result<reqwest::Proxy, BuildError> {
        let proxy = match self.scope {
            ProxyScope::Http => reqwest::Proxy::http(&self.url),
            ProxyScope::Https => reqwest::Proxy::https(&self.url),
            ProxyScope::All => reqwest::Proxy::all(&self.url),
        }
        .map_err(|e| BuildError::InvalidProxy {
            proxy: redact_url(&self.url),
            message: e.to_string(),
        })?;
        // NO_PROXY from the same source as the proxy variables (not necessarily
        // the process environment: `Builder::env_proxies_from`).
        Ok(match self.no_proxy.as_deref() {
            Some(list) => proxy.no_proxy(reqwest::NoProxy::from_string(list)),
            None => proxy,
        })
    }

    pub(crate) fn carries(&self, scheme: &str) -> bool {
        self.scope.carries(scheme)
    }
}

/// The proxies named by `HTTP_PROXY`, `HTTPS_PROXY` and `ALL_PROXY` (either
/// case), read through `var`. Proxies the policy does not allow are left out,
/// with a WARN event; unparsable ones too.
pub(crate) fn from_env(var: &dyn Fn(&str) -> Option<String>, policy: &SharedPolicy, client: Option<&str>) -> Vec<ProxySpec> {
    let mut out = Vec::new();
    // Like reqwest: NO_PROXY, else no_proxy; an empty value exempts nothing.
    let no_proxy = Some(["NO_PROXY", "no_proxy"].iter().find_map(|n| var(n)).unwrap_or_default());
    for (names, scope) in [
        (["HTTP_PROXY", "http_proxy"], ProxyScope::Http),
        (["HTTPS_PROXY", "https_proxy"], ProxyScope::Https),
        (["ALL_PROXY", "all_proxy"], ProxyScope::All),
    ] {
        let Some(value) = names.iter().find_map(|n| var(n)).filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        match ProxySpec::parse(scope, value.trim(), no_proxy.clone()) {
            Ok(spec) => {
                let decision = policy.decide(&spec.dest, client);
                if decision.blocks() {
                    tracing::warn!(
                        target: "egress_policy::proxy",
                        proxy = %spec.dest,
                        variable = names[0],
                        reason = decision.reason().as_str(),
                        "environment proxy ignored: the policy does not allow it"
                    );
                } else {
                    out.push(spec);
                }
            }
            Err(e) => tracing::warn!(target: "egress_policy::proxy", variable = names[0], error = %e, "environment proxy ignored"),
        }
    }
    out
}
