"""One module per document type (or pair of types sharing a form); `registry.py` lists them."""
