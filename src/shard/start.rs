//! A shard's start: its store, engine tasks, peers on the meshes, network ring and driver,
//! and its stop.

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::rc::Rc;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;

use futures_lite::AsyncReadExt;
use glommio::net::UnixStream;
use glommio::sync::Gate;

use super::driver::{conn_sweep, drive, wake_on_eventfd, ServeConn};
use super::{buffers, none_for, ring, unix_now, Batch, InFlight, MeshKind, Shard};
use crate::config::Settings;
use crate::dump::DumpTask;
use crate::listen::Spare;
use crate::mesh::MeshEnds;
use crate::park::{Parked, ShardPark};
use crate::stats::Counters;
use crate::store::Store;
use crate::tasks::{
    self, Evictor, ExpiryPager, Next, Registry, State, StatsUpkeep, Task, TaskHandle, TaskInfo,
};

/// Tells the main thread that a shard's executor ended, however it ended (also on a panic).
pub(crate) struct ExitNotice {
    pub(crate) id: usize,
    pub(crate) tx: std::sync::mpsc::Sender<usize>,
}

impl Drop for ExitNotice {
    fn drop(&mut self) {
        let _ = self.tx.send(self.id);
    }
}

/// What a shard's executor starts with (`crate::server` makes one per shard).
pub(crate) struct ShardStart {
    pub(crate) id: usize,
    pub(crate) settings: Arc<Settings>,
    pub(crate) counters: Arc<Vec<Arc<Counters>>>,
    pub(crate) open_conns: Arc<AtomicUsize>,
    pub(crate) tasks: Registry,
    /// What admin commands change live, and every shard's desk.
    pub(crate) admin: Arc<crate::admin::Admin>,
    pub(crate) auth: Option<Arc<crate::auth::Auth>>,
    pub(crate) started: u32,
    pub(crate) listeners: Vec<RawFd>,
    pub(crate) addrs: Vec<SocketAddr>,
    pub(crate) cpu: usize,
    pub(crate) stop_fd: RawFd,
    pub(crate) exit: ExitNotice,
    /// Told this shard's id once it accepts connections.
    pub(crate) ready: std::sync::mpsc::Sender<usize>,
    /// This shard's ends of the request and reply meshes (none with one shard).
    pub(crate) meshes: Option<(MeshEnds<Batch>, MeshEnds<Batch>)>,
    /// This shard's ends of the fan-out that spreads unix-socket clients (`-s` with
    /// several shards: `super::handoff`).
    pub(crate) handoff: Option<MeshEnds<OwnedFd>>,
    /// Every shard waits here to connect the meshes ([`crate::mesh::connect`]).
    pub(crate) started_meshes: Arc<std::sync::Barrier>,
    pub(crate) in_flight: Arc<InFlight>,
    /// Serves a connection the ring has bytes for (`crate::conn::serve`, given by the
    /// server: the shard knows connections only through it).
    pub(crate) serve_conn: ServeConn,
    /// Every shard's latency histograms (`--metrics`).
    pub(crate) latency: Arc<Vec<Arc<crate::latency::Histograms>>>,
    /// `--metrics`' listening socket, for the shard that serves it.
    pub(crate) metrics_fd: Option<RawFd>,
    /// `--data-dir`: what every shard's persistence shares.
    pub(crate) persist: Option<Arc<crate::persist::Shared>>,
}

impl ShardStart {
    pub(crate) async fn serve(self) {
        // Lives as long as this function runs, and reports its end to the main thread.
        let _exit = self.exit;
        let shards = self.settings.shards;
        let (requests, request_rx, replies, reply_rx) = match self.meshes {
            None => (None, none_for(shards), None, none_for(shards)),
            Some((req, rep)) => {
                let mut both = crate::mesh::connect(vec![req, rep], &self.started_meshes).await;
                let (replies, reply_rx) = both.pop().expect("the reply mesh");
                let (requests, request_rx) = both.pop().expect("the request mesh");
                (Some(requests), request_rx, Some(replies), reply_rx)
            }
        };
        let (handing, handed) = match self.handoff {
            None => (None, None),
            Some(ends) => {
                let mut connected = crate::mesh::connect(vec![ends], &self.started_meshes).await;
                let (senders, mut receivers) = connected.pop().expect("the fan-out");
                let from = receivers.iter_mut().find_map(Option::take);
                match from {
                    Some(rx) => (None, Some(rx)),
                    None => (Some(senders), None),
                }
            }
        };
        let counters = self.counters[self.id].clone();
        let shards = self.settings.shards as u64;
        let builder = Store::builder()
            .mem_limit(self.settings.shard_mem())
            .mem_reserve(crate::admin::shard_reserve(&self.settings))
            .capacity(self.settings.index_items)
            .segment_size(self.settings.segment_size)
            .item_size_max(self.settings.item_size_max)
            .evict(self.settings.evict)
            .use_cas(self.settings.use_cas)
            .cas_sequence(self.id as u64, shards)
            .started(self.started)
            .slab_classes(self.settings.slab_classes.clone())
            .counters(counters.clone());
        let store = Rc::new(RefCell::new(builder.build()));
        counters
            .detail
            .set_delimiter(self.settings.prefix_delimiter);
        counters.detail.set_on(self.settings.detail_at_start);
        if self.settings.track_sizes {
            counters.sizes.set_on(true, self.settings.item_size_max);
        }
        let reserve = store.borrow().mem_reserve();
        let engine_tasks: Vec<Box<dyn Task>> = vec![
            Box::new(ExpiryPager::new(store.clone())),
            Box::new(Evictor::new(
                store.clone(),
                crate::admin::ShardLimit(self.admin.clone()),
            )),
            Box::new(StatsUpkeep::new(self.counters[self.id].clone())),
            Box::new(DumpTask::new(
                self.id,
                store.clone(),
                self.admin.clone(),
                &self.settings,
            )),
            Box::new(crate::watch::LogTask::new(
                self.counters[self.id].clone(),
                self.admin.clone(),
            )),
        ];
        let mut infos: Vec<Arc<TaskInfo>> = engine_tasks
            .iter()
            .map(|t| Arc::new(TaskInfo::new(t.as_ref())))
            .collect();
        let persist_infos = self
            .persist
            .as_ref()
            .map(|_| crate::persist::shard::task_infos());
        let engine_count = infos.len();
        infos.extend(persist_infos.iter().flatten().cloned());
        let handles: Vec<TaskHandle> = engine_tasks.iter().map(|_| TaskHandle::default()).collect();
        let _ = self.tasks[self.id].set(infos.clone());
        self.admin.open_desk(
            self.id,
            crate::admin::Desk::new(
                handles[1].clone(),
                handles[0].clone(),
                handles[3].clone(),
                handles[4].clone(),
                reserve,
            ),
        );
        let queues = engine_queues();
        let queue_of = |q: tasks::Queue| {
            queues[tasks::Queue::ALL
                .iter()
                .position(|x| *x == q)
                .expect("known queue")]
        };
        // Warm-up, before the shard listens: every shard's ends before any does. Nothing
        // else wakes the executor meanwhile (no connection, and the other shards wait
        // for this one; `persist::shard::warm_up` keeps it awake).
        let persist = match (&self.persist, &persist_infos) {
            (Some(shared), Some([warm, flush, compact])) => {
                let writer = crate::persist::shard::warm_up(
                    shared,
                    self.id,
                    &store,
                    queue_of(tasks::Queue::Reader),
                    warm,
                )
                .await;
                let p = Rc::new(crate::persist::flusher::ShardPersist::new(
                    shared.clone(),
                    self.id,
                    writer.gen(),
                ));
                Some((p, writer, [flush.clone(), compact.clone()]))
            }
            _ => None,
        };
        let mut net = match ring::NetRing::new(
            self.listeners.clone(),
            self.settings.capped_multishot,
            self.settings.vectored_send,
            self.settings.net_ring_entries,
            ring::buffer_count(&self.settings),
            ring::Accounts {
                counters: counters.clone(),
                open_conns: self.open_conns.clone(),
                conn_limit: self.settings.conn_limit,
                fresh: Parked::fresh(&self.settings, self.auth.is_none()),
                idle_timeout_ms: self.settings.idle_timeout.map(|d| d.as_millis() as u64),
                tls: self.settings.tls.clone(),
                notls: self.settings.notls.clone(),
            },
        ) {
            Ok(n) => n,
            Err(e) => {
                log::error!("shard {}: cannot set up its network ring: {e}", self.id);
                return;
            }
        };
        if self.settings.unix_socket.is_some() && self.id == 0 {
            // With -s this shard's one listener is the unix socket, and its alone.
            let place = super::handoff::dispatcher(self.id, self.settings.shards, handing);
            if let Err(e) = net.hand_out(0, place) {
                log::error!("shard {}: cannot watch the unix socket: {e}", self.id);
                return;
            }
        }
        let shard = Rc::new(Shard {
            id: self.id,
            routed: if self.settings.no_forward {
                1
            } else {
                self.settings.shards
            },
            settings: self.settings.clone(),
            store,
            pager: handles[0].clone(),
            pager_info: infos[0].clone(),
            evictor: handles[1].clone(),
            background: tasks::Backlog::new(infos.clone(), handles.clone()),
            tasks: self.tasks.clone(),
            admin: self.admin.clone(),
            buffers: buffers::BufferPool::new(self.settings.shard_mem()),
            auth: self.auth.clone(),
            park: self.settings.park_after.map(|_| ShardPark::default()),
            latency: self
                .settings
                .metrics
                .map(|_| crate::latency::PassClock::new(self.latency[self.id].clone())),
            net,
            clock: Cell::new(unix_now()),
            counters,
            all_counters: self.counters.clone(),
            open_conns: self.open_conns,
            started: self.started,
            listen_addrs: self.addrs.clone(),
            requests,
            replies,
            in_flight: self.in_flight.clone(),
            awaiting_replies: Cell::new(0),
            peer_traffic: Cell::new(false),
            request_rx,
            reply_rx,
            rx_wakers: RefCell::new(Vec::new()),
            inboxes: RefCell::new(Vec::new()),
            free_inboxes: RefCell::new(Vec::new()),
            stopping: Cell::new(false),
            persist: persist.as_ref().map(|(p, _, _)| p.clone()),
        });
        let persist_tasks = persist.map(|(p, writer, infos)| {
            crate::persist::shard::start_tasks(
                p,
                shard.store.clone(),
                writer,
                infos,
                [
                    queue_of(tasks::Queue::Writer),
                    queue_of(tasks::Queue::AuxIo),
                ],
            )
        });

        // Engine tasks, each in the low-priority queue its task names.
        let mut background = Vec::new();
        for ((task, info), handle) in engine_tasks
            .into_iter()
            .zip(infos.into_iter().take(engine_count))
            .zip(handles)
        {
            let tq = queue_of(task.queue());
            background.push(run_engine_task(tq, task, info, handle));
        }

        // Peer work: run forwarded batches, hand replies to waiting connections.
        let mut peer_tasks = Vec::new();
        for peer in (0..self.settings.shards).filter(|&p| p != self.id) {
            let shard = shard.clone();
            peer_tasks.push(glommio::spawn_local(async move {
                let faults = &shard.settings.faults;
                shard.register_receiver(MeshKind::Requests, peer).await;
                while let Some(mut batch) = shard.next_batch(MeshKind::Requests, peer).await {
                    // The journal's length before the batch: a batch that wrote waits,
                    // after its replies, while the journal is over its limit, as a
                    // connection's pass does; a batch of reads never waits (a full disk
                    // pauses writers, not readers).
                    let journaled = shard.persist.as_ref().map(|_| shard.journal_len());
                    if faults.slow_shard == Some(shard.id) {
                        glommio::timer::sleep(faults.delay).await;
                    }
                    shard.execute(&mut batch);
                    if faults.reorder {
                        // Fault injection: if another batch arrives soon, it is answered
                        // first.
                        let next = futures_lite::future::or(
                            shard.next_batch(MeshKind::Requests, peer),
                            async {
                                glommio::timer::sleep(Duration::from_millis(2)).await;
                                None
                            },
                        )
                        .await;
                        if let Some(mut second) = next {
                            shard.execute(&mut second);
                            if !shard.reply(peer, second).await {
                                break;
                            }
                        }
                    }
                    if !shard.reply(peer, batch).await {
                        break;
                    }
                    if let (Some(p), Some(before)) = (&shard.persist, journaled) {
                        if shard.journal_len() != before {
                            p.wait_below_limit(&shard.store).await;
                        }
                    }
                }
            }));
        }
        let mut drain_tasks = Vec::new();
        for peer in (0..self.settings.shards).filter(|&p| p != self.id) {
            let shard = shard.clone();
            drain_tasks.push(glommio::spawn_local(async move {
                shard.register_receiver(MeshKind::Replies, peer).await;
                while let Some(batch) = shard.next_batch(MeshKind::Replies, peer).await {
                    shard.deliver(batch);
                }
            }));
        }

        // Stop watcher: one byte (or end of stream) on the control socket.
        let listener_fds = self.listeners.clone();
        let stopped = Rc::new(glommio::sync::Semaphore::new(0));
        let watcher = {
            let shard = shard.clone();
            let stopped = stopped.clone();
            // SAFETY: the control socket's fd was handed to this shard alone.
            let mut ctl = unsafe { UnixStream::from_raw_fd(self.stop_fd) };
            glommio::spawn_local(async move {
                let mut b = [0u8; 1];
                let _ = ctl.read(&mut b).await;
                shard.stop(&listener_fds);
                stopped.signal(1);
                // What has not finished by the timeout, or by a second signal, is closed.
                let again = async {
                    let _ = ctl.read(&mut b).await;
                };
                let timeout = glommio::timer::sleep(shard.settings.shutdown_timeout);
                futures_lite::future::or(again, timeout).await;
                shard.close_all();
            })
        };

        let gate = Rc::new(Gate::new());
        let mut housekeeping = Vec::new();
        let tq = glommio::executor().create_task_queue(
            glommio::Shares::Static(50),
            glommio::Latency::NotImportant,
            "conn-sweep",
        );
        housekeeping.push(
            glommio::spawn_local_into(conn_sweep(shard.clone()), tq)
                .expect("conn-sweep queue exists"),
        );
        if let Some(fd) = self.metrics_fd {
            // The metrics endpoint: not the request path, so it takes what the engine
            // tasks take.
            let tq = glommio::executor().create_task_queue(
                glommio::Shares::Static(50),
                glommio::Latency::NotImportant,
                "metrics",
            );
            let serve = crate::metrics::serve(fd, shard.clone(), self.latency.clone(), tq);
            housekeeping.push(glommio::spawn_local_into(serve, tq).expect("metrics queue exists"));
        }
        // Opened before the shard says it listens: its descriptors are all open then.
        let spares = self.listeners.iter().map(|_| Spare::new()).collect();
        for addr in &self.addrs {
            log::info!(
                "shard {} on cpu {} listening on {}",
                self.id,
                self.cpu,
                addr
            );
        }
        let _ = self.ready.send(self.id);
        let drained = Rc::new(Cell::new(false));
        shard.in_flight.publish_ring(self.id, shard.net.ring_fd());
        housekeeping.push(glommio::spawn_local(wake_on_eventfd(shard.clone())));
        let driver = glommio::spawn_local(drive(
            shard.clone(),
            gate.clone(),
            spares,
            drained.clone(),
            self.serve_conn,
        ));
        // After the driver, which the executor polls first: the ring accepts from its first
        // poll on, and a client adopted before that would be closed.
        let adopting =
            handed.map(|rx| glommio::spawn_local(super::handoff::adopt_handed(shard.clone(), rx)));
        let _ = stopped.acquire(1).await;
        // Clients handed over from now on are kept by the dispatcher (the channel closes).
        drop(adopting);
        let _ = gate.close().await;
        log::debug!("shard {}: connections closed", self.id);
        drained.set(true);
        shard.net.wake();
        driver.await;
        // The driver no longer waits in the ring: peers stop posting into it.
        shard.in_flight.publish_ring(self.id, -1);
        if let Some(r) = &shard.requests {
            r.close();
        }
        for t in peer_tasks {
            t.await;
        }
        if let Some(r) = &shard.replies {
            r.close();
        }
        for t in drain_tasks {
            t.await;
        }
        // Graceful stop: everything journaled is written and synced before the shard ends.
        if let (Some(p), Some((flusher, compactor))) = (&shard.persist, persist_tasks) {
            // A compaction under way is left: what it wrote is read as a torn tail.
            drop(compactor);
            p.stop();
            flusher.await;
            log::info!("shard {}: persistence: everything written", self.id);
        }
        drop(watcher);
        drop(housekeeping);
        drop(background);
    }
}

/// glommio task queues for the engine's queues, with shares far below the foreground's
/// (1000): background work takes what the foreground leaves.
fn engine_queues() -> Vec<glommio::TaskQueueHandle> {
    tasks::Queue::ALL
        .iter()
        .map(|q| {
            glommio::executor().create_task_queue(
                glommio::Shares::Static(50),
                glommio::Latency::NotImportant,
                q.name(),
            )
        })
        .collect()
}

/// Runs an engine task: one bounded step at a time, then as the task asks: again after the
/// foreground has run, after a snooze (or a wake), or when woken.
fn run_engine_task(
    tq: glommio::TaskQueueHandle,
    mut task: Box<dyn Task>,
    info: Arc<TaskInfo>,
    handle: TaskHandle,
) -> glommio::Task<()> {
    glommio::spawn_local_into(
        async move {
            loop {
                info.set_state(State::Running);
                let started = std::time::Instant::now();
                let next = task.run(super::unix_now());
                info.record_run(started.elapsed());
                match next {
                    Next::Again => {
                        info.set_state(State::Ready);
                        info.set_next_wake_ms(0);
                        glommio::executor().yield_task_queue_now().await;
                    }
                    Next::Snooze(d) => {
                        info.set_state(State::Snoozing);
                        info.set_next_wake_ms(super::unix_now_ms() + d.as_millis() as u64);
                        futures_lite::future::or(glommio::timer::sleep(d), handle.woken()).await;
                    }
                    Next::Sleep => {
                        info.set_state(State::Sleeping);
                        info.set_next_wake_ms(0);
                        handle.woken().await;
                    }
                }
            }
        },
        tq,
    )
    .expect("engine task queue exists")
}
