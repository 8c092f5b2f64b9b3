import numpy as np
import pytest

from imgrec_classic import Descriptors
from imgrec_classic.encoding import BagOfVisualWords
from imgrec_classic.encoding.pyramid import pyramid_cells
from imgrec_classic.features import DenseSIFT
from imgrec_classic.utils.estimator_checks import image_estimator_checks

from .conftest import make_descriptors

CHECKS = list(image_estimator_checks(BagOfVisualWords(n_words=4, random_state=0),
                                     make_descriptors(np.random.default_rng(0))))


@pytest.mark.parametrize("name, check", CHECKS, ids=[n for n, _ in CHECKS])
def test_estimator_checks(name, check):
    check()


def test_hard_histograms_match_manual_counts(descriptors):
    bovw = BagOfVisualWords(n_words=5, pyramid=(1, 2), norm=None, random_state=0)
    H = bovw.fit_transform(descriptors)
    assert H.shape == (6, 5 * 5) == (6, bovw.n_features_out_)
    words = bovw.vocabulary_.predict(descriptors)
    for i in range(len(descriptors)):
        w = words[descriptors.offsets[i]:descriptors.offsets[i + 1]]
        cells = pyramid_cells(descriptors.positions_of(i), (1, 2))
        expected = np.concatenate([np.bincount(w[c], minlength=5) for c in cells])
        np.testing.assert_array_equal(H[i], expected)
    # The four 2x2 cells add up to the whole image.
    np.testing.assert_array_equal(H[:, 5:].reshape(6, 4, 5).sum(1), H[:, :5])


def test_l1_norm_shares_mass_between_levels(descriptors):
    H = BagOfVisualWords(n_words=5, pyramid=(1, 2, 4), random_state=0).fit_transform(descriptors)
    levels = np.split(H, [5, 25], axis=1)
    for i in (0, 2, 3):
        np.testing.assert_allclose([lv[i].sum() for lv in levels], [1 / 3] * 3, rtol=1e-5)
    assert not H[1].any()  # the empty image


@pytest.mark.parametrize("norm", ["l2", "power"])
def test_l2_norms_give_unit_vectors(descriptors, norm):
    H = BagOfVisualWords(n_words=5, pyramid=(1, 2), norm=norm, random_state=0).fit_transform(
        descriptors)
    np.testing.assert_allclose(np.linalg.norm(H[[0, 2, 3]], axis=1), 1, rtol=1e-5)


def test_soft_assignment_keeps_mass_and_spreads_it(descriptors):
    hard = BagOfVisualWords(n_words=5, norm=None, random_state=0).fit_transform(descriptors)
    soft = BagOfVisualWords(n_words=5, assignment="soft", n_neighbors=3, norm=None,
                            random_state=0).fit_transform(descriptors)
    np.testing.assert_allclose(soft.sum(1), hard.sum(1), rtol=1e-5)
    assert np.abs(soft - hard).max() > 0.5
    # A vanishing bandwidth gives all the weight to the nearest word: hard assignment.
    sharp = BagOfVisualWords(n_words=5, assignment="soft", sigma=1e-3, norm=None,
                             random_state=0).fit_transform(descriptors)
    np.testing.assert_allclose(sharp, hard, atol=1e-4)


def test_tfidf_downweights_common_words(rng):
    common = np.zeros((20, 4))
    blocks = [np.vstack([common, rng.normal(size=(20, 4)) + 10 * (i % 3)]) for i in range(6)]
    d = Descriptors.from_list(blocks)
    bovw = BagOfVisualWords(n_words=4, tfidf=True, random_state=0).fit(d)
    shared_word = bovw.vocabulary_.predict(common[:1])[0]
    assert bovw.idf_[shared_word] == bovw.idf_.min()
    assert bovw.idf_.max() > bovw.idf_.min()


def test_engine_and_descriptors_agree_and_jobs_do_not_matter(astronaut):
    from imgrec_classic.compose import ImageEncoder

    images = [astronaut[::4, ::4], astronaut[100:300, 50:250], astronaut[::3, ::5]]
    eager = DenseSIFT(step=8, sizes=(8,)).fit_transform(images)
    a = BagOfVisualWords(n_words=8, pyramid=(1, 2), random_state=0).fit_transform(eager)
    b = ImageEncoder([("sift", DenseSIFT(step=8, sizes=(8,)),
                       BagOfVisualWords(n_words=8, pyramid=(1, 2), random_state=0))],
                     n_jobs=2, batch_size=1).fit_transform(images)
    np.testing.assert_array_equal(a, b)


def test_max_images_bounds_the_fit_sample(descriptors):
    few = BagOfVisualWords(n_words=3, max_images=2, random_state=0).fit(descriptors)
    assert few.vocabulary_.cluster_centers_.shape == (3, 8)


def test_wrong_inputs(descriptors):
    with pytest.raises(TypeError, match="Descriptors"):
        BagOfVisualWords(n_words=3).fit(np.zeros((10, 8)))
    fitted = BagOfVisualWords(n_words=3, random_state=0).fit(descriptors)
    with pytest.raises(ValueError, match="dimensions"):
        fitted.transform(Descriptors.from_list([np.zeros((3, 5))]))


def test_pca_projection_before_assignment(descriptors):
    bovw = BagOfVisualWords(n_words=4, pca_components=3, norm=None, random_state=0)
    H = bovw.fit_transform(descriptors)
    assert bovw.vocabulary_.cluster_centers_.shape == (4, 3)
    words = bovw.vocabulary_.predict(bovw.pca_.transform(descriptors[0]).astype(np.float32))
    np.testing.assert_array_equal(H[0], np.bincount(words, minlength=4))


def test_more_words_than_descriptors_learns_fewer_with_a_warning():
    rng = np.random.default_rng(0)
    d = Descriptors.from_list([rng.random((6, 8), dtype=np.float32) for _ in range(3)])
    with pytest.warns(UserWarning, match="n_words=50 exceeds the 18 descriptors"):
        bovw = BagOfVisualWords(n_words=50, random_state=0).fit(d)
    assert bovw.n_words_ == 18
    assert bovw.transform(d).shape == (3, 18)
