//! The outbound network policy: which URLs and addresses a client may reach.
//!
//! Federation servers fetch URLs that strangers name (a WebFinger host, a
//! Salmon signer's key, a WebSub topic or callback), so by default only
//! `https` URLs on public unicast addresses are reached. Two loosenings
//! exist, both explicit: [`NetPolicy::dangerous_allow_http_and_private`]
//! lifts the guard for every host (tests, local development), and
//! [`NetPolicy::with_trusted_hosts`] lifts it for named hosts only (an
//! internal hub or publisher), leaving every other host, and every place a
//! trusted host redirects to, under the guard.
//!
//! Host names are judged twice: by the URL ([`NetPolicy::check_url`]: the
//! scheme, IP literals, `localhost`) and again by their DNS answers
//! ([`NetPolicy::check_resolved`]), which the guarded fetch (feature
//! `client`) does inside its resolver, so a name that resolves to
//! `169.254.169.254` is refused like the literal address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use url::{Host, Url};

/// What outbound requests may reach. Cheap to clone.
///
/// ```
/// use ostatus_core::NetPolicy;
/// use url::Url;
///
/// let strict = NetPolicy::default();
/// assert!(strict.check_url(&Url::parse("https://example.com/").unwrap()).is_ok());
/// assert!(strict.check_url(&Url::parse("http://example.com/").unwrap()).is_err());
/// assert!(strict.check_url(&Url::parse("https://169.254.169.254/").unwrap()).is_err());
///
/// let internal = NetPolicy::default().with_trusted_hosts(["hub.internal"]);
/// assert!(internal.check_url(&Url::parse("http://hub.internal:8080/").unwrap()).is_ok());
/// assert!(internal.check_url(&Url::parse("http://other.example/").unwrap()).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NetPolicy {
    dangerous: bool,
    trusted: Arc<[String]>,
}

/// Why a URL or address was refused by the [`NetPolicy`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Blocked {
    /// The URL is not `https` (nor `http` where allowed).
    #[error("refusing non-https URL {0}")]
    NotHttps(String),
    /// The host is, or resolves to, a loopback, private, link-local or
    /// otherwise non-public address.
    #[error("refusing to connect to non-public address {0}")]
    PrivateAddress(IpAddr),
    /// The URL has no host.
    #[error("refusing URL without a host: {0}")]
    NoHost(String),
}

impl NetPolicy {
    /// The default: `https` only, public unicast addresses only, no trusted hosts.
    pub fn public_https_only() -> Self {
        Self::default()
    }

    /// DANGEROUS: also allow plain `http` and loopback, private and
    /// link-local addresses, for every host. For tests and local development
    /// only: a server running with this can be made to fetch its own
    /// internal network. To reach a few internal hosts, prefer
    /// [`NetPolicy::with_trusted_hosts`].
    pub fn dangerous_allow_http_and_private() -> Self {
        Self {
            dangerous: true,
            trusted: Arc::from([]),
        }
    }

    /// This policy, plus hosts the operator trusts explicitly: requests to
    /// them may use plain `http` and reach private addresses. Exact host
    /// names or IP addresses (`hub.internal`, `10.0.0.5`, `::1`; no ports,
    /// no wildcards), compared without case. Every other host, including
    /// where a trusted host redirects to, stays under the policy.
    #[must_use]
    pub fn with_trusted_hosts<I, S>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut all: Vec<String> = self.trusted.iter().cloned().collect();
        all.extend(hosts.into_iter().map(Into::into));
        self.trusted = Arc::from(all);
        self
    }

    /// Whether plain `http` is allowed for every host.
    pub fn allows_http(&self) -> bool {
        self.dangerous
    }

    /// Whether non-public addresses are allowed for every host.
    pub fn allows_private(&self) -> bool {
        self.dangerous
    }

    /// Whether this is the dangerous policy (http and private addresses everywhere).
    pub fn is_dangerous(&self) -> bool {
        self.dangerous
    }

    /// The trusted hosts.
    pub fn trusted_hosts(&self) -> &[String] {
        &self.trusted
    }

    /// Whether `host` (a URL's host: a name, an IPv4 address or an IPv6
    /// address with or without brackets) is trusted.
    pub fn is_trusted(&self, host: &str) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.trusted.iter().any(|t| {
            let t = t.trim().trim_start_matches('[').trim_end_matches(']');
            t.eq_ignore_ascii_case(host)
                || matches!((t.parse::<IpAddr>(), host.parse::<IpAddr>()), (Ok(a), Ok(b)) if a == b)
        })
    }

    /// Checks a URL: its scheme and, when the host is an IP literal or
    /// `localhost`, its address. Other host names are checked after DNS
    /// resolution by [`NetPolicy::check_resolved`].
    ///
    /// # Errors
    ///
    /// [`Blocked`] saying why.
    pub fn check_url(&self, url: &Url) -> Result<(), Blocked> {
        let trusted = url.host_str().is_some_and(|h| self.is_trusted(h));
        match url.scheme() {
            "https" => {}
            "http" if self.dangerous || trusted => {}
            _ => return Err(Blocked::NotHttps(url.to_string())),
        }
        if trusted {
            return Ok(());
        }
        match url.host() {
            None => Err(Blocked::NoHost(url.to_string())),
            Some(Host::Ipv4(ip)) => self.check_ip(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => self.check_ip(IpAddr::V6(ip)),
            Some(Host::Domain(d)) => {
                // `localhost` never needs DNS to be known as loopback.
                if !self.dangerous && (d.eq_ignore_ascii_case("localhost") || d.ends_with(".localhost")) {
                    Err(Blocked::PrivateAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)))
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Checks one address, whatever host it belongs to.
    ///
    /// # Errors
    ///
    /// [`Blocked::PrivateAddress`] when the address is not public and the
    /// policy does not allow it.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Blocked> {
        if self.dangerous || is_public(ip) {
            Ok(())
        } else {
            Err(Blocked::PrivateAddress(ip))
        }
    }

    /// Checks an address that `host` resolved to: any address of a trusted
    /// host, otherwise as [`NetPolicy::check_ip`].
    ///
    /// # Errors
    ///
    /// [`Blocked::PrivateAddress`].
    pub fn check_resolved(&self, host: &str, ip: IpAddr) -> Result<(), Blocked> {
        if self.is_trusted(host) {
            Ok(())
        } else {
            self.check_ip(ip)
        }
    }
}

/// Whether `ip` is a public unicast address: not loopback, private (RFC 1918,
/// unique local), link-local, CGNAT, documentation, benchmarking, multicast,
/// broadcast, reserved or unspecified. IPv6 addresses embedding an IPv4 one
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
    let [s0, s1, s2, s3, s4, s5, s6, s7] = ip.segments();
    let embedded = |hi: u16, lo: u16| is_public_v4(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)));
    // ::a.b.c.d (deprecated IPv4-compatible), NAT64 64:ff9b::/96, 6to4 2002::/16.
    if [s0, s1, s2, s3, s4, s5] == [0; 6] && !ip.is_loopback() && !ip.is_unspecified() {
        return false;
    }
    if s0 == 0x64 && s1 == 0xff9b && [s2, s3, s4, s5] == [0; 4] {
        return embedded(s6, s7);
    }
    if s0 == 0x2002 {
        return embedded(s1, s2);
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
            "https://LOCALHOST/",
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

    #[test]
    fn trusted_hosts_only_lift_the_guard_for_themselves() {
        let p = NetPolicy::default().with_trusted_hosts(["hub.internal", "10.0.0.5", "[::1]"]);
        for ok in [
            "http://hub.internal/",
            "http://HUB.internal:8080/x",
            "http://10.0.0.5/",
            "http://[::1]:9/",
        ] {
            assert!(p.check_url(&Url::parse(ok).unwrap()).is_ok(), "{ok}");
        }
        for bad in ["http://example.com/", "https://10.0.0.6/", "ftp://hub.internal/"] {
            assert!(p.check_url(&Url::parse(bad).unwrap()).is_err(), "{bad}");
        }
        let private: IpAddr = "10.9.9.9".parse().unwrap();
        assert!(p.check_resolved("hub.internal", private).is_ok());
        assert!(p.check_resolved("evil.example", private).is_err());
        assert!(!p.is_dangerous());
    }
}
