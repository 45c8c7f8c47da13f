//! The live policy and reloading it.
//!
//! - [`SharedPolicy`](crate::SharedPolicy) holds the policy in force: cheap to
//!   clone, one lock-free load per decision, never blocks readers; storing a new
//!   policy bumps the generation.
//! - The watcher (`egress-policy-watch`) watches the file's **parent directory**,
//!   debounced, and re-reads the path on any event there, so editors that write
//!   by rename and Kubernetes ConfigMap volumes (the `..data` symlink swap) are
//!   both seen; a slow timer re-reads as a fallback.
//! - A new file is parsed and validated in full before the swap. Invalid,
//!   unreadable or missing: the last good policy stays, the rejection is logged
//!   at ERROR and counted. Same digest: nothing is swapped.
//! - **Torn files are never applied**: the file is read only after it has been
//!   unchanged (size, modification time, inode) across a quiet period observed
//!   by the watcher itself (default 1 s), and must be unchanged after the read.
//!   A writer must not pause longer than the quiet period in the middle of an
//!   update; writing elsewhere and renaming over the path needs no such care.
//! - At start-up there is no last good policy: a missing or invalid file is an
//!   error for the caller; there is no fallback to `open`.
//! - Services name their policy file with `EGRESS_POLICY_FILE`
//!   ([`POLICY_FILE_ENV`](crate::POLICY_FILE_ENV)); [`load_from_env`](crate::load_from_env)
//!   loads it and fails when it is unset or bad.
