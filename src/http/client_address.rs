//! Who is calling, by address: the peer, or, when the peer is one of the operator's proxies
//! (`DVK_TRUSTED_PROXIES`), the address the proxies say they forwarded for. Behind a balancer
//! every caller would otherwise share the balancer's address, and the per-address limits (the
//! token endpoint's failures, anonymous requests) would lock everyone out together. Without the
//! setting `X-Forwarded-For` is ignored: a caller cannot name its own address.

use std::net::{IpAddr, SocketAddr};

use actix_web::http::header::HeaderMap;
use ipnet::IpNet;

/// `DVK_TRUSTED_PROXIES`: the balancers' networks, comma-separated (`10.0.0.0/8, 127.0.0.1/32`).
pub fn parse_trusted(list: &str) -> Result<Vec<IpNet>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{s:?} is not a network or an address"))
        })
        .collect()
}

/// The caller's address: the peer's, unless the peer is a trusted proxy; then, reading
/// `X-Forwarded-For` from the right, the first address that is not a trusted proxy (each proxy
/// appends the address it received from, so entries to the left of the first untrusted one may
/// be forged by the caller).
pub fn client_address(peer: Option<SocketAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = peer?.ip();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let mut chain: Vec<IpAddr> = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let Ok(value) = value.to_str() else { return Some(peer) };
        for entry in value.split(',') {
            match entry.trim().parse::<IpAddr>() {
                Ok(ip) => chain.push(ip),
                // An entry that is not an address: trust nothing further left of it.
                Err(_) => chain.clear(),
            }
        }
    }
    Some(chain.iter().rev().find(|ip| !is_trusted(ip)).or(chain.first()).copied().unwrap_or(peer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append(HeaderName::from_static("x-forwarded-for"), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn peer(ip: &str) -> Option<SocketAddr> {
        Some(SocketAddr::new(ip.parse().unwrap(), 40000))
    }

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let trusted = parse_trusted("10.0.0.0/8, 127.0.0.1").unwrap();
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        // No proxy: the peer, whatever the header claims.
        assert_eq!(client_address(peer("203.0.113.9"), &headers(&["198.51.100.1"]), &trusted), ip("203.0.113.9"));
        // Behind the balancer: the address it forwarded for.
        assert_eq!(client_address(peer("10.0.0.5"), &headers(&["198.51.100.1"]), &trusted), ip("198.51.100.1"));
        // A caller that forges an entry: the one the balancer appended wins.
        let forged = headers(&["6.6.6.6, 198.51.100.1"]);
        assert_eq!(client_address(peer("10.0.0.5"), &forged, &trusted), ip("198.51.100.1"));
        // Two proxies in a row, and the header split over two lines.
        let chained = headers(&["198.51.100.1", "10.1.2.3"]);
        assert_eq!(client_address(peer("127.0.0.1"), &chained, &trusted), ip("198.51.100.1"));
        // Garbage in the chain: nothing left of it is believed.
        assert_eq!(client_address(peer("10.0.0.5"), &headers(&["198.51.100.1, nonsense"]), &trusted), ip("10.0.0.5"));
        // No header behind the balancer: the balancer.
        assert_eq!(client_address(peer("10.0.0.5"), &headers(&[]), &trusted), ip("10.0.0.5"));
        assert!(parse_trusted("10.0.0.0/33").is_err() && parse_trusted("proxy").is_err());
    }
}
