"""Review grids: one question per column over every document, each cell decided inside
its own document (found with quotes and a short answer, or not stated), without a model."""
