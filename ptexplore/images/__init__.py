"""Images: the shipped sample photos, bounded decoding of uploads, pictures for a screen.

A foundation package (it imports only :mod:`ptexplore.errors`, :mod:`ptexplore.limits`,
:mod:`ptexplore.live` and :mod:`ptexplore.pages`): the Augmentation and DataLoader labs
both read and show images through it.

* :mod:`~ptexplore.images.samples` — the sample photos (package data, ``ptexplore/assets``);
* :mod:`~ptexplore.images.decode` — an upload's bytes to a tensor, every size bounded
  before a pixel is decoded;
* :mod:`~ptexplore.images.display` — a tensor as a uint8 array, shrunk and JPEG-encoded.
"""

from ptexplore.images.decode import DecodedImage, decode_image_bytes
from ptexplore.images.display import DISPLAY_MAX_SIDE, Norm, for_screen, jpeg, to_display
from ptexplore.images.samples import sample_bytes, sample_names

__all__ = [
    "DISPLAY_MAX_SIDE",
    "DecodedImage",
    "Norm",
    "decode_image_bytes",
    "for_screen",
    "jpeg",
    "sample_bytes",
    "sample_names",
    "to_display",
]
