//! The outbound-request guard: `https` and public addresses only, unless
//! the dangerous policy is chosen (for local testing).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// What outbound requests may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NetPolicy {
    dangerous: bool,
}

/// A refused URL or address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Blocked {
    /// Not https.
    #[error("refusing non-https URL {0}")]
    NotHttps(String),
    /// A loopback, private, link-local or otherwise non-public address.
    #[error("refusing to connect to non-public address {0}")]
    PrivateAddress(IpAddr),
    /// No host.
    #[error("refusing URL without a host: {0}")]
    NoHost(String),
}

impl NetPolicy {
    /// `https` and public unicast addresses only (the default).
    pub const fn public_https_only() -> Self {
        Self { dangerous: false }
    }

    /// DANGEROUS: also plain `http` and loopback/private/link-local
    /// addresses. For tests and local development only.
    pub const fn dangerous_allow_http_and_private() -> Self {
        Self { dangerous: true }
    }

    /// Whether http and private addresses are allowed.
    pub const fn is_dangerous(&self) -> bool {
        self.dangerous
    }

    /// Checks a URL's scheme and IP-literal host.
    ///
    /// # Errors
    ///
    /// [`Blocked`].
    pub fn check_url(&self, url: &Url) -> Result<(), Blocked> {
        if url.scheme() != "https" && !(self.dangerous && url.scheme() == "http") {
            return Err(Blocked::NotHttps(url.to_string()));
        }
        match url.host() {
            None => Err(Blocked::NoHost(url.to_string())),
            Some(Host::Ipv4(ip)) => self.check_ip(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => self.check_ip(IpAddr::V6(ip)),
            Some(Host::Domain(d)) if !self.dangerous && (d == "localhost" || d.ends_with(".localhost")) => {
                Err(Blocked::PrivateAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)))
            }
            Some(Host::Domain(_)) => Ok(()),
        }
    }

    /// Checks a resolved address.
    ///
    /// # Errors
    ///
    /// [`Blocked::PrivateAddress`].
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Blocked> {
        if self.dangerous || is_public(ip) {
            Ok(())
        } else {
            Err(Blocked::PrivateAddress(ip))
        }
    }
}

/// Whether an address is public unicast (IPv4-embedding IPv6 forms judged
/// by the embedded address).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => public_v6(v6),
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
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

fn public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return public_v4(v4);
    }
    let [s0, s1, s2, s3, s4, s5, s6, s7] = ip.segments();
    let embedded = |hi: u16, lo: u16| public_v4(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)));
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
        || (s0 & 0xfe00) == 0xfc00
        || (s0 & 0xffc0) == 0xfe80
        || (s0 & 0xffc0) == 0xfec0
        || (s0 == 0x2001 && s1 == 0x0db8)
        || (s0 == 0x2001 && s1 == 0))
}
