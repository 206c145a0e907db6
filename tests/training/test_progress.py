"""Progress bars: in place on a terminal, a line every LOG_INTERVAL_S seconds in a log file."""
import io

from graphclust.training.progress import LOG_INTERVAL_S, progress_bar


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_file_gets_a_slow_refresh_and_a_terminal_keeps_the_default():
    to_file = progress_bar(range(3), file=io.StringIO())
    to_terminal = progress_bar(range(3), file=_Terminal())
    assert to_file.mininterval == LOG_INTERVAL_S
    assert to_terminal.mininterval == 0.1  # tqdm's default
    assert list(to_file) == [0, 1, 2] and list(to_terminal) == [0, 1, 2]


def test_an_explicit_interval_wins():
    assert progress_bar(range(3), file=io.StringIO(), mininterval=1.0).mininterval == 1.0
