//! The client's address: the connection's peer, or, when the peer is one of
//! `MF_TRUSTED_PROXIES`, what those proxies wrote into `X-Forwarded-For`.
use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;

use crate::config::Config;

/// The address a request came from, for the sign-in limits (HTTP and WebSocket both call
/// this with the upgrade request's headers).
///
/// `X-Forwarded-For` is read only when the peer is a trusted proxy, from the right: each
/// proxy appends the address it received from, so the rightmost entry that is not itself
/// a trusted proxy is the client. Entries further left were written by the client and
/// prove nothing. An entry that is not an address ends the walk at the hop that wrote it.
pub fn client_ip(peer: SocketAddr, headers: &HeaderMap, config: &Config) -> IpAddr {
    let proxies = &config.trusted_proxies;
    let mut client = peer.ip().to_canonical();
    if proxies.is_empty() || !proxies.contains(client) {
        return client;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.into_iter().rev() {
        let Some(ip) = parse_hop(hop) else {
            return client;
        };
        client = ip;
        if !proxies.contains(ip) {
            return ip;
        }
    }
    client
}

/// `203.0.113.7`, `2001:db8::1`, or with a port: `203.0.113.7:4711`, `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|addr| addr.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(proxies: &str) -> Config {
        let mut config = Config::with_database("sqlite::memory:");
        config.trusted_proxies = proxies.parse().unwrap();
        config
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    const PROXY: &str = "10.0.0.5:41000";

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let headers = forwarded(&["198.51.100.9"]);
        let peer = "203.0.113.7:5000".parse().unwrap();
        assert_eq!(client_ip(peer, &headers, &config("")), ip("203.0.113.7"));
        assert_eq!(
            client_ip(peer, &headers, &config("10.0.0.0/8")),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let config = config("10.0.0.0/8, 192.0.2.1");
        let peer = PROXY.parse().unwrap();
        // The client claimed 1.1.1.1; our proxies saw 203.0.113.7.
        let headers = forwarded(&["1.1.1.1, 203.0.113.7", "192.0.2.1"]);
        assert_eq!(client_ip(peer, &headers, &config), ip("203.0.113.7"));
        let with_port = forwarded(&["[2001:db8::7]:4711"]);
        assert_eq!(client_ip(peer, &with_port, &config), ip("2001:db8::7"));
        assert_eq!(client_ip(peer, &HeaderMap::new(), &config), ip("10.0.0.5"));
        let all_proxies = forwarded(&["10.1.1.1"]);
        assert_eq!(client_ip(peer, &all_proxies, &config), ip("10.1.1.1"));
        let garbage = forwarded(&["203.0.113.7, unknown"]);
        assert_eq!(client_ip(peer, &garbage, &config), ip("10.0.0.5"));
    }
}
