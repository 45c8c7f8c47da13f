//! The filtering resolver: admission on every answer (DESIGN.md §3.4).

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

use egress_policy_core::{Context, Denied, SharedPolicy};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// A future of looked-up addresses.
pub type LookupFuture = Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>>;

/// Where the enforced client gets addresses from. reqwest's own resolver is not
/// public, so the filter does its own lookup; inject another (a test table,
/// hickory, a service-discovery client) with [`Builder::lookup`](crate::Builder::lookup).
pub trait Lookup: Send + Sync + 'static {
    /// The addresses `name` resolves to.
    fn lookup(&self, name: &str) -> LookupFuture;
}

/// The system resolver (`getaddrinfo` through tokio).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(&self, name: &str) -> LookupFuture {
        let name = name.to_string();
        Box::pin(async move { Ok(tokio::net::lookup_host((name.as_str(), 0)).await?.map(|a| a.ip()).collect()) })
    }
}

impl<F> Lookup for F
where
    F: Fn(&str) -> LookupFuture + Send + Sync + 'static,
{
    fn lookup(&self, name: &str) -> LookupFuture {
        self(name)
    }
}

pub(crate) struct FilteringResolver {
    pub(crate) policy: SharedPolicy,
    pub(crate) client: Option<Arc<str>>,
    pub(crate) lookup: Arc<dyn Lookup>,
    /// `Builder::resolve` overrides (canonical lower-case name → addresses); admitted like lookups.
    pub(crate) overrides: HashMap<String, Vec<IpAddr>>,
}

impl Resolve for FilteringResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let client = self.client.clone();
        let name = name.as_str().to_string();
        let answer: LookupFuture = match self.overrides.get(&name.to_ascii_lowercase()) {
            Some(addrs) => {
                let addrs = addrs.clone();
                Box::pin(async move { Ok(addrs) })
            }
            None => self.lookup.lookup(&name),
        };
        Box::pin(async move {
            let ips = answer.await?;
            let cx = Context::at(policy.now()).with_client(client.as_deref());
            let admission = policy.load().admit_name(&name, &ips, &cx);
            policy.record_admission(&admission, client.as_deref());
            if admission.decision().blocks() {
                return Err(Box::new(Denied::new(admission.decision().clone())) as Box<dyn std::error::Error + Send + Sync>);
            }
            let addrs: Addrs = Box::new(admission.admitted().to_vec().into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}
