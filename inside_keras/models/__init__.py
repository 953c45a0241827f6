"""Segmentation models with conditioning: the paper's encoder-decoder and a U-Net.

`import inside_keras.models.custom_objects` registers every Keras object inside-keras
defines (layers, losses, metrics), so `keras.saving.load_model` rebuilds the models it
saved; the package itself imports only the layers.
"""

from inside_keras.models.attention import attention_model, conditioned_levels
from inside_keras.models.conditioning import CONDITIONING_LAYERS, CONDITIONING_NAMES
from inside_keras.models.encoder_decoder import encoder_decoder
from inside_keras.models.placement import SHORTCUTS, level_names, resolve_placement
from inside_keras.models.unet import unet

__all__ = [
    "CONDITIONING_LAYERS",
    "CONDITIONING_NAMES",
    "SHORTCUTS",
    "attention_model",
    "conditioned_levels",
    "encoder_decoder",
    "level_names",
    "resolve_placement",
    "unet",
]
