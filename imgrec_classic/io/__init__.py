"""Reading images and image collections."""

from .images import ImageDecodeError, read_image

__all__ = ["ImageDecodeError", "read_image"]
