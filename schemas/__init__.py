"""Report types as data: sections, rows, columns, label aliases and the arithmetic they obey.

Nothing here imports the rest of the project; readers, the reconciler, the LLM prompts, the
review UI and the benchmark all read these definitions instead of hard-coding a layout.
"""

from schemas.constraints import SumRule
from schemas.disclosure import DISCLOSURE_REPORT, TEMPLATE_2019, TEMPLATE_2021
from schemas.metadata import ReportMetadata
from schemas.report_type import ColumnSpec, ReportType, RowSpec, SectionSpec, TemplateSpec
from schemas.section_models import block_model, block_name, row_cells, section_model

__all__ = [
    "DISCLOSURE_REPORT",
    "TEMPLATE_2019",
    "TEMPLATE_2021",
    "ColumnSpec",
    "ReportMetadata",
    "ReportType",
    "RowSpec",
    "SectionSpec",
    "SumRule",
    "TemplateSpec",
    "block_model",
    "block_name",
    "row_cells",
    "section_model",
]
