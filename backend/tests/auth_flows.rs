//! Sign-in end to end on both databases: magic links received over real SMTP and clicked,
//! GitHub against a local stand-in (forged state, replayed code, unverified email), the
//! device flow (too fast, expired, denied, approved), sessions (refresh rotation, reuse,
//! logout), tampered tokens, memberships and CSRF.

mod auth_support;
mod common;

use auth_support::{AuthServer, GithubAccount, bearer, cookie_header, set_cookies};
use axum::http::{Method, StatusCode};
use serde_json::json;

async fn a_mailed_link_signs_in_once_and_only_within_its_lifetime(server: AuthServer) {
    let link = server.mailed_link("ada@example.com").await;
    assert!(link.starts_with(&format!("{}/auth/magic?token=", auth_support::PUBLIC_URL)));
    let path_and_query = link.trim_start_matches(auth_support::PUBLIC_URL);
    let token = link.split("token=").nth(1).unwrap().to_owned();

    // Opening the link only shows a button (mail scanners do not burn it).
    let opened = server.call(Method::GET, path_and_query, &[], None).await;
    assert_eq!(opened.status, StatusCode::OK);
    assert!(opened.text.contains(&token) && opened.text.contains("<form method=\"post\""));

    let clicked = server.form("/auth/magic", &[], &[("token", &token)]).await;
    assert_eq!(clicked.status, StatusCode::OK, "{}", clicked.text);
    let cookies = set_cookies(&clicked);
    let session = cookies.iter().find(|(name, ..)| name == "vv_session").expect("a session");
    assert!(session.2.contains("HttpOnly") && session.2.contains("SameSite=Lax"));
    // The public URL is http://127.0.0.1: no Secure flag, or the browser would drop it.
    assert!(!session.2.contains("Secure"), "{}", session.2);
    let csrf = cookies.iter().find(|(name, ..)| name == "vv_csrf").expect("a CSRF cookie");
    assert!(!csrf.2.contains("HttpOnly"));
    let me = server
        .call(Method::GET, "/v1/auth/me", &[("cookie", &cookie_header(&clicked))], None)
        .await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(me.json["user"]["email"], "ada@example.com");

    // Reused: refused on the page and on the JSON endpoint, with one message for every cause.
    let again = server.form("/auth/magic", &[], &[("token", &token)]).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    let json_again = server
        .call(Method::POST, "/v1/auth/magic-link/verify", &[], Some(json!({ "token": token })))
        .await;
    assert_eq!(json_again.status, StatusCode::UNAUTHORIZED);

    // Expired: a fresh link whose time has passed.
    let expired_link = server.mailed_link("ada@example.com").await;
    let expired_token = expired_link.split("token=").nth(1).unwrap();
    sqlx::query("UPDATE magic_links SET expires_at = 1 WHERE used_at IS NULL")
        .execute(server.state.store().pool())
        .await
        .unwrap();
    let late = server
        .call(
            Method::POST,
            "/v1/auth/magic-link/verify",
            &[],
            Some(json!({ "token": expired_token })),
        )
        .await;
    assert_eq!(late.status, StatusCode::UNAUTHORIZED);
    assert_eq!(late.json["error"]["message"], json_again.json["error"]["message"]);

    // Only hashes are stored.
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM magic_links WHERE token_hash = $1")
        .bind(&token)
        .fetch_one(server.state.store().pool())
        .await
        .unwrap();
    assert_eq!(stored, 0);
}

async fn link_requests_look_the_same_for_known_and_unknown_addresses_and_are_limited(
    server: AuthServer,
) {
    server.sign_in("known@example.com").await;
    let known = server
        .call(
            Method::POST,
            "/v1/auth/magic-link",
            &[],
            Some(json!({ "email": "known@example.com" })),
        )
        .await;
    let unknown = server
        .call(Method::POST, "/v1/auth/magic-link", &[], Some(json!({ "email": "new@example.com" })))
        .await;
    assert_eq!((known.status, &known.text), (unknown.status, &unknown.text));
    let bad = server
        .call(Method::POST, "/v1/auth/magic-link", &[], Some(json!({ "email": "not an address" })))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Five links per address at once, then 429 with Retry-After, while other addresses go on.
    for _ in 0..4 {
        let more = server
            .call(
                Method::POST,
                "/v1/auth/magic-link",
                &[],
                Some(json!({ "email": "new@example.com" })),
            )
            .await;
        assert_eq!(more.status, StatusCode::ACCEPTED);
    }
    let limited = server
        .call(Method::POST, "/v1/auth/magic-link", &[], Some(json!({ "email": "NEW@example.com" })))
        .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS, "{}", limited.text);
    let retry: u64 = limited.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    let other = server
        .call(
            Method::POST,
            "/v1/auth/magic-link",
            &[],
            Some(json!({ "email": "other@example.com" })),
        )
        .await;
    assert_eq!(other.status, StatusCode::ACCEPTED);
}

fn account(id: i64, login: &str, emails: &[(&str, bool, bool)]) -> GithubAccount {
    GithubAccount {
        id,
        login: login.into(),
        emails: emails.iter().map(|(e, p, v)| ((*e).to_owned(), *p, *v)).collect(),
    }
}

/// Starts a GitHub sign-in; returns (authorize URL, the state cookie header).
async fn github_start(server: &AuthServer, next: &str) -> (String, String) {
    let path =
        format!("/v1/auth/github/start?next={}", next.replace('?', "%3F").replace('=', "%3D"));
    let started = server.call(Method::GET, &path, &[], None).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.text);
    let location = started.headers["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&server.github.url()));
    assert!(location.contains("code_challenge_method=S256") && location.contains("state="));
    (location, cookie_header(&started))
}

/// Follows the authorize URL at the stand-in; returns the callback path and query.
async fn github_authorize(server: &AuthServer, authorize_url: &str) -> String {
    let client =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let answer = client.get(authorize_url).send().await.unwrap();
    assert_eq!(answer.status(), reqwest::StatusCode::SEE_OTHER);
    let callback = answer.headers()["location"].to_str().unwrap().to_owned();
    let _ = server;
    callback.trim_start_matches(auth_support::PUBLIC_URL).to_owned()
}

async fn github_checks_state_and_pkce_refuses_replays_and_links_only_verified_emails(
    server: AuthServer,
) {
    let ada = server.sign_in("ada@example.com").await;

    // Verified email: links to Ada's account, and the browser is sent on to `next`.
    server.github.sign_in_as(account(101, "ada-gh", &[("Ada@Example.com", true, true)]));
    let (authorize_url, state_cookie) = github_start(&server, "/device?user_code=BCDF-GHJK").await;
    let callback = github_authorize(&server, &authorize_url).await;
    let signed = server.call(Method::GET, &callback, &[("cookie", &state_cookie)], None).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.text);
    assert_eq!(signed.headers["location"], "/device?user_code=BCDF-GHJK");
    let me =
        server.call(Method::GET, "/v1/auth/me", &[("cookie", &cookie_header(&signed))], None).await;
    assert_eq!(me.json["user"]["id"], ada.user_id.as_str());

    // The same callback again: the state was used up.
    let replayed = server.call(Method::GET, &callback, &[("cookie", &state_cookie)], None).await;
    assert_eq!(replayed.status, StatusCode::BAD_REQUEST);

    // A fresh state with the old code: GitHub refuses the code, so do we.
    let (_, fresh_cookie) = github_start(&server, "/").await;
    let fresh_state = fresh_cookie.split("vv_oauth_state=").nth(1).unwrap().to_owned();
    let old_code = callback.split("code=").nth(1).unwrap().split('&').next().unwrap();
    let replay = format!("/v1/auth/github/callback?code={old_code}&state={fresh_state}");
    let refused = server.call(Method::GET, &replay, &[("cookie", &fresh_cookie)], None).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);

    // A forged state (not issued, or not this browser's) fails before GitHub is asked.
    let (authorize_url, _) = github_start(&server, "/").await;
    let callback = github_authorize(&server, &authorize_url).await;
    let forged_state = "f".repeat(64);
    let forged_cookie = format!("vv_oauth_state={forged_state}");
    let code = callback.split("code=").nth(1).unwrap().split('&').next().unwrap();
    let forged = format!("/v1/auth/github/callback?code={code}&state={forged_state}");
    let refused = server.call(Method::GET, &forged, &[("cookie", &forged_cookie)], None).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let other_browser = server.call(Method::GET, &callback, &[], None).await;
    assert_eq!(other_browser.status, StatusCode::BAD_REQUEST);

    // Unverified email matching Ada: a separate account, never Ada's.
    server.github.sign_in_as(account(202, "Mallory", &[("ada@example.com", true, false)]));
    let (authorize_url, state_cookie) = github_start(&server, "/").await;
    let callback = github_authorize(&server, &authorize_url).await;
    let signed = server.call(Method::GET, &callback, &[("cookie", &state_cookie)], None).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.text);
    let me =
        server.call(Method::GET, "/v1/auth/me", &[("cookie", &cookie_header(&signed))], None).await;
    assert_ne!(me.json["user"]["id"], ada.user_id.as_str());
    assert_eq!(me.json["user"]["email"], "202+mallory@users.noreply.github.com");

    // The same GitHub user later: found by GitHub id, whatever the emails say now.
    server.github.sign_in_as(account(101, "ada-gh", &[("changed@example.com", true, true)]));
    let (authorize_url, state_cookie) = github_start(&server, "/").await;
    let callback = github_authorize(&server, &authorize_url).await;
    let signed = server.call(Method::GET, &callback, &[("cookie", &state_cookie)], None).await;
    let me =
        server.call(Method::GET, "/v1/auth/me", &[("cookie", &cookie_header(&signed))], None).await;
    assert_eq!(me.json["user"]["id"], ada.user_id.as_str());
}

async fn poll(server: &AuthServer, device_code: &str) -> common::Reply {
    server
        .form(
            "/v1/auth/device/token",
            &[],
            &[
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("device_code", device_code),
                ("client_id", "vibariant-cli"),
            ],
        )
        .await
}

async fn forget_last_poll(server: &AuthServer) {
    sqlx::query("UPDATE device_codes SET last_polled_at = 0")
        .execute(server.state.store().pool())
        .await
        .unwrap();
}

/// A browser session for `email`: (cookie header, CSRF token).
async fn browser(server: &AuthServer, email: &str) -> (String, String) {
    let link = server.mailed_link(email).await;
    let token = link.split("token=").nth(1).unwrap().to_owned();
    let clicked = server.form("/auth/magic", &[], &[("token", &token)]).await;
    let csrf = set_cookies(&clicked).into_iter().find(|(n, ..)| n == "vv_csrf").unwrap().1;
    (cookie_header(&clicked), csrf)
}

async fn new_device_code(server: &AuthServer) -> (String, String) {
    let code = server.form("/v1/auth/device/code", &[], &[("client_id", "vibariant-cli")]).await;
    assert_eq!(code.status, StatusCode::OK, "{}", code.text);
    (
        code.json["device_code"].as_str().unwrap().to_owned(),
        code.json["user_code"].as_str().unwrap().to_owned(),
    )
}

async fn the_device_flow_answers_as_rfc_8628_says(server: AuthServer) {
    let code = server.form("/v1/auth/device/code", &[], &[("client_id", "vibariant-cli")]).await;
    assert_eq!(code.status, StatusCode::OK);
    let user_code = code.json["user_code"].as_str().unwrap().to_owned();
    let device_code = code.json["device_code"].as_str().unwrap().to_owned();
    assert_eq!(user_code.len(), 9);
    assert!(user_code.chars().all(|c| c == '-' || "BCDFGHJKLMNPQRSTVWXZ".contains(c)));
    assert_eq!(code.json["verification_uri"], format!("{}/device", auth_support::PUBLIC_URL));
    assert_eq!(code.json["interval"], 5);
    assert_eq!(code.json["expires_in"], 900);

    let pending = poll(&server, &device_code).await;
    assert_eq!(
        (pending.status, pending.json["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("authorization_pending"))
    );
    let too_fast = poll(&server, &device_code).await;
    assert_eq!(too_fast.json["error"], "slow_down");
    let interval: i64 = sqlx::query_scalar("SELECT interval_secs FROM device_codes")
        .fetch_one(server.state.store().pool())
        .await
        .unwrap();
    assert_eq!(interval, 10, "slow_down adds 5 seconds");
    let wrong_grant = server
        .form(
            "/v1/auth/device/token",
            &[],
            &[("grant_type", "password"), ("device_code", &device_code)],
        )
        .await;
    assert_eq!(wrong_grant.json["error"], "unsupported_grant_type");

    // The person opens the page: not signed in, they are offered sign-in coming back here.
    let anonymous =
        server.call(Method::GET, &format!("/device?user_code={user_code}"), &[], None).await;
    assert!(
        anonymous.text.contains("Mail me a link") && anonymous.text.contains("Sign in with GitHub")
    );
    let (cookies, csrf) = browser(&server, "grace@example.com").await;
    let page = server
        .call(Method::GET, &format!("/device?user_code={user_code}"), &[("cookie", &cookies)], None)
        .await;
    assert!(page.text.contains(&csrf) && page.text.contains("Approve"), "{}", page.text);

    // Without the CSRF token the approval is refused.
    let forged = server
        .form(
            "/device",
            &[("cookie", &cookies)],
            &[("user_code", &user_code), ("action", "approve")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let approved = server
        .form(
            "/device",
            &[("cookie", &cookies)],
            &[("csrf", &csrf), ("user_code", &user_code.to_lowercase()), ("action", "approve")],
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);

    forget_last_poll(&server).await;
    let granted = poll(&server, &device_code).await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.text);
    assert_eq!(granted.json["token_type"], "Bearer");
    let access = granted.json["access_token"].as_str().unwrap();
    let me =
        server.call(Method::GET, "/v1/auth/me", &[("authorization", &bearer(access))], None).await;
    assert_eq!(me.json["user"]["email"], "grace@example.com");
    forget_last_poll(&server).await;
    let twice = poll(&server, &device_code).await;
    assert_eq!(twice.json["error"], "invalid_grant", "a device code gives tokens once");

    // Denied.
    let (denied_code, denied_user_code) = new_device_code(&server).await;
    let denied = server
        .form(
            "/device",
            &[("cookie", &cookies)],
            &[("csrf", &csrf), ("user_code", &denied_user_code), ("action", "deny")],
        )
        .await;
    assert_eq!(denied.status, StatusCode::OK);
    assert_eq!(poll(&server, &denied_code).await.json["error"], "access_denied");

    // Expired.
    let (expired_code, expired_user_code) = new_device_code(&server).await;
    sqlx::query("UPDATE device_codes SET expires_at = 1 WHERE user_code = $1")
        .bind(&expired_user_code)
        .execute(server.state.store().pool())
        .await
        .unwrap();
    assert_eq!(poll(&server, &expired_code).await.json["error"], "expired_token");
    let late = server
        .form(
            "/device",
            &[("cookie", &cookies)],
            &[("csrf", &csrf), ("user_code", &expired_user_code), ("action", "approve")],
        )
        .await;
    assert_eq!(late.status, StatusCode::BAD_REQUEST);

    assert_eq!(poll(&server, "not-a-code").await.json["error"], "invalid_grant");
}

async fn dev_mode_completes_the_device_flow_at_once(server: AuthServer) {
    let (device_code, _) = new_device_code(&server).await;
    let granted = poll(&server, &device_code).await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.text);
    let access = granted.json["access_token"].as_str().unwrap();
    let me =
        server.call(Method::GET, "/v1/auth/me", &[("authorization", &bearer(access))], None).await;
    assert_eq!(me.json["user"]["email"], "dev@localhost.localdomain");
    // Dev mode writes links to the log instead of mailing them.
    let asked = server
        .call(Method::POST, "/v1/auth/magic-link", &[], Some(json!({ "email": "ada@example.com" })))
        .await;
    assert_eq!(asked.status, StatusCode::ACCEPTED);
    assert!(server.smtp.quiet_for(std::time::Duration::from_millis(500)).await);
}

async fn refresh_rotates_reuse_revokes_and_logout_ends_the_session(server: AuthServer) {
    let ada = server.sign_in("ada@example.com").await;
    let refresh = |token: &str| {
        server.call(Method::POST, "/v1/auth/refresh", &[], Some(json!({ "refresh_token": token })))
    };
    let rotated = refresh(&ada.refresh).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);
    let new_refresh = rotated.json["refresh_token"].as_str().unwrap().to_owned();
    let new_access = rotated.json["access_token"].as_str().unwrap().to_owned();
    assert_ne!(new_refresh, ada.refresh);
    let me = server
        .call(Method::GET, "/v1/auth/me", &[("authorization", &bearer(&new_access))], None)
        .await;
    assert_eq!(me.status, StatusCode::OK);

    // The old refresh token again: someone copied it. The whole session ends.
    assert_eq!(refresh(&ada.refresh).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refresh(&new_refresh).await.status, StatusCode::UNAUTHORIZED);
    let me = server
        .call(Method::GET, "/v1/auth/me", &[("authorization", &bearer(&new_access))], None)
        .await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);

    // Logout ends a session at once: access and refresh tokens both stop working.
    let grace = server.sign_in("grace@example.com").await;
    let auth = bearer(&grace.access);
    let out = server.call(Method::POST, "/v1/auth/logout", &[("authorization", &auth)], None).await;
    assert_eq!(out.status, StatusCode::OK);
    let me = server.call(Method::GET, "/v1/auth/me", &[("authorization", &auth)], None).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refresh(&grace.refresh).await.status, StatusCode::UNAUTHORIZED);
}

async fn tampered_tokens_are_refused(server: AuthServer) {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use vibariant_backend::auth::jwt;

    let ada = server.sign_in("ada@example.com").await;
    let server = &server;
    let check = |token: String| async move {
        let me = server
            .call(Method::GET, "/v1/auth/me", &[("authorization", &bearer(&token))], None)
            .await;
        me.status
    };
    assert_eq!(check(ada.access.clone()).await, StatusCode::OK);

    let (unsigned, signature) = ada.access.rsplit_once('.').unwrap();
    let mut flipped = signature.as_bytes().to_vec();
    flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
    let altered = format!("{unsigned}.{}", String::from_utf8(flipped).unwrap());
    assert_eq!(check(altered).await, StatusCode::UNAUTHORIZED);

    let payload = unsigned.split('.').nth(1).unwrap();
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    assert_eq!(check(format!("{none_header}.{payload}.")).await, StatusCode::UNAUTHORIZED);

    let now = vibariant_backend::secrets::now_ms() / 1000;
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let sid = claims["sid"].as_str().unwrap();
    let other_secret =
        jwt::issue(b"another secret of at least thirty-two bytes", &ada.user_id, sid, now);
    assert_eq!(check(other_secret).await, StatusCode::UNAUTHORIZED);
    let expired = jwt::issue(auth_support::SECRET.as_bytes(), &ada.user_id, sid, now - 3600);
    assert_eq!(check(expired).await, StatusCode::UNAUTHORIZED);
    // Another user's id under a valid signature and session: the session row disagrees.
    let swapped = jwt::issue(auth_support::SECRET.as_bytes(), "someone-else", sid, now);
    assert_eq!(check(swapped).await, StatusCode::UNAUTHORIZED);
}

async fn members_reach_exactly_their_projects(server: AuthServer) {
    let ada = server.sign_in("ada@example.com").await;
    let grace = server.sign_in("grace@example.com").await;
    let ada_auth = bearer(&ada.access);
    let grace_auth = bearer(&grace.access);

    let created = server
        .call(
            Method::POST,
            "/v1/projects",
            &[("authorization", &ada_auth)],
            Some(json!({ "name": "Shop" })),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let project = created.json["id"].as_str().unwrap().to_owned();
    assert!(created.json["api_key"].as_str().unwrap().starts_with("vv_sk_"));

    let experiments = |auth: String| {
        let project = project.clone();
        let server = &server;
        async move {
            server
                .call(
                    Method::GET,
                    "/v1/experiments",
                    &[("authorization", &auth), ("x-vibariant-project", &project)],
                    None,
                )
                .await
                .status
        }
    };
    assert_eq!(experiments(ada_auth.clone()).await, StatusCode::OK);
    assert_eq!(experiments(grace_auth.clone()).await, StatusCode::NOT_FOUND);
    let unnamed =
        server.call(Method::GET, "/v1/experiments", &[("authorization", &ada_auth)], None).await;
    assert_eq!(unnamed.status, StatusCode::BAD_REQUEST);

    let invited = server
        .call(
            Method::POST,
            &format!("/v1/projects/{project}/invitations"),
            &[("authorization", &ada_auth)],
            Some(json!({ "email": "Grace@example.com" })),
        )
        .await;
    assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.text);
    let invitation_mail = server.smtp.next().await;
    assert_eq!(invitation_mail.to, vec!["grace@example.com".to_owned()]);
    let invitation = invited.json["id"].as_str().unwrap().to_owned();

    // Only the invited address can accept.
    let eve = server.sign_in("eve@example.com").await;
    let accept = format!("/v1/invitations/{invitation}/accept");
    let stolen =
        server.call(Method::POST, &accept, &[("authorization", &bearer(&eve.access))], None).await;
    assert_eq!(stolen.status, StatusCode::NOT_FOUND);
    let listed =
        server.call(Method::GET, "/v1/invitations", &[("authorization", &grace_auth)], None).await;
    assert_eq!(listed.json["invitations"][0]["project_id"], project.as_str());
    let accepted =
        server.call(Method::POST, &accept, &[("authorization", &grace_auth)], None).await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text);
    assert_eq!(experiments(grace_auth.clone()).await, StatusCode::OK);

    // A member is not an owner: no inviting.
    let by_member = server
        .call(
            Method::POST,
            &format!("/v1/projects/{project}/invitations"),
            &[("authorization", &grace_auth)],
            Some(json!({ "email": "eve@example.com" })),
        )
        .await;
    assert_eq!(by_member.status, StatusCode::FORBIDDEN);

    // The test's own project has no members: neither person reaches it.
    let foreign = server
        .call(
            Method::GET,
            "/v1/project",
            &[("authorization", &ada_auth), ("x-vibariant-project", &server.project.project_id)],
            None,
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
}

async fn cookie_sessions_need_the_csrf_token_to_change_anything(server: AuthServer) {
    let (cookies, csrf) = browser(&server, "ada@example.com").await;
    let create = |extra: Vec<(&'static str, String)>| {
        let cookies = cookies.clone();
        let server = &server;
        async move {
            let mut headers = vec![("cookie", cookies)];
            headers.extend(extra);
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            server
                .call(Method::POST, "/v1/projects", &headers, Some(json!({ "name": "x" })))
                .await
                .status
        }
    };
    assert_eq!(create(vec![]).await, StatusCode::FORBIDDEN);
    assert_eq!(create(vec![("x-csrf-token", "0".repeat(64))]).await, StatusCode::FORBIDDEN);
    assert_eq!(create(vec![("x-csrf-token", csrf.clone())]).await, StatusCode::CREATED);
    // Reading needs no CSRF token.
    let listed = server.call(Method::GET, "/v1/projects", &[("cookie", &cookies)], None).await;
    assert_eq!(listed.json["projects"].as_array().unwrap().len(), 1);
}

auth_tests!(Production:
    a_mailed_link_signs_in_once_and_only_within_its_lifetime,
    link_requests_look_the_same_for_known_and_unknown_addresses_and_are_limited,
    github_checks_state_and_pkce_refuses_replays_and_links_only_verified_emails,
    the_device_flow_answers_as_rfc_8628_says,
    refresh_rotates_reuse_revokes_and_logout_ends_the_session,
    tampered_tokens_are_refused,
    members_reach_exactly_their_projects,
    cookie_sessions_need_the_csrf_token_to_change_anything,
);

auth_tests!(Dev: dev_mode_completes_the_device_flow_at_once);
