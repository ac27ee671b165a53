"""The laptop's side of team mode: the docqa-server it is connected to (client), a shared
matter used like a library (matter), and review grids over one (review). The server
itself is the top-level ``team`` package."""
