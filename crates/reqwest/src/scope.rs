//! The decisions of the request in flight, scoped over its future.
//!
//! reqwest calls the resolver with a name only and the connector with a URI
//! only, so the request-level check leaves what it decided ([`Current`]) in a
//! thread-local for exactly as long as the request's future is being polled:
//! [`Scoped`] moves it in before every poll and takes it back after, as
//! `tokio::task_local!` does. Outside a poll, code on the same thread (another
//! task, or a client used without the check) finds nothing, and is refused.
//!
//! Written out rather than taken from tokio: tokio's task-local future is
//! `!Unpin` and is swapped by value, which made every enforced request's
//! future larger and each of its polls a copy of the decisions. Here the
//! decisions are boxed once per request and a poll swaps one pointer.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::check::Current;

thread_local! {
    static CURRENT: RefCell<Option<Box<Current>>> = const { RefCell::new(None) };
}

/// Runs `f` on the decisions in scope, if any. `f` must not enter a scope.
/// While the thread is being torn down there are none.
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Current>) -> R) -> R {
    let mut f = Some(f);
    let ran = CURRENT.try_with(|c| f.take().map(|f| f(c.borrow().as_deref())));
    match ran {
        Ok(Some(r)) => r,
        _ => f.take().expect("f has not run")(None),
    }
}

/// Replaces the decisions in scope (a redirect hop) if the same checker made
/// them, and says whether it did. Outside a scope nothing is set (a decision
/// must never outlive the request it was made for), nor over another
/// client's decisions (the request they were made for goes on under them).
#[must_use = "a hop whose decision is not in scope must be refused"]
pub(crate) fn replace(current: Current) -> bool {
    CURRENT
        .try_with(|c| match c.borrow_mut().as_mut() {
            Some(slot) if slot.owner == current.owner => {
                **slot = current;
                true
            }
            _ => false,
        })
        .unwrap_or(false)
}

/// `future`, with `current` in scope while it is polled.
pub(crate) fn scope<F: Future + Unpin>(current: Current, future: F) -> Scoped<F> {
    Scoped {
        current: Some(Box::new(current)),
        future,
    }
}

/// See [`scope`].
pub(crate) struct Scoped<F> {
    current: Option<Box<Current>>,
    future: F,
}

impl<F> std::fmt::Debug for Scoped<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scoped").field("current", &self.current).finish_non_exhaustive()
    }
}

impl<F: Future + Unpin> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let _entered = Entered::new(&mut this.current);
        Pin::new(&mut this.future).poll(cx)
    }
}

/// While alive, the scope's decisions are in the thread-local and whatever
/// was there (an enclosing scope's, or nothing) is kept here; dropped (also
/// on a panic), each goes back.
struct Entered<'a> {
    slot: &'a mut Option<Box<Current>>,
}

impl<'a> Entered<'a> {
    fn new(slot: &'a mut Option<Box<Current>>) -> Self {
        // While the thread is being torn down nothing can be put in scope:
        // the future is polled without its decisions, and refused.
        let _ = CURRENT.try_with(|c| std::mem::swap(slot, &mut *c.borrow_mut()));
        Entered { slot }
    }
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| std::mem::swap(self.slot, &mut *c.borrow_mut()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use egress_policy_core::{Policy, SharedPolicy};

    /// The owner of every decision in these tests but the foreign one's.
    const OWNER: u64 = 1;

    fn current(host: &str) -> Current {
        owned_by(host, OWNER)
    }

    fn owned_by(host: &str, owner: u64) -> Current {
        let policy = SharedPolicy::new(Policy::from_toml_str("version = 1\nmode = \"open\"\n").expect("policy"));
        let url = url::Url::parse(&format!("https://{host}/")).expect("url");
        let target = policy.decide(&egress_policy_core::Destination::from_url(&url).expect("destination"), None);
        Current {
            target,
            proxy: None,
            answer: None,
            owner,
        }
    }

    fn host_in_scope() -> Option<String> {
        with_current(|c| c.and_then(|c| c.target.destination()).map(|d| d.host().to_string()))
    }

    /// A future that records what it sees in scope at each poll and is ready
    /// on the second.
    struct Probe(Vec<Option<String>>, Option<Box<dyn FnMut()>>);
    impl Future for Probe {
        type Output = Vec<Option<String>>;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            self.0.push(host_in_scope());
            if let Some(f) = self.1.as_mut() {
                f();
            }
            if self.0.len() == 2 {
                return Poll::Ready(std::mem::take(&mut self.0));
            }
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    fn block_on<F: Future + Unpin>(mut f: F) -> F::Output {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let before = host_in_scope();
        loop {
            if let Poll::Ready(out) = Pin::new(&mut f).poll(&mut cx) {
                return out;
            }
            // Between polls the scope is gone: what was there before is back.
            assert_eq!(host_in_scope(), before);
        }
    }

    #[test]
    fn in_scope_only_while_polled() {
        assert_eq!(host_in_scope(), None);
        let seen = block_on(scope(current("a.example"), Probe(Vec::new(), None)));
        assert_eq!(seen, vec![Some("a.example".to_string()); 2]);
        assert_eq!(host_in_scope(), None);
    }

    #[test]
    fn replace_lasts_for_the_scope_and_never_outside() {
        assert!(!replace(current("outside.example")));
        assert_eq!(host_in_scope(), None, "replace outside a scope sets nothing");
        let mut hopped = false;
        let hop = Box::new(move || {
            if !hopped {
                assert!(replace(current("hop.example")));
                hopped = true;
            }
        });
        let seen = block_on(scope(current("a.example"), Probe(Vec::new(), Some(hop))));
        assert_eq!(seen, vec![Some("a.example".to_string()), Some("hop.example".to_string())]);
        assert_eq!(host_in_scope(), None);
    }

    #[test]
    fn another_checkers_replace_leaves_the_scope_alone() {
        let hop = Box::new(|| assert!(!replace(owned_by("foreign.example", OWNER + 1))));
        let seen = block_on(scope(current("a.example"), Probe(Vec::new(), Some(hop))));
        assert_eq!(seen, vec![Some("a.example".to_string()); 2]);
    }

    #[test]
    fn nested_scopes_restore_the_outer() {
        let inner = || block_on(scope(current("inner.example"), Probe(Vec::new(), None)));
        let outer = Probe(
            Vec::new(),
            Some(Box::new(move || {
                assert_eq!(inner(), vec![Some("inner.example".to_string()); 2]);
            })),
        );
        // The outer probe sees its own decision on both polls, after the inner ran.
        let seen = block_on(scope(current("outer.example"), outer));
        assert_eq!(seen, vec![Some("outer.example".to_string()); 2]);
    }

    #[test]
    fn a_panic_inside_a_poll_leaves_nothing_in_scope() {
        struct Boom;
        impl Future for Boom {
            type Output = ();
            fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
                assert_eq!(host_in_scope().as_deref(), Some("a.example"));
                panic!("boom");
            }
        }
        let caught = std::panic::catch_unwind(|| block_on(scope(current("a.example"), Boom)));
        assert!(caught.is_err());
        assert_eq!(host_in_scope(), None);
    }
}
