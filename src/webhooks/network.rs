//! Where a webhook may be delivered: public addresses only, unless the operator lists an
//! internal network (`DVK_WEBHOOK_ALLOW_NETWORKS`). Checked twice: at subscription for hosts
//! written as addresses (in any of the forms a URL parser accepts: `2130706433`, `0x7f000001`,
//! `127.1`, `[::ffff:127.0.0.1]`), and at every send, on the addresses the name resolves to then,
//! which are the addresses the sender connects to (no second lookup a rebinding DNS could answer
//! differently).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex};

use ipnet::IpNet;

/// The networks a receiver may be in besides the public Internet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetworkPolicy {
    allowed: Vec<IpNet>,
}

impl NetworkPolicy {
    /// From a comma-separated list of networks (`10.0.0.0/8, fd00::/8`) or single addresses.
    pub fn parse(list: &str) -> Result<NetworkPolicy, String> {
        let mut allowed = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let net = item
                .parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{item:?} is not a network (e.g. 10.0.0.0/8) or an address"))?;
            allowed.push(net);
        }
        Ok(NetworkPolicy { allowed })
    }

    /// Whether a receiver at `ip` may be sent to.
    pub fn permits(&self, ip: IpAddr) -> bool {
        self.allowed.iter().any(|net| net.contains(&ip)) || !is_internal(ip)
    }
}

/// Loopback, private (RFC 1918), link-local, CGNAT, ULA, multicast, unspecified, broadcast,
/// reserved and documentation ranges, and IPv6 forms that embed an IPv4 address (mapped,
/// compatible, NAT64, 6to4, Teredo): anything that is not plainly a public host.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => internal_v4(v4),
        IpAddr::V6(v6) => internal_v6(v6),
    }
}

fn internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    a == 0 // "this network", 0.0.0.0 included
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // CGNAT, RFC 6598
        || (a == 169 && b == 254)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 192 && b == 168)
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
        || a >= 224 // multicast, reserved, broadcast
}

fn internal_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    ip.is_unspecified()
        || ip.is_loopback()
        || (s[0] & 0xfe00) == 0xfc00 // unique local
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s[0] & 0xff00) == 0xff00 // multicast
        || (s[0..5] == [0, 0, 0, 0, 0] && (s[5] == 0 || s[5] == 0xffff)) // IPv4-compatible, -mapped
        || (s[0] == 0x64 && s[1] == 0xff9b) // NAT64
        || s[0] == 0x2002 // 6to4
        || (s[0] == 0x2001 && s[1] == 0) // Teredo
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]) // discard-only
}

/// Why a URL may not be subscribed, for hosts that need no lookup to judge.
pub fn refuse_at_subscription(url: &url::Url, policy: &NetworkPolicy) -> Option<&'static str> {
    match url.host()? {
        url::Host::Ipv4(ip) if !policy.permits(IpAddr::V4(ip)) => {
            Some("the URL's address is loopback, private, link-local or otherwise internal")
        }
        url::Host::Ipv6(ip) if !policy.permits(IpAddr::V6(ip)) => {
            Some("the URL's address is loopback, private, link-local or otherwise internal")
        }
        url::Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            if name == "localhost" || name.ends_with(".localhost") {
                Some("the URL's host is this machine")
            } else if !name.contains('.') {
                Some("the URL's host must be a fully qualified name (a bare name resolves inside the server's network)")
            } else {
                None
            }
        }
        _ => None,
    }
}

/// A resolver for the sender: looks the host up once and hands the sender only the addresses
/// the policy permits; when it keeps none, the send fails and `refused` says so.
#[derive(Clone)]
pub struct GuardedResolver {
    pub policy: NetworkPolicy,
    pub refused: Arc<Mutex<Option<String>>>,
}

impl GuardedResolver {
    pub fn new(policy: NetworkPolicy) -> GuardedResolver {
        GuardedResolver { policy, refused: Arc::new(Mutex::new(None)) }
    }

    pub fn refusal(&self) -> Option<String> {
        self.refused.lock().ok().and_then(|r| r.clone())
    }
}

impl ureq::Resolver for GuardedResolver {
    fn resolve(&self, netloc: &str) -> io::Result<Vec<SocketAddr>> {
        let found: Vec<SocketAddr> = netloc.to_socket_addrs()?.collect();
        let kept: Vec<SocketAddr> = found.iter().copied().filter(|a| self.policy.permits(a.ip())).collect();
        if kept.is_empty() && !found.is_empty() {
            let why = format!(
                "not sent: the receiver's address {} is internal (loopback, private, link-local…); an operator may allow its network with DVK_WEBHOOK_ALLOW_NETWORKS",
                found[0].ip()
            );
            if let Ok(mut refused) = self.refused.lock() {
                *refused = Some(why.clone());
            }
            return Err(io::Error::new(io::ErrorKind::PermissionDenied, why));
        }
        Ok(kept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host_refused(raw: &str) -> bool {
        refuse_at_subscription(&url::Url::parse(raw).unwrap(), &NetworkPolicy::default()).is_some()
    }

    #[test]
    fn every_spelling_of_an_internal_address_is_refused() {
        for raw in [
            "http://169.254.169.254/latest/meta-data/",
            "http://127.0.0.1:5432/",
            "http://[::1]/",
            "http://0.0.0.0/",
            "http://2130706433/",
            "http://0177.0.0.1/",
            "http://0x7f000001/",
            "http://127.1/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:a00:1]/",
            "http://[::127.0.0.1]/",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://192.168.1.1/",
            "http://100.64.0.1/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://[64:ff9b::7f00:1]/",
            "http://224.0.0.1/",
            "http://255.255.255.255/",
            "http://localhost/",
            "http://LOCALHOST./",
            "http://api.localhost/",
            "http://db/",
            "http://metadata/",
        ] {
            assert!(host_refused(raw), "{raw} must be refused");
        }
        for raw in ["https://congthongtin.hanoi.gov.vn/hook", "http://93.184.216.34/", "http://[2606:4700::1111]/"] {
            assert!(!host_refused(raw), "{raw} is public");
        }
    }

    #[test]
    fn an_allowed_network_is_let_through_and_nothing_else() {
        let policy = NetworkPolicy::parse("127.0.0.0/8, 10.1.0.0/16,fd00::1").unwrap();
        assert!(policy.permits("127.0.0.1".parse().unwrap()));
        assert!(policy.permits("10.1.200.3".parse().unwrap()));
        assert!(policy.permits("fd00::1".parse().unwrap()));
        assert!(!policy.permits("10.2.0.1".parse().unwrap()));
        assert!(!policy.permits("169.254.169.254".parse().unwrap()));
        assert!(NetworkPolicy::parse("10.0.0.0/33").is_err());
        assert!(NetworkPolicy::parse("intranet").is_err());
    }

    #[test]
    fn the_resolver_hands_over_only_permitted_addresses() {
        use ureq::Resolver;
        let guard = GuardedResolver::new(NetworkPolicy::default());
        assert!(guard.resolve("127.0.0.1:80").is_err());
        assert!(guard.refusal().unwrap().contains("127.0.0.1"));
        let open = GuardedResolver::new(NetworkPolicy::parse("127.0.0.0/8").unwrap());
        assert_eq!(open.resolve("127.0.0.1:80").unwrap(), vec!["127.0.0.1:80".parse().unwrap()]);
    }
}
