//! A connection's ops for keys other shards own: one batch per peer per pass, and their
//! replies spliced back into the connection's reply in request order.

use std::mem;
use std::rc::Rc;

use super::{Conn, Splice};
use crate::engine::reply::Held;
use crate::engine::{self, KeyOp};
use crate::shard::Shard;

impl Conn {
    /// Runs or queues one op for the shard that owns its key.
    #[inline(always)]
    pub(super) fn route(&mut self, shard: &Shard, owner: usize, op: KeyOp<'_>, now: u32) {
        if owner == shard.id {
            shard.inject_panic(&op);
            self.apply_local(shard, &op, now);
        } else {
            if op.is_get() {
                self.forwarded_gets += 1;
            }
            let b = &mut self.batches[owner];
            op.encode(&mut b.ops);
            self.splices.push(Splice {
                at: self.out.len(),
                held_before: self.out.reply.held.len() as u32,
                peer: owner as u32,
                op: b.n,
            });
            b.n += 1;
        }
    }

    /// Runs an op on this shard's store, its reply into `out`.
    #[inline(always)]
    fn apply_local(&mut self, shard: &Shard, op: &KeyOp<'_>, now: u32) {
        engine::apply(
            &mut shard.store.borrow_mut(),
            &shard.counters,
            op,
            now,
            &mut *self.out,
        );
    }

    /// `flush_all` (text or binary, `op`): every shard flushes; the per-peer order of
    /// batches keeps the flush between this connection's earlier and later ops.
    pub(super) fn flush_every_shard(&mut self, shard: &Shard, op: KeyOp<'_>, now: u32) {
        for owner in 0..shard.shards() {
            if owner == shard.id {
                self.apply_local(shard, &op, now);
            } else {
                let b = &mut self.batches[owner];
                op.encode(&mut b.ops);
                b.n += 1;
            }
        }
    }

    /// Whether this pass forwarded work to peers, for [`Conn::settle`] to settle.
    pub(super) fn forwarded(&self) -> bool {
        self.batches.iter().any(|b| b.n > 0)
    }

    /// Sends each peer its batch, waits for all of them, and splices the replies into `out`
    /// in request order.
    pub(super) async fn settle(&mut self, shard: &Rc<Shard>) {
        let Some(inbox) = &self.inbox else { return };
        let mut waiting = 0;
        for peer in 0..self.batches.len() {
            if self.batches[peer].n == 0 {
                continue;
            }
            let mut b = mem::take(&mut self.batches[peer]);
            b.from = shard.id;
            b.owner = peer;
            b.token = inbox.token;
            b.fd = self.fd;
            shard.forward(peer, b).await;
            waiting += 1;
        }
        for _ in 0..waiting {
            let b = inbox
                .rx
                .recv()
                .await
                .expect("inbox open while the connection lives");
            // Written on the owner's core: their lines load together before the splice.
            crate::store::prefetch_slice(&b.out.buf);
            crate::store::prefetch_slice(&b.ends);
            let owner = b.owner;
            self.batches[owner] = b;
        }
        if !self.splices.is_empty() {
            self.splice(shard);
        }
        for b in &mut self.batches {
            b.ops.clear();
            b.n = 0;
        }
    }

    /// Puts the peers' replies in their places in `out`, in request order, with the values
    /// they hold: after a splice, `out` is the whole reply of the pass.
    pub(super) fn splice(&mut self, shard: &Shard) {
        // Room for all of it at once: every reply of every batch sent is spliced in.
        let replies: usize = self
            .batches
            .iter()
            .filter(|b| b.n > 0)
            .map(|b| b.out.buf.len())
            .sum();
        let mut fin = mem::take(&mut self.spare);
        if fin.capacity() == 0 {
            // Lent to the pool while this connection waited for input.
            fin = shard.buffers.take_out_for(self.out.len() + replies);
        }
        fin.clear();
        fin.reserve(self.out.len() + replies);
        let mut fin_held = mem::take(&mut self.spare_held);
        fin_held.clear();
        for b in self.batches.iter_mut().filter(|b| b.n > 0) {
            // Taken from the end, in order.
            b.out.held.reverse();
        }
        let reply = &mut self.out.reply;
        let mut own = reply.held.drain(..);
        let mut own_taken = 0;
        let mut prev = 0;
        for s in &self.splices {
            let base = fin.len();
            append_reserved(&mut fin, &reply.buf[prev..s.at]);
            while own_taken < s.held_before {
                let h = own.next().expect("held_before counts held values");
                fin_held.push(Held {
                    at: base + h.at - prev,
                    value: h.value,
                });
                own_taken += 1;
            }
            let b = &mut self.batches[s.peer as usize];
            let op = s.op as usize;
            let start = if op == 0 { 0 } else { b.ends[op - 1] as usize };
            let base = fin.len();
            append_reserved(&mut fin, b.reply(op));
            // A value may end its op's reply (binary): the count, not the offset, says
            // which op holds it.
            while b.held_taken < b.held_ends[op] {
                let h = b.out.held.pop().expect("held_ends counts held values");
                fin_held.push(Held {
                    at: base + h.at - start,
                    value: h.value,
                });
                b.held_taken += 1;
            }
            prev = s.at;
        }
        let base = fin.len();
        append_reserved(&mut fin, &reply.buf[prev..]);
        for h in own {
            fin_held.push(Held {
                at: base + h.at - prev,
                value: h.value,
            });
        }
        self.spare = mem::replace(&mut reply.buf, fin);
        self.spare_held = mem::replace(&mut reply.held, fin_held);
        self.splices.clear();
    }
}

/// Appends `s` to `v`, short pieces without a call to `memcpy` (a splice copies many
/// reply lines of a few dozen bytes each).
#[inline(always)]
fn append_reserved(v: &mut Vec<u8>, s: &[u8]) {
    if v.capacity() - v.len() < s.len() {
        v.extend_from_slice(s);
        return;
    }
    let len = v.len();
    // SAFETY: the check above leaves room for `s` after `len`; `s` is not part of `v`'s
    // spare capacity, so they do not overlap; the bytes are written before `set_len`.
    unsafe {
        crate::engine::format::copy_short(v.as_mut_ptr().add(len), s);
        v.set_len(len + s.len());
    }
}
