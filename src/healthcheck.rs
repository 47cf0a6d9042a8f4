//! `earshot healthcheck`: asks a running earshot whether it is ready, for a
//! container's `HEALTHCHECK`, whose image has no curl.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use crate::config::HealthcheckArgs;

/// Longer than a ready server ever takes, shorter than a HEALTHCHECK's own timeout.
const TIMEOUT: Duration = Duration::from_secs(3);

/// Whether earshot answered 200; says what it found on stdout or stderr.
pub async fn run(args: HealthcheckArgs) -> bool {
    let url = args.url.unwrap_or_else(|| readyz_url(args.bind));
    let client = match reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(client) => client,
        Err(err) => {
            eprintln!("earshot healthcheck: {err}");
            return false;
        }
    };
    match client.get(&url).send().await {
        Ok(response) => {
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            let said = body.lines().next().unwrap_or_default();
            println!("{url}: {} {said}", status.as_u16());
            status == reqwest::StatusCode::OK
        }
        Err(err) => {
            eprintln!("{url}: {err}");
            false
        }
    }
}

/// `/readyz` at `bind`, on loopback when it is every address.
fn readyz_url(bind: SocketAddr) -> String {
    let ip = match bind.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}/readyz", SocketAddr::new(ip, bind.port()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_address_is_asked_on_loopback() {
        let url = |bind: &str| readyz_url(bind.parse().unwrap());
        assert_eq!(url("0.0.0.0:8080"), "http://127.0.0.1:8080/readyz");
        assert_eq!(url("[::]:80"), "http://[::1]:80/readyz");
        assert_eq!(url("10.1.2.3:9000"), "http://10.1.2.3:9000/readyz");
    }
}
