"""Models: where the bundled models are, the installer's hashes for them, and the embedder."""
