//! corecached through a real client library: the `memcache` crate (0.21) in its
//! ASCII mode, against `--threads 2`. A recording TCP proxy sits in between to
//! prove the client really speaks the text protocol.

mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use common::{show_short, CorecachedServer};
use corecached::shard::shard_for;
use memcache::Client;

/// Forwards every accepted connection to `upstream`, recording what clients sent.
fn recording_proxy(upstream: SocketAddr) -> (SocketAddr, Arc<Mutex<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let sent = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&sent);
    thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { break };
            let server = TcpStream::connect(upstream).expect("proxy cannot reach corecached");
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let (mut c_read, mut s_write) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            let (mut s_read, mut c_write) = (server, client);
            let log = Arc::clone(&log);
            thread::spawn(move || {
                let mut buf = [0u8; 16 * 1024];
                while let Ok(n) = c_read.read(&mut buf) {
                    if n == 0 || s_write.write_all(&buf[..n]).is_err() {
                        break;
                    }
                    log.lock().unwrap().extend_from_slice(&buf[..n]);
                }
                let _ = s_write.shutdown(Shutdown::Write);
            });
            thread::spawn(move || {
                let mut buf = [0u8; 16 * 1024];
                while let Ok(n) = s_read.read(&mut buf) {
                    if n == 0 || c_write.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = c_write.shutdown(Shutdown::Write);
            });
        }
    });
    (addr, sent)
}

struct Setup {
    _server: CorecachedServer,
    client: Client,
    sent: Arc<Mutex<Vec<u8>>>,
}

fn setup() -> Setup {
    let server = CorecachedServer::start(&["--threads", "2"]);
    let (proxy, sent) = recording_proxy(server.addr());
    let url = format!("memcache://{proxy}?protocol=ascii");
    let client = Client::connect(url.as_str()).expect("memcache client cannot connect");
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    client
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    Setup {
        _server: server,
        client,
        sent,
    }
}

impl Setup {
    /// Everything the client sent must be ASCII protocol (binary requests start
    /// with the magic byte 0x80) and contain these commands.
    fn assert_ascii(&self, commands: &[&str]) {
        let sent = self.sent.lock().unwrap().clone();
        assert!(!sent.is_empty(), "the proxy saw no traffic");
        assert_ne!(sent[0], 0x80, "the client speaks the binary protocol");
        for cmd in commands {
            let needle = format!("{cmd} ");
            assert!(
                sent.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "the client never sent an ASCII `{cmd}` command; it sent: \"{}\"",
                show_short(&sent, 2000)
            );
        }
    }
}

#[test]
fn set_get_delete() {
    let s = setup();
    let c = &s.client;
    c.set("cl_str", "hello", 0).unwrap();
    assert_eq!(c.get::<String>("cl_str").unwrap().as_deref(), Some("hello"));
    c.set("cl_bytes", &b"\x00\xff\r\n bin"[..], 100).unwrap();
    assert_eq!(
        c.get::<Vec<u8>>("cl_bytes").unwrap(),
        Some(b"\x00\xff\r\n bin".to_vec())
    );
    c.set("cl_num", 12345u64, 0).unwrap();
    assert_eq!(c.get::<u64>("cl_num").unwrap(), Some(12345));
    assert_eq!(c.get::<String>("cl_missing").unwrap(), None);
    c.set("cl_str", "replaced", 0).unwrap();
    assert_eq!(
        c.get::<String>("cl_str").unwrap().as_deref(),
        Some("replaced")
    );
    assert!(c.delete("cl_str").unwrap());
    assert!(!c.delete("cl_str").unwrap());
    assert_eq!(c.get::<String>("cl_str").unwrap(), None);
    let big = vec![b'b'; 200_000];
    c.set("cl_big", &big[..], 0).unwrap();
    assert_eq!(c.get::<Vec<u8>>("cl_big").unwrap(), Some(big));
    s.assert_ascii(&["set", "get", "delete"]);
}

#[test]
fn multi_get_across_shards() {
    let s = setup();
    let c = &s.client;
    let keys: Vec<String> = (0..50).map(|i| format!("cl_multi_{i}")).collect();
    let on_shard = |k: &String| shard_for(k.as_bytes(), 2);
    assert!(keys.iter().any(|k| on_shard(k) == 0) && keys.iter().any(|k| on_shard(k) == 1));
    for (i, k) in keys.iter().enumerate() {
        if i % 5 != 4 {
            c.set(k, format!("v{i}").as_str(), 0).unwrap();
        }
    }
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let got: HashMap<String, String> = c.gets(&refs).unwrap();
    assert_eq!(got.len(), 40, "hits: {got:?}");
    for (i, k) in keys.iter().enumerate() {
        let want = (i % 5 != 4).then(|| format!("v{i}"));
        assert_eq!(got.get(k), want.as_ref(), "key {k}");
    }
    s.assert_ascii(&["set", "gets"]);
}

#[test]
fn add_replace_append_prepend() {
    let s = setup();
    let c = &s.client;
    // In ASCII mode the crate maps NOT_STORED to Ok(()) for these commands, so
    // the effect is checked through the stored value.
    c.add("cl_add", "first", 0).unwrap();
    c.add("cl_add", "second", 0).unwrap();
    assert_eq!(c.get::<String>("cl_add").unwrap().as_deref(), Some("first"));
    c.replace("cl_replace", "x", 0).unwrap();
    assert_eq!(c.get::<String>("cl_replace").unwrap(), None);
    c.set("cl_replace", "x", 0).unwrap();
    c.replace("cl_replace", "y", 0).unwrap();
    assert_eq!(c.get::<String>("cl_replace").unwrap().as_deref(), Some("y"));
    c.set("cl_ap", "middle", 0).unwrap();
    c.append("cl_ap", "-end").unwrap();
    c.prepend("cl_ap", "start-").unwrap();
    assert_eq!(
        c.get::<String>("cl_ap").unwrap().as_deref(),
        Some("start-middle-end")
    );
    c.append("cl_ap_missing", "x").unwrap();
    c.prepend("cl_ap_missing", "x").unwrap();
    assert_eq!(c.get::<String>("cl_ap_missing").unwrap(), None);
    s.assert_ascii(&["add", "replace", "append", "prepend"]);
    let sent = s.sent.lock().unwrap().clone();
    for cmd in [
        "add cl_add 0 0 6\r\nsecond\r\n",
        "replace cl_replace 0 0 1\r\nx\r\n",
        "append cl_ap_missing 0 0 1\r\nx\r\n",
    ] {
        assert!(
            sent.windows(cmd.len()).any(|w| w == cmd.as_bytes()),
            "expected the client to send \"{}\"",
            cmd.escape_debug()
        );
    }
}

#[test]
fn cas_through_gets() {
    let s = setup();
    let c = &s.client;
    c.set("cl_cas", "one", 0).unwrap();
    let (value, _flags, cas): (Vec<u8>, u32, Option<u64>) = c.get("cl_cas").unwrap().unwrap();
    assert_eq!(value, b"one");
    let cas = cas.expect("gets must return a cas unique");
    assert!(
        c.cas("cl_cas", "two", 0, cas).unwrap(),
        "cas with the current unique"
    );
    assert!(
        !c.cas("cl_cas", "three", 0, cas).unwrap(),
        "cas with a stale unique"
    );
    assert_eq!(c.get::<String>("cl_cas").unwrap().as_deref(), Some("two"));
    let (_, _, cas2): (Vec<u8>, u32, Option<u64>) = c.get("cl_cas").unwrap().unwrap();
    assert_ne!(cas2, Some(cas), "a successful cas must change the unique");
    c.delete("cl_cas").unwrap();
    assert!(
        !c.cas("cl_cas", "four", 0, cas2.unwrap()).unwrap(),
        "cas on a missing key"
    );
    s.assert_ascii(&["gets", "cas"]);
}

#[test]
fn incr_decr_touch() {
    let s = setup();
    let c = &s.client;
    c.set("cl_counter", 10u64, 0).unwrap();
    assert_eq!(c.increment("cl_counter", 5).unwrap(), 15);
    assert_eq!(c.decrement("cl_counter", 3).unwrap(), 12);
    assert_eq!(c.decrement("cl_counter", 100).unwrap(), 0);
    assert_eq!(c.increment("cl_counter", u64::MAX).unwrap(), u64::MAX);
    assert_eq!(
        c.increment("cl_counter", 2).unwrap(),
        1,
        "incr wraps at 2^64"
    );
    assert!(c.increment("cl_counter_missing", 1).is_err());
    c.set("cl_text", "abc", 0).unwrap();
    assert!(
        c.increment("cl_text", 1).is_err(),
        "incr on a non-numeric value"
    );
    assert!(c.touch("cl_counter", 100).unwrap());
    assert!(!c.touch("cl_touch_missing", 100).unwrap());
    c.set("cl_short", "x", 0).unwrap();
    assert!(c.touch("cl_short", 1).unwrap());
    thread::sleep(Duration::from_millis(2100));
    assert_eq!(
        c.get::<String>("cl_short").unwrap(),
        None,
        "touched to 1 s, gone after 2 s"
    );
    s.assert_ascii(&["incr", "decr", "touch"]);
}
