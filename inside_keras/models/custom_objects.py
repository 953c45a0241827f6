"""Registers every Keras object the package defines with Keras's serialization.

Layers (the conditioning layers and the models' size padding), losses and metrics, so
that `keras.saving.load_model` can rebuild any model the package wrote:

    import keras
    import inside_keras.models.custom_objects  # noqa: F401

    model = keras.saving.load_model("runs/x/model.keras")

`import inside_keras.models` alone does not (the models import only the layers), nor does
`import inside_keras`, which imports no Keras at all, so that the command line can choose
the backend (`--backend`) and fork data workers before a backend loads.
"""

import inside_keras.evaluation.keras_metrics  # noqa: F401
import inside_keras.layers  # noqa: F401
import inside_keras.losses  # noqa: F401
import inside_keras.models.size_padding  # noqa: F401
