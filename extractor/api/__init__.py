"""The HTTP door: a FastAPI app on `extractor.review.ReviewService` (`create_app(settings)`)."""

from extractor.api.app import create_app
from extractor.api.settings import ApiSettings

__all__ = ["ApiSettings", "create_app"]
