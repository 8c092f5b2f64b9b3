import pickle

import numpy as np
import pytest

from imgrec_classic import Descriptors


@pytest.fixture
def blocks(rng):
    return [rng.random((3, 4)), np.zeros((0, 4)), rng.random((2, 4)), rng.random((1, 4))]


@pytest.fixture
def desc(blocks, rng):
    positions = [rng.random((len(b), 2)) for b in blocks]
    scales = [np.full(len(b), i, float) for i, b in enumerate(blocks)]
    return Descriptors.from_list(blocks, positions, scales)


def test_from_list_layout(desc, blocks):
    assert len(desc) == 4
    assert desc.n_descriptors == 6 and desc.n_dims == 4
    assert desc.values.dtype == np.float32 and desc.offsets.dtype == np.int64
    assert desc.positions.shape == (6, 2) and desc.scales.shape == (6,)
    assert desc.counts.tolist() == [3, 0, 2, 1]
    for i, block in enumerate(blocks):
        np.testing.assert_allclose(desc[i], block, rtol=1e-6)
    assert desc[1].shape == (0, 4)
    np.testing.assert_array_equal(desc[-1], desc[3])
    np.testing.assert_array_equal(desc.image_index(), [0, 0, 0, 2, 2, 3])


def test_subset_keeps_rows_together(desc):
    sub = desc[[3, 0, 1]]
    assert len(sub) == 3 and sub.counts.tolist() == [1, 3, 0]
    np.testing.assert_array_equal(sub[0], desc[3])
    np.testing.assert_array_equal(sub[1], desc[0])
    np.testing.assert_array_equal(sub.positions_of(1), desc.positions_of(0))
    np.testing.assert_array_equal(sub.scales_of(0), desc.scales_of(3))
    assert desc[np.array([False, True, False, False])].n_descriptors == 0
    assert desc[1:3].counts.tolist() == [0, 2]
    assert desc[np.array([], dtype=int)].n_descriptors == 0


def test_index_errors(desc):
    with pytest.raises(IndexError):
        desc[4]
    with pytest.raises(IndexError):
        desc[[0, 9]]


def test_concatenate_and_pickle(desc):
    both = Descriptors.concatenate([desc, desc[[2]]])
    assert len(both) == 5 and both.counts.tolist() == [3, 0, 2, 1, 2]
    np.testing.assert_array_equal(both[4], desc[2])
    assert both[:4] == desc
    assert pickle.loads(pickle.dumps(desc)) == desc
    assert desc != desc[[0, 1, 2]]


def test_binary_descriptors_stay_uint8():
    d = Descriptors.from_list([np.zeros((2, 32), np.uint8), np.ones((1, 32), np.uint8)])
    assert d.values.dtype == np.uint8 and d[1].tolist() == [[1] * 32]


def test_all_empty_needs_width():
    d = Descriptors.from_list([np.zeros((0, 128))] * 2, n_dims=128)
    assert d.n_dims == 128 and d.counts.tolist() == [0, 0]
    assert Descriptors.from_list([], n_dims=8).values.shape == (0, 8)


def test_invalid_inputs():
    with pytest.raises(ValueError, match="widths"):
        Descriptors.from_list([np.zeros((1, 3)), np.zeros((1, 4))])
    with pytest.raises(ValueError, match="offsets"):
        Descriptors(np.zeros((3, 2)), [0, 2])
    with pytest.raises(ValueError, match="offsets"):
        Descriptors(np.zeros((3, 2)), [0, 2, 1, 3])
    with pytest.raises(ValueError, match="positions"):
        Descriptors(np.zeros((3, 2)), [0, 3], positions=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="2-D"):
        Descriptors(np.zeros(3), [0, 3])
    with pytest.raises(ValueError, match="widths"):
        Descriptors.concatenate([Descriptors.from_list([np.zeros((1, 3))]),
                                 Descriptors.from_list([np.zeros((1, 5))])])
