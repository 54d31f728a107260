//! kube-rs against the server: reflector sync, paging, 409 on a stale update, and 410 on a
//! watch from a revision the server no longer has, from which the watcher recovers.

use e2e::{ApiServer, Store};
use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, PostParams, WatchEvent, WatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use std::time::Duration;

async fn client(s: &ApiServer) -> kube::Client {
    let kc = Kubeconfig::read_from(&s.kubeconfig).expect("kubeconfig");
    let cfg = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .expect("config");
    kube::Client::try_from(cfg).expect("client")
}

fn cm(name: &str) -> ConfigMap {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": name, "labels": {"suite": "kube-rs"}},
        "data": {"n": name},
    }))
    .expect("configmap")
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..200 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_client() {
    let mut s = ApiServer::start(Store::Embedded);
    let c = client(&s).await;
    let api: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    for i in 0..25 {
        api.create(&PostParams::default(), &cm(&format!("c{i:02}")))
            .await
            .expect("create");
    }

    // Paging with limit/continue.
    let mut lp = ListParams::default().labels("suite=kube-rs").limit(10);
    let mut pages = Vec::new();
    loop {
        let page = api.list(&lp).await.expect("list page");
        pages.push(page.items.len());
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => lp = lp.continue_token(&token),
            None => break,
        }
    }
    assert_eq!(pages, [10, 10, 5]);

    // A stale update gets 409 Conflict.
    let mut first = api.get("c00").await.expect("get");
    let mut second = first.clone();
    first.data.get_or_insert_default().insert("who".into(), "first".into());
    api.replace("c00", &PostParams::default(), &first)
        .await
        .expect("first replace");
    second
        .data
        .get_or_insert_default()
        .insert("who".into(), "second".into());
    match api.replace("c00", &PostParams::default(), &second).await {
        Err(kube::Error::Api(e)) => {
            assert_eq!((e.code, e.reason.as_str()), (409, "Conflict"));
            assert!(e.message.contains("the object has been modified"), "{}", e.message);
        }
        other => panic!("stale replace: {other:?}"),
    }

    // A reflector syncs and follows changes.
    let (reader, writer) = reflector::store::<ConfigMap>();
    let stream = watcher(api.clone(), watcher::Config::default().labels("suite=kube-rs"))
        .default_backoff()
        .reflect(writer)
        .applied_objects();
    let driver = tokio::spawn(stream.for_each(|_| async {}));
    eventually("reflector sync", || reader.state().len() == 25).await;
    api.create(&PostParams::default(), &cm("late"))
        .await
        .expect("create late");
    eventually("reflector sees a new object", || reader.state().len() == 26).await;

    // A resourceVersion from before a restart is older than the new watch cache: 410.
    let old_rv = api
        .get("c00")
        .await
        .expect("get")
        .metadata
        .resource_version
        .expect("rv");
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(c.clone(), "default");
    secrets
        .create(
            &PostParams::default(),
            &serde_json::from_value(serde_json::json!({"metadata": {"name": "bump"}})).expect("secret"),
        )
        .await
        .expect("create secret");
    s.kill9();
    s.spawn();
    let c2 = client(&s).await;
    let api2: Api<ConfigMap> = Api::namespaced(c2, "default");
    let mut w = api2
        .watch(&WatchParams::default(), &old_rv)
        .await
        .expect("watch")
        .boxed();
    match tokio::time::timeout(Duration::from_secs(10), w.next())
        .await
        .expect("a watch event")
    {
        Some(Ok(WatchEvent::Error(e))) => assert_eq!(e.code, 410, "{e:?}"),
        other => panic!("expected a 410 ERROR event, got {other:?}"),
    }

    // The reflector from before the restart recovers (re-lists) and sees new objects.
    api2.create(&PostParams::default(), &cm("after"))
        .await
        .expect("create after restart");
    eventually("reflector recovers after restart", || {
        reader
            .state()
            .iter()
            .any(|o| o.metadata.name.as_deref() == Some("after"))
    })
    .await;
    driver.abort();
}
