//! Start-up and serving: everything `tau agent serve` does between reading the config and
//! answering requests.
//!
//! Order matters: the engine must answer, any swap an earlier agent was killed in the middle of is
//! recovered (under the host lock, so a second agent mid-swap is not "recovered" under its feet),
//! the secrets and the audit chain are checked, and only then does the agent listen.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tau_engine::Engine;

use crate::api::{self, Agent};
use crate::audit::AuditLog;
use crate::auth::Auth;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::idempotency;
use crate::metrics::Metrics;
use crate::swap;

/// A started agent, bound but not yet serving.
#[derive(Debug)]
pub struct Server {
    agent: Arc<Agent>,
    listener: tokio::net::TcpListener,
    recovery: swap::Recovery,
}

impl Server {
    /// Connects to the engine, recovers an interrupted swap, checks secrets and the audit log,
    /// and binds the listen address.
    pub async fn start(config: Config) -> Result<Server> {
        let auth = Auth::from_config(&config).await?;
        let audit = AuditLog::open(&config.audit_log)?;
        std::fs::create_dir_all(&config.state_dir)
            .map_err(|e| Error::io("create state dir", &config.state_dir, e))?;
        let idempotency = idempotency::Store::open(&config.state_dir)?;
        let engine =
            Engine::connect(config.engine.as_deref()).map_err(|e| Error::Engine(e.to_string()))?;
        engine
            .ping()
            .await
            .map_err(|e| Error::Engine(format!("{} does not answer: {e}", engine.url())))?;
        let recovery = {
            let lock_dir = config.state_dir.join("deploy-lock");
            let _host = tokio::task::spawn_blocking(move || {
                tau_durable::lock::DirLock::acquire(
                    &lock_dir,
                    tau_durable::lock::Wait::Block(&mut |_| {}),
                )
            })
            .await
            .map_err(|e| Error::Engine(format!("host deploy lock: {e}")))??;
            swap::recover(&engine, &config.journal_path(), &config.container_name)
                .await
                .map_err(|e| Error::Engine(format!("recovering an interrupted swap: {e}")))?
        };
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| Error::Listen {
                addr: config.listen.to_string(),
                source,
            })?;
        let agent = Arc::new(Agent {
            config,
            engine,
            auth,
            audit: Mutex::new(audit),
            idempotency,
            metrics: Metrics::default(),
            deploy_lock: tokio::sync::Mutex::new(()),
        });
        Ok(Server {
            agent,
            listener,
            recovery,
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.listener.local_addr().map_err(|source| Error::Listen {
            addr: self.agent.config.listen.to_string(),
            source,
        })
    }

    /// What start-up recovery found and did.
    pub fn recovery(&self) -> &swap::Recovery {
        &self.recovery
    }

    /// Serves until `shutdown` resolves; in-flight requests finish first.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        let addr = self.agent.config.listen.to_string();
        axum::serve(self.listener, api::router(self.agent))
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|source| Error::Listen { addr, source })
    }
}
