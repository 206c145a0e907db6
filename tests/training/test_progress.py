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


def test_the_training_loop_writes_a_handful_of_redraws_to_a_log_file(capsys):
    """The per-epoch loss in the postfix waits for the bar's next refresh instead of forcing one."""
    import torch

    from graphclust.training import make_optimizer, train

    w = torch.nn.Parameter(torch.ones(1))
    history = train(lambda idx: {"loss": (w ** 2).sum()}, make_optimizer([w], "adam", lr=0.1), epochs=200,
                    n_samples=4, verbose=True, desc="fit")
    err = capsys.readouterr().err
    assert len(history) == 200
    assert 1 <= err.count("fit") <= 3, err  # the first draw and the closing one, not one per epoch
