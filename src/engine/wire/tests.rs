//! Ops encoded as a connection forwards them and decoded back as their owner reads them.

use super::*;
use crate::protocol::binary::{self as bin, BinRequest};
use crate::protocol::Request;
use crate::store::key_hash;

const LIMITS: Limits = Limits {
    item_size_max: 1024,
    use_cas: true,
};

fn parse(input: &[u8]) -> (Request<'_>, usize) {
    match text::parse(input, &LIMITS) {
        Parse::Done(req, used) => (req, used),
        other => panic!("{input:?} is not a whole request: {other:?}"),
    }
}

fn packet(input: &[u8]) -> BinRequest<'_> {
    match bin::parse(input, &LIMITS) {
        bin::Parse::Packet(p) => p.req,
        other => panic!("not a whole packet: {other:?}"),
    }
}

/// One op as the owner sees it: the request its bytes parse into, those bytes, its key and
/// the hash it carries.
type Seen = (String, Vec<u8>, Vec<u8>, Option<u64>);

fn seen(op: &KeyOp<'_>) -> Seen {
    match *op {
        KeyOp::Text {
            req,
            raw,
            key,
            hash,
        } => (format!("{req:?}"), raw.to_vec(), key.to_vec(), hash),
        KeyOp::Meta(m) => (
            format!("{m:?}"),
            m.raw.to_vec(),
            m.key_token().to_vec(),
            None,
        ),
        KeyOp::Bin(b) => (format!("{b:?}"), b.raw.to_vec(), b.key.to_vec(), None),
    }
}

#[test]
fn encoding_round_trips() {
    // Each text request as the connection reads it, and the requests its owners parse:
    // itself, or for a multi-key get, a get of each key alone.
    let table: &[(&[u8], &[&[u8]])] = &[
        (b"get a bb\r\n", &[b"get a\r\n", b"get bb\r\n"]),
        (b"gets k\r\n", &[b"gets k\r\n"]),
        (b"gat 7 one\r\n", &[b"gat 7 one\r\n"]),
        (
            b"gats -5 k1 k2\r\n",
            &[b"gats -5 k1\r\n", b"gats -5 k2\r\n"],
        ),
        (
            b"gat -2147483648 x y\r\n",
            &[b"gat -2147483648 x\r\n", b"gat -2147483648 y\r\n"],
        ),
        (
            b"get  spaced   keys \r\n",
            &[b"get spaced\r\n", b"get keys\r\n"],
        ),
        (
            b"set key 4294967295 100 7 noreply\r\nva\r\nlue\r\n",
            &[b"set key 4294967295 100 7 noreply\r\nva\r\nlue\r\n"],
        ),
        (
            b"cas key 1 2 3 1099511627776\r\nabc\r\n",
            &[b"cas key 1 2 3 1099511627776\r\nabc\r\n"],
        ),
        // Over `-I`: the line alone travels; its data block is discarded by the connection.
        (b"set big 0 0 5000\r\n", &[b"set big 0 0 5000\r\n"]),
        (b"delete d noreply\r\n", &[b"delete d noreply\r\n"]),
        (
            b"decr n 18446744073709551615\r\n",
            &[b"decr n 18446744073709551615\r\n"],
        ),
        (b"touch t 7\r\n", &[b"touch t 7\r\n"]),
        (b"flush_all 3 noreply\r\n", &[b"flush_all 3 noreply\r\n"]),
    ];
    let mut buf = Vec::new();
    let mut want: Vec<Seen> = Vec::new();
    for (input, owners) in table {
        let (req, used) = parse(input);
        assert_eq!(used, input.len());
        let raw = &input[..used];
        let keys: Vec<&[u8]> = match &req.cmd {
            Command::Get { keys, .. } => keys.iter().collect(),
            cmd => vec![cmd.key().unwrap_or_default()],
        };
        assert_eq!(keys.len(), owners.len(), "{input:?}");
        for (key, owner) in keys.iter().zip(owners.iter()) {
            let hash = (!key.is_empty()).then(|| key_hash(key));
            KeyOp::Text {
                req: &req,
                raw,
                key,
                hash,
            }
            .encode(&mut buf);
            let (want_req, _) = parse(owner);
            want.push((format!("{want_req:?}"), owner.to_vec(), key.to_vec(), hash));
        }
    }
    // Meta and binary requests travel as they came.
    let mg = b"mg foo v t\r\n";
    let (req, _) = parse(mg);
    let Command::Meta(m) = &req.cmd else {
        panic!("mg is a meta command")
    };
    KeyOp::Meta(m).encode(&mut buf);
    want.push(seen(&KeyOp::Meta(m)));
    let mut get = vec![bin::REQ_MAGIC, bin::GETK, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2];
    get.extend_from_slice(&[0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0]);
    get.extend_from_slice(b"kk");
    let b = packet(&get);
    KeyOp::Bin(&b).encode(&mut buf);
    want.push(seen(&KeyOp::Bin(&b)));

    let mut pos = 0;
    for w in &want {
        let (got, used) = decode(&buf[pos..], &LIMITS, seen);
        assert_eq!(&got, w);
        // What a prefetch pass over a forwarded batch reads.
        assert_eq!(encoded_hash(&buf[pos..]), (w.3, used));
        pos += used;
    }
    assert_eq!(pos, buf.len());
}

#[test]
fn a_forwarded_request_runs_as_a_local_one() {
    // The same requests run on one store as local ops and on another as forwarded ones
    // give the same replies.
    let input: &[u8] = b"set a 1 0 2\r\nxy\r\nset b 0 0 1 noreply\r\nz\r\nget a b c\r\n\
        gats 100 a\r\nincr a 1\r\nset n 0 0 1\r\n9\r\nincr n 1\r\ndelete b\r\n\
        set big 0 0 5000\r\nflush_all\r\nget a\r\n";
    let mut local = Store::builder().build();
    let mut forwarded = Store::builder().build();
    let (cl, cf) = (local.counters().clone(), forwarded.counters().clone());
    let (mut out_local, mut out_forwarded) = (Vec::new(), Vec::new());
    let mut pos = 0;
    while pos < input.len() {
        let (req, used) = parse(&input[pos..]);
        let raw = &input[pos..pos + used];
        let keys: Vec<&[u8]> = match &req.cmd {
            Command::Get { keys, .. } => keys.iter().collect(),
            cmd => vec![cmd.key().unwrap_or_default()],
        };
        for key in keys {
            let op = KeyOp::Text {
                req: &req,
                raw,
                key,
                hash: (!key.is_empty()).then(|| key_hash(key)),
            };
            apply(&mut local, &cl, &op, 1000, &mut out_local);
            let mut buf = Vec::new();
            op.encode(&mut buf);
            let used = apply_encoded(
                &mut forwarded,
                &cf,
                &buf,
                &LIMITS,
                1000,
                &mut out_forwarded,
                |_| {},
            );
            assert_eq!(used, buf.len());
        }
        // The too-large set's data block is not in `input`: nothing to discard.
        pos += used;
    }
    assert_eq!(
        String::from_utf8_lossy(&out_forwarded),
        String::from_utf8_lossy(&out_local)
    );
    assert!(out_local.starts_with(b"STORED\r\nVALUE a 1 2\r\nxy\r\nVALUE b 0 1\r\nz\r\n"));
}
