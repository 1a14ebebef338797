//! TLS (`-Z`): memcached's `ssl_*` options, the server's certificate and key loaded into a
//! rustls configuration every shard shares, and `refresh_certs`, which loads them again.
//!
//! The sessions themselves live in each shard's network ring (`shard/ring/tls.rs`): a
//! connection's plaintext is what its `conn` reads and writes, so nothing above the ring
//! knows a connection is encrypted.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, RwLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ServerSessionMemoryCache, StoresServerSessions, WebPkiClientVerifier};
use rustls::{RootCertStore, ServerConfig};

/// memcached's `ssl_*` suboptions as given (shown by `stats settings` whether or not `-Z`
/// is on, as memcached shows them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SslOptions {
    pub chain_cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// OpenSSL's file type: 1 PEM (the only one taken).
    pub keyformat: u32,
    /// memcached's 0 none, 1 request, 2 require, 3 require once.
    pub verify_mode: u8,
    pub ciphers: Option<String>,
    pub ca_cert: Option<PathBuf>,
    /// Bytes (the option is in kilobytes).
    pub wbuf_size: u64,
    pub session_cache: bool,
    pub kernel_tls: bool,
    /// memcached's 0 TLS 1.0, 1 TLS 1.1, 2 TLS 1.2, 3 TLS 1.3.
    pub min_version: u8,
}

impl Default for SslOptions {
    fn default() -> Self {
        SslOptions {
            chain_cert: None,
            key: None,
            keyformat: 1,
            verify_mode: 0,
            ciphers: None,
            ca_cert: None,
            wbuf_size: 16 << 10,
            session_cache: false,
            kernel_tls: false,
            min_version: 2,
        }
    }
}

/// memcached's names of the `ssl_min_version` values.
const VERSION_NAMES: [&str; 4] = ["tlsv1.0", "tlsv1.1", "tlsv1.2", "tlsv1.3"];

impl SslOptions {
    /// Takes one `-o` suboption; false when `name` is not an `ssl_*` one.
    pub fn set(&mut self, name: &str, value: Option<&str>) -> Result<bool, String> {
        let need = |v: Option<&str>| {
            v.filter(|v| !v.is_empty())
                .map(str::to_string)
                .ok_or_else(|| format!("-o {name}: needs a value ({name}=...)"))
        };
        match name {
            "ssl_chain_cert" => self.chain_cert = Some(need(value)?.into()),
            "ssl_key" => self.key = Some(need(value)?.into()),
            "ssl_ca_cert" => self.ca_cert = Some(need(value)?.into()),
            "ssl_ciphers" => self.ciphers = Some(need(value)?),
            "ssl_keyformat" => {
                let v = need(value)?;
                self.keyformat = v
                    .parse()
                    .map_err(|_| format!("-o ssl_keyformat={v}: expected a number (1: PEM)"))?;
            }
            "ssl_verify_mode" => {
                let v = need(value)?;
                self.verify_mode = v.parse().ok().filter(|m| *m <= 3).ok_or_else(|| {
                    format!("-o ssl_verify_mode={v}: expected 0 (none), 1 (request), 2 (require) or 3 (once)")
                })?;
            }
            "ssl_min_version" => {
                let v = need(value)?;
                self.min_version = v.parse().ok().filter(|m| *m <= 3).ok_or_else(|| {
                    format!("-o ssl_min_version={v}: expected 0 (tlsv1.0), 1 (tlsv1.1), 2 (tlsv1.2) or 3 (tlsv1.3)")
                })?;
            }
            "ssl_wbuf_size" => {
                let v = need(value)?;
                let kb: u64 = v
                    .parse()
                    .map_err(|_| format!("-o ssl_wbuf_size={v}: expected kilobytes"))?;
                self.wbuf_size = kb << 10;
            }
            "ssl_session_cache" => self.session_cache = true,
            "ssl_kernel_tls" => self.kernel_tls = true,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// memcached's `stats settings` lines for TLS, in its order.
    pub fn settings_stats(&self, enabled: bool) -> Vec<(&'static str, String)> {
        let path = |p: &Option<PathBuf>, none: &str| {
            p.as_ref()
                .map_or(none.to_string(), |p| p.display().to_string())
        };
        // OpenSSL's SSL_VERIFY_* bits memcached shows.
        let verify = [0, 1, 3, 7][self.verify_mode as usize];
        vec![
            ("ssl_enabled", yes_no(enabled).to_string()),
            ("ssl_chain_cert", path(&self.chain_cert, "(null)")),
            ("ssl_key", path(&self.key, "(null)")),
            ("ssl_verify_mode", verify.to_string()),
            ("ssl_keyformat", self.keyformat.to_string()),
            (
                "ssl_ciphers",
                self.ciphers.clone().unwrap_or_else(|| "NULL".into()),
            ),
            ("ssl_ca_cert", path(&self.ca_cert, "NULL")),
            ("ssl_wbuf_size", self.wbuf_size.to_string()),
            ("ssl_session_cache", yes_no(self.session_cache).to_string()),
            ("ssl_kernel_tls", yes_no(self.kernel_tls).to_string()),
            (
                "ssl_min_version",
                VERSION_NAMES[self.min_version as usize].to_string(),
            ),
        ]
    }

    /// The warnings for what rustls does otherwise than OpenSSL would.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if self.min_version < 2 {
            w.push(format!(
                "-o ssl_min_version={}: corecached's TLS (rustls) has no TLS 1.0 or 1.1; the minimum is TLS 1.2",
                self.min_version
            ));
        }
        if let Some(c) = &self.ciphers {
            w.push(format!(
                "-o ssl_ciphers={c}: OpenSSL cipher lists have no effect in corecached; rustls' own cipher suites are offered"
            ));
        }
        if self.verify_mode == 1 && self.ca_cert.is_none() {
            w.push("-o ssl_verify_mode=1 without ssl_ca_cert: no client certificate is asked for (none could be checked); add -o ssl_ca_cert=CA.pem to check those clients send".into());
        }
        if self.verify_mode >= 2 && self.ca_cert.is_none() {
            w.push(format!("-o ssl_verify_mode={} without ssl_ca_cert: a client certificate is required and none can be checked, so every TLS client is refused; add -o ssl_ca_cert=CA.pem", self.verify_mode));
        }
        if self.verify_mode == 3 {
            w.push("-o ssl_verify_mode=3: served as 2 (a client certificate is required at every handshake; corecached has no renegotiation, so \"once\" changes nothing)".into());
        }
        if self.kernel_tls {
            w.push("-o ssl_kernel_tls: no effect in corecached (records are encrypted in the shard; this kernel offers no TLS offload); accepted and ignored".into());
        }
        if self.wbuf_size != 16 << 10 {
            w.push("-o ssl_wbuf_size: no effect in corecached (a reply is encrypted whole); accepted and ignored".into());
        }
        w
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// The TLS every shard serves with: the configuration new connections take (replaced by
/// `refresh_certs`), and what `stats` shows of it.
pub struct Tls {
    pub options: SslOptions,
    config: RwLock<Arc<ServerConfig>>,
    /// Unix seconds of the last load of the certificate files.
    loaded_at: AtomicU64,
    sessions: Arc<Sessions>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// Loads the certificate, key and CAs `options` name: an error is one sentence that
    /// names the option and the file.
    pub fn load(options: SslOptions) -> Result<Tls, String> {
        if options.keyformat != 1 {
            return Err(format!("-o ssl_keyformat={}: corecached reads PEM keys only (1, the default); convert the key with `openssl pkey -in KEY -out KEY.pem` and leave ssl_keyformat out", options.keyformat));
        }
        if options.chain_cert.is_none() {
            return Err("-Z/--enable-ssl needs the server's certificate: add -o ssl_chain_cert=CERT.pem,ssl_key=KEY.pem".into());
        }
        let sessions = Arc::new(Sessions {
            cache: options
                .session_cache
                .then(|| ServerSessionMemoryCache::new(1024)),
            new: AtomicU64::new(0),
        });
        let config = server_config(&options, &sessions)?;
        Ok(Tls {
            options,
            config: RwLock::new(Arc::new(config)),
            loaded_at: AtomicU64::new(unix_now()),
            sessions,
        })
    }

    /// The configuration a new connection takes.
    pub fn config(&self) -> Arc<ServerConfig> {
        self.config
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// `refresh_certs`: loads the files again; new connections get them, open ones keep
    /// theirs. On failure nothing changes, and the error line is memcached's (without
    /// OpenSSL's error code).
    pub fn refresh(&self) -> Result<(), String> {
        match server_config(&self.options, &self.sessions) {
            Ok(c) => {
                *self.config.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(c);
                self.loaded_at.store(unix_now(), Relaxed);
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Seconds since the certificate files were last loaded.
    pub fn since_refresh(&self) -> u64 {
        unix_now().saturating_sub(self.loaded_at.load(Relaxed))
    }

    /// Sessions put in the session cache (`ssl_session_cache`), for `stats`.
    pub fn new_sessions(&self) -> u64 {
        self.sessions.new.load(Relaxed)
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Why a file could not be used, in a few words.
fn why(e: &rustls::pki_types::pem::Error) -> String {
    use rustls::pki_types::pem::Error;
    match e {
        Error::Io(e) => e.to_string(),
        Error::NoItemsFound => "no PEM section of the expected kind in it".into(),
        _ => format!("not valid PEM ({e})"),
    }
}

fn server_config(o: &SslOptions, sessions: &Arc<Sessions>) -> Result<ServerConfig, String> {
    let cert_path = o.chain_cert.as_deref().unwrap_or(Path::new(""));
    let shown = cert_path.display();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_path)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            format!(
                "-o ssl_chain_cert={shown}: cannot load the certificate chain: {}",
                why(&e)
            )
        })?;
    if certs.is_empty() {
        return Err(format!("-o ssl_chain_cert={shown}: cannot load the certificate chain: no CERTIFICATE in it; give the server's certificate in PEM"));
    }
    // memcached reads the key from the chain file when ssl_key is not given.
    let key_path = o.key.as_deref().unwrap_or(cert_path);
    let key_shown = key_path.display();
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|e| {
        format!(
            "-o ssl_key={key_shown}: cannot load the private key: {}",
            why(&e)
        )
    })?;
    // The ring provider, not aws-lc-rs (which needs a C toolchain and cmake to build);
    // its deprecation is for post-quantum key exchange, which memcached offers none of.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] = if o.min_version >= 3 {
        &[&rustls::version::TLS13]
    } else {
        &[&rustls::version::TLS13, &rustls::version::TLS12]
    };
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|e| format!("-o ssl_min_version: {e}"))?;
    let builder = match (o.verify_mode, &o.ca_cert) {
        // Without CAs a certificate could only fail: none is asked for (see `warnings`).
        (0, _) | (1, None) => builder.with_no_client_auth(),
        // A certificate is required and none can be checked: every client is refused at
        // its handshake, as by memcached (fail closed; `warnings` says so at start).
        (_, None) => builder.with_client_cert_verifier(Arc::new(NoClientPasses(
            provider
                .signature_verification_algorithms
                .supported_schemes(),
        ))),
        (mode, Some(ca)) => {
            let ca_shown = ca.display();
            let mut roots = RootCertStore::empty();
            let cas = CertificateDer::pem_file_iter(ca)
                .and_then(|i| i.collect::<Result<Vec<_>, _>>())
                .map_err(|e| {
                    format!(
                        "-o ssl_ca_cert={ca_shown}: cannot load the CA certificates: {}",
                        why(&e)
                    )
                })?;
            for c in cas {
                roots.add(c).map_err(|e| {
                    format!("-o ssl_ca_cert={ca_shown}: a CA certificate is not valid: {e}")
                })?;
            }
            let v = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let v = if mode == 1 {
                v.allow_unauthenticated()
            } else {
                v
            };
            let v = v.build().map_err(|e| {
                format!("-o ssl_ca_cert={ca_shown}: cannot check client certificates with it: {e}")
            })?;
            builder.with_client_cert_verifier(v)
        }
    };
    let mut config = builder.with_single_cert(certs, key).map_err(|e| {
        format!("-o ssl_key={key_shown}: the key does not fit the certificate in {shown}: {e}")
    })?;
    config.session_storage = sessions.clone();
    // memcached's OpenSSL issues no tickets (stateless resumption) either.
    config.send_tls13_tickets = if o.session_cache { 2 } else { 0 };
    Ok(config)
}

/// What every check of [`NoClientPasses`] answers.
fn unknown_issuer<T>() -> Result<T, rustls::Error> {
    Err(rustls::Error::InvalidCertificate(
        rustls::CertificateError::UnknownIssuer,
    ))
}

/// Client certificates required, with no CA to check them against: every one fails.
#[derive(Debug)]
struct NoClientPasses(Vec<rustls::SignatureScheme>);

impl rustls::server::danger::ClientCertVerifier for NoClientPasses {
    fn root_hint_subjects(&self) -> &[rustls::DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::server::danger::ClientCertVerified, rustls::Error> {
        unknown_issuer()
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        unknown_issuer()
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        unknown_issuer()
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.clone()
    }
}

/// The session cache (`ssl_session_cache`), counting sessions put in it
/// (`ssl_new_sessions`); without the option it keeps nothing.
#[derive(Debug)]
struct Sessions {
    cache: Option<Arc<ServerSessionMemoryCache>>,
    new: AtomicU64,
}

impl StoresServerSessions for Sessions {
    fn put(&self, key: Vec<u8>, value: Vec<u8>) -> bool {
        let Some(c) = &self.cache else { return false };
        let stored = c.put(key, value);
        if stored {
            self.new.fetch_add(1, Relaxed);
        }
        stored
    }
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.cache.as_ref()?.get(key)
    }
    fn take(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.cache.as_ref()?.take(key)
    }
    fn can_cache(&self) -> bool {
        self.cache.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(subopts: &[(&str, Option<&str>)]) -> SslOptions {
        let mut o = SslOptions::default();
        for (n, v) in subopts {
            assert!(o.set(n, *v).unwrap(), "{n}");
        }
        o
    }

    #[test]
    fn what_rustls_does_otherwise_is_one_warning_each() {
        let o = options(&[
            ("ssl_min_version", Some("1")),
            ("ssl_ciphers", Some("HIGH")),
            ("ssl_verify_mode", Some("1")),
            ("ssl_kernel_tls", None),
            ("ssl_wbuf_size", Some("32")),
        ]);
        let w = o.warnings();
        assert_eq!(w.len(), 5, "{w:?}");
        for (warning, names) in w.iter().zip([
            "ssl_min_version=1",
            "ssl_ciphers=HIGH",
            "ssl_verify_mode=1",
            "ssl_kernel_tls",
            "ssl_wbuf_size",
        ]) {
            assert!(warning.starts_with(&format!("-o {names}")), "{warning}");
        }
        assert!(SslOptions::default().warnings().is_empty());
        assert!(!SslOptions::default().set("hashpower", Some("4")).unwrap());
    }

    #[test]
    fn load_errors_name_the_option_and_the_file() {
        let missing = "/nonexistent/corecached-test.pem";
        for (o, needle) in [
            (options(&[]), "ssl_chain_cert=CERT.pem"),
            (
                options(&[("ssl_chain_cert", Some(missing))]),
                "-o ssl_chain_cert=/nonexistent/corecached-test.pem: cannot load",
            ),
            (
                options(&[
                    ("ssl_chain_cert", Some(missing)),
                    ("ssl_keyformat", Some("2")),
                ]),
                "-o ssl_keyformat=2",
            ),
        ] {
            let e = Tls::load(o).unwrap_err();
            assert!(e.contains(needle), "{e}");
        }
    }
}
