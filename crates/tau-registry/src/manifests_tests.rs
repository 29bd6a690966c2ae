use crate::manifests::{deployment, to_yaml};
use crate::store::suite::{row, seeded};
use crate::store::{FileStore, Store};

#[tokio::test]
async fn the_deployment_pins_the_digest_and_references_secrets_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path()).unwrap();
    let id = seeded(&store).await;
    let r = row(&id, "dev-20250815123000", "e");
    let entry = store.agent("cogo-codegen-worker").await.unwrap();
    let yaml = to_yaml(&deployment(&entry, &r, Some("cogo-dev")).unwrap());
    let back: serde_json::Value = serde_yaml_ng::from_str(&yaml).unwrap();
    let c = &back["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        c["image"],
        format!(
            "ghcr.io/my-org/cogo-codegen-worker:dev-20250815123000@{}",
            r.digest.unwrap()
        )
    );
    let env: Vec<&serde_json::Value> = c["env"].as_array().unwrap().iter().collect();
    let find = |n: &str| {
        env.iter()
            .copied()
            .find(|e| e["name"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(find("AGENT_SERVICE")["value"], "codegen");
    assert_eq!(find("AGENT_ROLE")["value"], "generate");
    assert_eq!(find("AGENT_SHARD")["value"], "0");
    assert_eq!(find("ARTIFACTS_BASE")["value"], "/app/artifacts-local");
    let secret = find("SUPABASE_SERVICE_ROLE_KEY");
    assert_eq!(secret["valueFrom"]["secretKeyRef"]["name"], "cogo-secrets");
    assert_eq!(
        secret["valueFrom"]["secretKeyRef"]["key"],
        "supabase-service-role-key"
    );
    assert!(secret.get("value").is_none());
    assert_eq!(
        back["spec"]["template"]["spec"]["imagePullSecrets"][0]["name"],
        "ghcr-pullsecret"
    );
    assert_eq!(back["kind"], "Deployment");
    assert_eq!(back["apiVersion"], "apps/v1");
}
