//! Who is on the other end: the client's IP address, for throttling and the
//! audit log. The TCP peer, unless the peer is a configured trusted proxy
//! (`MAMIS_TRUSTED_PROXIES`); then the right-most address in
//! `X-Forwarded-For` that is not itself a trusted proxy. The port is never
//! part of it: a new connection is the same client.

use std::net::IpAddr;

use ipnet::IpNet;
use poem::{FromRequest, Request, RequestBody};

/// The proxies whose `X-Forwarded-For` is believed (`MAMIS_TRUSTED_PROXIES`),
/// put in the request data by `app`; without it no proxy is trusted.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(pub std::sync::Arc<[IpNet]>);

/// The client's address as decided above.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl std::fmt::Display for ClientIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The peer's address with IPv4-mapped IPv6 addresses made plain IPv4.
fn peer_ip(req: &Request) -> IpAddr {
    let ip = req
        .remote_addr()
        .as_socket_addr()
        .map_or(IpAddr::from([0, 0, 0, 0]), |a| a.ip());
    canonical(ip)
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Decides the client address from the peer and the forwarded chain.
pub fn resolve(peer: IpAddr, forwarded_for: &[&str], trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    let peer = canonical(peer);
    if !is_trusted(&peer) {
        return peer;
    }
    // Each proxy appends the address it saw; walk from the nearest one back
    // and stop at the first hop we do not run ourselves.
    let mut client = peer;
    for hop in forwarded_for
        .iter()
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .rev()
    {
        let Ok(ip) = hop.parse::<IpAddr>().map(canonical) else {
            // An unparseable hop: nothing left of it can be believed.
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

/// The client address of a request, given the trusted proxies.
pub fn client_ip(req: &Request, trusted: &[IpNet]) -> IpAddr {
    let headers: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    resolve(peer_ip(req), &headers, trusted)
}

impl<'a> FromRequest<'a> for ClientIp {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let trusted = req
            .data::<TrustedProxies>()
            .map(|t| &t.0[..])
            .unwrap_or_default();
        Ok(ClientIp(client_ip(req, trusted)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        assert_eq!(
            resolve(ip("203.0.113.9"), &["1.2.3.4"], &[]),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        let t = vec!["127.0.0.1/32".parse().unwrap()];
        assert_eq!(
            resolve(ip("127.0.0.1"), &["198.51.100.7"], &t),
            ip("198.51.100.7")
        );
        // A client cannot put itself in front by sending its own header.
        assert_eq!(
            resolve(ip("127.0.0.1"), &["1.1.1.1, 198.51.100.7"], &t),
            ip("198.51.100.7")
        );
        // An untrusted peer's header means nothing.
        assert_eq!(
            resolve(ip("198.51.100.7"), &["1.1.1.1"], &t),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn chains_of_trusted_proxies_are_walked_and_mapped_addresses_made_plain() {
        let t = vec!["10.0.0.0/8".parse().unwrap()];
        assert_eq!(
            resolve(ip("::ffff:10.0.0.1"), &["192.0.2.1, 10.0.0.2"], &t),
            ip("192.0.2.1")
        );
        assert_eq!(resolve(ip("10.0.0.1"), &["garbage"], &t), ip("10.0.0.1"));
    }
}
