"""The stderr trace: live lines on a terminal, plain lines in CI logs."""

from __future__ import annotations

import io

from alba_action.report.progress import Reporter, human_size


def test_ci_log_gets_one_plain_line_per_object():
    out = io.StringIO()
    rep = Reporter(stream=out, live=False)
    with rep.transfer("a -> b", 5_000_000) as progress:
        for _ in range(5):
            progress(1_000_000)
    assert out.getvalue().startswith("a -> b (5.0 MB, ")
    assert out.getvalue().count("\n") == 1
    assert "\r" not in out.getvalue() and "\x1b" not in out.getvalue()


def test_terminal_gets_a_live_line_with_rate_and_eta_then_the_final_line():
    out = io.StringIO()
    rep = Reporter(stream=out, live=True)
    with rep.transfer("big -> key", 4_000_000) as progress:
        progress(4_000_000)  # the last update always draws
    text = out.getvalue()
    assert "\r\x1b[2Kbig -> key  4.0 MB/4.0 MB" in text and "/s  ETA 0 s" in text
    assert text.rstrip().endswith("s)") and "\x1b[2K" in text  # the live line is cleared before the final line


def test_small_objects_do_not_draw_live_lines():
    out = io.StringIO()
    rep = Reporter(stream=out, live=True)
    with rep.transfer("small", 10) as progress:
        progress(10)
    assert "\r" not in out.getvalue()


def test_quiet_prints_nothing_and_sizes_read_well():
    out = io.StringIO()
    Reporter(stream=out, quiet=True).log("x")
    assert out.getvalue() == ""
    assert [human_size(n) for n in (999, 1500, 2_500_000, 3_000_000_000)] == ["999 B", "1.5 kB", "2.5 MB", "3.0 GB"]
