//! The request-level check and what it hands to the resolver below it.
//!
//! reqwest's resolver is called with a name only. Admission needs the decided
//! scheme, port and client (a rule's `resolves_to` and the `cidrs` exemptions
//! depend on them), so the check that decides a request (or a redirect hop)
//! leaves its decisions in scope over the request's future (see `scope`), and the
//! resolver admits every answer under exactly those decisions with
//! [`Policy::admit_decided`](egress_policy_core::Policy::admit_decided). A lookup
//! that no decision covers is refused before any query is sent.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use egress_policy_core::{Decision, Denied, Destination, Host, SharedPolicy};

use crate::proxy::ProxySpec;
use crate::resolver::Lookup;
use crate::scope::with_current;

/// What was decided for the request (or redirect hop) in flight.
#[derive(Debug, Clone)]
pub(crate) struct Current {
    /// The decision on the target (allowed, or not enforced).
    pub(crate) target: Decision,
    /// The decision on the proxy carrying it, if one does.
    pub(crate) proxy: Option<Decision>,
    /// The target name's answer, when it was resolved here for a proxy: kept so
    /// a redirect hop to the same name (another scheme, port or path) can be
    /// admitted under its own decision without a lookup.
    pub(crate) answer: Option<(Host, Arc<[IpAddr]>)>,
    /// The [`Checker::id`] of the checker that decided. The resolver, the
    /// connector layer and the redirect policy of one client act only on its
    /// own decisions: a request on another enforced client, polled inside
    /// this one, finds decisions made under another policy and is refused.
    pub(crate) owner: u64,
}

/// Everything a check needs: shared by the client, its redirect policy, its
/// resolver and the middleware.
pub(crate) struct Checker {
    /// Unique per checker for the life of the process (never reused, unlike
    /// an address): see [`Current::owner`].
    pub(crate) id: u64,
    pub(crate) policy: SharedPolicy,
    pub(crate) client: Option<Arc<str>>,
    pub(crate) proxies: Vec<ProxySpec>,
    pub(crate) lookup: Arc<dyn Lookup>,
    /// `Builder::resolve` overrides (canonical name → addresses); admitted like lookups.
    pub(crate) overrides: HashMap<Box<str>, Vec<IpAddr>>,
    /// `Builder::danger_trust_proxy_resolution`: targets behind a proxy are not
    /// resolved and admitted locally.
    pub(crate) trust_proxy_resolution: bool,
}

impl std::fmt::Debug for Checker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checker")
            .field("client", &self.client)
            .field("proxies", &self.proxies)
            .field("overrides", &self.overrides.len())
            .field("trust_proxy_resolution", &self.trust_proxy_resolution)
            .finish_non_exhaustive()
    }
}

/// Why a request was refused by the check, before or while resolving.
#[derive(Debug)]
pub(crate) enum Refused {
    Denied(Denied),
    Lookup(std::io::Error),
}

/// A fresh [`Checker::id`].
pub(crate) fn next_checker_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Why a client found no decision of its own in scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotInScope {
    /// No enforced request is being polled.
    Nothing,
    /// The request being polled was decided by another enforced client.
    Foreign,
}

impl Checker {
    /// A copy of the decisions in scope, if this checker made them.
    pub(crate) fn own_in_flight(&self) -> Result<Current, NotInScope> {
        self.with_own(Current::clone)
    }

    /// Runs `f` on the decisions in scope, if this checker made them.
    fn with_own<R>(&self, f: impl FnOnce(&Current) -> R) -> Result<R, NotInScope> {
        with_current(|c| match c {
            None => Err(NotInScope::Nothing),
            Some(c) if c.owner != self.id => Err(NotInScope::Foreign),
            Some(c) => Ok(f(c)),
        })
    }

    /// Decides on a URL (request or redirect hop) and on the proxy that would
    /// carry it. Synchronous: no lookup.
    pub(crate) fn decide(&self, url: &url::Url) -> Result<Current, Denied> {
        let client = self.client.as_deref();
        let target = match Destination::from_url(url) {
            Ok(dest) => self.policy.decide(&dest, client),
            Err(_) => self.policy.decide_url(url.as_str(), client),
        };
        if target.blocks() {
            return Err(Denied::new(target));
        }
        let proxy = match self.proxies.iter().find(|p| p.carries(url.scheme())) {
            Some(spec) => {
                let via = self.policy.decide(&spec.dest, client);
                if via.blocks() {
                    return Err(Denied::new(via));
                }
                Some(via)
            }
            None => None,
        };
        Ok(Current {
            target,
            proxy,
            answer: None,
            owner: self.id,
        })
    }

    /// Whether the target of `current` must be resolved and admitted here
    /// because a proxy would otherwise resolve it unchecked.
    pub(crate) fn needs_local_admission(&self, current: &Current) -> bool {
        !self.trust_proxy_resolution
            && current.proxy.is_some()
            && matches!(current.target.destination().map(Destination::host), Some(Host::Name(_)))
    }

    /// [`Checker::decide`], then, when a proxy carries the request, resolves
    /// the target's name locally and runs connect-time admission on the answer:
    /// the proxy would resolve it itself, out of our sight. A target whose every
    /// address is refused is denied (`resolved_to_forbidden_address`), as it
    /// would be without a proxy.
    #[cfg(feature = "middleware")]
    pub(crate) async fn preflight(&self, url: &url::Url) -> Result<Current, Refused> {
        let current = self.decide(url).map_err(Refused::Denied)?;
        if self.needs_local_admission(&current) {
            return self.admit_target(current).await;
        }
        Ok(current)
    }

    /// Resolves the target's name of `current` locally and admits the answer
    /// under its decision (see [`Checker::preflight`]).
    pub(crate) async fn admit_target(&self, mut current: Current) -> Result<Current, Refused> {
        let Some(host) = current.target.destination().map(|d| d.host().clone()) else {
            return Ok(current);
        };
        let addrs = self.addresses(&current.target).await.map_err(Refused::Lookup)?;
        if addrs.is_empty() {
            // Nothing to admit is not "nothing refused": the proxy would resolve
            // the name itself, unchecked.
            return Err(Refused::Lookup(no_addresses(&host)));
        }
        self.admit(&current.target, &addrs).map_err(Refused::Denied)?;
        current.answer = Some((host, addrs.into()));
        Ok(current)
    }

    /// A redirect hop, decided inside reqwest's redirect policy (synchronous).
    /// Behind a proxy, a hop to the name the request already resolved here is
    /// admitted under the hop's own decision (its scheme and port may differ)
    /// with that answer; a hop to a new name cannot be resolved here, so it is
    /// refused unless the proxy's resolution is trusted.
    ///
    /// A request this checker did not decide (no decision of its own in
    /// scope) gets no hop, and the hop is not decided (nor logged).
    pub(crate) fn hop(&self, url: &url::Url) -> Result<Current, HopRefused> {
        let previous = self.with_own(|c| c.answer.clone()).map_err(|_| HopRefused::NotInScope)?;
        let mut current = self.decide(url).map_err(HopRefused::Denied)?;
        if self.needs_local_admission(&current) {
            let hop_host = current.target.destination().map(Destination::host);
            match previous {
                Some((host, addrs)) if Some(&host) == hop_host => {
                    self.admit(&current.target, &addrs).map_err(HopRefused::Denied)?;
                    current.answer = Some((host, addrs));
                }
                _ => return Err(HopRefused::ProxiedNewName),
            }
        }
        Ok(current)
    }

    /// The addresses of the target's name: the builder's override, else a lookup.
    async fn addresses(&self, decision: &Decision) -> std::io::Result<Vec<IpAddr>> {
        match decision.destination().map(Destination::host) {
            Some(Host::Name(name)) => self.addresses_of(name).await,
            _ => Ok(Vec::new()),
        }
    }

    /// The addresses of `name`: the builder's override, else a lookup.
    pub(crate) async fn addresses_of(&self, name: &str) -> std::io::Result<Vec<IpAddr>> {
        match self.overrides.get(override_key(name).as_ref()) {
            Some(addrs) => Ok(addrs.clone()),
            None => self.lookup.lookup(name).await,
        }
    }

    /// Connect-time admission of `addrs` under `decision` (re-decided first when
    /// the policy changed since). Returns the admitted addresses.
    pub(crate) fn admit(&self, decision: &Decision, addrs: &[IpAddr]) -> Result<Vec<IpAddr>, Denied> {
        let admission = self.policy.admit_decided(decision.clone(), addrs, self.client.as_deref());
        if admission.decision().blocks() {
            return Err(Denied::new(admission.decision().clone()));
        }
        Ok(admission.admitted().to_vec())
    }

    /// The decisions a lookup of `name` serves in the request in flight: the
    /// target's, the proxy's, or both when they share a name. Re-decided when the
    /// policy changed since. `Err` before any lookup: no request in flight, a name
    /// the request did not decide, or a name now denied.
    pub(crate) fn decisions_for(&self, name: &str) -> Result<Vec<Decision>, LookupRefused> {
        let current = self.own_in_flight().map_err(|why| match why {
            NotInScope::Nothing => LookupRefused::NoRequest(name.into()),
            NotInScope::Foreign => LookupRefused::Foreign(name.into()),
        })?;
        let host = Host::parse(name).map_err(|_| LookupRefused::NotDecided(name.into()))?;
        let served: Vec<Decision> = std::iter::once(current.target)
            .chain(current.proxy)
            .filter(|d| d.destination().map(Destination::host) == Some(&host))
            .collect();
        if served.is_empty() {
            return Err(LookupRefused::NotDecided(name.into()));
        }
        let mut out = Vec::with_capacity(served.len());
        for d in served {
            // Swapped since the check: decided again, before any lookup.
            let d = self.policy.current(d, self.client.as_deref());
            if d.blocks() {
                return Err(LookupRefused::Denied(Denied::new(d)));
            }
            out.push(d);
        }
        Ok(out)
    }
}

/// Why a redirect hop was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HopRefused {
    #[error(transparent)]
    Denied(Denied),
    #[error(
        "egress-policy: redirect through a proxy to a name this request has not admitted; \
         its addresses cannot be checked from the redirect policy, so the hop is refused \
         (request the new URL directly, or trust the proxy's resolution with \
         `Builder::danger_trust_proxy_resolution`)"
    )]
    ProxiedNewName,
    #[error(
        "egress-policy: redirect of a request this client's check did not decide (a client from \
         build_for_middleware used without its own EnforceMiddleware, or inside another enforced client's \
         request); refused"
    )]
    NotInScope,
}

/// Why the resolver refused to look a name up.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LookupRefused {
    #[error(transparent)]
    Denied(Denied),
    #[error(
        "egress-policy: lookup of `{0}` outside an enforced request; refused (send requests through \
         EnforcedClient, or add EnforceMiddleware to a reqwest-middleware client)"
    )]
    NoRequest(Box<str>),
    #[error(
        "egress-policy: lookup of `{0}` under a decision another enforced client made (a request sent from \
         inside that client's request, or an EnforceMiddleware from another build); refused (pair each \
         client with the EnforceMiddleware built with it; send requests from hooks with an EnforcedClient \
         or a middleware client of their own)"
    )]
    Foreign(Box<str>),
    #[error("egress-policy: lookup of `{0}`, a name the request in flight did not decide; refused")]
    NotDecided(Box<str>),
}

/// The error for a name whose lookup answered no address.
pub(crate) fn no_addresses(name: &impl std::fmt::Display) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::NotFound, format!("`{name}` resolved to no address"))
}

/// The key of a `Builder::resolve` override: the canonical name, so `API.Example.`
/// and `api.example` are one entry.
pub(crate) fn override_key(name: &str) -> Box<str> {
    match Host::parse(name) {
        Ok(Host::Name(n)) => (*n).into(),
        _ => name.to_ascii_lowercase().into(),
    }
}

/// A connection was about to be made with no decision in scope: a client from
/// `build_for_middleware` used without its `EnforceMiddleware` (or outside
/// reqwest's own request path). Refused before any I/O.
#[derive(Debug, thiserror::Error)]
#[error(
    "egress-policy: connection outside an enforced request; refused (send requests through EnforcedClient, \
     or add EnforceMiddleware to a reqwest-middleware client)"
)]
pub(crate) struct NoDecision;

/// A connection was about to be made by one client while a decision of
/// another enforced client was in scope (a request sent from inside that
/// client's request, or a client paired with an `EnforceMiddleware` from
/// another build): the decision was made for another request, under that
/// client's policy and name. Refused before any I/O.
#[derive(Debug, thiserror::Error)]
#[error(
    "egress-policy: connection under a decision another enforced client made (a request sent from inside \
     that client's request, or an EnforceMiddleware from another build); refused (pair each client with the \
     EnforceMiddleware built with it; send requests from hooks with an EnforcedClient or a middleware client \
     of their own)"
)]
pub(crate) struct ForeignDecision;

/// reqwest connector layer: every new connection must be made inside a request
/// that the check decided (an IP-literal URL never reaches the resolver, so the
/// resolver alone cannot refuse it), and that decision, and the proxy's, must
/// still hold under the policy in force (a swap between the check and the
/// connect). The connect future is first polled in the request's task, where
/// the decision is in scope.
#[derive(Debug, Clone)]
pub(crate) struct RequireDecisionLayer {
    pub(crate) checker: Arc<Checker>,
}

impl<S> tower_layer::Layer<S> for RequireDecisionLayer {
    type Service = RequireDecision<S>;
    fn layer(&self, inner: S) -> RequireDecision<S> {
        RequireDecision {
            shared: Arc::new(Shared {
                checker: self.checker.clone(),
                inner,
            }),
            local: None,
        }
    }
}

/// What every clone of a [`RequireDecision`] shares.
#[derive(Debug)]
struct Shared<S> {
    checker: Arc<Checker>,
    inner: S,
}

/// The connector layer's service. hyper-util clones the whole connector stack
/// for every request, pooled connection or not, so a clone is one reference
/// count here: the inner connector (reqwest's, boxed) is cloned only when a
/// connection is actually made (`poll_ready`, then `call`).
#[derive(Debug)]
pub(crate) struct RequireDecision<S> {
    shared: Arc<Shared<S>>,
    local: Option<S>,
}

impl<S> Clone for RequireDecision<S> {
    fn clone(&self) -> Self {
        RequireDecision {
            shared: self.shared.clone(),
            local: None,
        }
    }
}

impl<S: Clone> RequireDecision<S> {
    fn local(&mut self) -> &mut S {
        self.local.get_or_insert_with(|| self.shared.inner.clone())
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<S, R> tower_service::Service<R> for RequireDecision<S>
where
    S: tower_service::Service<R, Error = BoxError> + Clone,
    S::Response: Send + 'static,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<S::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), BoxError>> {
        self.local().poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        let refuse = |e: BoxError| -> Self::Future { Box::pin(std::future::ready(Err(e))) };
        let checker = &self.shared.checker;
        let current = match checker.own_in_flight() {
            Ok(current) => current,
            Err(NotInScope::Nothing) => return refuse(Box::new(NoDecision)),
            Err(NotInScope::Foreign) => return refuse(Box::new(ForeignDecision)),
        };
        let client = checker.client.as_deref();
        for decision in std::iter::once(current.target).chain(current.proxy) {
            let now = checker.policy.current(decision, client);
            if now.blocks() {
                return refuse(Box::new(Denied::new(now)));
            }
        }
        // The instance `poll_ready` readied (tower's contract); a fresh clone
        // if the caller did not poll first.
        Box::pin(self.local().call(request))
    }
}

/// A request sent through the client inside an [`EnforcedClient`](crate::EnforcedClient)'s
/// request builder (reachable through `RequestBuilder::map`): that client
/// refuses every lookup and connection.
#[derive(Debug, thiserror::Error)]
#[error(
    "egress-policy: a request sent with the client of an enforced request builder (reached through \
     RequestBuilder::map); refused (send requests with RequestBuilder::send or EnforcedClient::execute)"
)]
pub(crate) struct Unroutable;

/// The client enforced request builders are made from. `RequestBuilder::map`
/// hands reqwest's builder, and so its client, to the caller; this one shares
/// no connection pool with the enforced client (pooled connections need no
/// new decision) and refuses every lookup and connection, so nothing sent
/// through it leaves the process. The request itself is always sent through
/// the enforced client, which applies its own default headers and timeouts.
pub(crate) fn unroutable_client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(RefuseLookups))
        .connector_layer(RefuseConnectionsLayer)
        .build()
}

struct RefuseLookups;

impl reqwest::dns::Resolve for RefuseLookups {
    fn resolve(&self, _: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(std::future::ready(Err(Box::new(Unroutable) as BoxError)))
    }
}

#[derive(Debug, Clone)]
struct RefuseConnectionsLayer;

impl<S> tower_layer::Layer<S> for RefuseConnectionsLayer {
    type Service = RefuseConnections<S>;
    fn layer(&self, inner: S) -> RefuseConnections<S> {
        RefuseConnections(inner)
    }
}

/// Refuses every connection; the inner connector is kept only for its types.
#[derive(Debug, Clone)]
struct RefuseConnections<S>(S);

impl<S, R> tower_service::Service<R> for RefuseConnections<S>
where
    S: tower_service::Service<R, Error = BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = std::future::Ready<Result<S::Response, BoxError>>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), BoxError>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: R) -> Self::Future {
        std::future::ready(Err(Box::new(Unroutable)))
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use egress_policy_core::{Policy, Reason};

    use super::*;
    use crate::resolver::SystemLookup;
    use crate::scope::scope;

    fn checker(policy: &SharedPolicy) -> Checker {
        Checker {
            id: next_checker_id(),
            policy: policy.clone(),
            client: None,
            proxies: Vec::new(),
            lookup: Arc::new(SystemLookup),
            overrides: HashMap::new(),
            trust_proxy_resolution: false,
        }
    }

    /// Runs `f` once, inside a poll of a future scoped over `current`.
    fn inside(current: Current, f: impl FnOnce() + Unpin) {
        struct Once<F>(Option<F>);
        impl<F: FnOnce() + Unpin> Future for Once<F> {
            type Output = ();
            fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
                (self.0.take().expect("polled once"))();
                Poll::Ready(())
            }
        }
        let mut scoped = scope(current, Once(Some(f)));
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(Pin::new(&mut scoped).poll(&mut cx).is_ready());
    }

    /// Two clients on one policy: the second acts on none of the first's
    /// decisions, even for the very URL the first decided.
    #[test]
    fn a_checker_acts_only_on_its_own_decisions() {
        let policy =
            SharedPolicy::new(Policy::from_toml_str("version = 1\n[[allow]]\nid = \"api\"\nhosts = [\"api.test\"]\n").expect("policy"));
        let (outer, other) = (checker(&policy), checker(&policy));
        assert_ne!(outer.id, other.id);
        let url = url::Url::parse("https://api.test/").expect("url");
        let decided = outer.decide(&url).expect("allowed");
        assert_eq!(decided.target.reason(), Reason::AllowedByRule);
        inside(decided, || {
            assert!(outer.own_in_flight().is_ok());
            assert_eq!(other.own_in_flight().err(), Some(NotInScope::Foreign));
            assert!(matches!(other.decisions_for("api.test"), Err(LookupRefused::Foreign(_))));
            assert!(matches!(other.hop(&url), Err(HopRefused::NotInScope)));
            assert_eq!(outer.decisions_for("api.test").expect("own decision").len(), 1);
            assert!(outer.hop(&url).is_ok());
        });
        // Outside any scope: nothing for either.
        assert!(matches!(outer.decisions_for("api.test"), Err(LookupRefused::NoRequest(_))));
        assert!(matches!(outer.hop(&url), Err(HopRefused::NotInScope)));
    }
}
