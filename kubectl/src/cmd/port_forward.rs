//! `kubectl port-forward`: listens on local ports and relays each accepted connection to a
//! port of the pod through the API server's `portforward` subresource (one websocket stream
//! per connection, kube-rs), printing upstream's `Forwarding from` and `Handling connection`
//! lines.

use super::Session;
use super::pods;
use crate::Output;
use crate::cli::GlobalArgs;
use crate::error::CmdError;
use clap::Args;
use k8s_openapi::api::core::v1::Pod;
use serde_json::Value;
use std::io::Write;
use std::net::IpAddr;

#[derive(Args, Debug)]
pub struct PortForwardArgs {
    /// TYPE/NAME (or a pod name), then [LOCAL_PORT:]REMOTE_PORT...
    pub args: Vec<String>,
    /// Addresses to listen on (comma separated). Only accepts IP addresses or localhost as a value.
    #[arg(long, value_delimiter = ',', default_value = "localhost")]
    pub address: Vec<String>,
    /// The length of time to wait until at least one pod is running
    #[arg(long = "pod-running-timeout")]
    pub pod_running_timeout: Option<String>,
}

const USAGE: &str = "error: TYPE/NAME and list of ports are required for port-forward\nSee 'kubectl port-forward -h' for help and examples";

/// A `[LOCAL:]REMOTE` argument; a remote port may be a container port's name.
struct PortSpec {
    local: Option<u16>,
    remote: String,
}

fn parse_port(text: &str, spec: &str) -> Result<u16, CmdError> {
    text.parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| CmdError::msg(format!("Error parsing local port '{text}' in {spec}")))
}

fn parse_spec(spec: &str) -> Result<PortSpec, CmdError> {
    match spec.split_once(':') {
        Some(("", remote)) => Ok(PortSpec {
            local: Some(0),
            remote: remote.to_string(),
        }),
        Some((local, remote)) => Ok(PortSpec {
            local: Some(parse_port(local, spec)?),
            remote: remote.to_string(),
        }),
        None => Ok(PortSpec {
            local: None,
            remote: spec.to_string(),
        }),
    }
}

/// A remote port number, or the container port of that name.
fn remote_port(pod: &Value, remote: &str) -> Result<u16, CmdError> {
    if let Ok(p) = remote.parse::<u16>() {
        return Ok(p);
    }
    pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["ports"].as_array().cloned().unwrap_or_default())
        .find(|p| p["name"].as_str() == Some(remote))
        .and_then(|p| p["containerPort"].as_u64())
        .and_then(|p| u16::try_from(p).ok())
        .ok_or_else(|| {
            CmdError::msg(format!(
                "Pod '{}' does not have a named port '{remote}'",
                pod["metadata"]["name"].as_str().unwrap_or_default()
            ))
        })
}

/// A Service port (number or name) as the pod's port it targets, and the local port to
/// default to (the Service port), as upstream's translateServicePortToTargetPort.
fn service_target(svc: &Value, pod: &Value, port: &str) -> Result<(u16, u16), CmdError> {
    let svc_name = svc["metadata"]["name"].as_str().unwrap_or_default();
    let ports = svc["spec"]["ports"].as_array().cloned().unwrap_or_default();
    let found = ports.iter().find(|p| match port.parse::<i64>() {
        Ok(n) => p["port"].as_i64() == Some(n),
        Err(_) => p["name"].as_str() == Some(port),
    });
    let Some(found) = found else {
        return Err(CmdError::msg(format!(
            "Service {svc_name} does not have a service port {port}"
        )));
    };
    let service_port = found["port"].as_u64().and_then(|p| u16::try_from(p).ok()).unwrap_or(0);
    let target = match &found["targetPort"] {
        Value::Number(n) => n.as_u64().and_then(|p| u16::try_from(p).ok()).unwrap_or(service_port),
        Value::String(name) => remote_port(pod, name)?,
        _ => service_port,
    };
    Ok((target, service_port))
}

fn addresses(flags: &[String]) -> Result<Vec<IpAddr>, CmdError> {
    let mut out = Vec::new();
    for a in flags {
        if a == "localhost" {
            out.push(IpAddr::from([127, 0, 0, 1]));
            out.push("::1".parse().map_err(|_| CmdError::msg("::1"))?);
        } else {
            out.push(a.parse().map_err(|_| CmdError::msg(format!("{a} is not a valid IP")))?);
        }
    }
    Ok(out)
}

fn show(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V4(v4) => format!("{v4}:{port}"),
        IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    }
}

pub async fn run(g: &GlobalArgs, a: PortForwardArgs, _out: &mut Output) -> Result<i32, CmdError> {
    let Some((target, specs)) = a.args.split_first().filter(|(_, p)| !p.is_empty()) else {
        return Err(CmdError::Raw(USAGE.into()));
    };
    let specs: Vec<PortSpec> = specs.iter().map(|s| parse_spec(s)).collect::<Result<_, _>>()?;
    let ips = addresses(&a.address)?;
    let mut s = Session::open(g, "kubectl port-forward").await?;
    let ns = s.conn.namespace.clone();
    let pod = pods::attachable_pod(&mut s, &ns, target).await?;
    // For a Service the ports given are the Service's, forwarded to their target ports.
    let service = match target.split_once('/') {
        Some((kind, name)) if matches!(kind.to_lowercase().as_str(), "svc" | "service" | "services") => {
            let path = format!("/api/v1/namespaces/{ns}/services/{name}");
            let reply = crate::http::get(s.client(), &path, crate::http::ACCEPT_JSON).await?;
            Some(serde_json::from_slice::<Value>(&reply.body).map_err(|e| CmdError::msg(e.to_string()))?)
        }
        _ => None,
    };
    let phase = pod["status"]["phase"].as_str().unwrap_or_default();
    if phase != "Running" {
        return Err(CmdError::msg(format!(
            "unable to forward port because pod is not running. Current status={phase}"
        )));
    }
    let name = pod["metadata"]["name"].as_str().unwrap_or_default().to_string();
    let api: kube::Api<Pod> = kube::Api::namespaced(s.client().clone(), &ns);
    let mut tasks = Vec::new();
    for spec in &specs {
        let (remote, default_local) = match &service {
            Some(svc) => service_target(svc, &pod, &spec.remote)?,
            None => {
                let p = remote_port(&pod, &spec.remote)?;
                (p, p)
            }
        };
        let mut local = spec.local.unwrap_or(default_local);
        let mut bound = 0;
        for ip in &ips {
            let listener = match tokio::net::TcpListener::bind((*ip, local)).await {
                Ok(l) => l,
                // Like upstream, an address that cannot be bound (no IPv6) is skipped.
                Err(_) => continue,
            };
            local = listener.local_addr().map(|a| a.port()).unwrap_or(local);
            bound += 1;
            println!("Forwarding from {} -> {remote}", show(*ip, local));
            let _ = std::io::stdout().flush();
            tasks.push(tokio::spawn(serve(listener, api.clone(), name.clone(), local, remote)));
        }
        if bound == 0 {
            return Err(CmdError::msg(format!(
                "unable to listen on any of the requested ports: [{{{local} {remote}}}]"
            )));
        }
    }
    for t in tasks {
        let _ = t.await;
    }
    Ok(0)
}

/// Accepts connections on one listener and relays each over its own stream.
async fn serve(listener: tokio::net::TcpListener, api: kube::Api<Pod>, pod: String, local: u16, remote: u16) {
    while let Ok((mut tcp, _)) = listener.accept().await {
        println!("Handling connection for {local}");
        let _ = std::io::stdout().flush();
        let (api, pod) = (api.clone(), pod.clone());
        tokio::spawn(async move {
            let mut forwarder = match api.portforward(&pod, &[remote]).await {
                Ok(f) => f,
                Err(e) => {
                    eprintln!(
                        "E0000 portforward: an error occurred forwarding {local} -> {remote}: {}",
                        CmdError::from_kube(e)
                    );
                    return;
                }
            };
            let errors = forwarder.take_error(remote);
            if let Some(mut stream) = forwarder.take_stream(remote) {
                let _ = tokio::io::copy_bidirectional(&mut tcp, &mut stream).await;
            }
            if let Some(errors) = errors
                && let Some(Some(msg)) = futures::FutureExt::now_or_never(errors)
            {
                eprintln!("E0000 portforward: an error occurred forwarding {local} -> {remote}: {msg}");
            }
            forwarder.abort();
        });
    }
}
