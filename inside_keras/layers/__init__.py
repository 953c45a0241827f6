"""Conditioning layers: the hypernetwork, attention kernels, FiLM, INSIDE, Guiding Block."""

from inside_keras.layers.film import FiLM
from inside_keras.layers.guiding_block import GuidingBlock
from inside_keras.layers.hypernetwork import Hypernetwork
from inside_keras.layers.inside import INSIDE
from inside_keras.layers.kernels import KERNELS

__all__ = ["FiLM", "GuidingBlock", "Hypernetwork", "INSIDE", "KERNELS"]
