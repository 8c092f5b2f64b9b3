"""Encoders: from Descriptors (many vectors per image) to one vector per image.

:class:`BagOfVisualWords`, :class:`VLAD` and :class:`FisherVector` learn a
codebook or mixture in ``fit`` and pool over a spatial pyramid in ``transform``;
:class:`PowerNormalizer` and :class:`Hellinger` post-process the vectors.
"""

from .bovw import BagOfVisualWords
from .fisher import FisherVector
from .nearest import nearest_words
from .normalize import Hellinger, PowerNormalizer
from .pyramid import pyramid_cells
from .vlad import VLAD
from .vocabulary import Vocabulary
from .word_index import WordIndex

__all__ = ["VLAD", "BagOfVisualWords", "FisherVector", "Hellinger", "PowerNormalizer",
           "Vocabulary", "WordIndex", "nearest_words", "pyramid_cells"]
