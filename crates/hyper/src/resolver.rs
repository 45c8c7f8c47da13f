use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use egress_policy_core::{Context as DecisionContext, Denied, Destination, Scheme, SharedPolicy};
use hyper_util::client::legacy::connect::dns::Name;
use tower_service::Service;

use crate::{BoxError, ConnectTarget, TARGET};

/// Applies connect-time admission to every answer of the inner resolver.
/// See the [crate documentation](crate).
#[derive(Debug, Clone)]
pub struct EnforceResolver<R> {
    inner: R,
    policy: SharedPolicy,
}

impl<R> EnforceResolver<R> {
    /// Wraps `inner` to admit its answers under `policy`.
    pub fn new(inner: R, policy: SharedPolicy) -> Self {
        EnforceResolver { inner, policy }
    }
}

impl<R> Service<Name> for EnforceResolver<R>
where
    R: Service<Name>,
    R::Response: Iterator<Item = SocketAddr>,
    R::Error: Into<BoxError>,
    R::Future: Send + 'static,
{
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let target = TARGET.try_with(ConnectTarget::clone).ok();
        let policy = self.policy.clone();
        let lookup = self.inner.call(name.clone());
        Box::pin(async move {
            let answers: Vec<SocketAddr> = lookup.await.map_err(Into::into)?.collect();
            admit(&policy, &name, target, answers)
        })
    }
}

fn admit(
    policy: &SharedPolicy,
    name: &Name,
    target: Option<ConnectTarget>,
    answers: Vec<SocketAddr>,
) -> Result<std::vec::IntoIter<SocketAddr>, BoxError> {
    let ips: Vec<_> = answers.iter().map(SocketAddr::ip).collect();
    let current = policy.load();
    let admission = match target {
        // The connector decided on this connection under the policy still in force.
        Some(t) if t.decision.policy().generation == current.generation() => {
            let cx = DecisionContext::at(policy.now()).with_client(t.client.as_deref());
            current.admit_decided(t.decision, &ips, &cx)
        }
        // The policy changed since, or no connector above: decide again.
        other => {
            let (dest, client) = match other {
                Some(t) => (t.decision.destination().cloned(), t.client),
                None => (Destination::new(Scheme::Https, name.as_str(), 443).ok(), None),
            };
            let Some(dest) = dest else {
                return Err(Box::new(Denied::new(current.decide_url(""))));
            };
            let cx = DecisionContext::at(policy.now()).with_client(client.as_deref());
            current.admit(&dest, &ips, &cx)
        }
    };
    policy.record_admission(&admission, None);
    if admission.decision().blocks() {
        return Err(Box::new(Denied::new(admission.decision().clone())));
    }
    let admitted = admission.admitted();
    Ok(answers
        .into_iter()
        .filter(|a| admitted.contains(&a.ip()))
        .collect::<Vec<_>>()
        .into_iter())
}
