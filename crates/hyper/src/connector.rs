use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use egress_policy_core::{Denied, SharedPolicy};
use http::Uri;
use pin_project_lite::pin_project;
use tower_service::Service;

use crate::{BoxError, ConnectTarget, TARGET};

/// Decides on every new connection before the inner connector runs.
/// See the [crate documentation](crate).
#[derive(Debug, Clone)]
pub struct EnforceConnector<C> {
    inner: C,
    policy: SharedPolicy,
    client: Option<Arc<str>>,
}

impl<C> EnforceConnector<C> {
    /// Wraps `inner` to enforce `policy` for an unnamed client.
    pub fn new(inner: C, policy: SharedPolicy) -> Self {
        EnforceConnector {
            inner,
            policy,
            client: None,
        }
    }

    /// Decides as the client `name`.
    pub fn client_name(mut self, name: impl Into<Arc<str>>) -> Self {
        self.client = Some(name.into());
        self
    }
}

/// Decides on a connector URI. Only `http` and `https` are judged: hyper-util's
/// connectors connect any other scheme in plaintext to port 80 unless the URI
/// names a port (a `wss://host/` URI goes to `host:80` without TLS), so a
/// decision on it would not describe the connection. Anything else is refused
/// (`invalid`).
fn decide(policy: &SharedPolicy, uri: &Uri, client: Option<&str>) -> egress_policy_core::Decision {
    match (uri.scheme_str(), uri.authority()) {
        (Some(scheme @ ("http" | "https")), Some(authority)) => policy.decide_authority(scheme, authority.as_str(), client),
        _ => policy.decide_url("", client),
    }
}

impl<C> Service<Uri> for EnforceConnector<C>
where
    C: Service<Uri>,
    C::Error: Into<BoxError>,
    C::Future: Send + 'static,
{
    type Response = C::Response;
    type Error = BoxError;
    type Future = ConnectFuture<C::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let decision = decide(&self.policy, &uri, self.client.as_deref());
        if decision.blocks() {
            return ConnectFuture::denied(Denied::new(decision));
        }
        let target = ConnectTarget {
            decision,
            client: self.client.clone(),
        };
        let connecting = TARGET.scope(target, self.inner.call(uri));
        ConnectFuture::connecting(Box::pin(async move { connecting.await.map_err(Into::into) }))
    }
}

type Connecting<T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send>>;

pin_project! {
    /// The future of [`EnforceConnector`]: an immediate [`Denied`], or the inner
    /// connect with the destination scoped for the resolver below.
    pub struct ConnectFuture<T> {
        #[pin]
        state: State<T>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<T> {
        Connecting { future: Connecting<T> },
        Denied { error: Option<Denied> },
    }
}

impl<T> ConnectFuture<T> {
    fn connecting(future: Connecting<T>) -> Self {
        ConnectFuture {
            state: State::Connecting { future },
        }
    }
    fn denied(error: Denied) -> Self {
        ConnectFuture {
            state: State::Denied { error: Some(error) },
        }
    }
}

impl<T> Future for ConnectFuture<T> {
    type Output = Result<T, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Connecting { future } => future.as_mut().poll(cx),
            StateProj::Denied { error } => Poll::Ready(Err(Box::new(error.take().expect("ConnectFuture polled after completion")))),
        }
    }
}
