use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// This instant plus `d`, saturating.
    pub fn after(self, d: Duration) -> Timestamp {
        Timestamp(self.0.saturating_add(d.as_secs()))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={}s", self.0)
    }
}

/// Source of the current time for consent checks. Firmware with a secure RTC plugs it in here.
///
/// The ledger never lets time run backwards for consent decisions: it answers with the latest
/// time it has seen (and a vault with the latest time it has recorded) whenever this clock is
/// behind it, so a consent that has expired stays expired if the clock is set back.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        )
    }
}

/// A clock that moves only when told to: for tests and simulations of expiry and of clocks
/// that are set back.
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: Timestamp) -> Self {
        ManualClock(Arc::new(AtomicU64::new(start.0)))
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        self.0.fetch_add(d.as_secs(), Ordering::SeqCst);
    }

    /// Sets the clock to `t`, forward or back (a camera without an RTC battery boots in 1970).
    pub fn set(&self, t: Timestamp) {
        self.0.store(t.0, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

/// The time consent decisions use: the caller's clock, checked against the latest time already
/// seen (or recorded, for a vault). Time never runs backwards through it: what is recorded is
/// stamped no earlier than the floor, and while the caller's clock reads earlier than the floor
/// no consent decision is made at all ([`checked_now`](Self::checked_now) fails), since the
/// real time is then unknown and a consent that expired meanwhile must not pass for active.
pub(crate) struct FloorClock {
    clock: Arc<dyn Clock>,
    floor: AtomicU64,
    /// How far the caller's clock was last found behind the floor, in seconds.
    behind: AtomicU64,
}

impl FloorClock {
    pub(crate) fn new(clock: Arc<dyn Clock>) -> Self {
        FloorClock {
            clock,
            floor: AtomicU64::new(0),
            behind: AtomicU64::new(0),
        }
    }

    /// Raises the floor to `t` (the latest time a vault has recorded).
    pub(crate) fn raise_floor(&self, t: Timestamp) {
        self.floor.fetch_max(t.0, Ordering::SeqCst);
    }

    /// How far the caller's clock was behind the floor at the last reading, in seconds (0 when
    /// it was not).
    pub(crate) fn behind_secs(&self) -> u64 {
        self.behind.load(Ordering::SeqCst)
    }

    /// The time for a consent decision: the caller's clock, or
    /// [`ConsentError::ClockBehind`](super::ConsentError::ClockBehind) while it reads earlier
    /// than a time already seen or recorded.
    pub(crate) fn checked_now(&self) -> Result<Timestamp, super::ConsentError> {
        let raw = self.clock.now().0;
        let floor = self.floor.fetch_max(raw, Ordering::SeqCst);
        self.behind
            .store(floor.saturating_sub(raw), Ordering::SeqCst);
        if raw < floor {
            return Err(super::ConsentError::ClockBehind {
                clock: Timestamp(raw),
                latest: Timestamp(floor),
            });
        }
        Ok(Timestamp(raw))
    }
}

impl Clock for FloorClock {
    fn now(&self) -> Timestamp {
        let raw = self.clock.now().0;
        let floor = self.floor.fetch_max(raw, Ordering::SeqCst);
        self.behind
            .store(floor.saturating_sub(raw), Ordering::SeqCst);
        Timestamp(raw.max(floor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_clock_never_runs_backwards() {
        let manual = ManualClock::new(Timestamp(1_000));
        let clock = FloorClock::new(Arc::new(manual.clone()));
        assert_eq!(clock.now(), Timestamp(1_000));
        manual.set(Timestamp(10));
        assert_eq!(clock.now(), Timestamp(1_000));
        assert_eq!(clock.behind_secs(), 990);
        manual.set(Timestamp(2_000));
        assert_eq!(clock.now(), Timestamp(2_000));
        assert_eq!(clock.behind_secs(), 0);
        clock.raise_floor(Timestamp(5_000));
        assert_eq!(clock.now(), Timestamp(5_000));
        assert!(matches!(
            clock.checked_now(),
            Err(crate::ConsentError::ClockBehind { .. })
        ));
        manual.set(Timestamp(5_001));
        assert_eq!(clock.checked_now().unwrap(), Timestamp(5_001));
    }
}
