//! What operators' client libraries read from the admin surface, run against corecached
//! (2 shards) and memcached 1.6.18 with the same calls: PHP's `Memcached::getAllKeys()`
//! (libmemcached's dump: `stats items`, then `stats cachedump`) and `getStats()`, and
//! pymemcache's `cache_memlimit`, `stats('cachedump', …)`, `stats('items')` and
//! `stats('slabs')`. Each part skips, saying why, where its interpreter or library is not
//! installed (`.ci/run` installs them: php-cli, php-memcached, pymemcache). memcached runs
//! with `-o no_modern`, whose dumps list every item of a class, as corecached's do.

mod common;

use std::net::SocketAddr;
use std::process::Command;

use common::{CorecachedServer, MemcachedServer};

/// Runs `program` with `args` and the server's port in `PORT`; its stdout, or why not.
fn run(program: &str, args: &[&str], addr: SocketAddr) -> Result<String, String> {
    let out = Command::new(program)
        .args(args)
        .env("PORT", addr.port().to_string())
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{program} exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether `program -r/-c code` runs here (the interpreter and the library are installed).
fn available(program: &str, flag: &str, code: &str) -> bool {
    Command::new(program)
        .args([flag, code])
        .output()
        .is_ok_and(|o| o.status.success())
}

const PHP: &str = r#"
$m = new Memcached();
$m->addServer('127.0.0.1', (int) getenv('PORT'));
foreach (['user:1' => 'alice', 'user:2' => 'bob', 'big' => str_repeat('x', 3000)] as $k => $v) {
    if (!$m->set($k, $v)) { fwrite(STDERR, "set $k failed\n"); exit(1); }
}
$keys = $m->getAllKeys();
if ($keys === false) { fwrite(STDERR, "getAllKeys failed: " . $m->getResultMessage() . "\n"); exit(1); }
sort($keys);
echo json_encode($keys), "\n";
$stats = array_values($m->getStats())[0];
echo $stats['curr_items'], " ", $stats['version'], " ", $stats['limit_maxbytes'], "\n";
"#;

#[test]
fn php_get_all_keys_and_get_stats_read_the_same_as_from_memcached() {
    if !available("php", "-r", "new Memcached();") {
        eprintln!("skipped: php with the memcached extension is not installed (apt-get install php-cli php-memcached)");
        return;
    }
    // Without segmented LRU memcached's cachedump lists a class's every item, as
    // corecached's does (with it, only items already moved to its cold LRU).
    let Some(mc) = MemcachedServer::start(&["-m", "64", "-o", "no_modern"]) else {
        eprintln!("skipped: memcached is not installed (apt-get install memcached)");
        return;
    };
    let cc = CorecachedServer::start(&["-t", "2", "-m", "64"]);
    let ours = run("php", &["-r", PHP], cc.addr()).unwrap();
    let theirs = run("php", &["-r", PHP], mc.addr()).unwrap();
    assert_eq!(
        ours, theirs,
        "corecached (left) and memcached (right) differ"
    );
    assert!(ours.starts_with(r#"["big","user:1","user:2"]"#), "{ours}");
}

const PYTHON: &str = r#"
import os, sys
from pymemcache.client.base import Client
c = Client(("127.0.0.1", int(os.environ["PORT"])))
for k, v in [(b"a:1", b"x" * 10), (b"a:2", b"y" * 10), (b"b", b"z" * 2000)]:
    c.set(k, v)
print(c.cache_memlimit(100))
print(c.stats()[b"limit_maxbytes"])
items = c.stats("items")
classes = sorted({k.split(b":")[1] for k in items})
print(classes, [items[b"items:%s:number" % cl] for cl in classes])
slabs = c.stats("slabs")
print([slabs[b"%s:chunk_size" % cl] for cl in classes], [slabs[b"%s:used_chunks" % cl] for cl in classes])
for cl in classes:
    dump = c.stats("cachedump", cl.decode(), "0")
    print(cl, sorted((k, v.split(b";")[0]) for k, v in dump.items()))
"#;

#[test]
fn pymemcache_cache_memlimit_and_stats_read_the_same_as_from_memcached() {
    if !available("python3", "-c", "import pymemcache") {
        eprintln!("skipped: pymemcache is not installed (apt-get install python3-pymemcache)");
        return;
    }
    // Without segmented LRU memcached's cachedump lists a class's every item, as
    // corecached's does (with it, only items already moved to its cold LRU).
    let Some(mc) = MemcachedServer::start(&["-m", "64", "-o", "no_modern"]) else {
        eprintln!("skipped: memcached is not installed (apt-get install memcached)");
        return;
    };
    let cc = CorecachedServer::start(&["-t", "2", "-m", "64"]);
    let ours = run("python3", &["-c", PYTHON], cc.addr()).unwrap();
    let theirs = run("python3", &["-c", PYTHON], mc.addr()).unwrap();
    assert_eq!(
        ours, theirs,
        "corecached (left) and memcached (right) differ"
    );
    assert!(ours.starts_with("True\n104857600\n"), "{ours}");
}
