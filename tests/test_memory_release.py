"""Ended sessions give their memory back: one release per burst of ended sessions."""
import asyncio

from explorer.app import memory


def test_a_burst_of_ended_sessions_schedules_one_release(monkeypatch):
    released = []
    monkeypatch.setattr(memory, "release", lambda: (released.append(1), setattr(memory, "_pending", False)))

    async def burst():
        for _ in range(30):                  # a class leaving at once
            memory.release_soon(0.05)
        await asyncio.sleep(0.3)
        memory.release_soon(0.05)            # a later session: a release of its own
        await asyncio.sleep(0.3)
    asyncio.run(burst())
    assert released == [1, 1]


def test_a_release_collects_and_reports_the_memory(caplog):
    caplog.set_level("INFO", logger="explorer.app")
    memory.release()
    assert not memory._pending
    if memory.resident_mb() is not None:      # Linux
        assert "memory after ended sessions" in caplog.text
