"""inside-keras: conditioning segmentation networks on non-imaging information.

Keras 3 implementations of INSIDE (Jacenków et al., MICCAI 2020), FiLM (Perez et
al., 2018) and the Guiding Block of Guide Me (Rupprecht et al., 2018), running
unchanged on TensorFlow, PyTorch and JAX. Select the backend the Keras way, with
`KERAS_BACKEND=jax|torch|tensorflow` set before `keras` is imported.
"""

__version__ = "0.1.0"

from inside_keras.layers import INSIDE, FiLM, GuidingBlock  # noqa: E402

__all__ = ["FiLM", "GuidingBlock", "INSIDE", "__version__"]
