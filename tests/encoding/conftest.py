import pytest

from imgrec_classic import Descriptors


def make_descriptors(rng, n_images=6, n_dims=8, sizes=(30, 80)):
    """Clustered random descriptors with random positions; image 1 is empty."""
    centers = rng.normal(size=(5, n_dims)) * 3
    blocks, positions = [], []
    for i in range(n_images):
        n = 0 if i == 1 else int(rng.integers(*sizes))
        blocks.append(centers[rng.integers(0, 5, n)] + rng.normal(size=(n, n_dims)))
        positions.append(rng.random((n, 2)))
    return Descriptors.from_list(blocks, positions, n_dims=n_dims)


@pytest.fixture
def descriptors(rng):
    return make_descriptors(rng)
