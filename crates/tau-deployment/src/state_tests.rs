use super::*;

#[test]
fn keys_owned_by_other_commands_survive_a_round_trip() {
    let text = br#"{"schema_version":1,"wasm_deliverables":[{"blueprint_id":"edge-wasm"}],"browser_did":{"did":"did:key:z6Mk"}}"#;
    let state = State::parse(text, Path::new("state.json")).unwrap();
    let again: serde_json::Value = serde_json::to_value(&state).unwrap();
    assert_eq!(again["wasm_deliverables"][0]["blueprint_id"], "edge-wasm");
    assert_eq!(again["browser_did"]["did"], "did:key:z6Mk");
}

#[test]
fn saving_keeps_foreign_keys_byte_for_byte_big_integers_included() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let foreign = r#"{"n":18446744073709551616123,"f":1.50,"e":"\u00e9","o":{"b":1,"a":2}}"#;
    std::fs::write(
        &path,
        format!(r#"{{"schema_version":1,"zeta":{foreign},"rollouts":[],"alpha":-0}}"#),
    )
    .unwrap();
    let mut state = State::load(&path).unwrap();
    state.commit_generation = 3;
    state.save(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(&format!(r#""zeta":{foreign}"#)), "{text}");
    assert!(text.contains(r#""alpha":-0"#), "{text}");
    assert_eq!(State::load(&path).unwrap().commit_generation, 3);
}

#[test]
fn serialization_is_byte_stable() {
    let text = br#"{"zeta":1,"alpha":2,"schema_version":1,"processed_case_keys":["a","b"]}"#;
    let state = State::parse(text, Path::new("state.json")).unwrap();
    let once = serde_json::to_vec(&state).unwrap();
    let twice = serde_json::to_vec(&State::parse(&once, Path::new("state.json")).unwrap()).unwrap();
    assert_eq!(once, twice);
}

#[test]
fn unparsable_state_names_the_file_and_the_way_out() {
    let err = State::parse(b"{\"rollouts\": [", Path::new("/x/state.json")).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("/x/state.json"), "{message}");
    assert!(
        message.contains("mv /x/state.json /x/state.json.corrupt"),
        "{message}"
    );
}

#[test]
fn health_is_read_without_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    assert_eq!(State::read_health(&path).unwrap(), None);
    std::fs::write(&path, br#"{"schema_version":1,"rollouts":[{"x":1}],"health":{"updated_unix_ms":5,"cycle_duration_ms":0,"queue_depth":2,"active_runs":0,"failure_streak":1,"last_cycle_discovered":0,"last_cycle_processed":0,"last_cycle_completed":0,"last_cycle_failed":0,"last_cycle_duplicates":0}}"#).unwrap();
    let health = State::read_health(&path).unwrap().unwrap();
    assert_eq!((health.queue_depth, health.failure_streak), (2, 1));
    std::fs::write(&path, b"{broken").unwrap();
    assert!(matches!(
        State::read_health(&path),
        Err(Error::Durable(tau_durable::Error::Document { .. }))
    ));
}

#[test]
fn future_schema_is_refused() {
    let err = State::parse(b"{\"schema_version\":2}", Path::new("state.json")).unwrap_err();
    assert!(matches!(err, Error::StateVersion { found: 2, .. }));
}

#[test]
fn processed_keys_keep_the_most_recent_cap() {
    let mut state = State::default();
    state.remember_processed(["a", "b", "c"].map(Sym::from), 5);
    state.remember_processed(["d", "e", "f"].map(Sym::from), 4);
    assert_eq!(
        Vec::from(state.processed_case_keys),
        ["c", "d", "e", "f"].map(Sym::from)
    );
}

#[test]
fn the_inline_rollouts_keep_the_most_recent_window() {
    let mut state = State::default();
    let at = |i: usize, ms: u64| {
        let mut r = crate::rollout::tests::record(&format!("c{i:05}"));
        r.updated_unix_ms = ms;
        r
    };
    state.upsert_rollouts((0..ROLLOUT_WINDOW).map(|i| at(i, 1)).collect());
    state.upsert_rollouts(vec![at(ROLLOUT_WINDOW, 2), at(ROLLOUT_WINDOW + 1, 2)]);
    assert_eq!(state.rollouts.len(), ROLLOUT_WINDOW);
    assert!(state
        .rollouts
        .is_sorted_by(|a, b| rollout_order(a, b).is_lt()));
    assert_eq!(&*state.rollouts[0].case_id, "c00002");
    assert_eq!(
        state
            .rollouts
            .iter()
            .filter(|r| r.updated_unix_ms == 2)
            .count(),
        2
    );
}

proptest::proptest! {
    /// Whatever runs add, the inline window stays sorted, unique by case key, bounded, and keeps
    /// the newest rollouts.
    #[test]
    fn the_rollout_window_stays_sorted_unique_bounded_and_recent(
        runs in proptest::collection::vec(proptest::collection::vec(0u16..3000, 0..700), 1..6),
    ) {
        let mut state = State::default();
        let mut newest = std::collections::BTreeMap::new();
        for (t, ids) in runs.iter().enumerate() {
            let t = t as u64 + 1;
            let batch: Vec<RolloutRecord> = ids
                .iter()
                .map(|id| {
                    let mut r = crate::rollout::tests::record(&format!("c{id:05}"));
                    r.updated_unix_ms = t;
                    r
                })
                .collect();
            for r in &batch {
                newest.insert(r.case_key.clone(), t);
            }
            state.upsert_rollouts(batch);
            proptest::prop_assert!(state.rollouts.len() <= ROLLOUT_WINDOW);
            proptest::prop_assert!(state.rollouts.is_sorted_by(|a, b| rollout_order(a, b).is_lt()));
        }
        let kept_oldest = state.rollouts.iter().map(|r| r.updated_unix_ms).min().unwrap_or(0);
        let dropped_newer = newest
            .iter()
            .filter(|(k, _)| !state.rollouts.iter().any(|r| &r.case_key == *k))
            .any(|(_, t)| *t > kept_oldest);
        proptest::prop_assert!(!dropped_newer, "a newer rollout left the window before an older one");
    }

    /// A foreign key's text survives a load and save unchanged, whatever JSON it holds.
    #[test]
    fn foreign_values_survive_a_save_byte_for_byte(
        digits in "[1-9][0-9]{0,40}",
        frac in "[0-9]{1,5}",
        text in "[a-zA-Z0-9 é\\\\\"]{0,12}",
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let escaped = serde_json::to_string(&text).unwrap();
        let foreign = format!(r#"{{"big":{digits},"f":{digits}.{frac},"s":{escaped},"l":[{digits}]}}"#);
        std::fs::write(&path, format!(r#"{{"other":{foreign},"schema_version":1}}"#)).unwrap();
        let mut state = State::load(&path).unwrap();
        state.commit_generation = 9;
        state.save(&path).unwrap();
        let saved = std::fs::read_to_string(&path).unwrap();
        let needle = format!(r#""other":{foreign}"#);
        proptest::prop_assert!(saved.contains(&needle), "{}", saved);
    }
}

fn keys_json(keys: &VecDeque<Sym>) -> Vec<u8> {
    use tau_durable::document::Encode;
    let mut out = Vec::new();
    KeysJson(keys).encode_into(&mut out).unwrap();
    out
}

#[test]
fn the_key_window_is_written_as_serde_json_writes_it_past_every_flush() {
    let keys: VecDeque<Sym> = (0..5000)
        .map(|i| Sym::unique(format!("container:native:staging:bp-{}:case-{i}", i % 7)))
        .collect();
    assert_eq!(keys_json(&keys), serde_json::to_vec(&keys).unwrap());
    assert_eq!(keys_json(&VecDeque::new()), b"[]");
}

proptest::proptest! {
    #[test]
    fn any_key_window_is_written_as_serde_json_writes_it(
        keys in proptest::collection::vec("\\PC*|[\\x00-\\x1f\"\\\\]{0,4}", 0..20)
    ) {
        let keys: VecDeque<Sym> = keys.iter().map(Sym::unique).collect();
        proptest::prop_assert_eq!(keys_json(&keys), serde_json::to_vec(&keys).unwrap());
    }
}
