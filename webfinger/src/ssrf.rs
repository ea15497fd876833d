//! The outbound-request guard: which URLs and addresses a client may reach.
//!
//! WebFinger and host-meta lookups are made on behalf of strangers (anyone
//! can ask a server to resolve `victim@169.254.169.254`), so by default only
//! `https` URLs on public addresses are fetched. [`NetPolicy`] is the one
//! switch that loosens this, for local testing, and it is loud about it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// What outbound requests may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetPolicy {
    allow_http: bool,
    allow_private: bool,
}

impl Default for NetPolicy {
    fn default() -> Self {
        Self::public_https_only()
    }
}

/// Why a URL or address was refused by the [`NetPolicy`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Blocked {
    /// The URL is not `https` (RFC 7033 §4.2, WF-CLI-01/03).
    #[error("refusing non-https URL {0}")]
    NotHttps(String),
    /// The host is, or resolves to, a loopback, private, link-local or otherwise
    /// non-public address.
    #[error("refusing to connect to non-public address {0}")]
    PrivateAddress(IpAddr),
    /// The URL has no host.
    #[error("refusing URL without a host: {0}")]
    NoHost(String),
}

impl NetPolicy {
    /// The default: `https` only, public unicast addresses only.
    pub const fn public_https_only() -> Self {
        Self {
            allow_http: false,
            allow_private: false,
        }
    }

    /// DANGEROUS: also allow plain `http` and loopback, private and
    /// link-local addresses. For tests and local development only: a server
    /// that runs with this can be made to fetch its own internal network.
    pub const fn dangerous_allow_http_and_private() -> Self {
        Self {
            allow_http: true,
            allow_private: true,
        }
    }

    /// Whether plain `http` is allowed.
    pub const fn allows_http(&self) -> bool {
        self.allow_http
    }

    /// Whether non-public addresses are allowed.
    pub const fn allows_private(&self) -> bool {
        self.allow_private
    }

    /// Checks a URL's scheme and, when the host is an IP literal, its address.
    /// Host names are checked after DNS resolution by [`NetPolicy::check_ip`].
    ///
    /// # Errors
    ///
    /// [`Blocked`] saying why.
    pub fn check_url(&self, url: &Url) -> Result<(), Blocked> {
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            _ => return Err(Blocked::NotHttps(url.to_string())),
        }
        match url.host() {
            None => Err(Blocked::NoHost(url.to_string())),
            Some(Host::Ipv4(ip)) => self.check_ip(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => self.check_ip(IpAddr::V6(ip)),
            Some(Host::Domain(d)) => {
                // `localhost` never needs DNS to be known as loopback.
                if !self.allow_private && (d == "localhost" || d.ends_with(".localhost")) {
                    Err(Blocked::PrivateAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)))
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Checks one resolved address.
    ///
    /// # Errors
    ///
    /// [`Blocked::PrivateAddress`] when the address is not public and the policy
    /// does not allow it.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Blocked> {
        if self.allow_private || is_public(ip) {
            Ok(())
        } else {
            Err(Blocked::PrivateAddress(ip))
        }
    }
}

/// Whether `ip` is a public unicast address: not loopback, private (RFC 1918,
/// unique local), link-local, CGNAT, documentation, benchmarking, multicast,
/// broadcast, reserved or unspecified; IPv6 addresses embedding an IPv4 one
/// (mapped, compatible, 6to4, NAT64) are judged by the embedded address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || a >= 240
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b)))
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let seg = ip.segments();
    let [s0, s1, ..] = seg;
    // ::a.b.c.d (deprecated IPv4-compatible), NAT64 64:ff9b::/96, 6to4 2002::/16.
    if seg[..6] == [0, 0, 0, 0, 0, 0] && !ip.is_loopback() && !ip.is_unspecified() {
        return false;
    }
    if s0 == 0x64 && s1 == 0xff9b && seg[2..6] == [0, 0, 0, 0] {
        let [.., hi, lo] = seg;
        return is_public_v4(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)));
    }
    if s0 == 0x2002 {
        let [_, hi, lo, ..] = seg;
        return is_public_v4(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s0 & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (s0 & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (s0 & 0xffc0) == 0xfec0 // site-local fec0::/10
        || (s0 == 0x2001 && s1 == 0x0db8) // documentation
        || (s0 == 0x2001 && s1 == 0)) // Teredo
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn addresses() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "::127.0.0.1",
            "2001:db8::1",
        ] {
            assert!(!is_public(bad.parse().unwrap()), "{bad}");
        }
        for good in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700::1111",
            "::ffff:1.1.1.1",
            "2002:101:101::",
        ] {
            assert!(is_public(good.parse().unwrap()), "{good}");
        }
    }

    #[test]
    fn urls() {
        let p = NetPolicy::default();
        assert!(p.check_url(&Url::parse("https://example.com/").unwrap()).is_ok());
        assert!(matches!(
            p.check_url(&Url::parse("http://example.com/").unwrap()),
            Err(Blocked::NotHttps(_))
        ));
        for u in [
            "https://127.0.0.1/",
            "https://[::1]/",
            "https://169.254.169.254/latest/meta-data",
            "https://10.0.0.1/",
            "https://localhost:8080/",
        ] {
            assert!(
                matches!(
                    p.check_url(&Url::parse(u).unwrap()),
                    Err(Blocked::PrivateAddress(_))
                ),
                "{u}"
            );
        }
        let loose = NetPolicy::dangerous_allow_http_and_private();
        assert!(
            loose
                .check_url(&Url::parse("http://127.0.0.1:1/").unwrap())
                .is_ok()
        );
        assert!(matches!(
            loose.check_url(&Url::parse("ftp://example.com/").unwrap()),
            Err(Blocked::NotHttps(_))
        ));
    }
}
