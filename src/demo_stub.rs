// TEMPORARY stub with the agreed demo interface, replaced by src/demo/.
pub use crate::clock::Clock;
pub struct DemoConfig {
    pub seed: u64,
    pub clock: Clock,
    pub api_key: String,
    pub faults: Faults,
}
#[derive(Clone, Debug, Default)]
pub struct Faults {
    pub latency: std::time::Duration,
    pub error_rate: f64,
    pub rate_limit_rate: f64,
}
#[derive(Clone)]
pub struct DemoUpstream {
    clock: Clock,
}
impl DemoUpstream {
    pub fn new(config: DemoConfig) -> Self {
        Self {
            clock: config.clock,
        }
    }
    pub fn router(&self) -> axum::Router {
        axum::Router::new()
    }
    pub fn clock(&self) -> &Clock {
        &self.clock
    }
}
pub async fn serve(listener: tokio::net::TcpListener, demo: DemoUpstream) -> std::io::Result<()> {
    axum::serve(listener, demo.router()).await
}
