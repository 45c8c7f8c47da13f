use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use egress_policy_core::Denied;
use pin_project_lite::pin_project;

pin_project! {
    /// The response future of [`EnforcePolicy`](super::EnforcePolicy): the inner
    /// call, or an immediate error ([`Denied`], or a
    /// [`HostHeaderMismatch`](super::HostHeaderMismatch)).
    #[project = Proj]
    pub struct ResponseFuture<F> {
        #[pin]
        state: State<F>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        Called { #[pin] future: F },
        Denied { error: Option<crate::BoxError> },
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn called(future: F) -> Self {
        ResponseFuture {
            state: State::Called { future },
        }
    }
    pub(crate) fn denied(error: Denied) -> Self {
        ResponseFuture::failed(Box::new(error))
    }
    pub(crate) fn failed(error: crate::BoxError) -> Self {
        ResponseFuture {
            state: State::Denied { error: Some(error) },
        }
    }
}

impl<F, T, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<T, E>>,
    E: Into<crate::BoxError>,
{
    type Output = Result<T, crate::BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Called { future } => future.poll(cx).map_err(Into::into),
            StateProj::Denied { error } => {
                let error = error.take().expect("ResponseFuture polled after completion");
                Poll::Ready(Err(error))
            }
        }
    }
}
