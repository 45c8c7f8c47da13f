//! hyper-util integration for egress-policy: a connector and a resolver that
//! enforce a [`SharedPolicy`] on every new connection and every resolved address.
//!
//! # Overview
//!
//! - [`EnforceConnector`] wraps any `Service<Uri>` connector (`HttpConnector`,
//!   hyper-rustls's `HttpsConnector`, ...). It decides on the scheme, host and port
//!   of every new connection **before** calling the inner connector: this is the
//!   catch-all for IP literals (which never reach a resolver) and for redirects
//!   followed by higher layers. Only `http` and `https` URIs are accepted:
//!   hyper-util connects any other scheme (`ws`, `wss`) in plaintext to port 80,
//!   which a decision on `wss:443` would not describe, so they are refused as
//!   `invalid` (WebSocket clients connect with `http`/`https` URIs and upgrade).
//! - [`EnforceResolver`] wraps a hyper-util resolver (`Service<Name>`, e.g.
//!   `GaiResolver`). It applies connect-time admission ([`docs::admission`](egress_policy_core::docs::admission)) to every
//!   answer: addresses that are not admitted are dropped (and logged), and when
//!   none remain the lookup fails with [`Denied`]. The connection goes only to
//!   checked addresses, which stops DNS rebinding.
//!
//! The resolver admits under the connector's decision: it learns the
//! destination's scheme, port and client (which admission needs) from the
//! [`EnforceConnector`] around it, through a task-local scoped over the connect
//! future, and admits each answer with
//! [`Policy::admit_decided`](egress_policy_core::Policy::admit_decided), so the
//! addresses connected to are exactly those
//! [`Policy::admit`](egress_policy_core::Policy::admit) computes. It decides
//! **before** it looks anything up, and refuses (without a query) a lookup with
//! no connector above it, a lookup of a name other than the host the connector
//! decided (a proxy or tunnel connector between the two: this crate does not
//! admit proxies), and a name that a policy swapped in since the connector's
//! decision denies.
//!
//! Pooled connections are reused without a new connect: pair the connector with
//! the request-level `EnforcePolicyLayer` of `egress-policy-tower` (as
//! [`https_client`] users should) so a policy swap applies to the next request.
//!
//! # Example
//!
//! ```no_run
//! use egress_policy_core::{Denied, Policy, SharedPolicy};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let policy = SharedPolicy::new(Policy::from_path("/etc/egress/policy.toml")?);
//! let client = egress_policy_hyper::https_client::<http_body_util::Empty<bytes::Bytes>>(policy, None)?;
//! match client.get("https://169.254.169.254/".parse()?).await {
//!     Err(e) if Denied::find(&e).is_some() => println!("blocked: {}", Denied::find(&e).unwrap()),
//!     other => println!("{other:?}"),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Crate features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `rustls` | yes | [`https_client`] and [`https_connector_with_resolver`] (hyper-rustls, the platform's trust store) |
//! | `aws-lc-rs` | yes | the aws-lc-rs crypto provider for them (rustls' and reqwest's default, FIPS-capable) |
//! | `ring` | no | the ring provider instead (turn off default features, then enable `ring`) |
//!
//! An installed process-default provider (`CryptoProvider::install_default`)
//! takes precedence over the compiled-in one.
//!
//! # Supported Rust versions
//!
//! The minimum supported Rust version is 1.89.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod connector;
mod resolver;

pub use connector::{ConnectFuture, EnforceConnector};
pub use egress_policy_core::{Denied, SharedPolicy};
pub use resolver::EnforceResolver;

/// The error type of the wrappers: the inner error, or [`Denied`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

use std::sync::Arc;

use egress_policy_core::Decision;

/// What the connector tells the resolver below it about the connection being made.
#[derive(Debug, Clone)]
pub(crate) struct ConnectTarget {
    pub(crate) decision: Decision,
    pub(crate) client: Option<Arc<str>>,
}

tokio::task_local! {
    pub(crate) static TARGET: ConnectTarget;
}

/// The enforced HTTPS connector [`https_client`] builds.
#[cfg(feature = "rustls")]
pub type EnforcedHttpsConnector<R = hyper_util::client::legacy::connect::dns::GaiResolver> =
    EnforceConnector<hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector<EnforceResolver<R>>>>;

/// The rustls crypto provider for [`https_client`]: the process default when
/// one is installed, else the one compiled in (feature `aws-lc-rs`, the default,
/// or `ring`).
#[cfg(feature = "rustls")]
fn crypto_provider() -> std::io::Result<std::sync::Arc<rustls::crypto::CryptoProvider>> {
    if let Some(installed) = rustls::crypto::CryptoProvider::get_default() {
        return Ok(installed.clone());
    }
    #[cfg(feature = "aws-lc-rs")]
    return Ok(std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
    return Ok(std::sync::Arc::new(rustls::crypto::ring::default_provider()));
    #[cfg(not(any(feature = "aws-lc-rs", feature = "ring")))]
    Err(std::io::Error::other(
        "no rustls crypto provider: enable the `aws-lc-rs` or `ring` feature of egress-policy-hyper, or install a process default with CryptoProvider::install_default",
    ))
}

/// An enforced HTTP+HTTPS connector over `resolver`: the connector decides on
/// every connection, the resolver admits every address. TLS by rustls with the
/// platform's trust store, and the process's default crypto provider if one is
/// installed, else the compiled-in one (aws-lc-rs by default, or ring).
#[cfg(feature = "rustls")]
pub fn https_connector_with_resolver<R>(
    policy: SharedPolicy,
    client: Option<&str>,
    resolver: R,
) -> std::io::Result<EnforcedHttpsConnector<R>> {
    let resolver = EnforceResolver::new(resolver, policy.clone());
    let mut http = hyper_util::client::legacy::connect::HttpConnector::new_with_resolver(resolver);
    http.enforce_http(false);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(crypto_provider()?)?
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(http);
    let mut connector = EnforceConnector::new(https, policy);
    if let Some(name) = client {
        connector = connector.client_name(name);
    }
    Ok(connector)
}

/// A hyper-util legacy `Client` for HTTP and HTTPS whose connector and resolver
/// both enforce `policy`, as the client named `client` (see [`clients`](egress_policy_core::docs::policy_file)).
///
/// For request-level checks on pooled connections and redirects, wrap it in
/// `egress_policy_tower::EnforcePolicyLayer`.
#[cfg(feature = "rustls")]
pub fn https_client<B>(
    policy: SharedPolicy,
    client: Option<&str>,
) -> std::io::Result<hyper_util::client::legacy::Client<EnforcedHttpsConnector, B>>
where
    B: http_body::Body + Send,
    B::Data: Send,
{
    let connector = https_connector_with_resolver(policy, client, hyper_util::client::legacy::connect::dns::GaiResolver::new())?;
    Ok(hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector))
}
