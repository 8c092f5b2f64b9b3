import numpy as np
import pytest

from imgrec_classic.encoding import BagOfVisualWords, Vocabulary, WordIndex, nearest_words


def clustered(rng, centers, n, noise=0.3):
    return (centers[rng.integers(0, len(centers), n)]
            + noise * rng.standard_normal((n, centers.shape[1]))).astype(np.float32)


@pytest.fixture
def codebook(rng):
    return rng.standard_normal((100, 16)).astype(np.float32)


def test_full_recall_is_exact_on_the_training_sample(rng, codebook):
    sample = clustered(rng, codebook, 5000)
    exact = nearest_words(sample, codebook)
    index = WordIndex(codebook, sample, exact[0][:, 0], n_groups=10, recall=1.0)
    words, d2 = index.query(sample)
    np.testing.assert_array_equal(words, exact[0])
    np.testing.assert_allclose(d2, exact[1], rtol=1e-4, atol=1e-4)


def test_unseen_descriptors_mostly_get_the_exact_word_with_less_work(rng, codebook):
    sample, unseen = clustered(rng, codebook, 20000), clustered(rng, codebook, 5000)
    index = WordIndex(codebook, sample, nearest_words(sample, codebook)[0][:, 0], n_groups=10)
    agree = (index.query(unseen)[0][:, 0] == nearest_words(unseen, codebook)[0][:, 0]).mean()
    assert agree > 0.95
    assert index.mean_candidates < 0.6 * len(codebook)


def test_several_neighbours_are_sorted_real_distances(rng, codebook):
    sample = clustered(rng, codebook, 5000)
    index = WordIndex(codebook, sample, nearest_words(sample, codebook)[0][:, 0], n_groups=10)
    words, d2 = index.query(sample[:200], n_neighbors=3)
    assert words.shape == d2.shape == (200, 3)
    assert (np.diff(d2, axis=1) >= 0).all()
    direct = ((sample[:200, None] - codebook[words]) ** 2).sum(-1)
    np.testing.assert_allclose(d2, direct, rtol=1e-3, atol=1e-3)


def test_more_neighbours_than_candidates_repeat_the_last(rng, codebook):
    sample = clustered(rng, codebook, 2000)
    index = WordIndex(codebook, sample, nearest_words(sample, codebook)[0][:, 0], n_groups=10)
    k = max(len(c) for c in index.candidates) + 2
    words, d2 = index.query(sample[:50], n_neighbors=k)
    assert words.shape == (50, k) and (words[:, -1] == words[:, -2]).all()


def test_vocabulary_and_bovw_search_option(descriptors):
    exact = Vocabulary(n_words=5, random_state=0).fit(descriptors)
    approx = Vocabulary(n_words=5, search="approximate", random_state=0).fit(descriptors)
    assert exact.index_ is None and isinstance(approx.index_, WordIndex)
    np.testing.assert_array_equal(approx.cluster_centers_, exact.cluster_centers_)
    assert (approx.predict(descriptors) == exact.predict(descriptors)).mean() > 0.95
    codes = [BagOfVisualWords(n_words=5, search=s, random_state=0).fit_transform(descriptors)
             for s in ("exact", "approximate")]
    assert codes[0].shape == codes[1].shape
    np.testing.assert_allclose(codes[0], codes[1], atol=0.1)
