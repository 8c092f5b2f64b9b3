"""Reading images and image collections, and downloading them."""

from .download import DownloadRecord, download_images, read_url_list
from .images import ImageDecodeError, read_image

__all__ = ["DownloadRecord", "ImageDecodeError", "download_images", "read_image", "read_url_list"]
