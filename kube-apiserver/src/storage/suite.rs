//! The storage test suite every backend must pass, and a throwaway etcd for running it.

use super::{Backend, EventKind, StorageError};
use futures::StreamExt;
use std::time::Duration;

/// The next change, skipping progress notifications.
async fn next_event(stream: &mut super::WatchStream) -> super::Result<super::Event> {
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .expect("watch event within 5s")
            .expect("watch stream open");
        if !matches!(&ev, Ok(e) if e.kind == EventKind::Progress) {
            return ev;
        }
    }
}

pub async fn run(store: &dyn Backend, p: &str) {
    let key = |n: &str| format!("{p}/pods/ns1/{n}");

    // create, and create again
    let a = store.create(key("a"), b"A1".to_vec()).await.unwrap();
    assert_eq!(a.create_revision, a.mod_revision);
    assert!(matches!(
        store.create(key("a"), b"x".to_vec()).await,
        Err(StorageError::AlreadyExists(_))
    ));

    // get
    let got = store.get(&key("a")).await.unwrap().unwrap();
    assert_eq!((got.value.as_slice(), got.mod_revision), (&b"A1"[..], a.mod_revision));
    assert!(store.get(&key("missing")).await.unwrap().is_none());

    // compare-and-swap update
    let a2 = store.update(key("a"), b"A2".to_vec(), a.mod_revision).await.unwrap();
    assert!(a2.mod_revision > a.mod_revision);
    assert_eq!(a2.create_revision, a.create_revision);
    match store.update(key("a"), b"stale".to_vec(), a.mod_revision).await {
        Err(StorageError::Conflict { expected, actual, .. }) => {
            assert_eq!((expected, actual), (a.mod_revision, a2.mod_revision))
        }
        other => panic!("stale update: {other:?}"),
    }
    assert!(matches!(
        store.update(key("nope"), b"x".to_vec(), 1).await,
        Err(StorageError::NotFound(_))
    ));
    assert_eq!(store.get(&key("a")).await.unwrap().unwrap().value, b"A2");

    // list with prefix, paging
    store.create(key("b"), b"B".to_vec()).await.unwrap();
    let c = store.create(key("c"), b"C".to_vec()).await.unwrap();
    store.create(format!("{p}/pods/ns2/z"), b"Z".to_vec()).await.unwrap();
    let all = store.list(&format!("{p}/pods/ns1/"), "", 0, 0).await.unwrap();
    let names: Vec<_> = all
        .items
        .iter()
        .map(|kv| kv.key.rsplit('/').next().unwrap().to_string())
        .collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(all.remaining, 0);
    let page = store.list(&format!("{p}/pods/"), "", 0, 2).await.unwrap();
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.remaining, 2);
    let next_start = format!("{}\0", page.items[1].key);
    let page2 = store
        .list(&format!("{p}/pods/"), &next_start, page.revision, 2)
        .await
        .unwrap();
    assert_eq!(
        page2.items.iter().map(|kv| kv.value.clone()).collect::<Vec<_>>(),
        vec![b"C".to_vec(), b"Z".to_vec()]
    );
    assert_eq!(page2.remaining, 0);

    // a past revision shows the past
    let past = store
        .list(&format!("{p}/pods/ns1/"), "", a.mod_revision, 0)
        .await
        .unwrap();
    assert_eq!(past.items.len(), 1);
    assert_eq!(past.items[0].value, b"A1");

    // delete with and without precondition
    assert!(matches!(
        store.delete(key("b"), Some(1)).await,
        Err(StorageError::Conflict { .. })
    ));
    let deleted = store.delete(key("b"), None).await.unwrap();
    assert_eq!(deleted.value, b"B");
    assert!(deleted.mod_revision > c.mod_revision);
    assert!(matches!(
        store.delete(key("b"), None).await,
        Err(StorageError::NotFound(_))
    ));

    // watch from a revision sees what came after it, in order, then live changes
    let mut w = store.watch(format!("{p}/pods/ns1/"), a.mod_revision).await.unwrap();
    let e1 = next_event(&mut w).await.unwrap();
    assert_eq!((e1.kind, e1.kv.value.as_slice()), (EventKind::Put, &b"A2"[..]));
    let e2 = next_event(&mut w).await.unwrap();
    assert_eq!(e2.kv.key, key("b"));
    let e3 = next_event(&mut w).await.unwrap();
    assert_eq!(e3.kv.key, key("c"));
    let e4 = next_event(&mut w).await.unwrap();
    assert_eq!((e4.kind, e4.kv.value.as_slice()), (EventKind::Delete, &b"B"[..]));
    let live = store.create(key("d"), b"D".to_vec()).await.unwrap();
    store.create(format!("{p}/other/x"), b"no".to_vec()).await.unwrap();
    let e5 = next_event(&mut w).await.unwrap();
    assert_eq!(
        (e5.kv.key.as_str(), e5.kv.mod_revision),
        (key("d").as_str(), live.mod_revision)
    );

    // compaction: old revisions are gone for reads and watches, the present stays
    let now = store.current_revision().await.unwrap();
    assert!(now >= live.mod_revision);
    store.compact(now).await.unwrap();
    match store.list(&format!("{p}/pods/ns1/"), "", a.mod_revision, 0).await {
        Err(StorageError::Compacted { .. }) => {}
        other => panic!("list at compacted revision: {other:?}"),
    }
    let watched = store.watch(format!("{p}/pods/"), a.mod_revision).await;
    let compacted = match watched {
        Err(e) => Err(e),
        Ok(mut s) => next_event(&mut s).await,
    };
    assert!(
        matches!(compacted, Err(StorageError::Compacted { .. })),
        "watch at compacted revision: {compacted:?}"
    );
    let after = store.list(&format!("{p}/pods/ns1/"), "", 0, 0).await.unwrap();
    assert_eq!(after.items.len(), 3);
    assert_eq!(store.get(&key("a")).await.unwrap().unwrap().value, b"A2");
}

/// An etcd server on free ports in a temporary directory, killed on drop.
pub struct TestEtcd {
    pub endpoint: String,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl Drop for TestEtcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub async fn start_etcd() -> TestEtcd {
    let dir = tempfile::tempdir().unwrap();
    let (client, peer) = (free_port(), free_port());
    let endpoint = format!("127.0.0.1:{client}");
    let child = std::process::Command::new("etcd")
        .args(["--data-dir", &dir.path().join("etcd").to_string_lossy()])
        .args(["--listen-client-urls", &format!("http://{endpoint}")])
        .args(["--advertise-client-urls", &format!("http://{endpoint}")])
        .args(["--listen-peer-urls", &format!("http://127.0.0.1:{peer}")])
        .args(["--initial-advertise-peer-urls", &format!("http://127.0.0.1:{peer}")])
        .args(["--initial-cluster", &format!("default=http://127.0.0.1:{peer}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("etcd binary (installed by deploy/install.sh)");
    let etcd = TestEtcd {
        endpoint,
        child,
        _dir: dir,
    };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(&etcd.endpoint).await.is_ok() {
            return etcd;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("etcd did not start");
}
