"""The FastAPI app: translates HTTP into calls on assistant/ and back."""
