//! What makes a hook's answer a function of the component and its input:
//! time inside a hook is virtual, random streams are seeded with constants,
//! and floating point NaNs are canonical.
//!
//! Virtual time starts at [`HOOK_WALL_CLOCK_START`] and moves a fixed step
//! each time a clock is read; sleeping (a `wasi:clocks` pollable) moves it
//! forward at once instead of blocking the host. So a hook can neither read
//! the real time nor hang porter in a host call: a guest that waits for time
//! to pass spins on clock reads and meets the epoch deadline instead.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;
use wasmtime::component::{Linker, Resource, ResourceTable};
use wasmtime::{Config, StoreContextMut};
use wasmtime_wasi::p2::{DynPollable, Pollable, subscribe};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder};

/// Wall clock time every hook starts at: 1980-01-01T00:00:00Z (the zip
/// epoch reproducible-build tools use).
pub const HOOK_WALL_CLOCK_START: Duration = Duration::from_secs(315_532_800);
/// How far virtual time moves each time a clock is read.
const CLOCK_STEP_NANOS: u64 = 1_000;
/// Seed of the random streams hooks read.
const RANDOM_SEED: u64 = 0x706f_7274_6572; // "porter"
/// The monotonic clock interface of the WASI version wasmtime-wasi links
/// (its `wit/deps/clocks.wit`); its sleeps are replaced below. The sandbox
/// test `a_sleeping_mixin_does_not_hold_up_the_host` fails if an upgrade
/// changes it.
const MONOTONIC_CLOCK: &str = "wasi:clocks/monotonic-clock@0.2.12";

/// Compiler settings for the same results on every machine.
pub fn configure(config: &mut Config) {
    config.cranelift_nan_canonicalization(true);
    config.relaxed_simd_deterministic(true);
}

/// Nanoseconds of virtual time since a hook call started.
#[derive(Clone, Default)]
pub struct VirtualTime(Arc<AtomicU64>);

impl VirtualTime {
    /// The time now, then a step later.
    fn read(&self) -> u64 {
        self.0.fetch_add(CLOCK_STEP_NANOS, Ordering::Relaxed)
    }

    fn advance_by(&self, nanos: u64) {
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |now| {
                Some(now.saturating_add(nanos))
            });
    }

    fn advance_to(&self, nanos: u64) {
        self.0.fetch_max(nanos, Ordering::Relaxed);
    }
}

impl HostWallClock for VirtualTime {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(CLOCK_STEP_NANOS)
    }

    fn now(&self) -> Duration {
        HOOK_WALL_CLOCK_START + Duration::from_nanos(self.read())
    }
}

impl HostMonotonicClock for VirtualTime {
    fn resolution(&self) -> u64 {
        CLOCK_STEP_NANOS
    }

    fn now(&self) -> u64 {
        self.read()
    }
}

/// A WASI context that grants nothing, reads `time` for both clocks and
/// gives every call the same random streams.
pub fn wasi_context(time: &VirtualTime) -> WasiCtxBuilder {
    let mut builder = WasiCtx::builder();
    builder
        .wall_clock(time.clone())
        .monotonic_clock(time.clone())
        .secure_random(StdRng::seed_from_u64(RANDOM_SEED))
        .insecure_random(StdRng::seed_from_u64(RANDOM_SEED + 1))
        .insecure_random_seed(u128::from(RANDOM_SEED));
    builder
}

/// Store state that keeps a hook's virtual time.
pub trait HasVirtualTime {
    fn time_and_table(&mut self) -> (&VirtualTime, &mut ResourceTable);
}

/// Replaces `subscribe-duration` and `subscribe-instant` of the monotonic
/// clock: the pollable is ready at once and virtual time jumps to when it
/// would have been.
pub fn add_virtual_sleep<T: HasVirtualTime + 'static>(
    linker: &mut Linker<T>,
) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut clock = linker.instance(MONOTONIC_CLOCK)?;
    clock.func_wrap("subscribe-duration", |store, (nanos,): (u64,)| {
        slept(store, |time| time.advance_by(nanos))
    })?;
    clock.func_wrap("subscribe-instant", |store, (when,): (u64,)| {
        slept(store, |time| time.advance_to(when))
    })?;
    linker.allow_shadowing(false);
    Ok(())
}

/// Moves virtual time as `sleep` says, and gives the guest a pollable that
/// is ready now.
fn slept<T: HasVirtualTime>(
    mut store: StoreContextMut<'_, T>,
    sleep: impl FnOnce(&VirtualTime),
) -> wasmtime::Result<(Resource<DynPollable>,)> {
    let (time, table) = store.data_mut().time_and_table();
    sleep(time);
    let ready = table.push(ReadyNow)?;
    Ok((subscribe(table, ready)?,))
}

/// A pollable that is always ready.
struct ReadyNow;

impl Pollable for ReadyNow {
    fn ready<'a, 'b>(&'a mut self) -> Pin<Box<dyn Future<Output = ()> + Send + 'b>>
    where
        'a: 'b,
        Self: 'b,
    {
        Box::pin(std::future::ready(()))
    }
}
