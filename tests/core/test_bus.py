from app.core.bus import Bus


def test_has_subscribers_follows_subscribe_and_unsubscribe():
    bus = Bus()
    assert not bus.has_subscribers
    unsubscribe = bus.subscribe(lambda event: None)
    assert bus.has_subscribers
    unsubscribe()
    assert not bus.has_subscribers
