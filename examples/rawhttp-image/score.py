"""Raw HTTP access with @rawhttp: an image in, a transformed image out.

run() receives the request object itself and answers with an AMLResponse:
- POST with a PNG/JPEG body -> the image flipped left-right and turned grayscale, as PNG
  (``Content-Type: image/png``);
- GET -> a small JSON description of the service;
- a body that is not an image -> 400 with a JSON message; any other method -> 405.
"""

from __future__ import annotations

import io

from azureml.contrib.services.aml_request import AMLRequest, rawhttp
from azureml.contrib.services.aml_response import AMLResponse
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 4096 * 4096
ACCEPTED_FORMATS = ("PNG", "JPEG")

DESCRIPTION: dict[str, object] = {
    "service": "rawhttp-image",
    "description": "POST a PNG or JPEG image; the answer is the image mirrored and in grayscale, as PNG.",
    "accepts": ["image/png", "image/jpeg"],
    "returns": "image/png",
}


def init() -> None:
    """Nothing to load: the transformation needs no model."""


def _json(message: dict[str, object], status: int, headers: dict[str, str] | None = None) -> AMLResponse:
    """A JSON answer (``json_str=True`` makes AMLResponse encode it and set application/json)."""
    return AMLResponse(message, status, headers or {}, json_str=True)


def transform(image_bytes: bytes) -> bytes:
    """Mirror the image left-right and convert it to grayscale; returns PNG bytes."""
    with Image.open(io.BytesIO(image_bytes), formats=ACCEPTED_FORMATS) as image:
        if image.width * image.height > MAX_PIXELS:
            raise ValueError(f"image too large: {image.width}x{image.height}")
        result = ImageOps.grayscale(ImageOps.mirror(image.convert("RGB")))
    out = io.BytesIO()
    result.save(out, format="PNG")
    return out.getvalue()


@rawhttp
def run(request: AMLRequest) -> AMLResponse:
    """Dispatch on the HTTP method of the raw request."""
    if request.method == "GET":
        return _json(DESCRIPTION, 200)
    if request.method != "POST":
        message = {"message": f"Method {request.method} is not supported; use GET or POST."}
        return _json(message, 405, {"Allow": "GET, POST"})
    body = request.get_data(cache=False)
    if not body:
        return _json({"message": "Empty body: POST a PNG or JPEG image."}, 400)
    try:
        png = transform(body)
    except UnidentifiedImageError:
        return _json({"message": "The body is not a PNG or JPEG image."}, 400)
    except Exception as exc:  # a damaged, truncated or oversized image is still the client's fault
        return _json({"message": f"The image could not be read: {exc}"}, 400)
    return AMLResponse(png, 200, {"Content-Type": "image/png"})
