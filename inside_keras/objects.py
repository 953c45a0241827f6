"""Importing this module registers every Keras object the package defines — layers
(the conditioning layers and the models' size padding), losses, metrics — with Keras's
serialization, so that `keras.saving.load_model` can rebuild any model the package
wrote:

    import keras
    import inside_keras.objects  # noqa: F401

    model = keras.saving.load_model("runs/x/model.keras")

`import inside_keras` alone does not do this: it imports no Keras, so that the command
line can choose the backend (`--backend`) and fork data workers before a backend loads.
"""

import inside_keras.evaluation.keras_metrics  # noqa: F401
import inside_keras.layers  # noqa: F401
import inside_keras.losses  # noqa: F401
import inside_keras.models.size_padding  # noqa: F401
