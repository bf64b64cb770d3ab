//! The rollout's rules, step by step, with chosen facts and times.

use super::*;

const MIN: i64 = 60_000;

fn plan() -> Plan {
    Plan { version: "1.5.0".into(), wait_ms: 10 * MIN, batch_size: 2, update_timeout_ms: 30 * MIN }
}

fn node(id: &str, canary: bool, step: NodeStep) -> NodeView {
    NodeView { customer_id: id.into(), canary, step, requested_at: None, arrived_at: None }
}

fn on(version: &str, status: NodeStatus) -> NodeFacts {
    NodeFacts { version: Some(version.into()), status, blocked: false }
}

fn facts(list: &[(&str, NodeFacts)]) -> HashMap<String, NodeFacts> {
    list.iter().map(|(id, f)| (id.to_string(), f.clone())).collect()
}

fn request(id: &str) -> Action {
    Action::Request { customer_id: id.into() }
}

/// Four nodes: `a` the canary, `b`, `c`, `d` in batches of two, all on 1.4.2 and OK.
fn fleet() -> (Vec<NodeView>, HashMap<String, NodeFacts>) {
    let nodes = vec![
        node("a", true, NodeStep::Pending),
        node("b", false, NodeStep::Pending),
        node("c", false, NodeStep::Pending),
        node("d", false, NodeStep::Pending),
    ];
    let f = facts(&[
        ("a", on("1.4.2", NodeStatus::Ok)),
        ("b", on("1.4.2", NodeStatus::Ok)),
        ("c", on("1.4.2", NodeStatus::Ok)),
        ("d", on("1.4.2", NodeStatus::Ok)),
    ]);
    (nodes, f)
}

#[test]
fn canaries_first_then_batches_each_after_the_one_before() {
    let (mut nodes, mut f) = fleet();
    assert_eq!(step(&plan(), &nodes, &f, 0), [request("a")], "only the canary is asked first");

    nodes[0].step = NodeStep::Updating;
    nodes[0].requested_at = Some(0);
    assert_eq!(step(&plan(), &nodes, &f, 5 * MIN), [], "waiting for the canary's report");

    f.insert("a".into(), on("v1.5.0", NodeStatus::Ok));
    assert_eq!(step(&plan(), &nodes, &f, 6 * MIN), [Action::Arrive { customer_id: "a".into() }]);

    nodes[0].step = NodeStep::Soaking;
    nodes[0].arrived_at = Some(6 * MIN);
    assert_eq!(step(&plan(), &nodes, &f, 15 * MIN), [], "soaking for the whole wait");
    assert_eq!(
        step(&plan(), &nodes, &f, 16 * MIN),
        [Action::Finish { customer_id: "a".into() }, request("b"), request("c")],
        "the canary done, the first batch is asked in the same step"
    );

    nodes[0].step = NodeStep::Done;
    nodes[1].step = NodeStep::Done;
    nodes[2].step = NodeStep::Soaking;
    nodes[2].arrived_at = Some(20 * MIN);
    f.insert("c".into(), on("1.5.0", NodeStatus::Ok));
    assert_eq!(step(&plan(), &nodes, &f, 21 * MIN), [], "the next batch waits for the one before");
    nodes[2].step = NodeStep::Done;
    assert_eq!(step(&plan(), &nodes, &f, 31 * MIN), [request("d")]);
    nodes[3].step = NodeStep::Done;
    assert_eq!(step(&plan(), &nodes, &f, 41 * MIN), [Action::Complete]);
}

#[test]
fn a_canary_that_never_arrives_stops_the_rollout_at_the_timeout() {
    let (mut nodes, f) = fleet();
    nodes[0].step = NodeStep::Updating;
    nodes[0].requested_at = Some(0);
    assert_eq!(step(&plan(), &nodes, &f, 30 * MIN - 1), []);
    let actions = step(&plan(), &nodes, &f, 30 * MIN);
    let reason = "did not report 1.5.0 within 30m of the update request".to_string();
    assert_eq!(
        actions,
        [
            Action::Fail { customer_id: "a".into(), reason: reason.clone() },
            Action::Stop { customer_id: "a".into(), reason: format!("a {reason}") },
        ],
        "nothing else is asked"
    );
}

#[test]
fn a_node_that_goes_warn_or_down_fails() {
    let (mut nodes, mut f) = fleet();
    nodes[0].step = NodeStep::Soaking;
    nodes[0].arrived_at = Some(0);
    f.insert("a".into(), on("1.5.0", NodeStatus::Warn));
    let actions = step(&plan(), &nodes, &f, MIN);
    assert_eq!(actions[0], Action::Fail { customer_id: "a".into(), reason: "went WARN after the update".into() });
    assert!(matches!(actions[1], Action::Stop { .. }));

    nodes[0].step = NodeStep::Updating;
    nodes[0].requested_at = Some(0);
    f.insert("a".into(), on("1.5.0", NodeStatus::Down));
    assert_eq!(
        step(&plan(), &nodes, &f, MIN)[0],
        Action::Fail { customer_id: "a".into(), reason: "reported 1.5.0 but is DOWN".into() }
    );

    nodes[0].step = NodeStep::Soaking;
    f.insert("a".into(), on("1.4.2", NodeStatus::Ok));
    assert_eq!(
        step(&plan(), &nodes, &f, MIN)[0],
        Action::Fail { customer_id: "a".into(), reason: "reports 1.4.2 again after reporting 1.5.0".into() }
    );
}

#[test]
fn blocked_nodes_are_skipped_and_do_not_take_a_batch_place() {
    let (mut nodes, mut f) = fleet();
    nodes[0].step = NodeStep::Done;
    f.get_mut("b").unwrap().blocked = true;
    assert_eq!(
        step(&plan(), &nodes, &f, 0),
        [Action::Skip { customer_id: "b".into(), reason: "blocked".into() }, request("c"), request("d")]
    );
    // Blocked while updating: skipped too, and a skipped last node completes the rollout.
    nodes[1].step = NodeStep::Done;
    nodes[2].step = NodeStep::Done;
    nodes[3].step = NodeStep::Updating;
    nodes[3].requested_at = Some(0);
    f.get_mut("d").unwrap().blocked = true;
    assert_eq!(
        step(&plan(), &nodes, &f, MIN),
        [Action::Skip { customer_id: "d".into(), reason: "blocked during the rollout".into() }, Action::Complete]
    );
}

#[test]
fn after_a_resume_failed_nodes_stay_failed_and_the_rest_goes_on() {
    let (mut nodes, f) = fleet();
    nodes[0].step = NodeStep::Failed;
    assert_eq!(step(&plan(), &nodes, &f, 0), [request("b"), request("c")]);
}

#[test]
fn versions_compare_by_meaning() {
    assert!(same_version("v1.5.0", "1.5.0"));
    assert!(!same_version("1.5.0-rc.1", "1.5.0"));
    assert!(same_version("nightly", "nightly"));
    assert!(!same_version("", "1.5.0"));
}
