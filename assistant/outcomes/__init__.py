"""强制, 复议, 诉讼: what happens to a decision and the tax after it, as signed case events."""
