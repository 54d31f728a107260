//! Shell completion of our kubectl: the `__complete` protocol compared with upstream kubectl
//! 1.33's answers for the same command lines (resource types, names from the server, flag
//! values, subcommands), our bash script driven as bash drives it and upstream's cobra
//! scripts driven against our binary (when bash-completion is installed), fish's
//! `complete -C` (when fish is installed), zsh's parser (when zsh is installed), and
//! `completion`'s usage errors.

use crate::kubectl_parity::{check_rows, row};
use e2e::{ApiServer, Store, binary, kubectl_path};
use std::path::{Path, PathBuf};
use std::process::Command;

const PROTOCOL: &[&str] = &[
    "__complete get po",
    "__complete get pods ''",
    "__complete get pods p",
    "__complete get pods p1 ''",
    "__complete get po/",
    "__complete get pods/p",
    "__complete get pods,svc ''",
    "__complete get pods,s",
    "__complete -n other get pods ''",
    "__complete get pods -n other ''",
    "__complete get pods --namespace=ot",
    "__complete get pods -n ''",
    "__complete get -o ''",
    "__complete get --output=j",
    "__complete get pods --help ''",
    "__complete get pods -- ''",
    "__complete describe ''",
    "__complete delete pod ''",
    "__complete ge",
    "__complete config use-context ''",
    "__complete --context ''",
    "__complete rollout ''",
    "__complete rollout status ''",
    "__complete scale ''",
    "__complete scale --",
    "__complete taint ''",
    "__complete top ''",
    "__complete top pod ''",
    "__complete set image ''",
    "__complete apply -f ''",
    "__complete explain ''",
    "__complete foo ''",
    "__completeNoDesc ge",
    "completion",
    "completion foo",
    "completion bash zsh",
];

/// A directory holding `kubectl` → `exe`, for scripts that call `kubectl`.
fn bin_dir(dir: &Path, name: &str, exe: &Path) -> PathBuf {
    let bin = dir.join(name);
    std::fs::create_dir_all(&bin).expect("bin dir");
    let link = bin.join("kubectl");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(exe, &link).expect("symlink");
    bin
}

fn shell(server: &ApiServer, bin: &Path, program: &str, args: &[&str]) -> std::process::Output {
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    Command::new(program)
        .args(args)
        .env("PATH", path)
        .env("KUBECONFIG", &server.kubeconfig)
        .env("KUBECACHEDIR", server.dir.path().join("cache"))
        .env("HOME", server.dir.path())
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"))
}

fn has(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Our bash script: what bash would offer for the line (the cursor at its end).
const BASH_OURS: &str = r#"source <(kubectl completion bash)
COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}
__kubectl_complete
printf '%s\n' "${COMPREPLY[@]}""#;

/// Upstream's cobra script (it needs bash-completion), with our binary as `kubectl`.
const BASH_UPSTREAM: &str = r#"source /usr/share/bash-completion/bash_completion
source <("$2" completion bash)
COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}
read -r -a COMP_WORDS <<< "$COMP_LINE"
[[ $COMP_LINE == *' ' ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
__start_kubectl kubectl
printf '%s\n' "${COMPREPLY[@]}""#;

#[test]
fn kubectl_completion() {
    let server = ApiServer::start(Store::Embedded);
    server.ok(&["create", "namespace", "other"]);
    for (name, ns) in [("p1", "default"), ("p2", "default"), ("q1", "other")] {
        server.ok(&["run", name, "--image=nginx", "-n", ns]);
    }
    // Upstream's answers are the spec for the protocol (commands we lack aside).
    let rows: Vec<_> = PROTOCOL.iter().map(|l| row(l)).collect();
    check_rows(&server, "completion", &rows);
    // Upstream lists the shells in Go map order, which changes from run to run: same set.
    let shells = |exe: &Path| {
        let out = Command::new(exe)
            .args(["__complete", "completion", ""])
            .env("KUBECONFIG", &server.kubeconfig)
            .env("HOME", server.dir.path())
            .output()
            .expect("kubectl runs");
        let mut l: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        l.sort();
        l
    };
    assert_eq!(shells(&binary("kubectl")), shells(&kubectl_path(33)));

    let dir = server.dir.path();
    let ours = bin_dir(dir, "bin-ours", &binary("kubectl"));
    let lines = |v: &[u8]| -> Vec<String> { String::from_utf8_lossy(v).lines().map(str::to_string).collect() };

    let bash = |line: &str| lines(&shell(&server, &ours, "bash", &["-c", BASH_OURS, "_", line]).stdout);
    assert_eq!(
        bash("kubectl get po"),
        ["pods", "podtemplates", "poddisruptionbudgets.policy"]
    );
    assert_eq!(bash("kubectl get pods "), ["p1", "p2"]);
    assert_eq!(bash("kubectl get pods p1 "), ["p2"]);
    assert_eq!(bash("kubectl -n other get pods "), ["q1"]);
    assert_eq!(bash("kubectl get po/"), ["po/p1", "po/p2"]);
    assert_eq!(
        bash("kubectl get --output=jsonpath-"),
        ["jsonpath-as-json", "jsonpath-file"]
    );
    assert_eq!(bash("kubectl ge"), ["get"]);
    assert_eq!(bash("kubectl completion z"), ["zsh"]);

    if Path::new("/usr/share/bash-completion/bash_completion").exists() {
        let upstream = kubectl_path(33).display().to_string();
        let bash =
            |line: &str| lines(&shell(&server, &ours, "bash", &["-c", BASH_UPSTREAM, "_", line, &upstream]).stdout);
        assert_eq!(bash("kubectl get pods "), ["p1", "p2"]);
        assert_eq!(
            bash("kubectl get po"),
            ["pods", "podtemplates", "poddisruptionbudgets.policy"]
        );
        assert_eq!(bash("kubectl -n other get pods "), ["q1"]);
    }

    let script = |sh: &str| lines(&shell(&server, &ours, "kubectl", &["completion", sh]).stdout).join("\n");
    let zsh = script("zsh");
    assert!(zsh.starts_with("#compdef kubectl\ncompdef _kubectl kubectl\n"));
    assert!(zsh.contains("__complete"));
    if has("zsh") {
        let file = server.file("kubectl.zsh", &zsh);
        let out = shell(&server, &ours, "zsh", &["-n", &file]);
        assert!(out.status.success(), "zsh -n: {}", String::from_utf8_lossy(&out.stderr));
    }
    let fish = script("fish");
    assert!(fish.contains("complete -c kubectl -f -a '(__kubectl_complete)'"));
    assert!(fish.contains("__complete"));
    if has("fish") {
        let file = server.file("kubectl.fish", &fish);
        let out = shell(&server, &ours, "fish", &["--no-execute", &file]);
        assert!(
            out.status.success(),
            "fish -n: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let fish = |line: &str| {
            let cmd = format!("source {file}; complete -C '{line}'");
            lines(&shell(&server, &ours, "fish", &["-c", &cmd]).stdout)
        };
        assert_eq!(fish("kubectl get pods "), ["p1", "p2"]);
        assert_eq!(fish("kubectl get --output=yam"), ["--output=yaml"]);
        assert_eq!(fish("kubectl ge"), ["get\tDisplay one or many resources"]);
    }
    let ps = script("powershell");
    assert!(ps.contains("Register-ArgumentCompleter -CommandName 'kubectl'"));
}
