//! Security hardening (issue 15) that has no better home: sessions that end with the password
//! they were made with, response headers, and the limits on what each key may do.

use reqwest::Method;

use crate::helpers::*;

/// A hub on the shared database `url` whose operator password hash is `password_hash`.
async fn replica(url: &str, password_hash: String) -> TestHub {
    let url = url.to_string();
    spawn_hub_with(Options {
        password: false,
        tweak: Some(Box::new(move |raw| {
            raw.database.url = url.into();
            raw.security.encryption_key = SHARED_ENCRYPTION_KEY.to_string().into();
            raw.auth.password_hash = password_hash;
        })),
    })
    .await
}

#[tokio::test]
async fn a_new_password_hash_ends_the_sessions_made_with_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _) = fresh_database_url(dir.path()).await;
    let old_hash = bcrypt::hash(PASSWORD, 4).unwrap();
    let mut old = replica(&url, old_hash.clone()).await;
    old.login().await;
    old.get_json("/api/v1/configs", 200).await;
    // The same cookie at a replica with the same password works (sessions are shared)...
    let mut same = replica(&url, old_hash).await;
    let with_cookie = |hub: &TestHub| old.client.get(hub.url("/api/v1/configs")).send();
    assert_eq!(with_cookie(&same).await.unwrap().status(), 200);
    // ...and at one whose operator password was changed, it does not.
    let mut changed = replica(&url, bcrypt::hash("a brand new operator password", 4).unwrap()).await;
    let refused = with_cookie(&changed).await.unwrap();
    assert_eq!(refused.status(), 401);
    let csrf = old.csrf.clone().unwrap();
    let write = old.client.request(Method::DELETE, changed.url("/api/v1/configs/kovacs")).header("x-csrf-token", csrf);
    assert_eq!(write.send().await.unwrap().status(), 401);
    for hub in [&mut old, &mut same, &mut changed] {
        hub.stop().await;
    }
}
