//! `egress-policy schema`: the JSON Schema of the policy file format.

use std::process::ExitCode;

use super::{Fatal, Status};
use crate::out::Out;

pub(crate) fn run(out: &mut Out) -> Status {
    let schema =
        serde_json::to_string_pretty(&egress_policy_core::policy_schema()).map_err(|e| Fatal(format!("encoding the schema: {e}")))?;
    out.line(schema)?;
    Ok(ExitCode::SUCCESS)
}
