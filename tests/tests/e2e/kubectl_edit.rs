//! `kubectl edit` with scripted editors (`KUBE_EDITOR="sh script"`, the script changing the
//! file with sed and keeping a copy of every file it was given): a successful edit, an
//! unchanged file, an invalid edit reopened with the server's causes in the header and fixed
//! on the second pass, an invalid edit saved unchanged (stopped, the file kept), an immutable
//! field, a renamed object, `--output-patch` and `-o json`; then the same editors with
//! upstream kubectl 1.33, whose output (and the files its editor saw) must match ours.

use e2e::{ApiServer, binary, kubectl_path};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const STATE: &str = "apiVersion: v1
kind: Namespace
metadata: {name: demo}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: demo}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: main, image: nginx:1.27}]}
";

/// The editors: each keeps a copy of the file it got (`seen.<n>` in its directory), then edits.
const EDITORS: &[(&str, &str)] = &[
    ("replicas3", "sed -i 's/^  replicas: [0-9]*$/  replicas: 3/' \"$1\""),
    ("nothing", "true"),
    (
        "fix-on-retry",
        "if grep -q 'was not valid' \"$1\"; then sed -i 's/^  replicas: -1$/  replicas: 4/' \"$1\"; else sed -i 's/^  replicas: [0-9]*$/  replicas: -1/' \"$1\"; fi",
    ),
    (
        "always-invalid",
        "sed -i 's/^  replicas: [0-9]*$/  replicas: -1/' \"$1\"",
    ),
    ("selector", "sed -i 's/^      app: web$/      app: other/' \"$1\""),
    ("rename", "sed -i 's/^  name: web$/  name: web2/' \"$1\""),
    (
        "json-replicas5",
        "sed -i 's/\"replicas\": [0-9]*/\"replicas\": 5/' \"$1\"",
    ),
];

struct Run {
    stdout: String,
    stderr: String,
    code: i32,
    /// The files the editor was given, in order.
    seen: Vec<String>,
    /// The files left in the temporary directory afterwards.
    left: Vec<String>,
}

/// Writes the editor scripts under `dir` and returns the KUBE_EDITOR value for `name`.
fn editor(dir: &Path, name: &str) -> String {
    let script = EDITORS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| *s)
        .expect("known editor");
    let path = dir.join(format!("{name}.sh"));
    let text = format!(
        "n=$(ls \"$(dirname \"$0\")\"/seen.* 2>/dev/null | wc -l)\ncp \"$1\" \"$(dirname \"$0\")/seen.$n\"\n{script}\n"
    );
    std::fs::write(&path, text).expect("editor script");
    format!("sh {}", path.display())
}

/// Runs `exe edit …` with the editor `name`, in fresh editor and temporary directories.
fn edit(server: &ApiServer, exe: &Path, side: &str, name: &str, args: &[&str]) -> Run {
    let base: PathBuf = server.dir.path().join(format!("edit-{side}-{name}-{}", args.len()));
    let _ = std::fs::remove_dir_all(&base);
    let (eds, tmp) = (base.join("editor"), base.join("tmp"));
    std::fs::create_dir_all(&eds).expect("editor dir");
    std::fs::create_dir_all(&tmp).expect("tmp dir");
    let out = Command::new(exe)
        .arg("edit")
        .args(args)
        .env("KUBECONFIG", &server.kubeconfig)
        .env("KUBECACHEDIR", server.dir.path().join("cache"))
        .env("HOME", server.dir.path())
        .env("KUBE_EDITOR", editor(&eds, name))
        .env("TMPDIR", &tmp)
        .stdin(Stdio::null())
        .output()
        .expect("kubectl runs");
    let mut seen = Vec::new();
    while let Ok(text) = std::fs::read_to_string(eds.join(format!("seen.{}", seen.len()))) {
        seen.push(text);
    }
    let mut left: Vec<String> = std::fs::read_dir(&tmp)
        .expect("tmp dir")
        .filter_map(|e| e.ok().map(|e| e.path().display().to_string()))
        .collect();
    left.sort();
    Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code().unwrap_or(-1),
        seen,
        left,
    }
}

/// Masks what differs between two runs: temporary file names (upstream's start with its
/// binary's name, `kubectl.1.33`), and the object's resourceVersion and generation.
fn mask(text: &str) -> String {
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        let mut l = line.replace("kubectl.1.33", "kubectl");
        while let Some(i) = l.find("-edit-") {
            let start = i + "-edit-".len();
            let end = l[start..]
                .find(|c: char| !c.is_ascii_digit())
                .map_or(l.len(), |e| start + e);
            let dir = l[..i].rfind(['"', ' ', '`']).map_or(0, |d| d + 1);
            l.replace_range(dir..end, "TMP");
        }
        for key in [
            "resourceVersion: ",
            "generation: ",
            "\"resourceVersion\": ",
            "\"generation\": ",
        ] {
            if let Some(i) = l.find(key) {
                l.truncate(i + key.len());
                l.push_str("X\n");
            }
        }
        out.push_str(&l);
    }
    out
}

fn replicas(server: &ApiServer) -> String {
    server.jsonpath(&["deploy", "web", "-n", "demo"], "{.spec.replicas}")
}

const HEADER: &str = "# Please edit the object below. Lines beginning with a '#' will be ignored,
# and an empty file will abort the edit. If an error occurs while saving this file will be
# reopened with the relevant failures.
#
";

#[test]
fn kubectl_edit() {
    let server = ApiServer::start_rbac();
    let state = server.file("state.yaml", STATE);
    server.ok(&["apply", "-f", &state]);
    let ours = binary("kubectl");
    let reset = || {
        server.ok(&["scale", "deploy/web", "-n", "demo", "--replicas=1"]);
    };
    let web = ["deploy/web", "-n", "demo"];

    // A successful edit: the file has the header and the object without managedFields.
    reset();
    let r = edit(&server, &ours, "o", "replicas3", &web);
    assert_eq!(
        (r.stdout.as_str(), r.stderr.as_str(), r.code),
        ("deployment.apps/web edited\n", "", 0)
    );
    assert!(
        r.seen[0].starts_with(&format!("{HEADER}apiVersion: apps/v1\nkind: Deployment\n")),
        "{}",
        r.seen[0]
    );
    assert!(r.seen[0].contains("\n  replicas: 1\n") && !r.seen[0].contains("managedFields"));
    assert!(r.left.is_empty(), "the file is removed: {:?}", r.left);
    assert_eq!(replicas(&server), "3");

    // Nothing changed.
    let r = edit(&server, &ours, "o", "nothing", &web);
    assert_eq!(
        (r.stdout.as_str(), r.stderr.as_str(), r.code),
        ("", "Edit cancelled, no changes made.\n", 0)
    );
    assert!(r.left.is_empty());

    // An invalid value: reopened with the server's cause, fixed on the second pass.
    reset();
    let r = edit(&server, &ours, "o", "fix-on-retry", &web);
    assert_eq!(r.stderr, "error: deployments.apps \"web\" is invalid\n");
    assert_eq!((r.stdout.as_str(), r.code), ("deployment.apps/web edited\n", 0));
    assert_eq!(r.seen.len(), 2);
    let reopened = format!(
        "{HEADER}# deployments.apps \"web\" was not valid:\n# * spec.replicas: Invalid value: -1: must be greater than or equal to 0\n#\napiVersion: apps/v1\n"
    );
    assert!(r.seen[1].starts_with(&reopened), "{}", r.seen[1]);
    assert!(r.seen[1].contains("\n  replicas: -1\n"), "the edit is kept");
    assert_eq!(replicas(&server), "4");

    // The invalid file saved again unchanged: stopped, the file kept.
    reset();
    let r = edit(&server, &ours, "o", "always-invalid", &web);
    assert_eq!(r.code, 1);
    // Both passes' files stay, as upstream leaves them; the message names the second.
    assert_eq!(r.left.len(), 2, "{:?}", r.left);
    let copy = r.stderr.split('"').nth(3).unwrap_or_default().to_string();
    assert!(r.left.contains(&copy), "{copy} in {:?}", r.left);
    assert_eq!(
        r.stderr,
        format!(
            "error: deployments.apps \"web\" is invalid\nA copy of your changes has been stored to \"{copy}\"\nerror: Edit cancelled, no valid changes were saved.\n"
        )
    );
    let kept = std::fs::read_to_string(&copy).expect("kept copy");
    assert!(
        kept.starts_with(&reopened) && kept.contains("\n  replicas: -1\n"),
        "{kept}"
    );
    assert_eq!(replicas(&server), "1");

    // A renamed object is refused before anything is sent.
    let r = edit(&server, &ours, "o", "rename", &web);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .ends_with("\nerror: At least one of apiVersion, kind and name was changed\n"),
        "{}",
        r.stderr
    );

    // The patch, and JSON.
    let r = edit(
        &server,
        &ours,
        "o",
        "replicas3",
        &["deploy/web", "-n", "demo", "--output-patch"],
    );
    assert_eq!(
        r.stdout,
        "Patch: {\"spec\":{\"replicas\":3}}\ndeployment.apps/web edited\n"
    );
    let r = edit(
        &server,
        &ours,
        "o",
        "json-replicas5",
        &["deploy/web", "-n", "demo", "-o", "json"],
    );
    assert!(
        r.seen[0].starts_with("{\n    \"apiVersion\": \"apps/v1\",\n"),
        "{}",
        r.seen[0]
    );
    assert!(r.stdout.contains("\"replicas\": 5"), "{}", r.stdout);
    assert_eq!(replicas(&server), "5");

    // Parity: the same editors with upstream kubectl 1.33, from the same state.
    let upstream = kubectl_path(33);
    let cases: &[(&str, &[&str])] = &[
        ("replicas3", &web),
        ("nothing", &web),
        ("fix-on-retry", &web),
        ("always-invalid", &web),
        ("selector", &web),
        ("rename", &web),
        ("replicas3", &["deploy", "web", "-n", "demo", "--output-patch"]),
        (
            "json-replicas5",
            &["deploy/web", "-n", "demo", "-o", "json", "--output-patch"],
        ),
        ("replicas3", &["deploy/web", "-n", "demo", "-o", "yaml"]),
        ("nothing", &["deploy/nope", "-n", "demo"]),
        ("nothing", &["deploy/web", "-n", "demo", "-o", "name"]),
    ];
    let mut matched = 0;
    let mut failures = Vec::new();
    for (name, args) in cases {
        reset();
        let u = edit(&server, &upstream, "u", name, args);
        reset();
        let o = edit(&server, &ours, "o", name, args);
        let same = mask(&u.stdout) == mask(&o.stdout)
            && mask(&u.stderr) == mask(&o.stderr)
            && u.code == o.code
            && u.seen.iter().map(|s| mask(s)).eq(o.seen.iter().map(|s| mask(s)))
            && u.left.len() == o.left.len();
        if same {
            matched += 1;
        } else {
            failures.push(format!(
                "edit {} with {name}\n--- upstream (exit {}):\n{}{}{}--- ours (exit {}):\n{}{}{}",
                args.join(" "),
                u.code,
                u.stdout,
                u.stderr,
                u.seen.join("=== next pass ===\n"),
                o.code,
                o.stdout,
                o.stderr,
                o.seen.join("=== next pass ===\n"),
            ));
        }
    }
    println!("kubectl parity (edit): {matched}/{} editor runs match", cases.len());
    assert!(failures.is_empty(), "edits that differ:\n{}", failures.join("\n"));
}
