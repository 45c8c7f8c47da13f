//! Standard output for the subcommands. A closed pipe (`egress-policy check … |
//! head -1`) ends the output quietly, as `rg | head` does, and the command still
//! exits with the status its verdicts give; any other write error is fatal.

use std::fmt::Display;
use std::io::{self, StdoutLock, Write};

use crate::cmd::Fatal;

/// Standard output, locked for the command's lifetime.
pub(crate) struct Out {
    inner: StdoutLock<'static>,
    closed: bool,
}

impl Out {
    pub(crate) fn stdout() -> Out {
        Out {
            inner: io::stdout().lock(),
            closed: false,
        }
    }

    /// Whether the reader went away: there is no point producing more output.
    pub(crate) fn closed(&self) -> bool {
        self.closed
    }

    /// Writes `text` and a newline.
    pub(crate) fn line(&mut self, text: impl Display) -> Result<(), Fatal> {
        self.write(|w| writeln!(w, "{text}"))
    }

    /// Writes `value` as one line of JSON.
    pub(crate) fn json(&mut self, value: &impl serde::Serialize) -> Result<(), Fatal> {
        let text = serde_json::to_string(value).map_err(|e| Fatal(format!("encoding JSON: {e}")))?;
        self.line(text)
    }

    /// Writes `text` as it is.
    pub(crate) fn text(&mut self, text: &str) -> Result<(), Fatal> {
        self.write(|w| w.write_all(text.as_bytes()))
    }

    pub(crate) fn flush(&mut self) -> Result<(), Fatal> {
        self.write(Write::flush)
    }

    fn write(&mut self, f: impl FnOnce(&mut StdoutLock<'static>) -> io::Result<()>) -> Result<(), Fatal> {
        if self.closed {
            return Ok(());
        }
        match f(&mut self.inner) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            Err(e) => Err(Fatal(format!("writing standard output: {e}"))),
        }
    }
}
