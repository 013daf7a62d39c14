"""The case record and the workflow that takes one case through every step."""

from assistant.cases.inputs import NewCase, TaxpayerInput
from assistant.cases.service import CaseWorkflow

__all__ = ["CaseWorkflow", "NewCase", "TaxpayerInput"]
