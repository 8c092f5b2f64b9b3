"""Declarative parameter constraints, the scikit-learn way.

scikit-learn's constraint classes live in a private module; this is the one place
that imports them, so a future move costs one line. Estimators declare
``_parameter_constraints`` and call ``self._validate_params()`` in ``fit``.
"""

from sklearn.utils._param_validation import (  # noqa: F401
    Hidden,
    Interval,
    Options,
    StrOptions,
    validate_params,
)

__all__ = ["Hidden", "Interval", "Options", "StrOptions", "validate_params"]
