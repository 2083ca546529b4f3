//! Request deadlines by epoch interruption: a ticker thread advances the engine's epoch at a fixed period,
//! and a guest call traps once its store's deadline (a number of ticks) has passed. Fuel bounds work; this
//! bounds wall-clock time, which also covers time a busy machine takes away.

use std::time::Duration;

/// How often the epoch advances: the granularity of every deadline.
pub const TICK: Duration = Duration::from_millis(10);

/// Ticks that cover at least `deadline`: one more than the quotient, since the first tick may come at once.
pub fn ticks(deadline: Duration) -> u64 {
    (deadline.as_nanos() / TICK.as_nanos()) as u64 + 1
}

/// Advances `engine`'s epoch every [`TICK`] until the engine is dropped.
pub fn start_ticker(engine: &wasmtime::Engine) -> std::io::Result<()> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("epoch-ticker".into())
        .spawn(move || loop {
            std::thread::sleep(TICK);
            match weak.upgrade() {
                Some(engine) => engine.increment_epoch(),
                None => break,
            }
        })
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_cover_the_deadline() {
        assert_eq!(ticks(Duration::from_millis(0)), 1);
        assert_eq!(ticks(Duration::from_millis(25)), 3);
        assert_eq!(ticks(Duration::from_millis(30)), 4);
    }
}
