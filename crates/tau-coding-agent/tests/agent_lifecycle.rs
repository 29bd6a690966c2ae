//! The Deploy Agent's promises under pressure, against a real engine: deploys serialize,
//! `Idempotency-Key` replays across a restart, an agent killed mid-swap recovers at start-up,
//! and the Cloudflare Access JWT is checked when configured.

mod agent_support;

use agent_support::*;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

#[test]
fn two_deploys_at_once_serialize_the_second_replacing_the_first() {
    let Some(setup) = Setup::start() else { return };
    let v1 = setup.push_sleeper("v1.0.0");
    let v2 = setup.push_sleeper("v2.0.0");
    let v3 = setup.push_sleeper("v3.0.0");
    let agent = setup.dev_agent("c");
    let client = agent.client();
    let rt = runtime();
    rt.block_on(client.deploy(&setup.request(&v1), None, None))
        .unwrap();
    let (a, b) = rt.block_on(async {
        let (ra, rb) = (setup.request(&v2), setup.request(&v3));
        tokio::join!(
            client.deploy(&ra, None, None),
            client.deploy(&rb, None, None)
        )
    });
    let (a, b) = (a.unwrap(), b.unwrap());
    // Serialized: exactly one of them replaced v1, and the other replaced that one.
    let mut replaced = [a.replaced.clone().unwrap(), b.replaced.clone().unwrap()];
    replaced.sort();
    let (first, last) = if a.replaced.as_deref() == Some(v1.as_str()) {
        (&a, &b)
    } else {
        (&b, &a)
    };
    assert_eq!(first.replaced.as_deref(), Some(v1.as_str()), "{replaced:?}");
    assert_eq!(
        last.replaced.as_deref(),
        Some(first.image.as_str()),
        "{replaced:?}"
    );
    let status = rt.block_on(client.status()).unwrap();
    assert_eq!(status.image.as_deref(), Some(last.image.as_str()));
    assert_eq!(
        setup.containers(),
        vec![format!("{} running", setup.container)]
    );
}

#[test]
fn an_idempotency_key_replays_the_first_result_even_after_a_restart() {
    let Some(setup) = Setup::start() else { return };
    let v1 = setup.push_sleeper("v1.0.0");
    let v2 = setup.push_sleeper("v2.0.0");
    let config = setup.config("i", "dev", "");
    let rt = runtime();
    let agent = Agent::spawn(&config, &[]);
    let first = rt
        .block_on(
            agent
                .client()
                .deploy(&setup.request(&v1), None, Some("deploy-42")),
        )
        .unwrap();
    let started = rt.block_on(agent.client().status()).unwrap().started_at;
    let again = rt
        .block_on(
            agent
                .client()
                .deploy(&setup.request(&v1), None, Some("deploy-42")),
        )
        .unwrap();
    assert_eq!(again, first);
    drop(agent);

    let agent = Agent::spawn(&config, &[]);
    let after_restart = rt
        .block_on(
            agent
                .client()
                .deploy(&setup.request(&v1), None, Some("deploy-42")),
        )
        .unwrap();
    assert_eq!(after_restart, first);
    assert_eq!(
        rt.block_on(agent.client().status()).unwrap().started_at,
        started,
        "a replay must not redeploy"
    );
    let err = rt
        .block_on(
            agent
                .client()
                .deploy(&setup.request(&v2), None, Some("deploy-42")),
        )
        .unwrap_err();
    assert_eq!(err.status(), Some(422), "{err}");
    assert!(err.reason().unwrap().contains("Idempotency-Key"), "{err}");
}

#[test]
fn an_agent_killed_between_stopping_the_old_and_starting_the_new_recovers_to_one_running_container()
{
    let Some(setup) = Setup::start() else { return };
    let v1 = setup.push_sleeper("v1.0.0");
    let v2 = setup.push_sleeper("v2.0.0");
    let config = setup.config("k", "dev", "");
    let rt = runtime();
    {
        let agent = Agent::spawn(&config, &[]);
        rt.block_on(agent.client().deploy(&setup.request(&v1), None, None))
            .unwrap();
    }
    // The swap's test-only hook aborts the process (as kill -9 would) after journaling
    // start_new: the old container is stopped, the new one created but not started.
    let doomed = Agent::spawn(&config, &[("TAU_AGENT_ABORT_AT", "start_new")]);
    let err = rt
        .block_on(doomed.client().deploy(&setup.request(&v2), None, None))
        .unwrap_err();
    assert_eq!(
        err.status(),
        None,
        "the agent answered instead of dying: {err}"
    );
    let exit = doomed.wait_exit();
    assert!(!exit.success());
    let mid_swap = setup.containers();
    assert!(
        !mid_swap.iter().any(|c| c.ends_with(" running")),
        "nothing should run mid-swap: {mid_swap:?}"
    );

    let agent = Agent::spawn(&config, &[]);
    assert!(
        agent.first_line.contains("recovery="),
        "{}",
        agent.first_line
    );
    assert!(
        !agent.first_line.contains("recovery=nothing"),
        "{}",
        agent.first_line
    );
    assert_eq!(
        setup.containers(),
        vec![format!("{} running", setup.container)]
    );
    let status = rt.block_on(agent.client().status()).unwrap();
    assert!(status.running);
    let image = status.image.unwrap();
    assert!(image == v1 || image == v2, "{image}");
    // And the agent deploys normally afterwards.
    rt.block_on(agent.client().deploy(&setup.request(&v2), None, None))
        .unwrap();
    assert_eq!(
        setup.containers(),
        vec![format!("{} running", setup.container)]
    );
}

#[test]
fn with_cloudflare_access_only_a_valid_jwt_gets_through() {
    let Some(setup) = Setup::start() else { return };
    let key = EncodingKey::from_rsa_pem(tau_testkit::rsa::key_pem()).unwrap();
    let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).unwrap();
    jwk.common.key_id = Some("key-1".into());
    let jwks = setup.dir.path().join("jwks.json");
    std::fs::write(
        &jwks,
        serde_json::to_vec(&JwkSet { keys: vec![jwk] }).unwrap(),
    )
    .unwrap();
    let extra = format!(
        "[cloudflare_access]\nteam_domain = \"team.cloudflareaccess.com\"\naudience = \"aud-runtime\"\njwks_file = \"{}\"\n",
        jwks.display()
    );
    // `[volumes]` etc. follow in the generated config, so the access table goes last.
    let config = setup.config("j", "dev", "");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}\n{extra}")).unwrap();
    let agent = Agent::spawn(&config, &[]);
    let rt = runtime();
    let now = jsonwebtoken::get_current_timestamp();
    let token = |aud: &str, exp: u64| {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("key-1".into());
        let claims = json!({"aud": [aud], "iss": "https://team.cloudflareaccess.com",
            "exp": exp, "sub": "", "common_name": CLIENT_ID});
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    };
    let status = |jwt: Option<String>| {
        let mut client = agent.client();
        if let Some(jwt) = jwt {
            client = client.with_access_jwt(&jwt).unwrap();
        }
        rt.block_on(client.status())
            .map(|_| 200)
            .unwrap_or_else(|e| e.status().unwrap())
    };
    assert_eq!(status(None), 401);
    assert_eq!(status(Some(token("aud-runtime", now + 300))), 200);
    assert_eq!(status(Some(token("aud-other", now + 300))), 403);
    assert_eq!(status(Some(token("aud-runtime", now - 600))), 403);
}

#[test]
fn two_agent_processes_sharing_a_host_state_dir_never_swap_at_once() {
    let Some(setup) = Setup::start() else { return };
    let v1 = setup.push_sleeper("v1.0.0");
    let v2 = setup.push_sleeper("v2.0.0");
    let v3 = setup.push_sleeper("v3.0.0");
    let first_config = setup.config("h", "dev", "");
    // Same state dir (journal, host lock), its own audit log.
    let second_config = setup.dir.path().join("h2.toml");
    let text = std::fs::read_to_string(&first_config)
        .unwrap()
        .replace("h-audit.jsonl", "h2-audit.jsonl");
    std::fs::write(&second_config, text).unwrap();
    let one = Agent::spawn(&first_config, &[]);
    let two = Agent::spawn(&second_config, &[]);
    let rt = runtime();
    rt.block_on(one.client().deploy(&setup.request(&v1), None, None))
        .unwrap();
    let (a, b) = rt.block_on(async {
        let (ca, cb) = (one.client(), two.client());
        let (ra, rb) = (setup.request(&v2), setup.request(&v3));
        tokio::join!(ca.deploy(&ra, None, None), cb.deploy(&rb, None, None))
    });
    let (a, b) = (a.unwrap(), b.unwrap());
    let (first, last) = if a.replaced.as_deref() == Some(v1.as_str()) {
        (&a, &b)
    } else {
        (&b, &a)
    };
    assert_eq!(first.replaced.as_deref(), Some(v1.as_str()));
    assert_eq!(last.replaced.as_deref(), Some(first.image.as_str()));
    assert_eq!(
        setup.containers(),
        vec![format!("{} running", setup.container)]
    );
}

#[test]
fn a_new_container_that_exits_at_once_fails_with_5xx_and_the_old_one_runs_again() {
    let Some(setup) = Setup::start() else { return };
    let v1 = setup.push_sleeper("v1.0.0");
    let broken = setup.push("v2.0.0", &["sh", "-c", "exit 3"]);
    let agent = setup.dev_agent("x");
    let rt = runtime();
    rt.block_on(agent.client().deploy(&setup.request(&v1), None, None))
        .unwrap();
    let err = rt
        .block_on(agent.client().deploy(&setup.request(&broken), None, None))
        .unwrap_err();
    match err {
        tau_agent::ClientError::Agent {
            status,
            reason,
            step,
            restored,
        } => {
            assert!(status >= 500, "{status} {reason}");
            assert_eq!(restored, Some(true), "{reason}");
            assert!(step.is_some(), "{reason}");
        }
        other => panic!("{other}"),
    }
    let status = rt.block_on(agent.client().status()).unwrap();
    assert!(status.running);
    assert_eq!(status.image.as_deref(), Some(v1.as_str()));
    assert_eq!(
        setup.containers(),
        vec![format!("{} running", setup.container)]
    );
    let (code, report) = audit_verify(&setup.audit_log("x"));
    assert_eq!(code, 0, "{report}");
    let audit = std::fs::read_to_string(setup.audit_log("x")).unwrap();
    assert!(
        audit.contains("\"result\":\"failed\"") && audit.contains("\"restored\":true"),
        "{audit}"
    );
}
