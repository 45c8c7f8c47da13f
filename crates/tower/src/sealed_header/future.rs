use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use egress_policy_core::SharedPolicy;
use http::Response;
use pin_project_lite::pin_project;

pin_project! {
    /// The response future of [`SetSealedModeHeader`](super::SetSealedModeHeader).
    pub struct ResponseFuture<F> {
        #[pin]
        future: F,
        policy: SharedPolicy,
        identity: bool,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(future: F, policy: SharedPolicy, identity: bool) -> Self {
        ResponseFuture { future, policy, identity }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut res = ready!(this.future.poll(cx))?;
        super::stamp(&mut res, this.policy, *this.identity);
        Poll::Ready(Ok(res))
    }
}
