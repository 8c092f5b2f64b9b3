"""Memory-flat encoding: raw descriptors of a streamed dataset never pile up."""

import tracemalloc

import numpy as np

from imgrec_classic.encoding import BagOfVisualWords
from imgrec_classic.features import DenseSIFT


def traced_transform(encoder, stream):
    """The codes, and the peak of memory traced by tracemalloc while computing them."""
    tracemalloc.start()
    try:
        codes = encoder.transform(stream)
        return codes, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_streaming_encode_stays_under_a_memory_bound():
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (80, 80), dtype=np.uint8) for _ in range(200)]
    extractor = DenseSIFT(step=4, sizes=(4, 8), lazy=True, n_jobs=1)
    stream = extractor.fit_transform(images)
    encoder = BagOfVisualWords(n_words=20, pyramid=(1, 2), max_images=20, random_state=0,
                               n_jobs=1).fit(stream)
    one_image = stream[:1].extract().values.nbytes
    raw_total = one_image * len(images)  # what materialising every descriptor would hold
    codes, peak = traced_transform(encoder, stream)
    assert codes.shape == (len(images), encoder.n_features_out_)
    # The output, and a few images' worth of descriptors and temporaries at a time.
    assert peak < codes.nbytes + 20 * one_image
    assert peak < raw_total / 10


def test_codes_are_written_in_place_not_stacked():
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 256, (48, 48), dtype=np.uint8) for _ in range(600)]
    stream = DenseSIFT(step=8, sizes=(4,), lazy=True).fit_transform(images)
    encoder = BagOfVisualWords(n_words=300, pyramid=(1, 2, 4), random_state=0,
                               max_descriptors=5000).fit(stream)
    codes, peak = traced_transform(encoder, stream)
    # The output, one joblib batch of rows (at most 64) and a few MB of temporaries;
    # a list of every row then np.vstack would need twice the output at the end.
    batch = 64 * codes[0].nbytes
    assert peak < codes.nbytes + batch + 4 * 2**20 < 2 * codes.nbytes
