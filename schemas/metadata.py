"""Report metadata that sits outside the tables."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ReportMetadata(BaseModel):
    agency: str | None = Field(default=None, description="发布机关, as printed")
    year: int | None = Field(default=None, ge=2000, le=2100, description="the report year (统计年度)")
    template: str | None = Field(default=None, description="template version, e.g. '2019' or '2021'")
