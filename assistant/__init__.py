"""TaxAssist core: one subpackage per capability, plain function calls on typed objects."""

__version__ = "0.1.0"
