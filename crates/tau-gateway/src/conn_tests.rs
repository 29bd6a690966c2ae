use super::*;

const CLOCKS: Clocks = Clocks {
    idle: Duration::from_secs(60),
    header: Duration::from_secs(5),
};

#[tokio::test(start_paused = true)]
async fn the_idle_clock_runs_until_the_first_byte_then_the_header_clock() {
    let a = Activity::new();
    let start = a.base;
    assert_eq!(a.deadline(CLOCKS), Some((Clock::Idle, start + CLOCKS.idle)));
    tokio::time::advance(Duration::from_secs(2)).await;
    a.read(0);
    assert_eq!(a.deadline(CLOCKS).map(|d| d.0), Some(Clock::Idle));
    a.read(3);
    let (clock, at) = a.deadline(CLOCKS).unwrap();
    assert_eq!(clock, Clock::Header);
    assert_eq!(at, start + Duration::from_secs(2) + CLOCKS.header);
    // More bytes of the same head do not restart the header clock (slowloris).
    tokio::time::advance(Duration::from_secs(1)).await;
    a.read(1);
    assert_eq!(a.deadline(CLOCKS).unwrap().1, at);
}

#[tokio::test(start_paused = true)]
async fn no_clock_runs_while_a_request_is_handled_and_idle_restarts_after() {
    let a = Activity::new();
    a.read(10);
    a.request_started();
    assert_eq!(a.deadline(CLOCKS), None);
    a.read(10);
    assert_eq!(a.deadline(CLOCKS), None);
    tokio::time::advance(Duration::from_secs(30)).await;
    a.request_finished();
    let (clock, at) = a.deadline(CLOCKS).unwrap();
    assert_eq!(clock, Clock::Idle);
    assert_eq!(at, a.base + Duration::from_secs(30) + CLOCKS.idle);
    tokio::time::advance(Duration::from_secs(10)).await;
    a.wrote(100);
    assert_eq!(
        a.deadline(CLOCKS).unwrap().1,
        a.base + Duration::from_secs(40) + CLOCKS.idle
    );
}

#[test]
fn a_huge_clock_has_no_deadline_instead_of_overflowing() {
    let a = Activity::new();
    let clocks = Clocks {
        idle: Duration::MAX,
        header: Duration::MAX,
    };
    assert_eq!(a.deadline(clocks), None);
}

#[derive(Debug, Clone)]
enum Event {
    Read(usize),
    Wrote(usize),
    Started,
    Finished,
}

fn event() -> impl proptest::strategy::Strategy<Value = Event> {
    use proptest::prelude::*;
    prop_oneof![
        (0usize..3).prop_map(Event::Read),
        (0usize..3).prop_map(Event::Wrote),
        Just(Event::Started),
        Just(Event::Finished),
    ]
}

proptest::proptest! {
    /// Against a model: the header clock runs only between the first byte after idle and the
    /// request starting; no clock runs while a request is handled; writes never start a head.
    #[test]
    fn the_running_clock_follows_the_connection_phase(events in proptest::collection::vec(event(), 0..40)) {
        let a = Activity::new();
        let mut model = Some(Clock::Idle);
        for e in events {
            match e {
                Event::Read(n) => {
                    a.read(n);
                    if n > 0 && model == Some(Clock::Idle) {
                        model = Some(Clock::Header);
                    }
                }
                Event::Wrote(n) => a.wrote(n),
                Event::Started => {
                    a.request_started();
                    model = None;
                }
                Event::Finished => {
                    a.request_finished();
                    model = Some(Clock::Idle);
                }
            }
            proptest::prop_assert_eq!(a.deadline(CLOCKS).map(|d| d.0), model);
        }
    }
}
