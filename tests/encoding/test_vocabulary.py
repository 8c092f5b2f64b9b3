import numpy as np
import pytest
from sklearn.metrics import pairwise_distances

from imgrec_classic import Descriptors
from imgrec_classic.encoding import Vocabulary, nearest_words
from imgrec_classic.encoding.nearest import CHUNK
from imgrec_classic.encoding.vocabulary import descriptor_values, sample_descriptors


def test_nearest_words_match_brute_force(rng):
    X = rng.random((CHUNK + 500, 16), dtype=np.float32)  # more than one chunk
    centers = rng.random((40, 16), dtype=np.float32)
    d2 = pairwise_distances(X, centers, metric="sqeuclidean")
    idx, dist = nearest_words(X, centers, n_neighbors=3)
    np.testing.assert_array_equal(idx[:, 0], d2.argmin(axis=1))
    np.testing.assert_allclose(dist, np.sort(d2, axis=1)[:, :3], rtol=1e-3, atol=1e-4)
    assert (np.diff(dist, axis=1) >= 0).all()


def test_fit_predict_and_determinism(descriptors):
    a = Vocabulary(n_words=5, random_state=0).fit(descriptors)
    b = Vocabulary(n_words=5, random_state=0).fit(descriptors)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    assert a.cluster_centers_.dtype == np.float32 and a.cluster_centers_.shape == (5, 8)
    words = a.predict(descriptors)
    assert words.shape == (descriptors.n_descriptors,) and set(words) == set(range(5))
    assert a.inertia_ > 0


def test_both_kmeans_find_the_clusters(descriptors):
    values = descriptors.values
    random_centers = values[np.random.default_rng(1).choice(len(values), 5, replace=False)]
    baseline = nearest_words(values, random_centers)[1].sum()
    for algorithm in ("kmeans", "minibatch"):
        vocab = Vocabulary(n_words=5, algorithm=algorithm, random_state=0).fit(descriptors)
        assert vocab.inertia_ < 0.7 * baseline


def test_sample_is_bounded_and_binary_is_unpacked(rng):
    d = Descriptors.from_list([rng.integers(0, 256, (300, 32), dtype=np.uint8)])
    sample = sample_descriptors(d, 100, random_state=0)
    assert sample.shape == (100, 256) and sample.dtype == np.float32
    assert set(np.unique(sample)) <= {0.0, 1.0}
    # Squared Euclidean distance between unpacked bits is the Hamming distance.
    a, b = descriptor_values(d.values[:2])
    hamming = np.unpackbits(d.values[0] ^ d.values[1]).sum()
    assert ((a - b) ** 2).sum() == hamming


def test_errors(descriptors):
    with pytest.raises(ValueError, match="exceeds"):
        Vocabulary(n_words=10_000).fit(descriptors)
    with pytest.raises(ValueError, match="no descriptors"):
        Vocabulary(n_words=2).fit(Descriptors.from_list([np.zeros((0, 4))] * 2))
    with pytest.raises(ValueError):
        Vocabulary(algorithm="magic").fit(descriptors)


def test_faiss_option_names_the_extra(descriptors):
    try:
        import faiss  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match=r"imgrec-classic\[faiss\]"):
            Vocabulary(n_words=3, algorithm="faiss").fit(descriptors)
    else:
        vocab = Vocabulary(n_words=3, algorithm="faiss", random_state=0).fit(descriptors)
        assert vocab.cluster_centers_.shape == (3, 8)


@pytest.mark.parametrize("search", ["exact", "approximate"])
def test_indices_alone_equal_those_returned_with_distances(rng, search):
    X = rng.random((3000, 8), dtype=np.float32)
    vocab = Vocabulary(n_words=30, search=search, random_state=0).fit(X)
    for k in (1, 3):
        idx, _ = vocab.kneighbors(X, k)
        np.testing.assert_array_equal(vocab.kneighbors(X, k, return_distance=False), idx)
    np.testing.assert_array_equal(vocab.predict(X), idx[:, 0])
    np.testing.assert_array_equal(nearest_words(X, vocab.cluster_centers_,
                                                return_distance=False)[:, 0],
                                  nearest_words(X, vocab.cluster_centers_)[0][:, 0])


def test_images_too_small_for_the_extractor_say_so():
    from imgrec_classic.compose import ImageEncoder
    from imgrec_classic.encoding import FisherVector
    from imgrec_classic.features import DenseSIFT

    digits = [np.full((20, 20), 128, np.uint8) for _ in range(3)]
    encoder = ImageEncoder([("sift", DenseSIFT(), FisherVector(n_components=2))])
    with pytest.raises(ValueError, match="no descriptors to learn from.*smaller than its patches"):
        encoder.fit(digits)
