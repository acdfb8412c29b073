"""Import into and export from a running engine's workspace (the window's File menu)."""

import json

import aiohttp

from app.core.capture_files import describe_imports, export_captures, format_for, import_paths
from app.core.store.captures import CaptureFilter, iter_captures


async def test_export_then_import_round_trips_and_names_failed_entries(sim, tmp_path):
    async with aiohttp.ClientSession() as s:
        for n in range(3):
            await s.post(sim.receiver.base_url + "/hooks", data=json.dumps({"n": n}).encode(),
                         headers={"Content-Type": "application/json"})
    jsonl, har = tmp_path / "out.jsonl", tmp_path / "out.har"
    assert await export_captures(sim, CaptureFilter(), jsonl, format_for(jsonl)) == 3
    assert await export_captures(sim, CaptureFilter(text="hooks"), har, format_for(har)) == 3
    assert json.loads(har.read_text())["log"]["entries"][0]["request"]["method"] == "POST"
    broken = tmp_path / "broken.jsonl"
    broken.write_text(jsonl.read_text().splitlines()[0] + "\n{not json\n")
    summaries = await import_paths(sim, [jsonl, broken, tmp_path / "missing.har"])
    assert [len(s.ids) for s in summaries] == [3, 1, 0]
    text, problems = describe_imports(summaries)
    assert text == "Imported 4 captures from 3 files; 2 could not be imported."
    assert problems[0].startswith("broken.jsonl, line 2: ") and problems[1].startswith("missing.har cannot be read")
    origins = [c["origin"] for c in iter_captures(sim.writer._conn)]
    assert origins == ["push"] * 3 + ["import"] * 4
