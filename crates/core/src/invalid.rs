//! The one internal error shape for a value that does not validate: what is
//! wrong, and what to write instead when there is a clear answer. The loader
//! turns it into a [`Problem`](crate::load::Problem) located at a rule and field.

/// A rejected value: a message, and the fix when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid {
    pub(crate) message: String,
    pub(crate) fix: Option<String>,
}

impl Invalid {
    /// A problem with no suggested fix.
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Invalid {
            message: message.into(),
            fix: None,
        }
    }

    /// The same problem, with what to write instead.
    pub(crate) fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    /// The same problem, with what to write instead when there is an answer.
    pub(crate) fn maybe_fix(mut self, fix: Option<String>) -> Self {
        self.fix = fix;
        self
    }
}
