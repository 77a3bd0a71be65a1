"""Server-side flow states: random ids, in memory only, forgotten after the idle delay."""

from kiosk.flow import Flows


def test_a_flow_lives_while_touched_and_dies_after_the_idle_delay():
    now = [0.0]
    flows = Flows(90, clock=lambda: now[0])
    flow_id = flows.new()
    flows.get(flow_id)["identity"] = {"last_name": "Harriet"}
    for _ in range(5):
        now[0] += 80
        assert flows.get(flow_id) is not None
    data = flows.get(flow_id)
    now[0] += 91
    assert flows.get(flow_id) is None
    assert data == {}, "an expired flow's data is wiped, not just unlinked"
    assert len(flows) == 0


def test_drop_wipes_and_ids_are_unguessable():
    flows = Flows(90)
    ids = {flows.new() for _ in range(100)}
    assert len(ids) == 100 and all(len(i) >= 32 for i in ids)
    one = next(iter(ids))
    data = flows.get(one)
    data["selections"] = {"s": ["a"]}
    flows.drop(one)
    assert data == {} and flows.get(one) is None
    assert flows.get(None) is None and flows.get("made-up") is None
