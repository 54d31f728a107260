//! `kubectl api-versions`: every group/version the server serves, sorted.

use super::Session;
use crate::Output;
use crate::cli::GlobalArgs;
use crate::error::CmdError;

pub async fn run(g: &GlobalArgs, out: &mut Output) -> Result<(), CmdError> {
    let mut s = Session::open(g, "kubectl api-versions").await?;
    let d = s.discovery(false).await?;
    let mut all: Vec<String> = d
        .groups
        .iter()
        .flat_map(|gr| {
            gr.versions.iter().map(move |v| {
                if gr.name.is_empty() {
                    v.clone()
                } else {
                    format!("{}/{v}", gr.name)
                }
            })
        })
        .collect();
    all.sort();
    for v in all {
        out.stdout.push_str(&v);
        out.stdout.push('\n');
    }
    Ok(())
}
