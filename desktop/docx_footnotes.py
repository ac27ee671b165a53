"""Word footnotes for python-docx: moved to :mod:`rag.docx_footnotes` (the review memo's
export in the engine writes them too, and rag/ never imports desktop/); kept importable
here for desktop code that still names this module."""

from rag.docx_footnotes import FOOTNOTES_CT, FOOTNOTES_RT, W_NS, Footnotes

__all__ = ["FOOTNOTES_CT", "FOOTNOTES_RT", "W_NS", "Footnotes"]
