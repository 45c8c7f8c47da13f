//! The enforced client, its builder and its request builder.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use egress_policy_core::{Denied, SharedPolicy, redact_url};
use reqwest::{IntoUrl, Method};

use crate::check::{Checker, HopRefused, RequireDecisionLayer, next_checker_id, override_key, unroutable_client};
use crate::proxy::{self, ProxyScope, ProxySpec};
use crate::resolver::{FilteringResolver, Lookup, SystemLookup};
use crate::scope::{Scoped, replace, scope};
use crate::{BuildError, DEFAULT_MAX_REDIRECTS, Error};

/// A reqwest client whose every request, redirect hop, lookup and proxy is
/// checked against a live [`SharedPolicy`]. Cheap to clone (shares the pool).
///
/// Built with [`EnforcedClient::builder`]; there is no way to get one without all
/// of its checks. `Debug` never shows proxy credentials.
#[derive(Debug, Clone)]
pub struct EnforcedClient {
    inner: reqwest::Client,
    checker: Arc<Checker>,
    /// What request builders are made from: see `check::unroutable_client`.
    builders: reqwest::Client,
}

/// The checker and the reqwest client a request runs with.
enum With<'a> {
    Borrowed(&'a Checker, &'a reqwest::Client),
    Owned(Arc<Checker>, reqwest::Client),
}

impl With<'_> {
    fn get(&self) -> (&Checker, &reqwest::Client) {
        match self {
            With::Borrowed(checker, client) => (checker, client),
            With::Owned(checker, client) => (checker, client),
        }
    }
}

/// An enforced request. When first polled it decides on the URL (and the
/// proxy that would carry it); a denied request completes with the [`Error`]
/// and nothing is sent. Behind a proxy, the target's name is first resolved
/// and admitted. Then reqwest runs the request with the decision in scope
/// for the resolver, the connector and the redirect policy.
fn execute_checked<'a>(
    with: With<'a>,
    request: Result<reqwest::Request, reqwest::Error>,
) -> impl Future<Output = Result<reqwest::Response, Error>> + Send + 'a {
    Execute {
        state: State::Start(with, request),
        execute: reqwest_execute,
    }
}

/// reqwest's future for `request`, named through a type parameter.
fn reqwest_execute(
    client: &reqwest::Client,
    request: reqwest::Request,
) -> impl Future<Output = Result<reqwest::Response, reqwest::Error>> + Send + Unpin + use<> {
    client.execute(request)
}

/// [`execute_checked`]'s future, written out rather than an `async` block: it
/// is moved by every layer above it, and an `async` block kept the request and
/// the decisions in it several times over (856 bytes against about 300).
/// Without a proxy nothing is awaited before reqwest's future and nothing but
/// the decisions is allocated; the proxied path is boxed.
struct Execute<'a, F> {
    state: State<'a, F>,
    execute: fn(&reqwest::Client, reqwest::Request) -> F,
}

type Proxied<'a> = Pin<Box<dyn Future<Output = Result<reqwest::Response, Error>> + Send + 'a>>;

// The first state holds the request until the first poll; boxing it would
// cost an allocation per request, which is what this type avoids.
#[allow(clippy::large_enum_variant)]
enum State<'a, F> {
    /// Not polled yet: nothing decided.
    Start(With<'a>, Result<reqwest::Request, reqwest::Error>),
    /// Decided and allowed: reqwest's future, the decisions in scope.
    Sending(Scoped<F>),
    /// Through a proxy: the target's lookup and admission, then the request.
    Proxied(Proxied<'a>),
    /// Refused, or the request could not be built; `None` once returned.
    Failed(Option<Error>),
}

impl<'a, F> Execute<'a, F>
where
    F: Future<Output = Result<reqwest::Response, reqwest::Error>> + Send + Unpin + 'a,
{
    /// The decision, and what follows from it.
    fn start(&self, with: With<'a>, request: Result<reqwest::Request, reqwest::Error>) -> State<'a, F> {
        let request = match request {
            Ok(request) => request,
            Err(e) => return State::Failed(Some(e.into())),
        };
        let (checker, client) = with.get();
        let current = match checker.decide(request.url()) {
            Ok(current) => current,
            Err(denied) => return State::Failed(Some(denied.into())),
        };
        if !checker.needs_local_admission(&current) {
            return State::Sending(scope(current, (self.execute)(client, request)));
        }
        let execute = self.execute;
        State::Proxied(Box::pin(async move {
            let (checker, client) = with.get();
            let current = checker.admit_target(current).await?;
            Ok(scope(current, execute(client, request)).await?)
        }))
    }
}

impl<'a, F> Future for Execute<'a, F>
where
    F: Future<Output = Result<reqwest::Response, reqwest::Error>> + Send + Unpin + 'a,
{
    type Output = Result<reqwest::Response, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let State::Start(..) = this.state {
            let State::Start(with, request) = std::mem::replace(&mut this.state, State::Failed(None)) else {
                unreachable!("matched above")
            };
            this.state = this.start(with, request);
        }
        let out = match &mut this.state {
            State::Sending(sending) => std::task::ready!(Pin::new(sending).poll(cx)).map_err(Error::from),
            State::Proxied(proxied) => std::task::ready!(proxied.as_mut().poll(cx)),
            State::Failed(error) => Err(error.take().expect("request future polled after completion")),
            State::Start(..) => unreachable!("started above"),
        };
        // Done: polled again, it panics here, not inside reqwest's finished future.
        this.state = State::Failed(None);
        Poll::Ready(out)
    }
}

impl EnforcedClient {
    /// A builder enforcing `policy`.
    pub fn builder(policy: SharedPolicy) -> Builder {
        Builder::new(policy)
    }

    /// An enforced client with the defaults: unnamed client, 10 redirect hops,
    /// environment proxies only where the policy allows them, system lookups.
    pub fn new(policy: SharedPolicy) -> Result<EnforcedClient, BuildError> {
        Builder::new(policy).build()
    }

    /// The live policy this client enforces.
    pub fn policy(&self) -> &SharedPolicy {
        &self.checker.policy
    }

    /// Starts a `GET` request.
    pub fn get<U: IntoUrl>(&self, url: U) -> RequestBuilder {
        self.request(Method::GET, url)
    }
    /// Starts a `POST` request.
    pub fn post<U: IntoUrl>(&self, url: U) -> RequestBuilder {
        self.request(Method::POST, url)
    }
    /// Starts a `PUT` request.
    pub fn put<U: IntoUrl>(&self, url: U) -> RequestBuilder {
        self.request(Method::PUT, url)
    }
    /// Starts a `PATCH` request.
    pub fn patch<U: IntoUrl>(&self, url: U) -> RequestBuilder {
        self.request(Method::PATCH, url)
    }
    /// Starts a `DELETE` request.
    pub fn delete<U: IntoUrl>(&self, url: U) -> RequestBuilder {
        self.request(Method::DELETE, url)
    }
    /// Starts a `HEAD` request.
    pub fn head<U: IntoUrl>(&self, url: U) -> RequestBuilder {
        self.request(Method::HEAD, url)
    }
    /// Starts a request with any method.
    pub fn request<U: IntoUrl>(&self, method: Method, url: U) -> RequestBuilder {
        RequestBuilder {
            checker: self.checker.clone(),
            client: self.inner.clone(),
            inner: self.builders.request(method, url),
        }
    }

    /// Decides on the request's URL (and the proxy that would carry it) before
    /// anything is sent, then executes it. Behind a proxy, the target's name is
    /// first resolved and admitted here (the proxy would resolve it out of sight).
    /// Redirect hops and lookups are checked inside reqwest by the redirect
    /// policy and resolver this client installed, under the decision made here.
    pub fn execute(&self, request: reqwest::Request) -> impl Future<Output = Result<reqwest::Response, Error>> + Send + '_ {
        // Borrowed: no reference count is written per request.
        execute_checked(With::Borrowed(&self.checker, &self.inner), Ok(request))
    }
}

impl tower_service::Service<reqwest::Request> for EnforcedClient {
    type Response = reqwest::Response;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<reqwest::Response, Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: reqwest::Request) -> Self::Future {
        let with = With::Owned(self.checker.clone(), self.inner.clone());
        Box::pin(execute_checked(with, Ok(request)))
    }
}

/// A request being built. Common settings have methods here; anything else
/// reqwest's request builder offers is reachable through [`RequestBuilder::map`].
/// The URL is checked when the request is sent.
#[derive(Debug)]
pub struct RequestBuilder {
    checker: Arc<Checker>,
    /// The enforced client. The request is always sent through it, never
    /// through the client `inner` holds (one that refuses everything, see
    /// `check::unroutable_client`): [`RequestBuilder::map`] hands `inner` out
    /// and may replace it with a builder of any client.
    client: reqwest::Client,
    inner: reqwest::RequestBuilder,
}

impl RequestBuilder {
    /// Adds a header.
    pub fn header<K, V>(self, key: K, value: V) -> Self
    where
        http::HeaderName: TryFrom<K>,
        <http::HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        http::HeaderValue: TryFrom<V>,
        <http::HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        self.map(|b| b.header(key, value))
    }
    /// Adds headers.
    pub fn headers(self, headers: http::HeaderMap) -> Self {
        self.map(|b| b.headers(headers))
    }
    /// Sets a bearer token (marked sensitive).
    pub fn bearer_auth<T: std::fmt::Display>(self, token: T) -> Self {
        self.map(|b| b.bearer_auth(token))
    }
    /// Sets basic auth (marked sensitive).
    pub fn basic_auth<U: std::fmt::Display, P: std::fmt::Display>(self, username: U, password: Option<P>) -> Self {
        self.map(|b| b.basic_auth(username, password))
    }
    /// Sets the body.
    pub fn body<T: Into<reqwest::Body>>(self, body: T) -> Self {
        self.map(|b| b.body(body))
    }
    /// Sets a timeout for this request.
    pub fn timeout(self, timeout: Duration) -> Self {
        self.map(|b| b.timeout(timeout))
    }
    /// Applies any of reqwest's request-builder methods (`json`, `form`,
    /// `multipart`, `version`, ...). These cannot change the client's checks:
    /// the final URL is decided on at [`send`](RequestBuilder::send), and the
    /// request is sent through the enforced client even if `f` returns a
    /// builder made from another `reqwest::Client`.
    pub fn map(mut self, f: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder) -> Self {
        self.inner = f(self.inner);
        self
    }
    /// Builds the request without sending it.
    pub fn build(self) -> Result<reqwest::Request, Error> {
        Ok(self.inner.build()?)
    }
    /// Checks and sends the request (see [`EnforcedClient::execute`]).
    pub fn send(self) -> impl Future<Output = Result<reqwest::Response, Error>> + Send + 'static {
        // The builder's own client is dropped: see `client`.
        let (_, request) = self.inner.build_split();
        execute_checked(With::Owned(self.checker, self.client), request)
    }
}

type EnvSource = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Builds an [`EnforcedClient`]. Safe by default: every check is installed and
/// none can be switched off.
pub struct Builder {
    policy: SharedPolicy,
    client: Option<Arc<str>>,
    inner: reqwest::ClientBuilder,
    max_redirects: usize,
    lookup: Arc<dyn Lookup>,
    overrides: HashMap<Box<str>, Vec<IpAddr>>,
    explicit_proxies: Vec<(ProxyScope, String)>,
    env: Option<EnvSource>,
    trust_proxy_resolution: bool,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("client", &self.client)
            .field("max_redirects", &self.max_redirects)
            .field(
                "proxies",
                &self.explicit_proxies.iter().map(|(s, u)| (s, redact_url(u))).collect::<Vec<_>>(),
            )
            .field("env_proxies", &self.env.is_some())
            .field("trust_proxy_resolution", &self.trust_proxy_resolution)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// A builder enforcing `policy`.
    pub fn new(policy: SharedPolicy) -> Builder {
        Builder {
            policy,
            client: None,
            inner: reqwest::Client::builder(),
            max_redirects: DEFAULT_MAX_REDIRECTS,
            lookup: Arc::new(SystemLookup),
            overrides: HashMap::new(),
            explicit_proxies: Vec::new(),
            env: Some(Box::new(|name| std::env::var(name).ok())),
            trust_proxy_resolution: false,
        }
    }

    /// Builds the client for the name `name` (see [`clients`](egress_policy_core::docs::policy_file)): it also
    /// gets the allow rules naming it.
    pub fn client_name(mut self, name: impl Into<Arc<str>>) -> Self {
        self.client = Some(name.into());
        self
    }

    /// The redirect hop limit (default 10); every hop is decided on.
    pub fn max_redirects(mut self, hops: usize) -> Self {
        self.max_redirects = hops;
        self
    }

    /// Where addresses come from (default: the system resolver). Every answer is
    /// admitted before reqwest may connect.
    pub fn lookup(mut self, lookup: impl Lookup) -> Self {
        self.lookup = Arc::new(lookup);
        self
    }

    /// Pins `domain` to `addrs` (reqwest's `resolve` overrides). The addresses go
    /// through admission like any answer, so an override cannot smuggle a
    /// forbidden address.
    pub fn resolve(mut self, domain: &str, addrs: &[IpAddr]) -> Self {
        self.overrides.entry(override_key(domain)).or_default().extend_from_slice(addrs);
        self
    }

    /// Sends all traffic through `proxy`. The policy must allow the proxy itself;
    /// the target is still decided on every request and hop, and its name is
    /// resolved and admitted here before the request goes to the proxy (see
    /// [`Builder::danger_trust_proxy_resolution`]).
    pub fn proxy_all(mut self, proxy: &str) -> Self {
        self.explicit_proxies.push((ProxyScope::All, proxy.to_string()));
        self
    }
    /// Sends `http` traffic through `proxy` (see [`Builder::proxy_all`]).
    pub fn proxy_http(mut self, proxy: &str) -> Self {
        self.explicit_proxies.push((ProxyScope::Http, proxy.to_string()));
        self
    }
    /// Sends `https` traffic through `proxy` (see [`Builder::proxy_all`]).
    pub fn proxy_https(mut self, proxy: &str) -> Self {
        self.explicit_proxies.push((ProxyScope::Https, proxy.to_string()));
        self
    }

    /// **Trusts the proxy's own name resolution**: targets behind a proxy are no
    /// longer resolved and admitted locally before the request is sent.
    ///
    /// By default, a request through a proxy first resolves the target's name
    /// here and runs connect-time admission on the answer, exactly as a direct
    /// request would: a target allowed by name but resolving to
    /// `169.254.169.254` is denied (`resolved_to_forbidden_address`) and never
    /// reaches the proxy. Even then the proxy resolves the name again itself,
    /// and may get another answer (a rebinding DNS server can tell the two
    /// lookups apart); the proxy must enforce its own floor to close that gap.
    ///
    /// Call this only when the proxy is the enforcement point for addresses (it
    /// refuses private and metadata destinations itself), or when the client
    /// cannot resolve the target names (an air-gapped host whose only way out is
    /// the proxy). Then the proxy's decision on the address is the only one. It
    /// also lets redirect hops through the proxy go to new names, which are
    /// otherwise refused (they cannot be resolved from reqwest's redirect policy).
    pub fn danger_trust_proxy_resolution(mut self) -> Self {
        self.trust_proxy_resolution = true;
        self
    }

    /// Ignores `HTTP_PROXY`, `HTTPS_PROXY` and `ALL_PROXY`. By default they are
    /// used only when the policy allows the proxy they name.
    pub fn no_env_proxies(mut self) -> Self {
        self.env = None;
        self
    }

    /// Reads the proxy variables through `var` instead of the process
    /// environment (tests, or configuration that is not in the environment).
    pub fn env_proxies_from(mut self, var: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        self.env = Some(Box::new(var));
        self
    }

    /// A total timeout per request.
    pub fn timeout(self, timeout: Duration) -> Self {
        self.configure(|b| b.timeout(timeout))
    }
    /// A timeout for connecting.
    pub fn connect_timeout(self, timeout: Duration) -> Self {
        self.configure(|b| b.connect_timeout(timeout))
    }
    /// The `User-Agent` header.
    pub fn user_agent(self, value: &str) -> Self {
        let value = value.to_string();
        self.configure(|b| b.user_agent(value))
    }
    /// Headers sent with every request.
    pub fn default_headers(self, headers: http::HeaderMap) -> Self {
        self.configure(|b| b.default_headers(headers))
    }
    /// How long idle pooled connections are kept.
    pub fn pool_idle_timeout(self, timeout: Option<Duration>) -> Self {
        self.configure(|b| b.pool_idle_timeout(timeout))
    }
    /// Idle pooled connections kept per host.
    pub fn pool_max_idle_per_host(self, max: usize) -> Self {
        self.configure(|b| b.pool_max_idle_per_host(max))
    }

    fn configure(mut self, f: impl FnOnce(reqwest::ClientBuilder) -> reqwest::ClientBuilder) -> Self {
        self.inner = f(self.inner);
        self
    }

    /// Applies any `reqwest::ClientBuilder` setting (TLS roots, HTTP versions,
    /// ...). The resolver, redirect policy and proxies of this builder are
    /// applied **after** `f` and override what it sets there; but `resolve()` /
    /// `resolve_to_addrs()` overrides set inside `f` bypass admission, and
    /// `connector_layer`s run unchecked. Use [`Builder::resolve`] instead.
    pub fn danger_configure(self, f: impl FnOnce(reqwest::ClientBuilder) -> reqwest::ClientBuilder) -> Self {
        self.configure(f)
    }

    /// Builds the enforced client.
    pub fn build(self) -> Result<EnforcedClient, BuildError> {
        let (inner, checker) = self.assemble()?;
        let builders = unroutable_client().map_err(BuildError::Reqwest)?;
        Ok(EnforcedClient { inner, checker, builders })
    }

    /// Builds the pieces for reqwest-middleware users: the plain
    /// `reqwest::Client` with the resolver, redirect policy and proxy stance
    /// installed, and the [`EnforceMiddleware`](crate::EnforceMiddleware) that
    /// makes the request-level check. Both are needed: the client refuses every
    /// new connection and lookup that no [`EnforceMiddleware`](crate::EnforceMiddleware)
    /// decided (IP-literal URLs included). But a request sent on the bare client
    /// can reuse a connection that an earlier, enforced request left in its
    /// pool, with no decision at all: never hand the bare client out, only the
    /// `reqwest_middleware` client wrapping it.
    ///
    /// ```no_run
    /// use egress_policy_core::{Policy, SharedPolicy};
    /// use egress_policy_reqwest::Builder;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let policy = SharedPolicy::new(Policy::from_path("policy.toml")?);
    /// let (client, enforce) = Builder::new(policy).build_for_middleware()?;
    /// let client = reqwest_middleware::ClientBuilder::new(client).with(enforce).build();
    /// # let _ = client;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "middleware")]
    pub fn build_for_middleware(self) -> Result<(reqwest::Client, crate::EnforceMiddleware), BuildError> {
        let (inner, checker) = self.assemble()?;
        Ok((inner, crate::EnforceMiddleware::new(checker)))
    }

    fn assemble(self) -> Result<(reqwest::Client, Arc<Checker>), BuildError> {
        let client = self.client.clone();
        let mut proxies = Vec::new();
        for (scope, url) in &self.explicit_proxies {
            let spec = ProxySpec::parse(*scope, url, None)?;
            let decision = self.policy.decide(&spec.dest, client.as_deref());
            if decision.blocks() {
                return Err(BuildError::ProxyDenied {
                    proxy: spec.dest.to_string(),
                    denied: Denied::new(decision),
                });
            }
            proxies.push(spec);
        }
        if let Some(var) = &self.env {
            proxies.extend(proxy::from_env(var.as_ref(), &self.policy, client.as_deref()));
        }
        let checker = Arc::new(Checker {
            id: next_checker_id(),
            policy: self.policy,
            client,
            proxies,
            lookup: self.lookup,
            overrides: self.overrides,
            trust_proxy_resolution: self.trust_proxy_resolution,
        });
        let resolver = FilteringResolver { checker: checker.clone() };
        let hops = checker.clone();
        let max = self.max_redirects;
        let redirect = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > max {
                return attempt.error(TooManyRedirects(max));
            }
            match hops.hop(attempt.url()) {
                Ok(current) => {
                    // The resolver admits the hop's lookups under the hop's decision.
                    if replace(current) {
                        attempt.follow()
                    } else {
                        attempt.error(HopRefused::NotInScope)
                    }
                }
                Err(HopRefused::Denied(denied)) => attempt.error(denied),
                Err(refused) => attempt.error(refused),
            }
        });
        // Our settings last: they override anything `danger_configure` set for them.
        let mut builder = self
            .inner
            .no_proxy()
            .redirect(redirect)
            .dns_resolver(Arc::new(resolver))
            .connector_layer(RequireDecisionLayer { checker: checker.clone() });
        for spec in &checker.proxies {
            builder = builder.proxy(spec.to_reqwest()?);
        }
        let inner = builder.build().map_err(BuildError::Reqwest)?;
        Ok((inner, checker))
    }
}

/// The redirect hop limit was reached.
#[derive(Debug, thiserror::Error)]
#[error("too many redirects (limit {0})")]
struct TooManyRedirects(usize);
