//! Outbound requests ("subrequests") made by a guest through
//! wasi:http/outgoing-handler: counted against the per-request limit, and
//! sent only to permitted destinations. The host name is resolved here, every
//! resolved address is checked, and the connection goes to the checked
//! address, so a name that resolves to 127.0.0.1 is refused like the literal.
//! A refusal (by the destination policy or the subrequest limit) is written
//! to the function's log with the destination, the reason and how to allow
//! it; the guest sees the standard wasi:http error code.
use crate::invoke::Gate;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

/// One allow-list entry: an address range in CIDR form, optionally limited
/// to one port: `10.0.0.0/8`, `127.0.0.1/32:8080`, `::1`, `[fd00::/8]:443`.
#[derive(Clone, Debug)]
pub(crate) struct Cidr {
    net: IpAddr,
    prefix: u8,
    /// None: every port.
    port: Option<u16>,
}

impl Cidr {
    pub(crate) fn parse(s: &str) -> Result<Cidr, String> {
        let bad_port = || format!("invalid port in allow-list entry `{s}` (1-65535)");
        // `[range]:port` for IPv6; `range:port` for IPv4 (one colon); an
        // IPv6 range without brackets has no port.
        let (range, port) = if let Some(rest) = s.strip_prefix('[') {
            let (range, after) = rest.split_once(']').ok_or_else(|| format!("missing `]` in allow-list entry `{s}`"))?;
            let port = after.strip_prefix(':').ok_or_else(bad_port)?;
            (range, Some(port))
        } else if s.matches(':').count() == 1 {
            let (range, port) = s.split_once(':').unwrap_or((s, ""));
            (range, Some(port))
        } else {
            (s, None)
        };
        let port = match port {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                Some(p.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(bad_port)?)
            }
            Some(_) => return Err(bad_port()),
            None => None,
        };
        let (ip, prefix) = match range.split_once('/') {
            Some((ip, p)) => (ip, Some(p)),
            None => (range, None),
        };
        let net: IpAddr = ip.parse().map_err(|_| format!("invalid address in allow-list entry `{s}`"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max)
                .ok_or_else(|| format!("invalid prefix length in allow-list entry `{s}`"))?,
            None => max,
        };
        Ok(Cidr { net, prefix, port })
    }

    fn contains_ip(&self, ip: IpAddr) -> bool {
        match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = if self.prefix == 0 { 0 } else { u32::MAX << (32 - self.prefix) };
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = if self.prefix == 0 { 0 } else { u128::MAX << (128 - self.prefix) };
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }

    fn contains(&self, addr: SocketAddr) -> bool {
        self.port.is_none_or(|p| p == addr.port()) && self.contains_ip(addr.ip())
    }
}

/// Where the node itself listens. A guest never reaches it through an
/// allow-list entry that covers all ports (allowing 127.0.0.1/32 must not
/// open the node's own API to its guests); only an entry naming exactly
/// that port does.
#[derive(Clone, Debug, Default)]
pub(crate) struct NodeListener {
    /// The addresses the listener accepts connections on, and its port.
    addrs: Vec<IpAddr>,
    /// Listening on 0.0.0.0 or ::: every local address reaches it.
    any_local: bool,
    port: u16,
}

impl NodeListener {
    pub(crate) fn new(host: &str, port: u16) -> NodeListener {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<IpAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => std::net::ToSocketAddrs::to_socket_addrs(&(host, port))
                .map(|a| a.map(|a| a.ip()).collect())
                .unwrap_or_default(),
        };
        let any_local = addrs.iter().any(|a| a.is_unspecified());
        NodeListener { addrs, any_local, port }
    }

    /// Whether connecting to `addr` would reach the node's listener. For a
    /// listener on every address, any destination that is not public (a
    /// loopback, private or link-local address, where the node's host
    /// lives) counts: cheaper and safer than listing the host's interfaces.
    fn reaches(&self, addr: SocketAddr) -> bool {
        if self.port == 0 || addr.port() != self.port {
            return false;
        }
        let ip = canonical(addr.ip());
        ip.is_unspecified() || (self.any_local && !is_public(ip)) || self.addrs.iter().any(|a| canonical(*a) == ip)
    }
}

/// IPv4-mapped IPv6 addresses (::ffff:127.0.0.1) are the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn v4_is_public(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    !(ip.is_loopback()                      // 127/8
        || ip.is_private()                  // 10/8, 172.16/12, 192.168/16
        || ip.is_link_local()               // 169.254/16
        || ip.is_unspecified() || o[0] == 0 // 0/8
        || ip.is_broadcast() || ip.is_multicast() || ip.is_documentation()
        || (o[0] == 100 && (o[1] & 0xc0) == 64)  // 100.64/10 shared address space
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // 192.0.0/24 protocol assignments
        || (o[0] == 198 && (o[1] & 0xfe) == 18)   // 198.18/15 benchmarking
        || o[0] >= 240)                           // reserved
}

fn v6_is_public(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_is_public(v4);
    }
    let s = ip.segments();
    !(ip.is_loopback() || ip.is_unspecified() || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00   // fc00::/7 unique local
        || (s[0] & 0xffc0) == 0xfe80   // fe80::/10 link-local
        || (s[0] & 0xffc0) == 0xfec0   // fec0::/10 site-local (deprecated)
        || (s[0] == 0x64 && s[1] == 0xff9b) // 64:ff9b::/96 NAT64 (embeds v4)
        || s[0] == 0x2001 && s[1] == 0x0db8) // documentation
}

fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4_is_public(v4),
        IpAddr::V6(v6) => v6_is_public(v6),
    }
}

/// What a non-public address is, for a refusal's reason.
fn kind_of(ip: IpAddr) -> &'static str {
    match canonical(ip) {
        IpAddr::V4(v4) if v4.is_loopback() => "loopback address",
        IpAddr::V4(v4) if v4.is_private() => "private address",
        IpAddr::V4(v4) if v4.is_link_local() => "link-local address",
        IpAddr::V6(v6) if v6.is_loopback() => "loopback address",
        IpAddr::V6(v6) if (v6.segments()[0] & 0xfe00) == 0xfc00 => "private (unique local) address",
        IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80 => "link-local address",
        _ => "non-public address",
    }
}

/// Why a guest may not connect to `addr`, or None when it may: the node's
/// own listener only with an entry for exactly its port; other public
/// addresses always; the rest only when an allow-list entry covers them.
pub(crate) fn refusal(addr: SocketAddr, allow: &[Cidr], node: &NodeListener) -> Option<String> {
    if node.reaches(addr) {
        let a = SocketAddr::new(canonical(addr.ip()), addr.port());
        if allow.iter().any(|c| c.port == Some(addr.port()) && (c.contains(addr) || c.contains(a))) {
            return None;
        }
        return Some(format!(
            "the node's own listener (port {}), reachable only through an allow-list entry naming that port",
            addr.port()
        ));
    }
    if is_public(addr.ip()) || allow.iter().any(|c| c.contains(addr)) {
        return None;
    }
    let kind = kind_of(addr.ip());
    Some(if allow.is_empty() {
        format!("{kind}, denied by default")
    } else {
        format!("{kind}, not in the function's allow list")
    })
}

/// A function's allow list: the ranges, the entries as the owner wrote them
/// (a refusal's hint repeats them: the setting is replaced as a whole) and
/// the function's name.
#[derive(Default)]
pub(crate) struct AllowList {
    pub(crate) ranges: Vec<Cidr>,
    pub(crate) entries: Vec<String>,
    pub(crate) function: String,
}

impl AllowList {
    /// How the owner allows `addrs`: an allow entry for exactly each address
    /// and port, added to the function's own, in the CLI's and fn0.toml's
    /// spelling.
    fn hint(&self, addrs: &[SocketAddr]) -> String {
        let mut entries = self.entries.clone();
        for addr in addrs {
            let entry = match canonical(addr.ip()) {
                IpAddr::V4(v4) => format!("{v4}/32:{}", addr.port()),
                IpAddr::V6(v6) => format!("[{v6}/128]:{}", addr.port()),
            };
            if !entries.contains(&entry) {
                entries.push(entry);
            }
        }
        let name = if self.function.is_empty() { "NAME" } else { self.function.as_str() };
        let toml: Vec<String> = entries.iter().map(|e| format!("\"{e}\"")).collect();
        format!(
            "allow it with: fn0 settings {name} allow={} (or [settings] allow = [{}] in fn0.toml)",
            entries.join(","),
            toml.join(", ")
        )
    }
}

/// The wasi:http hooks of one request.
#[derive(Default)]
pub(crate) struct Outbound {
    pub(crate) max_subrequests: u32,
    pub(crate) sent: u32,
    pub(crate) allow: Arc<AllowList>,
    pub(crate) node: Arc<NodeListener>,
    /// The request's log stream, for the lines that say why a subrequest was
    /// refused (None: nowhere).
    log: Option<Arc<Gate>>,
}

impl Outbound {
    pub(crate) fn new(max_subrequests: u32, allow: Arc<AllowList>, node: Arc<NodeListener>, log: Arc<Gate>) -> Self {
        Outbound { max_subrequests, sent: 0, allow, node, log: Some(log) }
    }

    /// Where refusal lines go from now on (an instance serving several
    /// requests: the newest one's stream).
    pub(crate) fn set_log(&mut self, log: Arc<Gate>) {
        self.log = Some(log);
    }
}

/// Writes one platform line to the request's log stream (stderr).
fn log_line(log: &Option<Arc<Gate>>, line: &str) {
    if let Some(gate) = log {
        gate.log(2, format!("[fn0] {line}").as_bytes());
    }
}

type IoFuture = Box<dyn Future<Output = Result<(), Error>> + Send>;
type SendFuture = Box<dyn Future<Output = Result<(http::Response<WasiBody>, IoFuture), Error>> + Send>;

impl WasiHttpHooks for Outbound {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: IoFuture,
    ) -> SendFuture {
        drop(fut);
        self.sent += 1;
        let over = self.sent > self.max_subrequests;
        let max = self.max_subrequests;
        if over && self.sent == max.saturating_add(1) {
            // Once per request: a guest retrying in a loop must not flood its log.
            let to = request.uri().authority().map(|a| a.as_str().to_string()).unwrap_or_default();
            log_line(
                &self.log,
                &format!(
                    "subrequest {} (to {to}) refused: the limit is {max} subrequests per request \
                     (setting max_subrequests); later ones are refused too",
                    self.sent
                ),
            );
        }
        let (allow, node, log) = (self.allow.clone(), self.node.clone(), self.log.clone());
        Box::new(async move {
            if over {
                return Err(Error::InternalError(Some(format!(
                    "fn0: subrequest limit reached ({max} per request)"
                ))));
            }
            send(request, options, &allow, &node, &log).await
        })
    }
}

fn timeout(opt: Option<Duration>) -> Duration {
    opt.unwrap_or(Duration::from_secs(30))
}

async fn resolve_permitted(
    host: &str,
    port: u16,
    allow: &AllowList,
    node: &NodeListener,
    log: &Option<Arc<Gate>>,
) -> Result<SocketAddr, Error> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| Error::DnsError { rcode: Some(e.to_string()), info_code: None })?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(Error::DestinationNotFound);
    }
    // Every address the name resolves to must be permitted: a name that mixes
    // a public and a private address is refused rather than raced.
    let refused: Vec<(SocketAddr, String)> =
        addrs.iter().filter_map(|a| refusal(*a, &allow.ranges, node).map(|why| (*a, why))).collect();
    if !refused.is_empty() {
        // The guest sees the standard code; its owner reads why, and how to
        // allow it (every refused address of the name at once), in the
        // function's log.
        let shown: Vec<String> = refused.iter().map(|(a, _)| a.to_string()).collect();
        let mut reasons: Vec<&str> = Vec::new();
        for (_, why) in &refused {
            if !reasons.contains(&why.as_str()) {
                reasons.push(why);
            }
        }
        let addrs: Vec<SocketAddr> = refused.iter().map(|(a, _)| *a).collect();
        let name = if host.contains(':') { format!("[{host}]") } else { host.to_string() };
        log_line(
            log,
            &format!(
                "outbound request to {name}:{port} ({}) refused: {}; {}",
                shown.join(", "),
                reasons.join("; "),
                allow.hint(&addrs)
            ),
        );
        return Err(Error::DestinationIpProhibited);
    }
    Ok(addrs[0])
}

async fn send(
    mut request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
    allow: &AllowList,
    node: &NodeListener,
    log: &Option<Arc<Gate>>,
) -> Result<(http::Response<WasiBody>, IoFuture), Error> {
    use http_body_util::BodyExt;
    let uri = request.uri().clone();
    let use_tls = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
    let host = uri.host().ok_or(Error::HttpRequestUriInvalid)?.to_string();
    let port = uri.port_u16().unwrap_or(if use_tls { 443 } else { 80 });
    let opts = options.unwrap_or_default();

    let addr = resolve_permitted(&host, port, allow, node, log).await?;
    let tcp = tokio::time::timeout(timeout(opts.connect_timeout), TcpStream::connect(addr))
        .await
        .map_err(|_| Error::ConnectionTimeout)?
        .map_err(Error::Connect)?;

    *request.uri_mut() = http::Uri::builder()
        .path_and_query(uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"))
        .build()
        .map_err(|_| Error::HttpRequestUriInvalid)?;

    let first_byte = timeout(opts.first_byte_timeout);
    let response = if use_tls {
        let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.into() };
        let config = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from(host.clone())
            .map_err(|_| Error::HttpRequestUriInvalid)?;
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(Error::Tls)?;
        exchange(TokioIo::new(tls), request, first_byte).await?
    } else {
        exchange(TokioIo::new(tcp), request, first_byte).await?
    };
    let io: IoFuture = Box::new(async { Ok(()) });
    Ok((response.map(|b| b.map_err(Error::from).boxed_unsync()), io))
}

/// One HTTP/1.1 request on a fresh connection; the connection task runs on
/// its own until the response body is read.
async fn exchange<T>(
    io: T,
    request: http::Request<WasiBody>,
    first_byte: Duration,
) -> Result<http::Response<hyper::body::Incoming>, Error>
where
    T: hyper::rt::Read + hyper::rt::Write + Send + Unpin + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake::<_, WasiBody>(io).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    tokio::time::timeout(first_byte, sender.send_request(request))
        .await
        .map_err(|_| Error::ConnectionReadTimeout)?
        .map_err(Error::from)
}
