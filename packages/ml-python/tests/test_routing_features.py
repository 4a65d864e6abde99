"""The head's n-gram features equal scikit-learn's, which trained it."""

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from tokenflow_ml.routing.features import NGRAMS, LexicalFeatures, pack, unpack

TEXTS = [
    "Translate this e-mail into German and send it to Ana.",
    "def merge(a, b):\n    return sorted(a + b)  # why is this O(n log n)?",
    "¿Cuántos días faltan para Navidad si hoy es 3 de noviembre?",
    "Écris un poème sur l'automne, s'il te plaît",
    "ok   thx!!  a b I",
    "",
]


def test_n_gram_tf_idf_rows_equal_scikit_learns_for_any_text():
    reference = TfidfVectorizer(analyzer="char_wb", ngram_range=NGRAMS, sublinear_tf=True).fit(
        TEXTS[:4]
    )
    ours = LexicalFeatures(reference.get_feature_names_out().tolist(), reference.idf_)

    expected = reference.transform(TEXTS).toarray()
    actual = ours.transform(TEXTS).toarray()

    assert np.abs(actual - expected).max() < 1e-12


def test_packed_weights_come_back_as_float16_values_and_refuse_a_wrong_size():
    matrix = np.array([[0.5, -1.25, 3.0], [1e-3, 2.0, -0.0]])

    assert np.allclose(unpack(pack(matrix), 6), matrix.ravel(), atol=1e-3)
    try:
        unpack(pack(matrix), 5)
    except ValueError as error:
        assert "expected 5 values, found 6" in str(error)
    else:
        raise AssertionError("a wrong size was accepted")
