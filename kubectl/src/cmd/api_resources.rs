//! `kubectl api-resources`: the preferred version of every resource, sorted by group then
//! name, filtered by `--namespaced`, `--api-group`, `--verbs`, `--categories`; `-o wide|name`.

use super::Session;
use crate::Output;
use crate::cli::{ApiResourcesArgs, GlobalArgs};
use crate::discovery::{Discovery, Resource};
use crate::error::CmdError;
use crate::printers::tabwriter;

/// Resources as ServerPreferredResources gives them: per group, each resource once, from the
/// preferred version when it has it.
pub fn preferred(d: &Discovery) -> Vec<Resource> {
    let mut out: Vec<Resource> = Vec::new();
    for r in d.resources() {
        if !out.iter().any(|o| o.group == r.group && o.name == r.name) {
            out.push(r);
        }
    }
    out
}

pub fn filter_and_sort(mut all: Vec<Resource>, a: &ApiResourcesArgs) -> Vec<Resource> {
    all.retain(|r| {
        a.namespaced.is_none_or(|n| r.namespaced == n)
            && a.api_group.as_deref().is_none_or(|g| r.group == g)
            && a.verbs.iter().filter(|v| !v.is_empty()).all(|v| r.verbs.contains(v))
            && a.categories.iter().all(|c| r.categories.contains(c))
    });
    let key = |r: &Resource| -> String {
        match a.sort_by.as_deref() {
            Some("name") => r.name.clone(),
            Some("kind") => r.kind.clone(),
            _ => r.group.clone(),
        }
    };
    all.sort_by(|x, y| key(x).cmp(&key(y)).then_with(|| x.name.cmp(&y.name)));
    all
}

pub async fn run(g: &GlobalArgs, a: ApiResourcesArgs, out: &mut Output) -> Result<(), CmdError> {
    let wide = match a.output.as_deref() {
        None | Some("") => false,
        Some("wide") => true,
        Some("name") => {
            let mut s = Session::open(g, "kubectl api-resources").await?;
            let rs = filter_and_sort(preferred(s.discovery(false).await?), &a);
            for r in rs {
                out.stdout.push_str(&r.group_resource());
                out.stdout.push('\n');
            }
            return Ok(());
        }
        Some(o) => return Err(CmdError::msg(format!("--output {o} is not available"))),
    };
    if let Some(sb) = a.sort_by.as_deref()
        && sb != "name"
        && sb != "kind"
    {
        return Err(CmdError::msg("--sort-by accepts only name or kind"));
    }
    let mut s = Session::open(g, "kubectl api-resources").await?;
    let rs = filter_and_sort(preferred(s.discovery(false).await?), &a);
    let mut text = String::new();
    if a.no_headers != Some(true) {
        text.push_str("NAME\tSHORTNAMES\tAPIVERSION\tNAMESPACED\tKIND");
        if wide {
            text.push_str("\tVERBS\tCATEGORIES");
        }
        text.push('\n');
    }
    for r in rs {
        text.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}",
            r.name,
            r.short_names.join(","),
            r.group_version(),
            r.namespaced,
            r.kind
        ));
        if wide {
            text.push_str(&format!("\t{}\t{}", r.verbs.join(","), r.categories.join(",")));
        }
        text.push('\n');
    }
    out.stdout.push_str(&tabwriter::align(&text));
    Ok(())
}
