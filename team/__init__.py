"""docqa-server: the team server in front of PostgreSQL (issue 21). Laptops talk to it over
HTTPS; it alone talks to the database, as an application role bound by row-level security."""
