//! A real `kill -9` (SIGKILL from outside, no hook inside the agent) while the agent is stopping
//! the old container, then a restart: recovery leaves exactly one container, running under the
//! configured name, and the agent deploys normally afterwards.

mod agent_support;

use std::time::{Duration, Instant};

use agent_support::*;

#[test]
fn an_agent_sigkilled_while_stopping_the_old_container_recovers_to_one_running_container() {
    let Some(setup) = Setup::start() else { return };
    let v1 = setup.push_sleeper("v1.0.0");
    let v2 = setup.push_sleeper("v2.0.0");
    let config = setup.config("kill", "dev", "");
    let journal = config
        .parent()
        .unwrap()
        .join("kill-state")
        .join("swap-journal.json");
    let rt = runtime();
    {
        let agent = Agent::spawn(&config, &[]);
        rt.block_on(agent.client().deploy(&setup.request(&v1), None, None))
            .unwrap();
    }

    let doomed = Agent::spawn(&config, &[]);
    let client = doomed.client();
    let request = setup.request(&v2);
    let caller = std::thread::spawn(move || {
        runtime()
            .block_on(client.deploy(&request, None, None))
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    // `sleep` as PID 1 ignores SIGTERM, so stopping the old container takes the whole
    // 2 s stop timeout: the journal names `stop_old` well before the new one can start.
    let waited = Instant::now();
    loop {
        let text = std::fs::read_to_string(&journal).unwrap_or_default();
        if text.contains("stop_old") {
            break;
        }
        assert!(
            waited.elapsed() < Duration::from_secs(60),
            "the swap never reached stop_old (journal: {text:?})"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
    doomed.kill9();
    let answer = caller.join().unwrap();
    assert!(
        answer.is_err(),
        "the killed agent answered the deploy: {answer:?}"
    );

    let agent = Agent::spawn(&config, &[]);
    assert!(
        agent.first_line.contains("recovery=") && !agent.first_line.contains("recovery=nothing"),
        "{}",
        agent.first_line
    );
    assert_eq!(
        setup.containers(),
        vec![format!("{} running", setup.container)],
        "exactly one container, running under the configured name"
    );
    let status = rt.block_on(agent.client().status()).unwrap();
    assert!(status.running);
    let image = status.image.unwrap();
    assert!(image == v1 || image == v2, "{image}");
    assert!(!journal.exists(), "recovery clears the journal");
    rt.block_on(agent.client().deploy(&setup.request(&v2), None, None))
        .unwrap();
    assert_eq!(
        setup.containers(),
        vec![format!("{} running", setup.container)]
    );
}
