//! `acct:` URIs (RFC 7565) and WebFinger query targets of any scheme.
//!
//! [`Acct`] is a parsed, normalised `acct:user@host`. [`Resource`] is what a
//! WebFinger query asks about: an account, an `http(s)` URL, or a URI of any
//! other scheme (`mailto:`, `foo:`, …), kept verbatim.

use std::fmt;
use std::str::FromStr;

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};
use url::Url;

/// Why a string is not a valid `acct:` URI or WebFinger resource.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AcctError {
    /// The input was empty (or only whitespace).
    #[error("acct: empty input")]
    Empty,
    /// There is no `@` separating user and host.
    #[error("acct: {0:?} has no '@' between user and host")]
    MissingAt(String),
    /// The part before the last `@` is empty.
    #[error("acct: {0:?} has an empty user part")]
    EmptyUser(String),
    /// The part after the last `@` is empty.
    #[error("acct: {0:?} has an empty host")]
    EmptyHost(String),
    /// The user part holds a character RFC 7565 does not allow there, or a
    /// percent-escape that decodes to a control character, space or invalid UTF-8
    /// (RFC 7565 §5 advises refusing those).
    #[error("acct: user part {0:?} contains a forbidden character")]
    BadUser(String),
    /// The decoded user part holds a code point the PRECIS `IdentifierClass`
    /// (RFC 8264 §4.2) does not allow, such as a space, a symbol (emoji), a
    /// compatibility character (`Ⅳ`) or non-ASCII punctuation. RFC 7565 §6
    /// (ACCT-03) requires the user part to conform to it.
    #[error("acct: user part {user:?} has {code_point:?} (U+{:04X}), which the PRECIS IdentifierClass does not allow", u32::from(*.code_point))]
    NotIdentifier {
        /// The user part, decoded.
        user: String,
        /// The first code point refused.
        code_point: char,
    },
    /// The host is not a valid DNS name, IDN, IP literal or `host:port`.
    #[error("acct: host {0:?} is not a valid host name")]
    BadHost(String),
    /// The string has no URI scheme (`scheme:`), and bare `user@host` was not allowed.
    #[error("resource: {0:?} is not an absolute URI (no scheme)")]
    NoScheme(String),
    /// The string is not a valid URI of its scheme.
    #[error("resource: {0:?} is not a valid URI")]
    BadUri(String),
}

/// Characters that stay literal in a normalised acct user part: RFC 3986
/// `unreserved` and `sub-delims`. Everything else is percent-encoded.
const USER_ENCODE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b':')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'@')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// An `acct:` URI (RFC 7565): an account `user` at the provider `host`.
///
/// Parsing normalises as RFC 7565 §4 and RFC 3986 §6.2.2 ask (ACCT-04): the
/// scheme and host are lowercased, internationalised host names become
/// punycode A-labels (ACCT-03), the decoded user part must conform to the
/// PRECIS `IdentifierClass` (ACCT-03, [`AcctError::NotIdentifier`]),
/// percent-escapes use uppercase hex, escapes of
/// unreserved characters are decoded, and characters outside the RFC 3986
/// user-part set (including a second `@` and raw non-ASCII) are
/// percent-encoded. The user part keeps its case: comparing two `Acct`s with
/// `==` is the exact RFC comparison; [`Acct::eq_ignore_user_case`] is the
/// case-insensitive one Mastodon applies to usernames.
///
/// ```
/// use ostatus_webfinger::Acct;
///
/// let a: Acct = "acct:Bob@EXAMPLE.com".parse()?;
/// assert_eq!(a.user(), "Bob");
/// assert_eq!(a.host(), "example.com");
/// assert_eq!(a.to_string(), "acct:Bob@example.com");
///
/// // Bare `user@host` and a leading `@` are accepted too.
/// let b: Acct = "@bob@bücher.example".parse()?;
/// assert_eq!(b.host(), "xn--bcher-kva.example");
/// # Ok::<(), ostatus_webfinger::AcctError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Acct {
    user: String,
    host: String,
}

impl Acct {
    /// Builds an account from a user name (raw, not percent-encoded) and a host.
    ///
    /// # Errors
    ///
    /// [`AcctError`] when the user is empty or contains control characters, or
    /// the host is not a valid host name.
    pub fn new(user: &str, host: &str) -> Result<Self, AcctError> {
        if user.is_empty() {
            return Err(AcctError::EmptyUser(format!("{user}@{host}")));
        }
        if user.chars().any(|c| c.is_control() || c == ' ') {
            return Err(AcctError::BadUser(user.to_owned()));
        }
        check_identifier(user)?;
        let encoded = utf8_percent_encode(user, USER_ENCODE).to_string();
        Ok(Self {
            user: encoded,
            host: normalize_host(host)?,
        })
    }

    /// Parses `acct:user@host`, `user@host` or `@user@host`.
    ///
    /// The user and host are split at the last `@`, so an e-mail-like account
    /// name may carry its own `@` (it is stored as `%40`, RFC 7565 §4).
    ///
    /// # Errors
    ///
    /// [`AcctError`] saying what is wrong with the input.
    pub fn parse(input: &str) -> Result<Self, AcctError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(AcctError::Empty);
        }
        let rest = strip_scheme(s, "acct").unwrap_or(s);
        // `@user@host`, as people type it (but `@host` alone is an empty user).
        let rest = match rest.strip_prefix('@') {
            Some(r) if r.contains('@') => r,
            _ => rest,
        };
        let (user, host) = rest
            .rsplit_once('@')
            .ok_or_else(|| AcctError::MissingAt(input.to_owned()))?;
        if user.is_empty() {
            return Err(AcctError::EmptyUser(input.to_owned()));
        }
        if host.is_empty() {
            return Err(AcctError::EmptyHost(input.to_owned()));
        }
        Ok(Self {
            user: normalize_user(user)?,
            host: normalize_host(host)?,
        })
    }

    /// The user part as it appears in the URI (percent-encoded where needed).
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The user part with percent-escapes decoded.
    pub fn user_decoded(&self) -> String {
        percent_decode_str(&self.user).decode_utf8_lossy().into_owned()
    }

    /// The normalised host: lowercase, punycode, with `:port` if one was given.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `user@host` without the scheme: what GNU social expects in a remote-follow
    /// template (INTEROP §0.2) and what people type.
    pub fn without_scheme(&self) -> String {
        format!("{}@{}", self.user, self.host)
    }

    /// Compares two accounts ignoring the case of the user part, as Mastodon
    /// does when it checks a WebFinger `subject` against the query.
    pub fn eq_ignore_user_case(&self, other: &Acct) -> bool {
        self.host == other.host && self.user.eq_ignore_ascii_case(&other.user)
    }
}

impl fmt::Display for Acct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "acct:{}@{}", self.user, self.host)
    }
}

impl FromStr for Acct {
    type Err = AcctError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Returns the text after `scheme:` when `s` starts with it (scheme compared
/// case-insensitively, RFC 3986 §3.1).
fn strip_scheme<'a>(s: &'a str, scheme: &str) -> Option<&'a str> {
    let head = s.get(..scheme.len())?;
    if head.eq_ignore_ascii_case(scheme) {
        s.get(scheme.len()..)?.strip_prefix(':')
    } else {
        None
    }
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn is_sub_delim(b: u8) -> bool {
    matches!(
        b,
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
    )
}

/// Normalises an acct user part: decodes every escape, refuses control
/// characters, then re-encodes everything outside unreserved / sub-delims with
/// uppercase hex.
fn normalize_user(raw: &str) -> Result<String, AcctError> {
    let bad = || AcctError::BadUser(raw.to_owned());
    // Raw characters: unreserved, sub-delims, `%` escapes, a further `@`
    // (re-encoded below) and non-ASCII (encoded below). Anything else in
    // ASCII (`:`, `/`, `?`, `#`, `[`, …) is not a user-part character.
    if raw
        .bytes()
        .any(|b| b.is_ascii() && !(is_unreserved(b) || is_sub_delim(b) || b == b'%' || b == b'@'))
    {
        return Err(bad());
    }
    // A `%` must start a valid escape.
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes.get(i) == Some(&b'%') {
            let ok = bytes
                .get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit));
            if !ok {
                return Err(bad());
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    let decoded = percent_decode_str(raw).decode_utf8().map_err(|_| bad())?;
    if decoded
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\u{FFFD}')
    {
        return Err(bad());
    }
    check_identifier(&decoded)?;
    let mut out = String::with_capacity(decoded.len());
    for b in decoded.bytes() {
        if is_unreserved(b) || is_sub_delim(b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Ok(out)
}

/// ACCT-03: every code point of the (decoded) user part must be allowed by
/// the PRECIS `IdentifierClass` (RFC 8264 §4.2, which RFC 7565 §6 cites as
/// RFC 7564): letters and digits of any script and printable ASCII, with the
/// contextual rules for joiners; no spaces, symbols, compatibility
/// characters or non-ASCII punctuation.
fn check_identifier(user: &str) -> Result<(), AcctError> {
    use precis_core::{Error, IdentifierClass, StringClass};
    // Plain ASCII (what every fediverse server's usernames are) is all
    // allowed: skip the table lookups.
    if user.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Ok(());
    }
    match IdentifierClass::default().allows(user) {
        Ok(()) => Ok(()),
        Err(Error::BadCodepoint(info)) => Err(AcctError::NotIdentifier {
            user: user.to_owned(),
            code_point: char::from_u32(info.cp).unwrap_or('\u{FFFD}'),
        }),
        // A contextual rule that failed (a joiner out of place) or an
        // internal error of the tables: refuse the same way, naming the
        // first non-ASCII code point.
        Err(_) => Err(AcctError::NotIdentifier {
            user: user.to_owned(),
            code_point: user.chars().find(|c| !c.is_ascii()).unwrap_or('\u{FFFD}'),
        }),
    }
}

/// Normalises a host (with optional port): lowercase, IDN to A-labels,
/// IP literals checked.
pub(crate) fn normalize_host(raw: &str) -> Result<String, AcctError> {
    let bad = || AcctError::BadHost(raw.to_owned());
    if raw.is_empty() {
        return Err(bad());
    }
    // IPv6 literal, optionally with a port.
    if let Some(rest) = raw.strip_prefix('[') {
        let (addr, after) = rest.split_once(']').ok_or_else(bad)?;
        let ip: std::net::Ipv6Addr = addr.parse().map_err(|_| bad())?;
        let port = match after {
            "" => String::new(),
            p => format!(
                ":{}",
                parse_port(p.strip_prefix(':').ok_or_else(bad)?).ok_or_else(bad)?
            ),
        };
        return Ok(format!("[{ip}]{port}"));
    }
    let (name, port) = match raw.rsplit_once(':') {
        Some((n, p)) => (n, Some(parse_port(p).ok_or_else(bad)?)),
        None => (raw, None),
    };
    if name.is_empty() {
        return Err(bad());
    }
    let ascii = idna::domain_to_ascii(name).map_err(|_| bad())?;
    if ascii.is_empty()
        || ascii.len() > 253
        || !ascii
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
    {
        return Err(bad());
    }
    Ok(match port {
        Some(p) => format!("{ascii}:{p}"),
        None => ascii,
    })
}

fn parse_port(p: &str) -> Option<u16> {
    if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    p.parse().ok()
}

/// The target of a WebFinger query (RFC 7033 §4.5): any URI.
///
/// `acct:` URIs and `http(s)` URLs are parsed and normalised; any other
/// scheme is kept verbatim, so that a server can answer 404 for it rather
/// than 400 (WF-SRV-18).
///
/// ```
/// use ostatus_webfinger::Resource;
///
/// let r = Resource::parse("acct:alice@example.org")?;
/// assert_eq!(r.host().as_deref(), Some("example.org"));
///
/// let r = Resource::parse("https://example.org/users/alice")?;
/// assert!(matches!(r, Resource::Url(_)));
///
/// let r = Resource::parse("mailto:alice@example.org")?;
/// assert_eq!(r.to_string(), "mailto:alice@example.org");
///
/// // Bare `user@host` is not a URI; `parse_lenient` reads it as acct.
/// assert!(Resource::parse("alice@example.org").is_err());
/// assert_eq!(Resource::parse_lenient("alice@example.org")?.to_string(), "acct:alice@example.org");
/// # Ok::<(), ostatus_webfinger::AcctError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Resource {
    /// An `acct:` URI.
    Acct(Acct),
    /// An `http:` or `https:` URL (a profile page, a post, a blog).
    Url(Url),
    /// A URI of any other scheme, kept as given (`mailto:bob@example.com`, `foo://x`).
    Other(String),
}

impl Resource {
    /// Parses an absolute URI. Bare `user@host` is refused ([`AcctError::NoScheme`]);
    /// see [`Resource::parse_lenient`].
    ///
    /// # Errors
    ///
    /// [`AcctError`] when the input is not an absolute URI, or an `acct:` or
    /// `http(s):` URI that does not parse.
    pub fn parse(input: &str) -> Result<Self, AcctError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(AcctError::Empty);
        }
        let Some(scheme) = uri_scheme(s) else {
            return Err(AcctError::NoScheme(input.to_owned()));
        };
        if scheme.eq_ignore_ascii_case("acct") {
            return Acct::parse(s).map(Resource::Acct);
        }
        if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") {
            let url = Url::parse(s).map_err(|_| AcctError::BadUri(input.to_owned()))?;
            if url.host_str().is_none_or(str::is_empty) {
                return Err(AcctError::BadUri(input.to_owned()));
            }
            return Ok(Resource::Url(url));
        }
        if s.chars().any(|c| c.is_control() || c == ' ') {
            return Err(AcctError::BadUri(input.to_owned()));
        }
        Ok(Resource::Other(s.to_owned()))
    }

    /// Like [`Resource::parse`], but also reads bare `user@host` and
    /// `@user@host` as `acct:` URIs, as Mastodon and GNU social servers do.
    ///
    /// # Errors
    ///
    /// [`AcctError`] when the input is neither an absolute URI nor `user@host`.
    pub fn parse_lenient(input: &str) -> Result<Self, AcctError> {
        match Self::parse(input) {
            Err(AcctError::NoScheme(_)) => Acct::parse(input).map(Resource::Acct),
            // `user@host:port` looks like scheme `user@host`? No: `@` is not a
            // scheme character, so that case already lands above.
            other => other,
        }
    }

    /// The host a WebFinger query for this resource goes to (RFC 7033 §4,
    /// WF-CLI-05): the acct host, the URL's `host[:port]`, or for `mailto:`
    /// the domain after the last `@` (WF-APP-02). `None` for schemes with no
    /// host.
    pub fn host(&self) -> Option<String> {
        match self {
            Resource::Acct(a) => Some(a.host().to_owned()),
            Resource::Url(u) => {
                let host = u.host_str()?;
                Some(match u.port() {
                    Some(p) => format!("{host}:{p}"),
                    None => host.to_owned(),
                })
            }
            Resource::Other(s) => {
                let rest = strip_scheme(s, "mailto")?;
                let addr = rest.split('?').next()?;
                let (_, host) = addr.rsplit_once('@')?;
                normalize_host(host).ok()
            }
        }
    }

    /// The account, if this is an `acct:` resource.
    pub fn as_acct(&self) -> Option<&Acct> {
        match self {
            Resource::Acct(a) => Some(a),
            _ => None,
        }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Resource::Acct(a) => a.fmt(f),
            Resource::Url(u) => f.write_str(u.as_str()),
            Resource::Other(s) => f.write_str(s),
        }
    }
}

impl FromStr for Resource {
    type Err = AcctError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl From<Acct> for Resource {
    fn from(a: Acct) -> Self {
        Resource::Acct(a)
    }
}

impl From<Url> for Resource {
    fn from(u: Url) -> Self {
        Resource::Url(u)
    }
}

/// The scheme of an absolute URI: `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )` before `:`.
fn uri_scheme(s: &str) -> Option<&str> {
    let (scheme, _) = s.split_once(':')?;
    let mut bytes = scheme.bytes();
    let first = bytes.next()?;
    if !first.is_ascii_alphabetic() {
        return None;
    }
    if bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')) {
        Some(scheme)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn acct_forms() {
        // ACCT-01, ACCT-04
        for s in [
            "acct:bob@example.com",
            "ACCT:bob@Example.COM",
            "bob@example.com",
            "@bob@example.com",
            " acct:bob@example.com ",
        ] {
            let a = Acct::parse(s).unwrap();
            assert_eq!(a.to_string(), "acct:bob@example.com", "{s}");
        }
    }

    #[test]
    fn acct_user_case_kept() {
        let a = Acct::parse("acct:Bob@example.com").unwrap();
        let b = Acct::parse("acct:bob@example.com").unwrap();
        assert_ne!(a, b);
        assert!(a.eq_ignore_user_case(&b));
    }

    #[test]
    fn acct_percent_normalisation() {
        // ACCT-04: uppercase hex, unreserved decoded; RFC 7565 §4 example.
        let a = Acct::parse("acct:juliet%40capulet.example@shoppingsite.example").unwrap();
        assert_eq!(a.user(), "juliet%40capulet.example");
        assert_eq!(a.user_decoded(), "juliet@capulet.example");
        let b = Acct::parse("acct:%62ob%c3%b6@example.com").unwrap();
        assert_eq!(b.user(), "bob%C3%B6");
        let c = Acct::parse("böb@example.com").unwrap();
        assert_eq!(c.user(), "b%C3%B6b");
        // A raw second '@' splits at the last one.
        let d = Acct::parse("juliet@capulet.example@shoppingsite.example").unwrap();
        assert_eq!(d.user(), "juliet%40capulet.example");
        assert_eq!(d.host(), "shoppingsite.example");
    }

    #[test]
    fn acct_rejects() {
        // ACCT-05: escapes decoding to control characters or space are refused.
        assert!(matches!(
            Acct::parse("acct:bob%00@x.org"),
            Err(AcctError::BadUser(_))
        ));
        assert!(matches!(
            Acct::parse("acct:bo b@x.org"),
            Err(AcctError::BadUser(_))
        ));
        assert!(matches!(
            Acct::parse("acct:bob%2@x.org"),
            Err(AcctError::BadUser(_))
        ));
        assert!(matches!(
            Acct::parse("acct:bob%ff@x.org"),
            Err(AcctError::BadUser(_))
        ));
        assert!(matches!(Acct::parse("acct:bob"), Err(AcctError::MissingAt(_))));
        assert!(matches!(Acct::parse("acct:@x.org"), Err(AcctError::EmptyUser(_))));
        assert!(matches!(Acct::parse("acct:bob@"), Err(AcctError::EmptyHost(_))));
        assert!(matches!(
            Acct::parse("bob@exa mple.org"),
            Err(AcctError::BadHost(_))
        ));
        assert!(matches!(
            Acct::parse("bob@x.org:99999"),
            Err(AcctError::BadHost(_))
        ));
        assert!(matches!(Acct::parse(""), Err(AcctError::Empty)));
    }

    #[test]
    fn acct_03_user_part_conforms_to_the_precis_identifier_class() {
        // Letters and digits of any script, and printable ASCII, are allowed.
        for ok in ["alice", "x!y", "日本語", "Ålesund", "e\u{301}", "%E6%97%A5"] {
            assert!(Acct::parse(&format!("acct:{ok}@example.com")).is_ok(), "{ok}");
        }
        assert_eq!(
            Acct::new("日本語", "example.com").unwrap().user(),
            "%E6%97%A5%E6%9C%AC%E8%AA%9E"
        );
        // Symbols, compatibility characters and non-ASCII spaces are not,
        // raw or percent-encoded, parsed or built.
        for (bad, cp) in [
            ("a😀", '😀'),
            ("a%F0%9F%98%80", '😀'),
            ("a\u{2163}", '\u{2163}'),
            ("a\u{00A7}b", '\u{00A7}'),
            ("a\u{00BF}", '\u{00BF}'),
        ] {
            let got = Acct::parse(&format!("acct:{bad}@example.com"));
            assert!(
                matches!(got, Err(AcctError::NotIdentifier { code_point, .. }) if code_point == cp),
                "{bad}: {got:?}"
            );
        }
        assert!(matches!(
            Acct::new("a😀", "example.com"),
            Err(AcctError::NotIdentifier { .. })
        ));
        // A zero-width joiner outside its context (CONTEXTJ) is refused.
        assert!(Acct::parse("acct:a\u{200D}b@example.com").is_err());
    }

    #[test]
    fn hosts() {
        // ACCT-03: IDN to A-labels.
        assert_eq!(
            Acct::parse("a@ZETSUBOU.みんな").unwrap().host(),
            "zetsubou.xn--q9jyb4c"
        );
        assert_eq!(
            Acct::parse("a@Example.com:8443").unwrap().host(),
            "example.com:8443"
        );
        assert_eq!(Acct::parse("a@[::1]:80").unwrap().host(), "[::1]:80");
        assert_eq!(Acct::parse("a@127.0.0.1").unwrap().host(), "127.0.0.1");
    }

    #[test]
    fn resources() {
        // WF-SRV-18: any scheme.
        assert!(matches!(
            Resource::parse("mailto:a@b.c").unwrap(),
            Resource::Other(_)
        ));
        assert!(matches!(
            Resource::parse("foo://example.com").unwrap(),
            Resource::Other(_)
        ));
        assert_eq!(
            Resource::parse("mailto:a@B.c").unwrap().host().as_deref(),
            Some("b.c")
        );
        assert_eq!(Resource::parse("foo://example.com").unwrap().host(), None);
        assert!(matches!(
            Resource::parse("=acct:a@b.c"),
            Err(AcctError::NoScheme(_))
        ));
        assert!(matches!(Resource::parse("a@b.c"), Err(AcctError::NoScheme(_))));
        assert!(matches!(Resource::parse("https://"), Err(AcctError::BadUri(_))));
        let u = Resource::parse("https://Example.org:8443/@bob").unwrap();
        assert_eq!(u.host().as_deref(), Some("example.org:8443"));
        assert_eq!(
            Resource::parse_lenient("@bob@example.org").unwrap(),
            Resource::Acct(Acct::new("bob", "example.org").unwrap())
        );
    }
}
