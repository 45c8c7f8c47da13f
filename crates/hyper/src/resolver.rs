use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use egress_policy_core::{Decision, Denied, Destination, Host, SharedPolicy};
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
        // Decide before any lookup: a name the connector did not decide, or one
        // the policy (swapped since) now denies, is never queried.
        let decision = match decide(&self.policy, &name, TARGET.try_with(ConnectTarget::clone).ok()) {
            Ok(decision) => decision,
            Err(e) => return Box::pin(std::future::ready(Err(e))),
        };
        // An address spelled as a name (`0x7f.1`, `010.0.0.1`: hyper-util reads
        // only plain IP literals itself) was decided as that address: answer it
        // here, with no query to the inner resolver.
        if let Some(Host::Ip(ip)) = decision.0.destination().map(Destination::host) {
            let ip = *ip;
            return Box::pin(std::future::ready(Ok(vec![SocketAddr::new(ip, 0)].into_iter())));
        }
        let policy = self.policy.clone();
        let lookup = self.inner.call(name);
        Box::pin(async move {
            let answers: Vec<SocketAddr> = lookup.await.map_err(Into::into)?.collect();
            admit(&policy, decision, answers)
        })
    }
}

/// The decision a lookup of `name` serves: the connector's, for exactly the
/// name it decided on (re-decided when the policy changed since). `Err` when
/// there is no connector above, the name is not the one the connector decided
/// (a proxy connector between them), or the decision now blocks.
fn decide(policy: &SharedPolicy, name: &Name, target: Option<ConnectTarget>) -> Result<(Decision, Option<Arc<str>>), BoxError> {
    let Some(target) = target else {
        return Err(Box::new(Unscoped::NoConnector(name.as_str().into())));
    };
    let dest = target.decision.destination().cloned();
    let decided_host = dest.as_ref().map(Destination::host);
    match Host::parse(name.as_str()) {
        Ok(host) if Some(&host) == decided_host => {}
        _ => return Err(Box::new(Unscoped::OtherName(name.as_str().into()))),
    }
    // Decided under a policy swapped out since: decide again before the lookup.
    let decision = policy.current(target.decision, target.client.as_deref());
    if decision.blocks() {
        return Err(Box::new(Denied::new(decision)));
    }
    Ok((decision, target.client))
}

/// Why [`EnforceResolver`] refused to look a name up.
#[derive(Debug, thiserror::Error)]
enum Unscoped {
    #[error(
        "egress-policy: lookup of `{0}` with no EnforceConnector above the resolver; refused (the resolver \
         admits answers under the connector's decision, and has none)"
    )]
    NoConnector(Box<str>),
    #[error("egress-policy: lookup of `{0}`, which is not the host the connector decided on; refused")]
    OtherName(Box<str>),
}

fn admit(
    policy: &SharedPolicy,
    (decision, client): (Decision, Option<Arc<str>>),
    answers: Vec<SocketAddr>,
) -> Result<std::vec::IntoIter<SocketAddr>, BoxError> {
    let ips: Vec<_> = answers.iter().map(SocketAddr::ip).collect();
    let admission = policy.admit_decided(decision, &ips, client.as_deref());
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
