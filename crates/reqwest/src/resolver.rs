//! The filtering resolver: admission on every answer (see `egress_policy_core::docs::admission`).

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::check::{Checker, LookupRefused, no_addresses};

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

/// reqwest's resolver: admits every answer under the decision the request (or
/// redirect hop) in flight was given, and looks up nothing that decision does
/// not cover.
pub(crate) struct FilteringResolver {
    pub(crate) checker: Arc<Checker>,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Resolve for FilteringResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let checker = self.checker.clone();
        let name = name.as_str().to_string();
        // Decide before any lookup (read now, inside the request's task): a name
        // the request did not decide, or that is now denied, is never queried.
        let decided = checker.decisions_for(&name);
        Box::pin(async move {
            let decisions = decided.map_err(|e| -> BoxError {
                match e {
                    LookupRefused::Denied(denied) => Box::new(denied),
                    other => Box::new(other),
                }
            })?;
            let ips = checker.addresses_of(&name).await?;
            if ips.is_empty() {
                return Err(Box::new(no_addresses(&name)) as BoxError);
            }
            let mut admitted = ips.clone();
            for decision in &decisions {
                let ok = checker.admit(decision, &ips).map_err(|denied| -> BoxError { Box::new(denied) })?;
                admitted.retain(|a| ok.contains(a));
            }
            if admitted.is_empty() {
                // Two decisions (target and proxy share the name) that admit disjoint sets.
                return Err(Box::new(LookupRefused::NotDecided(name.into())) as BoxError);
            }
            let addrs: Addrs = Box::new(admitted.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}
