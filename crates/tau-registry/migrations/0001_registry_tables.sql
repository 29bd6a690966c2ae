-- The seed's four tables, same columns, plus the deploy settings of a catalog entry.
CREATE TABLE registry_accounts (
    id uuid PRIMARY KEY,
    provider text NOT NULL CHECK (provider IN ('ghcr', 'dockerhub', 'ecr', 'gcr')),
    registry_url text NOT NULL,
    namespace text NOT NULL,
    credential_ref text,
    read_only boolean NOT NULL DEFAULT false,
    description text,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (registry_url, namespace)
);

CREATE TABLE agent_catalog (
    id uuid PRIMARY KEY,
    agent_name text NOT NULL UNIQUE,
    service text NOT NULL,
    role text NOT NULL,
    repo text NOT NULL,
    default_tag text,
    pinned_tag text,
    registry_account_id uuid REFERENCES registry_accounts (id),
    autodeploy_enabled boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE image_tag_history (
    id uuid PRIMARY KEY,
    agent_id uuid NOT NULL REFERENCES agent_catalog (id),
    tag text NOT NULL,
    digest text,
    built_by text,
    built_at timestamptz,
    changelog_url text,
    rollout_status text NOT NULL CHECK (rollout_status IN ('staged', 'active', 'rolled_back', 'failed')),
    trace_id text NOT NULL,
    UNIQUE (agent_id, tag)
);
-- History ids are UUIDv7 (time-ordered): newest-first queries walk this index backwards.
CREATE INDEX image_tag_history_agent_id ON image_tag_history (agent_id, id);

CREATE TABLE k8s_pull_secret_links (
    id uuid PRIMARY KEY,
    registry_account_id uuid NOT NULL REFERENCES registry_accounts (id),
    kube_namespace text NOT NULL,
    secret_name text NOT NULL,
    last_synced_at timestamptz,
    managed_by text NOT NULL CHECK (managed_by IN ('manual', 'controller'))
);

-- Not a seed table: how a catalog entry is deployed (routing shard/tenant, env with
-- {secret_env} names only, volumes, the Kubernetes Secret for secret env values).
CREATE TABLE agent_deploy_specs (
    agent_id uuid PRIMARY KEY REFERENCES agent_catalog (id),
    spec text NOT NULL
);
