import numpy as np
import pytest

from imgrec_classic.encoding.pyramid import check_pyramid, pyramid_cells


def test_cells_partition_each_level(rng):
    positions = rng.random((200, 2))
    cells = pyramid_cells(positions, (1, 2, 4))
    assert len(cells) == 1 + 4 + 16
    for level in (cells[:1], cells[1:5], cells[5:]):
        assert sorted(np.concatenate(level).tolist()) == list(range(200))


def test_cell_membership_by_hand():
    positions = np.array([[0.0, 0.0], [0.99, 0.0], [0.0, 0.99], [0.5, 0.5], [0.49, 0.51]])
    cells = pyramid_cells(positions, (2,))
    assert [c.tolist() for c in cells] == [[0], [1], [2, 4], [3]]


@pytest.mark.parametrize("bad", [(), (0,), (1.5,), "1", None])
def test_bad_pyramids(bad):
    with pytest.raises(ValueError, match="pyramid"):
        check_pyramid(bad)
