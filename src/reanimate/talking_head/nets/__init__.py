"""The networks of Zakharov et al. (Sec. 3.2): embedder E, AdaIN generator G, projection discriminator D."""

from reanimate.talking_head.nets.discriminator import Discriminator
from reanimate.talking_head.nets.embedder import Embedder
from reanimate.talking_head.nets.embedder_generator import EmbedderGenerator
from reanimate.talking_head.nets.generator import Generator

__all__ = ["Discriminator", "Embedder", "EmbedderGenerator", "Generator"]
