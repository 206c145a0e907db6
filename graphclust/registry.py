"""Registry: lowercase method name -> estimator class. Adding a method = one line here."""
from __future__ import annotations

from .models import DAEGC, DCN, DEC, GAE, IDEC, SDCN, VGAE, AEKMeans, DeepCluster, KMeans, SDCNQ, SDDECC, Spectral

METHODS: dict[str, type] = {
    "kmeans": KMeans,
    "spectral": Spectral,
    "ae_kmeans": AEKMeans,
    "dec": DEC,
    "idec": IDEC,
    "dcn": DCN,
    "deepcluster": DeepCluster,
    "gae": GAE,
    "vgae": VGAE,
    "daegc": DAEGC,
    "sdcn": SDCN,
    "sdcn_q": SDCNQ,
    "sddecc": SDDECC,
}


def get_method(name: str) -> type:
    """The estimator class registered as ``name`` (case-insensitive; '-' and '_' equivalent)."""
    if not isinstance(name, str):
        raise TypeError(f"method name must be a string, got {type(name).__name__}")
    key = name.strip().lower().replace("-", "_").replace("+", "_")
    if key not in METHODS:
        raise ValueError(f"unknown method {name!r}; valid methods: {', '.join(sorted(METHODS))}")
    return METHODS[key]


def make_method(name: str, **params):
    """Instantiate the method ``name`` with ``params`` (unknown parameters are an error)."""
    cls = get_method(name)
    valid = set(cls._param_names())
    unknown = sorted(set(params) - valid)
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown} for method {name!r}; valid: {sorted(valid)}")
    return cls(**params)
