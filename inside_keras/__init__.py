"""inside-keras: conditioning segmentation networks on non-imaging information.

Keras 3 implementations of INSIDE (Jacenków et al., MICCAI 2020), FiLM (Perez et
al., 2018) and the Guiding Block of Guide Me (Rupprecht et al., 2018), running
unchanged on TensorFlow, PyTorch and JAX. Select the backend the Keras way, with
`KERAS_BACKEND=jax|torch|tensorflow` set before `keras` is imported.

The layers are imported lazily, so `import inside_keras` (and the command line's
start-up) does not import Keras or a backend until a layer is used.
"""

__version__ = "0.1.0"

__all__ = ["FiLM", "GuidingBlock", "INSIDE", "__version__"]


def __getattr__(name):
    if name in ("FiLM", "GuidingBlock", "INSIDE"):
        from inside_keras import layers

        return getattr(layers, name)
    raise AttributeError(f"module 'inside_keras' has no attribute {name!r}")
