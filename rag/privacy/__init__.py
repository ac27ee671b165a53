"""Privacy: offline switches, the egress guard, memory hygiene, the audit log and the
privacy report. Kept import-light: ``rag/__init__`` loads three of these first."""
