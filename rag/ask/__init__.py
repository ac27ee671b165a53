"""Ask: find the documents a question names, retrieve passages (keywords and vectors),
quote what answers, and write and check an answer with a local language model."""
